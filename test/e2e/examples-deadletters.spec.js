'use strict';
/**
 * Example 25 (dead letters → alert email, list / replay / purge) imported as it
 * ships into a real Node-RED process, against the fake partner webhook
 * (test/fakes/partner.js, POST /events with X-API-Key) and the fake SendGrid.
 * The partner refuses some events with a 400: each becomes a dead letter of
 * the webhook's HTTP POST node, and the rate limit lets exactly one alert
 * email through. The inject nodes are pressed over the admin API
 * (POST /inject/<id>) and their results read from the debug pane (/comms);
 * the outbox admin routes are called as the editor calls them.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const answers = require('../support/openapi-answers');
const { startNodeRed, debugPane, root, startupProblems } = require('../support/nodered');
const { startSendGrid } = require('../fakes/sendgrid');
const { startPartner } = require('../fakes/partner');

const EXAMPLES_DIR = path.join(root, 'examples');
const FILE = '25 Dead letters - alert by email and replay.json';
const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, FILE), 'utf8'));
const URL_PATH = '/saypro/events/webhooks';
const ALERT_EMAIL = 'oncall@saypro.example';
const SENDGRID_FROM = 'alerts@saypro.example';

/** The node of `type` named `name`. */
function node(type, name) {
  const n = flow.find((x) => x.type === type && x.name === name);
  if (!n) throw new Error(`no ${type} named ${JSON.stringify(name)}`);
  return n;
}
const id = (type, name) => node(type, name).id;

const WEBHOOK_POST = id('saypro-http-post', 'POST /events (partner webhook)');
const DEBUG = {
  list: id('debug', 'dead letters: counts and items'),
  dead: id('debug', 'dead letters (failed for good)'),
  delivered: id('debug', 'delivered to the partner'),
  alertSent: id('debug', 'alert sent'),
  alertFailed: id('debug', 'alert not sent'),
  rejected: id('debug', 'rejected or invalid events'),
};
const INJECT = {
  list: id('inject', 'list dead letters'),
  replay: id('inject', 'replay all dead letters'),
  purge: id('inject', 'purge all dead letters'),
};

const listing = (eventId, listingId) => ({
  id: eventId,
  type: 'listing.created',
  occurredAt: '2024-05-01T10:00:00Z',
  data: {
    listingId,
    title: 'Red bicycle',
    price: '149.90',
    currency: 'usd',
    seller: { name: 'Ada', email: 'ada@example.com' },
  },
});

