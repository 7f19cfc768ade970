'use strict';
/**
 * The durable queue's write-behind lane (lib/outbox/fast-lane.ts) on its own:
 * an injected clock and timer, and a journal callback the test settles itself.
 * No real timing anywhere: the timer fires when the test says so.
 */
const assert = require('node:assert');
const { FastLane, FastEntry } = require('../../dist/nodes/lib/outbox/fast-lane.js');

/** a clock the test moves and a timer it fires by hand; every handle is kept */
function fakeTime() {
  const t = {
    now: 0,
    handles: [],
    setTimer(fn, ms) {
      const h = { fn, ms, cleared: false, fired: false };
      t.handles.push(h);
      return h;
    },
    clearTimer(h) {
      h.cleared = true;
    },
    /** the handles neither cleared nor fired */
    pending() {
      return t.handles.filter((h) => !h.cleared && !h.fired);
    },
    /** fires the one pending timer (there must be exactly one) at `at` */
    fire(at) {
      const p = t.pending();
      assert.strictEqual(p.length, 1, `expected one pending timer, found ${p.length}`);
      t.now = at;
      p[0].fired = true;
      p[0].fn();
    },
  };
  return t;
}

/** a lane whose journal writes the test settles: `writes` lists them in the order they started */
function lane(windowMs = 100) {
  const time = fakeTime();
  const writes = [];
  const l = new FastLane({
    windowMs,
    journal: (entry) => {
      let settle;
      const p = new Promise((resolve) => (settle = resolve));
      writes.push({ entry, settle, promise: p });
      return p;
    },
    now: () => time.now,
    setTimer: (fn, ms) => time.setTimer(fn, ms),
    clearTimer: (h) => time.clearTimer(h),
  });
  return { lane: l, time, writes, ids: () => writes.map((w) => w.entry.id) };
}

