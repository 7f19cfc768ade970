'use strict';
const assert = require('node:assert');

const { compileFilter, splitFilter, patternToRegExp } = require('../../dist/nodes/lib/patterns');

describe('patterns', function () {
  it('splits on commas and new lines, trimming blanks', function () {
    assert.deepStrictEqual(splitFilter(' a.b, c.*\n\n d ,'), ['a.b', 'c.*', 'd']);
    assert.deepStrictEqual(splitFilter(''), []);
    assert.deepStrictEqual(splitFilter(undefined), []);
  });

  it('an empty filter matches every type', function () {
    const f = compileFilter('  ');
    assert.strictEqual(f.matches('anything.at.all'), true);
  });

  it('matches exact types only exactly (case-sensitive)', function () {
    const f = compileFilter('listing.created');
    assert.strictEqual(f.matches('listing.created'), true);
    assert.strictEqual(f.matches('listing.updated'), false);
    assert.strictEqual(f.matches('Listing.created'), false);
    assert.strictEqual(f.matches('listing.created.extra'), false);
  });

  it('* matches one or more characters, dots included', function () {
    const f = compileFilter('payment.*');
    assert.strictEqual(f.matches('payment.completed'), true);
    assert.strictEqual(f.matches('payment.refund.created'), true);
    assert.strictEqual(f.matches('payment.'), false);
    assert.strictEqual(f.matches('payment'), false);
    assert.strictEqual(f.matches('paymentXcompleted'), false, 'the dot is literal');
    assert.strictEqual(f.matches('listing.created'), false);
  });

  it('* works at the start and in the middle', function () {
    const f = compileFilter('*.created\norder.*.paid');
    assert.strictEqual(f.matches('listing.created'), true);
    assert.strictEqual(f.matches('a.b.created'), true);
    assert.strictEqual(f.matches('order.eu.paid'), true);
    assert.strictEqual(f.matches('order.paid'), false);
    assert.strictEqual(f.matches('listing.updated'), false);
    assert.strictEqual(patternToRegExp('a**b').source, '^a.+b$');
  });

  it('several patterns: any match lets the type through', function () {
    const f = compileFilter('listing.created, listing.*, payment.*');
    assert.deepStrictEqual(f.patterns, ['listing.created', 'listing.*', 'payment.*']);
    assert.strictEqual(f.matches('listing.deleted'), true);
    assert.strictEqual(f.matches('payment.failed'), true);
    assert.strictEqual(f.matches('user.created'), false);
  });

  it('invalid entries never match, and a filter of only invalid entries matches nothing', function () {
    const f = compileFilter('bad entry, ok.type');
    assert.deepStrictEqual(f.invalid, ['bad entry']);
    assert.strictEqual(f.matches('ok.type'), true);
    assert.strictEqual(f.matches('bad entry'), false);
    const g = compileFilter('a;b');
    assert.deepStrictEqual(g.patterns, []);
    assert.strictEqual(g.matches('a'), false);
    assert.strictEqual(g.matches('anything'), false);
  });
});
