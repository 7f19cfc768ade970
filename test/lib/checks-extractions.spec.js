'use strict';
/**
 * Extractions of the Response Check node on their own (lib/checks/extractions.ts):
 * which targets are refused and why, and copying values into a message. The
 * checker that uses them: test/lib/response-check.spec.js.
 */
const assert = require('assert');
const { compileExtractions, applyExtractions, RESERVED_TARGETS } = require('../../dist/nodes/lib/checks/extractions');

describe('lib/checks/extractions', function () {
  it('refuses the properties the node sets itself as targets, naming the property', function () {
    assert.deepStrictEqual(RESERVED_TARGETS, ['check', 'error', '_msgid']);
    for (const target of ['check', 'error.code', '_msgid']) {
      const problems = [];
      assert.deepStrictEqual(compileExtractions([{ path: 'payload.id', target }], problems), []);
      assert.strictEqual(problems.length, 1);
      assert.strictEqual(problems[0].rule, 'extraction 1');
      assert.strictEqual(problems[0].field, target);
      assert.match(problems[0].reason, new RegExp(`msg\\.${target.split('.')[0]} is set by this node`));
    }
    const problems = [];
    assert.strictEqual(compileExtractions([{ path: 'payload.id', target: 'checked' }], problems).length, 1);
    assert.deepStrictEqual(problems, []);
  });

  it('lists a bad path and a bad target of the same extraction, and keeps the good ones', function () {
    const problems = [];
    const list = compileExtractions(
      [{ path: '', target: 'a[' }, 'not an object', { path: 'payload.id', target: 'orderId' }],
      problems,
    );
    assert.deepStrictEqual(
      list.map((e) => [e.label, e.path, e.target]),
      [['extraction 3', 'payload.id', 'orderId']],
    );
    assert.deepStrictEqual(
      problems.map((p) => [p.rule, p.field]),
      [
        ['extraction 1', undefined],
        ['extraction 1', 'a['],
        ['extraction 2', undefined],
      ],
    );
    assert.match(problems[0].reason, /^path is empty$/);
    assert.match(problems[1].reason, /^target: /);
    assert.strictEqual(problems[2].reason, 'extraction must be an object');
  });

  it('has nothing to do without extractions, and refuses anything but a list', function () {
    const problems = [];
    assert.deepStrictEqual(compileExtractions(undefined, problems), []);
    assert.deepStrictEqual(compileExtractions(null, problems), []);
    assert.deepStrictEqual(problems, []);
    assert.deepStrictEqual(compileExtractions({ path: 'a', target: 'b' }, problems), []);
    assert.deepStrictEqual(problems, [{ rule: 'extract', reason: 'extractions must be a list' }]);
  });

  it('copies every value read before any is written, and reports missing paths and unwritable targets', function () {
    const problems = [];
    const list = compileExtractions(
      [
        { path: 'payload.a', target: 'payload' },
        { path: 'payload.b', target: 'b' },
        { path: 'payload.none', target: 'c' },
        { path: 'payload.a', target: 'topic.deep' },
      ],
      problems,
    );
    assert.deepStrictEqual(problems, []);
    const msg = { payload: { a: 1, b: 2 }, topic: 'text' };
    const out = applyExtractions(msg, list);
    assert.strictEqual(msg.payload, 1);
    assert.strictEqual(msg.b, 2, 'read before payload was overwritten');
    assert.ok(!('c' in msg));
    assert.deepStrictEqual(out.missing, ['payload.none']);
    assert.strictEqual(out.unwritable.length, 1);
    assert.strictEqual(out.unwritable[0].rule, 'extraction 4');
    assert.strictEqual(out.unwritable[0].field, 'topic.deep');
  });
});
