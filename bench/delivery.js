#!/usr/bin/env node
'use strict';
// Figures for durable delivery in a real Node-RED process (build first with `npm run build`):
//   (a) RSS of the Node-RED process before and after 100,000 events are queued while the endpoint is
//       down (connection refused); goal: at most 64 MB more (the events are kept on disk)
//   (b) time to resume after a kill -9 with 100,000 pending: from spawning the process to "Started
//       flows", to the admin stats answering with the backlog, and to the first delivery; goal <= 5 s
//   (c) delivery rate draining the backlog against an endpoint rate-limited to 100 per 1 s (the
//       achieved rate should be the limit) and then with no limit
//   (d) enqueue rate through the event trigger with durable replies (each 202 waits for the fsync), and
//       a baseline: a second trigger in the same flow with immediate replies and no HTTP POST node
// Memory is counted after garbage collection: Node-RED runs with --inspect-port (NODE_OPTIONS) and the
// inspector is opened with SIGUSR1 only to collect and measure; the raw figures are printed as well.
//
// Flow: event trigger (reply "durable") → format encoder (json) → http post (durable) → response check.
// Events are fed over the trigger's own HTTP endpoint, BENCH_CONCURRENCY requests at a time, exactly as
// a platform would send them (so (a) and (d) come from the same run). Everything talks to 127.0.0.1
// only; it works in a temporary user directory, cleans up and stops by itself. Not a test: it prints
// figures.
//   node bench/delivery.js
// Knobs: BENCH_EVENTS (100000), BENCH_CONCURRENCY (128), BENCH_RATE (100 per second),
//        BENCH_RATE_SECONDS (10, the window the limited rate is measured over), BENCH_DRAIN_SECONDS (300).

const fs = require('fs');
const os = require('os');
const path = require('path');
const { startNodeRed, freePort, tmpDir } = require('../test/support/nodered');
const { startChaosPartner } = require('../test/support/chaos-partner');
const { durableTriggerNode } = require('../test/support/flows');
const WebSocket = require('ws');

function intEnv(name, dflt) {
  const v = Number(process.env[name]);
  return process.env[name] !== undefined && process.env[name] !== '' && Number.isInteger(v) && v > 0 ? v : dflt;
}

const N = intEnv('BENCH_EVENTS', 100000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 128);
const RATE = intEnv('BENCH_RATE', 100);
const RATE_SECONDS = intEnv('BENCH_RATE_SECONDS', 10);
const DRAIN_SECONDS = intEnv('BENCH_DRAIN_SECONDS', 300);
const MB = 1024 * 1024;

const TAB = 'bench00000000tab';
const ENDPOINT = 'bench000endpoint';
const POST = 'bench0000000post';
const PATH = '/bench/events';
const BASELINE_PATH = '/bench/baseline';
const BASELINE_EVENTS = Math.min(N, 20000);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

function fmt(n, d = 0) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
}

/** VmRSS / VmHWM of a process, in bytes (Linux /proc). */
function memoryOf(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Garbage-collects the Node-RED process through its inspector and reads its memory, so that the figures
 * count what is kept, not garbage V8 has not collected yet. Node-RED runs with
 * NODE_OPTIONS=--inspect-port=127.0.0.1:<port>; SIGUSR1 opens the inspector only now (no cost before).
 */
async function collectedMemory(pid, inspectPort) {
  process.kill(pid, 'SIGUSR1');
  let target;
  for (let i = 0; i < 100 && !target; i++) {
    try {
      const list = await (
        await fetch(`http://127.0.0.1:${inspectPort}/json/list`, { signal: AbortSignal.timeout(1000) })
      ).json();
      target = list[0] && list[0].webSocketDebuggerUrl;
    } catch {
      await sleep(50);
    }
  }
  if (!target) throw new Error('the inspector of the Node-RED process did not open');
  const ws = new WebSocket(target);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let seq = 0;
  const waiting = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (m.id && waiting.has(m.id)) {
      waiting.get(m.id)(m);
      waiting.delete(m.id);
    }
  });
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const r = await call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse(r.result.result.value);
    return { rss: memoryOf(pid).rss, heapUsed: usage.heapUsed };
  } finally {
    ws.close();
  }
}

function dirBytes(dir) {
  let n = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return n;
}

