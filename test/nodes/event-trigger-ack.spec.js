'use strict';
// The event trigger's "durable" reply: the HTTP answer waits until a node of
// the flow settles the event (lib/acks.js), so that a 2xx is only given for
// an event that is safe.
const assert = require('node:assert');
const http = require('node:http');
const helper = require('node-red-node-test-helper');
const triggerNode = require('../../dist/nodes/event-trigger.js');
const mapperNode = require('../../dist/nodes/field-mapper.js');
const acks = require('../../dist/nodes/lib/acks.js');

helper.init(require.resolve('node-red'));

// The helper hands each load a fresh RED.httpNode app; the helper's server passes requests to it.
// RED._ returns the key under the helper; i18n records the parameters too (e.g. the waiting count).
let httpNode;
let i18n = [];
function trigger(RED) {
  httpNode = RED.httpNode;
  const translate = RED._;
  RED._ = function (key, params) {
    i18n.push([key, params]);
    return translate.apply(this, arguments);
  };
  return triggerNode(RED);
}

/** A real HTTP request; resolves with {status, headers, json}. `answered` tells whether it has. */
function post(body, path = '/events') {
  const state = { answered: false };
  state.reply = new Promise((resolve, reject) => {
    const req = http.request(
      helper.url() + path,
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
      (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () => {
          state.answered = true;
          const text = Buffer.concat(parts).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, json });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  return state;
}

function flow(props, extra = [], wires = [['out'], ['bad']]) {
  return [
    { id: 'tab', type: 'tab' },
    Object.assign(
      { id: 'n1', z: 'tab', type: 'saypro-event-trigger', url: '/events', reply: 'durable', ackTimeout: 10, wires },
      props,
    ),
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'bad', z: 'tab', type: 'helper' },
    ...extra,
  ];
}

async function load(props, extra, wires, nodes = [trigger]) {
  await helper.load(nodes, flow(props, extra, wires));
  const got = {};
  for (const id of ['out', 'bad', 'mapped', 'invalid']) {
    got[id] = [];
    const n = helper.getNode(id);
    if (n) n.on('input', (msg) => got[id].push(msg));
  }
  return got;
}

function waitFor(list, n = 1) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    (function poll() {
      if (list.length >= n) return resolve(list);
      if (Date.now() - started > 3000) return reject(new Error(`expected ${n} message(s), got ${list.length}`));
      setImmediate(poll);
    })();
  });
}

/** Lets queued deliveries and replies run, so that a test can assert that nothing happened. */
function pause(ms = 50) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function statusTexts(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0].text);
}

