'use strict';
/* Queues left by deleted nodes (nodes/lib/outbox/orphans.ts), on real queue directories. */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { Outbox, RecordCipher } = require('../../dist/nodes/lib/outbox');
const o = require('../../dist/nodes/lib/outbox/orphans');

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-orphans-'));

async function queueWith(dir, ids, opts = {}) {
  const ob = await Outbox.open(dir, opts);
  for (const id of ids) await ob.enqueue({ id, data: { request: { path: '/x' }, n: id } });
  return ob;
}

describe('lib/outbox/orphans', function () {
  it('names: a node id becomes its directory name; the root follows sayproOutboxDir, else the user directory', function () {
    assert.strictEqual(o.queueDirName('a1b2.c3'), 'a1b2.c3');
    assert.strictEqual(o.queueDirName('sub/flow:1'), 'sub_flow_1');
    assert.strictEqual(o.outboxRoot({ sayproOutboxDir: '/q', userDir: '/u' }), '/q');
    assert.strictEqual(o.outboxRoot({ userDir: '/u' }), path.join('/u', 'saypro-outbox'));
    assert.strictEqual(o.outboxRoot({}), undefined);
  });

  it('lists only the queues no live node owns, with what they hold; one in use or encrypted says why it cannot be read', async function () {
    const root = tmpDir();
    await (await queueWith(path.join(root, 'gone1'), ['a', 'b'])).close();
    await (await queueWith(path.join(root, 'live'), ['c'])).close();
    const cipher = RecordCipher.fromSecret('0'.repeat(64));
    await (await queueWith(path.join(root, 'secret'), ['d'], { cipher })).close();
    const busy = await queueWith(path.join(root, 'busy'), ['e']);
    try {
      const list = await o.listOrphans(root, new Set(['live']));
      const by = Object.fromEntries(list.map((q) => [q.name, q]));
      assert.deepStrictEqual(Object.keys(by).sort(), ['busy', 'gone1', 'secret']);
      assert.strictEqual(by.gone1.pending, 2);
      assert.strictEqual(by.gone1.deadLetters, 0);
      assert.ok(by.gone1.bytes > 0);
      assert.strictEqual(by.secret.pending, null);
      assert.match(by.secret.problem, /encrypted/);
      assert.strictEqual(by.busy.pending, null);
      assert.ok(by.busy.problem, 'a queue open elsewhere is not read');
      await assert.rejects(o.deleteOrphan(root, 'busy', new Set()), 'a queue in use is never deleted');
      assert.ok(fs.existsSync(path.join(root, 'busy')));
    } finally {
      await busy.close();
    }
    assert.deepStrictEqual(await o.listOrphans(path.join(root, 'nothing-here'), new Set()), []);
  });

  it('hands pending items over with their ids and ordering keys, removing each only once taken; then deletes the orphan', async function () {
    const root = tmpDir();
    const from = await Outbox.open(path.join(root, 'old'));
    await from.enqueue({ id: 'k1', orderingKey: 'L-1', data: { v: 1 } });
    await from.enqueue({ id: 'k2', data: { v: 2 } });
    await from.close();
    const target = await Outbox.open(path.join(root, 'new'));
    const taken = [];
    const adopting = {
      recordCipher: undefined,
      async adopt(item) {
        taken.push(item);
        const r = await target.enqueue({ id: item.id, orderingKey: item.orderingKey, data: item.data });
        return r.status === 'duplicate' ? 'duplicate' : 'queued';
      },
      async adoptDeadLetter(entry) {
        await target.deadLetter.put(entry);
      },
    };
    try {
      await assert.rejects(o.handOver(root, 'new', new Set(['new']), adopting), /belongs to a node/);
      const r = await o.handOver(root, 'old', new Set(['new']), adopting);
      assert.deepStrictEqual(r, { moved: 2, duplicates: 0, deadLetters: 0 });
      assert.deepStrictEqual(
        taken.map((t) => [t.id, t.orderingKey, t.data.v]),
        [
          ['k1', 'L-1', 1],
          ['k2', undefined, 2],
        ],
      );
      assert.strictEqual(target.size, 2);
      assert.ok(!fs.existsSync(path.join(root, 'old')));
    } finally {
      await target.close();
    }
  });

  it('a refused item stays in the orphan, nothing is lost', async function () {
    const root = tmpDir();
    await (await queueWith(path.join(root, 'old'), ['x1', 'x2'])).close();
    let n = 0;
    const full = {
      recordCipher: undefined,
      async adopt() {
        if (++n === 2) throw Object.assign(new Error('this queue is full'), { code: 'OUTBOX_FULL' });
        return 'queued';
      },
      async adoptDeadLetter() {},
    };
    await assert.rejects(o.handOver(root, 'old', new Set(), full), /full/);
    const left = await o.listOrphans(root, new Set());
    assert.strictEqual(left[0].pending, 1, 'the one taken left, the refused one stayed');
  });
});
