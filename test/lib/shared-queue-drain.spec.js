'use strict';
/**
 * Closing a NATS connection at a redeploy (lib/shared-queue/drain.ts):
 * drained, else closed; never longer than the limit; never rejects.
 */
const assert = require('node:assert');
const { drainOrClose } = require('../../dist/nodes/lib/shared-queue/drain.js');

/** a connection double: `drain` and `close` behave as told, calls are recorded */
function connection({ drain, close = () => Promise.resolve() }) {
  const calls = [];
  return {
    calls,
    drain: () => (calls.push('drain'), drain()),
    close: () => (calls.push('close'), close()),
  };
}

describe('lib/shared-queue/drain', function () {
  it('a connection that drains is not closed outright', async function () {
    const c = connection({ drain: () => Promise.resolve() });
    await drainOrClose(c, 60000);
    assert.deepStrictEqual(c.calls, ['drain']);
  });

  it('a drain that fails: the connection is closed, and a failing close is no failure', async function () {
    const c = connection({ drain: () => Promise.reject(new Error('closed')) });
    await drainOrClose(c, 60000);
    assert.deepStrictEqual(c.calls, ['drain', 'close']);
    const worse = connection({
      drain: () => Promise.reject(new Error('closed')),
      close: () => Promise.reject(new Error('already')),
    });
    await drainOrClose(worse, 60000);
    assert.deepStrictEqual(worse.calls, ['drain', 'close']);
  });

  it('a drain that never ends: closed outright once the limit passes', async function () {
    const c = connection({ drain: () => new Promise(() => undefined) });
    const started = Date.now();
    await drainOrClose(c, 30);
    assert.deepStrictEqual(c.calls, ['drain', 'close']);
    assert.ok(Date.now() - started >= 25, 'not before the limit');
  });

  it('a close that never ends after the limit does not hold the redeploy when the drain ends', async function () {
    let endDrain;
    const c = connection({
      drain: () => new Promise((r) => (endDrain = r)),
      close: () => new Promise(() => undefined),
    });
    const closing = drainOrClose(c, 10);
    await new Promise((r) => setTimeout(r, 40));
    assert.deepStrictEqual(c.calls, ['drain', 'close']);
    endDrain();
    await closing;
  });
});
