'use strict';
/**
 * The HTTP POST node's in-memory deliveries in flight
 * (lib/http-post/in-flight.ts): held with their states while they run, each
 * ending with the outcome of what it sent; a close waits for them all.
 */
const assert = require('node:assert');
const { InFlight } = require('../../dist/nodes/lib/http-post/in-flight.js');

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('lib/http-post/in-flight', function () {
  it('holds each delivery with its state while it runs, and lets go when it ends', async function () {
    const f = new InFlight();
    const a = deferred();
    const b = deferred();
    const endings = [];
    const sent = [];
    const send = (out) => sent.push(out);
    const first = f.run(
      'A',
      send,
      () => a.promise,
      (o) => endings.push(['A', o]),
    );
    const second = f.run(
      'B',
      send,
      () => b.promise,
      (o) => endings.push(['B', o]),
    );
    assert.strictEqual(f.size, 2);
    assert.deepStrictEqual(f.states(), ['A', 'B']);
    b.resolve();
    await second;
    assert.deepStrictEqual(f.states(), ['A']);
    a.resolve();
    await first;
    assert.strictEqual(f.size, 0);
    assert.deepStrictEqual(endings, [
      ['B', undefined],
      ['A', undefined],
    ]);
    assert.deepStrictEqual(sent, [], 'nothing was sent');
  });

  it('the outcome of what the job sent reaches `ended`; what it sends still goes out', async function () {
    const f = new InFlight();
    const sent = [];
    let ended;
    await f.run(
      's',
      (out) => sent.push(out),
      async (send) => send([{ statusCode: 201 }, null]),
      (o) => (ended = o),
    );
    assert.deepStrictEqual(ended, { ok: true, status: 201 });
    assert.deepStrictEqual(sent, [[{ statusCode: 201 }, null]]);
    await f.run(
      's',
      () => undefined,
      async (send) => send([null, { error: { code: 'HTTP_500', message: 'HTTP 500' } }]),
      (o) => (ended = o),
    );
    assert.deepStrictEqual(ended, { ok: false, code: 'HTTP_500', message: 'HTTP 500' });
  });

  it('a job that rejects is let go too, and its rejection reaches the caller', async function () {
    const f = new InFlight();
    let ended = 'not yet';
    const run = f.run(
      's',
      () => undefined,
      () => Promise.reject(new Error('bug')),
      (o) => (ended = o),
    );
    await assert.rejects(run, /bug/);
    assert.strictEqual(f.size, 0);
    assert.strictEqual(ended, undefined);
  });

  it('settled() waits for every delivery now in flight, however it ends', async function () {
    const f = new InFlight();
    const a = deferred();
    const b = deferred();
    f.run(
      'A',
      () => undefined,
      () => a.promise,
      () => undefined,
    ).catch(() => undefined);
    f.run(
      'B',
      () => undefined,
      () => b.promise,
      () => undefined,
    );
    let settled = false;
    const waiting = f.settled().then(() => (settled = true));
    a.reject(new Error('cancelled'));
    await new Promise((r) => setImmediate(r));
    assert.strictEqual(settled, false, 'B still runs');
    b.resolve();
    await waiting;
    assert.strictEqual(settled, true);
    await new InFlight().settled();
  });

  it('cancel() aborts the signal every delivery follows, then waits for them to end', async function () {
    const f = new InFlight();
    const ended = [];
    // a delivery double that ends when the signal aborts, as deliverInMemory does
    const job = () =>
      new Promise((resolve) => f.signal.addEventListener('abort', () => setImmediate(resolve), { once: true }));
    f.run(
      'A',
      () => undefined,
      job,
      () => ended.push('A'),
    );
    f.run(
      'B',
      () => undefined,
      job,
      () => ended.push('B'),
    );
    assert.strictEqual(f.signal.aborted, false);
    await f.cancel();
    assert.strictEqual(f.signal.aborted, true);
    assert.deepStrictEqual(ended.sort(), ['A', 'B']);
    assert.strictEqual(f.size, 0);
  });
});
