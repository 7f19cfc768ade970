'use strict';
/**
 * The shared queue library (nodes/lib/shared-queue) on its own against a real
 * nats-server and a partner stand-in on 127.0.0.1, without Node-RED: limits
 * and their policies, attempts used up → dead letter with its history,
 * Retry-After honoured, close() hands messages back, the vendor's key lifetime
 * held by the instance that takes over, the group's members and shares.
 */
const assert = require('assert');
const http = require('http');
const { startNatsCluster, requireNatsServer, waitForJetStream } = require('../support/nats-cluster');

describe('shared queue library against a real nats-server', function () {
  this.timeout(120000);
  let nats;
  let nc;
  let server;
  let answer = () => [200, {}];
  const seen = [];
  const queues = [];
  let lib;
  let Endpoint;

  before(async function () {
    requireNatsServer(this);
    lib = require('../../dist/nodes/lib/shared-queue/shared-queue');
    ({ Endpoint } = require('../../dist/nodes/lib/http/endpoint'));
    nats = await startNatsCluster({ size: 1 });
    await waitForJetStream(nats.urls);
    const { connect } = require('@nats-io/transport-node');
    nc = await connect({ servers: nats.urls });
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ at: Date.now(), key: req.headers['idempotency-key'], url: req.url });
        const [status, headers] = answer(req);
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end('{}');
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
  });

  after(async function () {
    for (const q of queues) await q.close().catch(() => undefined);
    if (nc) await nc.close();
    if (server) server.close();
    if (nats) await nats.stop();
  });

  async function open(nodeId, { basePath = '', ...extra } = {}) {
    const endpoint = new Endpoint({
      id: `ep-${nodeId}`,
      config: {
        baseUrl: `http://127.0.0.1:${server.address().port}${basePath}`,
        maxConcurrent: 4,
        breakerFailures: 0,
      },
      env: {},
    });
    const events = { delivered: [], failed: [] };
    const q = await lib.SharedQueue.open({
      link: { connection: async () => nc, isConnected: () => !nc.isClosed() },
      nodeId,
      endpoint,
      settings: {
        maxAttempts: 3,
        initialDelay: 50,
        maxDelay: 200,
        maxRetryAfter: 5,
        idempotencyHeader: 'Idempotency-Key',
      },
      maxItems: 100,
      maxBytes: 10 * 1024 * 1024,
      fullPolicy: 'refuse',
      maxDeadLetters: 0,
      onDelivered: (m) => events.delivered.push(m),
      onFailed: (m, e) => events.failed.push({ m, e }),
      ...extra,
    });
    await q.ready;
    queues.push(q);
    return { q, events, endpoint };
  }
  const item = (id, path = '/x') => ({
    id,
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ id })),
    msg: { payload: { id } },
  });
  const until = async (what, fn, ms = 30000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await fn()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  it('uses up the attempts on 500s, then keeps a dead letter with every attempt and sends the message to output 2', async function () {
    answer = (req) => (req.url.startsWith('/fail') ? [500, {}] : [200, {}]);
    const { q, events } = await open('lib-attempts');
    assert.strictEqual((await q.enqueue(item('a1', '/fail'))).status, 'accepted');
    await until('a dead letter', () => events.failed.length === 1);
    const { m, e } = events.failed[0];
    assert.strictEqual(e.code, 'HTTP_500');
    assert.strictEqual(m.delivery.attempts, 3);
    assert.strictEqual(m.delivery.idempotencyKey, 'a1');
    assert.strictEqual(seen.filter((s) => s.url === '/fail' && s.key === 'a1').length, 3);
    const list = await q.listDeadLetters();
    assert.strictEqual(list.items[0].id, 'a1');
    assert.strictEqual(list.items[0].attempts, 3);
    assert.strictEqual(list.items[0].history.length, 3);
  });

  it('waits for Retry-After before the next attempt', async function () {
    let first = true;
    answer = (req) => {
      if (req.url === '/busy' && first) {
        first = false;
        return [429, { 'retry-after': '1' }];
      }
      return [200, {}];
    };
    const { q, events } = await open('lib-retry-after');
    await q.enqueue(item('b1', '/busy'));
    await until('delivered', () => events.delivered.length === 1);
    const tries = seen.filter((s) => s.key === 'b1');
    assert.strictEqual(tries.length, 2);
    assert.ok(
      tries[1].at - tries[0].at >= 950,
      `the second attempt came ${tries[1].at - tries[0].at} ms after the 429`,
    );
  });

  it("refuses a message over the limit (policy 'refuse') and moves the oldest to the dead letters (policy 'dead-letter-oldest')", async function () {
    answer = () => [200, {}];
    // nothing is delivered: the endpoint's pacer is paused for a minute
    const refuse = await open('lib-refuse', { maxItems: 2 });
    refuse.endpoint.pacer.pauseUntil(Date.now() + 60000);
    refuse.q.pacer.pauseUntil(Date.now() + 60000);
    assert.strictEqual((await refuse.q.enqueue(item('r1'))).status, 'accepted');
    assert.strictEqual((await refuse.q.enqueue(item('r2'))).status, 'accepted');
    const third = await refuse.q.enqueue(item('r3'));
    assert.strictEqual(third.status, 'full');
    assert.strictEqual(third.error.code, 'OUTBOX_FULL');

    const evict = await open('lib-evict', { maxItems: 2, fullPolicy: 'dead-letter-oldest' });
    evict.endpoint.pacer.pauseUntil(Date.now() + 60000);
    evict.q.pacer.pauseUntil(Date.now() + 60000);
    await evict.q.enqueue(item('d1'));
    await evict.q.enqueue(item('d2'));
    const r = await evict.q.enqueue(item('d3'));
    assert.strictEqual(r.status, 'accepted');
    assert.deepStrictEqual(r.evicted, ['d1']);
    assert.strictEqual(evict.events.failed[0].e.code, 'OUTBOX_FULL');
    const list = await evict.q.listDeadLetters();
    assert.deepStrictEqual(
      list.items.map((x) => x.id),
      ['d1'],
    );
  });

  it('replays an event once when the dead letters hold it twice (two instances moved it), and keeps neither entry', async function () {
    let failing = true;
    answer = (req) => (req.url === '/twice' && failing ? [500, {}] : [200, {}]);
    const { q, events } = await open('lib-replay-twice');
    assert.strictEqual((await q.enqueue(item('t1', '/twice'))).status, 'accepted');
    await until('a dead letter', () => events.failed.length === 1);
    const dead = q.deadStore();
    let rec;
    for await (const e of dead.entries(['t1'])) rec = rec ?? e.rec;
    await dead.put(rec, `${rec.msgId}~other-instance`);
    await dead.refresh();
    assert.strictEqual(dead.counts().total, 2);
    failing = false;
    const before = seen.filter((s) => s.key === 't1').length;
    const out = await q.replay(['t1']);
    assert.deepStrictEqual(out, { requeued: ['t1'], duplicate: [], full: [] });
    await until('delivered', () => events.delivered.length === 1);
    assert.strictEqual((await q.listDeadLetters()).counts.total, 0);
    await q.refresh();
    assert.strictEqual(q.brief().depth, 0);
    assert.strictEqual(seen.filter((s) => s.key === 't1').length, before + 1);
  });

  it('keeps the same event to the same route once, and to another route twice', async function () {
    answer = () => [200, {}];
    const { q } = await open('lib-dupes');
    assert.strictEqual((await q.enqueue(item('e1', '/a'))).status, 'accepted');
    assert.strictEqual((await q.enqueue(item('e1', '/a'))).status, 'duplicate');
    assert.strictEqual((await q.enqueue(item('e1', '/b'))).status, 'accepted');
  });

  it("stops at the vendor's key lifetime on whichever instance holds the message: no attempt after it, a dead letter saying why", async function () {
    this.timeout(60000);
    answer = (req) => (req.url.endsWith('/expire') ? [500, {}] : [200, {}]);
    const LIFETIME = 10000; // margin: a tenth, 1 s
    const settings = {
      maxAttempts: 1000,
      initialDelay: 400,
      maxDelay: 400,
      maxRetryAfter: 5,
      idempotencyHeader: 'Idempotency-Key',
    };
    const a = await open('lib-keylife', { basePath: '/A', keyLifetimeMs: LIFETIME, settings, instance: 'A' });
    assert.strictEqual((await a.q.enqueue(item('k1', '/expire'))).status, 'accepted');
    const queuedBy = Date.now(); // the message's createdAt is at most this
    const from = (inst) => seen.filter((x) => x.key === 'k1' && x.url === `/${inst}/expire`);
    await until('two attempts from A', () => from('A').length >= 2);
    await a.q.close(); // hands the message back; B goes on counting from the same queueing time
    const b = await open('lib-keylife', { basePath: '/B', keyLifetimeMs: LIFETIME, settings, instance: 'B' });
    await until('the dead letter', () => b.events.failed.length === 1, 40000);
    const { m, e } = b.events.failed[0];
    assert.strictEqual(e.code, 'IDEMPOTENCY_WINDOW_PASSED');
    assert.strictEqual(m.delivery.idempotencyKey, 'k1');
    assert.ok(from('B').length >= 1, 'B made attempts of its own before the lifetime ran out');
    const all = seen.filter((x) => x.key === 'k1');
    const last = Math.max(...all.map((x) => x.at));
    assert.ok(
      last < queuedBy + LIFETIME,
      `the last attempt came ${last - queuedBy} ms after queueing (lifetime ${LIFETIME})`,
    );
    const list = await b.q.listDeadLetters();
    assert.strictEqual(list.items.find((x) => x.id === 'k1').error.code, 'IDEMPOTENCY_WINDOW_PASSED');
    console.log(
      `      key lifetime ${LIFETIME} ms: ${from('A').length} attempts by A, ${from('B').length} by B, the last ${last - queuedBy} ms after queueing`,
    );
  });

  it('shows the group: members that report, each one share of the deliveries; a closed instance leaves', async function () {
    answer = () => [200, {}];
    const a = await open('lib-group', { instance: 'A' });
    const b = await open('lib-group', { instance: 'B' });
    for (let i = 0; i < 20; i++) assert.strictEqual((await a.q.enqueue(item(`g${i}`, '/g'))).status, 'accepted');
    await until('all delivered', () => a.events.delivered.length + b.events.delivered.length === 20);
    await a.q.refresh();
    await b.q.refresh();
    await a.q.refresh();
    const ga = a.q.stats().shared;
    const gb = b.q.stats().shared;
    assert.strictEqual(ga.members, 2);
    assert.strictEqual(ga.instance, 'A');
    assert.strictEqual(ga.groupDelivered, 20);
    assert.strictEqual(ga.delivered, a.events.delivered.length);
    assert.strictEqual(gb.groupDelivered, 20);
    assert.ok(Math.abs(ga.share + gb.share - 1) < 1e-9, `${ga.share} + ${gb.share}`);
    assert.strictEqual(ga.connection, 'connected');
    assert.strictEqual(ga.connected, true);
    await b.q.close();
    await a.q.refresh();
    assert.strictEqual(a.q.stats().shared.members, 1);
  });
});
