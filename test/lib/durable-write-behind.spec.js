'use strict';
/**
 * The durable queue's write-behind (lib/outbox/durable.ts with fast-lane.ts
 * and durable-step.ts) against a real HTTP server on 127.0.0.1 and a real
 * journal in a temporary directory: a message that finds a slot free goes to
 * its first attempt at once and is written only if that attempt has not
 * delivered it within the window, or failed; the enqueue answers only once
 * the message is delivered or on disk.
 *
 * Timing: a window of 10 s where the test must be inside it, 50 / 100 ms
 * where it must pass; every wait is for a condition, with a generous deadline.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { DurableQueue } = require('../../dist/nodes/lib/outbox/durable.js');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint.js');
const { until } = require('../support/http-post-harness');

/** inside it for the whole test */
const LONG_WINDOW = 10000;
/** passes while an answer is held */
const SHORT_WINDOW = 50;

/** the settings the HTTP POST node hands its queue (settings.ts deliverySettingsOf), with fast retries */
const SETTINGS = {
  maxAttempts: 5,
  initialDelay: 20,
  maxDelay: 50,
  maxRetryAfter: 120,
  idempotencyHeader: 'Idempotency-Key',
  secrets: [],
};

/**
 * A real HTTP server on 127.0.0.1. `answers(n, req)` says what the n-th
 * request (from 1) gets: a status, or 'hold' (kept in `held` until the test
 * releases it). Every request is recorded with its idempotency key.
 */
async function startPartner(answers = () => 200) {
  const p = { requests: [], held: [], answers };
  const reply = (res, status, key) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ key, status }));
  };
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      p.requests.push({ key, url: req.url, body: Buffer.concat(parts).toString() });
      const what = p.answers(p.requests.length, req);
      if (what === 'hold') {
        p.held.push({ key, res, release: (status = 200) => reply(res, status, key) });
      } else {
        reply(res, what, key);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  p.base = `http://127.0.0.1:${server.address().port}`;
  p.keys = () => p.requests.map((r) => r.key);
  p.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return p;
}

/** true when the promise has settled (once the microtasks queued now ran) */
async function isSettled(p) {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** every journal segment under `dir` (queue and dead letters): name, bytes, and whether it holds `text` */
function segments(dir, text) {
  const found = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/^seg-\d+\.log$/.test(e.name)) {
        const content = fs.readFileSync(f);
        found.push({ file: path.relative(dir, f), bytes: content.length, holds: content.includes(text) });
      }
    }
  };
  walk(dir);
  return found;
}
const onDisk = (dir, id) => segments(dir, id).some((s) => s.holds);

