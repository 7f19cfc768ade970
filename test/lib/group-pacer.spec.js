'use strict';
/**
 * The group's rate limiter (lib/shared-queue/group-pacer.ts, rate-slots.ts):
 * the slot arithmetic, then three GroupPacers sharing a JetStream stand-in
 * whose per-subject limit behaves as the pace stream's (one message per
 * subject, a second publish refused) and whose round trips are slow and
 * uneven. Whatever the round trips, no request may start outside its slot's
 * [start, start + tolerance], so no window holds more than the rate allows.
 * (The real stream is exercised by the shared-queue e2e tests.)
 */
const assert = require('assert');
const { GroupPacer, AHEAD_WAITERS } = require('../../dist/nodes/lib/shared-queue/group-pacer');
const slots = require('../../dist/nodes/lib/shared-queue/rate-slots');
const { prng } = require('../support/chaos-partner');

/** the pace stream: one message per subject, discard new per subject; `latency()` ms per round trip */
function fakeStream(latency) {
  const subjects = new Map();
  let seq = 0;
  const later = (fn) => new Promise((resolve, reject) => setTimeout(() => fn(resolve, reject), latency()));
  return {
    subjects,
    js: {
      publish: (subject, data) =>
        later((resolve, reject) => {
          if (subjects.has(subject)) {
            const e = new Error('maximum messages per subject exceeded');
            e.code = 10077;
            return reject(e);
          }
          subjects.set(subject, String(data));
          resolve({ seq: ++seq, duplicate: false });
        }),
    },
    jsm: { streams: { deleteMessage: () => Promise.resolve(true) } },
    kv: { get: () => Promise.resolve(null), put: () => Promise.resolve(1) },
  };
}

function pacer(stream, owner, limits, grants) {
  return new GroupPacer({
    js: stream.js,
    jsm: stream.jsm,
    kv: stream.kv,
    stream: 'SAYPRO_PACE_t',
    prefix: 'saypro.pace.t',
    limits: { maxConcurrent: 0, ...limits },
    owner,
    onGrant: (slot, at, start) => grants.push({ owner, slot, at, start }),
  });
}

