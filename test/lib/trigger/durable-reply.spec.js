'use strict';
const assert = require('node:assert');

const ev = require('../../../dist/nodes/lib/trigger/durable-reply');

describe('durable replies', function () {
  it('reply mode: absent means immediate (older flows), anything but "immediate" means durable', function () {
    assert.strictEqual(ev.replyModeOf(undefined), 'immediate');
    assert.strictEqual(ev.replyModeOf(null), 'immediate');
    assert.strictEqual(ev.replyModeOf(''), 'immediate');
    assert.strictEqual(ev.replyModeOf('immediate'), 'immediate');
    assert.strictEqual(ev.replyModeOf('durable'), 'durable');
    assert.strictEqual(ev.replyModeOf('something else'), 'durable', 'an unknown value takes the safe mode');
  });

  it('ack timeout: seconds above 0, fractions allowed, at most an hour, else 10', function () {
    assert.strictEqual(ev.ackTimeoutOf(undefined), 10);
    assert.strictEqual(ev.ackTimeoutOf(0.2), 0.2);
    assert.strictEqual(ev.ackTimeoutOf('0.2'), 0.2);
    assert.strictEqual(ev.ackTimeoutOf('30'), 30);
    assert.strictEqual(ev.ackTimeoutOf(3600), 3600);
    for (const bad of [0, -1, 3601, 'x', '', NaN, Infinity, null])
      assert.strictEqual(ev.ackTimeoutOf(bad), 10, String(bad));
  });

  it('settled ok → 202 accepted', function () {
    assert.deepStrictEqual(ev.durableReply('e1', { ok: true }, { timeoutSeconds: 10 }), {
      status: 202,
      outcome: 'accepted',
      body: { id: 'e1', status: 'accepted' },
    });
  });

  it('settled 422 → 422 rejected with the error the node reported', function () {
    const error = {
      code: 'MAPPING_INVALID',
      message: 'email is required',
      details: [{ field: 'email', reason: 'is required' }],
    };
    const r = ev.durableReply('e1', { ok: false, status: 422, error }, { timeoutSeconds: 10 });
    assert.deepStrictEqual(r, { status: 422, outcome: 'refused', body: { id: 'e1', status: 'rejected', error } });
    const bare = ev.durableReply('e1', { ok: false, status: 422 }, { timeoutSeconds: 10 });
    assert.strictEqual(bare.body.error.code, 'REJECTED');
  });

  it('settled 503 → 503 busy with Retry-After (its own, rounded up, else 5)', function () {
    const error = { code: 'QUEUE_FULL', message: 'the queue is full', details: [] };
    const r = ev.durableReply('e1', { ok: false, status: 503, retryAfterSeconds: 2.5, error }, { timeoutSeconds: 10 });
    assert.deepStrictEqual(r, {
      status: 503,
      retryAfter: 3,
      outcome: 'busy',
      body: { id: 'e1', status: 'busy', error },
    });
    assert.strictEqual(ev.durableReply('e1', { ok: false, status: 503 }, { timeoutSeconds: 10 }).retryAfter, 5);
    assert.strictEqual(
      ev.durableReply('e1', { ok: false, status: 503, retryAfterSeconds: -1 }, { timeoutSeconds: 10 }).retryAfter,
      5,
    );
  });

  it('other statuses pass through; a missing or impossible one is 500', function () {
    const r429 = ev.durableReply('e1', { ok: false, status: 429, retryAfterSeconds: 7 }, { timeoutSeconds: 10 });
    assert.strictEqual(r429.status, 429);
    assert.strictEqual(r429.retryAfter, 7);
    assert.strictEqual(r429.body.status, 'rejected');
    assert.strictEqual(r429.outcome, 'failed');
    const r500 = ev.durableReply('e1', { ok: false, status: 502 }, { timeoutSeconds: 10 });
    assert.deepStrictEqual([r500.status, r500.body.status, r500.retryAfter], [502, 'failed', undefined]);
    for (const status of [undefined, 200, 302, 600, 422.5, '422']) {
      assert.strictEqual(
        ev.durableReply('e1', { ok: false, status }, { timeoutSeconds: 10 }).status,
        500,
        String(status),
      );
    }
  });

  it('nothing settled → 503 pending ACK_TIMEOUT with Retry-After 5; closing → 503 SHUTTING_DOWN', function () {
    const t = ev.durableReply('e1', undefined, { timeoutSeconds: 0.2 });
    assert.strictEqual(t.status, 503);
    assert.strictEqual(t.retryAfter, 5);
    assert.strictEqual(t.outcome, 'unconfirmed');
    assert.deepStrictEqual(t.body, {
      id: 'e1',
      status: 'pending',
      error: { code: 'ACK_TIMEOUT', message: 'the event was not confirmed durable within 0.2 s', details: [] },
    });
    const c = ev.durableReply('e1', { ok: true }, { timeoutSeconds: 10, closing: true });
    assert.strictEqual(c.status, 503);
    assert.strictEqual(c.retryAfter, 5);
    assert.strictEqual(c.body.error.code, 'SHUTTING_DOWN');
  });
});
