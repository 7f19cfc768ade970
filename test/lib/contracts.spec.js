'use strict';
/**
 * Contract tests: what the presets, the field mapper templates and the
 * examples send to Stripe, SendGrid and Twilio is checked against those
 * vendors' own OpenAPI documents (trimmed copies in test/contracts/specs,
 * see its README), and PayPal's against its public reference (the stand-in).
 *
 * Each preset goes over the wire as the runtime sends it: the endpoint built
 * from the preset (its authentication, base URL and headers), the template's
 * body mapped from a sample event and encoded with the preset's encoder, and
 * the delivery engine, to a stand-in on 127.0.0.1 that validates the request
 * against the document and answers in the document's shapes (those answers
 * are validated too). The recorded request is then validated once more here.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const jsonata = require('jsonata');
const { Validator } = require('@seriousme/openapi-schema-validator');
const presets = require('../../resources/presets.js');
const { mapFields } = require('../../dist/nodes/lib/mapping.js');
const { createChecker } = require('../../dist/nodes/lib/checks');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint.js');
const { deliver, newDeliveryState } = require('../../dist/nodes/lib/http/deliver.js');
const { encode, readConfig } = require('../../dist/nodes/lib/encoding/index.js');
const { contract } = require('../contracts/validator');
const { trim } = require('../../scripts/trim-vendor-spec.js');
const { startFakes } = require('../fakes');

const root = path.resolve(__dirname, '..', '..');
const SPECS = path.join(root, 'test', 'contracts', 'specs');
const DOCUMENTED = ['stripe', 'sendgrid', 'twilio'];

/** Sample events in the shapes of the examples. */
const SAMPLES = {
  'payment.completed': {
    event: { id: 'evt-contract-p-1', type: 'payment.completed' },
    payload: {
      paymentId: 'P-9001',
      orderId: 'ORD-5001',
      amount: '149.90',
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      listing: { id: 'L-1001', title: 'Red bicycle' },
      buyer: { name: 'Alan', phone: '+15551230001' },
    },
  },
  'listing.created': {
    event: { id: 'evt-contract-l-1', type: 'listing.created' },
    payload: {
      listingId: 'L-1001',
      title: 'Red bicycle',
      price: '149.90',
      currency: 'usd',
      seller: { name: 'Ada Lovelace', email: 'ada@example.com' },
    },
  },
  'user.registered': {
    event: { id: 'evt-contract-u-1', type: 'user.registered' },
    payload: {
      userId: 'U-501',
      email: ' Grace.Hopper@Example.com ',
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: 15550100,
    },
  },
};

