'use strict';
const assert = require('node:assert');
const { Pacer } = require('../../dist/nodes/lib/http/pacing');
const { PACER_DEFAULTS } = require('../../dist/nodes/lib/http/pacer-settings');

/** Lets promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A clock and timers that move only when told to. */
function fakeClock(start = 1700000000000) {
  let t = start;
  let seq = 0;
  const timers = new Map();
  return {
    now: () => t,
    setTimer: (fn, ms) => {
      const id = ++seq;
      timers.set(id, { at: t + ms, fn });
      return id;
    },
    clearTimer: (id) => timers.delete(id),
    pending: () => timers.size,
    /** moves the clock by ms, firing every timer that falls due on the way, in order */
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        let next;
        for (const [id, timer] of timers) if (timer.at <= end && (!next || timer.at < next[1].at)) next = [id, timer];
        if (!next) break;
        timers.delete(next[0]);
        t = Math.max(t, next[1].at);
        next[1].fn();
        await flush();
      }
      t = end;
      await flush();
    },
  };
}

/** A pacer on a fake clock, and a way to start acquire() calls and see which were granted. */
function setup(options = {}) {
  const clock = fakeClock();
  const changes = [];
  const pacer = new Pacer({
    maxConcurrent: 0,
    breakerFailures: 0,
    ...options,
    now: clock.now,
    setTimer: clock.setTimer,
    clearTimer: clock.clearTimer,
    onChange: (s) => changes.push(s),
  });
  const granted = [];
  const rejected = [];
  const want = (n = 1, signal) => {
    for (let i = 0; i < n; i++) {
      pacer.acquire(signal).then(
        (p) => granted.push(p),
        (e) => rejected.push(e),
      );
    }
  };
  return { clock, pacer, granted, rejected, want, changes };
}

const ok = { kind: 'response', status: 200 };
const e500 = { kind: 'response', status: 500 };
const refused = { kind: 'network', code: 'ECONNREFUSED' };

