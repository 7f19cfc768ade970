'use strict';
const assert = require('node:assert');
const xml2js = require('xml2js');
const {
  parseStatusSpec,
  valueEquals,
  splitList,
  clipValue,
  createChecker,
  summariseProblems,
  MAX_VALUE_LENGTH,
} = require('../../dist/nodes/lib/checks');

function spec(text) {
  const r = parseStatusSpec(text);
  assert.ok(r.ok, `${JSON.stringify(text)} should parse: ${r.reason}`);
  return r.spec;
}
function badSpec(text, pattern) {
  const r = parseStatusSpec(text);
  assert.strictEqual(r.ok, false, `${JSON.stringify(text)} should not parse`);
  if (pattern) assert.match(r.reason, pattern);
  return r.reason;
}

/** runs one body rule against a body; returns the outcome */
function body(rule, payload) {
  const c = createChecker({ rules: [Object.assign({ kind: 'body' }, rule)] });
  assert.deepStrictEqual(c.problems, [], 'rule is valid');
  return c.check({ statusCode: 200, payload });
}
function passes(rule, payload) {
  const o = body(rule, payload);
  assert.strictEqual(o.passed, true, `${JSON.stringify(rule)} should pass on ${JSON.stringify(payload)}: ${o.message}`);
}
function fails(rule, payload, reason) {
  const o = body(rule, payload);
  assert.strictEqual(o.passed, false, `${JSON.stringify(rule)} should fail on ${JSON.stringify(payload)}`);
  if (reason) assert.match(o.details[0].reason, reason);
  return o.details[0];
}

