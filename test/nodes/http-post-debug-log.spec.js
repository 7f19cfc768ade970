'use strict';
/**
 * saypro-http-post writes its line per attempt (node.debug) only when Node-RED logs debug lines
 * somewhere: with the usual settings (console at info) the line is not even built, as Node-RED
 * would build a record and an Error for each and then drop it.
 */
const assert = require('node:assert');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const harness = require('../support/http-post-harness');
const { startServer, answer, waitFor } = harness;
const { logsDebug } = require('../../dist/nodes/common/log-level.js');

helper.init(require.resolve('node-red'));

describe('saypro-http-post node: the line per attempt follows the log level', function () {
  let server;
  afterEach(async function () {
    await helper.unload();
    // the helper keeps the settings of the last load in RED.settings: take the logging out again
    helper.settings({ logging: undefined });
    if (server) await server.close();
    server = undefined;
  });

  const attemptLines = (n1) =>
    n1.debug
      .getCalls()
      .map((c) => String(c.args[0]))
      .filter((l) => /POST .*→ 200/.test(l));

  for (const [logging, expected] of [
    [{ console: { level: 'info' } }, 0],
    [{ console: { level: 'warn' }, file: { level: 'info', handler: () => () => undefined } }, 0],
    [{ console: { level: 'debug' } }, 2],
    [{ console: { level: 'info' }, audit: { level: 'trace', handler: () => () => undefined } }, 2],
  ]) {
    it(`logging ${JSON.stringify(logging)}: ${expected ? 'a line per attempt' : 'no line built'}`, async function () {
      helper.settings({ logging });
      server = await startServer([answer(200, { ok: true })]);
      await helper.load([postNode, endpointNode, catchNode], harness.flow(server, { durable: false }));
      const n1 = helper.getNode('n1');
      const ok = [];
      helper.getNode('ok').on('input', (m) => ok.push(m));
      n1.receive({ payload: { a: 1 } });
      n1.receive({ payload: { a: 2 } });
      await waitFor(ok, 2);
      assert.strictEqual(
        attemptLines(n1).length,
        expected,
        n1.debug
          .getCalls()
          .map((c) => c.args[0])
          .join('\n'),
      );
    });
  }

  it('logsDebug: no logging settings (left to Node-RED) or a handler at debug/trace: true; otherwise false', function () {
    assert.strictEqual(logsDebug(undefined), true);
    assert.strictEqual(logsDebug({}), true);
    assert.strictEqual(logsDebug({ logging: { console: { level: 'info', metrics: false } } }), false);
    assert.strictEqual(logsDebug({ logging: { console: {} } }), false);
    assert.strictEqual(logsDebug({ logging: { console: { level: 'trace' } } }), true);
    const refusing = {
      get logging() {
        throw new Error('no such setting');
      },
    };
    assert.strictEqual(logsDebug(refusing), true);
  });
});
