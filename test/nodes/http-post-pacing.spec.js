'use strict';
/**
 * saypro-http-post: pacing per endpoint, shared by every HTTP POST node that
 * uses it (concurrency, Retry-After pauses, the endpoint going offline, the
 * circuit breaker), in the test helper against real HTTP servers.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');

helper.init(require.resolve('node-red'));

const NODES = [postNode, endpointNode];
const { EDITOR_DEFAULTS, FAST, startServer, answer, until, waitFor } = require('../support/http-post-harness');

describe('saypro-http-post node: per-endpoint pacing, shared by every node using the endpoint', function () {
  let server;
  let outboxDir;

  beforeEach(function () {
    outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-pacing-spec-'));
    // the tests below read the debug line per attempt: the node builds it only when Node-RED logs debug lines
    helper.settings({ sayproOutboxDir: outboxDir, logging: { console: { level: 'debug' } } });
  });

  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
    fs.rmSync(outboxDir, { recursive: true, force: true });
  });

  /** an endpoint ep and two POST nodes a and b using it, both wired to ok / failed */
  function sharedFlow(base, endpointProps = {}, props = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'pacing' },
      { id: 'ep', type: 'saypro-endpoint', name: 'api', baseUrl: base, timeout: 2000, ...endpointProps },
      {
        id: 'postA',
        z: 'tab',
        type: 'saypro-http-post',
        ...EDITOR_DEFAULTS,
        name: 'post a',
        endpoint: 'ep',
        ...FAST,
        ...props,
        wires: [['ok'], ['failed']],
      },
      {
        id: 'postB',
        z: 'tab',
        type: 'saypro-http-post',
        ...EDITOR_DEFAULTS,
        name: 'post b',
        endpoint: 'ep',
        ...FAST,
        ...props,
        wires: [['ok'], ['failed']],
      },
      { id: 'ok', z: 'tab', type: 'helper' },
      { id: 'failed', z: 'tab', type: 'helper' },
    ];
  }
  async function loadShared(base, endpointProps, props) {
    await helper.load(NODES, sharedFlow(base, endpointProps, props));
    const got = { ok: [], failed: [] };
    for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
    const ep = helper.getNode('ep');
    const statuses = [];
    ep.register({ id: 'observer', status: (s) => statuses.push(s.text || '{}') });
    return { a: helper.getNode('postA'), b: helper.getNode('postB'), ep, got, statuses };
  }

  it('two POST nodes sharing one endpoint never have more than maxConcurrent requests out together', async function () {
    let active = 0;
    let most = 0;
    const slow = (req, res) => {
      active++;
      most = Math.max(most, active);
      setTimeout(() => {
        active--;
        answer(200, { ok: true })(req, res);
      }, 40);
    };
    server = await startServer([slow]);
    const { a, b, got } = await loadShared(server.base, { maxConcurrent: 2 });
    for (let i = 0; i < 6; i++) {
      a.receive({ payload: { n: `a${i}` } });
      b.receive({ payload: { n: `b${i}` } });
    }
    await waitFor(got.ok, 12);
    assert.strictEqual(server.requests.length, 12);
    assert.strictEqual(most, 2, `at most 2 at once at the server (saw ${most})`);
    assert.ok(
      got.ok.every((m) => m.delivery.attempts === 1),
      'waiting for a slot uses up no attempt',
    );
    assert.strictEqual(got.failed.length, 0);
  });

  it("a 429 with Retry-After: 1 to one node's message pauses the other node's message too", async function () {
    server = await startServer([
      answer(429, { error: 'slow down' }, { 'retry-after': '1' }),
      answer(200, { ok: true }),
    ]);
    const { a, b, ep, got, statuses } = await loadShared(server.base);
    a.receive({ payload: 'first', event: { id: 'evt_a' } });
    await until(() => ep.pacing().pausedUntil !== null);
    const pausedUntil = ep.pacing().pausedUntil;
    assert.strictEqual(server.requests.length, 1);
    b.receive({ payload: 'second', event: { id: 'evt_b' } });
    await waitFor(got.ok, 2);
    assert.strictEqual(server.requests.length, 3);
    for (const r of server.requests.slice(1))
      assert.ok(r.at >= pausedUntil, `a request ${pausedUntil - r.at} ms before the pause ended`);
    const byKey = Object.fromEntries(got.ok.map((m) => [m.delivery.idempotencyKey, m.delivery.attempts]));
    assert.deepStrictEqual(byKey, { evt_a: 2, evt_b: 1 }, 'the paused message used up no attempt');
    assert.ok(statuses.includes('endpoint.status.paused'), statuses.join());
    assert.strictEqual(statuses[statuses.length - 1], '{}', 'the pause status is cleared afterwards');
  });

  it('a server not listening for a while, then listening on that port: the messages are delivered, no attempt used up', async function () {
    const probe = await startServer([answer(200)]);
    const { port, base } = probe;
    await probe.close();
    const { a, b, ep, got, statuses } = await loadShared(base, {}, { maxAttempts: 1 });
    a.receive({ payload: 'one', event: { id: 'evt_1' } });
    b.receive({ payload: 'two', event: { id: 'evt_2' } });
    // (the test helper spies on the Node prototype: one list for both nodes)
    const notCounted = () =>
      a.debug
        .getCalls()
        .map((c) => String(c.args[0]))
        .filter((l) => /ECONNREFUSED.*\(not counted\)$/.test(l));
    // both messages failed to connect once, and the endpoint's first probe (after 1 s) failed too
    await until(() => notCounted().length >= 3);
    assert.strictEqual(ep.pacing().offline, true);
    assert.strictEqual(got.failed.length + got.ok.length, 0, 'still waiting, although maxAttempts is 1');
    server = await startServer([answer(200, { ok: true })], port);
    await waitFor(got.ok, 2);
    assert.strictEqual(got.failed.length, 0);
    assert.deepStrictEqual(
      got.ok.map((m) => m.delivery.attempts),
      [1, 1],
    );
    assert.strictEqual(server.requests.length, 2);
    assert.strictEqual(notCounted().length, 3, 'the probe that got an answer released everyone');
    assert.strictEqual(ep.pacing().offline, false);
    assert.ok(statuses.includes('endpoint.status.offline'), statuses.join());
    assert.strictEqual(statuses[statuses.length - 1], '{}');
  });

  it('the circuit opens after N 500s; the next requests wait, then one probe goes alone and closes it', async function () {
    let probeAnsweredAt;
    const probeHandler = (req, res) =>
      setTimeout(() => {
        probeAnsweredAt = Date.now();
        answer(200, { probe: true })(req, res);
      }, 100);
    server = await startServer([answer(500), answer(500), answer(500), probeHandler, answer(200, { ok: true })]);
    const { a, b, ep, got, statuses } = await loadShared(server.base, { breakerFailures: 3, breakerOpen: 1 });
    a.receive({ payload: 'x', event: { id: 'evt_x' } });
    await until(() => ep.pacing().circuit === 'open');
    const { openUntil } = ep.pacing();
    b.receive({ payload: 'y', event: { id: 'evt_y' } });
    a.receive({ payload: 'z', event: { id: 'evt_z' } });
    await waitFor(got.ok, 3);
    assert.strictEqual(got.failed.length, 0, 'waiting for the circuit fails nothing');
    assert.strictEqual(server.requests.length, 6);
    assert.ok(server.requests[3].at >= openUntil, 'nothing went while the circuit was open');
    for (const r of server.requests.slice(4)) assert.ok(r.at >= probeAnsweredAt, 'the probe went alone');
    const byKey = Object.fromEntries(got.ok.map((m) => [m.delivery.idempotencyKey, m.delivery.attempts]));
    assert.deepStrictEqual(byKey, { evt_x: 4, evt_y: 1, evt_z: 1 });
    assert.strictEqual(ep.pacing().circuit, 'closed');
    assert.deepStrictEqual(
      statuses.filter((x) => x !== '{}'),
      ['endpoint.status.circuitOpen', 'endpoint.status.halfOpen'],
    );
  });
});
