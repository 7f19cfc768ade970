'use strict';
/**
 * saypro-http-post in durable mode sends as many requests at once as its endpoint allows
 * (maxConcurrent), over as many connections, as the node does without the queue: the queue's
 * own limit follows the endpoint instead of a fixed 32.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const harness = require('../support/http-post-harness');
const { startServer, answer, until, waitFor } = harness;

helper.init(require.resolve('node-red'));

describe('saypro-http-post node: requests at once, connections and abort listeners', function () {
  this.timeout(60000);
  let server;
  let dir;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-durable-conc-'));
    helper.settings({ sayproOutboxDir: dir });
  });

  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const { durable, maxConcurrent } of [
    { durable: true, maxConcurrent: 40 },
    { durable: true, maxConcurrent: 3 },
    { durable: false, maxConcurrent: 40 },
  ]) {
    it(`${durable ? 'durable' : 'in memory'}, endpoint maxConcurrent ${maxConcurrent}: that many requests at once over that many connections, never more`, async function () {
      const held = [];
      const sockets = new Set();
      let open = 0;
      let most = 0;
      server = await startServer([
        (req, res) => {
          sockets.add(req.socket);
          open++;
          most = Math.max(most, open);
          res.on('finish', () => open--);
          held.push(res);
        },
      ]);
      const total = maxConcurrent + 5;
      await helper.load(
        [postNode, endpointNode, catchNode],
        harness.flow(server, { durable }, { maxConcurrent }, { label: 'concurrency', timeout: 30000 }),
      );
      const n1 = helper.getNode('n1');
      const ok = [];
      helper.getNode('ok').on('input', (msg) => ok.push(msg));
      for (let i = 0; i < total; i++) n1.receive({ payload: { i }, event: { id: `evt_${i}` } });
      await until(
        () => held.length >= maxConcurrent,
        20000,
        () => `${held.length} requests reached the server at once, ${maxConcurrent} expected`,
      );
      assert.strictEqual(held.length, maxConcurrent, 'no request beyond the endpoint limit while the others are held');
      // let them all go: the rest follow on the same connections
      const release = () => {
        while (held.length) answer(200, { ok: true })(null, held.shift());
      };
      release();
      const timer = setInterval(release, 5);
      try {
        await waitFor(ok, total, 20000);
      } finally {
        clearInterval(timer);
      }
      assert.strictEqual(server.requests.length, total);
      assert.ok(most <= maxConcurrent, `${most} requests at once, limit ${maxConcurrent}`);
      assert.strictEqual(sockets.size, maxConcurrent, `${sockets.size} connections for ${maxConcurrent} at once`);
    });
  }

  it('in memory, 1,000 messages with 50 in flight through one endpoint: every one delivered, no abort listener piles up (no MaxListenersExceededWarning)', async function () {
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      server = await startServer([answer(200, { ok: true })]);
      await helper.load(
        [postNode, endpointNode, catchNode],
        harness.flow(server, { durable: false }, { maxConcurrent: 50 }, { label: 'listeners', timeout: 30000 }),
      );
      const n1 = helper.getNode('n1');
      const ok = [];
      helper.getNode('ok').on('input', (msg) => ok.push(msg));
      for (let i = 0; i < 1000; i++) n1.receive({ payload: { i }, event: { id: `evt_${i}` } });
      await waitFor(ok, 1000, 45000);
      // a warning is emitted on a later tick
      await new Promise((r) => setImmediate(r));
      assert.strictEqual(server.requests.length, 1000);
      assert.deepStrictEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
        [],
      );
    } finally {
      process.off('warning', onWarning);
    }
  });
});
