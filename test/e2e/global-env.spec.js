'use strict';
/**
 * A credential holding ${NAME} reads NAME where the dialog's hint says it can
 * be set: the environment of the Node-RED process, or the editor's User
 * Settings ▸ Environment (Node-RED keeps those in its `global-config` node).
 * Deployed nodes get it from Node-RED itself (its createNode maps a whole
 * `${NAME}` credential through RED.util.getSetting); the dialog's Test
 * connection, which sends the field as typed, reads it the same way for a
 * deployed endpoint. A real Node-RED process with default settings sends to a
 * partner stand-in on 127.0.0.1 that records the Authorization header.
 */
const assert = require('assert');
const http = require('http');
const { startNodeRed } = require('../support/nodered');
const { endpointNode } = require('../support/flows');
const { EDITOR_DEFAULTS } = require('../support/http-post-harness');

const FROM_SETTINGS = 'tok_user_settings_' + 'a'.repeat(12);
const FROM_PROCESS = 'tok_process_env_' + 'b'.repeat(12);

function flow(base) {
  const post = (id, endpoint, y) => ({
    id,
    type: 'saypro-http-post',
    z: 'getab',
    ...EDITOR_DEFAULTS,
    endpoint,
    path: '/' + id,
    durable: false,
    maxAttempts: 1,
    x: 320,
    y,
    wires: [[], []],
  });
  const inject = (id, target, y) => ({
    id,
    type: 'inject',
    z: 'getab',
    props: [{ p: 'payload' }],
    payload: '{"n":1}',
    payloadType: 'json',
    once: true,
    onceDelay: 0.5,
    repeat: '',
    x: 120,
    y,
    wires: [[target]],
  });
  return [
    { id: 'getab', type: 'tab', label: 'global env' },
    // what User Settings ▸ Environment saves
    { id: 'gecfg', type: 'global-config', env: [{ name: 'GE_SETTINGS_TOKEN', value: FROM_SETTINGS, type: 'str' }] },
    endpointNode('geep1', base, { authType: 'bearer', credentials: { token: '${GE_SETTINGS_TOKEN}' } }),
    endpointNode('geep2', base, { authType: 'bearer', credentials: { token: '${GE_PROCESS_TOKEN}' } }),
    inject('gein1', 'gepost1', 80),
    inject('gein2', 'gepost2', 160),
    post('gepost1', 'geep1', 80),
    post('gepost2', 'geep2', 160),
  ];
}

describe('${VAR} credentials from User Settings ▸ Environment and from the process environment (real Node-RED)', function () {
  this.timeout(60000);
  let partner;
  let nr;
  const seen = {};

  before(async function () {
    partner = http.createServer((req, res) => {
      req.resume();
      seen[req.url] = req.headers.authorization;
      res.statusCode = 200;
      res.end('{}');
    });
    await new Promise((r) => partner.listen(0, '127.0.0.1', r));
    nr = await startNodeRed({
      flow: flow(`http://127.0.0.1:${partner.address().port}`),
      env: { GE_PROCESS_TOKEN: FROM_PROCESS },
    });
  });

  after(async function () {
    if (nr) await nr.stop();
    if (partner) await new Promise((r) => partner.close(r));
  });

  it('sends the token each variable holds, wherever it was set', async function () {
    const deadline = Date.now() + 30000;
    while (!(seen['/gepost1'] && seen['/gepost2']) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepStrictEqual(seen, {
      '/gepost1': `Bearer ${FROM_SETTINGS}`,
      '/gepost2': `Bearer ${FROM_PROCESS}`,
    });
    assert.ok(!/is not set/.test(nr.output), nr.output);
  });

  it("Test connection in the endpoint's dialog reads the same variables (a deployed endpoint)", async function () {
    const test = async (id) => {
      const res = await fetch(`${nr.base}/saypro-integration-kit/test-connection`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          config: endpointNode(id, `http://127.0.0.1:${partner.address().port}`, { authType: 'bearer' }),
          credentials: { token: '${GE_SETTINGS_TOKEN}' },
          path: '/probe-' + id,
        }),
      });
      assert.strictEqual(res.status, 200);
      return res.json();
    };
    const deployed = await test('geep1');
    assert.strictEqual(deployed.ok, true, JSON.stringify(deployed));
    assert.strictEqual(seen['/probe-geep1'], `Bearer ${FROM_SETTINGS}`);
    // an endpoint not deployed yet reads the global variables as the deployed nodes do
    const fresh = await test('not-deployed-yet');
    assert.strictEqual(fresh.ok, true, JSON.stringify(fresh));
    assert.strictEqual(seen['/probe-not-deployed-yet'], `Bearer ${FROM_SETTINGS}`);
  });
});
