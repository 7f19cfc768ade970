#!/usr/bin/env node
'use strict';
// Figures for the durable outbox (dist/nodes/lib/outbox; build first with `npm run build`):
//   (a) enqueue rate with fsync: 20,000 events of ~500 bytes at concurrency 256 (goal >= 5,000/s)
//   (b) RSS growth with 100,000 events pending, after GC (goal <= 64 MB)
//   (c) time to reopen and rebuild the index of 100,000 pending events (goal <= 5 s)
//   (d) disk bytes before and after completing all of them (compaction)
// Works in a temporary directory (or $OUTBOX_BENCH_DIR, to measure a particular disk), cleans up,
// stops by itself. Not a test: it prints figures.
//   node bench/outbox.js
//   OUTBOX_BENCH_KEY=<key or passphrase> node bench/outbox.js     the same with the journal encrypted at rest

const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

if (typeof global.gc !== 'function') {
  // RSS after GC needs --expose-gc: run again with it.
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
}

const { Outbox } = require(path.join(__dirname, '..', 'dist', 'nodes', 'lib', 'outbox'));
const { RecordCipher } = require(path.join(__dirname, '..', 'dist', 'nodes', 'lib', 'outbox', 'cipher'));
const cipher = process.env.OUTBOX_BENCH_KEY ? RecordCipher.fromSecret(process.env.OUTBOX_BENCH_KEY) : undefined;

const MB = 1024 * 1024;

function event(i) {
  // about 500 bytes as JSON: what the HTTP POST node would keep (body, headers, a little metadata)
  return {
    url: 'https://api.example.com/v1/events',
    headers: { 'content-type': 'application/json', 'idempotency-key': `evt_${i}` },
    body: JSON.stringify({
      id: `evt_${String(i).padStart(8, '0')}`,
      type: 'listing.updated',
      occurredAt: '2024-06-11T10:15:30.000Z',
      source: 'platform',
      data: {
        listingId: `lst_${i}`,
        price: 1250.5 + i,
        currency: 'EUR',
        title: 'Two-bedroom flat near the river, renovated',
        tags: ['a', 'b', 'c'],
      },
    }),
    meta: { flow: 'f1', node: 'n1', attempt: 0, note: 'x'.repeat(30) },
  };
}

function rss() {
  global.gc();
  global.gc();
  return process.memoryUsage().rss;
}

function heap() {
  global.gc();
  return process.memoryUsage().heapUsed;
}

function dirBytes(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

async function run(count, concurrency, fn) {
  let next = 0;
  async function worker() {
    while (next < count) await fn(next++);
  }
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function fmt(n, d = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
}

async function main() {
  const base = process.env.OUTBOX_BENCH_DIR || os.tmpdir();
  const root = fs.mkdtempSync(path.join(base, 'saypro-outbox-bench-'));
  console.log(
    `outbox benchmark — node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} CPU(s), dir ${root}`,
  );
  console.log(`event size: ${Buffer.byteLength(JSON.stringify(event(12345)))} bytes as JSON\n`);
  try {
    // (a) enqueue rate with fsync
    {
      const dir = path.join(root, 'a');
      const ob = await Outbox.open(dir, { maxItems: 1e6, cipher });
      const N = 20000;
      const s = await run(N, 256, async (i) => {
        const r = await ob.enqueue({ id: `a${i}`, data: event(i) });
        if (r.status !== 'accepted') throw new Error(r.status);
      });
      console.log(
        `(a) enqueue with fsync: ${fmt(N)} events at concurrency 256 in ${fmt(s, 2)} s = ${fmt(N / s)} events/s (goal >= 5,000/s)`,
      );
      await ob.close();
    }

    // (b) RSS growth with 100,000 pending events
    const N = 100000;
    const dir = path.join(root, 'b');
    let ob;
    {
      const rss0 = rss();
      const heap0 = heap();
      ob = await Outbox.open(dir, { maxItems: 1e6, maxBytes: 1024 * MB, cipher });
      const s = await run(N, 256, async (i) => {
        const r = await ob.enqueue({
          id: `evt_${i}`,
          orderingKey: i % 10 === 0 ? `cust_${i % 1000}` : undefined,
          data: event(i),
        });
        if (r.status !== 'accepted') throw new Error(r.status);
      });
      const rss1 = rss();
      const heap1 = heap();
      console.log(
        `(b) ${fmt(N)} events pending (enqueued in ${fmt(s, 1)} s, ${fmt(N / s)}/s): RSS +${fmt((rss1 - rss0) / MB, 1)} MB` +
          ` (goal <= 64 MB), JS heap +${fmt((heap1 - heap0) / MB, 1)} MB, ${fmt(ob.stats().bytes / MB, 1)} MB of data on disk`,
      );
      await ob.close();
    }

    // (c) reopen and rebuild the index
    {
      const t0 = process.hrtime.bigint();
      ob = await Outbox.open(dir, { maxItems: 1e6, maxBytes: 1024 * MB, cipher });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const st = ob.stats();
      if (st.depth !== N) throw new Error(`expected ${N} pending after reopening, found ${st.depth}`);
      console.log(
        `(c) reopen and rebuild the index of ${fmt(st.depth)} pending events: ${fmt(s, 2)} s (goal <= 5 s), ${st.segments} segments`,
      );
    }

    // (d) disk before and after completing everything
    {
      const before = dirBytes(dir);
      const segsBefore = ob.stats().segments;
      const s = await run(N, 256, async (i) => {
        if (!(await ob.complete(`evt_${i}`))) throw new Error(`evt_${i} was not pending`);
      });
      await ob.compact();
      const after = dirBytes(dir);
      console.log(
        `(d) disk: ${fmt(before / MB, 1)} MB in ${segsBefore} segments with everything pending; ` +
          `${fmt(after / 1024, 1)} KB in ${ob.stats().segments} segment(s) after completing all (completed in ${fmt(s, 1)} s, ${fmt(N / s)}/s)`,
      );
      await ob.close();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
