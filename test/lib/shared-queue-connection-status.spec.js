'use strict';
/**
 * The saypro-nats config node's status per connection state
 * (lib/shared-queue/connection-status.ts), and the state a NATS client
 * status event leads to.
 */
const assert = require('node:assert');
const { connectionStatus, stateAfter } = require('../../dist/nodes/lib/shared-queue/connection-status.js');
const CATALOGUE = require('../../locales/en-US/nats.json');

describe('lib/shared-queue/connection-status', function () {
  it('each state: its dot and its text key', function () {
    assert.deepStrictEqual(connectionStatus('connected'), {
      fill: 'green',
      shape: 'dot',
      key: 'nats.status.connected',
    });
    assert.deepStrictEqual(connectionStatus('connecting'), {
      fill: 'grey',
      shape: 'ring',
      key: 'nats.status.connecting',
    });
    assert.deepStrictEqual(connectionStatus('reconnecting'), {
      fill: 'yellow',
      shape: 'ring',
      key: 'nats.status.reconnecting',
    });
    assert.deepStrictEqual(connectionStatus('closed'), {
      fill: 'red',
      shape: 'ring',
      key: 'nats.status.disconnected',
    });
    assert.deepStrictEqual(connectionStatus('invalid'), { fill: 'red', shape: 'ring', key: 'nats.status.invalid' });
  });

  it('every key has a text in the catalogue', function () {
    for (const state of ['connected', 'connecting', 'reconnecting', 'closed', 'invalid']) {
      const key = connectionStatus(state).key;
      const text = key.split('.').reduce((n, k) => n?.[k], CATALOGUE);
      assert.strictEqual(typeof text, 'string', key);
    }
  });

  it("the client's events: a lost connection is being made again; a reconnect is up; others change nothing", function () {
    assert.strictEqual(stateAfter({ type: 'disconnect' }), 'reconnecting');
    assert.strictEqual(stateAfter({ type: 'reconnecting' }), 'reconnecting');
    assert.strictEqual(stateAfter({ type: 'reconnect' }), 'connected');
    for (const type of ['error', 'update', 'ldm', 'ping', 'staleConnection', 'forceReconnect'])
      assert.strictEqual(stateAfter({ type }), undefined, type);
  });
});
