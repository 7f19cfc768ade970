'use strict';
/**
 * lib/http/circuit-breaker: opens after failures in a row or at a failure
 * rate; open, nothing goes; half-open, one probe; a failed probe doubles the
 * open time up to the max; a good one closes it; neutral says nothing.
 */
const assert = require('node:assert');
const { CircuitBreaker } = require('../../dist/nodes/lib/http/circuit-breaker');
const { pacerSettings } = require('../../dist/nodes/lib/http/pacer-settings');

const T0 = 1700000000000;

/** One permit's life: granted (as the probe when the gate says so), then settled with a verdict. */
function pass(b, verdict, now) {
  const g = b.gate();
  assert.ok(g.ok, 'the breaker lets this one go');
  b.settle(verdict, now, b.grant(g.probe));
}

describe('lib/http/circuit-breaker (CircuitBreaker)', function () {
  it('failures in a row open it; a success in between starts the count again; neutral does not count', function () {
    const b = new CircuitBreaker(pacerSettings({ breakerFailures: 3, breakerOpenMs: 1000 }));
    pass(b, 'failure', T0);
    pass(b, 'failure', T0);
    pass(b, 'success', T0);
    pass(b, 'failure', T0);
    pass(b, 'neutral', T0);
    pass(b, 'failure', T0);
    assert.deepStrictEqual(b.view(T0), { circuit: 'closed', consecutiveFailures: 2, openUntil: null });
    assert.strictEqual(b.wakeAt(), Infinity);
    pass(b, 'failure', T0 + 10);
    assert.deepStrictEqual(b.view(T0 + 10), { circuit: 'open', consecutiveFailures: 3, openUntil: T0 + 1010 });
    assert.deepStrictEqual(b.gate(), { ok: false, until: T0 + 1010 });
    assert.strictEqual(b.wakeAt(), T0 + 1010);
  });

  it('half-open: exactly one probe; a failure reopens for twice as long (capped), a success closes it', function () {
    const b = new CircuitBreaker(pacerSettings({ breakerFailures: 1, breakerOpenMs: 1000, breakerMaxOpenMs: 3000 }));
    pass(b, 'failure', T0);
    assert.strictEqual(b.view(T0 + 1000).circuit, 'half-open', 'seen as half-open once the time is up');
    b.advance(T0 + 1000);
    const g = b.gate();
    assert.deepStrictEqual(g, { ok: true, probe: true });
    const ticket = b.grant(true);
    assert.deepStrictEqual(b.gate(), { ok: false, until: Infinity }, 'one probe at a time');
    b.settle('failure', T0 + 1100, ticket);
    assert.strictEqual(b.view(T0 + 1100).openUntil, T0 + 3100, 'twice as long');
    b.advance(T0 + 3100);
    pass(b, 'failure', T0 + 3100);
    assert.strictEqual(b.view(T0 + 3100).openUntil, T0 + 6100, 'capped at breakerMaxOpenMs');
    b.advance(T0 + 6100);
    pass(b, 'neutral', T0 + 6100);
    assert.deepStrictEqual(b.gate(), { ok: true, probe: true }, 'a neutral probe lets the next one probe');
    pass(b, 'success', T0 + 6200);
    assert.deepStrictEqual(b.view(T0 + 6200), { circuit: 'closed', consecutiveFailures: 0, openUntil: null });
    pass(b, 'failure', T0 + 6300);
    assert.strictEqual(b.view(T0 + 6300).openUntil, T0 + 7300, 'closed again: the first open time');
  });

  it('failure-rate mode: at least the minimum outcomes in the window, at least the rate failed', function () {
    const b = new CircuitBreaker(
      pacerSettings({ breakerFailures: 0, breakerRate: 50, breakerMinRequests: 4, breakerWindowMs: 10000 }),
    );
    pass(b, 'failure', T0);
    pass(b, 'success', T0 + 1);
    pass(b, 'failure', T0 + 2);
    assert.strictEqual(b.view(T0 + 2).circuit, 'closed', 'three outcomes: not enough');
    pass(b, 'success', T0 + 20000);
    assert.strictEqual(b.view(T0 + 20000).circuit, 'closed', 'the old ones left the window');
    pass(b, 'failure', T0 + 20001);
    pass(b, 'success', T0 + 20002);
    pass(b, 'failure', T0 + 20003);
    assert.strictEqual(b.view(T0 + 20003).circuit, 'open', '2 of 4 failed');
  });

  it('a permit granted before the circuit opened says nothing when it comes back', function () {
    const b = new CircuitBreaker(pacerSettings({ breakerFailures: 1, breakerOpenMs: 1000 }));
    const early = b.grant(b.gate().probe);
    pass(b, 'failure', T0);
    const sig = b.signature();
    b.settle('success', T0 + 5, early);
    assert.strictEqual(b.view(T0 + 5).circuit, 'open');
    assert.strictEqual(b.signature(), sig);
  });
});
