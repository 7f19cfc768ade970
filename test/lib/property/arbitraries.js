'use strict';
/**
 * Random and adversarial inputs shared by the property-based tests: JSON-ish
 * values with unicode, control characters, NaN/Infinity, `__proto__` and
 * `constructor` keys, deep nesting, cycles and long strings. Runs are kept
 * small (numRuns) so that `npm run test:unit` stays fast.
 */
const fc = require('fast-check');

const NUM_RUNS = Number(process.env.PROPERTY_RUNS) || 150;

const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\r\n',
    '__proto__',
    'constructor',
    'prototype',
    '€',
    '😀',
    '\ud800',
    '\udc00',
    '%',
    '%25',
    '${HOME}',
    '<![CDATA[',
    ']]>',
    '=cmd|',
    '&amp;',
    '"',
    '\\',
  ),
);

const nastyKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'a.b', 'a[0]', ' '),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

const nastyNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER + 2, 1e308, 5e-324),
  fc.integer(),
);

/** any JSON-like value, with prototype keys and odd numbers, at most a few levels deep */
const nastyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** `depth` levels of arrays or objects, built without recursion */
function deeplyNested(depth, leaf = 1) {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** an object that contains itself */
function cyclic() {
  const a = { type: 'x', data: {} };
  a.data.self = a;
  a.list = [a];
  return a;
}

/** a value that may be a cycle, a deep nest or a huge string, besides the random ones */
const adversarial = fc.oneof(
  { weight: 6, arbitrary: nastyValue },
  { weight: 1, arbitrary: fc.constant(null).map(() => cyclic()) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3000 }).map((d) => deeplyNested(d)) },
  { weight: 1, arbitrary: fc.integer({ min: 100000, max: 400000 }).map((n) => 'x'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc
      .constant(null)
      .map(() => JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}')),
  },
);

/** Asserts that nothing leaked onto Object.prototype. */
function assertNoPollution() {
  if ({}.polluted !== undefined || Object.prototype.polluted !== undefined)
    throw new Error('Object.prototype was polluted');
}

module.exports = {
  fc,
  NUM_RUNS,
  nastyString,
  nastyKey,
  nastyNumber,
  nastyValue,
  adversarial,
  deeplyNested,
  cyclic,
  assertNoPollution,
};