describe('example 25: dead letters → one alert email, list / replay / purge (real Node-RED, fake partner and SendGrid)', function () {
  this.timeout(60000);
  let nr;
  let pane;
  let sg;
  let partner;
  let outputAtStart = '';

  async function postEvent(event, status = 202) {
    const res = await fetch(nr.base + URL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
    });
    const body = await res.json();
    // the event trigger's answers are the ones docs/openapi/saypro-api.json describes
    answers.check({ method: 'POST', url: URL_PATH, status: res.status, headers: res.headers, body });
    assert.strictEqual(res.status, status, JSON.stringify(body));
    return body;
  }

  /** The first debug message of node `nodeId` (from index `from` on) whose msg matches `pred`, parsed. */
  async function shown(nodeId, pred = () => true, from = 0, ms = 10000) {
    const d = await pane.waitFor(
      (m) =>
        m.id === nodeId &&
        pane.messages.indexOf(m) >= from &&
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

  /** Presses an inject node as the editor's button does. */
  async function press(injectId) {
    const res = await fetch(`${nr.base}/inject/${injectId}`, { method: 'POST' });
    assert.strictEqual(res.status, 200, await res.text());
  }

  /** Presses "list dead letters" and resolves with what the debug pane shows: {counts, items}. */
  async function listDeadLetters() {
    const from = pane.messages.length;
    await press(INJECT.list);
    return shown(DEBUG.list, () => true, from);
  }

  /** Resolves once the Node-RED log, from offset `from` on, has a line matching `re` (the commands log what they did). */
  async function logged(re, from, ms = 10000) {
    const deadline = Date.now() + ms;
    while (!re.test(nr.output.slice(from))) {
      if (Date.now() > deadline) throw new Error(`no log line ${re} in:\n${nr.output.slice(from)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function admin(rest = '') {
    const res = await fetch(`${nr.base}/saypro-integration-kit/outbox/${WEBHOOK_POST}${rest}`, {
      headers: { accept: 'application/json' },
    });
    assert.strictEqual(res.status, 200);
    return res.json();
  }

  const webhookRequests = (eventId) =>
    partner.requestsTo('POST', '/events').filter((r) => r.headers['idempotency-key'] === eventId);

  before(async function () {
    [sg, partner] = await Promise.all([startSendGrid(), startPartner()]);
    nr = await startNodeRed({ flow, env: { ...sg.env, SENDGRID_FROM, ALERT_EMAIL, ...partner.env } });
    outputAtStart = nr.output;
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    for (const f of [sg, partner]) if (f) await f.stop();
  });

  // every alert mail met SendGrid's own OpenAPI document
  afterEach(function () {
    if (sg) sg.assertContract();
    answers.assertNone();
  });

  describe('the example file', function () {
    it('loads with no warning or error in the log', function () {
      assert.match(outputAtStart, /Started flows/);
      const problems = startupProblems(outputAtStart);
      assert.deepStrictEqual(problems, []);
    });

    it('follows the conventions: ids 25…, unique across the examples, core and package nodes only, secrets as ${VAR}, a comment that explains', function () {
      const others = fs
        .readdirSync(EXAMPLES_DIR)
        .filter((f) => f.endsWith('.json') && f !== FILE)
        .map((f) => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8')))
        .flat();
      const otherIds = new Set(others.map((n) => n.id));
      const otherUrls = new Set(others.filter((n) => n.url).map((n) => n.url));
      const seen = new Set();
      const core = ['tab', 'comment', 'inject', 'debug', 'delay', 'switch', 'change'];
      for (const n of flow) {
        assert.match(n.id, /^25[0-9a-f]{14}$/, `id ${n.id}`);
        assert.ok(!seen.has(n.id) && !otherIds.has(n.id), `id ${n.id} is used twice`);
        seen.add(n.id);
        assert.ok(core.includes(n.type) || n.type.startsWith('saypro-'), `node type ${n.type}`);
        if (n.z !== undefined) assert.strictEqual(n.z, flow[0].id);
        for (const [field, value] of Object.entries(n.credentials || {}))
          assert.match(value, /^\$\{[A-Z_]+\}$/, `credential ${field} of ${n.name}`);
        for (const w of n.wires || [])
          for (const to of w)
            assert.ok(
              flow.some((x) => x.id === to),
              `${n.name} is wired to a node of the flow`,
            );
      }
      const trigger = node('saypro-event-trigger', 'webhook events');
      assert.strictEqual(trigger.url, URL_PATH);
      assert.ok(!otherUrls.has(trigger.url), 'the trigger path is its own');
      assert.strictEqual(trigger.reply, 'durable');
      assert.strictEqual(trigger.ackTimeout, 10);
      const post = flow.find((n) => n.id === WEBHOOK_POST);
      assert.strictEqual(post.durable, true);
      assert.strictEqual(post.maxAttempts, 3);
      const rate = node('delay', 'at most one alert per 5 minutes');
      assert.deepStrictEqual(
        [rate.pauseType, rate.rate, rate.nbRateUnits, rate.rateUnits, rate.drop],
        ['rate', '1', '5', 'minute', true],
      );
      assert.deepStrictEqual(
        flow.filter((n) => n.type === 'inject' && n.props[0].p === 'command').map((n) => [n.name, n.props[0].v]),
        [
          ['list dead letters', 'list'],
          ['replay all dead letters', 'replay'],
          ['purge all dead letters', 'purge'],
        ],
      );
      for (const n of flow.filter((x) => x.type === 'saypro-endpoint'))
        assert.match(n.baseUrl, /^\$\{[A-Z_]+_(API_)?URL:-https?:\/\/[^}]+\}/);

      const about = flow.find((n) => n.type === 'comment');
      for (const text of [
        `curl -s -X POST http://127.0.0.1:1880${URL_PATH}`,
        'GET /saypro-integration-kit/outbox/<node id>/dead-letters',
        `/saypro-integration-kit/outbox/${WEBHOOK_POST}/dead-letters`,
        '*Replay all*',
        '*Purge all*',
        'Fill in',
        '`ALERT_EMAIL`',
        '`PARTNER_URL`',
        '`PARTNER_API_KEY`',
        '`SENDGRID_API_KEY`',
        '`SENDGRID_FROM`',
        '`202',
        '`422',
        '`503` with `Retry-After`',
      ])
        assert.ok(about.info.includes(text), `the comment mentions ${text}`);
    });
  });

  describe('delivery, dead letters and the alert', function () {
    const refused = ['evt-25-1', 'evt-25-2', 'evt-25-3'];

    it('forwards a listing event as JSON with the API key and the event id as idempotency key; 422 for an event that does not map', async function () {
      assert.deepStrictEqual(await postEvent(listing('evt-25-0', 'L-1000')), { id: 'evt-25-0', status: 'accepted' });
      const msg = await shown(DEBUG.delivered, (m) => m.event.id === 'evt-25-0');
      const [req] = webhookRequests('evt-25-0');
      assert.strictEqual(req.headers['x-api-key'], partner.apiKey);
      assert.strictEqual(req.headers['content-type'], 'application/json; charset=utf-8');
      assert.deepStrictEqual(req.body, {
        id: 'evt-25-0',
        type: 'listing.created',
        occurred_at: '2024-05-01T10:00:00.000Z',
        listing_id: 'L-1000',
        data: {
          listingId: 'L-1000',
          title: 'Red bicycle',
          price: '149.90',
          currency: 'usd',
          seller: { name: 'Ada', email: 'ada@example.com' },
        },
      });
      assert.strictEqual(msg.partnerReference, req.responseBody.reference);

      assert.deepStrictEqual(await postEvent({ id: 'evt-25-x', type: 'user.registered', data: {} }), {
        id: 'evt-25-x',
        status: 'ignored',
      });
      const reply = await postEvent({ id: 'evt-25-bad', type: 'listing.updated', data: { title: 'no id' } }, 422);
      assert.strictEqual(reply.error.code, 'MAPPING_INVALID');
      assert.deepStrictEqual(
        reply.error.details.map((d) => [d.field, d.reason]),
        [['listing_id', 'required value is missing']],
      );
      await shown(DEBUG.rejected, (m) => m.event.id === 'evt-25-bad');
      assert.strictEqual(webhookRequests('evt-25-bad').length, 0);
    });

    it('dead-letters every event the partner refuses with a 400 (output 2), and sends exactly ONE alert email', async function () {
      partner.failNext(refused.length, { status: 400, match: { path: '/events' } });
      for (const [i, eventId] of refused.entries()) {
        // 202: safely queued, although the partner will refuse it
        assert.deepStrictEqual(await postEvent(listing(eventId, `L-10${i + 1}`)), { id: eventId, status: 'accepted' });
      }
      for (const eventId of refused) {
        const dead = await shown(DEBUG.dead, (m) => m.event.id === eventId);
        assert.strictEqual(dead.error.code, 'HTTP_400');
        assert.strictEqual(dead.statusCode, 400);
        assert.deepStrictEqual(dead.responseBody, { status: 'error', reasons: ['bad request'] });
        assert.strictEqual(dead.delivery.attempts, 1, 'a 400 is not retried');
        assert.strictEqual(dead.delivery.idempotencyKey, eventId);
      }
      const alert = await shown(DEBUG.alertSent);
      assert.strictEqual(alert.statusCode, 202);
      assert.ok(refused.includes(alert.event.id));
      assert.strictEqual(alert.deadLetter.error.code, 'HTTP_400', 'the failure travels as msg.deadLetter');
      assert.strictEqual(alert.error, undefined, "and is not mixed up with the mail's own delivery");
      assert.strictEqual(alert.delivery.statusCode, 202);

      assert.strictEqual(sg.mails.length, 1, 'one alert for three dead letters');
      const mail = sg.mails[0].body;
      // custom_args per recipient: SendGrid's top-level custom_args is a string
      assert.deepStrictEqual(mail.personalizations, [
        { to: [{ email: ALERT_EMAIL }], custom_args: { event_id: alert.event.id } },
      ]);
      assert.strictEqual(mail.custom_args, undefined);
      assert.deepStrictEqual(mail.from, { email: SENDGRID_FROM, name: 'SayPro alerts' });
      assert.match(mail.subject, /dead letters/i);
      assert.strictEqual(mail.subject, 'SayPro: dead letters at the partner webhook (HTTP_400)');
      assert.match(mail.content[0].value, new RegExp(`Event: ${alert.event.id} \\(listing\\.created\\)`));
      assert.match(mail.content[0].value, /Error: HTTP_400: /);
      assert.match(mail.content[0].value, /Answer: \{"status":"error","reasons":\["bad request"\]\}/);
      assert.match(mail.content[0].value, /list dead letters/);
      assert.strictEqual(sg.requestsTo('POST', '/v3/mail/send')[0].headers.authorization, `Bearer ${sg.apiKey}`);
      assert.ok(!pane.messages.some((m) => m.id === DEBUG.alertFailed), 'no alert failed');
    });

    it('"list dead letters" shows them in the debug pane with their error codes; the admin routes answer with the counts', async function () {
      const list = await listDeadLetters();
      assert.strictEqual(list.counts.total, 3);
      assert.deepStrictEqual(list.counts.byCode, { HTTP_400: 3 });
      assert.deepStrictEqual(list.items.map((x) => x.id).sort(), refused);
      for (const item of list.items) {
        assert.strictEqual(item.error.code, 'HTTP_400');
        assert.strictEqual(item.attempts, 1);
        assert.deepStrictEqual(
          item.history.map((h) => h.statusCode),
          [400],
        );
        assert.strictEqual(item.data, undefined, 'the list leaves the data out');
      }

      const viaAdmin = await admin('/dead-letters');
      assert.deepStrictEqual(viaAdmin.counts.byCode, { HTTP_400: 3 });
      assert.strictEqual(viaAdmin.counts.total, 3);
      assert.deepStrictEqual(viaAdmin.items.map((x) => x.id).sort(), refused);
      const stats = await admin();
      assert.strictEqual(stats.deadLetters, 3);
      assert.strictEqual(stats.deadLettered, 3);
      assert.strictEqual(stats.depth, 0);
    });

    it('"replay all dead letters" delivers each one again under the same idempotency key and the same body; the list is then empty', async function () {
      const from = pane.messages.length;
      const logFrom = nr.output.length;
      await press(INJECT.replay);
      await logged(/dead letters replayed: 3 queued again, 0 already queued, 0 left/, logFrom);
      for (const eventId of refused) {
        const msg = await shown(DEBUG.delivered, (m) => m.event.id === eventId, from);
        assert.strictEqual(msg.statusCode, 200);
        assert.strictEqual(msg.delivery.idempotencyKey, eventId);
        const reqs = webhookRequests(eventId);
        assert.deepStrictEqual(
          reqs.map((r) => r.status),
          [400, 200],
        );
        assert.deepStrictEqual(
          reqs.map((r) => r.headers['idempotency-key']),
          [eventId, eventId],
          'the same idempotency key as the first time',
        );
        assert.strictEqual(reqs[1].rawBody, reqs[0].rawBody, 'the same body');
        assert.strictEqual(reqs[1].headers['x-api-key'], partner.apiKey);
      }
      assert.deepStrictEqual(
        partner.events
          .map((e) => e.body.id)
          .filter((x) => refused.includes(x))
          .sort(),
        refused,
      );
      const list = await listDeadLetters();
      assert.strictEqual(list.counts.total, 0);
      assert.deepStrictEqual(list.items, []);
      assert.strictEqual((await admin('/dead-letters')).counts.total, 0);
    });

    it('"purge all dead letters" deletes a fresh dead letter for good, without sending it', async function () {
      partner.failNext(1, { status: 400, match: { path: '/events' } });
      await postEvent(listing('evt-25-4', 'L-104'));
      await shown(DEBUG.dead, (m) => m.event.id === 'evt-25-4');
      let list = await listDeadLetters();
      assert.deepStrictEqual(
        list.items.map((x) => [x.id, x.error.code]),
        [['evt-25-4', 'HTTP_400']],
      );
      assert.strictEqual((await admin('/dead-letters')).counts.total, 1);

      const logFrom = nr.output.length;
      await press(INJECT.purge);
      await logged(/1 dead letters purged/, logFrom);
      list = await listDeadLetters();
      assert.strictEqual(list.counts.total, 0);
      assert.deepStrictEqual(list.items, []);
      assert.strictEqual((await admin('/dead-letters')).counts.total, 0);
      assert.strictEqual((await admin()).deadLetters, 0);
      assert.deepStrictEqual(
        webhookRequests('evt-25-4').map((r) => r.status),
        [400],
        'the purged event was not sent again',
      );
    });

    it('sent no second alert within the 5 minutes, and no secret reached the debug pane or the log', function () {
      assert.strictEqual(sg.mails.length, 1);
      assert.strictEqual(pane.messages.filter((m) => m.id === DEBUG.alertSent).length, 1);
      const shownText = JSON.stringify(pane.messages);
      for (const s of [sg.apiKey, partner.apiKey]) {
        assert.ok(!shownText.includes(s), 'a secret is in the debug pane');
        assert.ok(!nr.output.includes(s), 'a secret is in the Node-RED log');
      }
    });
  });
});
