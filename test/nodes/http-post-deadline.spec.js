'use strict';
/**
 * saypro-http-post: the per-message deadline (a synchronous flow answers in
 * bounded time) and the vendor's idempotency key lifetime (no attempt after
 * the vendor forgot the key), in the test helper with real HTTP servers.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const harness = require('../support/http-post-harness');
const { startServer, answer, never, waitFor, until } = harness;

helper.init(require.resolve('node-red'));
const NODES = [postNode, endpointNode, catchNode];

/** a port on 127.0.0.1 that nothing listens on */
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function load(server, props, endpointProps = {}) {
  await helper.load(NODES, harness.flow(server, props, endpointProps, { label: 'deadline', timeout: 5000 }));
  const got = { ok: [], failed: [], caught: [] };
  for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
  return { n1: helper.getNode('n1'), got };
}

describe('saypro-http-post node: deadline and idempotency key lifetime', function () {
  this.timeout(20000);
  let server;
  let dir;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-deadline-spec-'));
    helper.settings({ sayproOutboxDir: dir });
  });

  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('in-memory mode: an unreachable endpoint ends at the deadline with DEADLINE_EXCEEDED on output 2 (and Catch), no later attempt', async function () {
    const port = await closedPort();
    const { n1, got } = await load(
      { base: `http://127.0.0.1:${port}` },
      { durable: false, deadline: 1, maxAttempts: 3 },
    );
    const started = Date.now();
    n1.receive({ payload: { amount: 1000 }, event: { id: 'evt-deadline-1' } });
    const [m] = await waitFor(got.failed, 1, 8000);
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 4000, `answered after ${took} ms`);
    assert.strictEqual(m.error.code, 'DEADLINE_EXCEEDED');
    assert.strictEqual(m.error.message, 'The third party did not answer within 1 s');
    assert.match(m.error.details[0].reason, /no answer within the 1 s deadline/);
    assert.strictEqual(m.delivery.idempotencyKey, 'evt-deadline-1');
    await waitFor(got.caught);
    assert.strictEqual(got.caught[0].error.code, 'DEADLINE_EXCEEDED');
    assert.strictEqual(got.ok.length, 0);
  });

  it('in-memory mode: a request still in flight at the deadline is abandoned; msg.deadline replaces the setting', async function () {
    server = await startServer([never()]);
    const { n1, got } = await load(server, { durable: false, deadline: 30 });
    const started = Date.now();
    n1.receive({ payload: 'x', deadline: 0.5, event: { id: 'evt-deadline-2' } });
    const [m] = await waitFor(got.failed, 1, 8000);
    const took = Date.now() - started;
    assert.ok(took >= 450 && took < 3000, `answered after ${took} ms`);
    assert.strictEqual(m.error.code, 'DEADLINE_EXCEEDED');
    assert.match(
      m.error.details[0].reason,
      /0\.5 s deadline \(stopped while a request was in flight; 1 request made\)/,
    );
    assert.strictEqual(server.requests.length, 1);
  });

  it('an unusable msg.deadline is refused (output 2, INVALID_DEADLINE), nothing is sent', async function () {
    server = await startServer([answer(200, { ok: true })]);
    const { n1, got } = await load(server, { durable: false, deadline: 30 });
    n1.receive({ payload: 'x', deadline: 'soon' });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(m.error.code, 'INVALID_DEADLINE');
    assert.strictEqual(server.requests.length, 0);
  });

  it('a deadline on a durable node is reported at deploy: it applies only without the durable queue', async function () {
    server = await startServer([answer(200, { ok: true })]);
    const { n1 } = await load(server, { durable: true, deadline: 30 });
    await until(() => n1.warn.getCalls().some((c) => c.args[0] === 'http-post.errors.deadlineDurable'));
  });

  it('in-memory mode: a retry that would come after the key lifetime is not made (IDEMPOTENCY_WINDOW_PASSED)', async function () {
    // the vendor keeps keys 1.8 s (0.0005 h); it asks to come back in 3 s
    server = await startServer([answer(503, { error: 'busy' }, { 'retry-after': '3' })]);
    const { n1, got } = await load(server, { durable: false, keyLifetime: 0.0005, maxAttempts: 3 });
    const sentAt = Date.now();
    n1.receive({ payload: 'x', event: { id: 'evt-window-1' } });
    const [m] = await waitFor(got.failed, 1, 8000);
    assert.strictEqual(m.error.code, 'IDEMPOTENCY_WINDOW_PASSED');
    assert.strictEqual(
      m.error.message,
      'Not sent again: the Idempotency-Key key is older than the 1.8 s the vendor keeps it',
    );
    assert.match(m.error.details[0].reason, /whether an earlier attempt went through/);
    // the retry was due 3 s after the first attempt: past that moment, still only the first attempt was made
    await new Promise((r) => setTimeout(r, Math.max(0, sentAt + 3500 - Date.now())));
    assert.strictEqual(server.requests.length, 1, 'the late retry was not sent');
  });

  it('durable mode: a queued retry after the key lifetime becomes a dead letter with IDEMPOTENCY_WINDOW_PASSED', async function () {
    server = await startServer([answer(503, { error: 'busy' }, { 'retry-after': '3' })]);
    const { n1, got } = await load(server, { durable: true, keyLifetime: 0.0005, maxAttempts: 3 });
    await until(() => n1.status.getCalls().some((c) => !/opening/.test(JSON.stringify(c.args[0]))));
    const sentAt = Date.now();
    n1.receive({ payload: 'x', event: { id: 'evt-window-2' } });
    const [m] = await waitFor(got.failed, 1, 10000);
    assert.strictEqual(m.error.code, 'IDEMPOTENCY_WINDOW_PASSED');
    await new Promise((r) => setTimeout(r, Math.max(0, sentAt + 3500 - Date.now())));
    assert.strictEqual(server.requests.length, 1, 'the late retry was not sent');
    assert.strictEqual(server.requests[0].headers['idempotency-key'], 'evt-window-2');
    const list = (await helper.request().get('/saypro-integration-kit/outbox/n1/dead-letters').expect(200)).body;
    assert.deepStrictEqual(list.counts.byCode, { IDEMPOTENCY_WINDOW_PASSED: 1 });
    assert.strictEqual(list.items[0].id, 'evt-window-2');
  });

  it('warns at deploy when the retry schedule alone could outlast the key lifetime', async function () {
    server = await startServer([answer(200, { ok: true })]);
    const { n1 } = await load(server, {
      durable: false,
      keyLifetime: 0.01,
      maxAttempts: 20,
      maxDelay: 60000,
      initialDelay: 1000,
    });
    await until(() => n1.warn.getCalls().some((c) => c.args[0] === 'http-post.errors.keyLifetimeShort'));
  });
});
