'use strict';
/**
 * The in-memory mode's deadline as read before a delivery starts
 * (lib/http-post/memory-delivery.ts: deadlineFor). The delivery itself is
 * in http-post-modes.spec.js.
 */
const assert = require('node:assert');
const { deadlineFor } = require('../../dist/nodes/lib/http-post/memory-delivery.js');

describe('lib/http-post/memory-delivery: deadlineFor', function () {
  it("msg.deadline (seconds, a numeric string too) wins over the node's", function () {
    assert.deepStrictEqual(deadlineFor(30, 2), { ok: true, ms: 2000 });
    assert.deepStrictEqual(deadlineFor(30, '1.5'), { ok: true, ms: 1500 });
  });

  it("without msg.deadline: the node's, or none when the node has none (0)", function () {
    for (const absent of [undefined, null, ''])
      assert.deepStrictEqual(deadlineFor(30, absent), { ok: true, ms: 30000 });
    assert.deepStrictEqual(deadlineFor(0, undefined), { ok: true, ms: undefined });
  });

  it('a msg.deadline that is not usable: INVALID_DEADLINE naming the value, the message is not sent', function () {
    for (const bad of [0, -1, 'soon', Infinity, 3601, {}]) {
      const r = deadlineFor(30, bad);
      assert.strictEqual(r.ok, false, String(bad));
      assert.strictEqual(r.error.code, 'INVALID_DEADLINE');
      assert.strictEqual(r.error.message, 'msg.deadline is not valid');
      assert.strictEqual(r.error.details[0].field, 'deadline');
      assert.strictEqual(r.error.details[0].value, String(bad));
    }
  });
});
