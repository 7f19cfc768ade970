'use strict';
const assert = require('node:assert');
const http = require('node:http');
const crypto = require('node:crypto');
const helper = require('node-red-node-test-helper');
const { Webhook } = require('standardwebhooks');
const triggerNode = require('../../dist/nodes/event-trigger.js');

helper.init(require.resolve('node-red'));

// The helper hands each load a fresh RED.httpNode app that no server serves.
// We keep the one the node registered its route on and let the helper's own
// server (helper.url()) pass every request to it.
let httpNode;
function trigger(RED) {
  httpNode = RED.httpNode;
  return triggerNode(RED);
}

/** A real HTTP request to helper.url(); resolves with {status, headers, text, json}. */
function request({ method = 'POST', path = '/events', headers = {}, body, chunks, hold = false }) {
  return new Promise((resolve, reject) => {
    const req = http.request(helper.url() + path, { method, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('error', (err) => {
      // a server that answers early and closes may reset the rest of an upload
      if (!req.res) reject(err);
    });
    if (hold) return req.flushHeaders(); // headers only: the server must answer without the body
    if (chunks) {
      for (const c of chunks) req.write(c);
      req.end();
    } else {
      req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    }
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function flowWith(props) {
  return [
    { id: 'tab', type: 'tab' },
    // these tests are about the immediate reply; event-trigger-ack.spec.js covers "durable"
    Object.assign(
      {
        id: 'n1',
        z: 'tab',
        type: 'saypro-event-trigger',
        name: 'trigger',
        reply: 'immediate',
        wires: [['out'], ['bad']],
      },
      props,
    ),
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'bad', z: 'tab', type: 'helper' },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

async function load(props, credentials) {
  await helper.load(trigger, flowWith(props), credentials ? { n1: credentials } : {});
  const received = { out: [], bad: [], caught: [] };
  for (const id of Object.keys(received)) helper.getNode(id).on('input', (msg) => received[id].push(msg));
  return received;
}

/** Resolves once `n` messages arrived in list (the runtime delivers asynchronously). */
function waitFor(list, n = 1) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    (function poll() {
      if (list.length >= n) return resolve(list);
      if (Date.now() - started > 2000) return reject(new Error(`expected ${n} message(s), got ${list.length}`));
      setImmediate(poll);
    })();
  });
}

/** Lets queued deliveries run, so that a test can assert that nothing arrived. */
function settle() {
  return new Promise((resolve) => setTimeout(resolve, 30));
}

function statusCalls(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

function newSecret() {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

function signed(secret, body, { id = 'msg_' + crypto.randomUUID(), date = new Date() } = {}) {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, date, body),
  };
}

describe('saypro-event-trigger node', function () {
  before(async function () {
    await helper.startServer();
    assert.ok(helper._app, 'the helper serves an express app at helper.url()');
    helper._app.use((req, res, next) => (httpNode ? httpNode(req, res, next) : next()));
  });

  after(async function () {
    await helper.stopServer();
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('loads with defaults', async function () {
    await helper.load(trigger, [{ id: 'n1', type: 'saypro-event-trigger', name: 'trigger' }]);
    const n = helper.getNode('n1');
    assert.strictEqual(n.name, 'trigger');
    assert.strictEqual(n.type, 'saypro-event-trigger');
    assert.deepStrictEqual(statusCalls(n).pop(), { fill: 'blue', shape: 'dot', text: 'event-trigger.status.ready' });
  });

  it('settings the dialog refuses (a hand-edited flow) are named in one warning at deploy; defaults are used', async function () {
    await helper.load(
      trigger,
      flowWith({ url: '/events', maxBytes: 'lots', dedupeWindow: '-5', ackTimeout: '1e3', authHeader: 'bad header' }),
    );
    const n = helper.getNode('n1');
    const warnings = n.warn.getCalls().map((c) => String(c.args[0]));
    assert.strictEqual(warnings.length, 1, warnings.join('\n'));
    // (the test helper's RED._ gives the key; the reasons are lib/trigger/settings.ts triggerProblems, below)
    assert.strictEqual(warnings[0], 'event-trigger.errors.settings');
    const { triggerProblems } = require('../../dist/nodes/lib/trigger/settings.js');
    assert.deepStrictEqual(
      triggerProblems({ maxBytes: 'lots', dedupeWindow: '-5', ackTimeout: '1e3', authHeader: 'bad header' }).map(
        (p) => p.field,
      ),
      ['maxBytes', 'dedupeWindow', 'ackTimeout', 'authHeader'],
    );
    // and it still takes events with the defaults
    const res = await request({ path: '/events', body: JSON.stringify({ id: 'e-1', type: 'order.created' }) });
    assert.strictEqual(res.status, 202, res.text);
  });

  it('valid settings: no warning', async function () {
    await helper.load(trigger, flowWith({ url: '/events', maxBytes: '2048', dedupeWindow: '0', ackTimeout: '0.5' }));
    assert.deepStrictEqual(
      helper
        .getNode('n1')
        .warn.getCalls()
        .map((c) => c.args[0]),
      [],
    );
  });

  it('a node without the reply property (an older flow) answers at once, with no token on the message', async function () {
    await helper.load(trigger, [
      { id: 'tab', type: 'tab' },
      { id: 'n1', z: 'tab', type: 'saypro-event-trigger', url: '/events', wires: [['out'], []] },
      { id: 'out', z: 'tab', type: 'helper' },
    ]);
    const out = [];
    helper.getNode('out').on('input', (m) => out.push(m));
    const res = await request({ headers: JSON_HEADERS, body: { id: 'old-1', type: 'x' } });
    assert.strictEqual(res.status, 202);
    assert.deepStrictEqual(res.json, { id: 'old-1', status: 'accepted' });
    const [msg] = await waitFor(out);
    assert.strictEqual(msg._sayproAck, undefined);
  });

  describe('wire input', function () {
    it('emits msg.event and msg.payload = data, keeping other properties', async function () {
      const got = await load({ url: '' });
      helper.getNode('n1').receive({
        payload: { id: 'e1', type: 'listing.created', occurredAt: 1700000000, data: { a: 1 } },
        topic: 't',
      });
      const [msg] = await waitFor(got.out);
      assert.deepStrictEqual(msg.payload, { a: 1 });
      assert.strictEqual(msg.topic, 't');
      assert.strictEqual(msg.event.id, 'e1');
      assert.strictEqual(msg.event.type, 'listing.created');
      assert.strictEqual(msg.event.occurredAt, '2023-11-14T22:13:20.000Z');
      assert.strictEqual(msg.event.source, 'wire');
      assert.ok(!Number.isNaN(Date.parse(msg.event.receivedAt)));
      assert.strictEqual(got.bad.length, 0);
    });

    it('parses a JSON string payload and uses the event source when given', async function () {
      const got = await load({});
      helper.getNode('n1').receive({ payload: JSON.stringify({ type: 'a.b', source: 'crm' }) });
      const [msg] = await waitFor(got.out);
      assert.strictEqual(msg.event.source, 'crm');
      assert.match(msg.event.id, /^[0-9a-f-]{36}$/);
      assert.deepStrictEqual(msg.payload, {});
    });

    it('sends invalid events to output 2 with every problem, and to a Catch node', async function () {
      const got = await load({});
      helper.getNode('n1').receive({ payload: { id: {}, occurredAt: 'later' } });
      const [msg] = await waitFor(got.bad);
      assert.strictEqual(msg.error.code, 'INVALID_EVENT');
      assert.deepStrictEqual(
        msg.error.details.map((d) => d.field),
        ['type', 'id', 'occurredAt'],
      );
      const [caught] = await waitFor(got.caught);
      assert.match(caught.error.message, /invalid event/);
      assert.strictEqual(caught.error.source.id, 'n1');
      await settle();
      assert.strictEqual(got.out.length, 0);
    });

    it('rejects a string payload that is not JSON', async function () {
      const got = await load({});
      helper.getNode('n1').receive({ payload: 'not json' });
      const [msg] = await waitFor(got.bad);
      assert.strictEqual(msg.error.code, 'INVALID_JSON');
      await waitFor(got.caught);
    });

    it('filters by type and counts in the status', async function () {
      const got = await load({ filter: 'listing.created, payment.*' });
      const n = helper.getNode('n1');
      for (const type of [
        'listing.created',
        'listing.deleted',
        'payment.refund.created',
        'user.created',
        'payment.completed',
      ]) {
        n.receive({ payload: { type } });
      }
      await waitFor(got.out, 3);
      await settle();
      assert.deepStrictEqual(
        got.out.map((m) => m.event.type),
        ['listing.created', 'payment.refund.created', 'payment.completed'],
      );
      const last = statusCalls(n).pop();
      assert.strictEqual(last.fill, 'green');
      // accepted always, then only the counts that happened (2 were ignored)
      assert.strictEqual(last.text, 'event-trigger.status.accepted · event-trigger.status.ignored');
    });

    it('drops a repeated id within the window, and not when the window is 0', async function () {
      let got = await load({ dedupeWindow: 600 });
      let n = helper.getNode('n1');
      n.receive({ payload: { id: 'same', type: 't' } });
      n.receive({ payload: { id: 'same', type: 't' } });
      n.receive({ payload: { id: 'other', type: 't' } });
      await waitFor(got.out, 2);
      await settle();
      assert.deepStrictEqual(
        got.out.map((m) => m.event.id),
        ['same', 'other'],
      );
      await helper.unload();

      got = await load({ dedupeWindow: 0 });
      n = helper.getNode('n1');
      n.receive({ payload: { id: 'same', type: 't' } });
      n.receive({ payload: { id: 'same', type: 't' } });
      await waitFor(got.out, 2);
    });
  });

  describe('HTTP endpoint', function () {
    it('answers 202 accepted and emits the event', async function () {
      const got = await load({ url: '/events', method: 'post' });
      assert.deepStrictEqual(statusCalls(helper.getNode('n1')).pop(), {
        fill: 'blue',
        shape: 'dot',
        text: 'event-trigger.status.listening',
      });
      const body = { id: 'evt_1', type: 'listing.created', occurredAt: '2024-05-01T10:00:00Z', data: { listingId: 7 } };
      const res = await request({ headers: JSON_HEADERS, body });
      assert.strictEqual(res.status, 202);
      assert.deepStrictEqual(res.json, { id: 'evt_1', status: 'accepted' });
      const [msg] = await waitFor(got.out);
      assert.deepStrictEqual(msg.payload, { listingId: 7 });
      assert.deepStrictEqual(Object.keys(msg.event).sort(), ['id', 'occurredAt', 'receivedAt', 'source', 'type']);
      assert.strictEqual(msg.event.source, 'http');
      assert.strictEqual(msg.event.occurredAt, '2024-05-01T10:00:00.000Z');
      assert.strictEqual(msg.req, undefined);
      assert.strictEqual(msg.res, undefined);
      assert.strictEqual(msg.headers, undefined);
    });

    it('adds the leading slash to the path and honours PUT', async function () {
      const got = await load({ url: 'hooks/in', method: 'put' });
      const res = await request({ method: 'PUT', path: '/hooks/in', body: { type: 'x' } });
      assert.strictEqual(res.status, 202);
      assert.strictEqual(res.json.status, 'accepted');
      await waitFor(got.out);
      const post = await request({ method: 'POST', path: '/hooks/in', body: { type: 'x' } });
      assert.strictEqual(post.status, 404);
    });

    it('accepts text/plain, +json and a missing content type', async function () {
      const got = await load({ url: '/events' });
      for (const ct of ['text/plain', 'application/cloudevents+json; charset=utf-8', undefined]) {
        const res = await request({ headers: ct ? { 'content-type': ct } : {}, body: { type: 'x' } });
        assert.strictEqual(res.status, 202, String(ct));
      }
      await waitFor(got.out, 3);
    });

    it('answers 202 ignored for a type the filter does not match, and sends nothing', async function () {
      const got = await load({ url: '/events', filter: 'payment.*' });
      const res = await request({ headers: JSON_HEADERS, body: { id: 'x1', type: 'listing.created' } });
      assert.strictEqual(res.status, 202);
      assert.deepStrictEqual(res.json, { id: 'x1', status: 'ignored' });
      const ok = await request({ headers: JSON_HEADERS, body: { id: 'x2', type: 'payment.refund.created' } });
      assert.deepStrictEqual(ok.json, { id: 'x2', status: 'accepted' });
      await waitFor(got.out);
      await settle();
      assert.strictEqual(got.out.length, 1);
      assert.strictEqual(got.bad.length, 0);
    });

    it('answers 202 duplicate for a repeated id', async function () {
      const got = await load({ url: '/events' });
      const body = { id: 'dup-1', type: 'payment.completed' };
      assert.strictEqual((await request({ headers: JSON_HEADERS, body })).json.status, 'accepted');
      const again = await request({ headers: JSON_HEADERS, body });
      assert.strictEqual(again.status, 202);
      assert.deepStrictEqual(again.json, { id: 'dup-1', status: 'duplicate' });
      await settle();
      assert.strictEqual(got.out.length, 1);
    });

    it('answers 400 for malformed JSON and sends the body to output 2 and a Catch node', async function () {
      const got = await load({ url: '/events' });
      const res = await request({ headers: JSON_HEADERS, body: '{"type": "x",' });
      assert.strictEqual(res.status, 400);
      assert.strictEqual(res.json.error.code, 'INVALID_JSON');
      assert.ok(Array.isArray(res.json.error.details));
      const [msg] = await waitFor(got.bad);
      assert.strictEqual(msg.payload, '{"type": "x",');
      assert.strictEqual(msg.error.code, 'INVALID_JSON');
      const [caught] = await waitFor(got.caught);
      assert.strictEqual(caught.error.source.id, 'n1');
    });

    it('answers 400 with every problem for a bad event, and for a body that is not an object', async function () {
      const got = await load({ url: '/events' });
      const res = await request({ headers: JSON_HEADERS, body: { id: [], occurredAt: {}, data: 1 } });
      assert.strictEqual(res.status, 400);
      assert.strictEqual(res.json.error.code, 'INVALID_EVENT');
      assert.deepStrictEqual(
        res.json.error.details.map((d) => d.field),
        ['type', 'id', 'occurredAt'],
      );
      const arr = await request({ headers: JSON_HEADERS, body: [1, 2] });
      assert.strictEqual(arr.status, 400);
      assert.deepStrictEqual(arr.json.error.details, [{ field: 'event', reason: 'must be an object, got an array' }]);
      const badType = await request({ headers: JSON_HEADERS, body: { type: 'no spaces allowed' } });
      assert.strictEqual(badType.status, 400);
      assert.strictEqual(badType.json.error.details[0].field, 'type');
      await waitFor(got.bad, 3);
      await settle();
      assert.strictEqual(got.out.length, 0);
    });

    it('truncates the rejected body to 1 KB on output 2', async function () {
      const got = await load({ url: '/events' });
      const res = await request({ headers: JSON_HEADERS, body: '[' + '1,'.repeat(2000) });
      assert.strictEqual(res.status, 400);
      const [msg] = await waitFor(got.bad);
      assert.strictEqual(msg.payload.length, 1024);
    });

    it('answers 415 for a content type that is not JSON', async function () {
      const got = await load({ url: '/events' });
      const res = await request({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'type=x' });
      assert.strictEqual(res.status, 415);
      assert.strictEqual(res.json.error.code, 'UNSUPPORTED_MEDIA_TYPE');
      await waitFor(got.bad);
    });

    it('answers 413 by Content-Length without waiting for the body', async function () {
      const got = await load({ url: '/events', maxBytes: 100 });
      const res = await request({
        headers: { 'content-type': 'application/json', 'content-length': '2000000' },
        hold: true,
      });
      assert.strictEqual(res.status, 413);
      assert.strictEqual(res.json.error.code, 'PAYLOAD_TOO_LARGE');
      assert.match(res.json.error.details[0].reason, /Content-Length 2000000/);
      const [msg] = await waitFor(got.bad);
      assert.strictEqual(msg.error.code, 'PAYLOAD_TOO_LARGE');
    });

    it('answers 413 for a chunked body that grows past the limit', async function () {
      const got = await load({ url: '/events', maxBytes: 64 });
      const chunk = '{"type":"x","data":"' + 'a'.repeat(40);
      const res = await request({ headers: JSON_HEADERS, chunks: [chunk, 'b'.repeat(40), 'c'.repeat(40) + '"}'] });
      assert.strictEqual(res.status, 413);
      assert.strictEqual(res.json.error.code, 'PAYLOAD_TOO_LARGE');
      assert.match(res.json.error.details[0].reason, /more than the limit of 64 bytes/);
      const [msg] = await waitFor(got.bad);
      assert.ok(msg.payload.length <= 64);
      // a body at the limit still passes
      const fits = JSON.stringify({ type: 'x', data: 'a'.repeat(64 - 22) });
      assert.strictEqual(Buffer.byteLength(fits), 64);
      const ok = await request({ headers: JSON_HEADERS, chunks: [fits.slice(0, 30), fits.slice(30)] });
      assert.strictEqual(ok.status, 202);
    });

    it('removes its route when the node is deleted in a deploy (404 afterwards)', async function () {
      await load({ url: '/gone' });
      assert.strictEqual((await request({ path: '/gone', body: { type: 'x' } })).status, 202);
      const app = httpNode;
      await helper.setFlows(
        [
          { id: 'tab', type: 'tab' },
          { id: 'out', z: 'tab', type: 'helper' },
        ],
        'full',
      );
      const layers = app._router.stack.filter((l) => l.route && l.route.path === '/gone');
      assert.strictEqual(layers.length, 0);
      assert.strictEqual((await request({ path: '/gone', body: { type: 'x' } })).status, 404);
    });

    it('while the flow is stopped its path answers 503 + Retry-After in JSON, never 404; flows started without it: 404', async function () {
      await load({ url: '/paused' });
      const app = httpNode;
      const events = helper._events;
      await helper.unload();
      const res = await request({ path: '/paused', headers: JSON_HEADERS, body: { type: 'x' } });
      assert.strictEqual(res.status, 503);
      assert.strictEqual(res.headers['retry-after'], '5');
      assert.match(res.headers['content-type'], /^application\/json/);
      assert.strictEqual(res.json.error.code, 'NOT_LISTENING');
      // the runtime announces the flows started again, and no node claimed the path
      events.emit('flows:started', { config: {}, type: 'full', diff: {} });
      assert.strictEqual(app._router.stack.filter((l) => l.route && l.route.path === '/paused').length, 0);
      assert.strictEqual((await request({ path: '/paused', body: { type: 'x' } })).status, 404);
    });

    it('a redeployed node takes its path over: no 404 in between, and the route layers never stack up', async function () {
      const got = await load({ url: '/redeploy' });
      const app = httpNode;
      const count = () =>
        app._router.stack.filter((l) => l.route && String(l.route.path).toLowerCase() === '/redeploy').length;
      const before = count();
      assert.strictEqual(before, 2, 'the raw-body marker and the route');
      for (let i = 0; i < 5; i++) {
        await helper.setFlows(flowWith({ url: '/redeploy', name: 'trigger ' + i }), 'full');
        assert.strictEqual(count(), before);
      }
      const res = await request({ path: '/redeploy', headers: JSON_HEADERS, body: { type: 'x', id: 'after' } });
      assert.deepStrictEqual([res.status, res.json], [202, { id: 'after', status: 'accepted' }]);
      assert.strictEqual(got.out.length, 0, 'the old helper nodes are gone');
    });

    it('runs httpNodeMiddleware and uses a raw body it already read', async function () {
      const saved = helper._settings;
      let seen = 0;
      helper.settings({
        httpNodeMiddleware: (req, res, next) => {
          seen++;
          const parts = [];
          req.on('data', (c) => parts.push(c));
          req.on('end', () => {
            req.body = Buffer.concat(parts);
            req._body = true;
            next();
          });
        },
      });
      try {
        const secret = newSecret();
        const got = await load({ url: '/events', auth: 'webhook' }, { webhookSecret: secret });
        const body = '{"type":"x",   "id":"pre-read"}';
        const res = await request({ headers: signed(secret, body), body });
        assert.strictEqual(seen, 1);
        assert.deepStrictEqual(res.json, { id: 'pre-read', status: 'accepted' });
        await waitFor(got.out);
      } finally {
        helper._settings = saved;
      }
    });

    it('never answers 500 for bad input and keeps working after it', async function () {
      const got = await load({ url: '/events' });
      const inputs = [
        '',
        'null',
        '"s"',
        '42',
        '{"type":null}',
        '\u0000',
        '{"__proto__":{"type":"x"}}',
        '{"type":"x","occurredAt":1e400}',
      ];
      for (const body of inputs) {
        const res = await request({ headers: JSON_HEADERS, body });
        assert.strictEqual(res.status, 400, JSON.stringify(body));
      }
      assert.strictEqual((await request({ headers: JSON_HEADERS, body: { type: 'x' } })).status, 202);
      await waitFor(got.out);
    });
  });

  describe('hostile input', function () {
    it('refuses ids that cannot be an idempotency key with 400: NUL, CR/LF, control characters, too long', async function () {
      const got = await load({ url: '/events' });
      for (const id of ['a\u0000b', 'a\r\nInjected: 1', 'tab\there', 'x\ud800', '€'.repeat(30)]) {
        const res = await request({ headers: JSON_HEADERS, body: { type: 'x', id } });
        assert.strictEqual(res.status, 400, JSON.stringify(id));
        assert.strictEqual(res.json.error.code, 'INVALID_EVENT');
        assert.strictEqual(res.json.error.details[0].field, 'id');
      }
      const ok = await request({ headers: JSON_HEADERS, body: { type: 'x', id: 'order-€-1' } });
      assert.deepStrictEqual([ok.status, ok.json], [202, { id: 'order-€-1', status: 'accepted' }]);
      await waitFor(got.out);
      assert.strictEqual(got.out.length, 1);
    });

    it('answers 400 JSON_TOO_DEEP for a body nested 100,000 levels deep, and keeps working', async function () {
      const got = await load({ url: '/events', maxBytes: 2000000 });
      const body = '{"type":"x","data":' + '['.repeat(100000) + ']'.repeat(100000) + '}';
      const res = await request({ headers: JSON_HEADERS, body });
      assert.strictEqual(res.status, 400);
      assert.strictEqual(res.json.error.code, 'JSON_TOO_DEEP');
      assert.match(res.json.error.details[0].reason, /more than 64 levels/);
      assert.strictEqual((await request({ headers: JSON_HEADERS, body: { type: 'x' } })).status, 202);
      await waitFor(got.out);
      await waitFor(got.bad);
    });

    it('answers 408 when the body does not arrive within bodyTimeout', async function () {
      const got = await load({ url: '/events', bodyTimeout: 0.3 });
      const res = await new Promise((resolve, reject) => {
        const req = http.request(
          helper.url() + '/events',
          { method: 'POST', headers: JSON_HEADERS, agent: false },
          (r) => {
            const parts = [];
            r.on('data', (c) => parts.push(c));
            r.on('end', () =>
              resolve({
                status: r.statusCode,
                json: JSON.parse(Buffer.concat(parts).toString()),
                closed: new Promise((done) => (req.socket.destroyed ? done() : req.socket.once('close', done))),
              }),
            );
          },
        );
        req.on('error', (err) => {
          if (!req.res) reject(err);
        });
        req.write('{"type":'); // and nothing more
      });
      assert.strictEqual(res.status, 408);
      assert.strictEqual(res.json.error.code, 'REQUEST_TIMEOUT');
      await res.closed; // the server closes the connection (after a moment to drop what still comes)
      await waitFor(got.bad);
      assert.strictEqual(got.bad[0].payload, '{"type":');
    });
  });

  describe('shared secret', function () {
    it('accepts the right header value and refuses a wrong or missing one with 401', async function () {
      const got = await load(
        { url: '/events', auth: 'secret', authHeader: 'X-Hook-Token' },
        { secret: 's3cret-value' },
      );
      const ok = await request({ headers: { ...JSON_HEADERS, 'x-hook-token': 's3cret-value' }, body: { type: 'x' } });
      assert.strictEqual(ok.status, 202);
      const wrong = await request({
        headers: { ...JSON_HEADERS, 'x-hook-token': 's3cret-valuf' },
        body: { type: 'x' },
      });
      assert.strictEqual(wrong.status, 401);
      assert.strictEqual(wrong.json.error.code, 'UNAUTHORIZED');
      const missing = await request({ headers: JSON_HEADERS, body: { type: 'x' } });
      assert.strictEqual(missing.status, 401);
      const defaultHeader = await request({
        headers: { ...JSON_HEADERS, 'x-webhook-secret': 's3cret-value' },
        body: { type: 'x' },
      });
      assert.strictEqual(defaultHeader.status, 401, 'only the configured header counts');
      await waitFor(got.bad, 3);
      await settle();
      assert.strictEqual(got.out.length, 1);
      for (const m of got.bad) {
        assert.ok(!JSON.stringify(m).includes('s3cret'), 'no secret on the rejected message');
      }
    });

    it('reads a ${VAR} credential from the environment', async function () {
      process.env.SAYPRO_TEST_EVENT_SECRET = 'from-env';
      try {
        await load({ url: '/events', auth: 'secret' }, { secret: '${SAYPRO_TEST_EVENT_SECRET}' });
        const ok = await request({ headers: { ...JSON_HEADERS, 'x-webhook-secret': 'from-env' }, body: { type: 'x' } });
        assert.strictEqual(ok.status, 202);
        const literal = await request({
          headers: { ...JSON_HEADERS, 'x-webhook-secret': '${SAYPRO_TEST_EVENT_SECRET}' },
          body: { type: 'x' },
        });
        assert.strictEqual(literal.status, 401);
      } finally {
        delete process.env.SAYPRO_TEST_EVENT_SECRET;
      }
    });

    it('without a secret: red ring, one error at start, every request 401', async function () {
      const got = await load({ url: '/events', auth: 'secret' });
      const n = helper.getNode('n1');
      assert.deepStrictEqual(statusCalls(n).pop(), {
        fill: 'red',
        shape: 'ring',
        text: 'event-trigger.status.auth-missing',
      });
      const errors = n.error
        .getCalls()
        .filter((c) => c.thisValue === n && c.args[0] === 'event-trigger.errors.auth-missing');
      assert.strictEqual(errors.length, 1);
      for (const headers of [
        JSON_HEADERS,
        { ...JSON_HEADERS, 'x-webhook-secret': '' },
        { ...JSON_HEADERS, 'x-webhook-secret': 'anything' },
      ]) {
        const res = await request({ headers, body: { type: 'x' } });
        assert.strictEqual(res.status, 401);
      }
      await settle();
      assert.strictEqual(got.out.length, 0);
      assert.deepStrictEqual(statusCalls(n).pop().fill, 'red');
    });

    it('with an unset ${VAR} credential: red ring and 401', async function () {
      delete process.env.SAYPRO_TEST_UNSET_SECRET;
      await load({ url: '/events', auth: 'webhook' }, { webhookSecret: '${SAYPRO_TEST_UNSET_SECRET}' });
      assert.strictEqual(statusCalls(helper.getNode('n1')).pop().fill, 'red');
      assert.strictEqual((await request({ headers: JSON_HEADERS, body: { type: 'x' } })).status, 401);
    });
  });

  describe('Standard Webhooks', function () {
    const secret = newSecret();

    it('accepts a request signed by the standardwebhooks package, using webhook-id as the id', async function () {
      const got = await load({ url: '/events', auth: 'webhook' }, { webhookSecret: secret });
      const body = '{"type":"payment.completed",  "data":{"amount":12.5}}';
      const res = await request({ headers: signed(secret, body, { id: 'msg_abc' }), body });
      assert.strictEqual(res.status, 202);
      assert.deepStrictEqual(res.json, { id: 'msg_abc', status: 'accepted' });
      const [msg] = await waitFor(got.out);
      assert.strictEqual(msg.event.id, 'msg_abc');
      assert.deepStrictEqual(msg.payload, { amount: 12.5 });
      // a redelivery of the same webhook message is a duplicate
      const again = await request({ headers: signed(secret, body, { id: 'msg_abc' }), body });
      assert.deepStrictEqual(again.json, { id: 'msg_abc', status: 'duplicate' });
    });

    it('delivers a replayed signed request once, even with the dedupe window at 0', async function () {
      const secret = newSecret();
      const got = await load({ url: '/events', auth: 'webhook', dedupeWindow: 0 }, { webhookSecret: secret });
      const body = JSON.stringify({ type: 'x' });
      const headers = signed(secret, body, { id: 'msg_replayed' });
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await request({ headers, body }));
      assert.deepStrictEqual(
        replies.map((r) => [r.status, r.json.status]),
        [
          [202, 'accepted'],
          [202, 'duplicate'],
          [202, 'duplicate'],
        ],
      );
      await waitFor(got.out);
      await settle();
      assert.strictEqual(got.out.length, 1);
    });

    it('refuses a wrong secret, a tampered body, an old timestamp and missing headers with 401', async function () {
      const got = await load({ url: '/events', auth: 'webhook' }, { webhookSecret: secret });
      const body = '{"type":"payment.completed","data":{"amount":12.5}}';
      const cases = [
        ['wrong secret', signed(newSecret(), body), body],
        ['tampered body', signed(secret, body), body.replace('12.5', '99.5')],
        ['old timestamp', signed(secret, body, { date: new Date(Date.now() - 10 * 60 * 1000) }), body],
        ['future timestamp', signed(secret, body, { date: new Date(Date.now() + 10 * 60 * 1000) }), body],
        ['no signature', JSON_HEADERS, body],
      ];
      for (const [name, headers, sent] of cases) {
        const res = await request({ headers, body: sent });
        assert.strictEqual(res.status, 401, name);
        assert.strictEqual(res.json.error.code, 'UNAUTHORIZED', name);
      }
      await waitFor(got.bad, cases.length);
      await settle();
      assert.strictEqual(got.out.length, 0);
      assert.ok(got.bad.every((m) => m.error.code === 'UNAUTHORIZED'));
      assert.ok(got.caught.length >= 1);
    });
  });
  describe('mounted under a root app whose JSON body parser runs first (Node-RED with default settings)', function () {
    // what the editor's bodyParser.json() does: read the body unless req._body says it was read
    function editorJsonParser(req, res, next) {
      if (req._body) return next();
      const parts = [];
      req.on('data', (c) => parts.push(c));
      req.on('end', () => {
        req._body = true;
        try {
          req.body = JSON.parse(Buffer.concat(parts).toString('utf8'));
        } catch {
          res.statusCode = 400;
          res.end('<!DOCTYPE html><html><body><pre>SyntaxError</pre></body></html>');
          return;
        }
        next();
      });
    }
    const mounted = [];
    function mountedTrigger(RED) {
      httpNode = null; // requests reach RED.httpNode through the mount only
      helper._app.use('/mounted', editorJsonParser, RED.httpNode);
      mounted.push(RED.httpNode);
      return triggerNode(RED);
    }
    const rootLayers = (path) => helper._app._router.stack.filter((l) => l.route && l.route.path === path).length;

    after(function () {
      // leave the shared test app as it was
      const stack = helper._app._router.stack;
      for (let i = stack.length - 1; i >= 0; i--) {
        if (stack[i].route && stack[i].route.path === '/mounted/events') stack.splice(i, 1);
        else if (stack[i].name === 'mounted_app' || stack[i].handle === editorJsonParser) stack.splice(i, 1);
      }
    });

    it('verifies the exact bytes, answers malformed JSON itself, and redeploys add no layers', async function () {
      const secret = newSecret();
      const props = { url: '/events', auth: 'webhook' };
      await helper.load(mountedTrigger, flowWith(props), { n1: { webhookSecret: secret } });
      const app = mounted[mounted.length - 1];
      assert.strictEqual(
        rootLayers('/mounted/events'),
        1,
        'the raw-body marker sits on the root app, with httpNodeRoot',
      );
      const marker = helper._app._router.stack.findIndex((l) => l.route && l.route.path === '/mounted/events');
      const mount = helper._app._router.stack.findIndex((l) => l.handle === editorJsonParser);
      assert.ok(marker < mount, 'the marker runs before the parser');

      const body = '{ "type": "x",\n  "id": "exact-bytes" }';
      const ok = await request({ path: '/mounted/events', headers: signed(secret, body), body });
      assert.deepStrictEqual([ok.status, ok.json], [202, { id: 'exact-bytes', status: 'accepted' }]);
      const bad = '{"type": "x",';
      const res = await request({ path: '/mounted/events', headers: signed(secret, bad), body: bad });
      assert.strictEqual(res.status, 400);
      assert.strictEqual(res.json.error.code, 'INVALID_JSON');

      for (let i = 0; i < 3; i++)
        await helper.setFlows(flowWith({ ...props, name: 'again ' + i }), 'full', { n1: { webhookSecret: secret } });
      assert.strictEqual(rootLayers('/mounted/events'), 1);
      assert.strictEqual(app._router.stack.filter((l) => l.route && l.route.path === '/events').length, 1);
      const again = '{"type":"x","id":"after-redeploys"}';
      const res2 = await request({ path: '/mounted/events', headers: signed(secret, again), body: again });
      assert.deepStrictEqual([res2.status, res2.json], [202, { id: 'after-redeploys', status: 'accepted' }]);

      // deleted: both layers go
      await helper.setFlows([{ id: 'tab', type: 'tab' }], 'full');
      assert.strictEqual(rootLayers('/mounted/events'), 0);
      assert.strictEqual(app._router.stack.filter((l) => l.route && l.route.path === '/events').length, 0);
    });
  });
});
