'use strict';
const assert = require('node:assert');

const { DedupeCache } = require('../../dist/nodes/lib/dedupe');

describe('dedupe', function () {
  it('reports a repeated id within the window and forgets it after the window', function () {
    let now = 1000;
    const d = new DedupeCache({ windowMs: 1000, now: () => now });
    assert.strictEqual(d.check('a'), false);
    now += 999;
    assert.strictEqual(d.check('a'), true);
    now += 1; // 1000 ms after first sight
    assert.strictEqual(d.check('a'), false, 'expired, so seen afresh');
    assert.strictEqual(d.check('a'), true);
  });

  it('a duplicate does not extend the window', function () {
    let now = 0;
    const d = new DedupeCache({ windowMs: 1000, now: () => now });
    d.check('x');
    now = 900;
    assert.strictEqual(d.check('x'), true);
    now = 1000;
    assert.strictEqual(d.check('x'), false);
  });

  it('expires old ids by time so memory shrinks', function () {
    let now = 0;
    const d = new DedupeCache({ windowMs: 1000, now: () => now });
    for (let i = 0; i < 50; i++) d.check('id' + i);
    assert.strictEqual(d.size, 50);
    now = 5000;
    assert.strictEqual(d.size, 0);
  });

  it('keeps at most maxEntries ids, evicting the oldest', function () {
    let now = 0;
    const d = new DedupeCache({ windowMs: 60000, maxEntries: 3, now: () => now++ });
    ['a', 'b', 'c', 'd'].forEach((id) => d.check(id));
    assert.strictEqual(d.size, 3);
    assert.strictEqual(d.has('a'), false);
    assert.strictEqual(d.has('d'), true);
    assert.strictEqual(d.check('a'), false, 'evicted id counts as new');
  });

  it('defaults to 10000 ids', function () {
    const d = new DedupeCache({ windowMs: 60000 });
    for (let i = 0; i < 10005; i++) d.check('id' + i);
    assert.strictEqual(d.size, 10000);
    assert.strictEqual(d.has('id0'), false);
    assert.strictEqual(d.has('id10004'), true);
  });

  it('window 0 turns it off', function () {
    const d = new DedupeCache({ windowMs: 0 });
    assert.strictEqual(d.enabled, false);
    assert.strictEqual(d.check('a'), false);
    assert.strictEqual(d.check('a'), false);
  });
});
