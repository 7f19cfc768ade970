'use strict';
/**
 * resources/presets.js: the vendor presets of the endpoint dialog and the
 * templates of the field mapper and response check dialogs. Every preset holds
 * only ${VAR} references as secrets, names the environment variables it reads,
 * and works with the runtime: endpoint configs start an Endpoint, mapper
 * templates pass the mapper's own rule validation and map a sample event to the
 * vendor's body, checker templates pass the checker's validation and judge
 * sample answers. The same file also has to survive the editor loading it
 * before or after resources/editor-common.js.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const jsonata = require('jsonata');
const presets = require('../../resources/presets.js');
const { validateRules, mapFields } = require('../../dist/nodes/lib/mapping.js');
const { createChecker } = require('../../dist/nodes/lib/checks');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint.js');
const { encode, readConfig } = require('../../dist/nodes/lib/encoding/index.js');

const root = path.resolve(__dirname, '..', '..');
const catalogue = (name) => JSON.parse(fs.readFileSync(path.join(root, 'locales', 'en-US', name + '.json'), 'utf8'));
const WHOLE_REF = /^\$\{([A-Z][A-Z0-9_]*)\}$/;
const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g;
const SECRET_FIELDS = ['apiKey', 'password', 'token', 'clientSecret'];
const CREDENTIAL_FIELDS = ['apiKey', 'username', 'password', 'token', 'clientId', 'clientSecret'];
const CONFIG_KEYS = [
  'baseUrl',
  'port',
  'method',
  'headers',
  'timeout',
  'keepAlive',
  'authType',
  'apiKeyIn',
  'apiKeyName',
  'tokenUrl',
  'scope',
  'audience',
  'tokenAuth',
];

/** What each endpoint preset must say, checked field by field. */
const EXPECTED = {
  stripe: {
    baseUrl: '${STRIPE_API_URL:-https://api.stripe.com}',
    authType: 'bearer',
    credentials: { token: '${STRIPE_SECRET_KEY}' },
    env: ['STRIPE_API_URL', 'STRIPE_SECRET_KEY'],
    encoder: 'form',
  },
  paypal: {
    baseUrl: '${PAYPAL_API_URL:-https://api-m.paypal.com}',
    authType: 'oauth2',
    tokenUrl: '${PAYPAL_API_URL:-https://api-m.paypal.com}/v1/oauth2/token',
    tokenAuth: 'basic',
    credentials: { clientId: '${PAYPAL_CLIENT_ID}', clientSecret: '${PAYPAL_CLIENT_SECRET}' },
    env: ['PAYPAL_API_URL', 'PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET'],
    encoder: 'json',
  },
  sendgrid: {
    baseUrl: '${SENDGRID_API_URL:-https://api.sendgrid.com}',
    authType: 'bearer',
    credentials: { token: '${SENDGRID_API_KEY}' },
    env: ['SENDGRID_API_URL', 'SENDGRID_API_KEY'],
    encoder: 'json',
  },
  mailchimp: {
    baseUrl: '${MAILCHIMP_API_URL:-https://us1.api.mailchimp.com}',
    authType: 'basic',
    credentials: { username: 'saypro', password: '${MAILCHIMP_API_KEY}' },
    env: ['MAILCHIMP_API_URL', 'MAILCHIMP_API_KEY'],
    encoder: 'json',
  },
  hubspot: {
    baseUrl: '${HUBSPOT_API_URL:-https://api.hubapi.com}',
    authType: 'bearer',
    credentials: { token: '${HUBSPOT_TOKEN}' },
    env: ['HUBSPOT_API_URL', 'HUBSPOT_TOKEN'],
    encoder: 'json',
  },
  twilio: {
    baseUrl: '${TWILIO_API_URL:-https://api.twilio.com}/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}',
    authType: 'basic',
    credentials: { username: '${TWILIO_ACCOUNT_SID}', password: '${TWILIO_AUTH_TOKEN}' },
    env: ['TWILIO_API_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
    encoder: 'form',
  },
  partner: {
    baseUrl: '${PARTNER_URL}',
    authType: 'apikey',
    apiKeyIn: 'header',
    apiKeyName: 'X-API-Key',
    credentials: { apiKey: '${PARTNER_API_KEY}' },
    env: ['PARTNER_URL', 'PARTNER_API_KEY'],
    encoder: 'json',
  },
};

/** Variables named in a preset (base URL, token URL, header values, credentials). */
function referencedVariables(p) {
  const texts = [
    p.config.baseUrl,
    p.config.tokenUrl,
    ...p.config.headers.map((h) => h.value),
    ...Object.values(p.credentials),
  ];
  const names = new Set();
  for (const t of texts) for (const m of String(t || '').matchAll(REF)) names.add(m[1]);
  return [...names].sort();
}

/** An environment that sets every variable a preset reads, with made-up values. */
function envFor(p) {
  const env = {};
  for (const name of p.env) env[name] = /URL$/.test(name) ? 'http://127.0.0.1:9' : `test-${name.toLowerCase()}`;
  return env;
}

const resolver = (env) => ({ evaluateJsonata: (expr, msg) => jsonata(expr).evaluate(msg), env });

/** Sample events in the shapes of the examples (msg.payload = the event's data). */
const PAYMENT = {
  event: { id: 'evt-p-1', type: 'payment.completed' },
  payload: {
    paymentId: 'P-9001',
    orderId: 'ORD-5001',
    amount: '149.90',
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    listing: { id: 'L-1001', title: 'Red bicycle' },
    buyer: { name: 'Alan', phone: '+15005550006' },
  },
};
const LISTING = {
  event: { id: 'evt-l-1', type: 'listing.created' },
  payload: {
    listingId: 'L-1001',
    title: 'Red bicycle',
    price: '149.90',
    currency: 'usd',
    seller: { name: 'Ada Lovelace', email: 'ada@example.com' },
  },
};
const USER = {
  event: { id: 'evt-u-1', type: 'user.registered' },
  payload: {
    userId: 'U-501',
    email: ' Grace.Hopper@Example.com ',
    firstName: 'Grace',
    lastName: 'Hopper',
    phone: 15550100,
  },
};
const TEMPLATE_CASES = {
  'stripe-payment-intent': {
    msg: PAYMENT,
    body: {
      amount: 14990,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      description: 'Red bicycle',
      metadata: { order_id: 'ORD-5001', payment_id: 'P-9001', event_id: 'evt-p-1' },
    },
    form:
      'amount=14990&currency=usd&payment_method=pm_card_visa&confirm=true&automatic_payment_methods[enabled]=true' +
      '&automatic_payment_methods[allow_redirects]=never&description=Red+bicycle&metadata[order_id]=ORD-5001' +
      '&metadata[payment_id]=P-9001&metadata[event_id]=evt-p-1',
  },
  'paypal-order': {
    msg: PAYMENT,
    body: {
      intent: 'CAPTURE',
      purchase_units: [
        {
          reference_id: 'P-9001',
          description: 'Red bicycle',
          custom_id: 'evt-p-1',
          amount: { currency_code: 'USD', value: '149.90' },
        },
      ],
    },
  },
  'sendgrid-mail': {
    msg: LISTING,
    body: {
      personalizations: [
        { to: [{ email: 'ada@example.com', name: 'Ada Lovelace' }], custom_args: { event_id: 'evt-l-1' } },
      ],
      from: { email: 'listings@saypro.example' },
      subject: 'Your listing "Red bicycle" is live',
      content: [{ type: 'text/plain', value: 'Your listing "Red bicycle" is now live. Listing id: L-1001' }],
    },
  },
  'hubspot-contact': {
    msg: USER,
    body: {
      properties: { email: 'grace.hopper@example.com', firstname: 'Grace', lastname: 'Hopper', phone: '15550100' },
      associations: [],
    },
  },
  'mailchimp-member': {
    msg: USER,
    body: {
      email_address: 'Grace.Hopper@Example.com',
      status_if_new: 'subscribed',
      merge_fields: { FNAME: 'Grace', LNAME: 'Hopper' },
    },
  },
  'twilio-message': {
    msg: PAYMENT,
    body: {
      To: '+15005550006',
      From: '+15005550006',
      Body: 'SayPro: we received your payment of 149.90 USD. Reference P-9001.',
    },
  },
};
const TEMPLATE_ENV = { SENDGRID_FROM: 'listings@saypro.example', TWILIO_FROM: '+15005550006' };

describe('resources/presets.js', function () {
  it('loads in Node and lists the endpoint presets, mapper templates and checker templates', function () {
    assert.deepStrictEqual(
      presets.endpoint.map((p) => p.id),
      Object.keys(EXPECTED),
    );
    assert.deepStrictEqual(
      presets.fieldMapper.map((t) => t.id),
      Object.keys(TEMPLATE_CASES),
    );
    assert.deepStrictEqual(
      presets.responseCheck.map((t) => t.id),
      ['stripe', 'paypal', 'sendgrid', 'hubspot', 'mailchimp', 'twilio'],
    );
    const copy = presets.endpointPreset('stripe');
    copy.config.headers.push({ name: 'X-Changed', value: '1' });
    assert.strictEqual(presets.endpointPreset('stripe').config.headers.length, 1, 'the lookups hand out copies');
    assert.strictEqual(presets.endpointPreset('nope'), null);
    assert.strictEqual(presets.fieldMapperTemplate('hubspot-contact').id, 'hubspot-contact');
    assert.strictEqual(presets.responseCheckTemplate('twilio').id, 'twilio');
  });

  describe('endpoint presets', function () {
    const texts = catalogue('endpoint').endpoint.presets;

    for (const [id, want] of Object.entries(EXPECTED)) {
      describe(id, function () {
        const p = presets.endpoint.find((x) => x.id === id);

        it('has the base URL, authentication and credentials of the table', function () {
          assert.strictEqual(p.config.baseUrl, want.baseUrl);
          assert.strictEqual(p.config.authType, want.authType);
          for (const k of ['tokenUrl', 'tokenAuth', 'apiKeyIn', 'apiKeyName']) {
            if (want[k] !== undefined) assert.strictEqual(p.config[k], want[k], k);
          }
          assert.deepStrictEqual(p.credentials, want.credentials);
          assert.deepStrictEqual(p.env, want.env);
          assert.strictEqual(p.encoder, want.encoder);
        });

        it('holds no secret: credentials are ${VAR} references (a Basic user name that is not a secret aside), and none is in the config', function () {
          for (const [field, value] of Object.entries(p.credentials)) {
            assert.ok(CREDENTIAL_FIELDS.includes(field), `${field} is a credential of the endpoint`);
            if (SECRET_FIELDS.includes(field) || field === 'clientId') {
              assert.match(
                value,
                WHOLE_REF,
                `${field} must be a whole \${VAR} (the endpoint reads only that from the environment)`,
              );
            } else if (!WHOLE_REF.test(value)) {
              assert.deepStrictEqual(
                [id, field, value],
                ['mailchimp', 'username', 'saypro'],
                'the only literal credential is the user name Mailchimp ignores',
              );
            }
          }
          assert.deepStrictEqual(
            Object.keys(p.config).sort(),
            CONFIG_KEYS.slice().sort(),
            'a complete endpoint config, no credential in it',
          );
          for (const h of p.config.headers)
            assert.doesNotMatch(h.name, /auth|key|token|secret/i, 'no secret in a default header');
        });

        it('names in `env` exactly the variables it reads', function () {
          assert.deepStrictEqual(referencedVariables(p), p.env.slice().sort());
        });

        it('starts an endpoint when the variables are set, and names the missing ones otherwise', function () {
          const ok = new Endpoint({
            id: 'p-' + id,
            config: { name: id, ...p.config },
            credentials: p.credentials,
            env: envFor(p),
          });
          try {
            assert.strictEqual(ok.setupError, undefined, ok.setupError && ok.setupError.message);
            assert.strictEqual(ok.authType, want.authType);
          } finally {
            ok.close();
          }
          const missing = new Endpoint({ id: 'm-' + id, config: p.config, credentials: p.credentials, env: {} });
          try {
            // base URLs with a default start without their variable; credentials never do
            const required = p.env.filter((name) => !new RegExp('\\$\\{' + name + ':-').test(p.config.baseUrl));
            assert.ok(missing.setupError, 'an unset variable stops the endpoint');
            for (const name of required)
              assert.match(JSON.stringify(missing.setupError.details), new RegExp(name), name);
            assert.doesNotMatch(JSON.stringify(missing.setupError.details), /_API_URL is not set/);
          } finally {
            missing.close();
          }
        });

        it('has a label and a hint in the catalogue, and the hint names its encoder format', function () {
          assert.ok(texts[id] && texts[id].label, 'label');
          assert.match(texts[id].hint, new RegExp('\\(format encoder: ' + p.encoder + '\\b'));
          assert.ok(texts[id].hint.length < 400, 'the hint stays short');
        });

        it('points at templates that exist', function () {
          if (p.fieldMapper) assert.ok(presets.fieldMapperTemplate(p.fieldMapper), p.fieldMapper);
          if (p.responseCheck) assert.ok(presets.responseCheckTemplate(p.responseCheck), p.responseCheck);
          assert.ok(['json', 'form', 'csv', 'xml'].includes(p.encoder));
          assert.match(p.request.path, /^\//);
        });
      });
    }

    it('resolves ${VAR:-default} in the PayPal token URL like the base URL (the default without the variable, the variable when set)', function () {
      const { resolveBaseUrl } = require('../../dist/nodes/lib/http/base-url.js');
      const p = presets.endpointPreset('paypal');
      assert.strictEqual(
        resolveBaseUrl(p.config.tokenUrl, undefined, {}).url.toString(),
        'https://api-m.paypal.com/v1/oauth2/token',
      );
      assert.strictEqual(
        resolveBaseUrl(p.config.tokenUrl, undefined, {
          PAYPAL_API_URL: 'https://api-m.sandbox.paypal.com',
        }).url.toString(),
        'https://api-m.sandbox.paypal.com/v1/oauth2/token',
      );
    });
  });

  describe('field mapper templates', function () {
    const labels = catalogue('field-mapper')['field-mapper'].templates;
    const ruleKeys = ['target', 'sourceType', 'source', 'type', 'default', 'required', 'decimals'];

    for (const [id, c] of Object.entries(TEMPLATE_CASES)) {
      it(`${id}: passes the mapper's rule validation and maps a sample event to the vendor's body`, async function () {
        const t = presets.fieldMapperTemplate(id);
        assert.ok(labels[id], 'a label in the catalogue');
        assert.ok(t.rules.length > 0);
        for (const r of t.rules) for (const k of Object.keys(r)) assert.ok(ruleKeys.includes(k), `rule key ${k}`);
        assert.deepStrictEqual(
          validateRules(t.rules, {
            parseJsonata: (e) => {
              jsonata(e);
            },
          }),
          [],
        );
        const msg = JSON.parse(JSON.stringify(c.msg));
        const result = await mapFields(t.rules, msg, resolver(TEMPLATE_ENV));
        assert.ok(result.ok, JSON.stringify(result.problems));
        assert.deepStrictEqual(result.value, c.body);
        if (c.form) assert.strictEqual(encode(result.value, readConfig({ format: 'form' })).body, c.form);
      });
    }

    it('the templates hold the fields each API needs, typed as it wants them', function () {
      const targets = (id) => Object.fromEntries(presets.fieldMapperTemplate(id).rules.map((r) => [r.target, r]));
      const stripe = targets('stripe-payment-intent');
      for (const k of ['amount', 'currency', 'payment_method', 'confirm', 'description', 'metadata.order_id'])
        assert.ok(stripe[k], k);
      assert.strictEqual(stripe.amount.type, 'minor');
      const sendgrid = targets('sendgrid-mail');
      for (const k of [
        'personalizations[0].to[0].email',
        'from.email',
        'subject',
        'content[0].type',
        'content[0].value',
      ])
        assert.ok(sendgrid[k], k);
      const hubspot = targets('hubspot-contact');
      for (const k of ['properties.email', 'properties.firstname', 'properties.lastname'])
        assert.strictEqual(hubspot[k].type, 'string', k);
      for (const r of Object.values(hubspot).filter((x) => x.target.startsWith('properties.')))
        assert.strictEqual(r.type, 'string', 'HubSpot property values are strings');
      assert.deepStrictEqual(
        [hubspot.associations.sourceType, hubspot.associations.source],
        ['json', '[]'],
        'the create operation requires associations',
      );
      const mailchimp = targets('mailchimp-member');
      for (const k of ['email_address', 'status_if_new', 'merge_fields.FNAME']) assert.ok(mailchimp[k], k);
      const twilio = targets('twilio-message');
      assert.deepStrictEqual(Object.keys(twilio), ['To', 'From', 'Body']);
      const paypal = targets('paypal-order');
      assert.strictEqual(paypal.intent.source, 'CAPTURE');
      assert.ok(paypal['purchase_units[0].amount.currency_code']);
      assert.strictEqual(paypal['purchase_units[0].amount.value'].type, 'string');
    });

    it('a sample event without the required fields gives every problem at once', async function () {
      const t = presets.fieldMapperTemplate('stripe-payment-intent');
      const result = await mapFields(t.rules, { event: { id: 'e' }, payload: { currency: 'usd' } }, resolver({}));
      assert.strictEqual(result.ok, false);
      assert.deepStrictEqual(result.problems.map((p) => p.field).sort(), ['amount', 'payment_method']);
    });
  });

  describe('response check templates', function () {
    const labels = catalogue('response-check')['response-check'].templates;

    it("each passes the checker's config validation and has a label", function () {
      for (const t of presets.responseCheck) {
        assert.ok(labels[t.id], `${t.id}: a label in the catalogue`);
        const checker = createChecker({ rules: t.rules, mode: t.mode, extract: t.extract });
        assert.deepStrictEqual(checker.problems, [], t.id);
      }
    });

    /** Runs a template on a message; returns { passed, msg }. */
    function run(id, msg) {
      const t = presets.responseCheckTemplate(id);
      const checker = createChecker({ rules: t.rules, mode: t.mode, extract: t.extract });
      const outcome = checker.check(msg);
      checker.extract(msg);
      return { passed: outcome.passed, msg };
    }

    it('Stripe: 2xx passes and copies the id and status; a 402 fails', function () {
      const ok = run('stripe', { statusCode: 200, payload: { id: 'pi_1', status: 'succeeded' } });
      assert.strictEqual(ok.passed, true);
      assert.strictEqual(ok.msg.transactionId, 'pi_1');
      assert.strictEqual(ok.msg.paymentStatus, 'succeeded');
      assert.strictEqual(
        run('stripe', { statusCode: 402, payload: { error: { message: 'Your card was declined.' } } }).passed,
        false,
      );
    });

    it('PayPal: 2xx with status COMPLETED, APPROVED or CREATED passes; another status fails', function () {
      for (const status of ['COMPLETED', 'APPROVED', 'CREATED']) {
        const r = run('paypal', { statusCode: 201, payload: { id: '5O190127TN364715T', status } });
        assert.strictEqual(r.passed, true, status);
        assert.strictEqual(r.msg.transactionId, '5O190127TN364715T');
      }
      assert.strictEqual(
        run('paypal', { statusCode: 200, payload: { id: 'x', status: 'PAYER_ACTION_REQUIRED' } }).passed,
        false,
      );
      assert.strictEqual(run('paypal', { statusCode: 422, payload: { name: 'UNPROCESSABLE_ENTITY' } }).passed, false);
    });

    it('SendGrid: only 202 passes, and the X-Message-Id header is copied', function () {
      const r = run('sendgrid', { statusCode: 202, payload: '', responseHeaders: { 'x-message-id': 'abc123' } });
      assert.strictEqual(r.passed, true);
      assert.strictEqual(r.msg.sendgridMessageId, 'abc123');
      assert.strictEqual(run('sendgrid', { statusCode: 200, payload: '' }).passed, false);
    });

    it('HubSpot: 201 and 409 (already there) pass; the id is copied', function () {
      const r = run('hubspot', { statusCode: 201, payload: { id: '1001' } });
      assert.strictEqual(r.passed, true);
      assert.strictEqual(r.msg.hubspotContactId, '1001');
      assert.strictEqual(
        run('hubspot', { statusCode: 409, payload: { message: 'Contact already exists. Existing ID: 1001' } }).passed,
        true,
      );
      assert.strictEqual(run('hubspot', { statusCode: 400, payload: {} }).passed, false);
    });

    it('Mailchimp: 2xx passes; id and status are copied', function () {
      const r = run('mailchimp', {
        statusCode: 200,
        payload: { id: 'd41d8cd98f00b204e9800998ecf8427e', status: 'subscribed' },
      });
      assert.strictEqual(r.passed, true);
      assert.strictEqual(r.msg.mailchimpMemberId, 'd41d8cd98f00b204e9800998ecf8427e');
      assert.strictEqual(r.msg.mailchimpStatus, 'subscribed');
    });

    it('Twilio: only 201 passes; the message sid is copied', function () {
      const r = run('twilio', { statusCode: 201, payload: { sid: 'SM123', status: 'queued' } });
      assert.strictEqual(r.passed, true);
      assert.strictEqual(r.msg.messageSid, 'SM123');
      assert.strictEqual(r.msg.smsStatus, 'queued');
      assert.strictEqual(run('twilio', { statusCode: 200, payload: { sid: 'SM1' } }).passed, false);
    });
  });

  describe('in the editor', function () {
    const presetsSource = fs.readFileSync(path.join(root, 'resources', 'presets.js'), 'utf8');
    const commonSource = fs.readFileSync(path.join(root, 'resources', 'editor-common.js'), 'utf8');

    /** Runs the files in a fresh browser-like global, in the given order. */
    function load(order) {
      const window = { document: {} };
      const context = vm.createContext({ window });
      for (const src of order) vm.runInContext(src, context);
      return window.SayProIntegrationKit;
    }

    it("window.SayProIntegrationKit keeps `presets` and editor-common.js's helpers whichever loads first, and when loaded twice", function () {
      for (const order of [
        [presetsSource, commonSource],
        [commonSource, presetsSource],
        [presetsSource, commonSource, presetsSource, commonSource],
        [commonSource, presetsSource, commonSource],
      ]) {
        const kit = load(order);
        assert.strictEqual(typeof kit.keyProblem, 'function');
        assert.ok(kit.presets, 'presets survive');
        assert.strictEqual(kit.presets.endpoint.length, presets.endpoint.length);
        assert.strictEqual(kit.presets.fieldMapper.length, presets.fieldMapper.length);
      }
    });

    it('the dialogs load it with a <script src> before their own script', function () {
      for (const file of ['endpoint', 'field-mapper', 'response-check']) {
        const html = fs.readFileSync(path.join(root, 'nodes', file + '.html'), 'utf8');
        // the package's scripts first (presets.js among them), then the dialog's own
        const head = html.slice(0, html.indexOf('<script type="text/javascript">'));
        assert.match(
          head,
          /^(<script src="resources\/@saypro\/node-red-integration-kit\/[\w.-]+\.js"><\/script>\n)+$/,
          file,
        );
        assert.ok(head.includes('<script src="resources/@saypro/node-red-integration-kit/presets.js"></script>'), file);
      }
    });
  });
});
