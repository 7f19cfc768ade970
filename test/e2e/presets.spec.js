'use strict';
/**
 * The editor's presets and templates (resources/presets.js) as a user would
 * combine them, in a real Node-RED process against the fake vendor APIs
 * (test/fakes): for Stripe, SendGrid, HubSpot and Twilio a flow
 *
 *   event trigger → field mapper (template) → format encoder (the format the
 *   preset's hint names) → http post (endpoint from the preset) → response
 *   check (template)
 *
 * whose endpoint is exactly the preset's config and credentials, with the
 * preset's environment variables pointing at the fake. A sample platform event
 * must be accepted by the fake — which checks authentication, encoding and the
 * required fields — and pass the response check with the extracted value.
 */
const assert = require('assert');
const { startNodeRed, debugPane, root, startupProblems } = require('../support/nodered');
const presets = require('../../resources/presets.js');
const { debugNode } = require('../support/flows');
const { startStripe } = require('../fakes/stripe');
const { startSendGrid } = require('../fakes/sendgrid');
const { startHubSpot } = require('../fakes/hubspot');
const { startTwilio } = require('../fakes/twilio');
const { startPayPal } = require('../fakes/paypal');

const TAB = 'presets0000000tab';
const SENDGRID_FROM = 'listings@saypro.example';
const hints = require(`${root}/locales/en-US/endpoint.json`).endpoint.presets;

/** One flow per vendor, built from its endpoint preset and the templates it names. */
function vendorFlow(presetId) {
  const p = presets.endpointPreset(presetId);
  const mapper = presets.fieldMapperTemplate(p.fieldMapper);
  const check = presets.responseCheckTemplate(p.responseCheck);
  const id = (part) => `presets-${presetId}-${part}`;
  const debug = (part, name) => debugNode(id(part), name, TAB, { statusVal: '', statusType: 'auto', x: 900, y: 100 });
  return [
    { id: id('endpoint'), type: 'saypro-endpoint', name: p.label, ...p.config, credentials: { ...p.credentials } },
    {
      id: id('trigger'),
      type: 'saypro-event-trigger',
      z: TAB,
      name: `${presetId} events`,
      url: `/presets/${presetId}`,
      method: 'post',
      maxBytes: 1048576,
      filter: mapper.event,
      dedupeWindow: 600,
      auth: 'none',
      authHeader: 'x-webhook-secret',
      reply: 'immediate',
      ackTimeout: 10,
      x: 100,
      y: 100,
      wires: [[id('mapper')], [id('failed')]],
    },
    {
      id: id('mapper'),
      type: 'saypro-field-mapper',
      z: TAB,
      name: mapper.label,
      keepUnmapped: false,
      rules: mapper.rules,
      x: 200,
      y: 100,
      wires: [[id('encoder')], [id('failed')]],
    },
    {
      id: id('encoder'),
      type: 'saypro-format-encoder',
      z: TAB,
      name: p.encoder,
      format: p.encoder,
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
      outputType: 'string',
      x: 300,
      y: 100,
      wires: [[id('post')], [id('failed')]],
    },
    {
      id: id('post'),
      type: 'saypro-http-post',
      z: TAB,
      name: `${p.request.method} ${p.request.path}`,
      endpoint: id('endpoint'),
      method: '',
      path: p.request.path,
      headers: [],
      msgHeaders: true,
      maxAttempts: 2,
      initialDelay: 100,
      maxDelay: 500,
      maxRetryAfter: 2,
      idempotencyHeader: p.request.idempotencyHeader,
      keyLifetime: p.request.keyLifetimeHours || '',
      successStatuses: p.request.successStatuses || '',
      sign: false,
      x: 400,
      y: 100,
      wires: [[id('check')], [id('failed')]],
    },
    {
      id: id('check'),
      type: 'saypro-response-check',
      z: TAB,
      name: check.label,
      mode: check.mode,
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
      rules: check.rules,
      extract: check.extract,
      x: 500,
      y: 100,
      wires: [[id('passed')], [id('failed')]],
    },
    debug('passed', `${presetId} passed`),
    debug('failed', `${presetId} failed`),
  ];
}