describe('lib/http/pacing (Pacer)', function () {
  it('defaults: 4 at once, no rate limit, breaker after 5 failures, 30 s open, offline probes from 1 s to 60 s', function () {
    const p = new Pacer();
    assert.deepStrictEqual(
      { ...p.settings },
      {
        maxConcurrent: 4,
        rateCount: 0,
        rateIntervalMs: 1000,
        breakerFailures: 5,
        breakerRate: 0,
        breakerMinRequests: 10,
        breakerWindowMs: 60000,
        breakerOpenMs: 30000,
        breakerMaxOpenMs: 300000,
        offlineInitialMs: 1000,
        offlineMaxMs: 60000,
      },
    );
    assert.deepStrictEqual({ ...p.settings }, { ...PACER_DEFAULTS });
    assert.deepStrictEqual(p.state(), {
      circuit: 'closed',
      pausedUntil: null,
      offline: false,
      inFlight: 0,
      waiting: 0,
      consecutiveFailures: 0,
      openUntil: null,
      nextProbeAt: null,
      offlineCode: null,
    });
    p.close();
  });

  it('concurrency cap: at most maxConcurrent permits out, first come first served; 0 means no limit', async function () {
    const { pacer, granted, clock } = setup({ maxConcurrent: 2 });
    const order = [];
    for (let i = 0; i < 5; i++)
      pacer.acquire().then((p) => {
        order.push(i);
        granted.push(p);
      });
    await flush();
    assert.deepStrictEqual(order, [0, 1]);
    assert.deepStrictEqual([pacer.state().inFlight, pacer.state().waiting], [2, 3]);
    assert.strictEqual(pacer.tryAcquire(), undefined, 'tryAcquire does not jump the queue');
    assert.strictEqual(clock.pending(), 0, 'no timer while waiting for a release');
    granted[0].release(ok);
    granted[0].release(ok); // a second release does nothing
    await flush();
    assert.deepStrictEqual(order, [0, 1, 2]);
    assert.strictEqual(pacer.state().inFlight, 2);
    granted[1].release();
    granted[2].release(e500);
    await flush();
    assert.deepStrictEqual(order, [0, 1, 2, 3, 4]);
    assert.deepStrictEqual([pacer.state().inFlight, pacer.state().waiting], [2, 0]);

    const free = setup({ maxConcurrent: 0 });
    free.want(50);
    await flush();
    assert.strictEqual(free.granted.length, 50);
    assert.strictEqual(free.pacer.state().inFlight, 50);
  });

  it('rate limit 3 per 1 s: a sliding window over the grant times, woken by one timer', async function () {
    const { granted, want, clock } = setup({ rateCount: 3, rateIntervalMs: 1000 });
    want(7);
    await flush();
    assert.strictEqual(granted.length, 3);
    granted.forEach((p) => p.release(ok));
    assert.strictEqual(clock.pending(), 1, 'one timer for the next free slot');
    await clock.advance(999);
    assert.strictEqual(granted.length, 3);
    await clock.advance(1);
    assert.strictEqual(granted.length, 6);
    await clock.advance(999);
    assert.strictEqual(granted.length, 6);
    await clock.advance(1);
    assert.strictEqual(granted.length, 7);
    assert.strictEqual(clock.pending(), 0, 'no timer once nobody waits');

    // sliding, not fixed windows: grants at 0, 400, 800 ms → the 4th at 1000, the 5th at 1400
    const s = setup({ rateCount: 3, rateIntervalMs: 1000 });
    const at = [];
    const take = () =>
      s.pacer.acquire().then((p) => {
        at.push(s.clock.now());
        p.release(ok);
      });
    const t0 = s.clock.now();
    take();
    await flush();
    await s.clock.advance(400);
    take();
    await flush();
    await s.clock.advance(400);
    take();
    take();
    take();
    await flush();
    await s.clock.advance(1000);
    assert.deepStrictEqual(
      at.map((x) => x - t0),
      [0, 400, 800, 1000, 1400],
    );
  });

  it('a 429 or 503 with Retry-After pauses every request until then; a pause never shrinks', async function () {
    const { pacer, granted, want, clock, changes } = setup({});
    want(1);
    await flush();
    const t0 = clock.now();
    granted[0].release({ kind: 'response', status: 429, retryAfterMs: 5000 });
    assert.strictEqual(pacer.state().pausedUntil, t0 + 5000);
    assert.strictEqual(changes.pop().pausedUntil, t0 + 5000, 'onChange told');
    want(2);
    assert.strictEqual(pacer.tryAcquire(), undefined);
    pacer.pauseUntil(t0 + 1000); // shorter: ignored
    await clock.advance(4999);
    assert.strictEqual(granted.length, 1, 'nobody goes during the pause');
    await clock.advance(1);
    assert.strictEqual(granted.length, 3);
    assert.strictEqual(pacer.state().pausedUntil, null);
    assert.strictEqual(changes.pop().pausedUntil, null, 'told when it ends');
    // 503 pauses too; other statuses with a Retry-After do not; pauseUntil() pauses directly
    granted[1].release({ kind: 'response', status: 503, retryAfterMs: 2000 });
    assert.strictEqual(pacer.state().pausedUntil, clock.now() + 2000);
    await clock.advance(2000);
    granted[2].release({ kind: 'response', status: 500, retryAfterMs: 2000 });
    assert.strictEqual(pacer.state().pausedUntil, null);
    pacer.pauseUntil(clock.now() + 300);
    want(1);
    await clock.advance(299);
    assert.strictEqual(granted.length, 3);
    await clock.advance(1);
    assert.strictEqual(granted.length, 4);
  });

  it('circuit breaker: opens after N failures in a row, half-open lets exactly one probe, a failed probe doubles the open time up to the max, a good one closes it', async function () {
    const { pacer, granted, want, clock, changes } = setup({
      breakerFailures: 3,
      breakerOpenMs: 1000,
      breakerMaxOpenMs: 3000,
    });
    // a success (any answer below 500, except 429) breaks the run
    want(5);
    await flush();
    [
      e500,
      { kind: 'timeout' },
      { kind: 'response', status: 404 },
      e500,
      { kind: 'network', code: 'ECONNRESET' },
    ].forEach((o, i) => granted[i].release(o));
    assert.strictEqual(pacer.state().circuit, 'closed');
    assert.strictEqual(pacer.state().consecutiveFailures, 2);
    want(1);
    await flush();
    const t0 = clock.now();
    granted[5].release({ kind: 'response', status: 502 });
    assert.deepStrictEqual([pacer.state().circuit, pacer.state().openUntil], ['open', t0 + 1000]);
    assert.strictEqual(changes.pop().circuit, 'open');

    want(4);
    await clock.advance(999);
    assert.strictEqual(granted.length, 6, 'nothing while open');
    await clock.advance(1);
    assert.strictEqual(granted.length, 7, 'exactly one probe');
    assert.strictEqual(granted[6].probe, true);
    assert.strictEqual(pacer.state().circuit, 'half-open');
    await clock.advance(5000);
    assert.strictEqual(granted.length, 7, 'still one while the probe is out');

    // the probe fails: open twice as long (2 s), then again (4 s → capped at 3 s)
    granted[6].release(e500);
    assert.deepStrictEqual([pacer.state().circuit, pacer.state().openUntil], ['open', clock.now() + 2000]);
    await clock.advance(1999);
    assert.strictEqual(granted.length, 7);
    await clock.advance(1);
    assert.strictEqual(granted.length, 8);
    granted[7].release({ kind: 'timeout' });
    assert.strictEqual(pacer.state().openUntil, clock.now() + 3000);
    await clock.advance(3000);
    assert.strictEqual(granted.length, 9);
    // a probe that says nothing (cancelled) lets the next waiter probe
    granted[8].release({ kind: 'cancelled' });
    await flush();
    assert.strictEqual(granted.length, 10);
    assert.strictEqual(granted[9].probe, true);
    assert.strictEqual(pacer.state().circuit, 'half-open');
    // a good probe closes it and everyone goes; the next opening starts at 1 s again
    want(2);
    granted[9].release(ok);
    await flush();
    assert.strictEqual(granted.length, 12);
    assert.deepStrictEqual([pacer.state().circuit, pacer.state().consecutiveFailures], ['closed', 0]);
    assert.strictEqual(changes.pop().circuit, 'closed');
    granted.slice(10).forEach((p) => p.release(e500));
    want(1);
    await flush();
    granted[12].release(e500);
    assert.strictEqual(pacer.state().openUntil, clock.now() + 1000);
  });

  it('circuit breaker, failure-rate mode: ≥ 50 % of at least 10 outcomes in the window', async function () {
    const run = async (s, verdicts, gapMs = 0) => {
      for (const v of verdicts) {
        s.want(1);
        await flush();
        s.granted[s.granted.length - 1].release(v === 'F' ? e500 : v === 'S' ? ok : { kind: 'cancelled' });
        if (gapMs) await s.clock.advance(gapMs);
      }
    };
    const rate = {
      breakerFailures: 0,
      breakerRate: 50,
      breakerMinRequests: 10,
      breakerWindowMs: 60000,
      breakerOpenMs: 1000,
    };
    let s = setup(rate);
    await run(s, 'SFSFSFSFS'.split(''));
    assert.strictEqual(s.pacer.state().circuit, 'closed', '4 of 9: too few requests yet');
    await run(s, ['C', 'C', 'F']); // neutral outcomes do not count
    assert.strictEqual(s.pacer.state().circuit, 'open', '5 of 10 failed');

    s = setup(rate);
    await run(s, 'FFFFFFFFF'.split(''));
    assert.strictEqual(s.pacer.state().circuit, 'closed', '9 failures, fewer than 10 requests, and no run limit');
    await run(s, ['S']);
    assert.strictEqual(s.pacer.state().circuit, 'closed', 'a success never opens it');

    // outcomes older than the window drop out: 10 of 19 failed, but only 1 of the last 10 within 60 s
    s = setup(rate);
    await run(s, 'FFFFFFFFF'.split(''));
    await s.clock.advance(60001);
    await run(s, 'SSSSSSSSSF'.split(''));
    assert.strictEqual(s.pacer.state().circuit, 'closed', 'failures older than 60 s do not count');

    s = setup({ ...rate, breakerRate: 30 });
    await run(s, 'SSSSSSSFFF'.split(''));
    assert.strictEqual(s.pacer.state().circuit, 'open', '30 % of 10');
  });

  it('network down: deliveries wait; one probe at 1 s, 2 s, 4 s … up to the max; any HTTP answer releases everyone', async function () {
    const { pacer, granted, want, clock, changes } = setup({
      breakerFailures: 2,
      offlineInitialMs: 1000,
      offlineMaxMs: 4000,
    });
    want(3);
    await flush();
    const t0 = clock.now();
    granted[0].release(refused);
    granted[1].release({ kind: 'network', code: 'ENOTFOUND' }); // already offline: changes nothing
    let st = pacer.state();
    assert.deepStrictEqual(
      [st.offline, st.nextProbeAt, st.offlineCode, st.circuit, st.consecutiveFailures],
      [true, t0 + 1000, 'ECONNREFUSED', 'closed', 0],
      'down is not a breaker failure',
    );
    assert.strictEqual(changes.pop().offline, true);
    granted[2].release(refused);
    want(5);
    await clock.advance(999);
    assert.strictEqual(granted.length, 3);
    await clock.advance(1);
    assert.strictEqual(granted.length, 4, 'one probe');
    assert.strictEqual(granted[3].probe, true);
    await clock.advance(10000);
    assert.strictEqual(granted.length, 4, 'one probe at a time');
    // probe fails: 2 s, then (a timeout is no answer either) 4 s, then capped at 4 s
    const gaps = [];
    for (const fail of [refused, { kind: 'timeout' }, { kind: 'network', code: 'EHOSTUNREACH' }]) {
      const before = clock.now();
      granted[granted.length - 1].release(fail);
      gaps.push(pacer.state().nextProbeAt - before);
      await clock.advance(gaps[gaps.length - 1]);
    }
    assert.deepStrictEqual(gaps, [2000, 4000, 4000]);
    assert.strictEqual(granted.length, 7);
    assert.strictEqual(
      pacer.state().consecutiveFailures,
      0,
      'a probe that timed out while offline is no breaker failure',
    );
    // any HTTP answer, even a 500, brings it back and releases the rest
    granted[6].release({ kind: 'response', status: 500 });
    await flush();
    st = pacer.state();
    assert.deepStrictEqual([st.offline, st.circuit, st.consecutiveFailures], [false, 'closed', 1]);
    assert.strictEqual(granted.length, 8);
    assert.strictEqual(
      changes.some((c) => c.offline === false),
      true,
    );
  });

  it('network down with nobody waiting sets no timer; the next acquire waits for the probe time', async function () {
    const { granted, want, clock } = setup({});
    want(1);
    await flush();
    granted[0].release(refused);
    assert.strictEqual(clock.pending(), 0);
    await clock.advance(500);
    want(1);
    assert.strictEqual(clock.pending(), 1);
    await clock.advance(499);
    assert.strictEqual(granted.length, 1);
    await clock.advance(1);
    assert.strictEqual(granted.length, 2);
  });

  it('acquire(signal): an abort rejects with AbortError and leaves the queue; an aborted signal rejects at once', async function () {
    const { pacer, granted, rejected, want } = setup({ maxConcurrent: 1 });
    want(1);
    const ctl = new AbortController();
    want(1, ctl.signal);
    want(1);
    await flush();
    assert.strictEqual(pacer.state().waiting, 2);
    ctl.abort();
    await flush();
    assert.strictEqual(rejected.length, 1);
    assert.strictEqual(rejected[0].name, 'AbortError');
    assert.strictEqual(rejected[0].code, 'ABORT_ERR');
    assert.strictEqual(pacer.state().waiting, 1);
    granted[0].release(ok);
    await flush();
    assert.strictEqual(granted.length, 2, 'the next waiter got the slot');
    await assert.rejects(pacer.acquire(AbortSignal.abort()), (e) => e.name === 'AbortError');
  });

  it('close() clears the timers and rejects every waiter with ENDPOINT_CLOSED; later calls are refused', async function () {
    const { pacer, granted, rejected, want, clock } = setup({ rateCount: 1, rateIntervalMs: 60000 });
    want(3);
    await flush();
    granted[0].release({ kind: 'response', status: 429, retryAfterMs: 9000 });
    assert.ok(clock.pending() > 0);
    pacer.close();
    await flush();
    assert.strictEqual(clock.pending(), 0);
    assert.strictEqual(rejected.length, 2);
    for (const e of rejected) {
      assert.strictEqual(e.code, 'ENDPOINT_CLOSED');
      assert.match(e.message, /endpoint has been stopped/);
    }
    await assert.rejects(pacer.acquire(), (e) => e.code === 'ENDPOINT_CLOSED');
    assert.strictEqual(pacer.tryAcquire(), undefined);
    granted[0].release(ok); // harmless
    await clock.advance(100000);
    assert.strictEqual(granted.length, 1);
  });

  it('onChange is told about the circuit, the pause and the network, not about every permit; a throwing listener is ignored', async function () {
    const clock = fakeClock();
    let calls = 0;
    const pacer = new Pacer({
      now: clock.now,
      setTimer: clock.setTimer,
      clearTimer: clock.clearTimer,
      onChange: () => {
        calls++;
        throw new Error('boom');
      },
    });
    for (let i = 0; i < 10; i++) (await pacer.acquire()).release(ok);
    assert.strictEqual(calls, 0);
    (await pacer.acquire()).release(refused);
    assert.strictEqual(calls, 1);
    pacer.close();
  });
});