describe('saypro-event-trigger node: durable replies', function () {
  before(async function () {
    await helper.startServer();
    helper._app.use((req, res, next) => (httpNode ? httpNode(req, res, next) : next()));
  });

  after(async function () {
    await helper.stopServer();
  });

  beforeEach(function () {
    i18n = [];
  });

  afterEach(async function () {
    await helper.unload();
  });

  it('answers 202 only once the event is settled ok, and counts it accepted', async function () {
    const got = await load({});
    const n1 = helper.getNode('n1');
    const pending = acks.pendingSettlements();
    const r = post({ id: 'd-1', type: 'listing.created', data: { a: 1 } });
    const [msg] = await waitFor(got.out);
    assert.strictEqual(typeof msg._sayproAck, 'string');
    assert.ok(msg._sayproAck.length >= 16, 'a random token');
    assert.deepStrictEqual(msg.payload, { a: 1 });
    assert.strictEqual(msg.event.id, 'd-1');
    assert.strictEqual(acks.pendingSettlements(), pending + 1, 'registered before the message left');
    await pause();
    assert.strictEqual(r.answered, false, 'no reply before the settlement');
    assert.strictEqual(statusTexts(n1).pop(), 'event-trigger.status.waiting · event-trigger.status.accepted');

    assert.strictEqual(acks.settle(msg, { ok: true }), true);
    const res = await r.reply;
    assert.strictEqual(res.status, 202);
    assert.deepStrictEqual(res.json, { id: 'd-1', status: 'accepted' });
    assert.strictEqual(res.headers['retry-after'], undefined);
    assert.strictEqual(acks.pendingSettlements(), pending);
    assert.strictEqual(statusTexts(n1).pop(), 'event-trigger.status.accepted');
    const counted = n1.status
      .getCalls()
      .filter((c) => c.thisValue === n1)
      .pop().args[0];
    assert.strictEqual(counted.fill, 'green');
  });

  it('answers 422 with the error of a real field mapper that refuses the event', async function () {
    const rules = [
      { target: 'email', sourceType: 'msg', source: 'payload.email', type: 'string', default: '', required: true },
      { target: 'eventId', sourceType: 'msg', source: 'event.id', type: 'auto', default: '', required: true },
    ];
    const extra = [
      { id: 'm1', z: 'tab', type: 'saypro-field-mapper', rules, wires: [['mapped'], ['invalid']] },
      { id: 'mapped', z: 'tab', type: 'helper' },
      { id: 'invalid', z: 'tab', type: 'helper' },
    ];
    const got = await load({}, extra, [['m1'], ['bad']], [trigger, mapperNode]);
    const res = await post({ id: 'd-422', type: 'user.created', data: { name: 'no email' } }).reply;
    assert.strictEqual(res.status, 422);
    assert.strictEqual(res.json.id, 'd-422');
    assert.strictEqual(res.json.status, 'rejected');
    assert.strictEqual(res.json.error.code, 'MAPPING_INVALID');
    assert.ok(
      res.json.error.details.some((d) => d.field === 'email'),
      JSON.stringify(res.json.error),
    );
    const [refused] = await waitFor(got.invalid);
    assert.deepStrictEqual(res.json.error, refused.error, "the mapper's own error");
    assert.strictEqual(got.mapped.length, 0);
    assert.match(statusTexts(helper.getNode('n1')).pop(), /event-trigger\.status\.refused/);

    // a retry of the same id is processed again, not dropped as a duplicate
    const valid = await post({ id: 'd-422', type: 'user.created', data: { email: 'a@b.c' } });
    const [mapped] = await waitFor(got.mapped);
    assert.deepStrictEqual(mapped.payload, { email: 'a@b.c', eventId: 'd-422' });
    acks.settle(mapped, { ok: true });
    assert.deepStrictEqual((await valid.reply).json, { id: 'd-422', status: 'accepted' });
  });

  it('answers 503 busy with Retry-After when the queue refuses, and hears the retry again', async function () {
    const got = await load({});
    const r = post({ id: 'd-503', type: 't' });
    const [msg] = await waitFor(got.out);
    const error = { code: 'QUEUE_FULL', message: 'the outbox is full', details: [] };
    acks.settle(msg, { ok: false, status: 503, retryAfterSeconds: 30, error });
    const res = await r.reply;
    assert.strictEqual(res.status, 503);
    assert.strictEqual(res.headers['retry-after'], '30');
    assert.deepStrictEqual(res.json, { id: 'd-503', status: 'busy', error });
    assert.match(statusTexts(helper.getNode('n1')).pop(), /event-trigger\.status\.busy/);

    const retry = post({ id: 'd-503', type: 't' });
    await waitFor(got.out, 2);
    assert.notStrictEqual(got.out[1]._sayproAck, msg._sayproAck, 'a new token for the new attempt');
    acks.settle(got.out[1], { ok: true });
    assert.strictEqual((await retry.reply).status, 202);

    // after a 2xx the id is a duplicate
    const again = await post({ id: 'd-503', type: 't' }).reply;
    assert.strictEqual(again.status, 202);
    assert.deepStrictEqual(again.json, { id: 'd-503', status: 'duplicate' });
    await pause();
    assert.strictEqual(got.out.length, 2);
  });

  it('passes another status through (500 failed)', async function () {
    const got = await load({});
    const r = post({ id: 'd-500', type: 't' });
    const [msg] = await waitFor(got.out);
    acks.settle(msg, { ok: false, status: 500, error: { code: 'INTERNAL_ERROR', message: 'oops', details: [] } });
    const res = await r.reply;
    assert.strictEqual(res.status, 500);
    assert.strictEqual(res.json.status, 'failed');
    assert.strictEqual(res.json.error.code, 'INTERNAL_ERROR');
  });

  it('answers 503 ACK_TIMEOUT when nothing settles within ackTimeout, warns once, and hears the retry', async function () {
    const got = await load({ ackTimeout: '0.2' });
    const n1 = helper.getNode('n1');
    const pending = acks.pendingSettlements();
    const first = await post({ id: 'd-timeout', type: 't' }).reply;
    assert.strictEqual(first.status, 503);
    assert.strictEqual(first.headers['retry-after'], '5');
    assert.deepStrictEqual(first.json, {
      id: 'd-timeout',
      status: 'pending',
      error: { code: 'ACK_TIMEOUT', message: 'the event was not confirmed durable within 0.2 s', details: [] },
    });
    assert.strictEqual(acks.pendingSettlements(), pending, 'the token is gone');
    const second = await post({ id: 'd-timeout', type: 't' }).reply;
    assert.strictEqual(second.status, 503, 'processed again, not a duplicate');
    assert.strictEqual(got.out.length, 2);
    const warnings = n1.warn
      .getCalls()
      .filter((c) => c.thisValue === n1 && c.args[0] === 'event-trigger.errors.ack-timeout');
    assert.strictEqual(warnings.length, 1, 'one warning per node');
    assert.match(statusTexts(n1).pop(), /event-trigger\.status\.unconfirmed/);
    // a late settlement changes nothing
    assert.strictEqual(acks.settle(got.out[0], { ok: true }), false);
  });

  it('two concurrent posts of one id: one message, the same reply for both', async function () {
    const got = await load({});
    const a = post({ id: 'd-same', type: 't' });
    const b = post({ id: 'd-same', type: 't' });
    await waitFor(got.out);
    await pause();
    assert.strictEqual(got.out.length, 1, 'emitted once');
    assert.strictEqual(a.answered || b.answered, false);
    acks.settle(got.out[0], {
      ok: false,
      status: 503,
      retryAfterSeconds: 4,
      error: { code: 'QUEUE_FULL', message: 'full', details: [] },
    });
    const [ra, rb] = await Promise.all([a.reply, b.reply]);
    assert.strictEqual(ra.status, 503);
    assert.deepStrictEqual(
      [rb.status, rb.headers['retry-after'], rb.json],
      [ra.status, ra.headers['retry-after'], ra.json],
    );

    // again both at once, now confirmed: both 202 accepted, one message
    const c = post({ id: 'd-same', type: 't' });
    const d = post({ id: 'd-same', type: 't' });
    await waitFor(got.out, 2);
    await pause();
    assert.strictEqual(got.out.length, 2);
    acks.settle(got.out[1], { ok: true });
    const [rc, rd] = await Promise.all([c.reply, d.reply]);
    assert.deepStrictEqual(rc.json, { id: 'd-same', status: 'accepted' });
    assert.deepStrictEqual(rd.json, { id: 'd-same', status: 'accepted' });
  });

  it('with dedupe off, a repeated id is emitted each time with its own token', async function () {
    const got = await load({ dedupeWindow: 0 });
    const a = post({ id: 'd-nodedupe', type: 't' });
    const b = post({ id: 'd-nodedupe', type: 't' });
    await waitFor(got.out, 2);
    assert.notStrictEqual(got.out[0]._sayproAck, got.out[1]._sayproAck);
    for (const m of got.out) acks.settle(m, { ok: true });
    assert.strictEqual((await a.reply).status, 202);
    assert.strictEqual((await b.reply).status, 202);
  });

  it('shows how many events wait', async function () {
    const got = await load({});
    const n1 = helper.getNode('n1');
    const a = post({ id: 'w-1', type: 't' });
    const b = post({ id: 'w-2', type: 't' });
    await waitFor(got.out, 2);
    assert.strictEqual(statusTexts(n1).pop(), 'event-trigger.status.waiting · event-trigger.status.accepted');
    const counts = i18n.filter(([key]) => key === 'event-trigger.status.waiting').map(([, p]) => p.count);
    assert.deepStrictEqual(counts, [1, 2]);
    acks.settle(got.out[0], { ok: true });
    assert.strictEqual((await a.reply).status, 202);
    acks.settle(got.out[1], {
      ok: false,
      status: 422,
      error: { code: 'MAPPING_INVALID', message: 'bad', details: [] },
    });
    assert.strictEqual((await b.reply).status, 422);
    assert.strictEqual(statusTexts(n1).pop(), 'event-trigger.status.accepted · event-trigger.status.refused');
    const last = (key) => i18n.filter(([k]) => k === key).pop()[1].count;
    assert.deepStrictEqual([last('event-trigger.status.accepted'), last('event-trigger.status.refused')], [1, 1]);
  });

  it('answers waiting requests 503 + Retry-After when the flow stops and nothing settles them by their ack timeout, and cancels their settlements', async function () {
    const got = await load({ ackTimeout: 2 });
    const pending = acks.pendingSettlements();
    const r = post({ id: 'd-close', type: 't' });
    const [msg] = await waitFor(got.out);
    assert.strictEqual(acks.pendingSettlements(), pending + 1);
    await helper.unload();
    const res = await r.reply;
    assert.strictEqual(res.status, 503);
    assert.strictEqual(res.headers['retry-after'], '5');
    assert.strictEqual(res.json.status, 'pending');
    assert.strictEqual(res.json.error.code, 'SHUTTING_DOWN');
    assert.strictEqual(acks.pendingSettlements(), pending);
    assert.strictEqual(acks.settle(msg, { ok: true }), false);
  });

  it('an event settled ok while the flow stops is still answered 202 (it is journaled), even without an id', async function () {
    const got = await load({});
    const r = post({ type: 't' });
    const [msg] = await waitFor(got.out);
    const stopping = helper.unload();
    // the HTTP POST node finishes its journal write during the stop and settles the event
    setTimeout(() => acks.settle(msg, { ok: true }), 100);
    await stopping;
    const res = await r.reply;
    assert.deepStrictEqual([res.status, res.json], [202, { id: msg.event.id, status: 'accepted' }]);
  });

  it('ignored types and the wire input do not wait; the wire carries no token', async function () {
    const got = await load({ filter: 'payment.*' });
    const ignored = await post({ id: 'i-1', type: 'listing.created' }).reply;
    assert.deepStrictEqual([ignored.status, ignored.json], [202, { id: 'i-1', status: 'ignored' }]);
    helper.getNode('n1').receive({ payload: { id: 'wire-1', type: 'payment.completed' } });
    const [msg] = await waitFor(got.out);
    assert.strictEqual(msg.event.source, 'wire');
    assert.strictEqual(msg._sayproAck, undefined);
  });
});