const VENDORS = ['stripe', 'paypal', 'sendgrid', 'hubspot', 'twilio'];

describe('vendor presets and templates in a real Node-RED process, against fake vendor APIs', function () {
  this.timeout(60000);
  let nr;
  let pane;
  let stripe;
  let sendgrid;
  let hubspot;
  let twilio;
  let paypal;

  /** Posts an event to the vendor's trigger and resolves with the debug message of its flow for that event. */
  async function deliver(presetId, event) {
    const res = await fetch(`${nr.base}/presets/${presetId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    assert.strictEqual(res.status, 202, await res.text());
    const shown = await pane.waitFor(
      (m) =>
        m.id.startsWith(`presets-${presetId}-`) &&
        (() => {
          try {
            return JSON.parse(m.msg).event.id === event.id;
          } catch {
            return false;
          }
        })(),
    );
    return { at: shown.id.replace(`presets-${presetId}-`, ''), msg: JSON.parse(shown.msg) };
  }

  before(async function () {
    [stripe, sendgrid, hubspot, twilio, paypal] = await Promise.all([
      startStripe(),
      startSendGrid(),
      startHubSpot(),
      startTwilio(),
      startPayPal(),
    ]);
    const env = { ...stripe.env, ...sendgrid.env, SENDGRID_FROM, ...hubspot.env, ...twilio.env, ...paypal.env };
    for (const id of VENDORS) {
      for (const name of presets.endpointPreset(id).env) assert.ok(env[name], `the fake of ${id} sets ${name}`);
    }
    nr = await startNodeRed({
      flow: [{ id: TAB, type: 'tab', label: 'presets' }, ...VENDORS.flatMap(vendorFlow)],
      env,
    });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    for (const f of [stripe, sendgrid, hubspot, twilio, paypal]) if (f) await f.stop();
  });

  // every request the presets sent to Stripe, SendGrid and Twilio met the vendor's own OpenAPI document
  afterEach(function () {
    for (const f of [stripe, sendgrid, twilio]) if (f) f.assertContract();
  });

  it('starts the flows with no warning or error from any node', function () {
    const problems = startupProblems(nr.output);
    assert.deepStrictEqual(problems, []);
  });

  it("each flow uses the encoder format its preset's hint names", function () {
    for (const id of VENDORS) {
      const p = presets.endpointPreset(id);
      assert.ok(hints[id].hint.includes(`(format encoder: ${p.encoder}`), id);
      assert.strictEqual(vendorFlow(id).find((n) => n.type === 'saypro-format-encoder').format, p.encoder);
    }
  });

  it('Stripe: a payment event becomes a confirmed PaymentIntent (form body, Bearer key, Idempotency-Key); the id is extracted', async function () {
    const event = {
      id: 'evt-preset-stripe-1',
      type: 'payment.completed',
      data: {
        paymentId: 'P-9001',
        orderId: 'ORD-5001',
        amount: '149.90',
        currency: 'USD',
        paymentMethodId: 'pm_card_visa',
        listing: { id: 'L-1001', title: 'Red bicycle' },
      },
    };
    const { at, msg } = await deliver('stripe', event);
    assert.strictEqual(at, 'passed', JSON.stringify(msg.error));
    const req = stripe.requestsTo('POST', '/v1/payment_intents').find((r) => r.headers['idempotency-key'] === event.id);
    assert.ok(req, 'Stripe received the request with the event id as Idempotency-Key');
    assert.strictEqual(req.headers.authorization, `Bearer ${stripe.secretKey}`);
    assert.strictEqual(req.headers['stripe-version'], '2023-08-16');
    assert.match(req.headers['content-type'], /^application\/x-www-form-urlencoded/);
    assert.deepStrictEqual(req.body, {
      amount: '14990',
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: 'true',
      automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' },
      description: 'Red bicycle',
      metadata: { order_id: 'ORD-5001', payment_id: 'P-9001', event_id: event.id },
    });
    assert.strictEqual(req.status, 200);
    assert.strictEqual(msg.check.passed, true);
    assert.match(msg.transactionId, /^pi_/);
    assert.strictEqual(msg.transactionId, req.responseBody.id);
    assert.strictEqual(msg.paymentStatus, 'succeeded');
    assert.strictEqual(stripe.paymentIntents.get(msg.transactionId).amount_received, 14990);
  });

  it('Stripe: a declined card fails the response check on the second output', async function () {
    const event = {
      id: 'evt-preset-stripe-2',
      type: 'payment.completed',
      data: {
        paymentId: 'P-9002',
        amount: '5.00',
        currency: 'eur',
        paymentMethodId: 'pm_card_chargeDeclined',
        listing: { id: 'L-2', title: 'Lamp' },
      },
    };
    const { at, msg } = await deliver('stripe', event);
    assert.strictEqual(at, 'failed');
    assert.strictEqual(msg.statusCode, 402);
  });

  it('SendGrid: a listing event becomes a v3 mail send (JSON, Bearer key) that is accepted (202); X-Message-Id is extracted', async function () {
    const event = {
      id: 'evt-preset-sendgrid-1',
      type: 'listing.created',
      data: {
        listingId: 'L-1001',
        title: 'Red bicycle',
        price: '149.90',
        currency: 'usd',
        seller: { name: 'Ada Lovelace', email: 'ada@example.com' },
      },
    };
    const { at, msg } = await deliver('sendgrid', event);
    assert.strictEqual(at, 'passed', JSON.stringify(msg.error));
    const req = sendgrid
      .requestsTo('POST', '/v3/mail/send')
      .find(
        (r) =>
          r.body &&
          r.body.personalizations &&
          r.body.personalizations[0].custom_args &&
          r.body.personalizations[0].custom_args.event_id === event.id,
      );
    assert.ok(req, 'SendGrid received the mail');
    assert.strictEqual(req.headers.authorization, `Bearer ${sendgrid.apiKey}`);
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.deepStrictEqual(req.body, {
      personalizations: [
        { to: [{ email: 'ada@example.com', name: 'Ada Lovelace' }], custom_args: { event_id: event.id } },
      ],
      from: { email: SENDGRID_FROM },
      subject: 'Your listing "Red bicycle" is live',
      content: [{ type: 'text/plain', value: 'Your listing "Red bicycle" is now live. Listing id: L-1001' }],
    });
    assert.strictEqual(req.status, 202);
    assert.strictEqual(msg.check.passed, true);
    assert.strictEqual(msg.sendgridMessageId, req.responseHeaders['x-message-id']);
    assert.ok(sendgrid.mails.some((m) => m.messageId === msg.sendgridMessageId));
  });

  it('HubSpot: a user event becomes a contact (string properties, Bearer token); the id is extracted; a repeated email (409) also passes', async function () {
    const event = {
      id: 'evt-preset-hubspot-1',
      type: 'user.registered',
      data: {
        userId: 'U-501',
        email: 'Grace.Hopper@Example.com',
        firstName: 'Grace',
        lastName: 'Hopper',
        phone: 15550100,
      },
    };
    const { at, msg } = await deliver('hubspot', event);
    assert.strictEqual(at, 'passed', JSON.stringify(msg.error));
    const req = hubspot
      .requestsTo('POST', '/crm/v3/objects/contacts')
      .find((r) => r.body && r.body.properties && r.body.properties.email === 'grace.hopper@example.com');
    assert.ok(req, 'HubSpot received the contact');
    assert.strictEqual(req.headers.authorization, `Bearer ${hubspot.token}`);
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.deepStrictEqual(req.body, {
      properties: { email: 'grace.hopper@example.com', firstname: 'Grace', lastname: 'Hopper', phone: '15550100' },
      associations: [],
    });
    assert.strictEqual(req.status, 201);
    assert.strictEqual(msg.check.passed, true);
    assert.strictEqual(msg.hubspotContactId, hubspot.findContact('grace.hopper@example.com').id);

    const again = await deliver('hubspot', { ...event, id: 'evt-preset-hubspot-2' });
    assert.strictEqual(again.at, 'passed', JSON.stringify(again.msg.error));
    assert.strictEqual(again.msg.statusCode, 409);
    assert.strictEqual(again.msg.check.passed, true);
  });

  it('Twilio: a payment event becomes an SMS (form body, Basic SID:token, account in the base URL); the message sid is extracted', async function () {
    const event = {
      id: 'evt-preset-twilio-1',
      type: 'payment.completed',
      data: {
        paymentId: 'P-9001',
        amount: '149.90',
        currency: 'usd',
        listing: { id: 'L-1001', title: 'Red bicycle' },
        buyer: { name: 'Alan', phone: '+15005550006' },
      },
    };
    const { at, msg } = await deliver('twilio', event);
    assert.strictEqual(at, 'passed', JSON.stringify(msg.error));
    const req = twilio
      .requestsTo('POST', `/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`)
      .find((r) => r.body && /P-9001/.test(r.body.Body));
    assert.ok(req, 'Twilio received the message');
    assert.strictEqual(
      req.headers.authorization,
      'Basic ' + Buffer.from(`${twilio.accountSid}:${twilio.authToken}`).toString('base64'),
    );
    assert.match(req.headers['content-type'], /^application\/x-www-form-urlencoded/);
    assert.deepStrictEqual(req.body, {
      To: '+15005550006',
      From: twilio.from,
      Body: 'SayPro: we received your payment of 149.90 USD. Reference P-9001.',
    });
    assert.strictEqual(req.status, 201);
    assert.strictEqual(msg.check.passed, true);
    assert.match(msg.messageSid, /^SM[0-9a-f]{32}$/);
    assert.strictEqual(msg.messageSid, twilio.messages[twilio.messages.length - 1].sid);
    assert.strictEqual(msg.smsStatus, 'queued');
  });

  it('PayPal: a payment event becomes an Orders v2 order (OAuth2 client-credentials token, JSON, PayPal-Request-Id); the order id is extracted', async function () {
    const event = {
      id: 'evt-preset-paypal-1',
      type: 'payment.completed',
      data: { paymentId: 'P-9101', amount: '149.90', currency: 'usd', listing: { id: 'L-1001', title: 'Red bicycle' } },
    };
    const { at, msg } = await deliver('paypal', event);
    assert.strictEqual(at, 'passed', JSON.stringify(msg.error));
    const token = paypal.requestsTo('POST', '/v1/oauth2/token');
    assert.strictEqual(token.length, 1);
    assert.strictEqual(
      token[0].headers.authorization,
      'Basic ' + Buffer.from(`${paypal.clientId}:${paypal.clientSecret}`).toString('base64'),
    );
    assert.strictEqual(token[0].rawBody, 'grant_type=client_credentials');
    const req = paypal
      .requestsTo('POST', '/v2/checkout/orders')
      .find((r) => r.headers['paypal-request-id'] === event.id);
    assert.ok(req, 'PayPal received the order with the event id as PayPal-Request-Id');
    assert.strictEqual(req.headers.authorization, `Bearer ${token[0].responseBody.access_token}`);
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.deepStrictEqual(req.body, {
      intent: 'CAPTURE',
      purchase_units: [
        {
          reference_id: 'P-9101',
          description: 'Red bicycle',
          custom_id: event.id,
          amount: { currency_code: 'USD', value: '149.90' },
        },
      ],
    });
    assert.strictEqual(req.status, 201);
    assert.strictEqual(msg.check.passed, true);
    assert.strictEqual(msg.transactionId, req.responseBody.id);
    assert.strictEqual(msg.paymentStatus, 'CREATED');

    // a second event reuses the token; PayPal's 422 for three decimals fails the check on output 2
    const bad = await deliver('paypal', {
      ...event,
      id: 'evt-preset-paypal-2',
      data: { ...event.data, amount: '1.005' },
    });
    assert.strictEqual(bad.at, 'failed');
    assert.strictEqual(bad.msg.statusCode, 422);
    assert.strictEqual(paypal.requestsTo('POST', '/v1/oauth2/token').length, 1, 'the token is cached');
    assert.strictEqual(paypal.last('POST', '/v2/checkout/orders').responseBody.details[0].issue, 'DECIMAL_PRECISION');
  });
});