/** true when the promise has settled (after the microtasks queued now ran) */
async function settled(p) {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('lib/outbox/fast-lane', function () {
  describe('FastLane: the window', function () {
    it('one timer for the window; when it fires, the entries whose deadline passed are written in order, then it re-arms for the next', function () {
      const { lane: l, time, ids } = lane(100);
      time.now = 0;
      const a = l.add('a', time.now, { n: 1 });
      time.now = 10;
      const b = l.add('b', time.now);
      time.now = 50;
      const c = l.add('c', time.now);
      assert.strictEqual(time.handles.length, 1, 'adding to an armed lane arms no second timer');
      assert.strictEqual(time.handles[0].ms, 100);
      assert.deepStrictEqual([a.deadline, b.deadline, c.deadline], [100, 110, 150]);
      assert.deepStrictEqual(a.payload, { n: 1 });

      time.fire(115);
      assert.deepStrictEqual(ids(), ['a', 'b'], 'the two whose deadline passed, oldest first');
      assert.ok(a.journal && b.journal && !c.journal);
      const next = time.pending();
      assert.strictEqual(next.length, 1);
      assert.strictEqual(next[0].ms, 35, 'armed again for c: 150 - 115');
      assert.strictEqual(l.size, 3, 'written entries stay in the lane until their step ends');
      assert.strictEqual(l.unwritten, 1);

      time.fire(150);
      assert.deepStrictEqual(ids(), ['a', 'b', 'c']);
      assert.strictEqual(time.pending().length, 0, 'nothing left to wait for: no timer');
      assert.strictEqual(l.unwritten, 0);
    });

    it('ids that read as numbers ("20" before "3"): each entry is written when its own window passes', function () {
      const { lane: l, time, ids } = lane(100);
      l.add('20', 0);
      time.now = 50;
      l.add('3', 50);
      time.fire(100);
      assert.deepStrictEqual(ids(), ['20'], 'the older one, although "3" is listed first');
      assert.strictEqual(time.pending()[0].ms, 50, 'armed again for "3": 150 - 100');
      time.fire(150);
      assert.deepStrictEqual(ids(), ['20', '3']);
    });

    it('a timer that fires early (before any deadline) writes nothing and re-arms for the oldest', function () {
      const { lane: l, time, ids } = lane(100);
      l.add('a', 0);
      time.fire(40);
      assert.deepStrictEqual(ids(), []);
      assert.strictEqual(time.pending()[0].ms, 60);
      time.fire(100);
      assert.deepStrictEqual(ids(), ['a']);
    });

    it('an entry removed before its deadline is never written; the others still are', function () {
      const { lane: l, time, ids } = lane(100);
      const a = l.add('a', 0);
      l.add('b', 10);
      time.now = 5;
      l.remove(a);
      assert.strictEqual(l.get('a'), undefined);
      assert.strictEqual(l.size, 1);
      assert.strictEqual(time.pending().length, 1, 'b still needs the timer');
      time.fire(110);
      assert.deepStrictEqual(ids(), ['b']);
      assert.strictEqual(a.journal, undefined);
    });

    it('entries already being written are skipped when the window passes', function () {
      const { lane: l, time, ids } = lane(100);
      const a = l.add('a', 0);
      l.add('b', 0);
      l.journalNow(a);
      time.fire(100);
      assert.deepStrictEqual(ids(), ['a', 'b'], 'a written once (journalNow), b by the window');
    });
  });

  describe('FastLane: writing', function () {
    it('journalNow writes once: a second call returns the same promise and writes nothing more', async function () {
      const { lane: l, time, writes } = lane(100);
      const a = l.add('a', 0);
      const p1 = l.journalNow(a);
      const p2 = l.journalNow(a);
      assert.strictEqual(p1, p2);
      assert.strictEqual(a.journal, p1);
      assert.strictEqual(writes.length, 1);
      const result = { ok: false, duplicate: true };
      writes[0].settle(result);
      assert.strictEqual(await p2, result, 'resolves with what the journal callback gave');
      time.fire(200);
      assert.strictEqual(writes.length, 1, 'the window does not write it again');
    });

    it('unwritten counts the entries neither removed nor being written', function () {
      const { lane: l } = lane(100);
      const a = l.add('a', 0);
      const b = l.add('b', 0);
      const c = l.add('c', 0);
      assert.strictEqual(l.unwritten, 3);
      l.journalNow(a);
      assert.strictEqual(l.unwritten, 2, 'a is being written');
      l.journalNow(a);
      assert.strictEqual(l.unwritten, 2, 'a second journalNow counts nothing twice');
      l.remove(b);
      assert.strictEqual(l.unwritten, 1, 'b left the lane unwritten');
      l.remove(a);
      assert.strictEqual(l.unwritten, 1, 'a was not counted any more');
      l.remove(b);
      assert.strictEqual(l.unwritten, 1, 'removing twice counts nothing twice');
      assert.strictEqual(l.size, 1);
      l.remove(c);
      assert.deepStrictEqual([l.unwritten, l.size], [0, 0]);
    });

    it('flush() writes every entry not yet being written and resolves once all those writes are over', async function () {
      const { lane: l, writes, ids } = lane(100);
      l.add('a', 0);
      const b = l.add('b', 1);
      l.add('c', 2);
      l.journalNow(b);
      const f = l.flush();
      assert.deepStrictEqual(ids(), ['b', 'a', 'c'], 'b only once, then the others in order');
      assert.strictEqual(l.unwritten, 0);
      writes[1].settle({ ok: false, duplicate: false, error: new Error('disk') });
      assert.strictEqual(await settled(f), false, 'c is still being written');
      writes[2].settle({ ok: false, duplicate: true });
      assert.strictEqual(await settled(f), true);
      assert.strictEqual(await settled(writes[0].promise), false, 'flush did not wait for the write it did not start');
      assert.strictEqual(await settled(l.flush()), true, 'a second flush has nothing to wait for');
      assert.strictEqual(writes.length, 3, 'a second flush writes nothing');
    });
  });

  describe('FastLane: the timer', function () {
    it('stop() cancels the timer', function () {
      const { lane: l, time, ids } = lane(100);
      l.add('a', 0);
      const h = time.pending()[0];
      l.stop();
      assert.strictEqual(h.cleared, true);
      assert.strictEqual(time.pending().length, 0);
      assert.deepStrictEqual(ids(), []);
      assert.strictEqual(l.unwritten, 1, 'the entry stays: its attempt writes it as it ends');
    });

    it('the timer is cleared when the lane empties, and armed again by the next entry', function () {
      const { lane: l, time } = lane(100);
      const a = l.add('a', 0);
      const b = l.add('b', 0);
      const h = time.pending()[0];
      l.remove(a);
      assert.strictEqual(h.cleared, false, 'b still waits');
      l.remove(b);
      assert.strictEqual(h.cleared, true);
      assert.strictEqual(time.pending().length, 0);
      time.now = 500;
      l.add('c', time.now);
      assert.strictEqual(time.pending().length, 1);
      assert.strictEqual(time.pending()[0].ms, 100);
    });

    it('the real timer (no injected one) does not keep the process alive', function () {
      const l = new FastLane({ windowMs: 60000, journal: async () => ({ ok: false, duplicate: true }) });
      const e = l.add('a', Date.now());
      // mocha runs with --exit; the lane must not need it: the handle is unref'd, and cleared on remove
      const timer = l.timer;
      assert.ok(timer && typeof timer.hasRef === 'function');
      assert.strictEqual(timer.hasRef(), false);
      l.remove(e);
      assert.strictEqual(l.timer, undefined);
    });
  });

  describe('FastEntry: the enqueue answer', function () {
    it('answer() settles `answered` once; later answer() and fail() are ignored', async function () {
      const e = new FastEntry('a', 0, 100, undefined);
      assert.strictEqual(e.isAnswered, false);
      assert.strictEqual(await settled(e.answered), false);
      const first = { status: 'accepted', id: 'a', evicted: [] };
      e.answer(first);
      e.answer({ status: 'duplicate', id: 'a' });
      e.fail(new Error('late'));
      assert.strictEqual(e.isAnswered, true);
      assert.strictEqual(await e.answered, first);
    });

    it('fail() rejects `answered` once; a later answer() is ignored', async function () {
      const e = new FastEntry('b', 0, 100, undefined);
      const err = new Error('the journal cannot be written');
      e.fail(err);
      e.answer({ status: 'accepted', id: 'b', evicted: [] });
      e.fail(new Error('second'));
      assert.strictEqual(e.isAnswered, true);
      await assert.rejects(e.answered, (got) => got === err);
    });
  });
});
