'use strict';
/**
 * A node's handle for the outbox admin routes on its delivery queue
 * (common/outbox-admin.ts registerQueueAdmin): what each route asks of the
 * queue, the recount after a replay or purge, and its removal at close.
 */
const assert = require('node:assert');
const { registerQueueAdmin, outboxAdminHandle } = require('../../dist/nodes/common/outbox-admin.js');

/** a local queue double: dead letters, replay/purge, adoption */
function localQueue() {
  return {
    calls: [],
    stats: () => ({ depth: 4, oldestAgeMs: 10 }),
    deadLetter: { counts: () => ({ total: 2 }) },
    listDeadLetters(o) {
      this.calls.push(['list', o]);
      return { items: [] };
    },
    deadLetterView: async (id) => ({ id }),
    replay: async (ids) => ({ requeued: ids, duplicate: [], full: [] }),
    purge: async () => {
      throw new Error('disk gone');
    },
    recordCipher: 'cipher',
    adopt: async (item) => item.id,
    adoptDeadLetter: async () => undefined,
  };
}

describe('common/outbox-admin: registerQueueAdmin', function () {
  it('registers under the node id; stats join the dead-letter count; removal only of its own handle', async function () {
    const q = localQueue();
    const remove = registerQueueAdmin('n1', {
      state: () => 'open',
      queue: () => q,
      recount: () => undefined,
      adoptedDeadLetter: () => undefined,
    });
    const handle = outboxAdminHandle('n1');
    assert.strictEqual(handle.state(), 'open');
    assert.deepStrictEqual(handle.stats(), { depth: 4, oldestAgeMs: 10, deadLetters: 2 });
    handle.listDeadLetters({ limit: 5, offset: 0 });
    assert.deepStrictEqual(q.calls, [['list', { limit: 5, offset: 0 }]]);
    assert.deepStrictEqual(await handle.deadLetter('d1'), { id: 'd1' });
    // a redeployed node registered meanwhile: the old one's removal leaves it
    const removeNew = registerQueueAdmin('n1', {
      state: () => 'memory',
      queue: () => undefined,
      recount: () => undefined,
      adoptedDeadLetter: () => undefined,
    });
    remove();
    assert.strictEqual(outboxAdminHandle('n1').state(), 'memory');
    removeNew();
    assert.strictEqual(outboxAdminHandle('n1'), undefined);
  });

  it('a replay or purge recounts the dead letters, also when it fails', async function () {
    let recounts = 0;
    const remove = registerQueueAdmin('n2', {
      state: () => 'open',
      queue: localQueue,
      recount: () => recounts++,
      adoptedDeadLetter: () => undefined,
    });
    const handle = outboxAdminHandle('n2');
    assert.deepStrictEqual((await handle.replay(['a'])).requeued, ['a']);
    assert.strictEqual(recounts, 1);
    await assert.rejects(handle.purge('all'), /disk gone/);
    assert.strictEqual(recounts, 2);
    remove();
  });

  it('a queue without dead-letter views answers null; one that cannot adopt offers no adoption', async function () {
    const shared = { ...localQueue() };
    delete shared.deadLetterView;
    delete shared.adopt;
    const remove = registerQueueAdmin('n3', {
      state: () => 'open',
      queue: () => shared,
      recount: () => undefined,
      adoptedDeadLetter: () => undefined,
    });
    const handle = outboxAdminHandle('n3');
    assert.strictEqual(await handle.deadLetter('d1'), null);
    assert.strictEqual(handle.adoptingQueue(), undefined);
    remove();
  });

  it('the local queue adopts for an orphaned one: each dead letter taken over counts', async function () {
    let adopted = 0;
    let queue;
    const remove = registerQueueAdmin('n4', {
      state: () => (queue ? 'open' : 'opening'),
      queue: () => queue,
      recount: () => undefined,
      adoptedDeadLetter: () => adopted++,
    });
    const handle = outboxAdminHandle('n4');
    assert.strictEqual(handle.adoptingQueue(), undefined, 'no queue open yet');
    queue = localQueue();
    const adopting = handle.adoptingQueue();
    assert.strictEqual(adopting.recordCipher, 'cipher');
    assert.strictEqual(await adopting.adopt({ id: 'i1' }), 'i1');
    assert.strictEqual(adopted, 0);
    await adopting.adoptDeadLetter({ id: 'd1' });
    await adopting.adoptDeadLetter({ id: 'd2' });
    assert.strictEqual(adopted, 2);
    remove();
  });
});
