'use strict';
/**
 * saypro-nats config node in the test helper: loads with defaults, reports bad
 * settings without crashing, and — against a real nats-server with a token —
 * connects with credentials, pushes its state to users and closes on redeploy.
 */
const assert = require('node:assert');
const helper = require('node-red-node-test-helper');
const natsNode = require('../../dist/nodes/nats.js');
const tlsNode = require('@node-red/nodes/core/network/05-tls.js');
const { natsServerPath, startNatsCluster } = require('../support/nats-cluster');

helper.init(require.resolve('node-red'));

function load(flow, creds) {
  return new Promise((resolve) => helper.load([natsNode, tlsNode], flow, creds || {}, resolve));
}

describe('saypro-nats config node', function () {
  this.timeout(30000);
  afterEach(async function () {
    await helper.unload();
  });

  it('loads with defaults', async function () {
    await load([{ id: 'n1', type: 'saypro-nats', servers: 'nats://127.0.0.1:4222' }]);
    const n = helper.getNode('n1');
    assert.ok(n);
    assert.strictEqual(n.problem, undefined);
    assert.strictEqual(n.replicas, 1);
    assert.strictEqual(n.state(), 'connecting');
  });

  it('reports a bad server address and two ways of signing in, and refuses to connect', async function () {
    await load([{ id: 'n1', type: 'saypro-nats', servers: 'http://x/y' }], {
      n1: { token: 't', user: 'u', password: 'p' },
    });
    const n = helper.getNode('n1');
    assert.match(n.problem, /servers/);
    assert.match(n.problem, /auth/);
    assert.strictEqual(n.state(), 'invalid');
    await assert.rejects(n.connection(), /servers/);
    const statuses = [];
    n.register({ id: 'u1', status: (s) => statuses.push(s) });
    assert.strictEqual(statuses[0].fill, 'red');
    assert.strictEqual(statuses[0].text, 'nats.status.invalid');
  });

  it('connects with a token from the credentials, tells its users, and closes on unload', async function () {
    if (!natsServerPath()) {
      if (process.env.CI) throw new Error('nats-server is not installed');
      return this.skip();
    }
    const cluster = await startNatsCluster({ size: 1, token: 's3cret-token' });
    try {
      await load([{ id: 'n1', type: 'saypro-nats', servers: cluster.urls[0], replicas: 3 }], {
        n1: { token: 's3cret-token' },
      });
      const n = helper.getNode('n1');
      assert.strictEqual(n.replicas, 3);
      const statuses = [];
      n.register({ id: 'u1', status: (s) => statuses.push(s.text) });
      const nc = await n.connection();
      assert.strictEqual(n.isConnected(), true);
      assert.ok(statuses.includes('nats.status.connected'), JSON.stringify(statuses));
      assert.strictEqual(await n.connection(), nc, 'one connection per config node');
      await helper.unload();
      await nc.closed();
      assert.strictEqual(nc.isClosed(), true);
    } finally {
      await cluster.stop();
    }
  });

  it('does not connect with a wrong token (the error names no secret)', async function () {
    if (!natsServerPath()) return this.skip();
    const cluster = await startNatsCluster({ size: 1, token: 'right-token' });
    try {
      await load([{ id: 'n1', type: 'saypro-nats', servers: cluster.urls[0] }], { n1: { token: 'wrong-token' } });
      const n = helper.getNode('n1');
      const err = await n.connection().then(
        () => null,
        (e) => e,
      );
      assert.ok(err, 'the connection was refused');
      assert.ok(!String(err.message).includes('wrong-token'));
      assert.strictEqual(n.isConnected(), false);
    } finally {
      await cluster.stop();
    }
  });
});
