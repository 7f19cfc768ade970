'use strict';
/**
 * What a shared queue publishes for one message (lib/shared-queue/enqueue.ts):
 * the request as built without the node's own headers or secret-looking ones,
 * the message as a snapshot, the ordering key only when there is one; and the
 * errors a refused or unqueued message carries. Publishing against a real
 * nats-server: test/e2e/shared-queue-lib.spec.js.
 */
const assert = require('assert');
const { toWireItem, fullRefusal, queueUnavailable } = require('../../dist/nodes/lib/shared-queue/enqueue');
const { restoreMessage } = require('../../dist/nodes/lib/outbox/snapshot');

function input(extra = {}) {
  return {
    id: 'evt_1',
    method: 'POST',
    path: '/orders',
    headers: { 'content-type': 'application/json', 'x-api-key': 'from-config', 'x-trace': 't1' },
    body: Buffer.from('{"id":1}'),
    msg: { payload: { id: 1 }, topic: 'orders' },
    ...extra,
  };
}

describe('shared queue: the message as published', function () {
  it('keeps the route, the body and the message, but not the headers the node supplies', function () {
    const item = toWireItem(input(), { 'X-Api-Key': 'from-config' }, 1234);
    assert.strictEqual(item.idempotencyKey, 'evt_1');
    assert.strictEqual(item.createdAt, 1234);
    assert.deepStrictEqual(item.request, {
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json', 'x-trace': 't1' },
      bodyBase64: Buffer.from('{"id":1}').toString('base64'),
    });
    const back = restoreMessage(JSON.parse(JSON.stringify(item.msg)), Buffer.from('{"id":1}'));
    assert.strictEqual(back.topic, 'orders');
    assert.deepStrictEqual(back.payload, { id: 1 });
    assert.ok(!('orderingKey' in item));
  });

  it('never publishes a secret-looking message header, even one the configuration does not set', function () {
    const item = toWireItem(
      input({ headers: { Authorization: 'Bearer s3cr3t', 'x-session-id': 'abc', 'Idempotency-Key': 'evt_1' } }),
      {},
      0,
    );
    assert.deepStrictEqual(item.request.headers, { 'Idempotency-Key': 'evt_1' });
    assert.ok(!JSON.stringify(item).includes('s3cr3t'));
  });

  it('carries the ordering key only when there is one, and a missing body as null', function () {
    assert.strictEqual(toWireItem(input({ orderingKey: 'listing-42' }), {}, 0).orderingKey, 'listing-42');
    assert.ok(!('orderingKey' in toWireItem(input({ orderingKey: '' }), {}, 0)));
    assert.strictEqual(toWireItem(input({ body: null }), {}, 0).request.bodyBase64, null);
  });

  it('names the limit that refused a message, and says why nothing was queued while NATS is away', function () {
    const count = fullRefusal('maxItems', 'maximum messages exceeded');
    assert.strictEqual(count.code, 'OUTBOX_FULL');
    assert.deepStrictEqual(count.details, [{ field: 'maxQueued', reason: 'maximum messages exceeded' }]);
    assert.strictEqual(fullRefusal('itemTooLarge', 'too big').details[0].field, 'maxQueuedMB');
    const away = queueUnavailable('not connected to any NATS server');
    assert.strictEqual(away.code, 'SHARED_QUEUE_UNAVAILABLE');
    assert.match(away.message, /not queued/);
    assert.deepStrictEqual(away.details, [{ field: 'nats', reason: 'not connected to any NATS server' }]);
  });
});
