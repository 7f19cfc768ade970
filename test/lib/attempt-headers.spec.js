'use strict';
/**
 * lib/http/attempt-headers: one attempt's headers are the sender's plus the
 * idempotency key and, when signing, Standard Webhooks headers over the exact
 * body, stamped at the attempt's time; the sender's headers are not changed.
 */
const assert = require('node:assert');
const crypto = require('node:crypto');
const { attemptHeaders } = require('../../dist/nodes/lib/http/attempt-headers');
const { verifyWebhook } = require('../../dist/nodes/lib/webhook-signature');

describe('lib/http/attempt-headers (attemptHeaders)', function () {
  const body = Buffer.from('{"amount":42}');

  it('adds the idempotency key, replacing any spelling of the same header; the sender’s copy is untouched', function () {
    const request = { path: '/', headers: { 'content-type': 'application/json', 'idempotency-key': 'stale' }, body };
    let asked = 0;
    const h = attemptHeaders(request, { idempotencyHeader: 'Idempotency-Key' }, 'key-1', () => ++asked);
    assert.deepStrictEqual(h, { 'content-type': 'application/json', 'Idempotency-Key': 'key-1' });
    assert.deepStrictEqual(request.headers, { 'content-type': 'application/json', 'idempotency-key': 'stale' });
    assert.strictEqual(asked, 0, 'the clock is read only to sign');
  });

  it('no idempotency header configured: none is added', function () {
    const h = attemptHeaders({ path: '/', headers: { a: '1' }, body }, { idempotencyHeader: '' }, 'key-1', Date.now);
    assert.deepStrictEqual(h, { a: '1' });
  });

  it('signing: webhook-id is the idempotency key, the timestamp the attempt’s second, the signature verifies over the body', function () {
    const key = crypto.randomBytes(32);
    const now = 1700000123456;
    const h = attemptHeaders(
      { path: '/', headers: { 'Webhook-Id': 'old' }, body },
      { idempotencyHeader: 'Idempotency-Key', signingKey: key },
      'evt_1',
      () => now,
    );
    assert.strictEqual(h['webhook-id'], 'evt_1');
    assert.strictEqual(h['webhook-timestamp'], '1700000123');
    assert.strictEqual(h['Webhook-Id'], undefined, 'replaced whatever its spelling');
    const v = verifyWebhook(key, h, body, { nowSeconds: Math.floor(now / 1000) });
    assert.strictEqual(v.ok, true, JSON.stringify(v));
    assert.strictEqual(
      verifyWebhook(key, h, Buffer.from('{"amount":43}'), { nowSeconds: Math.floor(now / 1000) }).ok,
      false,
    );
  });

  it('signing without a body signs the empty body', function () {
    const key = crypto.randomBytes(32);
    const now = 1700000000000;
    const h = attemptHeaders(
      { path: '/', headers: {}, body: null },
      { idempotencyHeader: '', signingKey: key },
      'e',
      () => now,
    );
    assert.strictEqual(verifyWebhook(key, h, Buffer.alloc(0), { nowSeconds: Math.floor(now / 1000) }).ok, true);
  });
});
