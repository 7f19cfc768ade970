#!/usr/bin/env node
'use strict';
/**
 * Shared mode (NATS JetStream) beside the journal, on this machine: the same
 * number of events enqueued into, then delivered from, each queue to an HTTP
 * stand-in on 127.0.0.1 answering 200 at once; prints msg/s and the CPU time
 * per message of this process (user + system). The nats-server runs as a
 * separate process (its CPU is printed apart, from /proc when available).
 *
 *   npm run build && node bench/shared-queue.js
 *   BENCH_EVENTS (default 5000), BENCH_REPLICAS (1; 3 starts a three-server cluster)
 *
 * Not a test: prints figures, never fails a build.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { DurableQueue } = require('../dist/nodes/lib/outbox/durable');
const { SharedQueue } = require('../dist/nodes/lib/shared-queue/shared-queue');
const { Endpoint } = require('../dist/nodes/lib/http/endpoint');
const { startNatsCluster, waitForJetStream } = require('../test/support/nats-cluster');

const EVENTS = Number(process.env.BENCH_EVENTS) || 5000;
const REPLICAS = Number(process.env.BENCH_REPLICAS) || 1;

function procCpuMs(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

async function run(name, open, natsPids) {
  let delivered = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = new Endpoint({
    id: `bench-${name}`,
    config: { baseUrl: `http://127.0.0.1:${server.address().port}`, maxConcurrent: 32, rateCount: 0 },
    env: {},
  });
  const q = await open({
    endpoint,
    settings: {
      maxAttempts: 5,
      initialDelay: 100,
      maxDelay: 1000,
      maxRetryAfter: 5,
      idempotencyHeader: 'Idempotency-Key',
    },
    maxItems: 1_000_000,
    maxBytes: 1024 * 1024 * 1024,
    fullPolicy: 'refuse',
    maxDeadLetters: 0,
    onDelivered: () => {
      delivered++;
      if (delivered === EVENTS) resolveDone();
    },
  });
  if (q.ready) await q.ready;
  const body = Buffer.from(JSON.stringify({ event_id: 'x', data: 'y'.repeat(400) }));
  const cpu0 = process.cpuUsage();
  const nats0 = natsPids.map(procCpuMs);
  const t0 = process.hrtime.bigint();
  const inflight = new Set();
  for (let i = 0; i < EVENTS; i++) {
    const p = q
      .enqueue({
        id: `${name}-${i}`,
        method: 'POST',
        path: '/e',
        headers: { 'content-type': 'application/json' },
        body,
        msg: { payload: { i } },
      })
      .then((r) => {
        if (r.status !== 'accepted') throw new Error(`not accepted: ${r.status}`);
      });
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    if (inflight.size >= 256) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const tEnq = process.hrtime.bigint();
  await done;
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  const natsCpu = natsPids.map(procCpuMs).reduce((a, v, i) => a + (v - nats0[i]), 0);
  await q.close();
  endpoint.close?.();
  server.close();
  const secs = Number(t1 - t0) / 1e9;
  return {
    name,
    enqueuePerSec: Math.round(EVENTS / (Number(tEnq - t0) / 1e9)),
    endToEndPerSec: Math.round(EVENTS / secs),
    cpuUsPerMsg: Math.round((cpu.user + cpu.system) / EVENTS),
    brokerCpuUsPerMsg: Number.isFinite(natsCpu) && natsPids.length ? Math.round((natsCpu * 1000) / EVENTS) : null,
  };
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-bench-sq-'));
  const nats = await startNatsCluster({ size: REPLICAS >= 3 ? 3 : 1 });
  await waitForJetStream(nats.urls);
  const { connect } = require('@nats-io/transport-node');
  const nc = await connect({ servers: nats.urls });
  const link = { connection: async () => nc, isConnected: () => !nc.isClosed() };
  const pids = nats.servers.map((s) => s.proc.pid);
  try {
    const journal = await run('journal', (o) => DurableQueue.open({ ...o, dir: path.join(dir, 'journal') }), []);
    const shared = await run(
      'shared',
      (o) => SharedQueue.open({ ...o, link, nodeId: 'bench', replicas: REPLICAS >= 3 ? 3 : 1 }),
      pids,
    );
    console.log(
      `shared-queue bench: ${EVENTS} events of ~500 bytes, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}, replicas ${REPLICAS}`,
    );
    console.table([journal, shared]);
  } finally {
    await nc.close();
    await nats.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
