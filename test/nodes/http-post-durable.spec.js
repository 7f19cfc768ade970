'use strict';
/**
 * saypro-http-post in durable mode: the journal on disk, acknowledgements,
 * one journaled attempt at a time, restart resume, ordering keys, limits,
 * dead letters (commands and admin endpoints) and the status.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const { expectSettlement, ACK_PROPERTY } = require('../../dist/nodes/lib/acks.js');
const { Outbox } = require('../../dist/nodes/lib/outbox/index.js');

helper.init(require.resolve('node-red'));

const NODES = [postNode, endpointNode, catchNode];
const harness = require('../support/http-post-harness');
const { EDITOR_DEFAULTS, startServer, answer, never, until, waitFor, statusCalls } = harness;

const ADMIN = '/saypro-integration-kit/outbox';

const flow = (server, props, endpointProps) =>
  harness.flow(server, props, endpointProps, { label: 'durable post', timeout: 5000 });

async function load(server, props, endpointProps, nodes = NODES) {
  await helper.load(nodes, flow(server, props, endpointProps));
  const got = { ok: [], failed: [], caught: [] };
  for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
  const n1 = helper.getNode('n1');
  await until(() =>
    statusCalls(n1).some(
      (s) => s.text !== 'http-post.status.opening' && !/^http-post\.status\.opening/.test(s.text || ''),
    ),
  );
  return { n1, got };
}

/** the test helper's RED._ returns the key only; this one shows the substitutions too */
const withArgs = (RED) => {
  RED._ = (key, subs) => (subs ? `${key} ${JSON.stringify(subs)}` : key);
  return postNode(RED);
};

/** a message carrying a settlement token, as the event trigger's durable reply mode sends it */
function acked(msg, ms = 10000) {
  const token = crypto.randomUUID();
  const expectation = expectSettlement(token, ms);
  return { msg: { ...msg, [ACK_PROPERTY]: token }, settled: expectation.promise };
}

/**
 * Every journal write and fdatasync of this process waits while the gate is closed (where segment
 * files are opened with O_DSYNC, the write is the sync: it waits there). `held` counts the calls
 * that waited; `restore()` opens the gate and puts the file handle's methods back.
 */
async function gateJournalWrites() {
  const fh = await fs.promises.open(__filename, 'r');
  const proto = Object.getPrototypeOf(fh);
  await fh.close();
  const { datasync, write } = proto;
  let waiting = null;
  let open = () => undefined;
  const gate = {
    held: 0,
    get closed() {
      return waiting !== null;
    },
    close() {
      waiting = new Promise((r) => (open = r));
    },
    open() {
      waiting = null;
      open();
    },
    restore() {
      proto.datasync = datasync;
      proto.write = write;
      gate.open();
    },
  };
  const gated = (fn) =>
    async function (...args) {
      if (waiting) {
        gate.held++;
        await waiting;
      }
      return fn.apply(this, args);
    };
  proto.datasync = gated(datasync);
  proto.write = gated(write);
  return gate;
}

