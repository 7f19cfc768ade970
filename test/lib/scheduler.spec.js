'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Scheduler } = require('../../dist/nodes/lib/outbox/scheduler');
const { Outbox } = require('../../dist/nodes/lib/outbox');
const { formatAge, msUntilAgeChanges, parseStoredItem } = require('../../dist/nodes/lib/outbox/durable');

/**
 * A queue like the outbox's index: items {id, orderingKey, nextAttemptAt} in
 * enqueue order; only the head of a key is offered; busy keys/ids skipped.
 */
function fakeQueue() {
  const items = [];
  const eligible = (busyKeys, busyIds) => {
    const bk = new Set(busyKeys || []);
    const heads = new Set();
    return items.filter((it) => {
      if (it.orderingKey !== undefined) {
        if (heads.has(it.orderingKey)) return false;
        heads.add(it.orderingKey);
      }
      return !(busyIds && busyIds.has(it.id)) && !(it.orderingKey !== undefined && bk.has(it.orderingKey));
    });
  };
  const q = {
    items,
    calls: { due: 0, nextDueAt: 0 },
    add(id, nextAttemptAt = 0, orderingKey) {
      items.push({ id, nextAttemptAt, orderingKey, attempts: 0, createdAt: 0, bytes: 1 });
    },
    remove(id) {
      const i = items.findIndex((x) => x.id === id);
      if (i >= 0) items.splice(i, 1);
    },
    due(now, limit, busyKeys, busyIds) {
      q.calls.due++;
      return eligible(busyKeys, busyIds)
        .filter((it) => it.nextAttemptAt <= now)
        .slice(0, limit)
        .map((x) => ({ ...x }));
    },
    nextDueAt(busyKeys, busyIds) {
      q.calls.nextDueAt++;
      const t = eligible(busyKeys, busyIds).map((it) => it.nextAttemptAt);
      return t.length ? Math.min(...t) : undefined;
    },
  };
  return q;
}

/** a clock and a timer the test moves by hand */
function manualTime(start = 1000) {
  const t = { now: start, timers: [] };
  t.setTimer = (fn, ms) => {
    const h = { fn, at: t.now + ms, ms, cleared: false };
    t.timers.push(h);
    return h;
  };
  t.clearTimer = (h) => {
    h.cleared = true;
  };
  t.live = () => t.timers.filter((h) => !h.cleared && !h.fired);
  t.advance = (ms) => {
    t.now += ms;
    for (const h of t.live()) {
      if (h.at <= t.now) {
        h.fired = true;
        h.fn();
      }
    }
  };
  return t;
}

/** steps the test finishes by hand */
function manualRun() {
  const r = { started: [], pending: new Map() };
  r.run = (item) =>
    new Promise((resolve, reject) => {
      r.started.push(item.id);
      r.pending.set(item.id, { resolve, reject });
    });
  r.finish = async (id, err) => {
    const p = r.pending.get(id);
    r.pending.delete(id);
    if (err) p.reject(err);
    else p.resolve();
    await new Promise((res) => setImmediate(res));
  };
  return r;
}

/** a scheduler on the test's queue, clock and timer */
function manualScheduler(q, t, run, options = {}) {
  return new Scheduler({ queue: q, run, now: () => t.now, setTimer: t.setTimer, clearTimer: t.clearTimer, ...options });
}

