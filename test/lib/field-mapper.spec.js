'use strict';
const assert = require('node:assert');
const jsonata = require('jsonata');
const {
  convertValue,
  toMinorUnits,
  toEpochMs,
  validateRules,
  mapFields,
  createMapper,
  summarise,
  looksSecret,
} = require('../../dist/nodes/lib/mapping');

const resolver = {
  evaluateJsonata: (expr, msg) => jsonata(expr).evaluate(msg),
  env: { SHOP_ID: 'shop-7', EMPTY_VAR: '' },
};
const parseJsonata = (expr) => {
  jsonata(expr);
};

function ok(value, type, decimals) {
  const r = convertValue(value, type, decimals);
  assert.ok(r.ok, `${JSON.stringify(value)} as ${type} failed: ${r.reason}`);
  return r.value;
}
function bad(value, type, pattern, decimals) {
  const r = convertValue(value, type, decimals);
  assert.strictEqual(r.ok, false, `${String(value)} as ${type} should fail but gave ${JSON.stringify(r.value)}`);
  if (pattern) assert.match(r.reason, pattern);
  return r.reason;
}

describe('lib/mapping', function () {
  describe('conversions', function () {
    it('auto keeps values as they are', function () {
      const o = { a: 1 };
      assert.strictEqual(ok(o, 'auto'), o);
      assert.strictEqual(ok('12', 'auto'), '12');
    });

    it('string', function () {
      assert.strictEqual(ok('x', 'string'), 'x');
      assert.strictEqual(ok(42, 'string'), '42');
      assert.strictEqual(ok(false, 'string'), 'false');
      assert.strictEqual(ok(new Date(Date.UTC(2024, 0, 2)), 'string'), '2024-01-02T00:00:00.000Z');
      bad({ a: 1 }, 'string', /an object cannot be converted to text/);
      bad([1], 'string', /an array cannot be converted/);
      bad(NaN, 'string');
    });

    it('number', function () {
      assert.strictEqual(ok('12.5', 'number'), 12.5);
      assert.strictEqual(ok(' -3 ', 'number'), -3);
      assert.strictEqual(ok('1e3', 'number'), 1000);
      assert.strictEqual(ok(7, 'number'), 7);
      bad('abc', 'number', /not a number/);
      bad('12abc', 'number', /not a number/);
      bad('0x10', 'number', /not a number/);
      bad(true, 'number', /boolean cannot be converted/);
      bad(Infinity, 'number');
      bad({}, 'number');
    });

    it('integer', function () {
      assert.strictEqual(ok('12', 'integer'), 12);
      assert.strictEqual(ok(12, 'integer'), 12);
      assert.strictEqual(ok('12.0', 'integer'), 12);
      assert.strictEqual(ok('1e2', 'integer'), 100);
      bad(12.5, 'integer', /not a whole number/);
      bad('12.5', 'integer', /not a whole number/);
      bad(2 ** 60, 'integer', /out of range/);
      bad('abc', 'integer', /not a number/);
    });

    it('boolean', function () {
      for (const t of [true, 'true', 'TRUE', 'yes', 'Y', 'on', '1', 1])
        assert.strictEqual(ok(t, 'boolean'), true, String(t));
      for (const f of [false, 'false', 'No', 'n', 'off', '0', 0])
        assert.strictEqual(ok(f, 'boolean'), false, String(f));
      bad('maybe', 'boolean', /not a boolean/);
      bad(2, 'boolean', /not a boolean/);
      bad({}, 'boolean');
    });

    it('date: Date, ISO text and epoch seconds/milliseconds', function () {
      assert.strictEqual(ok(new Date(Date.UTC(2024, 2, 7, 10, 30)), 'date'), '2024-03-07T10:30:00.000Z');
      assert.strictEqual(ok(1700000000, 'date'), '2023-11-14T22:13:20.000Z');
      assert.strictEqual(ok(1700000000123, 'date'), '2023-11-14T22:13:20.123Z');
      assert.strictEqual(ok('1700000000', 'date'), '2023-11-14T22:13:20.000Z');
      assert.strictEqual(ok(99999999999, 'date'), new Date(99999999999 * 1000).toISOString());
      assert.strictEqual(ok(100000000000, 'date'), new Date(100000000000).toISOString());
      assert.strictEqual(ok('2024-03-07', 'date'), '2024-03-07T00:00:00.000Z');
      assert.strictEqual(ok('2024-03-07T10:30:00Z', 'date'), '2024-03-07T10:30:00.000Z');
      assert.strictEqual(ok('2024-03-07T10:30:00.5+01:00', 'date'), '2024-03-07T09:30:00.500Z');
      assert.strictEqual(ok('2024-03-07T10:30:00-0530', 'date'), '2024-03-07T16:00:00.000Z');
      assert.strictEqual(ok('2024-03-07T10:30', 'date'), '2024-03-07T10:30:00.000Z', 'no offset is UTC');
      assert.strictEqual(ok('2024-02-29', 'date'), '2024-02-29T00:00:00.000Z');
      bad('2024-02-30', 'date', /out of range/);
      bad('2023-02-29', 'date', /out of range/);
      bad('2024-13-01', 'date', /out of range/);
      bad('2024-03-07T24:00:00Z', 'date', /out of range/);
      bad('March 7, 2024', 'date', /not a valid date/);
      bad('yesterday', 'date', /not a valid date/);
      bad(new Date('nope'), 'date', /not a valid date/);
      bad(1e20, 'date', /not a valid date/);
      bad(true, 'date', /cannot be converted to a date/);
    });

    it('unix: integer epoch seconds from the same inputs', function () {
      assert.strictEqual(ok('2023-11-14T22:13:20Z', 'unix'), 1700000000);
      assert.strictEqual(ok(1700000000999, 'unix'), 1700000000);
      assert.strictEqual(ok(1700000000, 'unix'), 1700000000);
      assert.strictEqual(ok(new Date(1700000000500), 'unix'), 1700000000);
      assert.strictEqual(ok('1970-01-01T00:00:00Z', 'unix'), 0);
      bad('not a date', 'unix', /not a valid date/);
    });

    it('minor units: exact decimal arithmetic, half away from zero', function () {
      const cases = [
        [10.5, 2, 1050],
        ['19.99', 2, 1999],
        [1.005, 2, 101],
        [0, 2, 0],
        [-2.5, 2, -250],
        ['1e2', 2, 10000],
        [1050, 0, 1050],
        ['1050.4', 0, 1050],
        ['1050.5', 0, 1051],
        ['-1050.5', 0, -1051],
        [0.1 + 0.2, 2, 30],
        [1.1 * 3, 2, 330],
        ['0.005', 2, 1],
        ['-0.005', 2, -1],
        ['0.004', 2, 0],
        ['-0.004', 2, 0],
        ['1.2345', 3, 1235],
        ['12.345', 3, 12345],
        [' 19.99 ', 2, 1999],
        ['+3', 2, 300],
        ['.5', 2, 50],
        ['5.', 2, 500],
        [1e21, 2, null],
        ['1.5e-1', 2, 15],
        ['2.675', 2, 268],
        [8.675, 2, 868],
        ['0.0000001', 2, 0],
      ];
      for (const [input, decimals, expected] of cases) {
        const r = toMinorUnits(input, decimals);
        if (expected === null) {
          assert.strictEqual(r.ok, false, `${input} should be out of range`);
          continue;
        }
        assert.ok(r.ok, `${input}: ${r.reason}`);
        assert.strictEqual(r.value, expected, `${input} with ${decimals} decimals`);
        assert.ok(!Object.is(r.value, -0), `${input} gave -0`);
      }
      assert.strictEqual(ok('19.99', 'minor'), 1999, 'decimals default to 2');
      assert.strictEqual(ok(1050, 'minor', 0), 1050);
      bad('abc', 'minor', /not an amount/);
      bad('$10', 'minor', /not an amount/);
      bad('1,000.00', 'minor', /not an amount/);
      bad(true, 'minor', /cannot be converted to minor units/);
      bad(NaN, 'minor');
      bad('1', 'minor', /decimals/, 9);
    });

    it('toEpochMs reports a reason and never throws', function () {
      assert.deepStrictEqual(toEpochMs({}), { ok: false, reason: 'an object cannot be converted to a date' });
    });

    it('unknown types are a problem', function () {
      bad(1, 'float', /unknown type/);
    });
  });

  describe('validateRules', function () {
    it('accepts good rules', function () {
      assert.deepStrictEqual(
        validateRules(
          [
            { target: 'a', sourceType: 'msg', source: 'payload.a', type: 'auto' },
            { target: 'b.c', sourceType: 'jsonata', source: 'payload.x * 2', type: 'number' },
            { target: 'items[0]["first name"]', sourceType: 'str', source: '', type: 'string' },
            { target: 'n', sourceType: 'num', source: '4', type: 'minor', decimals: 0 },
            { target: 'j', sourceType: 'json', source: '{"x":1}' },
            { target: 'e', sourceType: 'env', source: 'HOME' },
            { target: 't', sourceType: 'bool', source: 'true', type: 'boolean', default: 'no' },
          ],
          { parseJsonata },
        ),
        [],
      );
      assert.deepStrictEqual(validateRules([]), []);
    });

    it('finds every problem, each with its rule', function () {
      const problems = validateRules(
        [
          { target: '', source: 'payload' },
          { target: 'a..b', source: 'payload' },
          { target: 'ok', sourceType: 'jsonata', source: 'payload.(' },
          { target: 'p', source: 'payload.__proto__' },
          { target: 'q', sourceType: 'num', source: 'abc' },
          { target: 'r', sourceType: 'json', source: '{bad' },
          { target: 's', source: 'payload.s', type: 'number', default: 'zero' },
          { target: 'ok', source: 'payload.x' },
          { target: 'm', source: 'payload.m', type: 'minor', decimals: 12 },
          { target: 'z', sourceType: 'nope', source: 'x' },
          { target: 'w', source: 'payload.w', type: 'float' },
        ],
        { parseJsonata },
      );
      const byRule = Object.fromEntries(problems.map((p) => [p.rule, p]));
      assert.strictEqual(problems.length, 11, JSON.stringify(problems, null, 1));
      assert.match(byRule['rule 1'].reason, /target is empty/);
      assert.strictEqual(byRule['rule 1'].field, undefined);
      assert.match(byRule['rule 2'].reason, /^target: empty key/);
      assert.strictEqual(byRule['rule 2'].field, 'a..b');
      assert.match(byRule['rule 3'].reason, /invalid JSONata/);
      assert.match(byRule['rule 4'].reason, /not allowed/);
      assert.match(byRule['rule 5'].reason, /not a number/);
      assert.match(byRule['rule 6'].reason, /not valid JSON/);
      assert.match(byRule['rule 7'].reason, /default cannot be converted to number/);
      assert.match(byRule['rule 8'].reason, /same target as rule 3/);
      assert.match(byRule['rule 9'].reason, /decimals/);
      assert.match(byRule['rule 10'].reason, /unknown source type/);
      assert.match(byRule['rule 11'].reason, /unknown type/);
    });

    it('does not treat case-distinct targets as duplicates', function () {
      assert.deepStrictEqual(
        validateRules([
          { target: 'name', source: 'payload.a' },
          { target: 'Name', source: 'payload.b' },
          { target: 'person_name', source: 'payload.c' },
        ]),
        [],
      );
    });

    it('rejects a non-list', function () {
      assert.strictEqual(validateRules('x').length, 1);
    });
  });

  describe('mapFields', function () {
    it('keeps exact keys from three different sources distinct', async function () {
      const msg = { payload: { first: 'Ann', display: 'ANN', full: 'Ann Lee' } };
      const r = await mapFields(
        [
          { target: 'name', source: 'payload.first' },
          { target: 'Name', source: 'payload.display' },
          { target: 'person_name', source: 'payload.full' },
        ],
        msg,
        resolver,
      );
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepStrictEqual(r.value, { name: 'Ann', Name: 'ANN', person_name: 'Ann Lee' });
      assert.deepStrictEqual(Object.keys(r.value), ['name', 'Name', 'person_name']);
    });

    it('builds nested, array and quoted targets from every source type', async function () {
      const msg = { payload: { user: { email: 'a@b.c' }, amount: '19.99', when: 1700000000 }, event: { id: 'evt_1' } };
      const r = await mapFields(
        [
          { target: 'customer.email', source: 'payload.user.email', type: 'string' },
          { target: 'items[0].price', source: 'payload.amount', type: 'minor' },
          { target: 'items[0].qty', sourceType: 'num', source: '2', type: 'integer' },
          { target: '["first name"]', sourceType: 'jsonata', source: '$uppercase(payload.user.email)' },
          { target: 'meta.eventId', source: 'event.id' },
          { target: 'meta.shop', sourceType: 'env', source: 'SHOP_ID' },
          { target: 'meta.live', sourceType: 'bool', source: 'true' },
          { target: 'meta.tags', sourceType: 'json', source: '["a","b"]' },
          { target: 'meta.at', source: 'payload.when', type: 'date' },
          { target: 'meta.kind', sourceType: 'str', source: 'order' },
        ],
        msg,
        resolver,
      );
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepStrictEqual(r.value, {
        customer: { email: 'a@b.c' },
        items: [{ price: 1999, qty: 2 }],
        'first name': 'A@B.C',
        meta: {
          eventId: 'evt_1',
          shop: 'shop-7',
          live: true,
          tags: ['a', 'b'],
          at: '2023-11-14T22:13:20.000Z',
          kind: 'order',
        },
      });
    });

    it('uses defaults (converted) for undefined, null and empty string; optional empty targets are left out', async function () {
      const msg = { payload: { a: null, b: '', c: undefined } };
      const r = await mapFields(
        [
          { target: 'a', source: 'payload.a', type: 'integer', default: '5' },
          { target: 'b', source: 'payload.b', type: 'boolean', default: 'yes' },
          { target: 'c', source: 'payload.c', default: 'none' },
          { target: 'd', source: 'payload.d', type: 'minor', default: '1.5' },
          { target: 'e', sourceType: 'env', source: 'EMPTY_VAR', default: 'fallback' },
          { target: 'f', source: 'payload.f' },
          { target: 'g', sourceType: 'env', source: 'NOT_SET_ANYWHERE' },
        ],
        msg,
        resolver,
      );
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepStrictEqual(r.value, { a: 5, b: true, c: 'none', d: 150, e: 'fallback' });
      assert.ok(!('f' in r.value) && !('g' in r.value));
    });

    it('reports every problem at once', async function () {
      const msg = { payload: { qty: 12.5, amount: 'abc', ok: 'fine', flag: 'maybe', when: 'soon', obj: { x: 1 } } };
      const r = await mapFields(
        [
          { target: 'good', source: 'payload.ok' },
          { target: 'customer.email', source: 'payload.email', required: true },
          { target: 'qty', source: 'payload.qty', type: 'integer' },
          { target: 'amount', source: 'payload.amount', type: 'number' },
          { target: 'flag', source: 'payload.flag', type: 'boolean' },
          { target: 'at', source: 'payload.when', type: 'date' },
          { target: 'label', source: 'payload.obj', type: 'string' },
        ],
        msg,
        resolver,
      );
      assert.strictEqual(r.ok, false);
      assert.deepStrictEqual(r.problems, [
        { field: 'customer.email', rule: 'rule 2', reason: 'required value is missing' },
        { field: 'qty', rule: 'rule 3', reason: 'not a whole number', value: 12.5 },
        { field: 'amount', rule: 'rule 4', reason: 'not a number', value: 'abc' },
        {
          field: 'flag',
          rule: 'rule 5',
          reason: 'not a boolean (use true/false, yes/no, on/off or 1/0)',
          value: 'maybe',
        },
        {
          field: 'at',
          rule: 'rule 6',
          reason: 'not a valid date (expected ISO-8601 text or an epoch number)',
          value: 'soon',
        },
        { field: 'label', rule: 'rule 7', reason: 'an object cannot be converted to text' },
      ]);
      const text = summarise(r.problems);
      assert.match(
        text,
        /^6 fields failed validation: customer\.email \(rule 2\): required value is missing; qty \(rule 3\)/,
      );
      assert.ok(!text.includes('abc') && !text.includes('maybe'), 'the summary never contains values');
    });

    it('a required rule uses its default; a default that cannot be converted is a rule problem', async function () {
      const r = await mapFields(
        [{ target: 'x', source: 'payload.x', required: true, default: '3', type: 'number' }],
        { payload: {} },
        resolver,
      );
      assert.deepStrictEqual(r, { ok: true, value: { x: 3 } });
      const bad = await mapFields(
        [{ target: 'x', source: 'payload.x', default: 'three', type: 'number' }],
        { payload: {} },
        resolver,
      );
      assert.strictEqual(bad.ok, false);
      assert.match(bad.problems[0].reason, /default cannot be converted/);
    });

    it('never puts secret-looking or long values in details', async function () {
      const long = 'x'.repeat(101);
      const r = await mapFields(
        [
          { target: 'password', source: 'payload.p', type: 'number' },
          { target: 'plain', source: 'payload.card_number', type: 'number' },
          { target: 'apiKey', sourceType: 'env', source: 'SHOP_ID', type: 'number' },
          { target: 'longText', source: 'payload.long', type: 'number' },
          { target: 'short', source: 'payload.short', type: 'number' },
        ],
        { payload: { p: 'hunter2', card_number: '4242 4242', long, short: 'x'.repeat(100) } },
        resolver,
      );
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.problems.length, 5);
      for (const p of r.problems.slice(0, 4)) assert.ok(!('value' in p), `${p.field} leaked its value`);
      assert.strictEqual(r.problems[4].value, 'x'.repeat(100));
      assert.ok(!JSON.stringify(r).includes('hunter2'));
      assert.ok(
        looksSecret('customer.password') &&
          looksSecret('x', 'headers.Authorization') &&
          !looksSecret('name', 'payload.email'),
      );
    });

    it('reports a target that collides with an earlier value', async function () {
      const r = await mapFields(
        [
          { target: 'a', sourceType: 'str', source: 'text' },
          { target: 'a.b', sourceType: 'num', source: '1' },
        ],
        { payload: {} },
        resolver,
      );
      assert.strictEqual(r.ok, false);
      assert.match(r.problems[0].reason, /already holds a string/);
      assert.strictEqual(r.problems[0].rule, 'rule 2');
    });

    it('reports a failing JSONata expression as a problem', async function () {
      const r = await mapFields(
        [{ target: 'x', sourceType: 'jsonata', source: '$number("x")' }],
        { payload: {} },
        resolver,
      );
      assert.strictEqual(r.ok, false);
      assert.match(r.problems[0].reason, /^JSONata expression failed: /);
    });

    it('env can be a lookup function', async function () {
      const r = await mapFields(
        [{ target: 'x', sourceType: 'env', source: 'A' }],
        {},
        { env: (n) => (n === 'A' ? 'a!' : undefined) },
      );
      assert.deepStrictEqual(r, { ok: true, value: { x: 'a!' } });
    });

    it('keepUnmapped starts from a deep copy of the payload object', async function () {
      const payload = { keep: 1, nested: { a: 1, b: 2 }, list: [1, 2] };
      const rules = [
        { target: 'nested.b', sourceType: 'num', source: '3' },
        { target: 'added', source: 'payload.keep' },
      ];
      const kept = await mapFields(rules, { payload }, resolver, { keepUnmapped: true });
      assert.deepStrictEqual(kept.value, { keep: 1, nested: { a: 1, b: 3 }, list: [1, 2], added: 1 });
      assert.deepStrictEqual(payload, { keep: 1, nested: { a: 1, b: 2 }, list: [1, 2] }, 'the input was not changed');
      assert.notStrictEqual(kept.value.list, payload.list);
      const fresh = await mapFields(rules, { payload }, resolver, { keepUnmapped: false });
      assert.deepStrictEqual(fresh.value, { nested: { b: 3 }, added: 1 });
      const fromString = await mapFields(rules, { payload: 'text' }, resolver, { keepUnmapped: true });
      assert.deepStrictEqual(fromString.value, { nested: { b: 3 } });
    });

    it('keepUnmapped copies an own "__proto__" key without touching prototypes', async function () {
      const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
      const r = await mapFields([], { payload }, resolver, { keepUnmapped: true });
      assert.strictEqual(Object.getPrototypeOf(r.value), Object.prototype);
      assert.strictEqual(r.value.polluted, undefined);
      assert.strictEqual({}.polluted, undefined);
    });

    it('invalid rules make every map() call fail with the rule problems', async function () {
      const mapper = createMapper([{ target: '', source: 'payload' }]);
      assert.strictEqual(mapper.problems.length, 1);
      const r = await mapper.map({ payload: 1 }, resolver);
      assert.strictEqual(r.ok, false);
      assert.match(r.problems[0].reason, /target is empty/);
    });
  });
});
