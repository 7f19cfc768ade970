'use strict';
/**
 * The durable queue's slot in the HTTP POST node (lib/http-post/queue-slot.ts):
 * messages wait for an opening, a failed opening leaves its error, and a
 * close during the opening closes the queue when it arrives.
 */
const assert = require('node:assert');
const { QueueSlot } = require('../../dist/nodes/lib/http-post/queue-slot.js');
const { IntegrationError } = require('../../dist/nodes/lib/errors.js');

/** a queue double that counts its closes */
function fakeQueue(depth = 0) {
  return {
    closed: 0,
    stats: () => ({ depth }),
    close() {
      this.closed++;
      return Promise.resolve();
    },
  };
}

/** a promise settled from outside */
function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('lib/http-post/queue-slot', function () {
  it('without an opening: ready() gives nothing at once and close() finds nothing queued', async function () {
    const slot = new QueueSlot();
    assert.strictEqual(await slot.ready(), undefined);
    assert.strictEqual(slot.error, undefined);
    assert.strictEqual(await slot.close(), 0);
  });

  it('a message arriving while the queue opens waits for it', async function () {
    const slot = new QueueSlot();
    const opening = deferred();
    const q = fakeQueue();
    const opened = [];
    slot.open(
      () => opening.promise,
      (x) => opened.push(x),
      () => assert.fail('not a failure'),
    );
    assert.strictEqual(slot.queue, undefined);
    const waiting = slot.ready();
    opening.resolve(q);
    assert.strictEqual(await waiting, q);
    assert.strictEqual(slot.queue, q);
    assert.deepStrictEqual(opened, [q]);
  });

  it('a failed opening keeps the error its callback made of the reason', async function () {
    const slot = new QueueSlot();
    const error = new IntegrationError('OUTBOX_LOCKED', 'locked');
    let reason;
    slot.open(
      () => Promise.reject(Object.assign(new Error('held by pid 7'), { code: 'EOUTBOXLOCKED' })),
      () => assert.fail('not opened'),
      (err) => ((reason = err), error),
    );
    assert.strictEqual(await slot.ready(), undefined);
    assert.strictEqual(slot.error, error);
    assert.strictEqual(reason.code, 'EOUTBOXLOCKED');
  });

  it('close() closes the open queue once and reports what is still queued', async function () {
    const slot = new QueueSlot();
    const q = fakeQueue(3);
    slot.open(
      () => Promise.resolve(q),
      () => undefined,
      () => assert.fail('not a failure'),
    );
    await slot.ready();
    assert.strictEqual(await slot.close(), 3);
    assert.strictEqual(q.closed, 1);
    assert.strictEqual(slot.queue, undefined);
    assert.strictEqual(await slot.ready(), undefined, 'a message after the close finds no queue');
  });

  it('a close during the opening waits for the queue, closes it and never calls the opened callback', async function () {
    const slot = new QueueSlot();
    const opening = deferred();
    const q = fakeQueue(5);
    let opened = false;
    slot.open(
      () => opening.promise,
      () => (opened = true),
      () => assert.fail('not a failure'),
    );
    let closedWith;
    const closing = slot.close().then((depth) => (closedWith = depth));
    await new Promise((r) => setImmediate(r));
    assert.strictEqual(closedWith, undefined, 'the close waits for the opening');
    opening.resolve(q);
    await closing;
    assert.strictEqual(closedWith, 0, 'the queue never became the node’s: nothing reported as left behind');
    assert.strictEqual(q.closed, 1);
    assert.strictEqual(opened, false);
    assert.strictEqual(slot.queue, undefined);
  });

  it('a close of a queue that fails to close rejects (the node warns)', async function () {
    const slot = new QueueSlot();
    const q = { stats: () => ({ depth: 1 }), close: () => Promise.reject(new Error('disk gone')) };
    slot.open(
      () => Promise.resolve(q),
      () => undefined,
      () => assert.fail('not a failure'),
    );
    await slot.ready();
    await assert.rejects(slot.close(), /disk gone/);
  });
});