function maxInWindow(times, ms) {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** `workers` loops per pacer, each acquiring and releasing at once, until `ms` have passed */
async function run(pacers, workers, ms) {
  const until = Date.now() + ms;
  const loops = [];
  for (const p of pacers)
    for (let i = 0; i < workers; i++)
      loops.push(
        (async () => {
          while (Date.now() < until) {
            const permit = await p.acquire();
            permit.release({ kind: 'response', status: 200 });
          }
        })(),
      );
  await Promise.all(loops);
  for (const p of pacers) p.close();
}

describe('group rate limiter (rate slots)', function () {
  it('cuts time into slots 5 % longer than interval / count, usable for half a slot (2 … 50 ms) after their start', function () {
    const spacing = slots.slotSpacing({ rateCount: 25, rateIntervalMs: 1000 });
    assert.strictEqual(spacing, 42);
    assert.strictEqual(slots.slotSpacing({ rateCount: 0, rateIntervalMs: 1000 }), 0);
    assert.strictEqual(slots.slotTolerance(42), 21);
    assert.strictEqual(slots.slotTolerance(1050), 50);
    assert.strictEqual(slots.slotTolerance(1), 2);
    assert.strictEqual(slots.usable(10, 419, 42, 21), 'early');
    assert.strictEqual(slots.usable(10, 420, 42, 21), 'ok');
    assert.strictEqual(slots.usable(10, 441, 42, 21), 'ok');
    assert.strictEqual(slots.usable(10, 442, 42, 21), 'late');
  });

  it('bounds the starts in any window: 25/s gives at most 25 in any second (the limit + 10 % is 27)', function () {
    const spacing = slots.slotSpacing({ rateCount: 25, rateIntervalMs: 1000 });
    const most = slots.maxStartsInWindow(1000, spacing, slots.slotTolerance(spacing));
    assert.strictEqual(most, 25);
    // brute force: the latest allowed start of every slot, slid over every window
    for (const [count, interval] of [
      [25, 1000],
      [7, 1000],
      [100, 1000],
      [3, 2000],
    ]) {
      const s = slots.slotSpacing({ rateCount: count, rateIntervalMs: interval });
      const tol = slots.slotTolerance(s);
      const times = [];
      for (let k = 0; k < 2000; k++) times.push(k * s + (k % 2 ? tol : 0));
      assert.ok(maxInWindow(times, interval) <= slots.maxStartsInWindow(interval, s, tol));
      assert.ok(slots.maxStartsInWindow(interval, s, tol) <= Math.floor(count * 1.1), `${count} per ${interval} ms`);
    }
  });

  it('reserves ahead of the clock by the learnt round trip, after the slots already tried', function () {
    assert.strictEqual(slots.firstCandidate(1000, 100, 42, 0), 27); // ceil(1100 / 42)
    assert.strictEqual(slots.firstCandidate(1000, 100, 42, 40), 40);
    const lead = new slots.Lead();
    assert.strictEqual(lead.ms, slots.INITIAL_LEAD_MS);
    lead.sample(400); // a slow round trip counts at once
    assert.strictEqual(lead.ms, 805);
    for (let i = 0; i < 500; i++) lead.sample(5); // fast ones bring it down slowly
    assert.ok(lead.ms < 100 && lead.ms >= slots.MIN_LEAD_MS, String(lead.ms));
    const before = lead.ms;
    lead.missed();
    assert.strictEqual(lead.ms, Math.min(slots.MAX_LEAD_MS, before * 1.5));
    for (let i = 0; i < 30; i++) lead.missed();
    assert.strictEqual(lead.ms, slots.MAX_LEAD_MS);
  });

  it('three instances with slow, uneven round trips: one request per slot, each within its slot, never more than the rate in any second', async function () {
    this.timeout(30000);
    const random = prng(15);
    // mostly 0-30 ms, one round trip in 20 takes 100-300 ms (a busy box, a leader election)
    const stream = fakeStream(() => (random() < 0.05 ? 100 + random() * 200 : random() * 30));
    const limits = { rateCount: 40, rateIntervalMs: 1000 };
    const grants = [];
    const pacers = ['a', 'b', 'c'].map((o) => pacer(stream, o, limits, grants));
    await run(pacers, AHEAD_WAITERS + 4, 3000);

    const spacing = slots.slotSpacing(limits);
    const tol = slots.slotTolerance(spacing);
    const late = grants.filter((g) => g.at < g.start || g.at > g.start + tol);
    assert.deepStrictEqual(late, [], 'every request starts within its slot');
    assert.strictEqual(new Set(grants.map((g) => g.slot)).size, grants.length, 'one request per slot');
    for (const g of grants)
      assert.strictEqual(stream.subjects.get(`saypro.pace.t.r.${g.slot}`), g.owner, 'the slot is the granted one');
    const most = maxInWindow(
      grants.map((g) => g.at),
      1000,
    );
    assert.ok(most <= slots.maxStartsInWindow(1000, spacing, tol), `${most} in one second`);
    assert.ok(most <= 40, `${most} in one second (limit 40)`);
    // it still works: far from the 3 × 40 the ideal would give, but every instance got slots
    for (const o of ['a', 'b', 'c'])
      assert.ok(
        grants.some((g) => g.owner === o),
        `instance ${o} was granted slots`,
      );
    const missed = pacers.reduce((a, p) => a + p.missedSlots, 0);
    console.log(
      `      ${grants.length} grants in 3 s (limit 40/s), most in 1 s: ${most}, slots given up: ${missed}, leads: ${pacers
        .map((p) => Math.round(p.leadMs))
        .join('/')} ms`,
    );
  });

  it('a reservation slower than the lead: the slot is given up (never used late), the lead grows, later slots are on time', async function () {
    this.timeout(30000);
    // every round trip takes 300 ms, the first lead is 100 ms: the first slot owned has started 200 ms ago
    const stream = fakeStream(() => 300);
    const limits = { rateCount: 20, rateIntervalMs: 1000 };
    const grants = [];
    const p = pacer(stream, 'a', limits, grants);
    const permit = await p.acquire();
    permit.release();
    p.close();
    assert.ok(p.missedSlots >= 1, `slots given up: ${p.missedSlots}`);
    assert.ok(p.leadMs >= 300, `lead ${p.leadMs} ms`);
    assert.strictEqual(grants.length, 1);
    const spacing = slots.slotSpacing(limits);
    assert.ok(grants[0].at >= grants[0].start && grants[0].at <= grants[0].start + slots.slotTolerance(spacing));
  });

  it('with no rate limit, grants at once without touching the stream', async function () {
    const stream = fakeStream(() => 0);
    const grants = [];
    const p = pacer(stream, 'a', { rateCount: 0, rateIntervalMs: 1000 }, grants);
    (await p.acquire()).release();
    p.close();
    assert.strictEqual(stream.subjects.size, 0);
  });
});
