'use strict';
const assert = require('node:assert');
const {
  idempotencyKey,
  idFromIdempotencyKey,
  idempotencyKeyProblem,
  isHeaderValue,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} = require('../../dist/nodes/lib/idempotency-key');
const { idempotencyKeyFor } = require('../../dist/nodes/lib/http/deliver');

describe('idempotency keys', function () {
  it('safe ASCII ids are their own key', function () {
    for (const id of ['evt_123', 'order-42', '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'a.b:c/d=e+f~g']) {
      assert.strictEqual(idempotencyKey(id), id);
    }
  });

  it('percent-encodes everything else as UTF-8, so € and 😀 make distinct keys', function () {
    assert.strictEqual(idempotencyKey('order-€-1'), 'order-%E2%82%AC-1');
    assert.strictEqual(idempotencyKey('order-😀-1'), 'order-%F0%9F%98%80-1');
    assert.strictEqual(idempotencyKey('a b'), 'a%20b');
    assert.strictEqual(idempotencyKey('a\r\nb\u0000'), 'a%0D%0Ab%00');
  });

  it('escapes the escape character, so an id holding "%41" never collides with "A"', function () {
    assert.strictEqual(idempotencyKey('%41'), '%2541');
    assert.notStrictEqual(idempotencyKey('%41'), idempotencyKey('A'));
    assert.notStrictEqual(idempotencyKey('a%'), idempotencyKey('a%25'));
    for (const id of ['%41', 'a%', 'a%25', '%E2%82%AC', '€'])
      assert.strictEqual(idFromIdempotencyKey(idempotencyKey(id)), id);
  });

  it('a lone surrogate still gets a key, distinct from every valid string', function () {
    const lone = 'x\ud800y';
    assert.strictEqual(idempotencyKey(lone), 'x%ED%A0%80y');
    assert.strictEqual(idFromIdempotencyKey(idempotencyKey(lone)), lone);
    assert.ok(isHeaderValue(idempotencyKey(lone)));
  });

  it('names why an id cannot be a key: control characters, lone surrogates, too long', function () {
    assert.strictEqual(idempotencyKeyProblem('order-€-1'), undefined);
    assert.match(idempotencyKeyProblem('a\u0000b'), /control characters \(U\+0000 at 1\)/);
    assert.match(idempotencyKeyProblem('a\r\nb'), /U\+000D/);
    assert.match(idempotencyKeyProblem('a\u0085'), /U\+0085/);
    assert.match(idempotencyKeyProblem('a\udc00'), /lone surrogate/);
    assert.strictEqual(idempotencyKeyProblem('x'.repeat(MAX_IDEMPOTENCY_KEY_LENGTH)), undefined);
    assert.match(idempotencyKeyProblem('€'.repeat(30)), /270 characters, more than 255/);
  });

  it('the HTTP POST node sends the key of msg.event.id', function () {
    assert.strictEqual(idempotencyKeyFor({ event: { id: 'order-€-1' } }), 'order-%E2%82%AC-1');
    assert.strictEqual(idempotencyKeyFor({ event: { id: 42 } }), '42');
    assert.strictEqual(idempotencyKeyFor({ event: { id: 'evt_1' } }), 'evt_1');
    assert.ok(isHeaderValue(idempotencyKeyFor({ event: { id: 'line\nbreak' } })));
  });
});
