'use strict';
/**
 * lib/short-lived.ts: the tables a message's state is kept in while it is
 * worked on. They behave as the parts of Map and Set the package uses.
 */
const assert = require('node:assert');
const { ShortMap, ShortSet, ShortList } = require('../../dist/nodes/lib/short-lived');

describe('lib/short-lived', function () {
  it('ShortMap: get, set, has, delete and size as a Map; entries in the order first set, array indices first', function () {
    const m = new ShortMap();
    const keys = ['b', '10', '2', '__proto__', 'constructor', '', 'a b', '-1', 'toString'];
    for (const [i, k] of keys.entries()) assert.strictEqual(m.set(k, i), m);
    assert.strictEqual(m.size, keys.length);
    m.set('10', 'again'); // replacing keeps its place and the size
    assert.strictEqual(m.size, keys.length);
    // as an object's own keys: those that read as array indices first, in numeric order, then the rest as set
    const order = ['2', '10', 'b', '__proto__', 'constructor', '', 'a b', '-1', 'toString'];
    assert.deepStrictEqual(m.keys(), order);
    assert.deepStrictEqual(
      m.values(),
      order.map((k) => (k === '10' ? 'again' : keys.indexOf(k))),
    );
    assert.deepStrictEqual([...m], m.entries());
    const seen = [];
    m.forEach((v, k) => seen.push([k, v]));
    assert.deepStrictEqual(seen, m.entries());
    assert.strictEqual(m.get('__proto__'), 3);
    assert.strictEqual(m.get('hasOwnProperty'), undefined, 'nothing inherited');
    assert.strictEqual(m.has('toString'), true);
    assert.strictEqual(m.has('valueOf'), false);
    assert.strictEqual(m.delete('2'), true);
    assert.strictEqual(m.delete('2'), false);
    assert.strictEqual(m.size, keys.length - 1);
    m.delete('b');
    m.set('b', 'back'); // a key set again after its delete goes last
    assert.deepStrictEqual(m.keys().slice(-1), ['b']);
    m.clear();
    assert.strictEqual(m.size, 0);
    assert.deepStrictEqual(m.keys(), []);
  });

  it('ShortMap: what values() hands out is a copy, so entries can be deleted while going through it', function () {
    const m = new ShortMap();
    for (let i = 0; i < 5; i++) m.set(`k${i}`, i);
    const seen = [];
    for (const v of m.values()) {
      seen.push(v);
      m.delete(`k${v}`);
    }
    assert.deepStrictEqual(seen, [0, 1, 2, 3, 4]);
    assert.strictEqual(m.size, 0);
  });

  it('ShortSet: add, has, delete, size; iterates its members as ShortMap does its keys', function () {
    const s = new ShortSet();
    s.add('x').add('y').add('x');
    assert.strictEqual(s.size, 2);
    assert.deepStrictEqual([...s], ['x', 'y']);
    assert.deepStrictEqual(new Set(s), new Set(['x', 'y']));
    assert.strictEqual(s.has('y'), true);
    assert.strictEqual(s.delete('y'), true);
    assert.strictEqual(s.has('y'), false);
    assert.deepStrictEqual(s.values(), ['x']);
  });

  it('ShortList: each value under its own number, taken out by it; oldest first', function () {
    const l = new ShortList();
    const same = {};
    const a = l.add(same);
    const b = l.add(same); // the same value twice is two entries
    const c = l.add('c');
    assert.notStrictEqual(a, b);
    assert.strictEqual(l.size, 3);
    assert.strictEqual(l.delete(a), true);
    assert.strictEqual(l.delete(a), false);
    assert.deepStrictEqual(l.values(), [same, 'c']);
    l.delete(b);
    l.delete(c);
    assert.strictEqual(l.size, 0);
  });
});