describe('outbox scheduler', function () {
  it('takes due items up to maxInFlight, oldest first, and the next one as soon as a slot frees', async function () {
    const q = fakeQueue();
    const t = manualTime();
    const r = manualRun();
    for (let i = 1; i <= 5; i++) q.add(`i${i}`);
    const s = manualScheduler(q, t, r.run, { maxInFlight: 2 });
    s.start();
    assert.deepStrictEqual(r.started, ['i1', 'i2']);
    assert.strictEqual(s.inFlight, 2);
    assert.strictEqual(t.live().length, 0, 'no timer while every slot is taken');
    q.remove('i1');
    await r.finish('i1');
    assert.deepStrictEqual(r.started, ['i1', 'i2', 'i3']);
    q.remove('i2');
    await r.finish('i2');
    q.remove('i3');
    await r.finish('i3');
    assert.deepStrictEqual(r.started, ['i1', 'i2', 'i3', 'i4', 'i5']);
    q.remove('i4');
    await r.finish('i4');
    q.remove('i5');
    await r.finish('i5');
    assert.strictEqual(s.inFlight, 0);
    assert.strictEqual(t.live().length, 0, 'nothing pending: no timer');
  });

  it('hold: a step that ended frees its slot while its id stays out of reach until the hold settles; true looks again', async function () {
    const q = fakeQueue();
    const t = manualTime();
    const r = manualRun();
    q.add('a');
    q.add('b');
    q.add('c');
    const s = manualScheduler(q, t, r.run, { maxInFlight: 1 });
    s.start();
    assert.deepStrictEqual(r.started, ['a']);
    // 'a' delivered, its record still being written: held, and it stays in the queue meanwhile
    let release;
    s.hold('a', new Promise((resolve) => (release = resolve)));
    await r.finish('a');
    assert.deepStrictEqual(r.started, ['a', 'b'], 'the slot went to the next item at once');
    assert.ok(s.busyIds.has('a'), 'the held id is not offered again');
    q.remove('b');
    await r.finish('b');
    assert.deepStrictEqual(r.started, ['a', 'b', 'c'], 'still held: not taken again');
    // the record failed: 'a' is pending again, and the scheduler looks again when the hold ends
    q.remove('c');
    await r.finish('c');
    assert.deepStrictEqual(r.started, ['a', 'b', 'c']);
    release(true);
    await new Promise((res) => setImmediate(res));
    assert.deepStrictEqual(r.started, ['a', 'b', 'c', 'a'], 'taken again once the hold ended');
    // a hold that ends with false frees the id without looking
    s.hold('a', Promise.resolve(false));
    q.remove('a');
    await r.finish('a');
    assert.ok(!s.busyIds.has('a'));
    assert.strictEqual(s.inFlight, 0);
  });

  it('offer: an item just queued goes at once with its context, without a look at the queue, only when that cannot pass anything by', async function () {
    const q = fakeQueue();
    const t = manualTime(1000);
    const contexts = [];
    const r = manualRun();
    const run = (item, context) => (contexts.push([item.id, context]), r.run(item));
    const s = manualScheduler(q, t, run, { maxInFlight: 2 });
    const view = (id, extra = {}) => ({ id, attempts: 0, createdAt: t.now, bytes: 1, nextAttemptAt: t.now, ...extra });
    assert.strictEqual(s.offer(view('early')), false, 'not before start()');
    s.start();
    q.add('a', t.now);
    const looks = q.calls.due;
    assert.strictEqual(s.offer(view('a'), { data: 'A' }), true);
    assert.deepStrictEqual(contexts, [['a', { data: 'A' }]]);
    assert.strictEqual(q.calls.due, looks, 'the queue was not looked at');
    // an ordering key, an id in flight, an item not due yet: not taken this way
    q.add('k1', t.now, 'K');
    assert.strictEqual(s.offer(view('k1', { orderingKey: 'K' })), false);
    assert.strictEqual(s.offer(view('a')), false, 'already in flight');
    assert.strictEqual(s.offer(view('later', { nextAttemptAt: t.now + 5000 })), false);
    s.wake(); // what the caller does then
    assert.deepStrictEqual(r.started, ['a', 'k1']);
    // every slot taken: not taken
    q.add('b', t.now);
    assert.strictEqual(s.offer(view('b')), false);
    q.remove('a');
    await r.finish('a');
    assert.deepStrictEqual(r.started, ['a', 'k1', 'b'], 'b went when a slot freed');
    // a due time has passed that the scheduler has not looked at yet (its timer is late): not taken
    q.remove('k1');
    await r.finish('k1');
    q.add('retry', t.now + 100);
    s.wake();
    assert.strictEqual(t.live().length, 1);
    t.now += 200; // the timer has not fired yet
    q.add('c', t.now);
    assert.strictEqual(s.offer(view('c')), false, 'the older due item must not be passed by');
    t.advance(0);
    assert.deepStrictEqual(r.started, ['a', 'k1', 'b', 'retry']);
    for (const id of ['b', 'retry']) {
      q.remove(id);
      await r.finish(id);
    }
    assert.deepStrictEqual(r.started, ['a', 'k1', 'b', 'retry', 'c'], 'c taken by the next look');
    q.remove('c');
    await r.finish('c');
    await s.stop();
    assert.strictEqual(s.offer(view('d')), false, 'not after stop()');
  });

  it('sets one timer for the next due time (no polling), and wake() looks at once', async function () {
    const q = fakeQueue();
    const t = manualTime(1000);
    const r = manualRun();
    q.add('later', 6000);
    q.add('soon', 3000);
    const s = manualScheduler(q, t, r.run);
    s.start();
    assert.deepStrictEqual(r.started, []);
    assert.strictEqual(t.live().length, 1);
    assert.strictEqual(t.live()[0].ms, 2000, 'until the earliest due time');
    const duesBefore = q.calls.due;
    t.advance(1999);
    assert.strictEqual(q.calls.due, duesBefore, 'nothing looked at before then');
    t.advance(1);
    assert.deepStrictEqual(r.started, ['soon']);
    assert.strictEqual(t.live().length, 1);
    assert.strictEqual(t.live()[0].at, 6000);
    q.add('now', t.now);
    s.wake();
    assert.deepStrictEqual(r.started, ['soon', 'now']);
    assert.strictEqual(t.live().length, 1, 'still one timer');
    // a retry recorded for later: the scheduler waits for it
    q.items.find((x) => x.id === 'soon').nextAttemptAt = 4000;
    await r.finish('soon');
    assert.strictEqual(t.live().length, 1);
    assert.strictEqual(t.live()[0].at, 4000);
    t.advance(1000);
    assert.deepStrictEqual(r.started, ['soon', 'now', 'soon']);
  });

  it('items with the same ordering key never run together; other keys do', async function () {
    const q = fakeQueue();
    const t = manualTime();
    const r = manualRun();
    q.add('a1', 0, 'A');
    q.add('a2', 0, 'A');
    q.add('b1', 0, 'B');
    q.add('x', 0);
    const s = manualScheduler(q, t, r.run);
    s.start();
    assert.deepStrictEqual(r.started, ['a1', 'b1', 'x']);
    assert.deepStrictEqual([...s.busyKeys].sort(), ['A', 'B']);
    // a1 failed and waits for its retry: it stays the head, so a2 waits too
    q.items.find((x) => x.id === 'a1').nextAttemptAt = t.now + 500;
    await r.finish('a1');
    assert.deepStrictEqual(r.started, ['a1', 'b1', 'x']);
    t.advance(500);
    assert.deepStrictEqual(r.started, ['a1', 'b1', 'x', 'a1']);
    q.remove('a1');
    await r.finish('a1');
    assert.deepStrictEqual(r.started, ['a1', 'b1', 'x', 'a1', 'a2']);
  });

  it('a step that rejects is reported and frees its slot; stop() waits for the steps in flight and takes no more', async function () {
    const q = fakeQueue();
    const t = manualTime();
    const r = manualRun();
    const errors = [];
    q.add('bad');
    q.add('good');
    q.add('third');
    const s = manualScheduler(q, t, r.run, { maxInFlight: 2, onError: (e, item) => errors.push([e.message, item.id]) });
    s.start();
    q.remove('bad');
    await r.finish('bad', new Error('boom'));
    assert.deepStrictEqual(errors, [['boom', 'bad']]);
    assert.deepStrictEqual(r.started, ['bad', 'good', 'third']);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    q.add('late');
    s.wake();
    await new Promise((res) => setImmediate(res));
    assert.strictEqual(stopped, false, 'waits for the steps in flight');
    q.remove('good');
    await r.finish('good');
    q.remove('third');
    await r.finish('third');
    await stopping;
    assert.deepStrictEqual(r.started, ['bad', 'good', 'third'], 'nothing started after stop()');
    assert.strictEqual(t.live().length, 0);
  });

  it('works off a real outbox: FIFO per key, each step journals its result', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-sched-'));
    const ob = await Outbox.open(dir);
    try {
      const order = [];
      let concurrentA = 0;
      let mostA = 0;
      const failedOnce = new Set();
      let finished;
      const allDone = new Promise((res) => (finished = res));
      const s = new Scheduler({
        queue: ob,
        maxInFlight: 4,
        run: async (item) => {
          if (item.orderingKey === 'A') mostA = Math.max(mostA, ++concurrentA);
          await new Promise((res) => setTimeout(res, 5));
          if (item.orderingKey === 'A') concurrentA--;
          if (item.id === 'a1' && !failedOnce.has('a1')) {
            failedOnce.add('a1');
            await ob.recordAttempt(item.id, {
              attempts: 1,
              nextAttemptAt: Date.now() + 30,
              lastError: { code: 'HTTP_503', message: 'busy' },
            });
            return;
          }
          order.push(item.id);
          await ob.complete(item.id);
          if (ob.size === 0) finished();
        },
      });
      for (const [id, key] of [
        ['a1', 'A'],
        ['a2', 'A'],
        ['b1', 'B'],
        ['a3', 'A'],
        ['c1', undefined],
      ]) {
        await ob.enqueue({ id, orderingKey: key, data: { id } });
      }
      s.start();
      await allDone;
      await s.stop();
      assert.strictEqual(mostA, 1, 'one at a time for key A');
      assert.deepStrictEqual(
        order.filter((x) => x.startsWith('a')),
        ['a1', 'a2', 'a3'],
      );
      assert.ok(order.indexOf('b1') < order.indexOf('a1'), 'b1 did not wait for key A');
      assert.ok(order.indexOf('c1') < order.indexOf('a1'), 'c1 did not wait for key A');
    } finally {
      await ob.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the status helpers: age text and when it changes; stored data is checked before use', function () {
    assert.strictEqual(formatAge(0), '<1m');
    assert.strictEqual(formatAge(59999), '<1m');
    assert.strictEqual(formatAge(3 * 60000 + 5000), '3m');
    assert.strictEqual(formatAge(2 * 3600000), '2h');
    assert.strictEqual(formatAge(3 * 86400000), '3d');
    assert.strictEqual(msUntilAgeChanges(60000 + 1000), 59000);
    assert.strictEqual(msUntilAgeChanges(3600000 + 10), 3600000 - 10);
    assert.deepStrictEqual(
      parseStoredItem({
        idempotencyKey: 'k',
        request: { method: 'PUT', path: '/x', headers: { a: 'b', n: 1 }, bodyBase64: null },
        msg: {},
        createdAt: 5,
      }),
      {
        idempotencyKey: 'k',
        request: { method: 'PUT', path: '/x', headers: { a: 'b' }, bodyBase64: null },
        msg: {},
        createdAt: 5,
      },
    );
    assert.strictEqual(parseStoredItem(null), undefined);
    assert.strictEqual(parseStoredItem({ request: { path: 1, headers: {} }, msg: {} }), undefined);
  });
});
