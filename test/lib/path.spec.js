'use strict';
const assert = require('node:assert');
const { parsePath, getPath, setPath, formatPath, PathError, MAX_INDEX } = require('../../dist/nodes/lib/path');

describe('lib/path', function () {
  describe('parsePath', function () {
    it('splits dots, indexes and quoted keys', function () {
      assert.deepStrictEqual(parsePath('name'), ['name']);
      assert.deepStrictEqual(parsePath('customer.email'), ['customer', 'email']);
      assert.deepStrictEqual(parsePath('items[0].price'), ['items', 0, 'price']);
      assert.deepStrictEqual(parsePath('a[1][2]'), ['a', 1, 2]);
      assert.deepStrictEqual(parsePath('["first name"]'), ['first name']);
      assert.deepStrictEqual(parsePath("a['key with.dot'].b"), ['a', 'key with.dot', 'b']);
      assert.deepStrictEqual(parsePath('a["say \\"hi\\""]'), ['a', 'say "hi"']);
      assert.deepStrictEqual(parsePath('[0].x'), [0, 'x']);
    });

    it('keeps keys exactly (case, underscores, dashes, unicode)', function () {
      assert.deepStrictEqual(parsePath('Name'), ['Name']);
      assert.deepStrictEqual(parsePath('person_name'), ['person_name']);
      assert.deepStrictEqual(parsePath('x-api.Ünïcode'), ['x-api', 'Ünïcode']);
    });

    it('rejects malformed paths with a clear message', function () {
      const bad = [
        '',
        '.a',
        'a.',
        'a..b',
        'a[',
        'a[x]',
        'a[-1]',
        'a[1',
        'a.[0]',
        'a b',
        'first name',
        'a["x"',
        'a["x"b',
        'a]b',
        'a[0]b',
        "a'b",
      ];
      for (const p of bad) {
        assert.throws(() => parsePath(p), PathError, `expected ${JSON.stringify(p)} to be rejected`);
      }
      assert.throws(() => parsePath('first name'), /quote keys with spaces/);
      assert.throws(() => parsePath('a[' + (MAX_INDEX + 1) + ']'), /larger than/);
    });

    it('rejects prototype-polluting segments, bare or quoted', function () {
      for (const p of [
        '__proto__',
        'a.__proto__.b',
        'constructor.prototype',
        'a["__proto__"]',
        "['constructor']",
        'x.prototype',
      ]) {
        assert.throws(() => parsePath(p), /is not allowed in a path/, p);
      }
    });

    it('formats segments back to a canonical path', function () {
      assert.strictEqual(formatPath(['items', 0, 'price']), 'items[0].price');
      assert.strictEqual(formatPath(['a', 'first name']), 'a["first name"]');
      assert.strictEqual(formatPath(['first name']), '["first name"]');
    });
  });

  describe('getPath', function () {
    const obj = { payload: { user: { name: 'Ann' }, items: [{ price: 3 }], 'first name': 'A' }, event: { id: 'e1' } };
    it('reads nested, array and quoted paths', function () {
      assert.strictEqual(getPath(obj, 'payload.user.name'), 'Ann');
      assert.strictEqual(getPath(obj, 'payload.items[0].price'), 3);
      assert.strictEqual(getPath(obj, 'payload["first name"]'), 'A');
      assert.strictEqual(getPath(obj, 'event.id'), 'e1');
      assert.strictEqual(getPath(obj, ['payload', 'items', 0, 'price']), 3);
    });
    it('returns undefined for missing parts and never reads prototypes', function () {
      assert.strictEqual(getPath(obj, 'payload.nothing.here'), undefined);
      assert.strictEqual(getPath(obj, 'payload.items[5].price'), undefined);
      assert.strictEqual(getPath(obj, 'payload.user.name.first'), undefined);
      assert.strictEqual(getPath(obj, 'payload.toString'), undefined);
      assert.strictEqual(getPath(null, 'a'), undefined);
    });
    it('refuses forbidden segments given as an array too', function () {
      assert.throws(() => getPath(obj, ['__proto__']), /not allowed/);
    });
  });

  describe('setPath', function () {
    it('creates objects and arrays as the path says', function () {
      const o = {};
      setPath(o, 'customer.email', 'a@b.c');
      setPath(o, 'items[0].price', 5);
      setPath(o, 'items[1].price', 6);
      setPath(o, '["first name"]', 'Ann');
      setPath(o, 'm[0][1]', 'x');
      assert.deepStrictEqual(JSON.parse(JSON.stringify(o)), {
        customer: { email: 'a@b.c' },
        items: [{ price: 5 }, { price: 6 }],
        'first name': 'Ann',
        m: [[null, 'x']],
      });
      assert.ok(Array.isArray(o.items));
      assert.ok(Array.isArray(o.m[0]));
    });
    it('keeps case-distinct keys distinct', function () {
      const o = {};
      setPath(o, 'name', 1);
      setPath(o, 'Name', 2);
      setPath(o, 'person_name', 3);
      assert.deepStrictEqual(Object.keys(o), ['name', 'Name', 'person_name']);
    });
    it('refuses to walk through a primitive', function () {
      const o = { a: 'text' };
      assert.throws(() => setPath(o, 'a.b', 1), /a already holds a string/);
    });
    it('never pollutes Object.prototype', function () {
      const o = {};
      assert.throws(() => setPath(o, '__proto__.polluted', 1), /not allowed/);
      assert.throws(() => setPath(o, ['constructor', 'prototype', 'polluted'], 1), /not allowed/);
      assert.strictEqual({}.polluted, undefined);
    });
  });
});
