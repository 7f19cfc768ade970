'use strict';
/**
 * The SayPro API example flows (examples/10–12) in a real Node-RED process,
 * against fake Stripe, SendGrid, Mailchimp and HubSpot servers on 127.0.0.1
 * (test/fakes). The three example files are loaded unchanged, side by side,
 * with the environment pointing STRIPE_API_URL & co. at the fakes. Every
 * request is made with fetch; the test checks what the API answers and what
 * each fake received, field by field.
 *
 * Retries keep the examples' own settings (3 attempts, waits from 0.5 s):
 * the fakes answer 500 (backoff, at most 0.5 + 1 s) or 503/429 with
 * Retry-After: 0, so the suite stays fast without changing the flows.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startNodeRed, root, startupProblems } = require('../support/nodered');
const { startFakes } = require('../fakes');
const answers = require('../support/openapi-answers');

const EXAMPLES = ['10 SayPro API - payments.json', '11 SayPro API - email.json', '12 SayPro API - CRM.json'];
const OPENAPI_EXAMPLE = '13 SayPro API - OpenAPI document.json';
const SENDER = 'noreply@saypro.example';

function example(name) {
  return JSON.parse(fs.readFileSync(path.join(root, 'examples', name), 'utf8'));
}

async function call(base, method, url, body) {
  const res = await fetch(base + url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // every answer of the examples must be one docs/openapi/saypro-api.json describes
  if (!url.startsWith('/saypro/openapi.json'))
    answers.check({ method, url, status: res.status, headers: res.headers, body: json });
  return { status: res.status, body: json, text, contentType: res.headers.get('content-type'), headers: res.headers };
}

describe('SayPro API examples 10–12 in a real Node-RED, against fake Stripe, SendGrid, Mailchimp and HubSpot', function () {
  this.timeout(60000);
  let fakes;
  let nr;
  let startLog;
  const api = (method, url, body) => call(nr.base, method, url, body);

  before(async function () {
    fakes = await startFakes(['stripe', 'sendgrid', 'mailchimp', 'hubspot']);
    const flow = [...EXAMPLES.flatMap(example), ...example(OPENAPI_EXAMPLE)];
    nr = await startNodeRed({ flow, env: { ...fakes.env, SENDGRID_FROM: SENDER }, logLevel: 'debug' });
    startLog = nr.output;
  });

  after(async function () {
    if (nr) await nr.stop();
    if (fakes) await fakes.stop();
  });

  beforeEach(function () {
    for (const name of ['stripe', 'sendgrid', 'mailchimp', 'hubspot']) fakes[name].reset();
  });

  // every request the examples sent to Stripe and SendGrid met the vendor's own OpenAPI document
  afterEach(function () {
    if (fakes) for (const name of ['stripe', 'sendgrid']) fakes[name].assertContract();
    answers.assertNone();
  });

  it('loads all three examples together with no warning or error in the log', function () {
    assert.match(startLog, /Started flows/);
    assert.deepStrictEqual(startupProblems(startLog), []);
    // the ids are unique across every example shipped
    const seen = new Map();
    for (const file of fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'))) {
      for (const node of example(file)) {
        assert.ok(!seen.has(node.id), `id ${node.id} is in both ${seen.get(node.id)} and ${file}`);
        seen.set(node.id, file);
      }
    }
    for (const file of EXAMPLES) {
      const nodes = example(file);
      assert.ok(
        nodes.every((n) => /^1[0-9a-f]{15}$/.test(n.id)),
        file + ': ids are 16 hex characters starting with 1',
      );
      assert.ok(
        nodes.some((n) => n.type === 'comment' && /Fill in/.test(n.info)),
        file + ': a comment node says what to fill in',
      );
    }
  });

  // ------------------------------------------------------------------ payments
  describe('POST /payments/charge and GET /payments/transaction-status (Stripe)', function () {
    it('charges the seed request: one form-encoded PaymentIntent with confirm, and a completed payment', async function () {
      const res = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
        description: 'Classified Listing Payment',
      });
      assert.strictEqual(res.status, 200, res.text);
      assert.match(res.contentType, /^application\/json/);
      assert.match(res.body.transaction_id, /^pi_/);
      assert.deepStrictEqual(res.body, {
        status: 'success',
        transaction_id: res.body.transaction_id,
        amount: 1000,
        currency: 'USD',
        payment_status: 'completed',
      });

      const got = fakes.stripe.requests;
      assert.strictEqual(got.length, 1);
      const r = got[0];
      assert.strictEqual(r.method, 'POST');
      assert.strictEqual(r.path, '/v1/payment_intents');
      assert.strictEqual(r.headers.authorization, `Bearer ${fakes.stripe.secretKey}`);
      assert.strictEqual(r.headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8');
      assert.strictEqual(r.headers['stripe-version'], '2023-08-16');
      assert.match(r.headers['idempotency-key'], /^[0-9a-f-]{36}$/);
      assert.strictEqual(
        r.rawBody,
        'amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true&description=Classified+Listing+Payment' +
          '&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=never',
      );
      assert.deepStrictEqual(r.body, {
        amount: '1000',
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: 'true',
        description: 'Classified Listing Payment',
        automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' },
      });
      assert.strictEqual(r.status, 200);
      const intent = fakes.stripe.paymentIntents.get(res.body.transaction_id);
      assert.strictEqual(intent.status, 'succeeded');
      assert.strictEqual(intent.description, 'Classified Listing Payment');
    });

    it('reads the status of a payment by its id', async function () {
      const charged = await api('POST', '/payments/charge', {
        amount: 2599,
        currency: 'eur',
        payment_method_id: 'pm_card_mastercard',
      });
      assert.strictEqual(charged.status, 200, charged.text);
      const id = charged.body.transaction_id;
      fakes.stripe.clearRequests();

      const res = await api('GET', '/payments/transaction-status?transaction_id=' + id);
      assert.strictEqual(res.status, 200, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'success',
        transaction_id: id,
        payment_status: 'completed',
        amount: 2599,
        currency: 'EUR',
      });
      assert.strictEqual(fakes.stripe.requests.length, 1);
      const r = fakes.stripe.requests[0];
      assert.strictEqual(r.method, 'GET');
      assert.strictEqual(r.path, '/v1/payment_intents/' + id);
      assert.deepStrictEqual(r.query, {});
      assert.strictEqual(r.rawBody, '');
      assert.strictEqual(r.headers.authorization, `Bearer ${fakes.stripe.secretKey}`);
      assert.strictEqual(r.headers['idempotency-key'], undefined, 'no idempotency key on a GET');
    });

    it('answers "pending" for a card that needs 3-D Secure and for a payment still processing', async function () {
      const action = await api('POST', '/payments/charge', {
        amount: 500,
        currency: 'USD',
        payment_method_id: 'pm_card_authenticationRequired',
      });
      assert.strictEqual(action.status, 200, action.text);
      assert.strictEqual(action.body.payment_status, 'pending');
      assert.strictEqual(fakes.stripe.paymentIntents.get(action.body.transaction_id).status, 'requires_action');
      const processing = await api('POST', '/payments/charge', {
        amount: 500,
        currency: 'USD',
        payment_method_id: 'pm_fake_processing',
      });
      assert.strictEqual(processing.body.payment_status, 'pending');
      const status = await api('GET', '/payments/transaction-status?transaction_id=' + action.body.transaction_id);
      assert.strictEqual(status.body.payment_status, 'pending');
    });

    it("answers 402 with Stripe's message and code for a declined card, after exactly one request", async function () {
      const res = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_chargeDeclined',
        description: 'Classified Listing Payment',
      });
      assert.strictEqual(res.status, 402, res.text);
      assert.deepStrictEqual(res.body, { status: 'error', message: 'Your card was declined.', code: 'card_declined' });
      assert.strictEqual(fakes.stripe.requests.length, 1, 'a 402 is not retried');
      assert.strictEqual(fakes.stripe.requests[0].status, 402);
      // Stripe's answer is longer than the 500 characters the flow sees: it still reads the message
      assert.ok(JSON.stringify(fakes.stripe.requests[0].responseBody).length > 500);
    });

    it('answers 400 with every problem of an invalid request and sends nothing to Stripe', async function () {
      const res = await api('POST', '/payments/charge', { amount: 10.5, currency: 'US', description: 'x' });
      assert.strictEqual(res.status, 400, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        errors: [
          "amount must be a positive whole number in the currency's smallest unit, e.g. 1000 for 10.00 USD",
          'currency must be a three-letter ISO 4217 code such as USD',
          'payment_method_id is required: the Stripe PaymentMethod to charge (pm_…)',
        ],
      });
      const negative = await api('POST', '/payments/charge', {
        amount: -5,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
        description: { a: 1 },
      });
      assert.strictEqual(negative.status, 400);
      assert.strictEqual(negative.body.errors.length, 2);
      assert.strictEqual(
        negative.body.errors[0],
        "amount must be a positive whole number in the currency's smallest unit, e.g. 1000 for 10.00 USD",
      );
      assert.match(negative.body.errors[1], /^description: .*object/);
      assert.strictEqual(fakes.stripe.requests.length, 0);
    });

    it("passes on Stripe's 400 for a payment method it does not know, and 404 for an unknown payment", async function () {
      const res = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_nonexistent',
      });
      assert.strictEqual(res.status, 400, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        message: "No such PaymentMethod: 'pm_nonexistent'",
        code: 'resource_missing',
      });
      const unknown = await api('GET', '/payments/transaction-status?transaction_id=pi_unknown123');
      assert.strictEqual(unknown.status, 404, unknown.text);
      assert.deepStrictEqual(unknown.body, {
        status: 'error',
        message: "No such payment_intent: 'pi_unknown123'",
        code: 'resource_missing',
      });
      const missing = await api('GET', '/payments/transaction-status');
      assert.strictEqual(missing.status, 400);
      assert.deepStrictEqual(missing.body, {
        status: 'error',
        errors: ['transaction_id is required: the id of the payment (pi_…)'],
      });
      assert.strictEqual(fakes.stripe.requests.length, 2);
    });

    it('retries a 429 with Retry-After under the same idempotency key, then charges once', async function () {
      fakes.stripe.rateLimitNext(1, '0');
      const res = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
        description: 'Classified Listing Payment',
      });
      assert.strictEqual(res.status, 200, res.text);
      const got = fakes.stripe.requests;
      assert.deepStrictEqual(
        got.map((r) => r.status),
        [429, 200],
      );
      assert.strictEqual(got[0].headers['idempotency-key'], got[1].headers['idempotency-key']);
      assert.strictEqual(got[0].rawBody, got[1].rawBody);
      assert.strictEqual(fakes.stripe.paymentIntents.size, 1);
    });

    it('answers 502 when Stripe keeps failing: 500, 500, 500 (3 attempts, one idempotency key)', async function () {
      fakes.stripe.failNext(3, { status: 500 });
      const res = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
        description: 'Classified Listing Payment',
      });
      assert.strictEqual(res.status, 502, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        message: 'The payment provider is not answering; please try again later.',
      });
      const got = fakes.stripe.requests;
      assert.deepStrictEqual(
        got.map((r) => r.status),
        [500, 500, 500],
      );
      assert.strictEqual(new Set(got.map((r) => r.headers['idempotency-key'])).size, 1);
      assert.strictEqual(fakes.stripe.paymentIntents.size, 0);
      // Stripe is back: the next charge goes through at once
      const next = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
      });
      assert.strictEqual(next.status, 200, next.text);
    });

    it('answers 502 for a status query when Stripe answers 503 with Retry-After: 0 three times', async function () {
      fakes.stripe.failNext(3, { status: 503, headers: { 'retry-after': '0' } });
      const res = await api('GET', '/payments/transaction-status?transaction_id=pi_anything1');
      assert.strictEqual(res.status, 502, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        message: 'The payment provider is not answering; please try again later.',
      });
      assert.strictEqual(fakes.stripe.requests.length, 3);
      const next = await api('POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
      });
      assert.strictEqual(next.status, 200, next.text);
    });
  });

  // --------------------------------------------------------------------- email
  describe('POST /email/send (SendGrid) and GET /email/campaign-status (Mailchimp)', function () {
    it('sends a text email: one JSON mail/send with personalizations, from, subject and content', async function () {
      const res = await api('POST', '/email/send', {
        to: 'a@example.com',
        subject: 'Your listing is live',
        content: 'Hello from SayPro',
      });
      assert.strictEqual(res.status, 200, res.text);
      assert.deepStrictEqual(res.body, { status: 'success' });
      const got = fakes.sendgrid.requests;
      assert.strictEqual(got.length, 1);
      const r = got[0];
      assert.strictEqual(r.method, 'POST');
      assert.strictEqual(r.path, '/v3/mail/send');
      assert.strictEqual(r.headers.authorization, `Bearer ${fakes.sendgrid.apiKey}`);
      assert.strictEqual(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.strictEqual(r.headers['idempotency-key'], undefined);
      assert.deepStrictEqual(r.body, {
        personalizations: [{ to: [{ email: 'a@example.com' }] }],
        from: { email: SENDER },
        subject: 'Your listing is live',
        content: [{ type: 'text/plain', value: 'Hello from SayPro' }],
      });
      assert.strictEqual(r.status, 202);
      assert.strictEqual(fakes.sendgrid.mails.length, 1);
    });

    it('sends a dynamic template with its data, and no subject or content', async function () {
      const templateId = 'd-' + 'a1b2c3d4'.repeat(4);
      const res = await api('POST', '/email/send', {
        to: 'b@example.com',
        template_id: templateId,
        dynamic_template_data: { name: 'Ada', listings: 3 },
      });
      assert.strictEqual(res.status, 200, res.text);
      assert.deepStrictEqual(res.body, { status: 'success' });
      assert.deepStrictEqual(fakes.sendgrid.requests[0].body, {
        personalizations: [{ to: [{ email: 'b@example.com' }], dynamic_template_data: { name: 'Ada', listings: 3 } }],
        from: { email: SENDER },
        template_id: templateId,
      });
    });

    it('answers 400 with every problem of an invalid request and sends nothing', async function () {
      const res = await api('POST', '/email/send', { to: 'not-an-address', dynamic_template_data: { a: 1 } });
      assert.strictEqual(res.status, 400, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        errors: [
          'to must be an email address',
          'dynamic_template_data must be an object, sent with a template_id',
          'subject is required unless a template_id is given',
          'content is required unless a template_id is given',
        ],
      });
      const badTemplate = await api('POST', '/email/send', { to: 'a@example.com', template_id: 'welcome' });
      assert.deepStrictEqual(badTemplate.body, {
        status: 'error',
        errors: ['template_id must be a SendGrid dynamic template id: d- and 32 hex digits'],
      });
      assert.strictEqual(fakes.sendgrid.requests.length, 0);
    });

    it('answers 502 when SendGrid answers 503 with Retry-After: 0 on every attempt', async function () {
      fakes.sendgrid.failNext(3, { status: 503, headers: { 'retry-after': '0' } });
      const res = await api('POST', '/email/send', { to: 'a@example.com', subject: 's', content: 'c' });
      assert.strictEqual(res.status, 502, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        message: 'The email provider is not answering; please try again later.',
      });
      assert.deepStrictEqual(
        fakes.sendgrid.requests.map((r) => r.status),
        [503, 503, 503],
      );
      assert.strictEqual(fakes.sendgrid.mails.length, 0);
      const next = await api('POST', '/email/send', { to: 'a@example.com', subject: 's', content: 'c' });
      assert.strictEqual(next.status, 200, next.text);
    });

    it("reads a campaign's status from Mailchimp with HTTP Basic and only the fields it needs", async function () {
      fakes.mailchimp.addCampaign({
        id: '42694e9e57',
        status: 'sent',
        emails_sent: 1520,
        send_time: '2024-05-01T10:00:00+00:00',
      });
      const res = await api('GET', '/email/campaign-status?campaign_id=42694e9e57');
      assert.strictEqual(res.status, 200, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'success',
        campaign_id: '42694e9e57',
        campaign_status: 'sent',
        emails_sent: 1520,
      });
      const got = fakes.mailchimp.requests;
      assert.strictEqual(got.length, 1);
      assert.strictEqual(got[0].method, 'GET');
      assert.strictEqual(got[0].path, '/3.0/campaigns/42694e9e57');
      assert.deepStrictEqual(got[0].query, { fields: 'id,status,emails_sent,send_time' });
      const [user, password] = Buffer.from(got[0].headers.authorization.replace(/^Basic /, ''), 'base64')
        .toString('utf8')
        .split(':');
      assert.strictEqual(user, 'saypro');
      assert.strictEqual(password, fakes.mailchimp.apiKey);
      assert.deepStrictEqual(got[0].responseBody, {
        id: '42694e9e57',
        status: 'sent',
        emails_sent: 1520,
        send_time: '2024-05-01T10:00:00+00:00',
      });
    });

    it('answers 404 for an unknown campaign and 400 without a campaign id', async function () {
      const res = await api('GET', '/email/campaign-status?campaign_id=0000000000');
      assert.strictEqual(res.status, 404, res.text);
      assert.deepStrictEqual(res.body, { status: 'error', message: 'The requested resource could not be found.' });
      const missing = await api('GET', '/email/campaign-status');
      assert.strictEqual(missing.status, 400);
      assert.deepStrictEqual(missing.body, {
        status: 'error',
        errors: ['campaign_id is required: the id of the Mailchimp campaign'],
      });
      assert.strictEqual(fakes.mailchimp.requests.length, 1);
    });
  });

  // ----------------------------------------------------------------------- CRM
  describe('POST /crm/add-user and GET /crm/user-data (HubSpot)', function () {
    const seed = { user_id: '12345', name: 'John Doe', email: 'john.doe@example.com', listing_count: 10 };

    it('creates a contact from the seed request with string properties', async function () {
      const res = await api('POST', '/crm/add-user', seed);
      assert.strictEqual(res.status, 200, res.text);
      assert.deepStrictEqual(res.body, { status: 'success', contact_id: res.body.contact_id, created: true });
      const contact = fakes.hubspot.findContact('john.doe@example.com');
      assert.strictEqual(res.body.contact_id, contact.id);

      const got = fakes.hubspot.requests;
      assert.strictEqual(got.length, 1);
      const r = got[0];
      assert.strictEqual(r.method, 'POST');
      assert.strictEqual(r.path, '/crm/v3/objects/contacts');
      assert.strictEqual(r.headers.authorization, `Bearer ${fakes.hubspot.token}`);
      assert.strictEqual(r.headers['content-type'], 'application/json; charset=utf-8');
      assert.strictEqual(
        r.rawBody,
        '{"properties":{"email":"john.doe@example.com","firstname":"John","lastname":"Doe","listing_count":"10"},"associations":[]}',
      );
      assert.strictEqual(r.status, 201);
      assert.strictEqual(contact.properties.listing_count, '10');
    });

    it('updates the contact when HubSpot answers 409: PATCH by email, created false', async function () {
      const first = await api('POST', '/crm/add-user', seed);
      assert.strictEqual(first.status, 200, first.text);
      fakes.hubspot.clearRequests();

      const res = await api('POST', '/crm/add-user', {
        ...seed,
        name: 'John A. Doe',
        email: 'John.Doe@Example.com ',
        listing_count: 12,
      });
      assert.strictEqual(res.status, 200, res.text);
      assert.deepStrictEqual(res.body, { status: 'success', contact_id: first.body.contact_id, created: false });
      const got = fakes.hubspot.requests;
      assert.deepStrictEqual(
        got.map((r) => `${r.method} ${r.path} ${r.status}`),
        ['POST /crm/v3/objects/contacts 409', 'PATCH /crm/v3/objects/contacts/john.doe@example.com 200'],
      );
      assert.strictEqual(got[0].responseBody.message, `Contact already exists. Existing ID: ${first.body.contact_id}`);
      assert.strictEqual(got[1].rawPath, '/crm/v3/objects/contacts/john.doe%40example.com');
      assert.deepStrictEqual(got[1].query, { idProperty: 'email' });
      assert.strictEqual(got[1].headers.authorization, `Bearer ${fakes.hubspot.token}`);
      const body = {
        properties: { email: 'john.doe@example.com', firstname: 'John', lastname: 'A. Doe', listing_count: '12' },
      };
      // the create operation requires associations; the update operation takes the properties only
      assert.deepStrictEqual(got[0].body, { ...body, associations: [] });
      assert.deepStrictEqual(got[1].body, body);
      assert.strictEqual(fakes.hubspot.objects.contacts.size, 1);
      assert.strictEqual(fakes.hubspot.findContact('john.doe@example.com').properties.listing_count, '12');
    });

    it('answers 400 with every problem of an invalid request and sends nothing', async function () {
      const res = await api('POST', '/crm/add-user', { user_id: '1', name: '  ', email: 'john', listing_count: 2.5 });
      assert.strictEqual(res.status, 400, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        errors: [
          'email must be an email address',
          "name is required: the user's full name, e.g. John Doe",
          'listing_count must be a whole number, 0 or more',
        ],
      });
      assert.strictEqual(fakes.hubspot.requests.length, 0);
    });

    it('reads a contact by email', async function () {
      const created = await api('POST', '/crm/add-user', seed);
      fakes.hubspot.clearRequests();
      const res = await api('GET', '/crm/user-data?email=' + encodeURIComponent('John.Doe@example.com'));
      assert.strictEqual(res.status, 200, res.text);
      const c = fakes.hubspot.findContact('john.doe@example.com');
      assert.deepStrictEqual(res.body, {
        status: 'success',
        contact: {
          contact_id: created.body.contact_id,
          email: 'john.doe@example.com',
          name: 'John Doe',
          listing_count: 10,
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        },
      });
      const r = fakes.hubspot.requests[0];
      assert.strictEqual(r.method, 'GET');
      assert.strictEqual(r.path, '/crm/v3/objects/contacts/john.doe@example.com');
      // properties is an exploded array in HubSpot's reference: the parameter is repeated
      assert.deepStrictEqual(r.query, {
        idProperty: 'email',
        properties: ['email', 'firstname', 'lastname', 'listing_count'],
      });
    });

    it('answers 404 for an unknown email and 400 without one', async function () {
      const res = await api('GET', '/crm/user-data?email=nobody@example.com');
      assert.strictEqual(res.status, 404, res.text);
      assert.deepStrictEqual(res.body, { status: 'error', message: 'No contact with that email address.' });
      const missing = await api('GET', '/crm/user-data');
      assert.strictEqual(missing.status, 400);
      assert.deepStrictEqual(missing.body, {
        status: 'error',
        errors: ["email is required: the contact's email address"],
      });
      assert.strictEqual(fakes.hubspot.requests.length, 1);
    });

    it("passes on HubSpot's validation error as 400, and answers 502 after three 500s", async function () {
      // the portal lacks the custom property the flow writes
      fakes.hubspot.customProperties.contacts = [];
      try {
        const res = await api('POST', '/crm/add-user', seed);
        assert.strictEqual(res.status, 400, res.text);
        assert.deepStrictEqual(res.body, { status: 'error', errors: ['Property "listing_count" does not exist'] });
      } finally {
        fakes.hubspot.customProperties.contacts = ['listing_count'];
      }
      fakes.hubspot.reset();
      fakes.hubspot.failNext(3, { status: 500 });
      const down = await api('POST', '/crm/add-user', seed);
      assert.strictEqual(down.status, 502, down.text);
      assert.deepStrictEqual(down.body, {
        status: 'error',
        message: 'The CRM is not answering; please try again later.',
      });
      assert.strictEqual(fakes.hubspot.requests.length, 3);
      const next = await api('POST', '/crm/add-user', seed);
      assert.deepStrictEqual(next.body, { status: 'success', contact_id: next.body.contact_id, created: true });
    });
  });

  describe('the OpenAPI document (docs/openapi/saypro-api.json, served by example 13)', function () {
    it('is served at GET /saypro/openapi.json as JSON that any Swagger UI may read, identical to the file', async function () {
      const res = await api('GET', '/saypro/openapi.json');
      assert.strictEqual(res.status, 200);
      assert.match(res.contentType, /^application\/json/);
      assert.strictEqual(res.headers.get('access-control-allow-origin'), '*');
      assert.deepStrictEqual(
        res.body,
        JSON.parse(fs.readFileSync(path.join(root, 'docs', 'openapi', 'saypro-api.json'), 'utf8')),
      );
    });
  });

  describe('the Node-RED log afterwards', function () {
    it('holds every attempt (debug level) and no key or token', function () {
      assert.match(nr.output, /POST http:\/\/127\.0\.0\.1:\d+\/v1\/payment_intents → 500/);
      assert.match(
        nr.output,
        /PATCH http:\/\/127\.0\.0\.1:\d+\/crm\/v3\/objects\/contacts\/john\.doe%40example\.com\?idProperty=email → 200/,
      );
      const secrets = [
        fakes.stripe.secretKey,
        fakes.sendgrid.apiKey,
        fakes.mailchimp.apiKey,
        fakes.hubspot.token,
        Buffer.from('saypro:' + fakes.mailchimp.apiKey).toString('base64'),
      ];
      for (const s of secrets) assert.ok(!nr.output.includes(s), 'a secret is in the Node-RED log');
    });
  });

  describe('a synchronous API never hangs: Stripe, SendGrid and HubSpot unreachable (a closed port)', function () {
    // the examples as shipped wait 30 s; here the same flows with a 3 s deadline keep the suite short
    const DEADLINE_S = 3;
    let down;
    before(async function () {
      const net = require('net');
      const s = net.createServer();
      await new Promise((r) => s.listen(0, '127.0.0.1', r));
      const closed = `http://127.0.0.1:${s.address().port}`;
      await new Promise((r) => s.close(r));
      const flow = EXAMPLES.flatMap(example).map((n) =>
        n.type === 'saypro-http-post' ? { ...n, deadline: DEADLINE_S } : n,
      );
      down = await startNodeRed({
        flow,
        env: {
          ...fakes.env,
          STRIPE_API_URL: closed,
          SENDGRID_API_URL: closed,
          HUBSPOT_API_URL: closed,
          MAILCHIMP_API_URL: closed,
          SENDGRID_FROM: SENDER,
        },
      });
    });
    after(async function () {
      if (down) await down.stop();
    });

    it('every HTTP POST node of examples 10–12 is in-memory with a 30 s deadline', function () {
      const posts = EXAMPLES.flatMap(example).filter((n) => n.type === 'saypro-http-post');
      assert.strictEqual(posts.length, 7);
      for (const n of posts) assert.deepStrictEqual([n.name, n.durable, n.deadline], [n.name, false, 30]);
    });

    for (const [method, url, body, what] of [
      [
        'POST',
        '/payments/charge',
        { amount: 1000, currency: 'USD', payment_method_id: 'pm_card_visa', description: 'Classified Listing Payment' },
        'payment provider',
      ],
      ['GET', '/payments/transaction-status?transaction_id=pi_3abc', undefined, 'payment provider'],
      ['POST', '/email/send', { to: 'a@example.com', subject: 's', content: 'c' }, 'email provider'],
      [
        'POST',
        '/crm/add-user',
        { user_id: '1', name: 'Ada Lovelace', email: 'ada@example.com', listing_count: 1 },
        'CRM',
      ],
    ]) {
      it(`${method} ${url.split('?')[0]} answers 503 within the deadline with a message the caller can act on`, async function () {
        const started = Date.now();
        const res = await call(down.base, method, url, body);
        const took = Date.now() - started;
        assert.strictEqual(res.status, 503, res.text);
        assert.deepStrictEqual(res.body, {
          status: 'error',
          message: `The ${what} cannot be reached; try again later.`,
        });
        assert.ok(took >= DEADLINE_S * 1000 - 200 && took < DEADLINE_S * 1000 + 5000, `answered after ${took} ms`);
      });
    }
  });

  describe('without STRIPE_SECRET_KEY and SENDGRID_FROM', function () {
    let bare;
    before(async function () {
      const saved = { STRIPE_SECRET_KEY: process.env.STRIPE_SECRET_KEY, SENDGRID_FROM: process.env.SENDGRID_FROM };
      // the child inherits this environment
      delete process.env.STRIPE_SECRET_KEY;
      delete process.env.SENDGRID_FROM;
      try {
        const env = { ...fakes.env };
        delete env.STRIPE_SECRET_KEY;
        bare = await startNodeRed({ flow: [...example(EXAMPLES[0]), ...example(EXAMPLES[1])], env });
      } finally {
        for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
      }
    });
    after(async function () {
      if (bare) await bare.stop();
    });

    it('logs at start that the Stripe endpoint lacks STRIPE_SECRET_KEY (and nothing else)', function () {
      const lines = startupProblems(bare.output);
      assert.strictEqual(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0],
        /\[error\] \[saypro-endpoint:Stripe\] .*token: environment variable STRIPE_SECRET_KEY is not set/,
      );
    });

    it('answers 500 for a charge without calling Stripe', async function () {
      const res = await call(bare.base, 'POST', '/payments/charge', {
        amount: 1000,
        currency: 'USD',
        payment_method_id: 'pm_card_visa',
        description: 'Classified Listing Payment',
      });
      assert.strictEqual(res.status, 500, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        message: 'The payment service is not configured correctly; see the Node-RED log.',
      });
      assert.strictEqual(fakes.stripe.requests.length, 0);
    });

    it('answers 500 naming SENDGRID_FROM for an email, without calling SendGrid', async function () {
      const res = await call(bare.base, 'POST', '/email/send', { to: 'a@example.com', subject: 's', content: 'c' });
      assert.strictEqual(res.status, 500, res.text);
      assert.deepStrictEqual(res.body, {
        status: 'error',
        message: 'The email service is not configured: set SENDGRID_FROM to the sender address.',
      });
      assert.strictEqual(fakes.sendgrid.requests.length, 0);
    });
  });

  // last: the answers of every test above, the unconfigured and unreachable ones included
  describe('the answers, against docs/openapi/saypro-api.json', function () {
    it('described every answer the tests above got, for each of the six endpoints', function () {
      const ops = new Set([...answers.seen].map((s) => s.split(' ').slice(0, 2).join(' ')));
      assert.deepStrictEqual([...ops].sort(), [
        'GET /crm/user-data',
        'GET /email/campaign-status',
        'GET /payments/transaction-status',
        'POST /crm/add-user',
        'POST /email/send',
        'POST /payments/charge',
      ]);
      for (const status of ['200', '400', '402', '404', '500', '502'])
        assert.ok(
          [...answers.seen].some((s) => s.endsWith(' ' + status)),
          `a ${status} was checked`,
        );
    });
  });
});