function flow(partnerPort, rateCount) {
  return [
    { id: TAB, type: 'tab', label: 'delivery bench' },
    {
      id: ENDPOINT,
      type: 'saypro-endpoint',
      name: 'bench partner',
      baseUrl: `http://127.0.0.1:${partnerPort}`,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 5000,
      keepAlive: true,
      tls: '',
      authType: 'none',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
      maxConcurrent: 16,
      rateCount,
      rateInterval: 1,
      breakerFailures: 0,
      breakerRate: 0,
    },
    durableTriggerNode('bench000trigger1', TAB, PATH, [['bench000encoder1'], []], {
      name: 'platform events',
      ackTimeout: 30,
    }),
    {
      // for the baseline of (d): the same intake with an immediate reply and no HTTP POST node
      id: 'bench000trigger2',
      type: 'saypro-event-trigger',
      z: TAB,
      name: 'baseline',
      url: BASELINE_PATH,
      method: 'post',
      maxBytes: 1048576,
      filter: '',
      dedupeWindow: 600,
      auth: 'none',
      authHeader: 'x-webhook-secret',
      reply: 'immediate',
      ackTimeout: 30,
      wires: [['bench000encoder2'], []],
    },
    {
      id: 'bench000encoder2',
      type: 'saypro-format-encoder',
      z: TAB,
      name: '',
      format: 'json',
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
      outputType: 'string',
      wires: [[], []],
    },
    {
      id: 'bench000encoder1',
      type: 'saypro-format-encoder',
      z: TAB,
      name: '',
      format: 'json',
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
      outputType: 'string',
      wires: [[POST], []],
    },
    {
      id: POST,
      type: 'saypro-http-post',
      z: TAB,
      name: 'to the partner',
      endpoint: ENDPOINT,
      method: '',
      path: '/v1/events',
      headers: [],
      msgHeaders: true,
      maxAttempts: 20,
      initialDelay: 100,
      maxDelay: 2000,
      maxRetryAfter: 2,
      idempotencyHeader: 'Idempotency-Key',
      successStatuses: '',
      sign: false,
      durable: true,
      maxQueued: Math.max(100000, N),
      maxQueuedMB: 256,
      fullPolicy: 'refuse',
      orderingKey: '',
      wires: [['bench000checker1'], []],
    },
    {
      id: 'bench000checker1',
      type: 'saypro-response-check',
      z: TAB,
      name: '',
      mode: 'all',
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
      rules: [{ kind: 'status', value: '2xx' }],
      extract: [],
      wires: [[], []],
    },
  ];
}

function event(i, prefix = 'evt') {
  // about 400 bytes as JSON on the wire
  const id = `${prefix}_${String(i).padStart(8, '0')}`;
  return JSON.stringify({
    id,
    type: 'listing.updated',
    occurredAt: '2024-06-11T10:15:30.000Z',
    source: 'platform',
    data: {
      event_id: id,
      listingId: `lst_${i}`,
      price: 1250.5 + i,
      currency: 'EUR',
      title: 'Two-bedroom flat near the river, renovated',
      tags: ['a', 'b', 'c'],
      note: 'x'.repeat(60),
    },
  });
}

async function stats(base) {
  try {
    const res = await fetch(`${base}/saypro-integration-kit/outbox/${POST}`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    return await res.json();
  } catch {
    return undefined;
  }
}

async function killHard(nr) {
  const child = nr.child;
  const gone = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  process.kill(child.pid, 'SIGKILL');
  await gone;
}

/** Posts events [0, n) to the trigger, `concurrency` at a time; anything but a 2xx is sent again. */
async function feed(base, n, concurrency, url = PATH, prefix = 'evt') {
  let next = 0;
  let retries = 0;
  const statuses = {};
  async function worker() {
    while (next < n) {
      const i = next++;
      const body = event(i, prefix);
      for (let tries = 0; ; tries++) {
        let status = 'conn';
        try {
          const res = await fetch(base + url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(60000),
          });
          status = res.status;
          await res.arrayBuffer();
        } catch {
          status = 'conn';
        }
        statuses[status] = (statuses[status] || 0) + 1;
        if (typeof status === 'number' && status >= 200 && status < 300) break;
        if (tries > 50) throw new Error(`event ${i} was not accepted after 50 tries (last: ${status})`);
        retries++;
        await sleep(200);
      }
    }
  }
  const t0 = now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (now() - t0) / 1000, retries, statuses };
}

