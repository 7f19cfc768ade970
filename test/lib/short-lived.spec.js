'use strict';
/**
 * lib/short-lived.ts: the tables a message's state is kept in while it is
 * worked on. They behave as the parts of Map and Set the package uses.
 */
const assert = require('node:assert');
const { ShortMap, ShortSet, ShortList } = require('../../dist/nodes/lib/short-lived');

describe('lib/short-lived', function () {
  it('ShortMap: get, set, has, delete and size as a Map; entries in the order first set, whatever the key', function () {
    const m = new ShortMap();
    const keys = ['b', '10', '2', '__proto__', 'constructor', '', 'a b', '-1', 'toString'];
    for (const [i, k] of keys.entries()) assert.strictEqual(m.set(k, i), m);
    assert.strictEqual(m.size, keys.length);
    m.set('10', 'again'); // replacing keeps its place and the size
    assert.strictEqual(m.size, keys.length);
    assert.deepStrictEqual(m.keys(), keys);
    assert.deepStrictEqual(
      m.values(),
      keys.map((k, i) => (k === '10' ? 'again' : i)),
    );
    assert.deepStrictEqual([...m], m.entries());
    assert.strictEqual(m.get('__proto__'), 3);
    assert.strictEqual(m.get('hasOwnProperty'), undefined, 'nothing inherited');
    assert.strictEqual(m.has('toString'), true);
    assert.strictEqual(m.has('valueOf'), false);
    assert.strictEqual(m.delete('2'), true);
    assert.strictEqual(m.delete('2'), false);
    assert.strictEqual(m.size, keys.length - 1);
    m.set('2', 'back'); // a key set again after its delete goes last
    assert.deepStrictEqual(m.keys().slice(-1), ['2']);
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

  it('ShortSet: add, has, delete, size; iterates its members oldest first', function () {
    const s = new ShortSet();
    s.add('x').add('1').add('x');
    assert.strictEqual(s.size, 2);
    assert.deepStrictEqual([...s], ['x', '1']);
    assert.deepStrictEqual(new Set(s), new Set(['x', '1']));
    assert.strictEqual(s.has('1'), true);
    assert.strictEqual(s.delete('1'), true);
    assert.strictEqual(s.has('1'), false);
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