describe('saypro-http-post node, durable mode', function () {
  let server;
  let dir;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-durable-spec-'));
    helper.settings({ sayproOutboxDir: dir });
  });

  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a message delivered at its first attempt goes on as it came (taken at once, not read back); a retried one is restored from the journal', async function () {
    server = await startServer([answer(200, { ok: 1 }), answer(503, {}), answer(200, { ok: 2 })]);
    const { n1, got } = await load(server, { durable: true, maxAttempts: 3, initialDelay: 20, maxDelay: 50 });
    const shape = () => 'live';
    const { msg, settled } = acked({ payload: { n: 1 }, event: { id: 'evt-first' }, shape, when: new Date(0) });
    n1.receive(msg);
    assert.deepStrictEqual(await settled, { ok: true, by: 'n1' });
    const [first] = await waitFor(got.ok);
    assert.strictEqual(first.statusCode, 200);
    assert.strictEqual(
      first.shape,
      shape,
      'the function a snapshot cannot keep is still there: not restored from disk',
    );
    assert.strictEqual(first[ACK_PROPERTY], undefined, 'no settlement token goes on');
    assert.deepStrictEqual(first.event, { id: 'evt-first' });
    // answered 503 first: the second attempt works from the journal
    n1.receive({ payload: { n: 2 }, event: { id: 'evt-retried' }, shape, when: new Date(0) });
    await until(() => got.ok.length >= 2, 10000, 'the retried message was not delivered');
    const second = got.ok[1];
    assert.strictEqual(second.delivery.attempts, 2);
    assert.strictEqual(second.shape, undefined, 'restored from its snapshot: functions are not kept');
    assert.ok(second.when instanceof Date && second.when.getTime() === 0);
    assert.strictEqual(server.requests.length, 3);
  });

  it('a delivered message leaves on output 1 while its DONE record is still being synced; the depth is 0 at once', async function () {
    const gate = await gateJournalWrites();
    try {
      // the request reaches the partner once the item's PUT record is synced: close the gate then
      const closeGate = (req, res) => {
        gate.close();
        answer(200, { ok: true })(req, res);
      };
      server = await startServer([closeGate]);
      // written before its first attempt (no write-behind), so that a DONE record follows
      const { n1, got } = await load(server, { durable: true, writeBehind: 0 });
      n1.receive({ payload: { n: 1 }, event: { id: 'evt-fast-done' } });
      // the DONE record's fsync is held at the gate: the message leaves all the same
      await until(() => gate.held >= 1, 10000, 'no journal write or fdatasync after the answer');
      await waitFor(got.ok);
      assert.strictEqual(got.ok[0].statusCode, 200);
      const depth = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body.depth;
      assert.strictEqual(depth, 0);
      gate.open();
      // once synced, the item is gone from the journal too
      await helper.unload();
      const ob = await Outbox.open(path.join(dir, 'n1'));
      assert.strictEqual(ob.size, 0);
      await ob.close();
    } finally {
      gate.restore();
    }
  });

  it('a delivered message frees its slot before its DONE record is synced: with maxConcurrent 1 the next one goes meanwhile', async function () {
    const gate = await gateJournalWrites();
    try {
      let go;
      const going = new Promise((r) => (go = r));
      server = await startServer([
        (req, res) => going.then(() => answer(200, { n: 1 })(req, res)),
        answer(200, { n: 2 }),
      ]);
      const { n1, got } = await load(server, { durable: true }, { maxConcurrent: 1 });
      n1.receive({ payload: { n: 1 }, event: { id: 'evt-slot-1' } });
      n1.receive({ payload: { n: 2 }, event: { id: 'evt-slot-2' } });
      // the first request is at the partner and both messages are journaled: from now on every write waits
      await until(() => server.requests.length === 1);
      const ob = () => helper.request().get(`${ADMIN}/n1`).expect(200);
      for (let depth = 0; depth !== 2;) depth = (await ob()).body.depth;
      gate.close();
      go();
      await waitFor(got.ok);
      await until(() => gate.held >= 1, 10000, "the first message's DONE record was not held");
      await until(
        () => server.requests.length === 2,
        10000,
        "the second request waited for the first message's DONE record",
      );
      assert.ok(gate.closed, 'the DONE record is still held');
      assert.deepStrictEqual(
        server.requests.map((r) => r.headers['idempotency-key']),
        ['evt-slot-1', 'evt-slot-2'],
      );
      gate.open();
      await until(() => got.ok.length === 2);
      assert.deepStrictEqual(
        got.ok.map((m) => m.payload.n),
        [1, 2],
      );
      await helper.unload();
      const after = await Outbox.open(path.join(dir, 'n1'));
      assert.strictEqual(after.size, 0, 'both DONE records are in the journal');
      await after.close();
    } finally {
      gate.restore();
    }
  });

  it('is durable by default, also for a node whose config has no "durable" property: the journal is in sayproOutboxDir/<node id>', async function () {
    server = await startServer([answer(200, { ok: true })]);
    const f = flow(server);
    for (const k of ['durable', 'maxQueued', 'maxQueuedMB', 'fullPolicy', 'orderingKey', 'maxDeadLetters'])
      delete f[2][k];
    await helper.load(NODES, f);
    const n1 = helper.getNode('n1');
    await until(() => JSON.stringify(statusCalls(n1).pop()) === '{}');
    assert.ok(fs.statSync(path.join(dir, 'n1')).isDirectory());
    assert.ok(fs.statSync(path.join(dir, 'n1', 'dead-letter')).isDirectory());
    assert.ok(
      fs.readdirSync(path.join(dir, 'n1')).some((f) => /^seg-\d+\.log$/.test(f)),
      'a journal segment',
    );
    const res = await helper.request().get(`${ADMIN}/n1`).expect(200);
    assert.strictEqual(res.body.depth, 0);
  });

  it('503, 503, 200: delivered on attempt 3 under one key, every attempt journaled, the message restored with the answer', async function () {
    server = await startServer([
      answer(503, { error: 'busy' }, { 'retry-after': '1' }),
      answer(503, { error: 'busy' }),
      answer(200, { id: 'cus_1', ok: true }, { 'x-request-id': 'req_7' }),
    ]);
    const { n1, got } = await load(server, { path: '/v1/customers/{{event.data.id}}' }, {}, [
      withArgs,
      endpointNode,
      catchNode,
    ]);
    const { msg, settled } = acked({
      payload: { name: 'Ada' },
      topic: 'crm',
      event: { id: 'evt_123', data: { id: 'cus 1' } },
      when: new Date('2024-05-01T10:00:00Z'),
      fn: () => 1,
    });
    n1.receive(msg);
    assert.deepStrictEqual(await settled, { ok: true, by: 'n1' });
    const [m] = await waitFor(got.ok);
    assert.strictEqual(got.failed.length, 0);
    assert.strictEqual(server.requests.length, 3);
    assert.deepStrictEqual(
      server.requests.map((r) => r.headers['idempotency-key']),
      ['evt_123', 'evt_123', 'evt_123'],
    );
    assert.ok(server.requests[1].at - server.requests[0].at >= 1000, 'waited at least the Retry-After second');
    for (const r of server.requests) {
      assert.strictEqual(r.method, 'POST');
      assert.strictEqual(r.url, '/v1/customers/cus%201');
      assert.strictEqual(r.headers['content-type'], 'application/json');
      assert.strictEqual(r.body.toString(), '{"name":"Ada"}');
    }
    assert.strictEqual(m.statusCode, 200);
    assert.deepStrictEqual(m.payload, { id: 'cus_1', ok: true });
    assert.strictEqual(m.responseHeaders['x-request-id'], 'req_7');
    assert.deepStrictEqual(Object.keys(m.delivery), [
      'attempts',
      'idempotencyKey',
      'statusCode',
      'durationMs',
      'endpoint',
    ]);
    assert.deepStrictEqual(
      { ...m.delivery, durationMs: 0 },
      { attempts: 3, idempotencyKey: 'evt_123', statusCode: 200, durationMs: 0, endpoint: server.base },
    );
    assert.ok(m.delivery.durationMs >= 1000);
    // the rest of the message came back from the journal
    assert.strictEqual(m.topic, 'crm');
    assert.deepStrictEqual(m.event, { id: 'evt_123', data: { id: 'cus 1' } });
    assert.ok(m.when instanceof Date && m.when.toISOString() === '2024-05-01T10:00:00.000Z');
    assert.strictEqual(m.fn, undefined, 'functions are not kept');
    assert.strictEqual(m[ACK_PROPERTY], undefined, 'a delivered message carries no stale settlement token');
    const stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
    assert.strictEqual(stats.depth, 0);
    assert.strictEqual(stats.delivered, 1);
    assert.strictEqual(stats.retried, 2, 'two failed attempts were journaled');
    const st = statusCalls(n1).map((s) => s.text);
    assert.ok(
      st.some((t) => t === 'http-post.status.queued {"depth":1,"age":"<1m"}'),
      st.join('\n'),
    );
    assert.ok(
      statusCalls(n1).some((s) => s.fill === 'yellow' && s.shape === 'ring' && /status\.queued /.test(s.text)),
      'yellow while waiting for the retry',
    );
    assert.ok(
      statusCalls(n1).some((s) => s.fill === 'blue' && s.shape === 'dot' && /status\.queued /.test(s.text)),
      'blue while sending',
    );
    await until(() =>
      statusCalls(n1).some(
        (s) => s.fill === 'green' && s.text === 'http-post.status.delivered {"status":200,"depth":0}',
      ),
    );
  });

  it('400: one attempt, then a dead letter: output 2 with the reason, Catch fires, the entry keeps the message', async function () {
    server = await startServer([answer(400, { error: { message: 'amount is required' } })]);
    const { n1, got } = await load(server, { path: '/v1/charges' });
    const body = Buffer.from('amount=&currency=usd');
    n1.receive({
      payload: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      event: { id: 'evt_4' },
    });
    const [m] = await waitFor(got.failed);
    await waitFor(got.caught);
    assert.strictEqual(server.requests.length, 1);
    assert.strictEqual(got.ok.length, 0);
    assert.ok(Buffer.isBuffer(m.payload) && m.payload.equals(body), 'payload is the body that was sent');
    assert.strictEqual(m.statusCode, 400);
    assert.strictEqual(m.error.code, 'HTTP_400');
    assert.strictEqual(m.error.details[0].attempts, 1);
    assert.strictEqual(m.error.details[0].bodyExcerpt, '{"error":{"message":"amount is required"}}');
    assert.deepStrictEqual(m.responseBody, { error: { message: 'amount is required' } });
    assert.deepStrictEqual(
      { ...m.delivery, durationMs: 0 },
      { attempts: 1, idempotencyKey: 'evt_4', statusCode: 400, durationMs: 0, endpoint: server.base },
    );
    assert.strictEqual(got.caught[0].error.code, 'HTTP_400');
    await until(
      () =>
        JSON.stringify(statusCalls(n1).pop()) ===
        JSON.stringify({ fill: 'red', shape: 'ring', text: 'http-post.status.failed' }),
    );
    const list = (await helper.request().get(`${ADMIN}/n1/dead-letters`).expect(200)).body;
    assert.strictEqual(list.counts.total, 1);
    assert.deepStrictEqual(list.counts.byCode, { HTTP_400: 1 });
    assert.strictEqual(list.items[0].id, 'evt_4');
    assert.strictEqual(list.items[0].attempts, 1);
    assert.deepStrictEqual(
      list.items[0].history.map((h) => h.statusCode),
      [400],
    );
  });

  it('write-behind off (0 ms): acknowledges once the message is on disk, before the server even sees the request (the answer is held)', async function () {
    const order = [];
    const held = [];
    server = await startServer([
      (req, res) => {
        order.push('request');
        held.push(res);
      },
    ]);
    const { n1, got } = await load(server, { path: '/hold', writeBehind: 0 });
    const { msg, settled } = acked({ payload: { a: 1 }, event: { id: 'evt_ack' } });
    settled.then((s) => order.push(s && s.ok ? 'settled' : 'refused'));
    n1.receive(msg);
    await settled;
    await until(() => server.requests.length === 1);
    assert.deepStrictEqual(order, ['settled', 'request']);
    // the item is still pending on disk while the answer is held
    const stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
    assert.strictEqual(stats.depth, 1);
    assert.strictEqual(stats.inFlight, 1);
    assert.strictEqual(got.ok.length, 0);
    answer(201, { created: true })(null, held[0]);
    const [m] = await waitFor(got.ok);
    assert.deepStrictEqual(m.payload, { created: true });
    assert.strictEqual(m[ACK_PROPERTY], undefined);
  });

  it('write-behind (the default 100 ms): the request goes out at once; held past the window, the message is written, then acknowledged, then delivered', async function () {
    const order = [];
    const held = [];
    server = await startServer([
      (req, res) => {
        order.push('request');
        held.push(res);
      },
    ]);
    const { n1, got } = await load(server, { path: '/hold', writeBehind: '' });
    const { msg, settled } = acked({ payload: { a: 1 }, event: { id: 'evt_window' } });
    settled.then((s) => order.push(s && s.ok ? 'settled' : 'refused'));
    const sent = Date.now();
    n1.receive(msg);
    await settled;
    assert.ok(Date.now() - sent >= 90, 'not acknowledged before the window passed');
    assert.deepStrictEqual(order, ['request', 'settled']);
    const stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
    assert.strictEqual(stats.depth, 1, 'on disk while the answer is held');
    assert.strictEqual(stats.inFlight, 1);
    assert.strictEqual(server.requests.length, 1, 'written, not sent again');
    answer(201, { created: true })(null, held[0]);
    const [m] = await waitFor(got.ok);
    assert.deepStrictEqual(m.payload, { created: true });
    assert.strictEqual(m[ACK_PROPERTY], undefined);
    assert.strictEqual((await helper.request().get(`${ADMIN}/n1`).expect(200)).body.depth, 0);
    assert.strictEqual(server.requests.length, 1);
  });

  it('write-behind: a message the partner accepts within the window is acknowledged after delivery and never written; a 503 is written and retried from the journal', async function () {
    server = await startServer([answer(200, { ok: 1 }), answer(503, { busy: true }), answer(200, { ok: 2 })]);
    const { n1, got } = await load(server, {});
    const first = acked({ payload: { a: 'first-body' }, event: { id: 'evt_fast_1' } });
    n1.receive(first.msg);
    assert.strictEqual((await first.settled).ok, true);
    const [m1] = await waitFor(got.ok);
    assert.deepStrictEqual(m1.payload, { ok: 1 });
    const second = acked({ payload: { a: 'second-body' }, event: { id: 'evt_fast_2' } });
    n1.receive(second.msg);
    assert.strictEqual((await second.settled).ok, true);
    await waitFor(got.ok, 2);
    assert.deepStrictEqual(got.ok[1].payload, { ok: 2 });
    assert.strictEqual(got.ok[1].delivery.attempts, 2);
    assert.deepStrictEqual(
      server.requests.map((r) => r.headers['idempotency-key']),
      ['evt_fast_1', 'evt_fast_2', 'evt_fast_2'],
    );
    await helper.unload();
    const journal = fs
      .readdirSync(path.join(dir, 'n1'))
      .filter((f) => f.endsWith('.log'))
      .map((f) => fs.readFileSync(path.join(dir, 'n1', f), 'latin1'))
      .join('');
    assert.ok(!journal.includes('evt_fast_1'), 'the message delivered at once was never written');
    assert.ok(journal.includes('evt_fast_2'), 'the one answered 503 was written before its retry');
  });

  it('a duplicate key while the first is still queued is acknowledged (it is already safe) and sent once', async function () {
    const held = [];
    server = await startServer([(req, res) => held.push(res)]);
    const { n1, got } = await load(server, {});
    n1.receive({ payload: 'one', event: { id: 'evt_dup' } });
    await until(() => server.requests.length === 1);
    const { msg, settled } = acked({ payload: 'one again', event: { id: 'evt_dup' } });
    n1.receive(msg);
    assert.deepStrictEqual(await settled, { ok: true, by: 'n1' });
    answer(200, {})(null, held[0]);
    await waitFor(got.ok);
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(server.requests.length, 1);
    assert.strictEqual(got.ok.length, 1);
  });

  it('one event sent as two requests (another path) under one key is no duplicate: both go out with that key; a true duplicate does not', async function () {
    const held = [];
    server = await startServer([(req, res) => held.push(res)]);
    const { n1, got } = await load(server, { path: '/orders.{{format}}' });
    // arriving together, as from a split: CSV and XML of the same order
    const csv = acked({ payload: 'a,b', format: 'csv', event: { id: 'evt-23' } });
    const xml = acked({ payload: '<a/>', format: 'xml', event: { id: 'evt-23' } });
    n1.receive(csv.msg);
    n1.receive(xml.msg);
    assert.deepStrictEqual(
      [await csv.settled, await xml.settled],
      [
        { ok: true, by: 'n1' },
        { ok: true, by: 'n1' },
      ],
    );
    await until(() => server.requests.length === 2);
    // the platform sends the CSV one again while both are pending
    const again = acked({ payload: 'a,b', format: 'csv', event: { id: 'evt-23' } });
    n1.receive(again.msg);
    assert.deepStrictEqual(await again.settled, { ok: true, by: 'n1' });
    for (const res of held) answer(200, { ok: true })(null, res);
    await waitFor(got.ok, 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(server.requests.length, 2);
    assert.deepStrictEqual(server.requests.map((r) => r.url).sort(), ['/orders.csv', '/orders.xml']);
    assert.deepStrictEqual(
      server.requests.map((r) => r.headers['idempotency-key']),
      ['evt-23', 'evt-23'],
    );
    assert.deepStrictEqual(
      got.ok.map((m) => m.delivery.idempotencyKey),
      ['evt-23', 'evt-23'],
    );
    assert.deepStrictEqual(got.ok.map((m) => m.format).sort(), ['csv', 'xml']);
  });

  it('restart mid-backoff: the item resumes with its attempt count, next attempt time and idempotency key', async function () {
    server = await startServer([answer(503, { error: 'busy' }, { 'retry-after': '1' })]);
    let { n1, got } = await load(server, { path: '/r' });
    n1.receive({ payload: { n: 1 } }); // no event id: the key is a UUID made on the way in
    await until(() => server.requests.length === 1);
    await until(
      () =>
        (
          n1.status
            .getCalls()
            .map((c) => c.args[0])
            .pop() || {}
        ).fill === 'yellow',
    );
    // the status may turn yellow just before the attempt's journal write has been confirmed
    let stats;
    for (const deadline = Date.now() + 3000; ;) {
      stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
      if (stats.retried === 1 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.strictEqual(stats.retried, 1, 'the failed attempt is journaled');
    const closedAt = Date.now();
    await helper.unload(); // Node-RED stops (or redeploys) mid-backoff
    assert.strictEqual(got.failed.length + got.ok.length, 0, 'nothing is cancelled or lost: it stays queued');
    const ob = await Outbox.open(path.join(dir, 'n1'));
    const [pending] = ob.list();
    await ob.close();
    assert.strictEqual(pending.attempts, 1);
    assert.ok(pending.nextAttemptAt > closedAt - 1000 && pending.nextAttemptAt <= closedAt + 1000);

    server.script.splice(0, server.script.length, answer(200, { ok: true }));
    ({ n1, got } = await load(server, { path: '/r' }));
    const [m] = await waitFor(got.ok);
    assert.strictEqual(server.requests.length, 2);
    const [k1, k2] = server.requests.map((r) => r.headers['idempotency-key']);
    assert.match(k1, /^[0-9a-f-]{36}$/);
    assert.strictEqual(k2, k1, 'the same key after the restart');
    assert.ok(server.requests[1].at >= pending.nextAttemptAt - 5, 'not before its stored next attempt time');
    assert.strictEqual(m.delivery.attempts, 2, 'attempts continue from the stored count');
    assert.strictEqual(m.delivery.idempotencyKey, k1);
    assert.deepStrictEqual(m.payload, { ok: true });
  });

  it('an item whose attempts are used up when it resumes (e.g. maxAttempts lowered) becomes a dead letter without another request', async function () {
    server = await startServer([answer(503, { error: 'busy' }, { 'retry-after': '1' })]);
    let { n1, got } = await load(server, { maxAttempts: 3 });
    n1.receive({ payload: 'x', event: { id: 'evt_used' } });
    await until(() => (statusCalls(n1).pop() || {}).fill === 'yellow');
    // (a queued message shows yellow before its first attempt too: wait until the attempt is journaled)
    for (let retried = 0; retried < 1;) {
      retried = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body.retried;
      if (retried < 1) await new Promise((r) => setTimeout(r, 20));
    }
    await helper.unload();
    ({ n1, got } = await load(server, { maxAttempts: 1 }));
    const [m] = await waitFor(got.failed);
    assert.strictEqual(server.requests.length, 1, 'no further request');
    assert.strictEqual(m.error.code, 'HTTP_503');
    assert.match(m.error.message, /no attempts left/);
    assert.strictEqual(m.payload, 'x');
    assert.strictEqual(m.delivery.attempts, 1);
  });

  it('closing while a request is in flight aborts it without counting it: the item stays queued and goes out after the restart', async function () {
    server = await startServer([never()]);
    let { n1, got } = await load(server, { path: '/slow', maxAttempts: 1 });
    n1.receive({ payload: 'x', event: { id: 'evt_fly' } });
    await until(() => server.requests.length === 1);
    await helper.unload();
    assert.strictEqual(got.failed.length, 0, 'no CANCELLED in durable mode');
    server.script.splice(0, server.script.length, answer(200, { ok: 1 }));
    ({ n1, got } = await load(server, { path: '/slow', maxAttempts: 1 }));
    const [m] = await waitFor(got.ok);
    assert.strictEqual(m.delivery.attempts, 1, 'the aborted attempt was not counted (maxAttempts 1 still allowed one)');
    assert.strictEqual(server.requests[1].headers['idempotency-key'], 'evt_fly');
  });

  it('ordering key: one at a time per key, in order (the head blocks its key while it is retried); other keys go meanwhile', async function () {
    let firstA = true;
    const done = {};
    server = await startServer([
      (req, res, body) => {
        const { n } = JSON.parse(body.toString());
        if (n === 'A1' && firstA) {
          firstA = false;
          // slow, and then a failure: A1 must be retried before A2 may go
          return setTimeout(() => answer(500, {})(req, res), 300);
        }
        done[n] = Date.now();
        answer(200, { n })(req, res);
      },
    ]);
    const { n1, got } = await load(server, { orderingKey: 'event.data.listingId' });
    const send = (n, listing) =>
      n1.receive({ payload: { n }, event: { id: `evt_${n}`, data: { listingId: listing } } });
    send('A1', 'L-A');
    send('A2', 'L-A');
    send('B1', 'L-B');
    send('A3', 'L-A');
    await waitFor(got.ok, 4);
    const seen = server.requests.map((r) => JSON.parse(r.body.toString()).n);
    assert.deepStrictEqual(
      seen.filter((n) => n.startsWith('A')),
      ['A1', 'A1', 'A2', 'A3'],
      seen.join(),
    );
    assert.ok(seen.indexOf('B1') < 2, `B1 did not wait for key L-A: ${seen.join()}`);
    assert.ok(done.B1 < done.A1, 'B1 was delivered while A1 was still being retried');
    const a2 = server.requests.find((r) => JSON.parse(r.body.toString()).n === 'A2');
    assert.ok(a2.at >= done.A1, 'A2 went only after A1 was delivered');
    assert.deepStrictEqual(
      got.ok.map((m) => m.payload.n).filter((n) => n.startsWith('A')),
      ['A1', 'A2', 'A3'],
    );
  });

  it('full, policy "refuse": output 2 with OUTBOX_FULL, Catch fires, a waiting trigger is told 503 with Retry-After', async function () {
    server = await startServer([never()]);
    const { n1, got } = await load(server, { maxQueued: 2 }, { timeout: 60000 });
    n1.receive({ payload: 1, event: { id: 'e1' } });
    n1.receive({ payload: 2, event: { id: 'e2' } });
    await until(() => server.requests.length === 2);
    const { msg, settled } = acked({ payload: 3, event: { id: 'e3' } });
    n1.receive(msg);
    const s = await settled;
    assert.strictEqual(s.ok, false);
    assert.strictEqual(s.status, 503);
    assert.strictEqual(s.retryAfterSeconds, 30);
    assert.strictEqual(s.error.code, 'OUTBOX_FULL');
    const [m] = await waitFor(got.failed);
    await waitFor(got.caught);
    assert.strictEqual(m.error.code, 'OUTBOX_FULL');
    assert.strictEqual(m.error.details[0].field, 'maxQueued');
    assert.strictEqual(m.payload, 3);
    assert.strictEqual(m.delivery.idempotencyKey, 'e3');
    const stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
    assert.strictEqual(stats.refused, 1);
    assert.strictEqual(stats.depth, 2);
  });

  it('full, policy "dead-letter-oldest": the oldest becomes a dead letter (OUTBOX_FULL) and leaves on output 2; the new one is accepted', async function () {
    server = await startServer([answer(503, {}, { 'retry-after': '60' })]);
    const { n1, got } = await load(server, { maxQueued: 2, fullPolicy: 'dead-letter-oldest' });
    n1.receive({ payload: 'first', topic: 't1', event: { id: 'e1' } });
    n1.receive({ payload: 'second', event: { id: 'e2' } });
    await until(() => server.requests.length >= 1);
    const { msg, settled } = acked({ payload: 'third', event: { id: 'e3' } });
    n1.receive(msg);
    assert.deepStrictEqual(await settled, { ok: true, by: 'n1' });
    const [m] = await waitFor(got.failed);
    await waitFor(got.caught);
    assert.strictEqual(m.error.code, 'OUTBOX_FULL');
    assert.strictEqual(m.payload, 'first');
    assert.strictEqual(m.topic, 't1');
    assert.strictEqual(m.delivery.idempotencyKey, 'e1');
    const list = (await helper.request().get(`${ADMIN}/n1/dead-letters`).expect(200)).body;
    assert.deepStrictEqual(
      list.items.map((i) => [i.id, i.error.code]),
      [['e1', 'OUTBOX_FULL']],
    );
    const stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
    assert.strictEqual(stats.depth, 2);
    assert.strictEqual(stats.deadLettered, 1);
  });

  it('msg.command "list", "replay" and "purge" work on the dead letters and are never delivered; a replay goes out with the same key', async function () {
    server = await startServer([
      answer(422, { error: 'bad' }),
      answer(422, { error: 'bad' }),
      answer(200, { ok: true }),
    ]);
    const { n1, got } = await load(server, { path: '/x' });
    n1.receive({ payload: 'a', event: { id: 'evt_a' } });
    n1.receive({ payload: 'b', event: { id: 'evt_b' } });
    await waitFor(got.failed, 2);
    assert.strictEqual(server.requests.length, 2);

    n1.receive({ command: 'list', topic: 'ops' });
    const [listed] = await waitFor(got.ok);
    assert.strictEqual(listed.command, 'list');
    assert.strictEqual(listed.topic, 'ops');
    assert.strictEqual(listed.payload.counts.total, 2);
    assert.deepStrictEqual(listed.payload.counts.byCode, { HTTP_422: 2 });
    assert.deepStrictEqual(listed.payload.items.map((i) => i.id).sort(), ['evt_a', 'evt_b']);
    assert.strictEqual(server.requests.length, 2, 'a command is not delivered');

    n1.receive({ command: 'replay', ids: ['evt_a'] });
    await waitFor(got.ok, 2);
    const replayed = got.ok[1];
    assert.strictEqual(replayed.delivery.idempotencyKey, 'evt_a');
    assert.strictEqual(replayed.delivery.attempts, 1, 'a replay starts its attempts afresh');
    assert.deepStrictEqual(
      server.requests.map((r) => r.headers['idempotency-key']),
      ['evt_a', 'evt_b', 'evt_a'],
    );
    assert.strictEqual(server.requests[2].body.toString(), 'a');

    // a single id is that id, never "all"; a bad ids value is refused
    n1.receive({ command: 'purge', ids: 'evt_unknown' });
    await until(() => n1.log.getCalls().some((c) => String(c.args[0]) === 'http-post.log.purged'));
    n1.receive({ command: 'purge', ids: { all: true } });
    const [bad] = await waitFor(got.failed, 3).then((l) => l.slice(2));
    assert.strictEqual(bad.error.code, 'INVALID_COMMAND');
    n1.receive({ command: 'list' });
    await waitFor(got.ok, 3);
    assert.strictEqual(got.ok[2].payload.counts.total, 1, 'evt_b is still there');
    n1.receive({ command: 'purge' });
    await until(() => n1.log.getCalls().filter((c) => String(c.args[0]) === 'http-post.log.purged').length === 2);
    n1.receive({ command: 'list' });
    await waitFor(got.ok, 4);
    assert.strictEqual(got.ok[3].payload.counts.total, 0);
    assert.strictEqual(server.requests.length, 3);
  });

  it('maxDeadLetters keeps only the newest dead letters', async function () {
    server = await startServer([answer(400, {})]);
    const { n1, got } = await load(server, { maxDeadLetters: 1 });
    n1.receive({ payload: 1, event: { id: 'd1' } });
    await waitFor(got.failed, 1);
    n1.receive({ payload: 2, event: { id: 'd2' } });
    await waitFor(got.failed, 2);
    await until(() =>
      helper
        .getNode('n1')
        .warn.getCalls()
        .some((c) => /dropped the oldest entry d1/.test(String(c.args[0]))),
    );
    const list = (await helper.request().get(`${ADMIN}/n1/dead-letters`).expect(200)).body;
    assert.deepStrictEqual(
      list.items.map((i) => i.id),
      ['d2'],
    );
  });

  describe('admin endpoints', function () {
    it('stats, dead-letter list with limit and offset, replay and purge by id; 404 for an unknown node, 409 for one that is not durable', async function () {
      server = await startServer([answer(400, {}), answer(400, {}), answer(400, {}), answer(200, { ok: true })]);
      const f = flow(server);
      f.push({
        id: 'mem',
        z: 'tab',
        type: 'saypro-http-post',
        ...EDITOR_DEFAULTS,
        endpoint: 'ep',
        durable: false,
        wires: [[], []],
      });
      await helper.load(NODES, f);
      const got = { ok: [], failed: [] };
      for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
      const n1 = helper.getNode('n1');
      await until(() => JSON.stringify(statusCalls(n1).pop()) === '{}');
      for (const id of ['x1', 'x2', 'x3']) {
        n1.receive({ payload: id, event: { id } });
        await waitFor(got.failed, Number(id[1]));
      }
      const stats = (await helper.request().get(`${ADMIN}/n1`).expect(200)).body;
      for (const k of ['depth', 'bytes', 'oldestAgeMs', 'delivered', 'retried', 'deadLettered', 'refused', 'circuit'])
        assert.ok(k in stats, k);
      assert.deepStrictEqual(
        {
          depth: stats.depth,
          delivered: stats.delivered,
          deadLettered: stats.deadLettered,
          refused: stats.refused,
          deadLetters: stats.deadLetters,
        },
        { depth: 0, delivered: 0, deadLettered: 3, refused: 0, deadLetters: 3 },
      );
      assert.strictEqual(stats.circuit.circuit, 'closed');
      assert.strictEqual(stats.circuit.offline, false);

      const page = (await helper.request().get(`${ADMIN}/n1/dead-letters?limit=2&offset=1`).expect(200)).body;
      assert.strictEqual(page.counts.total, 3);
      assert.deepStrictEqual(
        page.items.map((i) => i.id),
        ['x2', 'x1'],
        'newest first',
      );
      assert.ok(!('data' in page.items[0]), 'the list carries no message data');

      const replayed = (
        await helper
          .request()
          .post(`${ADMIN}/n1/dead-letters/replay`)
          .send({ ids: ['x2'] })
          .expect(200)
      ).body;
      assert.deepStrictEqual(replayed, { requeued: ['x2'], duplicate: [], full: [] });
      const [m] = await waitFor(got.ok);
      assert.strictEqual(m.delivery.idempotencyKey, 'x2');
      assert.strictEqual(server.requests[3].headers['idempotency-key'], 'x2');

      const purged = (
        await helper
          .request()
          .post(`${ADMIN}/n1/dead-letters/purge`)
          .send({ ids: ['x1'] })
          .expect(200)
      ).body;
      assert.deepStrictEqual(purged, { purged: 1 });
      const rest = (await helper.request().get(`${ADMIN}/n1/dead-letters`).expect(200)).body;
      assert.deepStrictEqual(
        rest.items.map((i) => i.id),
        ['x3'],
      );
      assert.deepStrictEqual(
        (await helper.request().post(`${ADMIN}/n1/dead-letters/purge`).send({}).expect(200)).body,
        { purged: 1 },
      );

      await helper.request().post(`${ADMIN}/n1/dead-letters/replay`).send({ ids: 'x3' }).expect(400);
      const unknown = await helper.request().get(`${ADMIN}/nope`).expect(404);
      assert.strictEqual(unknown.body.error.code, 'NOT_FOUND');
      await helper.request().get(`${ADMIN}/nope/dead-letters`).expect(404);
      await helper.request().post(`${ADMIN}/nope/dead-letters/replay`).send({}).expect(404);
      const mem = await helper.request().get(`${ADMIN}/mem`).expect(409);
      assert.strictEqual(mem.body.error.code, 'NOT_DURABLE');
    });

    it('every route goes through RED.auth.needsPermission: saypro-http-post.read for the GETs, .write for the POSTs', async function () {
      const asked = [];
      const guarded = (RED) => {
        const real = RED.auth.needsPermission;
        // an admin that may read but not write
        RED.auth.needsPermission = (permission) => {
          asked.push(permission);
          return (req, res, next) =>
            permission.endsWith('.read') ? next() : res.status(403).json({ error: 'forbidden' });
        };
        try {
          return postNode(RED);
        } finally {
          RED.auth.needsPermission = real;
        }
      };
      await helper.load([guarded, endpointNode], flow(null).slice(0, 3));
      const n1 = helper.getNode('n1');
      await until(() => JSON.stringify(statusCalls(n1).pop()) === '{}');
      assert.deepStrictEqual(asked.sort(), ['saypro-http-post.read', 'saypro-http-post.write']);
      await helper.request().get(`${ADMIN}/n1`).expect(200);
      await helper.request().get(`${ADMIN}/n1/dead-letters`).expect(200);
      await helper.request().post(`${ADMIN}/n1/dead-letters/replay`).send({}).expect(403);
      await helper.request().post(`${ADMIN}/n1/dead-letters/purge`).send({}).expect(403);
    });
  });

  it('a queue that cannot be opened: red ring, every message to output 2 as OUTBOX_UNAVAILABLE, a waiting trigger is told 503', async function () {
    const file = path.join(dir, 'not-a-directory');
    fs.writeFileSync(file, 'x');
    helper.settings({ sayproOutboxDir: file });
    server = await startServer([answer(200)]);
    await helper.load(NODES, flow(server));
    const got = { failed: [], caught: [] };
    for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
    const n1 = helper.getNode('n1');
    await until(() => statusCalls(n1).some((s) => s.fill === 'red' && s.text === 'http-post.status.outboxUnavailable'));
    const { msg, settled } = acked({ payload: 'x', event: { id: 'evt_u' } });
    n1.receive(msg);
    const s = await settled;
    assert.strictEqual(s.ok, false);
    assert.strictEqual(s.status, 503);
    assert.strictEqual(s.error.code, 'OUTBOX_UNAVAILABLE');
    const [m] = await waitFor(got.failed);
    await waitFor(got.caught);
    assert.strictEqual(m.error.code, 'OUTBOX_UNAVAILABLE');
    assert.strictEqual(server.requests.length, 0);
    await helper.request().get(`${ADMIN}/n1`).expect(503);
  });

  it('a queue directory held by another process: red ring "in use", a log line, messages to output 2 as OUTBOX_LOCKED, a waiting trigger is told 503', async function () {
    const { DirLock } = require('../../dist/nodes/lib/outbox/lock.js');
    fs.mkdirSync(path.join(dir, 'n1'));
    const held = await DirLock.acquire(path.join(dir, 'n1'));
    try {
      server = await startServer([answer(200)]);
      await helper.load(NODES, flow(server));
      const got = { failed: [] };
      helper.getNode('failed').on('input', (msg) => got.failed.push(msg));
      const n1 = helper.getNode('n1');
      await until(() => statusCalls(n1).some((s) => s.fill === 'red' && s.text === 'http-post.status.outboxLocked'));
      const logged = n1.error.args.map((a) => String(a[0]));
      assert.ok(
        logged.some((l) => /http-post.status.outboxLocked: .*in use by another process \(pid \d+ on /.test(l)),
        logged.join('\n'),
      );
      const { msg, settled } = acked({ payload: 'x', event: { id: 'evt_l' } });
      n1.receive(msg);
      const s = await settled;
      assert.strictEqual(s.status, 503);
      assert.strictEqual(s.error.code, 'OUTBOX_LOCKED');
      const [m] = await waitFor(got.failed);
      assert.strictEqual(m.error.code, 'OUTBOX_LOCKED');
      assert.strictEqual(server.requests.length, 0);
    } finally {
      await held.release();
    }
  });

  it('a journal with a missing segment: a red ring with the count, an error in the log, the count in the admin stats', async function () {
    const ob = await Outbox.open(path.join(dir, 'n1'), { segmentSize: 600 });
    for (let i = 0; i < 30; i++)
      await ob.enqueue({
        id: 'old' + i,
        data: {
          request: { method: null, path: '/x', headers: {}, bodyBase64: null },
          msg: {},
          idempotencyKey: 'old' + i,
        },
        nextAttemptAt: Date.now() + 3600000,
      });
    await ob.close();
    const seg2 = path.join(dir, 'n1', 'seg-000002.log');
    fs.unlinkSync(seg2);
    server = await startServer([answer(200)]);
    await helper.load(NODES, flow(server));
    const n1 = helper.getNode('n1');
    await until(() =>
      statusCalls(n1).some((s) => s.fill === 'red' && /^http-post\.status\.journalLoss/.test(s.text || '')),
    );
    assert.ok(n1.error.args.some((a) => /http-post.errors.journalLoss/.test(String(a[0]))));
    const res = await helper.request().get(`${ADMIN}/n1`).expect(200);
    assert.deepStrictEqual(res.body.missingSegments, ['queue/2']);
    assert.ok(res.body.lostRecords >= 1);
    assert.strictEqual(res.body.depth + res.body.lostRecords, 30, 'every item is either back or counted as lost');
  });

  it('messages that arrive while the queue is being opened wait for it', async function () {
    server = await startServer([answer(200, { ok: true })]);
    await helper.load(NODES, flow(server));
    const got = { ok: [] };
    helper.getNode('ok').on('input', (m) => got.ok.push(m));
    const n1 = helper.getNode('n1');
    const { msg, settled } = acked({ payload: 'early', event: { id: 'evt_early' } });
    n1.receive(msg); // at once, before the journal is open
    assert.deepStrictEqual(await settled, { ok: true, by: 'n1' });
    await waitFor(got.ok);
    assert.strictEqual(server.requests[0].body.toString(), 'early');
  });

  it('status: depth and the oldest age while queued; the endpoint being offline shows; a template error still fails at once', async function () {
    const probe = await startServer([answer(200)]);
    const { base, port } = probe;
    await probe.close();
    const { n1, got } = await load({ base }, { path: '/v/{{event.data.id}}' }, {}, [withArgs, endpointNode, catchNode]);
    n1.receive({ payload: 'x', event: { id: 'evt_s', data: { id: '1' } } });
    n1.receive({ payload: 'y', event: { id: 'evt_t', data: { id: '2' } } });
    await until(() =>
      statusCalls(n1).some((s) => s.fill === 'yellow' && /^http-post\.status\.queuedPaced /.test(s.text)),
    );
    const st = statusCalls(n1).find((s) => /^http-post\.status\.queuedPaced /.test(s.text));
    assert.strictEqual(
      st.text,
      // the cause of being offline in plain words (ECONNREFUSED: nothing listens on the port)
      'http-post.status.queuedPaced {"depth":2,"state":"http-post.status.cause.refused"}',
    );
    n1.receive({ payload: 'z', event: { id: 'evt_bad' } });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(m.error.code, 'TEMPLATE');
    server = await startServer([answer(200, {})], port);
    await waitFor(got.ok, 2);
    assert.deepStrictEqual(
      got.ok.map((x) => x.delivery.attempts),
      [1, 1],
      'waiting for the endpoint used up no attempt',
    );
  });

  it('an HTTP-in flow still answers its caller: msg.req, msg.res and _msgid stay with a message queued by this process', async function () {
    server = await startServer([answer(200, { ok: true })]);
    const { n1, got } = await load(server, { writeBehind: 0 });
    const res = { _res: { statusCode: 200 }, send() {} };
    const req = { headers: { host: 'x' } };
    n1.receive({ _msgid: 'orig-1', payload: 'x', req, res, event: { id: 'evt_http' } });
    const [m] = await waitFor(got.ok);
    assert.strictEqual(m.res, res, 'the same response object, so that an http response node can answer');
    assert.strictEqual(m.req, req);
    assert.strictEqual(m._msgid, 'orig-1');
    // the journal holds the message without them
    await helper.unload();
    const journal = fs
      .readdirSync(path.join(dir, 'n1'))
      .filter((f) => f.endsWith('.log'))
      .map((f) => fs.readFileSync(path.join(dir, 'n1', f), 'latin1'))
      .join('');
    assert.ok(journal.includes('evt_http'), 'the item was journaled');
    assert.ok(!journal.includes('orig-1') && !journal.includes('"req"') && !journal.includes('"res"'));
  });

  it('without sayproOutboxDir or a user directory, the queue goes to the temporary directory, with a warning', async function () {
    helper.settings({ sayproOutboxDir: '' });
    const id = `tmpq${crypto.randomBytes(6).toString('hex')}`;
    const where = path.join(os.tmpdir(), 'saypro-outbox', id);
    try {
      const f = flow(null);
      f[2].id = id;
      await helper.load(NODES, f.slice(0, 3));
      const node = helper.getNode(id);
      await until(() => JSON.stringify(statusCalls(node).pop()) === '{}');
      assert.ok(fs.existsSync(path.join(where, 'dead-letter')));
      assert.ok(node.warn.getCalls().some((c) => c.args[0] === 'http-post.errors.tmpOutbox'));
    } finally {
      await helper.unload();
      fs.rmSync(where, { recursive: true, force: true });
    }
  });

  it('in memory (durable off), commands are refused as NOT_DURABLE and nothing is written', async function () {
    server = await startServer([answer(200)]);
    const { n1, got } = await load(server, { durable: false });
    n1.receive({ command: 'list' });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(m.error.code, 'NOT_DURABLE');
    assert.strictEqual(server.requests.length, 0);
    assert.ok(!fs.existsSync(path.join(dir, 'n1')));
  });
});