function json(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe("vendor contracts (OpenAPI documents of Stripe, SendGrid and Twilio; PayPal's reference)", function () {
  this.timeout(20000);

  describe('the trimmed documents in test/contracts/specs', function () {
    for (const vendor of DOCUMENTED) {
      it(`${vendor}.json is a valid OpenAPI document, well under 1 MiB, with its source and licence in the README`, async function () {
        const file = path.join(SPECS, vendor + '.json');
        assert.ok(fs.statSync(file).size < 512 * 1024, `${vendor}.json is ${fs.statSync(file).size} bytes`);
        const result = await new Validator().validate(json(file));
        assert.strictEqual(result.valid, true, JSON.stringify(result.errors));
        const readme = fs.readFileSync(path.join(root, 'test', 'contracts', 'README.md'), 'utf8');
        const row = readme.split('\n').find((l) => l.includes(`specs/${vendor}.json`));
        assert.ok(row, 'a README row');
        assert.match(row, /commit [0-9a-f]{40}/);
        assert.match(row, /\| MIT/);
      });
    }

    it('the trim script keeps the named operations and what they reference, transitively, and nothing else', function () {
      const doc = {
        openapi: '3.0.0',
        info: { title: 't', version: '1', description: 'long prose' },
        paths: {
          '/a': {
            post: {
              description: 'x',
              requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/A' } } } },
              responses: { 200: { description: 'ok' } },
            },
          },
          '/b': {
            get: {
              responses: {
                200: {
                  description: 'ok',
                  content: { 'application/json': { schema: { $ref: '#/components/schemas/Unused' } } },
                },
              },
            },
          },
        },
        components: {
          schemas: {
            A: {
              type: 'object',
              properties: {
                description: { type: 'string', description: 'kept: a property called description' },
                b: { $ref: '#/components/schemas/B' },
              },
              'x-vendor': 1,
            },
            B: { type: 'object', properties: { c: { $ref: '#/components/schemas/C' } } },
            C: { type: 'string', example: 'dropped' },
            Unused: { type: 'string' },
          },
        },
      };
      const out = trim(doc, ['POST /a']);
      assert.deepStrictEqual(Object.keys(out.paths), ['/a']);
      assert.deepStrictEqual(Object.keys(out.components.schemas), ['A', 'B', 'C']);
      assert.deepStrictEqual(out.components.schemas.A.properties.description, { type: 'string' });
      assert.strictEqual(out.components.schemas.A['x-vendor'], undefined);
      assert.deepStrictEqual(out.components.schemas.C, { type: 'string' });
      assert.strictEqual(
        out.paths['/a'].post.responses[200].description,
        'ok',
        'a response keeps its required description',
      );
      assert.strictEqual(out.paths['/a'].post.description, undefined);
      assert.throws(() => trim(doc, ['GET /nope']), /no operation GET \/nope/);
    });
  });

  describe('the validator', function () {
    const sendgrid = contract('sendgrid');
    const stripe = contract('stripe');
    const twilio = contract('twilio');
    const mail = (extra) => ({
      method: 'POST',
      path: '/v3/mail/send',
      headers: { authorization: 'Bearer SG.x', 'content-type': 'application/json' },
      rawBody: JSON.stringify({
        personalizations: [{ to: [{ email: 'ada@example.com' }] }],
        from: { email: 'x@saypro.example' },
        subject: 's',
        content: [{ type: 'text/plain', value: 'v' }],
        ...extra,
      }),
    });

    it('rejects a top-level SendGrid custom_args object and accepts the per-recipient one', function () {
      assert.deepStrictEqual(sendgrid.validateRequest(mail({ custom_args: { event_id: 'e' } })).errors, [
        'request/body/custom_args must be string',
      ]);
      const perRecipient = mail({
        personalizations: [{ to: [{ email: 'ada@example.com' }], custom_args: { event_id: 'e' } }],
      });
      assert.deepStrictEqual(sendgrid.validateRequest(perRecipient).errors, []);
    });

    it("rejects what SendGrid's document rejects: a bad address, empty content, no from, no key", function () {
      const r = sendgrid.validateRequest(
        mail({
          from: undefined,
          personalizations: [{ to: [{ email: 'not-an-address' }] }],
          content: [{ type: 'text/plain', value: '' }],
        }),
      );
      assert.deepStrictEqual(r.errors.sort(), [
        "request/body must have required property 'from'",
        'request/body/content/0/value must NOT have fewer than 1 characters',
        'request/body/personalizations/0/to/0/email must match format "email"',
      ]);
      const noKey = mail({});
      noKey.headers = { 'content-type': 'application/json' };
      assert.match(sendgrid.validateRequest(noKey).errors.join(), /security requirement/);
    });

    it('reads Stripe form bodies with bracket nesting, coerces form strings, and rejects unknown parameters', function () {
      const req = (body) => ({
        method: 'POST',
        path: '/v1/payment_intents',
        headers: { authorization: 'Bearer sk_test_x', 'content-type': 'application/x-www-form-urlencoded' },
        rawBody: body,
      });
      assert.deepStrictEqual(
        stripe.validateRequest(
          req('amount=1500&currency=usd&confirm=true&metadata[order_id]=6735&automatic_payment_methods[enabled]=true'),
        ).errors,
        [],
      );
      const errors = stripe.validateRequest(req('amount=15.5&currency=usd&metadata=flat&colour=red')).errors;
      for (const e of [
        "request/body must NOT have additional property 'colour'",
        'request/body/amount must be integer',
        'request/body/metadata must be object',
      ]) {
        assert.ok(errors.includes(e), `${e} in ${JSON.stringify(errors)}`);
      }
      assert.deepStrictEqual(
        stripe.validateRequest({
          method: 'GET',
          path: '/v1/payment_intents/pi_123',
          headers: { authorization: 'Bearer sk_test_x' },
        }).errors,
        [],
      );
      assert.match(
        stripe.validateRequest({ method: 'DELETE', path: '/v1/payment_intents/pi_123', headers: {} }).errors[0],
        /not an operation/,
      );
    });

    it("checks Twilio's path parameters and required fields", function () {
      const r = twilio.validateRequest({
        method: 'POST',
        path: '/2010-04-01/Accounts/not-a-sid/Messages.json',
        headers: { authorization: 'Basic eDp5', 'content-type': 'application/x-www-form-urlencoded' },
        rawBody: 'Body=hi',
      });
      assert.deepStrictEqual(r.errors.sort(), [
        "request/body must have required property 'To'",
        'request/path/AccountSid must NOT have fewer than 34 characters',
        'request/path/AccountSid must match pattern "^AC[0-9a-fA-F]{32}$"',
      ]);
    });

    it('validates answers: the status must be declared and a JSON body must match', function () {
      assert.deepStrictEqual(
        sendgrid.validateResponse({ method: 'POST', path: '/v3/mail/send', status: 202, body: null }).errors,
        [],
      );
      assert.deepStrictEqual(
        sendgrid.validateResponse({ method: 'POST', path: '/v3/mail/send', status: 202, body: { ok: true } }).errors,
        ['response 202 must have no body'],
      );
      assert.deepStrictEqual(
        sendgrid.validateResponse({
          method: 'POST',
          path: '/v3/mail/send',
          status: 400,
          body: { errors: [{ message: 'm', field: null, help: 'a string' }] },
        }).errors,
        ['response/400/body/errors/0/help must be object'],
      );
      assert.match(
        twilio.validateResponse({
          method: 'POST',
          path: '/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json',
          status: 200,
          body: {},
        }).errors[0],
        /not declared/,
      );
    });
  });

  describe("the stand-ins refuse what the documents reject, in the vendor's words, and answer in the documents' shapes", function () {
    let fakes;
    before(async function () {
      fakes = await startFakes(['stripe', 'sendgrid', 'twilio']);
    });
    after(async function () {
      if (fakes) await fakes.stop();
    });

    const post = (fake, p, headers, body) =>
      fetch(fake.url + p, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));

    it('Stripe: an unknown parameter is a 400 "Received unknown parameter", recorded as a contract violation', async function () {
      const { stripe } = fakes;
      stripe.reset();
      const r = await post(
        stripe,
        '/v1/payment_intents',
        { authorization: `Bearer ${stripe.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' },
        'amount=1000&currency=usd&colour=red',
      );
      assert.strictEqual(r.status, 400);
      assert.strictEqual(r.body.error.message, 'Received unknown parameter: colour');
      assert.strictEqual(r.body.error.type, 'invalid_request_error');
      assert.throws(
        () => stripe.assertContract(),
        /request POST \/v1\/payment_intents: request\/body must NOT have additional property 'colour'/,
      );
    });

    it('SendGrid: the top-level custom_args object of old is a 400 naming the field', async function () {
      const { sendgrid } = fakes;
      sendgrid.reset();
      const body = {
        personalizations: [{ to: [{ email: 'ada@example.com' }] }],
        from: { email: 'x@saypro.example' },
        subject: 's',
        content: [{ type: 'text/plain', value: 'v' }],
        custom_args: { event_id: 'e' },
      };
      const r = await post(
        sendgrid,
        '/v3/mail/send',
        { authorization: `Bearer ${sendgrid.apiKey}`, 'content-type': 'application/json' },
        JSON.stringify(body),
      );
      assert.strictEqual(r.status, 400);
      assert.deepStrictEqual(r.body, {
        errors: [{ message: 'request/body/custom_args must be string', field: 'custom_args' }],
      });
      assert.strictEqual(sendgrid.mails.length, 0);
    });

    it("Twilio: a message without To is Twilio's 21604", async function () {
      const { twilio } = fakes;
      twilio.reset();
      const auth = 'Basic ' + Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64');
      const r = await post(
        twilio,
        `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`,
        { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        'Body=hi&From=' + encodeURIComponent(twilio.from),
      );
      assert.strictEqual(r.status, 400);
      assert.strictEqual(r.body.code, 21604);
    });

    it('an answer of a stand-in that drifted from the document becomes a 500 that names the problem', async function () {
      const { startFakeServer } = require('../fakes');
      const drifted = await startFakeServer({
        name: 'drifted',
        contract: 'twilio',
        routes: [['POST', '/2010-04-01/Accounts/:sid/Messages.json', () => ({ status: 201, body: { sid: 42 } })]],
      });
      try {
        const r = await post(
          drifted,
          '/2010-04-01/Accounts/AC' + '0'.repeat(32) + '/Messages.json',
          { authorization: 'Basic eDp5', 'content-type': 'application/x-www-form-urlencoded' },
          'To=%2B15551230001',
        );
        assert.strictEqual(r.status, 500);
        assert.deepStrictEqual(r.body.errors, ['response/201/body/sid must be string,null']);
        assert.throws(() => drifted.assertContract(), /response POST/);
      } finally {
        await drifted.stop();
      }
    });
  });

  describe("every preset and template, sent by the runtime to a stand-in that checks the vendor's document", function () {
    let fakes;
    before(async function () {
      fakes = await startFakes(['stripe', 'sendgrid', 'twilio', 'paypal']);
    });
    after(async function () {
      if (fakes) await fakes.stop();
    });

    /** maps the template for the preset, encodes it as the preset says and delivers it with the engine */
    async function send(presetId, env) {
      const p = presets.endpointPreset(presetId);
      const t = presets.fieldMapperTemplate(p.fieldMapper);
      const msg = JSON.parse(JSON.stringify(SAMPLES[t.event]));
      const mapped = await mapFields(t.rules, msg, { evaluateJsonata: (expr, m) => jsonata(expr).evaluate(m), env });
      assert.ok(mapped.ok, JSON.stringify(mapped.problems));
      const encoded = encode(mapped.value, readConfig({ format: p.encoder }));
      const endpoint = new Endpoint({
        id: 'contract-' + presetId,
        config: { name: presetId, ...p.config },
        credentials: p.credentials,
        env,
      });
      try {
        assert.strictEqual(endpoint.setupError, undefined, endpoint.setupError && endpoint.setupError.message);
        const key = msg.event.id;
        const outcome = await deliver(
          endpoint,
          {
            method: p.request.method,
            path: p.request.path,
            headers: { 'content-type': encoded.contentType },
            body: Buffer.from(encoded.body, 'utf8'),
          },
          newDeliveryState(key, 1),
          {
            maxAttempts: 1,
            initialDelay: 0,
            maxDelay: 0,
            maxRetryAfter: 0,
            idempotencyHeader: p.request.idempotencyHeader,
          },
        );
        return { p, key, outcome };
      } finally {
        endpoint.close();
      }
    }

    function judged(p, outcome) {
      const t = presets.responseCheckTemplate(p.responseCheck);
      const checker = createChecker({ rules: t.rules, mode: t.mode, extract: t.extract });
      return checker.check({
        statusCode: outcome.statusCode,
        payload: outcome.body && outcome.body.value,
        responseHeaders: outcome.headers,
      }).passed;
    }

    for (const vendor of DOCUMENTED) {
      it(`${vendor}: the preset's request passes the vendor's document, and its answer passes the response check template`, async function () {
        const fake = fakes[vendor];
        fake.reset();
        const env = { ...fake.env, SENDGRID_FROM: 'listings@saypro.example', TWILIO_FROM: fakes.twilio.from };
        const { p, key, outcome } = await send(vendor, env);
        assert.strictEqual(outcome.ok, true, outcome.error && JSON.stringify(outcome.error.toJSON()));
        fake.assertContract();
        assert.strictEqual(fake.requests.length, 1);
        const r = fake.requests[0];
        const again = contract(vendor).validateRequest({
          method: r.method,
          path: r.path,
          query: r.query,
          headers: r.headers,
          rawBody: r.rawBody,
        });
        assert.strictEqual(
          again.operation,
          `${p.request.method} ${contract(vendor).operation(r.method, r.path).template}`,
        );
        assert.deepStrictEqual(again.errors, []);
        if (p.request.idempotencyHeader) assert.strictEqual(r.headers[p.request.idempotencyHeader.toLowerCase()], key);
        assert.strictEqual(judged(p, outcome), true);
      });
    }

    it('paypal: the preset gets a client-credentials token, creates the order with PayPal-Request-Id, and a repeat answers the same order', async function () {
      const pp = fakes.paypal;
      pp.reset();
      const { p, key, outcome } = await send('paypal', pp.env);
      assert.strictEqual(outcome.ok, true, outcome.error && JSON.stringify(outcome.error.toJSON()));
      assert.strictEqual(outcome.statusCode, 201);
      const token = pp.requestsTo('POST', '/v1/oauth2/token')[0];
      assert.strictEqual(token.rawBody, 'grant_type=client_credentials');
      assert.strictEqual(
        token.headers.authorization,
        'Basic ' + Buffer.from(`${pp.clientId}:${pp.clientSecret}`).toString('base64'),
      );
      const create = pp.last('POST', '/v2/checkout/orders');
      assert.strictEqual(create.headers['paypal-request-id'], key);
      assert.match(create.headers.authorization, /^Bearer A21AA/);
      assert.deepStrictEqual(create.body, {
        intent: 'CAPTURE',
        purchase_units: [
          {
            reference_id: 'P-9001',
            description: 'Red bicycle',
            custom_id: key,
            amount: { currency_code: 'USD', value: '149.90' },
          },
        ],
      });
      const order = outcome.body.value;
      assert.strictEqual(order.status, 'CREATED');
      assert.strictEqual(judged(p, outcome), true);

      const replay = await send('paypal', pp.env);
      assert.strictEqual(replay.outcome.body.value.id, order.id, 'the same PayPal-Request-Id answers the same order');
      assert.strictEqual(pp.orders.size, 1);
    });
  });

  describe('the examples', function () {
    const ENDPOINTS = { STRIPE_API_URL: 'stripe', SENDGRID_API_URL: 'sendgrid', TWILIO_API_URL: 'twilio' };
    const files = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'));

    it("every HTTP POST node that calls Stripe, SendGrid or Twilio calls an operation of the vendor's document (the e2e tests send them to the checking stand-ins)", function () {
      const seen = [];
      for (const file of files) {
        const flow = json(path.join(root, 'examples', file));
        for (const n of flow.filter((x) => x.type === 'saypro-http-post')) {
          const ep = flow.find((x) => x.id === n.endpoint);
          const vendor = Object.entries(ENDPOINTS).find(([v]) => ep && ep.baseUrl.includes(v));
          if (!vendor) continue;
          const base = ep.baseUrl
            .replace(/^\$\{[A-Z_]+:-[^}]*\}/, '')
            .replace('${TWILIO_ACCOUNT_SID}', 'AC' + '0'.repeat(32));
          const [p] = (base + n.path.replace(/\{\{[^}]+\}\}/g, 'x1')).split('?');
          const method = n.method || ep.method;
          const op = contract(vendor[1]).operation(method, p);
          assert.ok(op, `${file}: ${method} ${p} is an operation of ${vendor[1]}`);
          seen.push(`${vendor[1]} ${op.method} ${op.template}`);
        }
      }
      assert.deepStrictEqual([...new Set(seen)].sort(), [
        'sendgrid POST /v3/mail/send',
        'stripe GET /v1/payment_intents/{intent}',
        'stripe POST /v1/payment_intents',
        'twilio POST /2010-04-01/Accounts/{AccountSid}/Messages.json',
      ]);
    });
  });
});
