'use strict';
/**
 * nodes/lib/deadline.ts (a bound on how long a message may take) and
 * nodes/lib/idempotency-window.ts (no attempt after the vendor forgets the
 * idempotency key).
 */
const assert = require('node:assert');
const {
  readDeadlineSetting,
  messageDeadlineMs,
  deadlineExceeded,
  MAX_DEADLINE_S,
} = require('../../dist/nodes/lib/deadline.js');
const {
  readKeyLifetime,
  windowPassed,
  marginFor,
  longestRetrySpanMs,
  scheduleOutlivesKey,
  formatDuration,
  WINDOW_MARGIN_MS,
} = require('../../dist/nodes/lib/idempotency-window.js');
const presets = require('../../resources/presets.js');

const H = 3600_000;

describe('deadline (lib/deadline)', function () {
  it('reads the node setting: empty or 0 is none, a number of seconds up to an hour, anything else is refused', function () {
    for (const v of [undefined, null, '', '  ', 0, '0'])
      assert.deepStrictEqual(readDeadlineSetting(v), { ok: true, seconds: 0 }, String(v));
    assert.deepStrictEqual(readDeadlineSetting(30), { ok: true, seconds: 30 });
    assert.deepStrictEqual(readDeadlineSetting(' 2.5 '), { ok: true, seconds: 2.5 });
    for (const v of [-1, 'soon', MAX_DEADLINE_S + 1, {}, NaN])
      assert.strictEqual(readDeadlineSetting(v).ok, false, String(v));
  });

  it('msg.deadline replaces the node setting for one message; an unusable one is a problem, not ignored', function () {
    assert.deepStrictEqual(messageDeadlineMs(30, undefined), { ms: 30000 });
    assert.deepStrictEqual(messageDeadlineMs(0, undefined), {});
    assert.deepStrictEqual(messageDeadlineMs(30, 5), { ms: 5000 });
    assert.deepStrictEqual(messageDeadlineMs(0, '1.5'), { ms: 1500 });
    for (const v of [0, -2, 'x', 4000, {}]) {
      const r = messageDeadlineMs(30, v);
      assert.strictEqual(r.ms, undefined, String(v));
      assert.strictEqual(r.problem.field, 'deadline');
    }
  });

  it('DEADLINE_EXCEEDED says where the delivery stopped and how many requests were made', function () {
    const e = deadlineExceeded(30000, 'sending', 0);
    assert.strictEqual(e.code, 'DEADLINE_EXCEEDED');
    assert.strictEqual(e.message, 'The third party did not answer within 30 s');
    assert.match(e.details[0].reason, /before the endpoint could be reached; 0 requests made/);
    const w = deadlineExceeded(1500, 'waiting', 2, 'HTTP_503');
    assert.match(
      w.details[0].reason,
      /1\.5 s deadline \(stopped while waiting to try again; 2 requests made\); last failure: HTTP_503/,
    );
  });
});

