'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const outboxModule = require.resolve('../../dist/nodes/lib/outbox');
const { Outbox, DeadLetterStore } = require(outboxModule);

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-outbox-'));
}

function segFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((n) => /^seg-\d+\.log$/.test(n))
    .sort();
}

function ids(items) {
  return items.map((i) => i.id);
}

/** A small deterministic PRNG so that a failing run can be repeated. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('outbox', function () {
  const dirs = [];
  const open = [];
  function dir() {
    const d = tmpDir();
    dirs.push(d);
    return d;
  }
  async function openOutbox(d, options = {}) {
    const warnings = [];
    const ob = await Outbox.open(d, { warn: (m, info) => warnings.push({ m, info }), ...options });
    ob.warnings = warnings;
    open.push(ob);
    return ob;
  }
  /** what a crash leaves: nothing more is written, then a fresh open of the same directory */
  async function crashAndReopen(ob, options) {
    await ob.abandon();
    return openOutbox(ob.dir, options);
  }
  afterEach(async function () {
    for (const ob of open.splice(0)) await ob.close().catch(() => undefined);
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('enqueue', function () {
    it('accepts an item, keeps only its index in memory and reads the data back from disk', async function () {
      const ob = await openOutbox(dir());
      const data = { body: '{"a":1}', headers: { 'content-type': 'application/json' }, n: [1, 2, 3] };
      const r = await ob.enqueue({ id: 'evt_1', orderingKey: 'cust_9', data, now: 1000 });
      assert.strictEqual(r.status, 'accepted');
      assert.deepStrictEqual(r.evicted, []);
      const bytes = Buffer.byteLength(JSON.stringify(data));
      assert.deepStrictEqual(r.item, {
        id: 'evt_1',
        orderingKey: 'cust_9',
        attempts: 0,
        nextAttemptAt: 1000,
        createdAt: 1000,
        bytes,
      });
      assert.deepStrictEqual(ob.get('evt_1'), r.item);
      assert.strictEqual('data' in ob.get('evt_1'), false);
      assert.deepStrictEqual(await ob.load('evt_1'), data);
      assert.strictEqual(await ob.load('nope'), undefined);
    });

    it('the id is the idempotency key: a second enqueue while pending is a duplicate and writes nothing', async function () {
      const ob = await openOutbox(dir());
      const [a, b] = await Promise.all([ob.enqueue({ id: 'x', data: 1 }), ob.enqueue({ id: 'x', data: 2 })]);
      assert.strictEqual(a.status, 'accepted');
      assert.strictEqual(b.status, 'duplicate');
      const c = await ob.enqueue({ id: 'x', data: 3 });
      assert.strictEqual(c.status, 'duplicate');
      assert.strictEqual(c.item.id, 'x');
      assert.strictEqual(await ob.load('x'), 1);
      assert.strictEqual(ob.stats().depth, 1);
      // once delivered, the same id may come again
      assert.strictEqual(await ob.complete('x'), true);
      assert.strictEqual((await ob.enqueue({ id: 'x', data: 4 })).status, 'accepted');
      assert.strictEqual(await ob.load('x'), 4);
      const again = await crashAndReopen(ob);
      assert.strictEqual(await again.load('x'), 4);
    });

    it('rejects bad arguments', async function () {
      const ob = await openOutbox(dir());
      await assert.rejects(ob.enqueue({ id: '', data: 1 }), { code: 'OUTBOX_BAD_ARGUMENT' });
      await assert.rejects(ob.enqueue({ id: 5, data: 1 }), { code: 'OUTBOX_BAD_ARGUMENT' });
      await assert.rejects(ob.enqueue({ id: 'a', orderingKey: 7, data: 1 }), { code: 'OUTBOX_BAD_ARGUMENT' });
      await assert.rejects(ob.enqueue({ id: 'a', data: 1n }));
      await assert.rejects(ob.recordAttempt('a', { attempts: 'x', nextAttemptAt: 1 }), { code: 'OUTBOX_BAD_ARGUMENT' });
      assert.strictEqual(ob.size, 0);
    });

    it('refuses a second Outbox on a directory already open in this process', async function () {
      const d = dir();
      await openOutbox(d);
      await assert.rejects(Outbox.open(d), { code: 'EJOURNALBUSY' });
    });
  });

  describe('due', function () {
    it('returns due items oldest first, up to the limit, and nextDueAt', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', data: 1, now: 100 });
      await ob.enqueue({ id: 'b', data: 1, now: 200, nextAttemptAt: 5000 });
      await ob.enqueue({ id: 'c', data: 1, now: 300 });
      await ob.enqueue({ id: 'd', data: 1, now: 400 });
      assert.deepStrictEqual(ids(ob.due(1000, 10)), ['a', 'c', 'd']);
      assert.deepStrictEqual(ids(ob.due(1000, 2)), ['a', 'c']);
      assert.deepStrictEqual(ids(ob.due(350, 10)), ['a', 'c']);
      assert.deepStrictEqual(ids(ob.due(6000, 10)), ['a', 'b', 'c', 'd']);
      assert.deepStrictEqual(ids(ob.due(6000, 10, [], new Set(['a', 'c']))), ['b', 'd']);
      assert.deepStrictEqual(ob.due(6000, 0), []);
      assert.strictEqual(ob.nextDueAt(), 100);
      await ob.recordAttempt('a', { attempts: 1, nextAttemptAt: 2000 });
      assert.strictEqual(ob.nextDueAt(), 300);
      assert.deepStrictEqual(ids(ob.due(1000, 10)), ['c', 'd']);
      await ob.complete('c');
      await ob.complete('d');
      assert.strictEqual(ob.nextDueAt(), 2000);
      await ob.complete('a');
      await ob.complete('b');
      assert.strictEqual(ob.nextDueAt(), undefined);
    });

    it('is FIFO per ordering key: only the head of a key is eligible, items without a key are independent', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'k1-a', orderingKey: 'k1', data: 0, now: 1 });
      await ob.enqueue({ id: 'free-1', data: 0, now: 2 });
      await ob.enqueue({ id: 'k1-b', orderingKey: 'k1', data: 0, now: 3 });
      await ob.enqueue({ id: 'k2-a', orderingKey: 'k2', data: 0, now: 4 });
      await ob.enqueue({ id: 'k1-c', orderingKey: 'k1', data: 0, now: 5 });
      await ob.enqueue({ id: 'free-2', data: 0, now: 6 });
      assert.deepStrictEqual(ids(ob.due(100, 10)), ['k1-a', 'free-1', 'k2-a', 'free-2']);
      // a busy key (an attempt in flight) holds back its head too
      assert.deepStrictEqual(ids(ob.due(100, 10, ['k1'])), ['free-1', 'k2-a', 'free-2']);
      assert.deepStrictEqual(ids(ob.due(100, 10, new Set(['k1', 'k2']))), ['free-1', 'free-2']);
      // the head waiting for its retry blocks the rest of its key
      await ob.recordAttempt('k1-a', { attempts: 1, nextAttemptAt: 500 });
      assert.deepStrictEqual(ids(ob.due(100, 10)), ['free-1', 'k2-a', 'free-2']);
      assert.strictEqual(ob.nextDueAt(['k2']), 2);
      await ob.complete('free-1');
      await ob.complete('free-2');
      await ob.complete('k2-a');
      assert.strictEqual(ob.nextDueAt(), 500, 'k1-b (due at 3) waits behind k1-a');
      assert.deepStrictEqual(ids(ob.due(600, 10)), ['k1-a']);
      await ob.toDeadLetter('k1-a', { code: 'HTTP_422', message: 'rejected' });
      assert.deepStrictEqual(ids(ob.due(600, 10)), ['k1-b']);
      // the order survives a reopen
      const again = await crashAndReopen(ob);
      assert.deepStrictEqual(ids(again.due(600, 10)), ['k1-b']);
      await again.complete('k1-b');
      assert.deepStrictEqual(ids(again.due(600, 10)), ['k1-c']);
    });
  });

  describe('due at scale', function () {
    /** what due() and nextDueAt() must answer, worked out the slow way from list() */
    function reference(ob, now, limit, busyKeys = [], busyIds = new Set()) {
      const all = ob.list();
      const heads = new Set();
      const seenKeys = new Set();
      for (const it of all) {
        if (it.orderingKey === undefined) heads.add(it.id);
        else if (!seenKeys.has(it.orderingKey)) {
          seenKeys.add(it.orderingKey);
          heads.add(it.id);
        }
      }
      const bk = new Set(busyKeys);
      const eligible = all.filter(
        (it) => heads.has(it.id) && !busyIds.has(it.id) && !(it.orderingKey !== undefined && bk.has(it.orderingKey)),
      );
      const due = eligible.filter((it) => it.nextAttemptAt <= now).slice(0, limit);
      const next = eligible.length ? Math.min(...eligible.map((it) => it.nextAttemptAt)) : undefined;
      return { due: ids(due), next };
    }

    it('agrees with a brute-force answer over thousands of items, retries, completions and reopens', async function () {
      this.timeout(30000);
      const rnd = prng(4242);
      let ob = await openOutbox(dir());
      const live = [];
      for (let round = 0; round < 6; round++) {
        const batch = Array.from({ length: 600 }, (_, i) => {
          const id = `r${round}-${i}`;
          live.push(id);
          return ob.enqueue({
            id,
            orderingKey: rnd() < 0.4 ? 'k' + Math.floor(rnd() * 20) : undefined,
            data: i,
            now: round * 1000 + i,
            nextAttemptAt: Math.floor(rnd() * 10000),
          });
        });
        await Promise.all(batch);
        for (let k = 0; k < 200; k++) {
          const id = live[Math.floor(rnd() * live.length)];
          await ob.recordAttempt(id, { attempts: 1, nextAttemptAt: Math.floor(rnd() * 12000) });
        }
        for (let k = 0; k < 150; k++) {
          const i = Math.floor(rnd() * live.length);
          await ob.complete(live[i]);
          live.splice(i, 1);
        }
        if (round === 3) ob = await crashAndReopen(ob);
        for (const [now, limit] of [
          [-1, 10],
          [50, 5],
          [300, 3],
          [600, 10],
          [1000, 20],
          [3000, 16],
          [3000, 2000],
          [8000, 1],
          [8000, 300],
          [20000, 7],
          [20000, Infinity],
        ]) {
          const keys = rnd() < 0.5 ? ['k1', 'k2', 'k3'] : [];
          const busy = new Set(live.slice(0, 40).filter(() => rnd() < 0.5));
          const want = reference(ob, now, limit, keys, busy);
          assert.deepStrictEqual(
            ids(ob.due(now, limit, keys, busy)),
            want.due,
            `round ${round}, due(${now}, ${limit})`,
          );
          assert.strictEqual(ob.nextDueAt(keys, busy), want.next, `round ${round}, nextDueAt`);
          // asking again gives the same answer (due() leaves the heap as it found it)
          assert.deepStrictEqual(ids(ob.due(now, limit, keys, busy)), want.due);
        }
      }
      assert.strictEqual(ob.size, live.length);
    });

    it('agrees with it on a small queue whose earliest items are in flight (the case under load)', async function () {
      const rnd = prng(77);
      const ob = await openOutbox(dir());
      const live = [];
      for (let i = 0; i < 120; i++) {
        live.push(`s${i}`);
        await ob.enqueue({
          id: `s${i}`,
          orderingKey: rnd() < 0.3 ? 'k' + Math.floor(rnd() * 6) : undefined,
          data: i,
          now: i,
          nextAttemptAt: Math.floor(rnd() * 1000),
        });
      }
      for (let round = 0; round < 40; round++) {
        // most of the items, the earliest due among them, are being worked on
        const byDue = ob.list().sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
        const busy = new Set(byDue.slice(0, Math.floor(rnd() * byDue.length)).map((it) => it.id));
        const keys = rnd() < 0.5 ? ['k1', 'k2'] : [];
        const want = reference(ob, 500, 10, keys, busy);
        assert.strictEqual(ob.nextDueAt(keys, busy), want.next, `round ${round}, nextDueAt`);
        assert.deepStrictEqual(ids(ob.due(500, 10, keys, busy)), want.due, `round ${round}, due`);
        assert.strictEqual(ob.nextDueAt(keys, busy), want.next, 'the same answer again');
        const id = live[Math.floor(rnd() * live.length)];
        await ob.recordAttempt(id, { attempts: 1, nextAttemptAt: Math.floor(rnd() * 1500) });
        if (round % 3 === 0) {
          const i = Math.floor(rnd() * live.length);
          await ob.complete(live[i]);
          live.splice(i, 1);
        }
      }
    });
  });

  describe('attempts, completion and dead letters', function () {
    it('recordAttempt is journaled: attempts, nextAttemptAt and lastError survive a crash', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', data: { x: 1 }, now: 10 });
      const lastError = {
        code: 'HTTP_503',
        message: 'Service Unavailable',
        statusCode: 503,
        details: ['dropped from the index'],
      };
      assert.strictEqual(await ob.recordAttempt('a', { attempts: 1, nextAttemptAt: 70, lastError }), true);
      assert.strictEqual(await ob.recordAttempt('a', { attempts: 2, nextAttemptAt: 190, lastError }), true);
      assert.strictEqual(await ob.recordAttempt('nope', { attempts: 1, nextAttemptAt: 1 }), false);
      const want = {
        id: 'a',
        attempts: 2,
        nextAttemptAt: 190,
        createdAt: 10,
        bytes: 7,
        lastError: { code: 'HTTP_503', message: 'Service Unavailable', statusCode: 503 },
      };
      assert.deepStrictEqual(ob.get('a'), want);
      const again = await crashAndReopen(ob);
      assert.deepStrictEqual(again.get('a'), want);
      assert.strictEqual(again.stats(200).retried, 0, 'counters start at open');
    });

    it('complete removes an item durably; an unknown id answers false', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', data: 1 });
      await ob.enqueue({ id: 'b', data: 2 });
      assert.strictEqual(await ob.complete('a'), true);
      assert.strictEqual(await ob.complete('a'), false);
      assert.strictEqual(ob.has('a'), false);
      const again = await crashAndReopen(ob);
      assert.deepStrictEqual(ids(again.due(Date.now() + 1, 10)), ['b']);
    });

    it('an item being completed leaves the depth at once; the same id enqueued meanwhile waits and is a new item', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', data: 1 });
      await ob.enqueue({ id: 'b', data: 2 });
      const completion = ob.complete('a');
      // before the DONE record's fsync: no longer counted
      assert.strictEqual(ob.size, 1);
      assert.strictEqual(ob.stats().depth, 1);
      const again = ob.enqueue({ id: 'a', data: 3 });
      assert.strictEqual(await completion, true);
      const r = await again;
      assert.strictEqual(r.status, 'accepted', 'not taken for a duplicate of the item being completed');
      assert.strictEqual(ob.size, 2);
      assert.strictEqual(await ob.load('a'), 3);
      const reopened = await crashAndReopen(ob);
      assert.deepStrictEqual(ids(reopened.due(Date.now() + 1, 10)).sort(), ['a', 'b']);
      assert.strictEqual(await reopened.load('a'), 3);
    });

    it('toDeadLetter moves the item with its data, error and history into the dead-letter store, then removes it', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', orderingKey: 'k', data: { body: 'x' }, now: 50 });
      await ob.recordAttempt('a', {
        attempts: 3,
        nextAttemptAt: 90,
        lastError: { code: 'HTTP_500', message: 'boom', statusCode: 500 },
      });
      const history = [
        { at: 60, statusCode: 500 },
        { at: 75, errorCode: 'ECONNRESET' },
        { at: 90, statusCode: 422 },
      ];
      assert.strictEqual(
        await ob.toDeadLetter(
          'a',
          { code: 'HTTP_422', message: 'Unprocessable', details: [{ reason: 'bad email' }] },
          history,
        ),
        true,
      );
      assert.strictEqual(await ob.toDeadLetter('a', { code: 'X', message: 'again' }), false);
      assert.strictEqual(ob.has('a'), false);
      const e = await ob.deadLetter.get('a');
      assert.deepStrictEqual(e.data, { body: 'x' });
      assert.deepStrictEqual(e.error, {
        code: 'HTTP_422',
        message: 'Unprocessable',
        details: [{ reason: 'bad email' }],
      });
      assert.strictEqual(e.attempts, 3);
      assert.deepStrictEqual(e.history, history);
      assert.strictEqual(e.orderingKey, 'k');
      assert.strictEqual(e.createdAt, 50);
      assert.strictEqual(ob.stats().deadLettered, 1);
      const again = await crashAndReopen(ob);
      assert.strictEqual(again.has('a'), false);
      assert.strictEqual((await again.deadLetter.get('a')).error.code, 'HTTP_422');
    });

    it('without a history, the dead letter gets one built from the last error; an Error is accepted as the error', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', data: 1 });
      await ob.recordAttempt('a', {
        attempts: 5,
        nextAttemptAt: 0,
        lastError: { code: 'HTTP_503', message: 'x', statusCode: 503 },
      });
      await ob.toDeadLetter('a', Object.assign(new Error('gave up'), { code: 'MAX_ATTEMPTS' }));
      const e = ob.deadLetter.peek('a');
      assert.strictEqual(e.error.code, 'MAX_ATTEMPTS');
      assert.strictEqual(e.error.message, 'gave up');
      assert.strictEqual(e.history.length, 1);
      assert.strictEqual(e.history[0].errorCode, 'HTTP_503');
      assert.strictEqual(e.history[0].statusCode, 503);
    });

    it('a move to the dead-letter store interrupted by a crash is finished on the next open', async function () {
      const ob = await openOutbox(dir());
      await ob.enqueue({ id: 'a', data: { v: 1 } });
      await ob.enqueue({ id: 'b', data: { v: 2 } });
      const dl = ob.deadLetter;
      const put = dl.put.bind(dl);
      // the process dies right after the dead-letter store has the entry
      dl.put = async (entry) => {
        const r = await put(entry);
        await ob.abandon();
        return r;
      };
      await assert.rejects(ob.toDeadLetter('a', { code: 'HTTP_400', message: 'bad' }));
      const again = await openOutbox(ob.dir);
      assert.strictEqual(again.has('a'), false, 'the move is finished');
      assert.strictEqual(again.has('b'), true);
      assert.deepStrictEqual((await again.deadLetter.get('a')).data, { v: 1 });
      assert.match(again.warnings.map((w) => w.m).join('\n'), /interrupted by a crash/);
      const third = await crashAndReopen(again);
      assert.strictEqual(third.has('a'), false);
    });

    it('replayDeadLetters enqueues dead letters as fresh items and removes them from the store only then', async function () {
      const ob = await openOutbox(dir(), { maxItems: 2 });
      await ob.enqueue({ id: 'a', orderingKey: 'k', data: 'A' });
      await ob.enqueue({ id: 'b', data: 'B' });
      await ob.toDeadLetter('a', { code: 'E', message: 'e' });
      await ob.toDeadLetter('b', { code: 'E', message: 'e' });
      await ob.enqueue({ id: 'c', data: 'C' });
      const r = await ob.replayDeadLetters(['a', 'b'], 5000);
      assert.deepStrictEqual(r.requeued, ['a']);
      assert.deepStrictEqual(r.full, ['b'], 'the outbox has room for one');
      assert.deepStrictEqual(ob.get('a'), {
        id: 'a',
        orderingKey: 'k',
        attempts: 0,
        nextAttemptAt: 5000,
        createdAt: 5000,
        bytes: 3,
      });
      assert.strictEqual(await ob.load('a'), 'A');
      assert.strictEqual(ob.deadLetter.has('a'), false);
      assert.strictEqual(ob.deadLetter.has('b'), true, 'refused, so kept');
    });
  });

  describe('limits', function () {
    it("'refuse' answers status 'full' with a reason, never silently", async function () {
      const ob = await openOutbox(dir(), { maxItems: 3, maxBytes: 100 });
      for (const id of ['a', 'b', 'c']) assert.strictEqual((await ob.enqueue({ id, data: 'x' })).status, 'accepted');
      const r = await ob.enqueue({ id: 'd', data: 'x' });
      assert.strictEqual(r.status, 'full');
      assert.strictEqual(r.reason, 'maxItems');
      assert.match(r.message, /3 items/);
      assert.strictEqual(ob.has('d'), false);
      await ob.complete('a');
      const big = await ob.enqueue({ id: 'e', data: 'y'.repeat(95) });
      assert.strictEqual(big.status, 'full');
      assert.strictEqual(big.reason, 'maxBytes');
      const huge = await ob.enqueue({ id: 'f', data: 'z'.repeat(200) });
      assert.strictEqual(huge.reason, 'itemTooLarge');
      assert.strictEqual(ob.stats().refused, 3);
      // concurrent enqueues cannot overshoot the limit
      const rs = await Promise.all(['g', 'h', 'i'].map((id) => ob.enqueue({ id, data: 1 })));
      assert.deepStrictEqual(
        rs.map((x) => x.status),
        ['accepted', 'full', 'full'],
      );
      assert.strictEqual(ob.stats().depth, 3);
    });

    it("'dead-letter-oldest' moves the oldest pending item to the dead-letter store (OUTBOX_FULL), then accepts the new one", async function () {
      const ob = await openOutbox(dir(), { maxItems: 3, fullPolicy: 'dead-letter-oldest' });
      for (const id of ['a', 'b', 'c']) await ob.enqueue({ id, data: { id } });
      const r = await ob.enqueue({ id: 'd', data: { id: 'd' } });
      assert.strictEqual(r.status, 'accepted');
      assert.deepStrictEqual(r.evicted, ['a']);
      assert.deepStrictEqual(ids(ob.due(Date.now() + 1, 10)), ['b', 'c', 'd']);
      const e = await ob.deadLetter.get('a');
      assert.strictEqual(e.error.code, 'OUTBOX_FULL');
      assert.deepStrictEqual(e.data, { id: 'a' });
      assert.strictEqual(ob.stats().deadLettered, 1);
      // by bytes: as many of the oldest as it takes
      const ob2 = await openOutbox(dir(), { maxBytes: 30, fullPolicy: 'dead-letter-oldest' });
      for (const id of ['a', 'b', 'c']) await ob2.enqueue({ id, data: 'x'.repeat(8) }); // 10 bytes each
      const r2 = await ob2.enqueue({ id: 'd', data: 'x'.repeat(18) }); // 20 bytes
      assert.deepStrictEqual(r2.evicted, ['a', 'b']);
      assert.strictEqual(ob2.stats().bytes, 30);
      const again = await crashAndReopen(ob2);
      assert.deepStrictEqual(ids(again.due(Date.now() + 1, 10)), ['c', 'd']);
      assert.deepStrictEqual(
        again.deadLetter.list({ order: 'oldest' }).map((x) => [x.id, x.error.code]),
        [
          ['a', 'OUTBOX_FULL'],
          ['b', 'OUTBOX_FULL'],
        ],
      );
    });

    it('uses a dead-letter store handed to it (and leaves it open on close)', async function () {
      const dl = await DeadLetterStore.open(path.join(dir(), 'dead'));
      try {
        const ob = await openOutbox(dir(), { deadLetter: dl, maxItems: 1, fullPolicy: 'dead-letter-oldest' });
        await ob.enqueue({ id: 'a', data: 1 });
        await ob.enqueue({ id: 'b', data: 2 });
        assert.strictEqual(dl.has('a'), true);
        await ob.close();
        assert.strictEqual((await dl.get('a')).data, 1);
      } finally {
        await dl.close();
      }
    });
  });

  describe('stats', function () {
    it('reports depth, bytes and the oldest age exactly, and counters since open', async function () {
      const ob = await openOutbox(dir());
      assert.deepStrictEqual((({ depth, bytes, oldestAgeMs }) => ({ depth, bytes, oldestAgeMs }))(ob.stats(0)), {
        depth: 0,
        bytes: 0,
        oldestAgeMs: 0,
      });
      await ob.enqueue({ id: 'a', data: 'aaaa', now: 1000 }); // 6 bytes
      await ob.enqueue({ id: 'b', data: [1, 2], now: 2000 }); // 5 bytes
      await ob.enqueue({ id: 'c', data: null, now: 3000 }); // 4 bytes
      await ob.recordAttempt('b', { attempts: 1, nextAttemptAt: 4000 });
      await ob.complete('a');
      await ob.toDeadLetter('c', { code: 'E', message: 'm' });
      const s = ob.stats(10000);
      assert.strictEqual(s.depth, 1);
      assert.strictEqual(s.bytes, 5);
      assert.strictEqual(s.oldestAgeMs, 8000);
      assert.strictEqual(s.delivered, 1);
      assert.strictEqual(s.retried, 1);
      assert.strictEqual(s.deadLettered, 1);
      assert.ok(s.segments >= 1 && s.diskBytes > 0);
    });
  });

  describe('compaction', function () {
    it('deletes a segment once nothing in it is live any more', async function () {
      const d = dir();
      const ob = await openOutbox(d, { segmentSize: 1024 });
      for (let i = 0; i < 60; i++) await ob.enqueue({ id: 'e' + i, data: { pad: 'p'.repeat(60) } });
      const before = segFiles(d);
      assert.ok(before.length >= 4, before.join());
      // complete the items of the first segment only
      for (let i = 0; i < 10; i++) await ob.complete('e' + i);
      await ob.compact();
      const after = segFiles(d);
      assert.ok(!after.includes('seg-000001.log'), after.join());
      assert.ok(ob.disk().segmentsDeleted >= 1);
      const again = await crashAndReopen(ob, { segmentSize: 1024 });
      assert.strictEqual(again.size, 50);
      assert.strictEqual(again.has('e0'), false);
      assert.deepStrictEqual(await again.load('e10'), { pad: 'p'.repeat(60) });
    });

    it('keeps a segment while it holds the DONE that cancels a PUT in an older, still present segment', async function () {
      const d = dir();
      const ob = await openOutbox(d, { segmentSize: 700, compactAfterSegments: 100 });
      await ob.enqueue({ id: 'stay', data: 'x'.repeat(50) });
      await ob.enqueue({ id: 'go', data: 'x'.repeat(50) });
      // fill up segments so that the DONE for 'go' lands in a later one
      for (let i = 0; i < 30; i++) {
        await ob.enqueue({ id: 'f' + i, data: 'y'.repeat(50) });
        await ob.complete('f' + i);
      }
      await ob.complete('go');
      for (let i = 0; i < 30; i++) {
        await ob.enqueue({ id: 'g' + i, data: 'y'.repeat(50) });
        await ob.complete('g' + i);
      }
      await ob.compact();
      const again = await crashAndReopen(ob, { segmentSize: 700, compactAfterSegments: 100 });
      assert.deepStrictEqual(
        ids(again.due(Date.now() + 1, 100)),
        ['stay'],
        'a deleted segment must not let a completed item come back',
      );
      assert.ok(segFiles(d).includes('seg-000001.log'), 'the segment of the pending item stays');
    });

    it('copies the live items of the oldest segment forward so disk stays bounded while an item stays pending', async function () {
      const d = dir();
      const opts = { segmentSize: 2048, compactAfterSegments: 3 };
      const ob = await openOutbox(d, opts);
      await ob.enqueue({ id: 'slow', orderingKey: 'k', data: { keep: 'me' }, now: 1 });
      await ob.recordAttempt('slow', {
        attempts: 4,
        nextAttemptAt: 99,
        lastError: { code: 'HTTP_503', message: 'later' },
      });
      let maxSegs = 0;
      for (let round = 0; round < 40; round++) {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) => ob.enqueue({ id: `r${round}-${i}`, data: { pad: 'q'.repeat(100) } })),
        );
        await Promise.all(Array.from({ length: 10 }, (_, i) => ob.complete(`r${round}-${i}`)));
        await ob.compact();
        maxSegs = Math.max(maxSegs, segFiles(d).length);
      }
      // 40 rounds wrote ~30 segments' worth; without copy-forward the first segment (pinning all later ones) would keep them all
      assert.ok(maxSegs <= 6, `up to ${maxSegs} segments on disk`);
      assert.ok(ob.disk().copyForwards >= 1);
      assert.ok(!segFiles(d).includes('seg-000001.log'));
      const want = {
        id: 'slow',
        orderingKey: 'k',
        attempts: 4,
        nextAttemptAt: 99,
        createdAt: 1,
        bytes: 13,
        lastError: { code: 'HTTP_503', message: 'later' },
      };
      assert.deepStrictEqual(ob.get('slow'), want);
      const again = await crashAndReopen(ob, opts);
      assert.deepStrictEqual(again.get('slow'), want);
      assert.deepStrictEqual(await again.load('slow'), { keep: 'me' });
      assert.strictEqual(again.size, 1);
    });

    it('a crash between copying forward and deleting the old segment: the copy wins on replay, a later completion sticks', async function () {
      const d = dir();
      const opts = { segmentSize: 1024, compactAfterSegments: 2 };
      const ob = await openOutbox(d, opts);
      // the process will die before any segment can be deleted
      ob.journal.deleteSegment = () => Promise.reject(new Error('killed'));
      await ob.enqueue({ id: 'slow', data: { keep: 1 }, now: 5 });
      for (let i = 0; i < 30; i++) {
        await ob.enqueue({ id: 'f' + i, data: { pad: 'f'.repeat(80) } });
        await ob.complete('f' + i);
      }
      await ob.recordAttempt('slow', { attempts: 2, nextAttemptAt: 50 });
      await ob.compact();
      assert.ok(ob.disk().copyForwards >= 1);
      assert.ok(segFiles(d).includes('seg-000001.log'));
      const again = await crashAndReopen(ob, opts);
      assert.deepStrictEqual(again.warnings, []);
      assert.strictEqual(again.size, 1);
      assert.strictEqual(again.get('slow').attempts, 2);
      await again.recordAttempt('slow', { attempts: 3, nextAttemptAt: 60 });
      const third = await crashAndReopen(again, opts);
      assert.strictEqual(third.get('slow').attempts, 3);
      assert.strictEqual(await third.complete('slow'), true);
      await third.compact();
      const fourth = await crashAndReopen(third, opts);
      assert.strictEqual(fourth.size, 0, 'the completed item must not come back from either copy');
    });

    it('after everything is delivered the journal shrinks to one small segment', async function () {
      const d = dir();
      const ob = await openOutbox(d, { segmentSize: 16 * 1024 });
      await Promise.all(
        Array.from({ length: 500 }, (_, i) => ob.enqueue({ id: 'e' + i, data: { pad: 'w'.repeat(200) } })),
      );
      const full = ob.disk().bytes;
      await Promise.all(Array.from({ length: 500 }, (_, i) => ob.complete('e' + i)));
      await ob.compact();
      assert.ok(full > 100000);
      assert.strictEqual(segFiles(d).length, 1);
      assert.ok(ob.disk().bytes < 1024, `${ob.disk().bytes} bytes left`);
      const again = await crashAndReopen(ob);
      assert.strictEqual(again.size, 0);
    });

    it('random operations, compactions and crashes always replay to what was acknowledged (model check)', async function () {
      this.timeout(90000); // many tiny segments, each created and deleted with fsyncs: slow on a busy machine
      const d = dir();
      const opts = { segmentSize: 1500, compactAfterSegments: 2, maxItems: 40, fullPolicy: 'dead-letter-oldest' };
      const rnd = prng(20240611);
      let ob = await openOutbox(d, opts);
      const model = new Map(); // id → {attempts, nextAttemptAt, data, key}
      const dead = new Set();
      let n = 0;
      for (let step = 0; step < 1500; step++) {
        const r = rnd();
        const pending = [...model.keys()];
        if (r < 0.45 || pending.length === 0) {
          const id = 'i' + n++;
          const key = rnd() < 0.3 ? 'k' + Math.floor(rnd() * 3) : undefined;
          const data = { id, pad: 'd'.repeat(Math.floor(rnd() * 200)) };
          const res = await ob.enqueue({ id, orderingKey: key, data, now: step });
          assert.strictEqual(res.status, 'accepted');
          for (const v of res.evicted) {
            model.delete(v);
            dead.add(v);
          }
          model.set(id, { attempts: 0, nextAttemptAt: step, data, key });
        } else if (r < 0.65) {
          const id = pending[Math.floor(rnd() * pending.length)];
          const m = model.get(id);
          m.attempts++;
          m.nextAttemptAt = step + 100;
          assert.strictEqual(
            await ob.recordAttempt(id, { attempts: m.attempts, nextAttemptAt: m.nextAttemptAt }),
            true,
          );
        } else if (r < 0.9) {
          const id = pending[Math.floor(rnd() * Math.min(3, pending.length))]; // mostly old ones
          assert.strictEqual(await ob.complete(id), true);
          model.delete(id);
        } else if (r < 0.95) {
          const id = pending[Math.floor(rnd() * pending.length)];
          assert.strictEqual(await ob.toDeadLetter(id, { code: 'E', message: 'x' }), true);
          model.delete(id);
          dead.add(id);
        } else if (r < 0.98) {
          await ob.compact();
        } else {
          ob = await crashAndReopen(ob, opts);
          assert.deepStrictEqual(ob.warnings, []);
        }
        if (step % 100 === 99 || step === 1499) {
          const check = await crashAndReopen(ob, opts);
          ob = check;
          // same items, still in enqueue order (copies made by compaction do not reorder them)
          assert.deepStrictEqual(ids(ob.list()), [...model.keys()], `step ${step}`);
          for (const [id, m] of model) {
            const it = ob.get(id);
            assert.ok(it, `step ${step}: ${id} is missing after reopen`);
            assert.strictEqual(it.attempts, m.attempts, id);
            assert.strictEqual(it.nextAttemptAt, m.nextAttemptAt, id);
            assert.strictEqual(it.orderingKey, m.key, id);
            assert.deepStrictEqual(await ob.load(id), m.data, id);
          }
          assert.strictEqual(ob.size, model.size, `step ${step}: items came back that should not have`);
          for (const id of dead) assert.ok(ob.deadLetter.has(id), `${id} missing from the dead letters`);
          // background compaction runs when timers allow: bounded once it has run, whatever the timing
          await ob.compact();
          assert.ok(segFiles(d).length <= 12, `${segFiles(d).length} segments`);
        }
      }
    });
  });

  describe('crash safety', function () {
    it('every acknowledged item is pending again after a crash, with its state; completed ones are not', async function () {
      const ob = await openOutbox(dir());
      await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          ob.enqueue({ id: 'e' + i, orderingKey: i % 2 ? 'odd' : undefined, data: { i }, now: i }),
        ),
      );
      for (let i = 0; i < 300; i += 3) await ob.complete('e' + i);
      for (let i = 1; i < 300; i += 3) await ob.recordAttempt('e' + i, { attempts: 2, nextAttemptAt: 1e6 + i });
      // not awaited: these may or may not make it
      const inflight = [ob.enqueue({ id: 'late', data: 1 }), ob.complete('e2')].map((p) => p.catch((e) => e));
      const again = await crashAndReopen(ob);
      await Promise.all(inflight);
      for (let i = 0; i < 300; i++) {
        const it = again.get('e' + i);
        if (i % 3 === 0) assert.strictEqual(it, undefined, `e${i} was completed`);
        else if (i === 2) continue;
        else {
          assert.ok(it, `e${i} lost`);
          assert.strictEqual(it.attempts, i % 3 === 1 ? 2 : 0);
          assert.strictEqual(it.nextAttemptAt, i % 3 === 1 ? 1e6 + i : i);
          assert.deepStrictEqual(await again.load('e' + i), { i });
        }
      }
      assert.deepStrictEqual(again.warnings, []);
    });

    it('a last record cut at random offsets: everything before it is back, the outbox keeps working', async function () {
      const d = dir();
      const ob = await openOutbox(d);
      for (let i = 0; i < 20; i++) await ob.enqueue({ id: 'e' + i, data: { i, pad: 'c'.repeat(40) } });
      await ob.recordAttempt('e3', { attempts: 1, nextAttemptAt: 77 });
      const file = path.join(d, 'seg-000001.log');
      const start = fs.statSync(file).size; // where the last record will begin
      await ob.enqueue({ id: 'last', data: { pad: 'l'.repeat(300) } });
      await ob.abandon();
      assert.deepStrictEqual(segFiles(d), ['seg-000001.log']);
      const whole = fs.readFileSync(file);
      const rnd = prng(7);
      for (let k = 0; k < 12; k++) {
        const cut = start + 1 + Math.floor(rnd() * (whole.length - start - 1));
        fs.writeFileSync(file, whole.subarray(0, cut));
        const again = await openOutbox(d);
        try {
          assert.strictEqual(again.size, 20, `cut at ${cut}`);
          assert.strictEqual(again.has('last'), false);
          assert.strictEqual(again.get('e3').attempts, 1);
          assert.strictEqual(again.warnings.length, 1);
          assert.strictEqual(again.warnings[0].info.file, file);
          assert.strictEqual(again.warnings[0].info.action, 'truncated');
          assert.strictEqual((await again.enqueue({ id: 'after', data: 1 })).status, 'accepted');
        } finally {
          await again.abandon();
        }
        const third = await openOutbox(d);
        assert.deepStrictEqual(third.warnings, [], 'new records follow good data');
        assert.strictEqual(third.size, 21);
        await third.close();
      }
    });

    it('a flipped byte in the middle of an older segment is reported; the rest of the outbox comes back', async function () {
      const d = dir();
      const opts = { segmentSize: 1024, compactAfterSegments: 100 };
      const ob = await openOutbox(d, opts);
      for (let i = 0; i < 40; i++) await ob.enqueue({ id: 'e' + i, data: { i, pad: 'f'.repeat(60) } });
      await ob.close();
      const file = path.join(d, 'seg-000001.log');
      const buf = fs.readFileSync(file);
      buf[Math.floor(buf.length / 2)] ^= 0x40;
      fs.writeFileSync(file, buf);
      const again = await openOutbox(d, opts);
      assert.strictEqual(again.warnings.length, 2);
      assert.match(again.warnings[0].m, /reading goes on at the next good record/);
      assert.strictEqual(again.warnings[0].info.file, file);
      assert.match(again.warnings[1].m, /1 record\(s\) LOST/);
      // only the damaged record's item is gone
      assert.ok(again.has('e0'));
      assert.ok(again.has('e39'));
      const lost = [];
      for (let i = 0; i < 40; i++) if (!again.has('e' + i)) lost.push(i);
      assert.strictEqual(lost.length, 1, `lost ${lost}`);
      assert.strictEqual(again.stats().lostRecords, 1);
      assert.strictEqual((await again.enqueue({ id: 'new', data: 1 })).status, 'accepted');
    });

    it('SIGKILL at a random moment: every id the child reported as enqueued is pending after reopening (5 runs)', async function () {
      this.timeout(120000);
      const child = `
        const { Outbox } = require(process.argv[1]);
        (async () => {
          const ob = await Outbox.open(process.argv[2], { segmentSize: 64 * 1024 });
          process.stdout.write('ready\\n');
          let n = 0;
          async function worker() {
            for (;;) {
              const id = 'c' + n++;
              const r = await ob.enqueue({ id, orderingKey: n % 5 === 0 ? 'k' : undefined, data: { id, pad: 'k'.repeat(300) } });
              if (r.status !== 'accepted') throw new Error(r.status);
              process.stdout.write('put ' + id + '\\n');
              if (n % 3 === 0) {
                await ob.recordAttempt(id, { attempts: 1, nextAttemptAt: 42 });
                process.stdout.write('att ' + id + '\\n');
              }
              if (n % 4 === 0) {
                process.stdout.write('try ' + id + '\\n');
                if (await ob.complete(id)) process.stdout.write('done ' + id + '\\n');
              }
            }
          }
          await Promise.all(Array.from({ length: 32 }, worker));
        })().catch((e) => { console.error(e); process.exit(3); });
      `;
      const rnd = Math.random; // a different moment every time
      for (let run = 0; run < 5; run++) {
        const d = dir();
        const reported = { put: new Set(), att: new Set(), try: new Set(), done: new Set() };
        const killAfter = 60 + Math.floor(rnd() * 600);
        await new Promise((resolve, reject) => {
          const p = spawn(process.execPath, ['-e', child, outboxModule, d], { stdio: ['ignore', 'pipe', 'pipe'] });
          let buf = '';
          let err = '';
          let timer;
          p.stderr.on('data', (c) => (err += c));
          p.stdout.on('data', (c) => {
            buf += c;
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (line === 'ready') continue;
              const [what, id] = line.split(' ');
              reported[what].add(id);
              // killed after a random amount of work (not of time: a busy machine only makes it slower)
              if (what === 'put' && reported.put.size === killAfter)
                timer = setTimeout(() => p.kill('SIGKILL'), rnd() * 5);
            }
          });
          p.on('exit', (code, signal) => {
            clearTimeout(timer);
            if (signal === 'SIGKILL') resolve();
            else reject(new Error(`child exited ${code}: ${err}`));
          });
        });
        assert.ok(reported.put.size > 50, `run ${run}: only ${reported.put.size} enqueued before the kill`);
        const ob = await openOutbox(d);
        for (const id of reported.put) {
          if (reported.done.has(id)) {
            assert.strictEqual(ob.has(id), false, `run ${run}: completed ${id} came back`);
            continue;
          }
          if (reported.try.has(id)) continue; // killed while completing: either way is right
          assert.ok(ob.has(id), `run ${run}: acknowledged ${id} lost`);
          if (reported.att.has(id)) assert.strictEqual(ob.get(id).attempts, 1);
          assert.deepStrictEqual((await ob.load(id)).id, id);
        }
        // a kill in the middle of a large write can leave a partial batch: only ever a truncated tail
        // (and the lock file the killed child left behind is taken over)
        for (const w of ob.warnings)
          if (!/took over the stale lock/.test(w.m)) assert.strictEqual(w.info.action, 'truncated', w.m);
        assert.ok(
          ob.warnings.some((w) => /took over the stale lock .*is gone/.test(w.m)),
          `run ${run}: the dead child's lock was taken over`,
        );
        await ob.close();
      }
    });
  });
});
