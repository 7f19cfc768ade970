'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { DeadLetterStore } = require('../../dist/nodes/lib/outbox');

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-dead-'));
}

function segFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((n) => /^seg-\d+\.log$/.test(n))
    .sort();
}

function entry(id, n, extra = {}) {
  return {
    id,
    data: { id, body: 'b'.repeat(n) },
    error: { code: 'HTTP_422', message: 'Unprocessable Entity', details: [{ field: 'email', reason: 'invalid' }] },
    attempts: 3,
    history: [
      { at: 1000, statusCode: 503 },
      { at: 2000, errorCode: 'ECONNRESET' },
      { at: 3000, statusCode: 422 },
    ],
    deadAt: 5000 + n,
    ...extra,
  };
}

describe('dead-letter store', function () {
  const dirs = [];
  const stores = [];
  function dir() {
    const d = tmpDir();
    dirs.push(d);
    return d;
  }
  async function openStore(d, options = {}) {
    const warnings = [];
    const s = await DeadLetterStore.open(d, { warn: (m, info) => warnings.push({ m, info }), ...options });
    s.warnings = warnings;
    stores.push(s);
    return s;
  }
  async function crashAndReopen(s, options) {
    await s.abandon();
    return openStore(s.dir, options);
  }
  afterEach(async function () {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('stores entries durably: get() with data, list() without, counts() by error code', async function () {
    const s = await openStore(dir());
    await s.put(entry('a', 1));
    await s.put(
      entry('b', 2, { error: { code: 'OUTBOX_FULL', message: 'pushed out' }, orderingKey: 'k', createdAt: 10 }),
    );
    await s.put(entry('c', 3));
    const a = await s.get('a');
    assert.deepStrictEqual(a, {
      id: 'a',
      data: { id: 'a', body: 'b' },
      error: { code: 'HTTP_422', message: 'Unprocessable Entity', details: [{ field: 'email', reason: 'invalid' }] },
      attempts: 3,
      history: [
        { at: 1000, statusCode: 503 },
        { at: 2000, errorCode: 'ECONNRESET' },
        { at: 3000, statusCode: 422 },
      ],
      deadAt: 5001,
      bytes: Buffer.byteLength(JSON.stringify({ id: 'a', body: 'b' })),
    });
    assert.strictEqual(await s.get('zzz'), undefined);
    const list = s.list();
    assert.deepStrictEqual(
      list.map((e) => e.id),
      ['c', 'b', 'a'],
      'newest first',
    );
    assert.ok(list.every((e) => !('data' in e)));
    assert.strictEqual(list[1].orderingKey, 'k');
    assert.deepStrictEqual(
      s.list({ order: 'oldest', offset: 1, limit: 1 }).map((e) => e.id),
      ['b'],
    );
    assert.deepStrictEqual(s.list({ limit: 0 }), []);
    const c = s.counts();
    assert.strictEqual(c.total, 3);
    assert.deepStrictEqual(c.byCode, { HTTP_422: 2, OUTBOX_FULL: 1 });
    assert.strictEqual(c.oldestDeadAt, 5001);
    assert.strictEqual(c.newestDeadAt, 5003);
    assert.strictEqual(
      c.bytes,
      list.reduce((n, e) => n + e.bytes, 0),
    );
    const again = await crashAndReopen(s);
    assert.deepStrictEqual(await again.get('a'), a);
    assert.deepStrictEqual(again.list(), list);
    assert.deepStrictEqual(again.counts(), c);
  });

  it('a second put of the same id replaces the entry', async function () {
    const s = await openStore(dir());
    await s.put(entry('a', 1));
    await s.put(entry('a', 9, { error: { code: 'MAX_ATTEMPTS', message: 'gave up' } }));
    assert.strictEqual(s.counts().total, 1);
    assert.deepStrictEqual(s.counts().byCode, { MAX_ATTEMPTS: 1 });
    const again = await crashAndReopen(s);
    assert.strictEqual((await again.get('a')).data.body.length, 9);
    assert.strictEqual(again.counts().total, 1);
  });

  it('keeps the error small and well formed', async function () {
    const s = await openStore(dir());
    await s.put({
      id: 'x',
      data: undefined,
      error: { message: 'm'.repeat(5000) },
      history: [{ at: 1, statusCode: 500, secret: 'no' }, 'junk'],
    });
    const e = await s.get('x');
    assert.strictEqual(e.data, null);
    assert.strictEqual(e.error.code, 'ERROR');
    assert.strictEqual(e.error.message.length, 2000);
    assert.deepStrictEqual(e.error.details, []);
    assert.deepStrictEqual(e.history, [{ at: 1, statusCode: 500 }]);
    assert.strictEqual(e.attempts, 0);
    await assert.rejects(s.put({ data: 1, error: { code: 'E', message: '' } }), TypeError);
  });

  describe('take (replay)', function () {
    it('removes entries only after requeue resolved, and only those it accepted', async function () {
      const s = await openStore(dir());
      for (const id of ['a', 'b', 'c']) await s.put(entry(id, 1));
      const order = [];
      const taken = await s.take(['a', 'b', 'nope', 'a'], async (entries) => {
        order.push('requeue');
        assert.deepStrictEqual(
          entries.map((e) => [e.id, e.data.id]),
          [
            ['a', 'a'],
            ['b', 'b'],
          ],
        );
        assert.strictEqual(s.has('a'), true, 'still there while requeue runs');
        return ['a'];
      });
      assert.deepStrictEqual(order, ['requeue']);
      assert.deepStrictEqual(
        taken.map((e) => e.id),
        ['a'],
      );
      assert.deepStrictEqual(taken[0].data, { id: 'a', body: 'b' });
      assert.strictEqual(s.has('a'), false);
      assert.strictEqual(s.has('b'), true);
      const again = await crashAndReopen(s);
      assert.deepStrictEqual(
        again.list({ order: 'oldest' }).map((e) => e.id),
        ['b', 'c'],
      );
    });

    it("'all' in chunks; a requeue that throws leaves its chunk in the store", async function () {
      const s = await openStore(dir());
      for (let i = 0; i < 7; i++) await s.put(entry('e' + i, i));
      const seen = [];
      await assert.rejects(
        s.take(
          'all',
          async (entries) => {
            seen.push(entries.map((e) => e.id));
            if (seen.length === 2) throw new Error('outbox refused');
          },
          3,
        ),
        /outbox refused/,
      );
      assert.deepStrictEqual(seen, [
        ['e0', 'e1', 'e2'],
        ['e3', 'e4', 'e5'],
      ]);
      assert.deepStrictEqual(
        s.list({ order: 'oldest' }).map((e) => e.id),
        ['e3', 'e4', 'e5', 'e6'],
      );
      const rest = await s.take('all', () => undefined);
      assert.strictEqual(rest.length, 4);
      assert.strictEqual(s.counts().total, 0);
      await assert.rejects(s.take('all'), TypeError);
    });

    it('a crash after requeue but before the removal leaves the entries in the store (re-queued twice at worst)', async function () {
      const s = await openStore(dir());
      await s.put(entry('a', 1));
      const requeued = [];
      await assert.rejects(
        s.take(['a'], async (entries) => {
          requeued.push(...entries.map((e) => e.id));
          await s.abandon(); // the process dies right here
        }),
      );
      assert.deepStrictEqual(requeued, ['a']);
      const again = await openStore(s.dir);
      assert.strictEqual(again.has('a'), true);
      assert.deepStrictEqual((await again.get('a')).data, { id: 'a', body: 'b' });
    });
  });

  it('purge removes ids or everything, durably', async function () {
    const s = await openStore(dir());
    for (let i = 0; i < 5; i++) await s.put(entry('e' + i, i));
    assert.strictEqual(await s.purge(['e1', 'e3', 'missing']), 2);
    assert.deepStrictEqual(
      s.list({ order: 'oldest' }).map((e) => e.id),
      ['e0', 'e2', 'e4'],
    );
    let again = await crashAndReopen(s);
    assert.strictEqual(again.counts().total, 3);
    assert.strictEqual(await again.purge('all'), 3);
    again = await crashAndReopen(again);
    assert.strictEqual(again.counts().total, 0);
    assert.deepStrictEqual(again.counts().byCode, {});
  });

  it('a removal racing a new put of the same id removes only the old entry', async function () {
    const s = await openStore(dir());
    await s.put(entry('a', 1));
    const [n] = await Promise.all([s.purge(['a']), s.put(entry('a', 2))]);
    assert.strictEqual(n, 1);
    assert.strictEqual((await s.get('a')).data.body, 'bb');
    let again = await crashAndReopen(s);
    assert.strictEqual((await again.get('a')).data.body, 'bb', 'the replay agrees with memory');
    // the other way round: the put is written first, the removal (of the entry it replaces) after it
    const [, n2] = await Promise.all([again.put(entry('a', 3)), again.purge(['a'])]);
    assert.strictEqual(n2, 1);
    assert.strictEqual((await again.get('a')).data.body, 'bbb');
    again = await crashAndReopen(again);
    assert.strictEqual((await again.get('a')).data.body, 'bbb', 'a removal names the version it removes');
  });

  it('maxEntries / maxBytes: put() resolves after the oldest entries were dropped, with a warning, counted in counts().dropped', async function () {
    const s = await openStore(dir(), { maxEntries: 3 });
    for (let i = 0; i < 5; i++) await s.put(entry('e' + i, i));
    assert.deepStrictEqual(
      s.list({ order: 'oldest' }).map((e) => e.id),
      ['e2', 'e3', 'e4'],
    );
    assert.strictEqual(s.counts().dropped, 2);
    assert.strictEqual(s.warnings.length, 2);
    assert.match(s.warnings[0].m, /dropped the oldest entry e0/);
    const again = await crashAndReopen(s, { maxEntries: 3 });
    assert.strictEqual(again.counts().total, 3);
    const byBytes = await openStore(dir(), { maxBytes: 110 });
    for (let i = 0; i < 4; i++) await byBytes.put(entry('e' + i, 30)); // 51 bytes each
    assert.deepStrictEqual(
      byBytes.list({ order: 'oldest' }).map((e) => e.id),
      ['e2', 'e3'],
    );
  });

  it('compacts: segments of removed entries go away, the oldest live ones are copied forward', async function () {
    const d = dir();
    const opts = { segmentSize: 2048, compactAfterSegments: 2 };
    const s = await openStore(d, opts);
    await s.put(entry('keep', 10));
    for (let i = 0; i < 60; i++) await s.put(entry('e' + i, 200));
    assert.ok(segFiles(d).length >= 6);
    await s.purge(Array.from({ length: 60 }, (_, i) => 'e' + i));
    await s.compact();
    assert.ok(segFiles(d).length <= 2, segFiles(d).join());
    assert.ok(!segFiles(d).includes('seg-000001.log'));
    const again = await crashAndReopen(s, opts);
    assert.deepStrictEqual(
      again.list().map((e) => e.id),
      ['keep'],
    );
    assert.strictEqual((await again.get('keep')).data.body.length, 10);
  });

  it('a torn tail is dropped with a warning; the store still opens and works', async function () {
    const d = dir();
    const s = await openStore(d);
    await s.put(entry('a', 1));
    await s.put(entry('b', 50));
    await s.close();
    const file = path.join(d, 'seg-000001.log');
    fs.truncateSync(file, fs.statSync(file).size - 20);
    const again = await openStore(d);
    assert.deepStrictEqual(
      again.list().map((e) => e.id),
      ['a'],
    );
    assert.strictEqual(again.warnings.length, 1);
    assert.strictEqual(again.warnings[0].info.action, 'truncated');
    await again.put(entry('c', 1));
    const third = await crashAndReopen(again);
    assert.deepStrictEqual(third.warnings, []);
    assert.deepStrictEqual(
      third.list({ order: 'oldest' }).map((e) => e.id),
      ['a', 'c'],
    );
  });
});