describe('lib/checks', function () {
  describe('status specs', function () {
    it('parses a class: 2xx (and 2XX)', function () {
      const s = spec('2xx');
      assert.strictEqual(s.text, '2xx');
      assert.deepStrictEqual(s.ranges, [[200, 299]]);
      assert.ok(s.matches(200) && s.matches(204) && s.matches(299));
      assert.ok(!s.matches(199) && !s.matches(300) && !s.matches(402));
      assert.ok(spec('2XX').matches(201));
      assert.ok(spec('5xx').matches(503));
    });

    it('parses a list of codes: 200,201', function () {
      const s = spec('200,201');
      assert.deepStrictEqual(s.ranges, [
        [200, 200],
        [201, 201],
      ]);
      assert.ok(s.matches(200) && s.matches(201));
      assert.ok(!s.matches(202) && !s.matches(204));
    });

    it('parses a range: 400-499, with spaces around the dash', function () {
      const s = spec('400-499');
      assert.ok(s.matches(400) && s.matches(450) && s.matches(499));
      assert.ok(!s.matches(399) && !s.matches(500));
      assert.deepStrictEqual(spec('400 - 404').ranges, [[400, 404]]);
      assert.deepStrictEqual(spec('404-404').ranges, [[404, 404]]);
    });

    it('parses mixed specs, whitespace tolerant: " 2xx , 304,400 - 403 "', function () {
      const s = spec(' 2xx , 304,400 - 403 ');
      assert.strictEqual(s.text, '2xx, 304, 400-403');
      for (const c of [200, 250, 304, 400, 403]) assert.ok(s.matches(c), String(c));
      for (const c of [300, 305, 404, 500]) assert.ok(!s.matches(c), String(c));
      assert.ok(spec('2xx,304').matches(304));
      assert.ok(spec(201).matches(201), 'a number is accepted as a single code');
    });

    it('refuses bad specs with a reason', function () {
      badSpec('', /no status codes/);
      badSpec('   ', /no status codes/);
      badSpec(undefined, /must be text/);
      badSpec({}, /must be text/);
      badSpec('2xx,', /empty entry 2/);
      badSpec('200,,201', /empty entry 2/);
      badSpec('ok', /"ok" is not a status code, class or range/);
      badSpec('6xx', /not a status code, class or range/);
      badSpec('0xx', /not a status code/);
      badSpec('20x', /not a status code/);
      badSpec('2000', /not a status code/);
      badSpec('99', /not a status code/);
      badSpec('600', /not an HTTP status code/);
      badSpec('099', /not an HTTP status code/);
      badSpec('499-400', /empty range/);
      badSpec('500-600', /outside the HTTP status codes/);
      badSpec('200 201', /not a status code/);
      badSpec('200;201', /not a status code/);
    });
  });

  describe('equality (eq)', function () {
    it('a string rule value matches the same string exactly', function () {
      assert.ok(valueEquals('COMPLETED', 'COMPLETED'));
      assert.ok(!valueEquals('completed', 'COMPLETED'));
      assert.ok(!valueEquals('COMPLETED ', 'COMPLETED'));
      assert.ok(valueEquals('', ''));
    });

    it('a number-looking rule value matches the string and the number', function () {
      assert.ok(valueEquals('200', '200'));
      assert.ok(valueEquals(200, '200'));
      assert.ok(valueEquals(200, '200.0'));
      assert.ok(valueEquals(200, '2e2'));
      assert.ok(valueEquals(-1.5, '-1.5'));
      assert.ok(!valueEquals('200.0', '200'), 'strings compare as text');
      assert.ok(!valueEquals(201, '200'));
      assert.ok(!valueEquals(200, 'abc'));
      assert.ok(!valueEquals(0, ''), 'empty text is not zero');
    });

    it('booleans, null, objects and arrays compare as JSON', function () {
      assert.ok(valueEquals(true, 'true'));
      assert.ok(!valueEquals(true, 'false'));
      assert.ok(!valueEquals(true, '1'));
      assert.ok(valueEquals('true', 'true'), 'the string "true" too');
      assert.ok(valueEquals(null, 'null'));
      assert.ok(!valueEquals(null, ''));
      assert.ok(valueEquals({ a: 1, b: [1, 2] }, '{"b":[1,2],"a":1}'));
      assert.ok(!valueEquals({ a: 1 }, '{"a":2}'));
      assert.ok(!valueEquals({ a: 1 }, '{"a":1,"b":2}'));
      assert.ok(valueEquals([1, 'x'], '[1,"x"]'));
      assert.ok(!valueEquals([1], '{"0":1}'));
      assert.ok(!valueEquals({ a: 1 }, 'not json'));
    });

    it('splits "in" lists, trimming and dropping empty items', function () {
      assert.deepStrictEqual(splitList(' A, B ,,C '), ['A', 'B', 'C']);
      assert.deepStrictEqual(splitList(''), []);
      assert.deepStrictEqual(splitList(200), ['200']);
    });
  });

  describe('body ops', function () {
    it('eq: matching, non-matching, missing, number vs string', function () {
      passes({ path: 'status', op: 'eq', value: 'COMPLETED' }, { status: 'COMPLETED' });
      const d = fails({ path: 'status', op: 'eq', value: 'COMPLETED' }, { status: 'PENDING' }, /^is not "COMPLETED"$/);
      assert.deepStrictEqual(d, { rule: 'rule 1', field: 'status', reason: 'is not "COMPLETED"', value: 'PENDING' });
      const m = fails({ path: 'status', op: 'eq', value: 'COMPLETED' }, { other: 1 }, /^is missing$/);
      assert.ok(!('value' in m), 'no value when nothing was found');
      passes({ path: 'code', op: 'eq', value: '200' }, { code: 200 });
      passes({ path: 'code', op: 'eq', value: '200' }, { code: '200' });
      passes({ path: 'code', op: 'eq', value: 200 }, { code: '200' });
      fails({ path: 'code', op: 'eq', value: 'COMPLETED' }, { code: 0 }, /is not "COMPLETED"/);
      passes({ path: 'ok', op: 'eq', value: 'true' }, { ok: true });
      passes({ path: 'data.items[0].id', op: 'eq', value: '42' }, { data: { items: [{ id: 42 }] } });
      fails({ path: 'data.items[1].id', op: 'eq', value: '42' }, { data: { items: [{ id: 42 }] } }, /missing/);
    });

    it('neq: matching, non-matching, missing', function () {
      passes({ path: 'status', op: 'neq', value: 'FAILED' }, { status: 'OK' });
      passes({ path: 'code', op: 'neq', value: '0' }, { code: 1 });
      fails({ path: 'status', op: 'neq', value: 'FAILED' }, { status: 'FAILED' }, /^is "FAILED"$/);
      fails({ path: 'code', op: 'neq', value: '0' }, { code: 0 }, /^is "0"$/);
      fails({ path: 'status', op: 'neq', value: 'FAILED' }, {}, /^is missing$/);
    });

    it('exists and missing (null counts as missing)', function () {
      passes({ path: 'id', op: 'exists' }, { id: 'ch_1' });
      passes({ path: 'id', op: 'exists' }, { id: 0 });
      passes({ path: 'id', op: 'exists' }, { id: '' });
      fails({ path: 'id', op: 'exists' }, {}, /^is missing$/);
      fails({ path: 'id', op: 'exists' }, { id: null }, /^is null$/);
      passes({ path: 'error', op: 'missing' }, {});
      passes({ path: 'error', op: 'missing' }, { error: null });
      const d = fails({ path: 'error', op: 'missing' }, { error: { message: 'no' } }, /is present/);
      assert.deepStrictEqual(d.value, { message: 'no' });
      passes({ path: 'error.message', op: 'missing' }, 'plain text body');
    });

    it('regex: matching, non-matching, missing, numbers as text, objects refused', function () {
      passes({ path: 'status', op: 'regex', value: '^(ok|done)$' }, { status: 'done' });
      fails(
        { path: 'status', op: 'regex', value: '^(ok|done)$' },
        { status: 'DONE' },
        /does not match \/\^\(ok\|done\)\$\//,
      );
      passes({ path: 'status', op: 'regex', value: 'ok' }, { status: 'is ok now' });
      passes({ path: 'code', op: 'regex', value: '^2\\d\\d$' }, { code: 204 });
      passes({ path: 'flag', op: 'regex', value: '^true$' }, { flag: true });
      fails({ path: 'status', op: 'regex', value: 'ok' }, {}, /^is missing$/);
      fails({ path: 'status', op: 'regex', value: 'ok' }, { status: { a: 'ok' } }, /an object, not text/);
      fails({ path: 'status', op: 'regex', value: 'null' }, { status: null }, /null, not text/);
    });

    it('in: matching, non-matching, missing, number vs string', function () {
      passes({ path: 'status', op: 'in', value: 'COMPLETED, APPROVED' }, { status: 'APPROVED' });
      fails(
        { path: 'status', op: 'in', value: 'COMPLETED,APPROVED' },
        { status: 'VOIDED' },
        /^is not one of "COMPLETED", "APPROVED"$/,
      );
      fails({ path: 'status', op: 'in', value: 'COMPLETED,APPROVED' }, {}, /^is missing$/);
      passes({ path: 'code', op: 'in', value: '0,00' }, { code: '00' });
      passes({ path: 'code', op: 'in', value: '1,2,3' }, { code: 2 });
      fails({ path: 'code', op: 'in', value: '1,2,3' }, { code: '02' });
    });

    it('reads XML-shaped bodies (xml2js, explicitArray false): elements, attributes, text with attributes', async function () {
      const xml =
        '<response code="0"><status>OK</status><txn id="T-9">approved</txn><items><item>a</item><item>b</item></items></response>';
      const parsed = await xml2js.parseStringPromise(xml, { explicitArray: false });
      passes({ path: 'response.status', op: 'eq', value: 'OK' }, parsed);
      passes({ path: 'response.$.code', op: 'eq', value: '0' }, parsed);
      passes({ path: 'response.$.code', op: 'in', value: '0,1' }, parsed);
      passes({ path: 'response.txn._', op: 'eq', value: 'approved' }, parsed);
      passes({ path: 'response.txn.$.id', op: 'regex', value: '^T-\\d+$' }, parsed);
      passes({ path: 'response.items.item[1]', op: 'eq', value: 'b' }, parsed);
      fails({ path: 'response.status', op: 'eq', value: 'FAILED' }, parsed, /is not "FAILED"/);
      fails({ path: 'response.$.missing', op: 'exists' }, parsed, /is missing/);
    });
  });

  describe('checker', function () {
    it('status rule: pass, fail with found value, missing and non-numeric status codes', function () {
      const c = createChecker({ rules: [{ kind: 'status', value: '2xx' }] });
      assert.deepStrictEqual(c.problems, []);
      assert.strictEqual(c.mode, 'all');
      assert.strictEqual(c.check({ statusCode: 201 }).passed, true);
      assert.strictEqual(c.check({ statusCode: '204' }).passed, true, 'three-digit text is accepted');
      const failed = c.check({ statusCode: 402 });
      assert.strictEqual(failed.passed, false);
      assert.deepStrictEqual(failed.details, [
        { rule: 'rule 1', field: 'status', reason: 'expected 2xx, got 402', value: 402 },
      ]);
      assert.strictEqual(failed.message, '1 of 1 rule failed: rule 1 (status): expected 2xx, got 402');
      const none = c.check({ payload: {} });
      assert.strictEqual(none.passed, false);
      assert.deepStrictEqual(none.details, [
        { rule: 'rule 1', field: 'status', reason: 'expected 2xx, but there is no status code in msg.statusCode' },
      ]);
      const weird = c.check({ statusCode: 'OK' });
      assert.match(weird.details[0].reason, /msg\.statusCode is not a status code/);
      assert.strictEqual(weird.details[0].value, 'OK');
    });

    it('reads the status and body from configured properties', function () {
      const c = createChecker({
        rules: [
          { kind: 'status', value: '200' },
          { kind: 'body', path: 'ok', op: 'eq', value: 'true' },
        ],
        statusProperty: 'res.code',
        bodyProperty: 'res.body',
      });
      assert.deepStrictEqual(c.problems, []);
      assert.strictEqual(c.check({ res: { code: 200, body: { ok: true } } }).passed, true);
      assert.match(c.check({ statusCode: 200, payload: { ok: true } }).message, /no status code in msg\.res\.code/);
    });

    it('mode all: every rule must pass; every failing rule is listed with its value', function () {
      const rules = [
        { kind: 'status', value: '2xx' },
        { kind: 'body', path: 'status', op: 'eq', value: 'COMPLETED' },
        { kind: 'body', path: 'error.code', op: 'missing' },
      ];
      const c = createChecker({ rules, mode: 'all' });
      assert.strictEqual(c.check({ statusCode: 200, payload: { status: 'COMPLETED' } }).passed, true);
      const o = c.check({ statusCode: 402, payload: { status: 'COMPLETED', error: { code: 'card_declined' } } });
      assert.strictEqual(o.passed, false);
      assert.strictEqual(
        o.message,
        '2 of 3 rules failed: rule 1 (status): expected 2xx, got 402; rule 3 (error.code): is present (expected missing)',
      );
      assert.deepStrictEqual(o.details, [
        { rule: 'rule 1', field: 'status', reason: 'expected 2xx, got 402', value: 402 },
        { rule: 'rule 3', field: 'error.code', reason: 'is present (expected missing)', value: 'card_declined' },
      ]);
      assert.deepStrictEqual(o.results, [
        { rule: 'rule 1', kind: 'status', field: 'status', passed: false, reason: 'expected 2xx, got 402' },
        { rule: 'rule 2', kind: 'body', field: 'status', passed: true },
        { rule: 'rule 3', kind: 'body', field: 'error.code', passed: false, reason: 'is present (expected missing)' },
      ]);
      assert.ok(!o.message.includes('card_declined'), 'the message never holds values found in the body');
    });

    it('mode any: one passing rule is enough; all failing is a failure', function () {
      const rules = [
        { kind: 'status', value: '200' },
        { kind: 'body', path: 'result', op: 'eq', value: 'ok' },
      ];
      const c = createChecker({ rules, mode: 'any' });
      assert.strictEqual(c.mode, 'any');
      const one = c.check({ statusCode: 202, payload: { result: 'ok' } });
      assert.strictEqual(one.passed, true);
      assert.strictEqual(one.results[0].passed, false);
      assert.strictEqual(c.check({ statusCode: 200, payload: {} }).passed, true);
      const none = c.check({ statusCode: 500, payload: { result: 'err' } });
      assert.strictEqual(none.passed, false);
      assert.match(none.message, /^2 of 2 rules failed: /);
      assert.strictEqual(none.mode, 'any');
      // the same rules in mode all
      assert.strictEqual(
        createChecker({ rules, mode: 'all' }).check({ statusCode: 202, payload: { result: 'ok' } }).passed,
        false,
      );
    });

    it('no rules: passes only on a 2xx status (the default rule)', function () {
      for (const rules of [[], undefined]) {
        const c = createChecker({ rules });
        assert.deepStrictEqual(c.problems, []);
        assert.strictEqual(c.check({ statusCode: 200 }).passed, true);
        assert.strictEqual(c.check({ statusCode: 299 }).passed, true);
        const o = c.check({ statusCode: 301 });
        assert.strictEqual(o.passed, false);
        assert.deepStrictEqual(o.details, [
          { rule: 'default rule', field: 'status', reason: 'expected 2xx, got 301', value: 301 },
        ]);
        assert.strictEqual(c.check({}).passed, false);
      }
      assert.strictEqual(createChecker({ rules: [], mode: 'any' }).check({ statusCode: 500 }).passed, false);
    });

    it('clips long found values to 200 characters and hides values at secret-looking paths', function () {
      const long = 'x'.repeat(500);
      const c = createChecker({
        rules: [
          { kind: 'body', path: 'message', op: 'eq', value: 'ok' },
          { kind: 'body', path: 'data', op: 'missing' },
          { kind: 'body', path: 'access_token', op: 'missing' },
        ],
      });
      const o = c.check({
        statusCode: 200,
        payload: { message: long, data: { list: new Array(100).fill('abc') }, access_token: 'tok_secret' },
      });
      assert.strictEqual(o.details.length, 3);
      assert.strictEqual(o.details[0].value, 'x'.repeat(MAX_VALUE_LENGTH) + '…');
      assert.strictEqual(typeof o.details[1].value, 'string');
      assert.strictEqual(o.details[1].value.length, MAX_VALUE_LENGTH + 1);
      assert.ok(o.details[1].value.startsWith('{"list":["abc"'));
      assert.deepStrictEqual(o.details[2], {
        rule: 'rule 3',
        field: 'access_token',
        reason: 'is present (expected missing)',
      });
      assert.ok(!JSON.stringify(o).includes('tok_secret'));
      assert.deepStrictEqual(clipValue({ a: 1 }), { a: 1 }, 'small objects are kept');
      assert.strictEqual(clipValue(5), 5);
    });

    it('reports every configuration problem at once', function () {
      const c = createChecker({
        rules: [
          { kind: 'status', value: '2xx,' },
          { kind: 'body', path: '', op: 'eq', value: 'x' },
          { kind: 'body', path: 'a', op: 'regex', value: '(' },
          { kind: 'body', path: 'a', op: 'in', value: ' , ' },
          { kind: 'body', path: 'a..b', op: 'exists' },
          { kind: 'body', path: 'a', op: 'like', value: 'x' },
          { kind: 'header', value: 'x' },
          'nope',
          { kind: 'body', path: 'a', op: 'regex', value: '' },
          { kind: 'body', path: 'a.__proto__', op: 'exists' },
        ],
        mode: 'most',
        extract: [
          { path: '', target: 'x' },
          { path: 'payload.id', target: '' },
          { path: 'payload.id', target: 'error.id' },
          { path: 'payload[', target: 'y' },
        ],
        statusProperty: 'a..b',
      });
      const byRule = c.problems.map((p) => `${p.rule}: ${p.reason}`);
      const expected = [
        /^mode: mode must be "all" or "any"/,
        /^statusProperty: status code property: empty key/,
        /^rule 1: empty entry 2/,
        /^rule 2: path is empty$/,
        /^rule 3: invalid regular expression/,
        /^rule 4: the list of values is empty/,
        /^rule 5: path: empty key/,
        /^rule 6: unknown op "like"/,
        /^rule 7: kind must be "status" or "body"/,
        /^rule 8: rule must be an object$/,
        /^rule 9: the regular expression is empty$/,
        /^rule 10: path: "__proto__" is not allowed/,
        /^extraction 1: path is empty$/,
        /^extraction 2: target is empty$/,
        /^extraction 3: msg\.error is set by this node/,
        /^extraction 4: path: /,
      ];
      assert.strictEqual(byRule.length, expected.length, byRule.join('\n'));
      expected.forEach((re, i) => assert.match(byRule[i], re));
      assert.match(summariseProblems(c.problems), /^16 problems in the response check configuration: mode: /);
      assert.strictEqual(c.check({ statusCode: 200 }).passed, false, 'nothing passes with invalid rules');
    });

    it('refuses non-list rules and extractions', function () {
      const c = createChecker({ rules: 'x', extract: {} });
      assert.deepStrictEqual(
        c.problems.map((p) => p.rule),
        ['rules', 'extract'],
      );
    });
  });

  describe('extraction', function () {
    it('copies values to msg properties (nested targets allowed) and lists missing paths', function () {
      const c = createChecker({
        extract: [
          { path: 'payload.transaction_id', target: 'transactionId' },
          { path: 'payload.status', target: 'payment.status' },
          { path: 'responseHeaders.location', target: 'location' },
          { path: 'payload.nope', target: 'nope' },
          { path: 'payload.items[0]', target: 'first' },
        ],
      });
      assert.deepStrictEqual(c.problems, []);
      const msg = {
        payload: { transaction_id: 'tx_1', status: 'paid', items: ['a'] },
        responseHeaders: { location: '/p/1' },
      };
      const r = c.extract(msg);
      assert.strictEqual(msg.transactionId, 'tx_1');
      assert.deepStrictEqual(msg.payment, { status: 'paid' });
      assert.strictEqual(msg.location, '/p/1');
      assert.strictEqual(msg.first, 'a');
      assert.ok(!('nope' in msg));
      assert.deepStrictEqual(r, { missing: ['payload.nope'], unwritable: [] });
    });

    it('reads every value before writing any (a target may overwrite a later path)', function () {
      const c = createChecker({
        extract: [
          { path: 'payload.data', target: 'payload' },
          { path: 'payload.id', target: 'id' },
        ],
      });
      const msg = { payload: { id: 7, data: { x: 1 } } };
      c.extract(msg);
      assert.deepStrictEqual(msg.payload, { x: 1 });
      assert.strictEqual(msg.id, 7);
    });

    it('reports a target that cannot be written instead of throwing', function () {
      const c = createChecker({ extract: [{ path: 'payload.id', target: 'topic.id' }] });
      const msg = { topic: 'orders', payload: { id: 1 } };
      const r = c.extract(msg);
      assert.strictEqual(msg.topic, 'orders');
      assert.strictEqual(r.unwritable.length, 1);
      assert.strictEqual(r.unwritable[0].field, 'topic.id');
      assert.match(r.unwritable[0].reason, /already holds a string/);
    });
  });
});
