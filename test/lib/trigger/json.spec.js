'use strict';
const assert = require('node:assert');
const { parseJsonBody, jsonDepth, MAX_JSON_DEPTH } = require('../../../dist/nodes/lib/trigger/json');

describe('trigger JSON bodies', function () {
  it('measures nesting outside strings only', function () {
    assert.strictEqual(jsonDepth('{"a":[1,{"b":[]}]}'), 4);
    assert.strictEqual(jsonDepth('"[[[[{{{{"'), 0);
    assert.strictEqual(jsonDepth('{"a":"\\"[[[["}'), 1);
    assert.strictEqual(jsonDepth('42'), 0);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more with JSON_TOO_DEEP and the reason`, function () {
    const nest = (n) => '['.repeat(n) + ']'.repeat(n);
    assert.ok(Array.isArray(parseJsonBody(nest(MAX_JSON_DEPTH))));
    assert.throws(
      () => parseJsonBody(nest(MAX_JSON_DEPTH + 1)),
      (e) => e.code === 'JSON_TOO_DEEP' && /more than 64 levels/.test(e.details[0].reason),
    );
  });

  it('refuses 100,000 levels before JSON.parse, without a stack overflow', function () {
    const text = '{"a":'.repeat(100000) + '1' + '}'.repeat(100000);
    assert.throws(
      () => parseJsonBody(text),
      (e) => e.code === 'JSON_TOO_DEEP',
    );
  });
});
