'use strict';
/**
 * The event-driven example flows (examples/20–24), imported as they ship into
 * ONE real Node-RED process whose environment points every vendor at a fake on
 * 127.0.0.1 (test/fakes): SendGrid, HubSpot, Mailchimp, Twilio and a partner
 * that receives encrypted CSV and XML. Each test posts platform events to an
 * example's event trigger and checks, field by field, what the fake received
 * (method, path, auth header, content type, body) and what the flow shows in
 * the debug pane (read over the editor's /comms websocket). The triggers reply
 * in durable mode: 202 only once an HTTP POST node has the event in its queue on
 * disk, 422 with the reasons when a node of the flow refuses it.
 */
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const answers = require('../support/openapi-answers');
const { startNodeRed, debugPane, root, startupProblems } = require('../support/nodered');
const { startSendGrid } = require('../fakes/sendgrid');
const { startHubSpot } = require('../fakes/hubspot');
const { startMailchimp } = require('../fakes/mailchimp');
const { startTwilio } = require('../fakes/twilio');
const { startPartner, openEnvelope, sealEnvelope } = require('../fakes/partner');

const EXAMPLES_DIR = path.join(root, 'examples');
const FILES = {
  sendgrid: '20 Events - listing created to SendGrid email.json',
  crm: '21 Events - user registered to HubSpot and Mailchimp.json',
  twilio: '22 Events - payment completed to Twilio SMS.json',
  partner: '23 Events - listing sold to partner as CSV and XML.json',
  receiver: '24 Partner - receiving encrypted orders.json',
};
const flows = Object.fromEntries(
  Object.entries(FILES).map(([k, f]) => [k, JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8'))]),
);

const COLUMNS = 'order_id,listing_id,title,amount_minor,currency,buyer_email,sold_at';
const SENDGRID_FROM = 'listings@saypro.example';

/** The id of the node of `type` named `name` in an example. */
function nodeId(flow, type, name) {
  const n = flow.find((x) => x.type === type && x.name === name);
  if (!n) throw new Error(`no ${type} named ${JSON.stringify(name)}`);
  return n.id;
}

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');

describe('event-driven examples 20–24 in a real Node-RED process, against fake vendor APIs', function () {
  this.timeout(60000);
  let nr;
  let pane;
  let sg;
  let hs;
  let mc;
  let tw;
  let partner;
  let outputAtStart = '';

  /** Posts an event to a trigger; resolves with the trigger's JSON reply after checking its status. */
  async function postEvent(url, event, status = 202) {
    const res = await fetch(nr.base + url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    const body = await res.json();
    // the event trigger's answers are the ones docs/openapi/saypro-api.json describes
    answers.check({ method: 'POST', url: url, status: res.status, headers: res.headers, body });
    assert.strictEqual(res.status, status, JSON.stringify(body));
    return body;
  }

  /** The first debug message from node `id` whose msg matches `pred`, parsed. */
  async function shown(id, pred = () => true, ms = 10000) {
    const d = await pane.waitFor(
      (m) =>
        m.id === id &&
        (() => {
          try {
            return pred(JSON.parse(m.msg));
          } catch {
            return false;
          }
        })(),
      ms,
    );
    return JSON.parse(d.msg);
  }

  before(async function () {
    [sg, hs, mc, tw, partner] = await Promise.all([
      startSendGrid(),
      startHubSpot(),
      startMailchimp(),
      startTwilio(),
      startPartner({ kid: 'partner-k1' }),
    ]);
    const env = {
      ...sg.env,
      SENDGRID_FROM,
      ...hs.env,
      ...mc.env,
      MAILCHIMP_LIST_ID: mc.defaultListId,
      ...tw.env,
      ...partner.env,
    };
    nr = await startNodeRed({ flow: Object.values(flows).flat(), env });
    outputAtStart = nr.output;
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    for (const f of [sg, hs, mc, tw, partner]) if (f) await f.stop();
  });

  // every request the examples sent to SendGrid and Twilio met the vendor's own OpenAPI document
  afterEach(function () {
    for (const f of [sg, tw]) if (f) f.assertContract();
    answers.assertNone();
  });

  describe('the example files', function () {
    it('load together with no error or warning from any node', function () {
      assert.match(outputAtStart, /Started flows/);
      const problems = startupProblems(outputAtStart);
      assert.deepStrictEqual(problems, []);
    });

    it('follow the conventions: unique ids, own trigger paths, a comment with the curl line, secrets only as ${VAR}', function () {
      const others = fs
        .readdirSync(EXAMPLES_DIR)
        .filter((f) => f.endsWith('.json') && !Object.values(FILES).includes(f))
        .map((f) => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8')))
        .flat();
      const otherIds = new Set(others.map((n) => n.id));
      const otherUrls = new Set(
        others.filter((n) => n.type === 'saypro-event-trigger' || n.type === 'http in').map((n) => n.url),
      );
      const seen = new Set();
      const urls = new Set();
      for (const [key, flow] of Object.entries(flows)) {
        for (const n of flow) {
          assert.match(n.id, /^2[0-9a-f]{15}$/, `${key}: id ${n.id}`);
          assert.ok(!seen.has(n.id) && !otherIds.has(n.id), `${key}: id ${n.id} is used twice`);
          seen.add(n.id);
          if (n.credentials) {
            for (const [field, value] of Object.entries(n.credentials)) {
              assert.ok(
                /^\$\{[A-Z_]+\}$/.test(value) || field === 'username',
                `${key}: credential ${field} of ${n.name} holds a literal secret`,
              );
            }
          }
          if (n.type === 'saypro-event-trigger') {
            assert.strictEqual(n.reply, 'durable', `${key}: trigger reply mode`);
            assert.strictEqual(n.ackTimeout, 10, `${key}: trigger ackTimeout`);
          }
          if (n.type === 'saypro-http-post')
            assert.notStrictEqual(n.durable, false, `${key}: ${n.name} keeps a durable queue`);
          if (n.type === 'saypro-event-trigger' || n.type === 'http in') {
            assert.ok(!urls.has(n.url) && !otherUrls.has(n.url), `${key}: path ${n.url} is used twice`);
            urls.add(n.url);
          }
          if (n.type === 'saypro-endpoint')
            assert.match(n.baseUrl, /^\$\{[A-Z_]+_(API_)?URL:-https?:\/\/[^}]+\}/, `${key}: base URL ${n.baseUrl}`);
        }
        const about = flow.find((n) => n.type === 'comment');
        assert.ok(about && about.info.length > 200, `${key}: the comment explains the flow`);
        if (flow.some((n) => n.type === 'saypro-event-trigger')) {
          for (const reply of ['`202', '`422', '`503` with `Retry-After`', 'safely queued'])
            assert.ok(about.info.includes(reply), `${key}: the comment explains the reply ${reply}`);
        }
        for (const t of flow.filter((n) => n.type === 'saypro-event-trigger')) {
          assert.ok(
            about.info.includes(`curl -s -X POST http://127.0.0.1:1880${t.url}`),
            `${key}: the comment has a curl line for ${t.url}`,
          );
        }
      }
    });
  });

  describe('20: listing.created → SendGrid email to the seller', function () {
    const f = flows.sendgrid;
    it('POSTs the v3 Mail Send body with the Bearer key and copies X-Message-Id', async function () {
      const event = {
        id: 'evt-20-1',
        type: 'listing.created',
        data: {
          listingId: 'L-1001',
          title: 'Red bicycle',
          price: '149.90',
          currency: 'usd',
          seller: { name: 'Ada Lovelace', email: 'ada@example.com' },
        },
      };
      assert.deepStrictEqual(await postEvent('/saypro/events/listings', event), { id: 'evt-20-1', status: 'accepted' });
      const msg = await shown(nodeId(f, 'debug', 'email accepted by SendGrid'), (m) => m.event.id === 'evt-20-1');

      const sent = sg
        .requestsTo('POST', '/v3/mail/send')
        .filter(
          (r) =>
            r.body &&
            r.body.personalizations &&
            r.body.personalizations[0].custom_args &&
            r.body.personalizations[0].custom_args.event_id === 'evt-20-1',
        );
      assert.strictEqual(sent.length, 1);
      const req = sent[0];
      assert.strictEqual(req.headers.authorization, `Bearer ${sg.apiKey}`);
      assert.strictEqual(req.headers['content-type'], 'application/json; charset=utf-8');
      assert.strictEqual(req.headers['idempotency-key'], 'evt-20-1');
      assert.deepStrictEqual(req.body, {
        personalizations: [
          {
            to: [{ email: 'ada@example.com', name: 'Ada Lovelace' }],
            custom_args: { listing_id: 'L-1001', event_id: 'evt-20-1' },
          },
        ],
        from: { email: SENDGRID_FROM, name: 'SayPro' },
        subject: 'Your listing "Red bicycle" is live on SayPro',
        content: [
          {
            type: 'text/plain',
            value:
              'Hello Ada Lovelace,\n\nyour listing "Red bicycle" (149.90 USD) is now live on SayPro.\n\nListing id: L-1001',
          },
        ],
        categories: ['listing-created'],
      });
      assert.strictEqual(req.status, 202);

      assert.strictEqual(msg.statusCode, 202);
      assert.strictEqual(msg.sendgridMessageId, req.responseHeaders['x-message-id']);
      assert.strictEqual(msg.check.passed, true);
      assert.strictEqual(msg.delivery.attempts, 1);
    });

    it("ignores other listing events and answers 422 with the mapper's reasons for an event without the seller email", async function () {
      const before = sg.requests.length;
      assert.deepStrictEqual(
        await postEvent('/saypro/events/listings', { id: 'evt-20-2', type: 'listing.updated', data: {} }),
        { id: 'evt-20-2', status: 'ignored' },
      );
      const reply = await postEvent(
        '/saypro/events/listings',
        {
          id: 'evt-20-3',
          type: 'listing.created',
          data: { listingId: 'L-1002', title: 'Lamp', price: '5', currency: 'eur', seller: { name: 'Bo' } },
        },
        422,
      );
      assert.strictEqual(reply.id, 'evt-20-3');
      assert.strictEqual(reply.status, 'rejected');
      assert.strictEqual(reply.error.code, 'MAPPING_INVALID');
      assert.deepStrictEqual(
        reply.error.details.map((d) => [d.field, d.reason]),
        [['personalizations[0].to[0].email', 'required value is missing']],
      );
      const msg = await shown(nodeId(f, 'debug', 'invalid or failed'), (m) => m.event.id === 'evt-20-3');
      assert.deepStrictEqual(msg.error, reply.error, 'the reply carries the error the debug pane shows');
      assert.strictEqual(sg.requests.length, before, 'nothing was sent to SendGrid');
      // the sender may send the event again once it is fixed: a refused id is not remembered as a duplicate
      const fixed = {
        id: 'evt-20-3',
        type: 'listing.created',
        data: {
          listingId: 'L-1002',
          title: 'Lamp',
          price: '5',
          currency: 'eur',
          seller: { name: 'Bo', email: 'bo@example.com' },
        },
      };
      assert.deepStrictEqual(await postEvent('/saypro/events/listings', fixed), { id: 'evt-20-3', status: 'accepted' });
      await shown(nodeId(f, 'debug', 'email accepted by SendGrid'), (m) => m.event.id === 'evt-20-3');
    });

    it("answers 202 only once the mail is in the HTTP POST node's queue on disk: the reply comes while SendGrid still holds its answer", async function () {
      const postNode = nodeId(f, 'saypro-http-post', 'POST /v3/mail/send');
      const journal = path.join(nr.userDir, 'saypro-outbox', postNode);
      sg.delayNext(1, 1500, { match: { method: 'POST', path: '/v3/mail/send' } });
      const event = {
        id: 'evt-20-4',
        type: 'listing.created',
        data: {
          listingId: 'L-1003',
          title: 'Desk',
          price: '80',
          currency: 'usd',
          seller: { name: 'Cy', email: 'cy@example.com' },
        },
      };
      assert.deepStrictEqual(await postEvent('/saypro/events/listings', event), { id: 'evt-20-4', status: 'accepted' });
      // at the moment of the 202: the message is in the journal, and SendGrid has not answered
      const onDisk = fs
        .readdirSync(journal)
        .filter((n) => /^seg-\d+\.log$/.test(n))
        .map((n) => fs.readFileSync(path.join(journal, n), 'utf8'))
        .join('');
      assert.ok(onDisk.includes('"id":"evt-20-4"'), 'the event is journaled when the trigger answers 202');
      assert.ok(
        !sg.requests.some((r) => r.headers['idempotency-key'] === 'evt-20-4' && r.status !== undefined),
        'SendGrid has not answered yet',
      );
      const msg = await shown(nodeId(f, 'debug', 'email accepted by SendGrid'), (m) => m.event.id === 'evt-20-4');
      assert.strictEqual(msg.statusCode, 202);
      const sent = sg.requests.filter((r) => r.headers['idempotency-key'] === 'evt-20-4');
      assert.deepStrictEqual(
        sent.map((r) => r.status),
        [202],
      );
    });
  });

  describe('21: user.registered → HubSpot contact and Mailchimp member', function () {
    const f = flows.crm;
    const hubspotDone = () => nodeId(f, 'debug', 'HubSpot contact');
    const mailchimpDone = () => nodeId(f, 'debug', 'Mailchimp member');

    it('creates the contact (201, string properties, Bearer token) and PUTs the member at the MD5 of the lower-case email', async function () {
      const event = {
        id: 'evt-21-1',
        type: 'user.registered',
        data: {
          userId: 'U-501',
          email: 'Grace.Hopper@Example.com',
          firstName: 'Grace',
          lastName: 'Hopper',
          phone: 15550100,
        },
      };
      await postEvent('/saypro/events/users', event);
      const [contact, member] = await Promise.all([
        shown(hubspotDone(), (m) => m.event.id === 'evt-21-1'),
        shown(mailchimpDone(), (m) => m.event.id === 'evt-21-1'),
      ]);

      const hsReq = hs
        .requestsTo('POST', '/crm/v3/objects/contacts')
        .find((r) => r.headers['idempotency-key'] === 'evt-21-1');
      assert.strictEqual(hsReq.headers.authorization, `Bearer ${hs.token}`);
      assert.strictEqual(hsReq.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepStrictEqual(hsReq.body, {
        properties: { email: 'grace.hopper@example.com', firstname: 'Grace', lastname: 'Hopper', phone: '15550100' },
        associations: [],
      });
      assert.strictEqual(hsReq.status, 201);
      assert.strictEqual(contact.statusCode, 201);
      assert.strictEqual(contact.hubspotContactId, hs.findContact('grace.hopper@example.com').id);
      assert.strictEqual(contact.error, undefined);

      const hash = md5('grace.hopper@example.com');
      const mcReq = mc.requests.find((r) => r.headers['idempotency-key'] === 'evt-21-1');
      assert.strictEqual(mcReq.method, 'PUT');
      assert.strictEqual(mcReq.path, `/3.0/lists/${mc.defaultListId}/members/${hash}`);
      assert.strictEqual(mcReq.headers.authorization, 'Basic ' + Buffer.from(`saypro:${mc.apiKey}`).toString('base64'));
      assert.strictEqual(mcReq.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepStrictEqual(mcReq.body, {
        email_address: 'Grace.Hopper@Example.com',
        status_if_new: 'subscribed',
        merge_fields: { FNAME: 'Grace', LNAME: 'Hopper' },
      });
      assert.strictEqual(mcReq.status, 200);
      assert.strictEqual(member.mailchimpMemberId, hash);
      assert.strictEqual(member.mailchimpStatus, 'subscribed');
    });

    it('counts HubSpot 409 "already exists" as success with the existing contact id; Mailchimp updates the member', async function () {
      const existing = hs.addContact({ email: 'katherine@example.com', firstname: 'Katherine' });
      const events = [
        {
          id: 'evt-21-2',
          type: 'user.registered',
          data: { email: 'katherine@example.com', firstName: 'Katherine', lastName: 'Johnson' },
        },
        { id: 'evt-21-3', type: 'user.registered', data: { email: 'Katherine@Example.com', firstName: 'Kathy' } },
      ];
      for (const { id, ...event } of events) {
        await postEvent('/saypro/events/users', { id, ...event });
        const contact = await shown(hubspotDone(), (m) => m.event.id === id);
        const req = hs.requestsTo('POST', '/crm/v3/objects/contacts').find((r) => r.headers['idempotency-key'] === id);
        assert.strictEqual(req.status, 409);
        assert.match(JSON.stringify(req.responseBody), /Contact already exists\. Existing ID: /);
        assert.strictEqual(contact.statusCode, 409);
        assert.strictEqual(contact.check.passed, true);
        assert.strictEqual(contact.hubspotContactId, existing.id);
        assert.strictEqual(contact.error, undefined, 'the 409 leaves no error on the message');
        assert.strictEqual(contact.delivery.attempts, 1, 'a 409 is not retried');
        await shown(mailchimpDone(), (m) => m.event.id === id);
      }
      const members = mc.lists.get(mc.defaultListId).members;
      assert.deepStrictEqual(members.get(md5('katherine@example.com')).merge_fields, {
        FNAME: 'Kathy',
        LNAME: 'Johnson',
      });
      assert.strictEqual(
        mc.requests
          .filter((r) => r.path.endsWith(md5('katherine@example.com')))
          .map((r) => r.status)
          .join(),
        '200,200',
      );
    });

    it('keeps other HubSpot and Mailchimp answers failures (400 for an invalid address)', async function () {
      await postEvent('/saypro/events/users', {
        id: 'evt-21-4',
        type: 'user.registered',
        data: { email: 'not-an-address', firstName: 'X' },
      });
      const failed = nodeId(f, 'debug', 'invalid or failed');
      const a = await shown(
        failed,
        (m) =>
          m.event.id === 'evt-21-4' &&
          m.delivery.endpoint === hs.url &&
          m.error.code === 'HTTP_400' &&
          m.statusCode === 400 &&
          /INVALID_EMAIL/.test(m.error.details[0].bodyExcerpt),
      );
      assert.strictEqual(a.hubspotContactId, undefined);
      const b = await shown(
        failed,
        (m) =>
          m.event.id === 'evt-21-4' &&
          m.delivery.endpoint === mc.url &&
          m.error.code === 'HTTP_400' &&
          /valid email address/.test(m.error.details[0].bodyExcerpt),
      );
      assert.strictEqual(b.statusCode, 400);
      assert.ok(
        !pane.messages.some((m) => (m.id === hubspotDone() || m.id === mailchimpDone()) && m.msg.includes('evt-21-4')),
      );
    });

    it('answers 422 when the event maps for neither delivery: the first mapper that refuses it settles the reply', async function () {
      const before = hs.requests.length + mc.requests.length;
      const reply = await postEvent(
        '/saypro/events/users',
        { id: 'evt-21-5', type: 'user.registered', data: { firstName: 'No', lastName: 'Email' } },
        422,
      );
      assert.strictEqual(reply.status, 'rejected');
      assert.strictEqual(reply.error.code, 'MAPPING_INVALID');
      assert.strictEqual(reply.error.details.length, 1);
      assert.ok(
        ['properties.email', 'email_address'].includes(reply.error.details[0].field),
        JSON.stringify(reply.error),
      );
      assert.strictEqual(reply.error.details[0].reason, 'required value is missing');
      const failed = nodeId(f, 'debug', 'invalid or failed');
      await shown(failed, (m) => m.event.id === 'evt-21-5' && m.error.details[0].field === 'properties.email');
      await shown(failed, (m) => m.event.id === 'evt-21-5' && m.error.details[0].field === 'email_address');
      assert.strictEqual(hs.requests.length + mc.requests.length, before, 'nothing was sent');
    });
  });

  describe('22: payment.completed → Twilio SMS to the buyer', function () {
    const f = flows.twilio;
    const sent = () => nodeId(f, 'debug', 'SMS queued: message sid');
    const event = (id, phone) => ({
      id,
      type: 'payment.completed',
      data: {
        paymentId: 'P-9001',
        amount: '149.90',
        currency: 'usd',
        listing: { id: 'L-1001', title: 'Red bicycle' },
        buyer: { name: 'Alan', phone },
      },
    });

    it('POSTs To/From/Body form-urlencoded with Basic AccountSid:AuthToken and extracts the sid (201)', async function () {
      await postEvent('/saypro/events/payments', event('evt-22-1', '+14155550123'));
      const msg = await shown(sent(), (m) => m.event.id === 'evt-22-1');
      const req = tw.requests.find((r) => r.headers['idempotency-key'] === 'evt-22-1');
      assert.strictEqual(req.method, 'POST');
      assert.strictEqual(req.path, `/2010-04-01/Accounts/${tw.accountSid}/Messages.json`);
      assert.strictEqual(
        req.headers.authorization,
        'Basic ' + Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString('base64'),
      );
      assert.strictEqual(req.headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8');
      const body = 'SayPro: we received your payment of 149.90 USD for "Red bicycle". Reference P-9001. Thank you!';
      assert.strictEqual(
        req.rawBody,
        new URLSearchParams({ To: '+14155550123', From: tw.from, Body: body }).toString(),
      );
      assert.deepStrictEqual(req.body, { To: '+14155550123', From: tw.from, Body: body });
      assert.strictEqual(req.status, 201);
      assert.strictEqual(msg.statusCode, 201);
      assert.match(msg.messageSid, /^SM[0-9a-f]{32}$/);
      assert.strictEqual(msg.messageSid, req.responseBody.sid);
      assert.strictEqual(msg.smsStatus, 'queued');
    });

    it('waits out a 429 with Retry-After and sends again under the same idempotency key', async function () {
      tw.rateLimitNext(1, '1');
      await postEvent('/saypro/events/payments', event('evt-22-2', '+14155550124'));
      const msg = await shown(sent(), (m) => m.event.id === 'evt-22-2', 15000);
      const attempts = tw.requests.filter((r) => r.headers['idempotency-key'] === 'evt-22-2');
      assert.deepStrictEqual(
        attempts.map((r) => r.status),
        [429, 201],
      );
      assert.ok(attempts[1].at - attempts[0].at >= 950, 'waited for Retry-After');
      assert.strictEqual(msg.delivery.attempts, 2);
    });

    it("sends Twilio's 400 for a number that is not E.164 to the failure output at once", async function () {
      await postEvent('/saypro/events/payments', event('evt-22-3', '0155 1234'));
      const msg = await shown(nodeId(f, 'debug', 'invalid or failed'), (m) => m.event.id === 'evt-22-3');
      assert.strictEqual(msg.error.code, 'HTTP_400');
      assert.match(msg.error.details[0].bodyExcerpt, /"code":21211/);
      assert.strictEqual(msg.delivery.attempts, 1);
      assert.strictEqual(msg.messageSid, undefined);
    });
  });

  describe("23: listing.sold → partner as encrypted CSV and XML; 24: the partner's receiving flow", function () {
    const f = flows.partner;
    const reference = () => nodeId(f, 'debug', 'partner reference');
    const sale = (id, orderId) => ({
      id,
      type: 'listing.sold',
      occurredAt: '2024-05-01T10:00:00Z',
      data: {
        orderId,
        listingId: 'L-1001',
        title: 'Oak table, "vintage" & <chairs>',
        price: '249.00',
        currency: 'eur',
        buyer: { name: 'Bo', email: 'bo@example.com' },
      },
    });
    const expectedCsv = (orderId) =>
      `${COLUMNS}\r\n${orderId},L-1001,"Oak table, ""vintage"" & <chairs>",24900,EUR,bo@example.com,2024-05-01T10:00:00.000Z\r\n`;
    const expectedXml = (orderId) =>
      '<?xml version="1.0" encoding="UTF-8"?><orders><order>' +
      `<order_id>${orderId}</order_id><listing_id>L-1001</listing_id><title>Oak table, "vintage" &amp; &lt;chairs&gt;</title>` +
      '<amount_minor>24900</amount_minor><currency>EUR</currency><buyer_email>bo@example.com</buyer_email>' +
      '<sold_at>2024-05-01T10:00:00.000Z</sold_at></order></orders>';

    it('sends the same order as CSV (fixed columns) and XML (orders/order), each in an AES-256-GCM envelope', async function () {
      partner.relay = null;
      await postEvent('/saypro/events/sales', sale('evt-23-1', 'ORD-5001'));
      const answers = [
        await shown(reference(), (m) => m.event.id === 'evt-23-1' && m.format === 'csv'),
        await shown(reference(), (m) => m.event.id === 'evt-23-1' && m.format === 'xml'),
      ];

      const reqs = partner.requests.filter((r) => r.headers['idempotency-key'] === 'evt-23-1');
      assert.deepStrictEqual(reqs.map((r) => `${r.method} ${r.path}`).sort(), ['POST /orders.csv', 'POST /orders.xml']);
      for (const r of reqs) {
        assert.strictEqual(r.headers['content-type'], 'application/json; charset=utf-8');
        assert.strictEqual(r.headers['x-encryption-alg'], 'A256GCM');
        assert.strictEqual(r.headers['x-encryption-kid'], 'partner-k1');
        assert.strictEqual(r.headers.authorization, undefined);
        assert.deepStrictEqual(Object.keys(r.body).sort(), ['alg', 'ct', 'cty', 'iv', 'kid', 'tag', 'v']);
        assert.ok(!r.rawBody.includes('ORD-5001'), 'the order is not readable on the wire');
        assert.strictEqual(r.status, 200);
      }
      const csv = partner.received.find((x) => x.path === '/orders.csv' && x.headers['idempotency-key'] === 'evt-23-1');
      const xml = partner.received.find((x) => x.path === '/orders.xml' && x.headers['idempotency-key'] === 'evt-23-1');
      assert.strictEqual(csv.cty, 'text/csv; charset=utf-8; header=present');
      assert.strictEqual(csv.plaintext, expectedCsv('ORD-5001'));
      assert.ok(csv.bytes.equals(Buffer.from(expectedCsv('ORD-5001'), 'utf8')));
      assert.strictEqual(xml.cty, 'application/xml; charset=utf-8');
      assert.strictEqual(xml.plaintext, expectedXml('ORD-5001'));
      assert.ok(xml.bytes.equals(Buffer.from(expectedXml('ORD-5001'), 'utf8')));

      const refs = reqs.map((r) => r.responseBody.reference).sort();
      assert.deepStrictEqual(answers.map((m) => m.partnerReference).sort(), refs);
      for (const m of answers) assert.strictEqual(m.check.passed, true);
    });

    it('round trip: the receiving flow of example 24 decrypts, reads and checks both files and answers with its reference', async function () {
      partner.relay = nr.base + '/partner'; // the fake checks the bytes, then passes the request on to example 24
      try {
        await postEvent('/saypro/events/sales', sale('evt-23-2', 'ORD-5002'));
        const csv = await shown(reference(), (m) => m.event.id === 'evt-23-2' && m.format === 'csv');
        const xml = await shown(reference(), (m) => m.event.id === 'evt-23-2' && m.format === 'xml');
        assert.strictEqual(csv.partnerReference, 'PO-ORD-5002');
        assert.strictEqual(xml.partnerReference, 'PO-ORD-5002');
        assert.deepStrictEqual(csv.payload, { status: 'success', reference: 'PO-ORD-5002' });
      } finally {
        partner.relay = null;
      }
      assert.strictEqual(partner.received.filter((x) => x.headers['idempotency-key'] === 'evt-23-2').length, 2);
      const order = {
        order_id: 'ORD-5002',
        listing_id: 'L-1001',
        title: 'Oak table, "vintage" & <chairs>',
        amount_minor: '24900',
        currency: 'EUR',
        buyer_email: 'bo@example.com',
        sold_at: '2024-05-01T10:00:00.000Z',
      };
      const received = pane.messages.filter(
        (m) => m.id === nodeId(flows.receiver, 'debug', 'orders received') && m.msg.includes('ORD-5002'),
      );
      assert.strictEqual(received.length, 2);
      for (const m of received) assert.deepStrictEqual(JSON.parse(m.msg), [order]);
    });

    it('24 answers 400 with every reason: a changed byte, missing fields, an unreadable file, another format', async function () {
      const post = async (p, body) => {
        const res = await fetch(nr.base + '/partner' + p, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        return { status: res.status, body: await res.json() };
      };
      const key = partner.keyHex;

      const good = JSON.parse(
        sealEnvelope(expectedCsv('ORD-6001'), key, {
          kid: 'partner-k1',
          cty: 'text/csv; charset=utf-8; header=present',
        }),
      );
      const ct = Buffer.from(good.ct, 'base64');
      ct[5] ^= 1;
      let r = await post('/orders.csv', JSON.stringify({ ...good, ct: ct.toString('base64') }));
      assert.strictEqual(r.status, 400);
      assert.strictEqual(r.body.status, 'error');
      assert.strictEqual(r.body.reasons.length, 1);
      assert.doesNotThrow(
        () => openEnvelope(JSON.stringify(good), Buffer.from(key, 'hex')),
        'the unchanged envelope opens',
      );

      const incomplete = `${COLUMNS}\r\nORD-6002,L-1,Chair,12x,euro,,2024-05-01T10:00:00Z\r\n`;
      r = await post(
        '/orders.csv',
        sealEnvelope(incomplete, key, { kid: 'partner-k1', cty: 'text/csv; charset=utf-8; header=present' }),
      );
      assert.deepStrictEqual(r, {
        status: 400,
        body: {
          status: 'error',
          reasons: [
            'order 1: buyer_email is required',
            'order 1: amount_minor is not a whole number',
            'order 1: currency is not a 3-letter code',
          ],
        },
      });

      const two =
        '<?xml version="1.0"?><orders><order><order_id>A-1</order_id><listing_id>L-1</listing_id><title>T</title><amount_minor>100</amount_minor>' +
        '<currency>USD</currency><buyer_email>a@b.c</buyer_email><sold_at>2024-05-01</sold_at></order><order><order_id>A-2</order_id><listing_id>L-2</listing_id>' +
        '<title>U</title><amount_minor>200</amount_minor><currency>USD</currency><buyer_email>d@e.f</buyer_email><sold_at>2024-05-02</sold_at></order></orders>';
      r = await post(
        '/orders.xml',
        sealEnvelope(two, key, { kid: 'partner-k1', cty: 'application/xml; charset=utf-8' }),
      );
      assert.deepStrictEqual(r, { status: 200, body: { status: 'success', reference: 'PO-A-1+A-2' } });

      r = await post(
        '/orders.xml',
        sealEnvelope('<orders><order>', key, { kid: 'partner-k1', cty: 'application/xml; charset=utf-8' }),
      );
      assert.strictEqual(r.status, 400);
      assert.match(r.body.reasons[0], /^the file cannot be read: /);

      r = await post(
        '/orders.csv',
        sealEnvelope('{"order_id":"x"}', key, { kid: 'partner-k1', cty: 'application/json' }),
      );
      assert.deepStrictEqual(r, {
        status: 400,
        body: { status: 'error', reasons: ['the envelope holds neither CSV nor XML'] },
      });

      r = await post(
        '/orders.csv',
        sealEnvelope(expectedCsv('ORD-6003'), crypto.randomBytes(32).toString('hex'), {
          kid: 'partner-k1',
          cty: 'text/csv',
        }),
      );
      assert.strictEqual(r.status, 400);
    });
  });

  describe('secrets', function () {
    it('no API key, token or encryption key appears in the debug pane or the Node-RED log', function () {
      const secrets = [sg.apiKey, hs.token, mc.apiKey, tw.authToken, partner.keyHex];
      const shownText = JSON.stringify(pane.messages);
      for (const s of secrets) {
        assert.ok(!shownText.includes(s), 'a secret is in the debug pane');
        assert.ok(!nr.output.includes(s), 'a secret is in the Node-RED log');
      }
      assert.ok(!shownText.includes(Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString('base64')));
    });
  });
});
