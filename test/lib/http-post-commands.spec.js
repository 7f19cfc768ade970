'use strict';
/**
 * The HTTP POST node's dead-letter commands as one step
 * (lib/http-post/commands.ts: answerCommand, commandLog). readCommand and
 * runCommand on their own are in http-post-modes.spec.js.
 */
const assert = require('node:assert');
const { answerCommand, commandLog } = require('../../dist/nodes/lib/http-post/commands.js');
const { IntegrationError } = require('../../dist/nodes/lib/errors.js');

/** a dead-letter store double that records what it was asked */
function store() {
  const asked = [];
  return {
    asked,
    listDeadLetters: (o) => (asked.push(['list', o]), { counts: { total: 2 }, items: ['a', 'b'] }),
    replay: async (ids) => (asked.push(['replay', ids]), { requeued: ['a'], duplicate: [], full: ['b'] }),
    purge: async (ids) => (asked.push(['purge', ids]), 2),
  };
}

const notOpen = () => new IntegrationError('OUTBOX_LOCKED', 'The delivery queue could not be opened');

describe('lib/http-post/commands: answerCommand and commandLog', function () {
  it('without a durable queue: NOT_DURABLE, and the queue is not even waited for', async function () {
    const a = await answerCommand(
      { command: 'purge' },
      { durable: false, queue: () => assert.fail('not asked'), notOpen },
    );
    assert.strictEqual(a.ok, false);
    assert.strictEqual(a.error.code, 'NOT_DURABLE');
  });

  it('a queue that could not be opened: the reason notOpen() gives', async function () {
    const a = await answerCommand({ command: 'list' }, { durable: true, queue: async () => undefined, notOpen });
    assert.strictEqual(a.ok, false);
    assert.strictEqual(a.error.code, 'OUTBOX_LOCKED');
  });

  it('a malformed msg.ids is refused and nothing is replayed', async function () {
    const q = store();
    const a = await answerCommand(
      { command: 'replay', ids: { all: true } },
      { durable: true, queue: async () => q, notOpen },
    );
    assert.strictEqual(a.ok, false);
    assert.strictEqual(a.error.code, 'INVALID_COMMAND');
    assert.deepStrictEqual(q.asked, []);
  });

  it('waits for a queue still opening, then runs the command on it', async function () {
    const q = store();
    let open;
    const opening = new Promise((r) => (open = r));
    const answering = answerCommand({ command: 'purge', ids: 'x1' }, { durable: true, queue: () => opening, notOpen });
    await new Promise((r) => setImmediate(r));
    assert.deepStrictEqual(q.asked, [], 'nothing runs before the queue is open');
    open(q);
    const a = await answering;
    assert.deepStrictEqual(a, { ok: true, result: { name: 'purge', purged: 2 } });
    assert.deepStrictEqual(q.asked, [['purge', ['x1']]]);
  });

  it('list: the page asked for, and nothing logged', async function () {
    const q = store();
    const a = await answerCommand(
      { command: 'list', limit: 5, offset: '1' },
      { durable: true, queue: async () => q, notOpen },
    );
    assert.deepStrictEqual(a.result, { name: 'list', payload: { counts: { total: 2 }, items: ['a', 'b'] } });
    assert.deepStrictEqual(q.asked, [['list', { limit: 5, offset: 1 }]]);
    assert.deepStrictEqual(commandLog(a.result), []);
  });

  it('replay logs what happened and warns when some did not fit the queue', async function () {
    const q = store();
    const a = await answerCommand({ command: 'replay' }, { durable: true, queue: async () => q, notOpen });
    assert.deepStrictEqual(a.result, { name: 'replay', requeued: 1, duplicate: 0, full: 1 });
    assert.deepStrictEqual(commandLog(a.result), [
      { level: 'log', key: 'http-post.log.replayed', vars: { requeued: 1, duplicate: 0, full: 1 } },
      { level: 'warn', key: 'http-post.log.replayFull', vars: { full: 1 } },
    ]);
    assert.deepStrictEqual(commandLog({ name: 'replay', requeued: 3, duplicate: 1, full: 0 }), [
      { level: 'log', key: 'http-post.log.replayed', vars: { requeued: 3, duplicate: 1, full: 0 } },
    ]);
  });

  it('purge logs the count deleted', function () {
    assert.deepStrictEqual(commandLog({ name: 'purge', purged: 4 }), [
      { level: 'log', key: 'http-post.log.purged', vars: { count: 4 } },
    ]);
  });

  it('every key logged is in the catalogue', function () {
    const catalogue = require('../../locales/en-US/http-post.json');
    const lines = [
      ...commandLog({ name: 'purge', purged: 1 }),
      ...commandLog({ name: 'replay', requeued: 0, duplicate: 0, full: 1 }),
    ];
    for (const { key } of lines) {
      const text = key.split('.').reduce((o, k) => o?.[k], catalogue);
      assert.strictEqual(typeof text, 'string', key);
    }
  });
});
