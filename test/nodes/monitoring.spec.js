'use strict';
/**
 * Monitoring seen from the nodes (test helper, real HTTP server
 * on 127.0.0.1): msg.delivery.deprecation, one warning per endpoint per day,
 * the endpoint's status while its answers carry a notice; the gauges the
 * endpoint and the durable queue offer to the metrics.
 */
const assert = require('node:assert');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const harness = require('../support/http-post-harness');
const { startServer, answer, until, waitFor } = harness;
const { deprecationStates } = require('../../dist/nodes/common/monitoring.js');
const bus = require('../../dist/nodes/lib/telemetry/bus');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

helper.init(require.resolve('node-red'));

const SUNSET = 'Sat, 31 Dec 2099 23:59:59 GMT';

describe('monitoring hooks in the http post and endpoint nodes', function () {
  let server;
  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
  });

  async function load(script) {
    server = await startServer(script);
    await helper.load([postNode, endpointNode, catchNode], harness.flow(server, { durable: false }));
    const got = { ok: [], failed: [] };
    for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
    return { n1: helper.getNode('n1'), ep: helper.getNode('ep'), got };
  }

  it('puts the notice on the message, warns once, shows it in the endpoint status until a clean answer', async function () {
    const noticed = answer(
      200,
      { ok: true },
      {
        sunset: SUNSET,
        'stripe-notice': 'API version 2023-08-16 will be retired',
        link: '<https://vendor.example/upgrade>; rel="sunset"',
      },
    );
    const { n1, ep, got } = await load([noticed, noticed, answer(200, { ok: true })]);
    n1.receive({ payload: { a: 1 } });
    await waitFor(got.ok, 1);
    n1.receive({ payload: { a: 2 } });
    await waitFor(got.ok, 2);
    for (const msg of got.ok.slice(0, 2)) {
      assert.deepStrictEqual(msg.delivery.deprecation, {
        deprecation: null,
        sunset: '2099-12-31T23:59:59.000Z',
        link: 'https://vendor.example/upgrade',
        warning: 'API version 2023-08-16 will be retired',
      });
    }
    const warnings = n1.warn
      .getCalls()
      .map((c) => String(c.args[0]))
      .filter((t) => t.includes('withdrawn'));
    assert.deepStrictEqual(warnings, [
      'API of endpoint "api" will be withdrawn on 2099-12-31: API version 2023-08-16 will be retired (see https://vendor.example/upgrade)',
    ]);
    assert.strictEqual(ep.endpoint.currentStatus.text, 'endpoint.status.sunset');
    assert.strictEqual(ep.endpoint.currentStatus.fill, 'yellow');
    assert.ok(deprecationStates().some((d) => d.endpointId === 'ep' && d.sunset === '2099-12-31T23:59:59.000Z'));

    // the vendor stopped saying so: the status clears, the message carries nothing
    n1.receive({ payload: { a: 3 } });
    await waitFor(got.ok, 3);
    assert.strictEqual(got.ok[2].delivery.deprecation, undefined);
    await until(
      () => !ep.endpoint.currentStatus || !ep.endpoint.currentStatus.text,
      2000,
      'the endpoint status to clear',
    );
    assert.ok(!deprecationStates().some((d) => d.endpointId === 'ep'));
  });

  it('a failed answer with a Deprecation header still carries the notice to output 2', async function () {
    const { n1, got } = await load([answer(410, { error: 'gone' }, { deprecation: '@1688169599' })]);
    n1.receive({ payload: { a: 1 } });
    await waitFor(got.failed, 1);
    assert.strictEqual(got.failed[0].error.code, 'HTTP_410');
    assert.strictEqual(got.failed[0].delivery.deprecation.deprecation, '2023-06-30T23:59:59.000Z');
  });

  it('the endpoint offers its pacing state (offline) and the durable queue its depth and dead letters to the metrics; both are withdrawn on close', async function () {
    const outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-mon-spec-'));
    helper.settings({ sayproOutboxDir: outboxDir });
    try {
      const probe = await startServer([answer(200)]);
      const base = probe.base;
      await probe.close();
      await helper.load([postNode, endpointNode, catchNode], harness.flow({ base }, { durable: true }));
      const n1 = helper.getNode('n1');
      const got = { failed: [] };
      helper.getNode('failed').on('input', (msg) => got.failed.push(msg));
      n1.receive({ payload: 'x', event: { id: 'evt_gauge_1' } });
      await until(
        () => (bus.endpoints().find((e) => e.endpointId === 'ep') || {}).offline === true,
        10000,
        'the endpoint offline',
      );
      // the failed first attempt is written to the journal as it ends
      await until(() => (bus.queues().find((x) => x.nodeId === 'n1') || {}).depth === 1, 10000, 'the depth 1');
      const q = bus.queues().find((x) => x.nodeId === 'n1');
      assert.deepStrictEqual(
        { ...q, oldestAgeSeconds: q.oldestAgeSeconds >= 0 },
        {
          node: 'post',
          nodeId: 'n1',
          endpoint: 'api',
          endpointId: 'ep',
          depth: 1,
          oldestAgeSeconds: true,
          deadLetters: 0,
        },
      );
      await helper.unload();
      assert.ok(!bus.queues().some((x) => x.nodeId === 'n1'), 'the queue is withdrawn');
      assert.ok(!bus.endpoints().some((x) => x.endpointId === 'ep'), 'the endpoint is withdrawn');
    } finally {
      helper.settings({});
      fs.rmSync(outboxDir, { recursive: true, force: true });
    }
  });
});
