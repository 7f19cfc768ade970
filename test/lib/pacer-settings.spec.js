'use strict';
/**
 * lib/http/pacer-settings: the settings a Pacer runs with. Each given value
 * is a whole number in its range, else the default is used; the longest open
 * time and the longest offline wait are never shorter than the first ones.
 */
const assert = require('node:assert');
const { PACER_DEFAULTS, pacerSettings } = require('../../dist/nodes/lib/http/pacer-settings');

describe('lib/http/pacer-settings (pacerSettings)', function () {
  it('nothing given: the defaults, frozen', function () {
    const s = pacerSettings();
    assert.deepStrictEqual({ ...s }, { ...PACER_DEFAULTS });
    assert.ok(Object.isFrozen(s));
    assert.ok(Object.isFrozen(PACER_DEFAULTS));
  });

  it('numbers are floored; 0 means "off" where the limit has an off, else the default is used', function () {
    const s = pacerSettings({
      maxConcurrent: 0,
      rateCount: 7.9,
      rateIntervalMs: 0,
      breakerFailures: 0,
      breakerMinRequests: 0,
      breakerWindowMs: 2500.5,
    });
    assert.strictEqual(s.maxConcurrent, 0);
    assert.strictEqual(s.rateCount, 7);
    assert.strictEqual(s.rateIntervalMs, PACER_DEFAULTS.rateIntervalMs);
    assert.strictEqual(s.breakerFailures, 0);
    assert.strictEqual(s.breakerMinRequests, PACER_DEFAULTS.breakerMinRequests);
    assert.strictEqual(s.breakerWindowMs, 2500);
  });

  it('negative, non-finite and non-number values fall back to the default', function () {
    const s = pacerSettings({ maxConcurrent: -1, rateCount: NaN, breakerFailures: Infinity, breakerOpenMs: '5' });
    assert.strictEqual(s.maxConcurrent, PACER_DEFAULTS.maxConcurrent);
    assert.strictEqual(s.rateCount, PACER_DEFAULTS.rateCount);
    assert.strictEqual(s.breakerFailures, PACER_DEFAULTS.breakerFailures);
    assert.strictEqual(s.breakerOpenMs, PACER_DEFAULTS.breakerOpenMs);
  });

  it('the failure rate is a percentage, at most 100', function () {
    assert.strictEqual(pacerSettings({ breakerRate: 250 }).breakerRate, 100);
    assert.strictEqual(pacerSettings({ breakerRate: 50 }).breakerRate, 50);
  });

  it('the longest open time is at least the first; the longest offline wait at least the first', function () {
    const open = pacerSettings({ breakerOpenMs: 600000, breakerMaxOpenMs: 1000 });
    assert.strictEqual(open.breakerOpenMs, 600000);
    assert.strictEqual(open.breakerMaxOpenMs, 600000);
    const offline = pacerSettings({ offlineInitialMs: 90000, offlineMaxMs: 5000 });
    assert.strictEqual(offline.offlineInitialMs, 90000);
    assert.strictEqual(offline.offlineMaxMs, 90000);
    const kept = pacerSettings({ breakerOpenMs: 1000, breakerMaxOpenMs: 8000, offlineInitialMs: 10, offlineMaxMs: 80 });
    assert.deepStrictEqual(
      [kept.breakerOpenMs, kept.breakerMaxOpenMs, kept.offlineInitialMs, kept.offlineMaxMs],
      [1000, 8000, 10, 80],
    );
  });
});
