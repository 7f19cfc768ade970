'use strict';
const assert = require('node:assert');
const { fc, NUM_RUNS, nastyString, adversarial, assertNoPollution } = require('./arbitraries');
const { createMapper, SOURCE_TYPES, VALUE_TYPES } = require('../../../dist/nodes/lib/mapping');

const rule = fc.record(
  {
    target: fc.oneof(
      fc.constantFrom('a', 'b.c', 'items[0].x', '__proto__.polluted', 'constructor.prototype.polluted', 'x.__proto__'),
      nastyString,
    ),
    sourceType: fc.oneof(fc.constantFrom(...SOURCE_TYPES.filter((t) => t !== 'jsonata')), nastyString),
    source: fc.oneof(
      fc.constantFrom(
        'payload',
        'payload.a',
        'payload.__proto__',
        'payload["constructor"]',
        'payload.list[0]',
        '1e999',
        'NaN',
        '{"a":1}',
        'HOME',
      ),
      nastyString,
    ),
    type: fc.oneof(fc.constantFrom(...VALUE_TYPES), nastyString),
    default: fc.oneof(fc.constant(''), nastyString),
    required: fc.boolean(),
    decimals: fc.oneof(fc.integer({ min: -2, max: 12 }), nastyString),
  },
  { requiredKeys: ['target'] },
);

describe('property: field mapper', function () {
  it('maps any message with any rules to a result or a list of problems, never a rejection', async function () {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(rule, { maxLength: 5 }), adversarial), adversarial, async (rules, payload) => {
        const mapper = createMapper(rules);
        const result = await mapper.map({ payload, topic: 't' }, { env: { HOME: '/home/x' } }, { keepUnmapped: true });
        assert.strictEqual(typeof result.ok, 'boolean');
        if (result.ok) {
          assert.strictEqual(typeof result.value, 'object');
        } else {
          assert.ok(Array.isArray(result.problems) && result.problems.length > 0);
          for (const p of result.problems) assert.strictEqual(typeof p.reason, 'string');
        }
        assertNoPollution();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('string rules copy any string value exactly', async function () {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }), async (s) => {
        const mapper = createMapper([
          { target: 'out', sourceType: 'msg', source: 'payload.v', type: 'string', required: true },
        ]);
        const result = await mapper.map({ payload: { v: s } });
        assert.deepStrictEqual(result, { ok: true, value: { out: s } });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
