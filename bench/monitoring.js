'use strict';
/**
 * What monitoring costs per delivery, without Node-RED: attempts and
 * finished deliveries pushed through the telemetry bus into the Prometheus
 * metrics and the audit log file (ECS JSON, rotation on), then scrapes.
 *
 *   npm run build && node bench/monitoring.js
 *
 * Prints: µs per reported delivery (bus + metrics; + audit file written),
 * the audit bytes per delivery and the rotation's bound, a scrape's time and size with 50 endpoints × 2 nodes.
 * Works in a temporary directory that it deletes at the end.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const bus = require('../dist/nodes/lib/telemetry/bus');
const { createMetrics } = require('../dist/nodes/lib/telemetry/metrics');
const { toEcs } = require('../dist/nodes/lib/telemetry/ecs');
const { RotatingFile } = require('../dist/nodes/lib/telemetry/rotating-file');

const N = Number(process.env.MON_BENCH_N || 200000);
const ENDPOINTS = 50;

function attempt(i) {
  const e = i % ENDPOINTS;
  return {
    kind: 'attempt',
    endpoint: 'endpoint ' + e,
    endpointId: 'ep' + e,
    node: 'post ' + (i % (ENDPOINTS * 2)),
    nodeId: 'n' + (i % (ENDPOINTS * 2)),
    method: 'POST',
    url: `https://api${e}.example.com/v1/orders?api_key=[redacted]`,
    status: i % 10 === 0 ? 503 : 200,
    errorCode: i % 10 === 0 ? 'HTTP_503' : undefined,
    durationMs: 20 + (i % 300),
    result: i % 10 === 0 ? 'retry' : 'success',
    attempt: 1,
    maxAttempts: 5,
    eventId: 'evt_' + i,
    at: Date.now(),
  };
}

function finished(i) {
  const e = i % ENDPOINTS;
  return {
    kind: 'delivery-finished',
    endpoint: 'endpoint ' + e,
    endpointId: 'ep' + e,
    node: 'post ' + (i % (ENDPOINTS * 2)),
    nodeId: 'n' + (i % (ENDPOINTS * 2)),
    outcome: 'delivered',
    statusCode: 200,
    durationMs: 50 + (i % 5000),
    attempts: 1,
    eventId: 'evt_' + i,
    at: Date.now(),
  };
}

/** Reports n deliveries, yielding every 500 so that the audit writer keeps up (as between real requests). */
async function run(label, n, pause = () => new Promise((r) => setImmediate(r))) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    bus.emit(attempt(i));
    bus.emit(finished(i));
    if (i % 500 === 499) await pause();
  }
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(48)} ${us.toFixed(2)} µs per delivery (an attempt and its end)`);
  return us;
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-mon-bench-'));
  try {
    const metrics = createMetrics({ processMetrics: false });
    for (let e = 0; e < ENDPOINTS; e++) {
      bus.registerEndpoint('ep' + e, () => ({
        endpoint: 'endpoint ' + e,
        endpointId: 'ep' + e,
        paused: false,
        circuitOpen: false,
        halfOpen: false,
        offline: false,
      }));
      for (const k of [0, 1])
        bus.registerQueue(`n${e}-${k}`, () => ({
          node: `post ${e}-${k}`,
          nodeId: `n${e}-${k}`,
          endpoint: 'endpoint ' + e,
          depth: 3,
          oldestAgeSeconds: 1.5,
          deadLetters: 0,
        }));
    }
    await run('warm-up', 20000);
    await run('bus + Prometheus metrics', N);

    const file = new RotatingFile({ file: path.join(dir, 'audit.log'), maxBytes: 10 * 1024 * 1024, maxFiles: 5 });
    const unsubscribe = bus.subscribe((e) => {
      const rec = toEcs(e);
      if (rec) file.write(JSON.stringify(rec));
    });
    const t0 = process.hrtime.bigint();
    // waits for the file every 500 deliveries: the figure is the sustained rate the disk takes
    await run('bus + metrics + audit file, written', N, () => file.flush());
    await file.flush();
    const totalUs = Number(process.hrtime.bigint() - t0) / 1000 / N;
    console.log(`${'… i.e. deliveries per second the audit log takes'.padEnd(48)} ${Math.round(1e6 / totalUs)}`);
    const bytes = fs.readdirSync(dir).reduce((s, n) => s + fs.statSync(path.join(dir, n)).size, 0);
    const kept = fs
      .readdirSync(dir)
      .reduce((s, n) => s + fs.readFileSync(path.join(dir, n), 'utf8').split('\n').length - 1, 0);
    console.log(
      `${'audit bytes per delivery (2 lines)'.padEnd(48)} ${((2 * bytes) / kept).toFixed(0)} B; ${file.written} lines written, ${file.dropped} dropped; ${fs.readdirSync(dir).length} files, ${(bytes / 1048576).toFixed(1)} MB on disk (cap 60 MB)`,
    );
    unsubscribe();

    const s0 = process.hrtime.bigint();
    let text = '';
    const SCRAPES = 50;
    for (let i = 0; i < SCRAPES; i++) text = await metrics.text();
    const ms = Number(process.hrtime.bigint() - s0) / 1e6 / SCRAPES;
    console.log(
      `${'scrape (50 endpoints, 100 queues)'.padEnd(48)} ${ms.toFixed(2)} ms, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB, ${text.split('\n').filter((l) => l && !l.startsWith('#')).length} samples`,
    );
    metrics.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
