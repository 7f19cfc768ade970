'use strict';
const assert = require('node:assert');
const { fc, NUM_RUNS, nastyString } = require('./arbitraries');
const {
  idempotencyKey,
  idFromIdempotencyKey,
  isHeaderValue,
  idempotencyKeyProblem,
} = require('../../../dist/nodes/lib/idempotency-key');

const anyId = fc.oneof(
  nastyString,
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('%', '2', '5', 'A', 'E', '€', '😀', ' ', '\u0000'), maxLength: 20 }),
);

describe('property: idempotency keys', function () {
  it('every id has a key that is a valid header value and decodes back to that id', function () {
    fc.assert(
      fc.property(anyId, (id) => {
        const key = idempotencyKey(id);
        if (id !== '') assert.ok(isHeaderValue(key), JSON.stringify(key));
        assert.strictEqual(idFromIdempotencyKey(key), id);
      }),
      { numRuns: NUM_RUNS * 4 },
    );
  });

  it('distinct ids never share a key', function () {
    fc.assert(
      fc.property(anyId, anyId, (a, b) => {
        fc.pre(a !== b);
        assert.notStrictEqual(idempotencyKey(a), idempotencyKey(b));
      }),
      { numRuns: NUM_RUNS * 4 },
    );
  });

  it('safe printable ASCII passes through unchanged', function () {
    const safe = fc.string({
      unit: fc
        .integer({ min: 0x21, max: 0x7e })
        .filter((c) => c !== 0x25)
        .map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 60,
    });
    fc.assert(
      fc.property(safe, (id) => assert.strictEqual(idempotencyKey(id), id)),
      { numRuns: NUM_RUNS },
    );
  });

  it('the trigger refuses exactly the ids with control characters, lone surrogates or an over-long key', function () {
    fc.assert(
      fc.property(anyId, (id) => {
        const problem = idempotencyKeyProblem(id);
        const bad = /[\u0000-\u001f\u007f-\u009f]/.test(id) || !id.isWellFormed() || idempotencyKey(id).length > 255;
        assert.strictEqual(problem !== undefined, bad, `${JSON.stringify(id)}: ${problem}`);
      }),
      { numRuns: NUM_RUNS * 2 },
    );
  });
});