describe('idempotency key window (lib/idempotency-window)', function () {
  it('reads the key lifetime in hours: empty or 0 is none', function () {
    for (const v of [undefined, '', 0, '0']) assert.deepStrictEqual(readKeyLifetime(v), { ok: true, hours: 0 });
    assert.deepStrictEqual(readKeyLifetime('24'), { ok: true, hours: 24 });
    for (const v of [-1, 'a day', 24 * 400]) assert.strictEqual(readKeyLifetime(v).ok, false, String(v));
  });

  it('lets attempts through until the lifetime less the margin, then stops them with IDEMPOTENCY_WINDOW_PASSED', function () {
    const t0 = Date.UTC(2026, 0, 1);
    const base = { firstUseAt: t0, lifetimeMs: 24 * H, header: 'Idempotency-Key' };
    assert.strictEqual(marginFor(24 * H), WINDOW_MARGIN_MS);
    assert.strictEqual(windowPassed({ ...base, now: t0 }), null);
    assert.strictEqual(windowPassed({ ...base, now: t0 + 24 * H - WINDOW_MARGIN_MS - 1 }), null);
    const e = windowPassed({ ...base, now: t0 + 24 * H - WINDOW_MARGIN_MS });
    assert.strictEqual(e.code, 'IDEMPOTENCY_WINDOW_PASSED');
    assert.strictEqual(e.message, 'Not sent again: the Idempotency-Key key is older than the 24 h the vendor keeps it');
    assert.match(e.details[0].reason, /first used 23\.9 h ago and the vendor forgets keys after 24 h/);
    assert.match(e.details[0].reason, /Check with the vendor .* whether an earlier attempt went through/);
    assert.ok(windowPassed({ ...base, now: t0 + 3 * 24 * H }));
  });

  it('has no window for a key no request carried, or without a lifetime; a short lifetime has a tenth as margin', function () {
    assert.strictEqual(windowPassed({ firstUseAt: null, now: Date.now() + 100 * H, lifetimeMs: H }), null);
    assert.strictEqual(windowPassed({ firstUseAt: 0, now: Date.now(), lifetimeMs: 0 }), null);
    assert.strictEqual(marginFor(10 * 60_000), 60_000);
    assert.strictEqual(windowPassed({ firstUseAt: 0, now: 9 * 60_000 - 1, lifetimeMs: 10 * 60_000 }), null);
    assert.ok(windowPassed({ firstUseAt: 0, now: 9 * 60_000, lifetimeMs: 10 * 60_000 }));
  });

  it("computes the longest retry span for the dialog's warning", function () {
    // the node's defaults: 5 attempts, waits up to max(30 s, 120 s Retry-After), 10 s timeouts
    assert.strictEqual(
      longestRetrySpanMs({ maxAttempts: 5, maxDelay: 30000, maxRetryAfter: 120, timeoutMs: 10000 }),
      4 * 130000,
    );
    assert.strictEqual(longestRetrySpanMs({ maxAttempts: 1, maxDelay: 30000, maxRetryAfter: 120 }), 0);
    assert.strictEqual(scheduleOutlivesKey({ maxAttempts: 5, maxDelay: 30000, maxRetryAfter: 120 }, 24 * H), false);
    assert.strictEqual(scheduleOutlivesKey({ maxAttempts: 20, maxDelay: 24 * H, maxRetryAfter: 0 }, 24 * H), true);
    assert.strictEqual(scheduleOutlivesKey({ maxAttempts: 20, maxDelay: 24 * H, maxRetryAfter: 0 }, 0), false);
    assert.strictEqual(formatDuration(90 * 60_000), '1.5 h');
    assert.strictEqual(formatDuration(45 * 60_000), '45 min');
    assert.strictEqual(formatDuration(1800), '1.8 s');
  });

  it("every endpoint preset declares its vendor's idempotency key lifetime and length (Stripe 24 h / 255, PayPal 6 h / 108, none elsewhere)", function () {
    const declared = Object.fromEntries(
      presets.endpoint.map((p) => [
        p.id,
        [p.request.idempotencyHeader, p.request.keyLifetimeHours, p.request.keyMaxLength],
      ]),
    );
    assert.deepStrictEqual(declared, {
      stripe: ['Idempotency-Key', 24, 255],
      paypal: ['PayPal-Request-Id', 6, 108],
      sendgrid: ['', null, null],
      mailchimp: ['', null, null],
      hubspot: ['', null, null],
      twilio: ['', null, null],
      partner: ['Idempotency-Key', null, null],
    });
    // the keys the runtime makes (event ids, UUIDs) fit every declared length
    for (const p of presets.endpoint)
      if (p.request.keyMaxLength) assert.ok('6f1c1f4e-9a55-4c0e-8f43-0c3a1b7d2e9f'.length <= p.request.keyMaxLength);
  });
});