async function main() {
  const userDir = tmpDir('saypro-delivery-bench-');
  const outboxDir = path.join(userDir, 'saypro-outbox', POST);
  const nrPort = await freePort();
  const partnerPort = await freePort(); // nothing listens there yet: connection refused
  const inspectPort = await freePort();
  const start = (fl) =>
    startNodeRed({
      userDir,
      flow: fl,
      logLevel: 'info', // startNodeRed waits for the "Started flows" info line
      settings: { uiPort: nrPort },
      env: { NODE_OPTIONS: `--inspect-port=127.0.0.1:${inspectPort}` },
    });
  const base = `http://127.0.0.1:${nrPort}`;
  const results = [];
  let nr;
  let partner;

  console.log(
    `delivery benchmark — node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} CPU(s), ` +
      `${fmt(N)} events, client concurrency ${CONCURRENCY}, user dir ${userDir}\n`,
  );
  try {
    // ---------------------------------------------------------------- (a) + (d)
    nr = await start(flow(partnerPort, 0));
    await sleep(3000);
    const idleRaw = memoryOf(nr.child.pid);
    const idle = await collectedMemory(nr.child.pid, inspectPort);
    console.log(
      `Node-RED started (pid ${nr.child.pid}), idle RSS ${fmt(idleRaw.rss / MB, 1)} MB, after GC ${fmt(idle.rss / MB, 1)} MB ` +
        `(heap ${fmt(idle.heapUsed / MB, 1)} MB); feeding ${fmt(N)} events with the endpoint down …`,
    );
    const fed = await feed(base, N, CONCURRENCY);
    const enqueueRate = N / fed.seconds;
    console.log(`  fed in ${fmt(fed.seconds, 1)} s (${fmt(enqueueRate)}/s), replies ${JSON.stringify(fed.statuses)}`);
    await sleep(5000);
    const queuedRaw = memoryOf(nr.child.pid);
    const queued = await collectedMemory(nr.child.pid, inspectPort);
    const st1 = await stats(base);
    const disk = dirBytes(outboxDir);
    console.log(`  outbox: ${JSON.stringify(st1)}; ${fmt(disk / MB, 1)} MB on disk`);
    console.log(
      `  RSS ${fmt(queuedRaw.rss / MB, 1)} MB (peak ${fmt(queuedRaw.peak / MB, 1)} MB), after GC ${fmt(queued.rss / MB, 1)} MB (heap ${fmt(queued.heapUsed / MB, 1)} MB)`,
    );
    if (!st1 || st1.depth !== N) console.log(`  WARNING: expected depth ${N}, the stats say ${st1 && st1.depth}`);
    const growth = queued.rss - idle.rss;
    results.push([
      `(a) RSS growth with ${fmt(N)} queued, endpoint down (after GC)`,
      `+${fmt(growth / MB, 1)} MB (heap +${fmt((queued.heapUsed - idle.heapUsed) / MB, 1)} MB)`,
      '<= 64 MB',
      growth <= 64 * MB,
    ]);
    results.push([
      '    the same before GC / peak during the feed',
      `+${fmt((queuedRaw.rss - idleRaw.rss) / MB, 1)} MB / +${fmt((queuedRaw.peak - idleRaw.rss) / MB, 1)} MB`,
      '(figure)',
      undefined,
    ]);
    results.push([
      '(d) enqueue rate through the trigger, durable 202',
      `${fmt(enqueueRate)} events/s`,
      '(figure)',
      undefined,
    ]);

    // ---------------------------------------------------------------- (b) + (c limited)
    await killHard(nr);
    nr = undefined;
    partner = await startChaosPartner({ port: partnerPort, record: false, mix: { ok: 1 } });
    const fl = flow(partnerPort, RATE);
    const t0 = now();
    let firstStats;
    let firstStatsAt;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = await stats(base);
        if (s && typeof s.depth === 'number') {
          firstStats = s;
          firstStatsAt = now();
          return;
        }
        await sleep(20);
      }
    })();
    nr = await start(fl);
    const startedAt = now();
    const pollDeadline = now() + 30000;
    while (!firstStats && now() < pollDeadline) await sleep(20);
    polling = false;
    await poller;
    const firstDeliveryDeadline = now() + 30000;
    while (partner.arrivals.length === 0 && now() < firstDeliveryDeadline) await sleep(10);
    const firstDelivery = partner.arrivals[0];
    const resumed = await collectedMemory(nr.child.pid, inspectPort);
    const toStarted = (startedAt - t0) / 1000;
    const toStats = firstStatsAt ? (firstStatsAt - t0) / 1000 : NaN;
    const toFirst = firstDelivery ? (firstDelivery - t0) / 1000 : NaN;
    console.log(
      `restarted after kill -9: "Started flows" seen at ${fmt(toStarted, 2)} s, stats at ${fmt(toStats, 2)} s ` +
        `(${JSON.stringify(firstStats)}), first delivery at ${fmt(toFirst, 2)} s; RSS after GC ${fmt(resumed.rss / MB, 1)} MB (heap ${fmt(resumed.heapUsed / MB, 1)} MB)`,
    );
    results.push(['(b) resume, spawn → "Started flows"', `${fmt(toStarted, 2)} s`, '<= 5 s', toStarted <= 5]);
    results.push([
      '(b) resume, spawn → stats answer (depth ' + (firstStats ? fmt(firstStats.depth) : '?') + ')',
      `${fmt(toStats, 2)} s`,
      '<= 5 s',
      toStats <= 5 && !!firstStats && firstStats.depth >= N - 16 * 2,
    ]);
    results.push(['(b) resume, spawn → first delivery', `${fmt(toFirst, 2)} s`, '<= 5 s', toFirst <= 5]);
    results.push([
      '(b) RSS after restart with the backlog (after GC)',
      `+${fmt((resumed.rss - idle.rss) / MB, 1)} MB over idle (heap +${fmt((resumed.heapUsed - idle.heapUsed) / MB, 1)} MB)`,
      '<= 64 MB',
      resumed.rss - idle.rss <= 64 * MB,
    ]);

    // measure the limited rate over a window that starts 2 s after the first delivery
    if (firstDelivery) {
      const from = firstDelivery + 2000;
      const to = from + RATE_SECONDS * 1000;
      while (now() < to + 200) await sleep(100);
      const inWindow = partner.arrivals.filter((t) => t >= from && t < to).length;
      const limited = inWindow / RATE_SECONDS;
      console.log(`  rate-limited endpoint (${RATE} per 1 s): ${inWindow} deliveries in ${RATE_SECONDS} s`);
      results.push([
        `(c) delivery rate, endpoint limited to ${RATE}/s`,
        `${fmt(limited, 1)}/s`,
        `≈ ${RATE}/s (±10 %)`,
        Math.abs(limited - RATE) <= RATE * 0.1,
      ]);
    } else {
      results.push([`(c) delivery rate, endpoint limited to ${RATE}/s`, 'no delivery', `≈ ${RATE}/s`, false]);
    }

    // ---------------------------------------------------------------- (c unlimited)
    await nr.stop();
    nr = undefined;
    const before = partner.arrivals.length;
    nr = await start(flow(partnerPort, 0));
    const drainDeadline = now() + DRAIN_SECONDS * 1000;
    let last;
    for (;;) {
      await sleep(500);
      last = await stats(base);
      if ((last && last.depth === 0) || now() > drainDeadline) break;
    }
    const drained = partner.arrivals.slice(before);
    const span = drained.length > 1 ? (drained[drained.length - 1] - drained[0]) / 1000 : NaN;
    const unlimited = drained.length / span;
    const unique = partner.delivered.size;
    let dup = 0;
    for (const c of partner.delivered.values()) dup += c - 1;
    console.log(
      `  unlimited endpoint (16 at once): ${fmt(drained.length)} deliveries in ${fmt(span, 1)} s; outbox at the end ${JSON.stringify(last)}; ` +
        `${fmt(unique)} distinct events delivered, ${fmt(dup)} duplicates; ${fmt(dirBytes(outboxDir) / 1024, 1)} KB left on disk`,
    );
    results.push(['(c) delivery rate, no limit (16 at once)', `${fmt(unlimited)}/s`, '(figure)', undefined]);
    results.push([
      '    backlog drained completely',
      last && last.depth === 0 && unique === N
        ? 'yes'
        : `no (depth ${last && last.depth}, ${fmt(unique)} of ${fmt(N)} delivered)`,
      'yes',
      !!last && last.depth === 0 && unique === N,
    ]);

    // ---------------------------------------------------------------- (d) baseline
    const base0 = await feed(base, BASELINE_EVENTS, CONCURRENCY, BASELINE_PATH, 'base');
    const baseline = BASELINE_EVENTS / base0.seconds;
    console.log(
      `  baseline: ${fmt(BASELINE_EVENTS)} events to a trigger with immediate replies and no HTTP POST node in ${fmt(base0.seconds, 1)} s`,
    );
    results.push([
      '(d) baseline: immediate 202, no HTTP POST node',
      `${fmt(baseline)} events/s`,
      '(figure)',
      undefined,
    ]);
  } finally {
    if (nr) await nr.stop();
    if (partner) await partner.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }

  const w0 = Math.max(...results.map((r) => r[0].length));
  const w1 = Math.max(...results.map((r) => r[1].length));
  const w2 = Math.max(...results.map((r) => r[2].length));
  console.log('\n' + 'figure'.padEnd(w0) + '  ' + 'measured'.padEnd(w1) + '  ' + 'goal'.padEnd(w2) + '  met');
  console.log('-'.repeat(w0 + w1 + w2 + 9));
  for (const [name, value, goal, met] of results) {
    console.log(
      name.padEnd(w0) +
        '  ' +
        value.padEnd(w1) +
        '  ' +
        goal.padEnd(w2) +
        '  ' +
        (met === undefined ? '' : met ? 'yes' : 'NO'),
    );
  }
}

main().then(
  () => process.exit(process.exitCode || 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