describe('lib/outbox/durable: write-behind against a real partner and a real journal', function () {
  this.timeout(60000);
  let partner;
  let endpoint;
  let dir;
  const queues = [];
  let seq = 0;

  afterEach(async function () {
    while (queues.length) await queues.pop().close();
    if (endpoint) endpoint.close();
    endpoint = undefined;
    if (partner) await partner.close();
    partner = undefined;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** the partner, its endpoint and a fresh queue directory */
  async function setup(answers) {
    partner = await startPartner(answers);
    endpoint = new Endpoint({ id: 'e1', config: { baseUrl: partner.base, timeout: '10000' }, env: {} });
    assert.strictEqual(endpoint.setupError, undefined);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-wb-'));
  }

  /** opens a queue on `dir`; what it sends out is collected in `out` */
  async function open(options = {}) {
    /** events: 'delivered' / 'failed' in the order they happened (a test adds its own) */
    const out = { delivered: [], failed: [], warnings: [], events: [] };
    const q = await DurableQueue.open({
      dir,
      endpoint,
      settings: SETTINGS,
      maxItems: 10000,
      maxBytes: 100 * 1024 * 1024,
      fullPolicy: 'refuse',
      maxDeadLetters: 10000,
      writeBehindMs: LONG_WINDOW,
      warn: (text) => out.warnings.push(text),
      onDelivered: (msg) => {
        out.events.push('delivered');
        out.delivered.push(msg);
      },
      onFailed: (msg, error) => {
        out.events.push('failed');
        out.failed.push({ msg, error });
      },
      ...options,
    });
    queues.push(q);
    return { q, out };
  }

  /** closes a queue opened by open() */
  async function close(q) {
    queues.splice(queues.indexOf(q), 1);
    await q.close();
  }

  /** a message as the node hands it over; the id is unique per test run */
  function message(extra = {}) {
    const id = `wb-${process.pid}-${Date.now()}-${++seq}`;
    const msg = { payload: { order: id }, topic: 'orders', _sayproAck: 'reply-token', ...extra };
    const input = {
      id,
      method: null,
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(msg.payload)),
      msg,
      live: {},
    };
    return { id, msg, input };
  }

  it('delivered within the window: the original message goes on with the answer, enqueue answers after it, nothing is written', async function () {
    await setup(() => 200);
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW });
    const { id, msg, input } = message();
    const order = out.events;
    const r = await q.enqueue(input).then((result) => {
      order.push('answered');
      return result;
    });
    assert.deepStrictEqual(r, { status: 'accepted', id, evicted: [] });
    assert.deepStrictEqual(order, ['delivered', 'answered']);
    assert.strictEqual(out.delivered.length, 1);
    assert.strictEqual(out.delivered[0], msg, 'the message object itself, not a restored copy');
    assert.deepStrictEqual(msg.payload, { key: id, status: 200 });
    assert.strictEqual(msg.statusCode, 200);
    assert.strictEqual(msg.delivery.attempts, 1);
    assert.strictEqual(msg.delivery.idempotencyKey, id);
    assert.ok(!('_sayproAck' in msg), 'the reply token does not go on');
    assert.deepStrictEqual(partner.keys(), [id]);
    assert.strictEqual(q.outbox.size, 0);
    assert.strictEqual(q.counters.delivered, 1);
    await close(q);
    const segs = segments(dir, id);
    assert.ok(segs.length > 0, 'the journal has its segment files');
    assert.deepStrictEqual(
      segs.filter((s) => s.holds || s.bytes > 0),
      [],
      'no record at all: neither PUT nor DONE',
    );
  });

  it('held answer, window 10 s: enqueue does not answer, nothing is on disk; released → answered and delivered', async function () {
    await setup(() => 'hold');
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW });
    const { id, msg, input } = message();
    const p = q.enqueue(input);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    // a crash now would lose only a message nobody was told was safe
    assert.strictEqual(await isSettled(p), false, 'enqueue must not answer before delivered or written');
    assert.strictEqual(q.outbox.size, 0);
    assert.strictEqual(onDisk(dir, id), false, 'no segment holds the message');
    assert.strictEqual(q.inFlight, 1);
    partner.held[0].release(200);
    assert.deepStrictEqual(await p, { status: 'accepted', id, evicted: [] });
    assert.strictEqual(out.delivered.length, 1);
    assert.strictEqual(out.delivered[0], msg);
    assert.strictEqual(q.counters.delivered, 1);
    assert.strictEqual(q.outbox.size, 0);
    await close(q);
    assert.strictEqual(onDisk(dir, id), false);
    assert.strictEqual(partner.requests.length, 1);
  });

  it('held answer, window 50 ms: enqueue answers once the message is on disk, while the answer is still held; released → delivered once', async function () {
    await setup(() => 'hold');
    const { q, out } = await open({ writeBehindMs: SHORT_WINDOW });
    const { id, input } = message();
    const p = q.enqueue(input);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    assert.deepStrictEqual(await p, { status: 'accepted', id, evicted: [] });
    assert.strictEqual(partner.held[0].res.writableEnded, false, 'the answer is still held');
    assert.strictEqual(q.outbox.size, 1);
    assert.ok(q.outbox.has(id));
    assert.strictEqual(onDisk(dir, id), true, 'the PUT record is in a segment');
    assert.strictEqual(partner.requests.length, 1, 'written behind its attempt, not sent again');
    assert.strictEqual(out.delivered.length, 0);
    partner.held[0].release(200);
    await until(() => out.delivered.length === 1 && q.outbox.size === 0, 10000, 'not delivered');
    assert.strictEqual(out.delivered[0].delivery.attempts, 1);
    assert.strictEqual(q.counters.delivered, 1);
    await close(q);
    assert.strictEqual(partner.requests.length, 1);
    assert.strictEqual(out.delivered.length, 1);
  });

  it('first attempt 503: written, retried from the journal with the same key, delivered at attempt 2', async function () {
    await setup((n) => (n === 1 ? 'hold' : 200));
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW });
    const { id, input } = message();
    const order = out.events;
    const p = q.enqueue(input);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    assert.strictEqual(q.outbox.size, 0, 'at its first attempt through the lane, unwritten');
    partner.held[0].release(503);
    const r = await p;
    order.push('answered');
    assert.deepStrictEqual(r, { status: 'accepted', id, evicted: [] });
    await until(() => out.delivered.length === 1, 10000, 'not delivered');
    assert.deepStrictEqual(order, ['answered', 'delivered'], 'answered once written, before the retry');
    assert.strictEqual(out.delivered[0].delivery.attempts, 2);
    assert.strictEqual(out.delivered[0].statusCode, 200);
    assert.deepStrictEqual(partner.keys(), [id, id]);
    assert.strictEqual(q.counters.retried, 1);
    assert.strictEqual(q.counters.delivered, 1);
    await until(() => q.outbox.size === 0, 10000, 'still pending');
    await close(q);
    assert.strictEqual(partner.requests.length, 2);
    assert.strictEqual(out.failed.length, 0);
  });

  it('first attempt 400: written, then dead-lettered; enqueue answered accepted', async function () {
    await setup(() => 'hold');
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW });
    const { id, input } = message();
    const p = q.enqueue(input);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    assert.strictEqual(q.outbox.size, 0, 'at its first attempt through the lane, unwritten');
    assert.strictEqual(await isSettled(p), false);
    partner.held[0].release(400);
    assert.deepStrictEqual(await p, { status: 'accepted', id, evicted: [] });
    await until(() => out.failed.length === 1, 10000, 'not dead-lettered');
    assert.strictEqual(out.failed[0].error.code, 'HTTP_400');
    assert.strictEqual(out.failed[0].msg.statusCode, 400);
    assert.strictEqual(q.deadLetter.counts().total, 1);
    assert.ok(q.listDeadLetters().items.some((d) => d.id === id));
    assert.strictEqual(q.counters.deadLettered, 1);
    assert.strictEqual(q.outbox.size, 0);
    await close(q);
    assert.strictEqual(out.failed.length, 1, 'reported once');
    assert.strictEqual(out.delivered.length, 0);
    assert.strictEqual(partner.requests.length, 1, 'a 400 is not retried');
  });

  it('close() during a held attempt inside the window: written, stays pending, the next open delivers it with the same key', async function () {
    await setup((n) => (n === 1 ? 'hold' : n === 2 ? 'hold' : 200));
    const first = await open({ writeBehindMs: LONG_WINDOW });
    const { id, input } = message();
    const p = first.q.enqueue(input);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    assert.strictEqual(first.q.outbox.size, 0);
    await close(first.q);
    assert.deepStrictEqual(await p, { status: 'accepted', id, evicted: [] }, 'answered: it is on disk');
    assert.strictEqual(onDisk(dir, id), true);
    assert.strictEqual(first.out.delivered.length, 0);
    assert.strictEqual(first.out.failed.length, 0);

    const second = await open({ writeBehindMs: LONG_WINDOW });
    assert.strictEqual(second.q.outbox.size, 1, 'found pending on open');
    assert.ok(second.q.outbox.has(id));
    await until(() => partner.held.length === 2, 10000, 'not sent again after the reopen');
    assert.strictEqual(second.q.outbox.size, 1, 'still pending while the answer is held');
    partner.held[1].release(200);
    await until(() => second.out.delivered.length === 1 && second.q.outbox.size === 0, 10000, 'not delivered');
    assert.strictEqual(second.out.delivered[0].delivery.idempotencyKey, id);
    assert.deepStrictEqual(partner.keys(), [id, id], 'the same key both times');
    await close(second.q);
    assert.strictEqual(partner.requests.length, 2);
  });

  it('the same id enqueued again while the first is held: written once, the second is a duplicate, one request', async function () {
    await setup(() => 'hold');
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW });
    const { id, input } = message();
    const p1 = q.enqueue(input);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    assert.strictEqual(q.outbox.size, 0, 'the first is in the lane, unwritten');
    assert.strictEqual(await isSettled(p1), false);
    const again = { ...input, msg: { ...input.msg } };
    assert.deepStrictEqual(await q.enqueue(again), { status: 'duplicate', id });
    assert.deepStrictEqual(await p1, { status: 'accepted', id, evicted: [] }, 'the first was written first');
    assert.strictEqual(q.outbox.size, 1);
    assert.strictEqual(partner.requests.length, 1);
    partner.held[0].release(200);
    await until(() => out.delivered.length === 1 && q.outbox.size === 0, 10000, 'not delivered');
    await close(q);
    assert.strictEqual(partner.requests.length, 1, 'the partner saw one request');
    assert.strictEqual(out.delivered.length, 1);
  });

  it('200 messages at once, 4 slots, window 100 ms: each delivered exactly once, every enqueue accepted, nothing left', async function () {
    await setup(() => 200);
    const { q, out } = await open({ writeBehindMs: 100, maxInFlight: 4 });
    const msgs = Array.from({ length: 200 }, () => message());
    const results = await Promise.all(msgs.map((m) => q.enqueue(m.input)));
    assert.deepStrictEqual(
      results.filter((r) => r.status !== 'accepted'),
      [],
    );
    assert.deepStrictEqual(results.map((r) => r.id).sort(), msgs.map((m) => m.id).sort());
    await until(
      () => out.delivered.length >= 200 && q.outbox.size === 0,
      30000,
      () => {
        return `delivered ${out.delivered.length}, pending ${q.outbox.size}`;
      },
    );
    await close(q);
    const atPartner = new Map();
    for (const k of partner.keys()) atPartner.set(k, (atPartner.get(k) || 0) + 1);
    const delivered = new Map();
    for (const m of out.delivered)
      delivered.set(m.delivery.idempotencyKey, (delivered.get(m.delivery.idempotencyKey) || 0) + 1);
    for (const { id } of msgs) {
      assert.strictEqual(atPartner.get(id), 1, `${id} reached the partner ${atPartner.get(id) || 0} times`);
      assert.strictEqual(delivered.get(id), 1, `${id} was delivered ${delivered.get(id) || 0} times`);
    }
    assert.strictEqual(partner.requests.length, 200);
    assert.strictEqual(out.delivered.length, 200);
    assert.strictEqual(q.counters.delivered, 200);
    assert.strictEqual(out.failed.length, 0);
  });

  it('maxItems 2, policy refuse, answers held: the third is refused at once, the two in the lane are written', async function () {
    await setup(() => 'hold');
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW, maxItems: 2, fullPolicy: 'refuse' });
    const a = message();
    const b = message();
    const c = message();
    const pa = q.enqueue(a.input);
    const pb = q.enqueue(b.input);
    await until(() => partner.held.length === 2, 10000, 'the two requests did not arrive');
    assert.strictEqual(q.outbox.size, 0, 'both still in the lane, unwritten');
    const rc = await q.enqueue(c.input);
    assert.strictEqual(rc.status, 'full');
    assert.strictEqual(rc.id, c.id);
    assert.strictEqual(rc.error.code, 'OUTBOX_FULL');
    assert.strictEqual(partner.held.filter((h) => !h.res.writableEnded).length, 2, 'answers still held');
    assert.strictEqual(q.outbox.size, 2, 'the lane was written before the refusal');
    assert.ok(q.outbox.has(a.id) && q.outbox.has(b.id) && !q.outbox.has(c.id));
    assert.deepStrictEqual(await pa, { status: 'accepted', id: a.id, evicted: [] });
    assert.deepStrictEqual(await pb, { status: 'accepted', id: b.id, evicted: [] });
    assert.strictEqual(q.counters.refused, 1);
    for (const h of partner.held) h.release(200);
    await until(() => out.delivered.length === 2 && q.outbox.size === 0, 10000, 'not delivered');
    await close(q);
    assert.deepStrictEqual(partner.keys().sort(), [a.id, b.id].sort(), 'the refused one was never sent');
  });

  it('not through the lane: a message with an ordering key, and one that finds no slot free, are written before their attempt', async function () {
    await setup(() => 'hold');
    const { q, out } = await open({ writeBehindMs: LONG_WINDOW, maxInFlight: 1 });
    const keyed = message();
    assert.deepStrictEqual(await q.enqueue({ ...keyed.input, orderingKey: 'customer-1' }), {
      status: 'accepted',
      id: keyed.id,
      evicted: [],
    });
    assert.strictEqual(q.outbox.size, 1, 'written before its attempt');
    assert.strictEqual(onDisk(dir, keyed.id), true);
    await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
    // the one slot is taken: the next message waits on disk
    const waiting = message();
    assert.deepStrictEqual(await q.enqueue(waiting.input), { status: 'accepted', id: waiting.id, evicted: [] });
    assert.strictEqual(q.outbox.size, 2);
    assert.strictEqual(partner.requests.length, 1, 'not sent yet: no slot');
    partner.held[0].release(200);
    await until(() => partner.held.length === 2, 10000, 'the second request did not arrive');
    partner.held[1].release(200);
    await until(() => out.delivered.length === 2 && q.outbox.size === 0, 10000, 'not delivered');
    await close(q);
    assert.deepStrictEqual(partner.keys(), [keyed.id, waiting.id]);
  });

  describe('written by the window while the answer is held', function () {
    /** enqueues one message through the lane, holds its answer until the 50 ms window wrote it */
    async function pastTheWindow(answers) {
      await setup(answers);
      const opened = await open({ writeBehindMs: SHORT_WINDOW });
      const m = message();
      const p = opened.q.enqueue(m.input);
      await until(() => partner.held.length === 1, 10000, 'the request did not arrive');
      assert.deepStrictEqual(await p, { status: 'accepted', id: m.id, evicted: [] });
      assert.strictEqual(opened.q.outbox.size, 1);
      return { ...opened, ...m };
    }

    it('then 503: retried with the same key, delivered at attempt 2', async function () {
      const { q, out, id } = await pastTheWindow((n) => (n === 1 ? 'hold' : 200));
      partner.held[0].release(503);
      await until(() => out.delivered.length === 1 && q.outbox.size === 0, 10000, 'not delivered');
      assert.strictEqual(out.delivered[0].delivery.attempts, 2);
      assert.strictEqual(q.counters.retried, 1);
      await close(q);
      assert.deepStrictEqual(partner.keys(), [id, id]);
    });

    it('then 400: dead-lettered once, not retried', async function () {
      const { q, out, id } = await pastTheWindow(() => 'hold');
      partner.held[0].release(400);
      await until(() => out.failed.length === 1 && q.outbox.size === 0, 10000, 'not dead-lettered');
      assert.strictEqual(out.failed[0].error.code, 'HTTP_400');
      assert.strictEqual(q.deadLetter.counts().total, 1);
      await close(q);
      assert.strictEqual(out.failed.length, 1);
      assert.deepStrictEqual(partner.keys(), [id]);
    });

    it('then close(): stays pending as written; the next open delivers it with the same key', async function () {
      const first = await pastTheWindow((n) => (n === 1 ? 'hold' : 200));
      await close(first.q);
      assert.strictEqual(first.out.delivered.length + first.out.failed.length, 0);
      const second = await open({ writeBehindMs: SHORT_WINDOW });
      assert.ok(second.q.outbox.has(first.id));
      await until(() => second.out.delivered.length === 1 && second.q.outbox.size === 0, 10000, 'not delivered');
      await close(second.q);
      assert.deepStrictEqual(partner.keys(), [first.id, first.id]);
    });

    it('the same id again: a duplicate at once (already on disk), one request', async function () {
      const { q, out, id, input } = await pastTheWindow(() => 'hold');
      assert.deepStrictEqual(await q.enqueue({ ...input, msg: { ...input.msg } }), { status: 'duplicate', id });
      partner.held[0].release(200);
      await until(() => out.delivered.length === 1 && q.outbox.size === 0, 10000, 'not delivered');
      await close(q);
      assert.deepStrictEqual(partner.keys(), [id]);
    });
  });
});
