'use strict';
/**
 * The outbox keeps the data of recently enqueued items in memory (lib/outbox/body-cache.ts):
 * the first attempt after an enqueue does not read back from the journal what was just written;
 * the cache is bounded by bytes, an entry leaves with its item, and after a restart the data
 * comes from disk.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Outbox } = require('../../dist/nodes/lib/outbox');
const { RecordCipher } = require('../../dist/nodes/lib/outbox/cipher');

const record = (i) => ({ request: { path: `/orders/${i}`, bodyBase64: Buffer.alloc(600, i).toString('base64') }, i });

describe('outbox: data of recent items kept in memory', function () {
  const dirs = [];
  const open = [];
  async function openOutbox(options = {}, dir) {
    const d = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-body-cache-'));
    if (!dir) dirs.push(d);
    const ob = await Outbox.open(d, options);
    open.push(ob);
    return ob;
  }
  afterEach(async function () {
    for (const ob of open.splice(0)) await ob.close().catch(() => undefined);
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loading an item right after its enqueue does not read the journal: it still loads with the segment files zeroed on disk', async function () {
    const ob = await openOutbox({ cipher: RecordCipher.fromSecret('a passphrase for the journal') });
    for (let i = 0; i < 20; i++)
      assert.strictEqual((await ob.enqueue({ id: `e${i}`, data: record(i) })).status, 'accepted');
    // wipe what was written: a read from disk can no longer give the data back
    for (const name of fs.readdirSync(ob.dir).filter((n) => /^seg-\d+\.log$/.test(n))) {
      const file = path.join(ob.dir, name);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(fs.statSync(file).size), 0);
      fs.closeSync(fd);
    }
    for (let i = 0; i < 20; i++) assert.deepStrictEqual(await ob.load(`e${i}`), record(i));
    const disk = ob.disk();
    assert.strictEqual(disk.reads, 0);
    assert.strictEqual(disk.cacheHits, 20);
    await ob.abandon();
  });

  it('an entry leaves when its item is delivered or dead-lettered; an id queued again is never answered with the old data', async function () {
    const ob = await openOutbox();
    for (let i = 0; i < 6; i++) await ob.enqueue({ id: `e${i}`, data: record(i) });
    assert.strictEqual(ob.disk().cached.entries, 6);
    for (let i = 0; i < 3; i++) assert.strictEqual(await ob.complete(`e${i}`), true);
    for (let i = 3; i < 6; i++) assert.strictEqual(await ob.toDeadLetter(`e${i}`, { code: 'X', message: 'no' }), true);
    assert.deepStrictEqual(ob.disk().cached, { entries: 0, bytes: 0 });
    await ob.enqueue({ id: 'e0', data: { again: true } });
    assert.deepStrictEqual(await ob.load('e0'), { again: true });
  });

  it('is bounded by bytes: the oldest entries go first and those items are read from disk, intact', async function () {
    const one = Buffer.byteLength(JSON.stringify(record(0)));
    const bound = 3 * (one + 200);
    const ob = await openOutbox({ bodyCacheBytes: bound });
    for (let i = 0; i < 10; i++) await ob.enqueue({ id: `e${i}`, data: record(i) });
    const { cached } = ob.disk();
    assert.ok(cached.bytes <= bound, `${cached.bytes} bytes kept, bound ${bound}`);
    assert.strictEqual(cached.entries, 3);
    for (let i = 0; i < 10; i++) assert.deepStrictEqual(await ob.load(`e${i}`), record(i));
    assert.strictEqual(ob.disk().reads, 7);
    assert.strictEqual(ob.disk().cacheHits, 3);
  });

  it('bodyCacheBytes 0 turns it off: every load reads the journal', async function () {
    const ob = await openOutbox({ bodyCacheBytes: 0 });
    for (let i = 0; i < 4; i++) await ob.enqueue({ id: `e${i}`, data: record(i) });
    for (let i = 0; i < 4; i++) assert.deepStrictEqual(await ob.load(`e${i}`), record(i));
    assert.deepStrictEqual(ob.disk().cached, { entries: 0, bytes: 0 });
    assert.strictEqual(ob.disk().reads, 4);
  });

  it('changing the enqueued object or a loaded copy changes neither what is kept nor what is on disk', async function () {
    const ob = await openOutbox();
    const data = record(1);
    await ob.enqueue({ id: 'a', data });
    data.i = 'changed by the caller';
    const first = await ob.load('a');
    assert.deepStrictEqual(first, record(1));
    first.request.path = '/changed/after/load';
    assert.deepStrictEqual(await ob.load('a'), record(1));
  });

  it('an owned item is answered with the very value handed over (nothing parsed); bounded and left as the others are', async function () {
    const ob = await openOutbox();
    const data = record(3);
    await ob.enqueue({ id: 'o', data, owned: true });
    await ob.enqueue({ id: 'c', data: record(4) });
    assert.strictEqual(await ob.load('o'), data, 'the value itself');
    assert.notStrictEqual(await ob.load('c'), await ob.load('c'), 'a fresh copy each time when not owned');
    assert.strictEqual(ob.disk().reads, 0);
    // what is on disk is the value as it was handed over
    await ob.close();
    const again = await openOutbox({}, ob.dir);
    assert.deepStrictEqual(await again.load('o'), record(3));
    assert.strictEqual(again.disk().reads, 1);
  });

  it('an owned item pushed out of the bound is read from disk, intact', async function () {
    const one = Buffer.byteLength(JSON.stringify(record(0)));
    const ob = await openOutbox({ bodyCacheBytes: 2 * (one + 200) });
    const values = Array.from({ length: 5 }, (_, i) => record(i));
    for (let i = 0; i < 5; i++) await ob.enqueue({ id: `o${i}`, data: values[i], owned: true });
    assert.strictEqual(ob.disk().cached.entries, 2);
    const first = await ob.load('o0');
    assert.notStrictEqual(first, values[0]);
    assert.deepStrictEqual(first, record(0));
    assert.strictEqual(await ob.load('o4'), values[4]);
  });

  it('after a restart the data comes from disk', async function () {
    const ob = await openOutbox();
    await ob.enqueue({ id: 'a', data: record(7) });
    await ob.close();
    const again = await openOutbox({}, ob.dir);
    assert.deepStrictEqual(again.disk().cached, { entries: 0, bytes: 0 });
    assert.deepStrictEqual(await again.load('a'), record(7));
    assert.strictEqual(again.disk().reads, 1);
  });
});
