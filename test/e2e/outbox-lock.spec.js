'use strict';
/**
 * Two real Node-RED processes (default settings) started on ONE user
 * directory: the second one must not open the first one's outbox.
 *
 *   event trigger (reply "durable") → http post (durable) → a partner that is down
 *
 * 200 events go to each process. The first acknowledges its 200 (202, the
 * events are on disk); the second cannot open the outbox (its lock is held):
 * its HTTP POST node shows a red ring, logs why, and its trigger answers 503,
 * so nothing is acknowledged there. Both processes are killed; the first is
 * started again with the partner up, and every acknowledged event must reach
 * the partner: 0 lost (before the lock, 200 of 400 were lost this way).
 */
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { startNodeRed, freePort, tmpDir } = require('../support/nodered');
const { endpointNode, durableTriggerNode } = require('../support/flows');

const TAB = 'lk00000000000tab';
const TRIGGER = 'lk000000trigger1';
const POST = 'lk00000000post01';
const ENDPOINT = 'lk0000endpoint01';
const PATH = '/lock/events';
const EVENTS = 200;

function flow(partnerUrl) {
  return [
    { id: TAB, type: 'tab', label: 'outbox lock' },
    endpointNode(ENDPOINT, partnerUrl, { name: 'partner' }),
    durableTriggerNode(TRIGGER, TAB, PATH, [[POST], []]),
    {
      id: POST,
      type: 'saypro-http-post',
      z: TAB,
      name: 'to the partner',
      endpoint: ENDPOINT,
      method: '',
      path: '/v1/events',
      headers: [],
      msgHeaders: false,
      maxAttempts: 20,
      initialDelay: 100,
      maxDelay: 500,
      maxRetryAfter: 2,
      idempotencyHeader: 'Idempotency-Key',
      successStatuses: '',
      sign: false,
      durable: true,
      maxQueued: 100000,
      maxQueuedMB: 64,
      fullPolicy: 'refuse',
      orderingKey: '',
      wires: [[], []],
    },
  ];
}

async function postAll(base, prefix) {
  const replies = {};
  const acked = [];
  let next = 0;
  const worker = async () => {
    while (next < EVENTS) {
      const i = next++;
      const id = `${prefix}_${String(i).padStart(4, '0')}`;
      let status = 'conn';
      try {
        const res = await fetch(base + PATH, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, type: 'order.created', data: { i } }),
          signal: AbortSignal.timeout(20000),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 'conn';
      }
      replies[status] = (replies[status] || 0) + 1;
      if (status === 202) acked.push(id);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { replies, acked };
}

async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('outbox lock: two Node-RED processes on one user directory (real processes)', function () {
  this.timeout(180000);
  const started = [];
  let partner;
  let userDir;

  after(async function () {
    for (const nr of started) await nr.stop();
    if (partner) await new Promise((r) => partner.close(r));
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('the second process refuses the outbox (red status, log line, 503) and no acknowledged event is lost', async function () {
    userDir = tmpDir('saypro-lock-e2e-');
    const partnerPort = await freePort(); // nothing listens there yet: the partner is down
    const partnerUrl = `http://127.0.0.1:${partnerPort}`;
    const a = await startNodeRed({ userDir, flow: flow(partnerUrl) });
    started.push(a);
    await until(
      () => fs.existsSync(path.join(userDir, 'saypro-outbox', POST, 'LOCK')),
      30000,
      () => 'the first process never locked its outbox:\n' + a.output,
    );
    const b = await startNodeRed({ userDir });
    started.push(b);
    await until(
      () => /queue in use by another process|in use by another process/.test(b.output),
      30000,
      () => 'the second process did not say why it cannot open the outbox:\n' + b.output,
    );
    assert.match(
      b.output,
      new RegExp(`outbox directory .*${POST}.* is in use by another process \\(pid ${a.child.pid} on `),
    );

    const [fromA, fromB] = await Promise.all([postAll(a.base, 'a'), postAll(b.base, 'b')]);
    console.log(
      `      first process: ${JSON.stringify(fromA.replies)}; second process: ${JSON.stringify(fromB.replies)}`,
    );
    assert.strictEqual(fromA.acked.length, EVENTS, 'the first process acknowledges every event');
    assert.deepStrictEqual(fromB.replies, { 503: EVENTS }, 'the second process acknowledges none: 503');
    const stats = await (await fetch(`${b.base}/saypro-integration-kit/outbox/${POST}`)).json();
    assert.strictEqual(stats.error.code, 'OUTBOX_UNAVAILABLE');

    // both die (no clean shutdown); the first comes back alone, with the partner up
    for (const nr of [a, b]) {
      process.kill(nr.child.pid, 'SIGKILL');
      await new Promise((r) =>
        nr.child.exitCode !== null || nr.child.signalCode !== null ? r() : nr.child.once('exit', r),
      );
    }
    const received = new Set();
    partner = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.add(String(req.headers['idempotency-key']));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise((r) => partner.listen(partnerPort, '127.0.0.1', r));
    const again = await startNodeRed({ userDir });
    started.push(again);
    await until(
      () => fromA.acked.every((id) => received.has(id)),
      90000,
      () =>
        `not delivered after the restart: ${fromA.acked.filter((id) => !received.has(id)).length} of ${fromA.acked.length}\n${again.output}`,
    );
    const lost =
      fromA.acked.filter((id) => !received.has(id)).length +
      fromB.acked.length -
      [...fromB.acked].filter((id) => received.has(id)).length;
    console.log(
      `      acknowledged ${fromA.acked.length + fromB.acked.length} of ${2 * EVENTS}, lost after the restart: ${lost}`,
    );
    assert.strictEqual(lost, 0);
    assert.match(again.output, /took over the stale lock .*process \d+ is gone/);
  });
});
