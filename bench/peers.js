#!/usr/bin/env node
'use strict';
// Side-by-side benchmark: our pipeline against Node-RED's core nodes and plain client loops.
//   npm run bench:peers -- [--n 20000] [--concurrency 50] [--runs 3] [--warmup 2000]
//                          [--cpus 1] [--only core-json,ours-json-enc] [--profile] [--no-rest] [--rest-only]
// Build first (npm run build, or npm ci which builds). Not a test: it prints figures (and a JSON file).
//
// A sink runs in its own process on 127.0.0.1 (bench/peers/sink.js). Each row runs in a fresh process,
// one after the other (rows interleaved across runs), each with a warm-up and then a closed loop of N
// messages with a fixed number in flight (bench/peers/loop.js):
//   - Node-RED rows: a real Node-RED (node_modules/node-red/red.js, temporary user directory); the
//     bench-driver node (bench/peers/nodes) sends into the first node and gets completion from the last.
//   - plain rows: one process with a client loop, no Node-RED (bench/peers/plain.js).
// Figures per row: msg/s, p50/p99 latency, CPU µs per message of the client process (process.cpuUsage
// over the measured window), peak RSS (VmHWM), connections the sink saw, and the sink's check that every
// message arrived exactly once (sampled bodies are decrypted / checked). Medians of the runs.
// Then the package's cost at rest: Node-RED's start time and idle RSS with and without the package.

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const { startNodeRed, command, root } = require('./peers/nodered');
const { coreFlow, oursFlow } = require('./peers/flows');
const { memoryOf } = require('./peers/loop');
const profile = require('./peers/profile');

// ---------------------------------------------------------------- rows

const ROWS = [
  {
    id: 'core-json',
    kind: 'core',
    format: 'json',
    label: 'Node-RED core: change → json → http request (keep-alive, Content-Type set)',
  },
  { id: 'core-xml', kind: 'core', format: 'xml', label: 'Node-RED core: change → xml → http request' },
  {
    id: 'ours-json-enc',
    kind: 'ours',
    format: 'json',
    encrypt: true,
    durable: false,
    label: 'ours: field mapper → json → encrypt (AES-256-GCM) → http post → response check',
  },
  { id: 'ours-json', kind: 'ours', format: 'json', encrypt: false, durable: false, label: 'ours without encrypt' },
  { id: 'ours-xml', kind: 'ours', format: 'xml', encrypt: false, durable: false, label: 'ours, xml' },
  { id: 'ours-csv', kind: 'ours', format: 'csv', encrypt: false, durable: false, label: 'ours, csv' },
  {
    id: 'ours-json-enc-durable',
    kind: 'ours',
    format: 'json',
    encrypt: true,
    durable: true,
    label: 'ours json + encrypt, durable',
  },
  { id: 'ours-json-durable', kind: 'ours', format: 'json', encrypt: false, durable: true, label: 'ours json, durable' },
  { id: 'ours-xml-durable', kind: 'ours', format: 'xml', encrypt: false, durable: true, label: 'ours xml, durable' },
  { id: 'ours-csv-durable', kind: 'ours', format: 'csv', encrypt: false, durable: true, label: 'ours csv, durable' },
  {
    id: 'ours-json-durable-first',
    kind: 'ours',
    format: 'json',
    encrypt: false,
    durable: true,
    writeBehind: 0,
    label: 'ours json, durable, every message written before it is sent (Write to disk 0)',
  },
  { id: 'axios', kind: 'plain', client: 'axios', label: 'plain axios loop, no Node-RED' },
  { id: 'undici', kind: 'plain', client: 'undici', label: 'plain undici Pool loop, no Node-RED' },
  {
    id: 'node-http',
    kind: 'plain',
    client: 'node-http',
    label: 'plain node:http loop (keep-alive agent), no Node-RED',
  },
];

/**
 * The order the rows run in within a round: each row right after the one its goal compares it with
 * (ours json + encrypt after core-json, ours xml after core-xml, each durable row after its in-memory
 * row), so that a drift in the machine's speed between rows falls on both sides of a comparison alike.
 * The table keeps the order of ROWS.
 */
const RUN_ORDER = [
  'core-json',
  'ours-json-enc',
  'ours-json-enc-durable',
  'core-xml',
  'ours-xml',
  'ours-xml-durable',
  'ours-json',
  'ours-json-durable',
  'ours-json-durable-first',
  'ours-csv',
  'ours-csv-durable',
  'axios',
  'undici',
  'node-http',
];

/** the rows in the order they run (any row missing from RUN_ORDER last, as listed) */
function runOrder(rows) {
  const at = (r) => (RUN_ORDER.includes(r.id) ? RUN_ORDER.indexOf(r.id) : RUN_ORDER.length);
  return [...rows].sort((a, b) => at(a) - at(b));
}

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = {
    n: 20000,
    concurrency: 50,
    runs: 3,
    warmup: undefined,
    cpus: 0,
    only: null,
    profile: false,
    rest: true,
    restOnly: false,
    restRuns: 3,
    stallSeconds: 60,
    out: null,
  };
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} expects a whole number ≥ ${min}, got ${v}`);
    return n;
  };
  for (let k = 0; k < argv.length; k++) {
    const [flag, inline] = argv[k].split('=', 2);
    const value = () => (inline !== undefined ? inline : argv[++k]);
    switch (flag) {
      case '--n':
        o.n = num('n', value(), 1);
        break;
      case '--concurrency':
        o.concurrency = num('concurrency', value(), 1);
        break;
      case '--runs':
        o.runs = num('runs', value(), 1);
        break;
      case '--warmup':
        o.warmup = num('warmup', value(), 0);
        break;
      case '--cpus':
        o.cpus = num('cpus', value(), 1);
        break;
      case '--only':
        o.only = String(value())
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--no-rest':
        o.rest = false;
        break;
      case '--rest-only':
        o.restOnly = true;
        break;
      case '--rest-runs':
        o.restRuns = num('rest-runs', value(), 1);
        break;
      case '--stall':
        o.stallSeconds = num('stall', value(), 1);
        break;
      case '--report':
        o.report = String(value());
        break;
      case '--rest-from':
        o.restFrom = String(value());
        break;
      case '--out':
        o.out = String(value());
        break;
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown option ${argv[k]} (see --help)`);
    }
  }
  if (o.warmup === undefined) o.warmup = Math.min(2000, Math.max(200, Math.round(o.n / 10)));
  return o;
}

const HELP = `npm run bench:peers -- [options]
  --n <count>            messages measured per run (default 20000)
  --concurrency <k>      messages in flight (default 50)
  --runs <r>             runs per row, figures are medians (default 3)
  --warmup <count>       messages before the measured window (default n/10, 200…2000)
  --cpus <c>             pin each client process to CPUs 0…c-1 (taskset); the sink gets the others
  --only <ids>           comma-separated rows (or prefixes: ours, core, durable…): ${ROWS.map((r) => r.id).join(', ')}
  --profile              profile the measured window (V8 sampling profiler), save .cpuprofile files
                         under bench/results/profiles/ and print the top self-time functions
                         (figures of profiled runs are inflated by the profiler)
  --no-rest              skip the package's cost at rest;  --rest-only: only that
  --rest-runs <r>        start-ups per variant for the cost at rest (default 3)
  --stall <s>            give up on a run after s seconds without a completion (default 60)
  --out <file>           JSON results file (default bench/results/peers-<time>.json)
  --report <file>        print the tables and goals again from a results file (a partial one too:
                         medians of the runs done); --rest-from <file> takes the cost at rest from another`;

// ---------------------------------------------------------------- helpers

const MB = 1024 * 1024;
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (n, d = 0) =>
  Number.isFinite(n) ? Number(n).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the first IPC message of one of `types` from child; rejects on exit or timeout. */
function nextMessage(child, types, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m && types.includes(m.type)) {
        cleanup();
        resolve(m);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${what}: the process exited (${signal || code}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer in ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function cpuLists(cpus) {
  const total = os.cpus().length;
  if (!cpus) return { client: null, sink: null };
  const which = spawnSync('taskset', ['-V'], { encoding: 'utf8' });
  if (which.error) throw new Error('--cpus needs taskset (util-linux), which was not found: ' + which.error.message);
  if (cpus > total) throw new Error(`--cpus ${cpus}: this machine has ${total} CPUs`);
  const client = cpus === 1 ? '0' : `0-${cpus - 1}`;
  const sink = cpus < total ? (cpus === total - 1 ? String(cpus) : `${cpus}-${total - 1}`) : null;
  return { client, sink };
}

/** A row id picks that row; any other word picks every row whose id has it as a part (ours, core, durable, xml …). */
function matches(row, o) {
  return ROWS.some((r) => r.id === o) ? row.id === o : row.id.split('-').includes(o) || row.id.startsWith(o + '-');
}

function selectRows(only) {
  if (!only) return ROWS;
  const picked = ROWS.filter((r) => only.some((o) => matches(r, o)));
  const unknown = only.filter((o) => !ROWS.some((r) => matches(r, o)));
  if (unknown.length)
    throw new Error(`--only: no row matches ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.id).join(', ')}`);
  return picked;
}

function nodeRedVersion() {
  try {
    return require(require.resolve('node-red/package.json', { paths: [root] })).version;
  } catch {
    return 'unknown';
  }
}

function machine() {
  let model = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) model = m[1].trim();
  } catch {
    model = (os.cpus()[0] || {}).model || 'unknown';
  }
  return {
    nproc: os.cpus().length,
    cpu: model,
    node: process.version,
    nodeRed: nodeRedVersion(),
    os: `${os.type()} ${os.release()}`,
    memTotalMB: Math.round(os.totalmem() / MB),
  };
}

/** The transport the built package uses, read from its dependencies (it changes over time). */
function transport() {
  const deps = require(path.join(root, 'package.json')).dependencies || {};
  return ['undici', 'axios'].filter((d) => deps[d]).join(' + ') || 'node:http';
}

// ---------------------------------------------------------------- sink

async function startSink(key, cpus) {
  const cmd = command([path.join(__dirname, 'peers', 'sink.js')], cpus);
  const child = spawn(cmd.file, cmd.args, {
    env: { ...process.env, BENCH_KEY: key },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await nextMessage(child, ['listening'], 15000, 'sink');
  const ask = async (cmdName, type) => {
    const p = nextMessage(child, [type], 15000, 'sink');
    child.send({ cmd: cmdName });
    return p;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    reset: () => ask('reset', 'reset'),
    report: () => ask('report', 'report'),
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------- one run of one row

/** the row's process now running (stopped on Ctrl-C) */
let current = null;

function warningsIn(output) {
  const lines = String(output).split('\n');
  const leak = lines.filter((l) => /MaxListenersExceededWarning/.test(l)).length;
  // the settings the bench chooses on purpose are not worth reporting
  const expected = /MaxListenersExceededWarning|Projects disabled|unencrypted credentials|Using unencrypted/;
  const other = lines.filter((l) => /\[(warn|error)\]|Warning:/.test(l) && !expected.test(l));
  return {
    maxListeners: leak,
    other: [...new Set(other.map((l) => l.replace(/^\d+ \w+ \d+:\d+:\d+ - /, '').trim()))].slice(0, 5),
  };
}

async function runOnce(row, ctx, runIndex) {
  const msgOpts = {
    type: 'run',
    n: ctx.opts.n,
    warmup: ctx.opts.warmup,
    concurrency: ctx.opts.concurrency,
    stallMs: ctx.opts.stallSeconds * 1000,
    url: ctx.sink.url,
  };
  if (ctx.opts.profile) msgOpts.profileFile = path.join(ctx.profileDir, `${row.id}-run${runIndex + 1}.cpuprofile`);
  await ctx.sink.reset();
  let proc;
  let output = () => '';
  let startMs;
  if (row.kind === 'plain') {
    const cmd = command([path.join(__dirname, 'peers', 'plain.js'), row.client], ctx.cpus.client);
    const child = spawn(cmd.file, cmd.args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    output = () => out;
    const exited = new Promise((r) => child.once('exit', r));
    proc = current = {
      child,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await exited;
        }
      },
    };
    await nextMessage(child, ['driver-ready'], 15000, row.id);
  } else {
    const flow =
      row.kind === 'core'
        ? coreFlow({ format: row.format, url: ctx.sink.url })
        : oursFlow({
            format: row.format,
            encrypt: row.encrypt,
            durable: row.durable,
            writeBehind: row.writeBehind,
            url: ctx.sink.url,
            key: ctx.key,
            concurrency: ctx.opts.concurrency,
          });
    const nodesDir = [path.join(__dirname, 'peers', 'nodes')];
    if (row.kind === 'ours') nodesDir.unshift(root);
    const nr = await startNodeRed({ flow, nodesDir, cpus: ctx.cpus.client });
    proc = nr;
    current = nr;
    startMs = nr.startMs;
    output = () => nr.output;
    if (!nr.child.connected) throw new Error('no IPC channel to Node-RED');
  }
  try {
    const reply = nextMessage(
      proc.child,
      ['result', 'error', 'skip'],
      (ctx.opts.stallSeconds * 2 + 600) * 1000,
      row.id,
    );
    proc.child.send(msgOpts);
    const r = await reply;
    if (r.type === 'skip') return { skipped: r.reason };
    if (r.type === 'error') throw new Error(r.error);
    await sleep(200); // answers the sink is still writing
    const sink = await ctx.sink.report();
    const expected = ctx.opts.warmup + ctx.opts.n;
    const m = r.measured;
    const problems = [];
    if (r.warmup.stalled) problems.push(`warm-up stalled after ${r.warmup.completed}/${r.warmup.count}`);
    if (m && m.stalled) problems.push(`stalled after ${m.completed}/${m.count}`);
    const failed = r.warmup.failed + (m ? m.failed : 0);
    if (failed) problems.push(`${failed} failed`);
    if (r.warmup.launchErrors || (m && m.launchErrors))
      problems.push(`send errors: ${(m && m.firstError) || r.warmup.firstError}`);
    if (sink.unique !== expected) problems.push(`sink got ${sink.unique} of ${expected} ids`);
    if (sink.duplicates) problems.push(`${sink.duplicates} duplicates`);
    if (sink.noId) problems.push(`${sink.noId} without id`);
    if (sink.verified !== sink.sampled) problems.push(`sample check failed: ${sink.verifyFailures.join('; ')}`);
    if (row.encrypt && sink.decrypted === 0) problems.push('no encrypted body decrypted');
    const warnings = warningsIn(output());
    return {
      ok: problems.length === 0,
      problems,
      msgPerSec: m ? m.msgPerSec : NaN,
      p50Ms: m ? m.p50Ms : NaN,
      p99Ms: m ? m.p99Ms : NaN,
      cpuUsPerMsg: m ? m.cpuUsPerMsg : NaN,
      diskBytesPerMsg: m ? m.diskBytesPerMsg : NaN,
      peakRssMB: r.memory.peak / MB,
      rssEndMB: r.memory.rss / MB,
      startMs,
      connections: sink.connections,
      sink: {
        unique: sink.unique,
        expected,
        duplicates: sink.duplicates,
        sampled: sink.sampled,
        verified: sink.verified,
        decrypted: sink.decrypted,
        bodyBytesAvg: sink.bodyBytesAvg,
      },
      warnings,
      profileFile: msgOpts.profileFile,
      measured: m,
    };
  } finally {
    await proc.stop();
  }
}

// ---------------------------------------------------------------- cost at rest

/** Whether Node-RED's admin API lists this package's nodes as loaded. */
async function packageLoaded(base) {
  const name = require(path.join(root, 'package.json')).name;
  const res = await fetch(base + '/nodes', {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(10000),
  });
  const sets = await res.json();
  return sets.some((s) => s.module === name && s.enabled !== false && s.loaded !== false);
}

async function restCost(opts, cpus) {
  const samples = { without: [], with: [] };
  for (let k = 0; k < opts.restRuns; k++) {
    for (const variant of ['without', 'with']) {
      const nr = await startNodeRed({ flow: [], nodesDir: variant === 'with' ? [root] : [], cpus: cpus.client });
      try {
        await sleep(3000); // idle: start-up garbage settles
        const mem = memoryOf(nr.child.pid);
        const loaded = await packageLoaded(nr.base);
        if (loaded !== (variant === 'with'))
          throw new Error(`cost at rest: the package is ${loaded ? '' : 'not '}loaded in the run ${variant} it`);
        samples[variant].push({
          startMs: nr.startMs,
          startCpuMs: nr.startCpuMs,
          rssMB: mem.rss / MB,
          peakMB: mem.peak / MB,
        });
      } finally {
        await nr.stop();
      }
    }
  }
  const summary = (list) => ({
    startMs: median(list.map((s) => s.startMs)),
    startCpuMs: median(list.map((s) => s.startCpuMs)),
    rssMB: median(list.map((s) => s.rssMB)),
    peakMB: median(list.map((s) => s.peakMB)),
  });
  const without = summary(samples.without);
  const withPkg = summary(samples.with);
  return {
    runs: opts.restRuns,
    without,
    with: withPkg,
    deltaStartMs: withPkg.startMs - without.startMs,
    deltaStartCpuMs: withPkg.startCpuMs - without.startCpuMs,
    deltaRssMB: withPkg.rssMB - without.rssMB,
    samples,
  };
}

// ---------------------------------------------------------------- report

function aggregate(row, runs) {
  const done = runs.filter((r) => !r.skipped && !r.crashed);
  if (!done.length)
    return {
      id: row.id,
      label: row.label,
      skipped: (runs.find((r) => r.skipped) || {}).skipped,
      crashed: (runs.find((r) => r.crashed) || {}).crashed,
    };
  const med = (k) => median(done.map((r) => r[k]));
  return {
    id: row.id,
    label: row.label,
    runs: done.length,
    ok: done.every((r) => r.ok) && done.length === runs.length,
    problems: [...new Set(done.flatMap((r) => r.problems).concat(runs.filter((r) => r.crashed).map((r) => r.crashed)))],
    msgPerSec: med('msgPerSec'),
    p50Ms: med('p50Ms'),
    p99Ms: med('p99Ms'),
    cpuUsPerMsg: med('cpuUsPerMsg'),
    diskBytesPerMsg: med('diskBytesPerMsg'),
    peakRssMB: med('peakRssMB'),
    connections: med('connections'),
    startMs: med('startMs'),
    bodyBytesAvg: median(done.map((r) => r.sink.bodyBytesAvg)),
    maxListenersWarnings: Math.max(...done.map((r) => r.warnings.maxListeners)),
    otherWarnings: [...new Set(done.flatMap((r) => r.warnings.other))].slice(0, 5),
    perRun: done.map((r) => ({
      msgPerSec: r.msgPerSec,
      cpuUsPerMsg: r.cpuUsPerMsg,
      diskBytesPerMsg: r.diskBytesPerMsg,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      peakRssMB: r.peakRssMB,
      connections: r.connections,
      ok: r.ok,
    })),
  };
}

function table(results) {
  const base = results.find((r) => r.id === 'core-json' && !r.skipped && !r.crashed);
  const lines = [];
  lines.push(
    '| pipeline | msg/s | × core-json | p50 ms | p99 ms | client CPU µs/msg | CPU × core-json | peak RSS MB | disk bytes/msg | conns | delivered once |',
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    if (r.skipped || r.crashed) {
      lines.push(
        `| ${r.label} | ${r.skipped ? 'skipped: ' + r.skipped : 'failed: ' + String(r.crashed).split('\n')[0]} | | | | | | | | | |`,
      );
      continue;
    }
    const x = base ? fmt(r.msgPerSec / base.msgPerSec, 2) : '–';
    const c = base ? fmt(r.cpuUsPerMsg / base.cpuUsPerMsg, 2) : '–';
    const check = r.ok ? 'yes' : 'NO: ' + r.problems.join('; ');
    lines.push(
      `| ${r.label} | ${fmt(r.msgPerSec)} | ${x} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.cpuUsPerMsg)} | ${c} | ${fmt(r.peakRssMB)} | ${fmt(r.diskBytesPerMsg)} | ${fmt(r.connections)} | ${check} |`,
    );
  }
  return lines.join('\n');
}

function goals(results, rest) {
  const get = (id) => results.find((r) => r.id === id && !r.skipped && !r.crashed);
  const out = [];
  const check = (name, ok, detail) => out.push({ goal: name, met: ok, detail });
  const cj = get('core-json');
  const oe = get('ours-json-enc');
  if (cj && oe) {
    check(
      'ours json + encrypt ≥ 2.0× core-json msg/s',
      oe.msgPerSec >= 2 * cj.msgPerSec,
      `${fmt(oe.msgPerSec / cj.msgPerSec, 2)}×`,
    );
    check(
      'ours json + encrypt CPU/msg ≤ 0.5× core-json',
      oe.cpuUsPerMsg <= 0.5 * cj.cpuUsPerMsg,
      `${fmt(oe.cpuUsPerMsg / cj.cpuUsPerMsg, 2)}×`,
    );
    check(
      'ours json + encrypt peak RSS ≤ core-json',
      oe.peakRssMB <= cj.peakRssMB,
      `${fmt(oe.peakRssMB)} MB vs ${fmt(cj.peakRssMB)} MB`,
    );
  }
  const cx = get('core-xml');
  const ox = get('ours-xml');
  if (cx && ox)
    check('ours xml ≥ 2× core-xml msg/s', ox.msgPerSec >= 2 * cx.msgPerSec, `${fmt(ox.msgPerSec / cx.msgPerSec, 2)}×`);
  for (const id of ['ours-json-enc', 'ours-json', 'ours-xml', 'ours-csv']) {
    const mem = get(id);
    const dur = get(id + '-durable');
    if (mem && dur)
      check(
        `${id}: durable ≥ 0.8× in-memory msg/s`,
        dur.msgPerSec >= 0.8 * mem.msgPerSec,
        `${fmt(dur.msgPerSec / mem.msgPerSec, 2)}×`,
      );
  }
  const first = get('ours-json-durable-first');
  const mj = get('ours-json');
  if (first && mj)
    out.push({
      goal: 'for reference, no goal: ours json, every message written before it is sent (Write to disk 0), against in-memory',
      met: null,
      detail: `${fmt(first.msgPerSec / mj.msgPerSec, 2)}× msg/s, ${fmt(first.diskBytesPerMsg)} disk bytes per message`,
    });
  if (rest) {
    check(
      'start time with the package ≤ +300 ms',
      rest.deltaStartMs <= 300,
      `${rest.deltaStartMs >= 0 ? '+' : ''}${fmt(rest.deltaStartMs)} ms (CPU ${rest.deltaStartCpuMs >= 0 ? '+' : ''}${fmt(rest.deltaStartCpuMs)} ms)`,
    );
    check(
      'idle RSS with the package ≤ +15 MB',
      rest.deltaRssMB <= 15,
      `${rest.deltaRssMB >= 0 ? '+' : ''}${fmt(rest.deltaRssMB, 1)} MB`,
    );
  }
  return out;
}

function printTables(results, rest, opts, runsLabel) {
  if (results.length) {
    console.log(
      `\n${runsLabel || opts.runs + ' run(s) per row'}, medians; N=${opts.n}, ${opts.concurrency} in flight, each record ≈ 299 bytes as JSON; bodies: ${results
        .filter((r) => r.bodyBytesAvg)
        .map((r) => `${r.id} ${fmt(r.bodyBytesAvg)}`)
        .join(', ')} bytes\n`,
    );
    console.log(table(results));
    const leaky = results.filter((r) => r.maxListenersWarnings);
    for (const r of leaky)
      console.log(`\n${r.id}: Node-RED logged MaxListenersExceededWarning (${r.maxListenersWarnings}× in a run)`);
    for (const r of results.filter((x) => x.otherWarnings && x.otherWarnings.length))
      console.log(`${r.id}: log: ${r.otherWarnings.join(' | ')}`);
  }
  if (rest) {
    const sign = (x, d = 0) => `${x >= 0 ? '+' : ''}${fmt(x, d)}`;
    console.log(`\nNode-RED at rest, empty flow, medians of ${rest.runs} start-ups each:\n`);
    console.log('| Node-RED at rest (empty flow) | start → HTTP answers, ms | CPU used by then, ms | idle RSS MB |');
    console.log('|---|---:|---:|---:|');
    console.log(
      `| without the package | ${fmt(rest.without.startMs)} | ${fmt(rest.without.startCpuMs)} | ${fmt(rest.without.rssMB, 1)} |`,
    );
    console.log(
      `| with the package | ${fmt(rest.with.startMs)} | ${fmt(rest.with.startCpuMs)} | ${fmt(rest.with.rssMB, 1)} |`,
    );
    console.log(
      `| difference | ${sign(rest.deltaStartMs)} | ${sign(rest.deltaStartCpuMs)} | ${sign(rest.deltaRssMB, 1)} |`,
    );
  }
}

/** --report: the tables and goals again from a results file (also a partial one: medians of the runs done). */
function reportFrom(opts) {
  const data = JSON.parse(fs.readFileSync(opts.report, 'utf8'));
  const rows = ROWS.filter((r) => data.runs && data.runs[r.id] && data.runs[r.id].length);
  const results = rows.map((row) => aggregate(row, data.runs[row.id]));
  const rest = opts.restFrom ? JSON.parse(fs.readFileSync(opts.restFrom, 'utf8')).rest : data.rest || null;
  const m = data.machine || {};
  const o = data.options || {};
  console.log(
    `${data.partial ? 'PARTIAL results' : 'results'} of ${data.when} (${path.relative(process.cwd(), opts.report)})`,
  );
  console.log(
    `machine: ${m.nproc} CPUs (${m.cpu}), ${m.memTotalMB} MB, ${m.os}; Node ${m.node}, Node-RED ${m.nodeRed}; package transport: ${data.transport}`,
  );
  const counts = [...new Set(rows.map((r) => data.runs[r.id].length))].sort();
  console.log(
    `N=${o.n} measured + ${o.warmup} warm-up per run, ${o.concurrency} in flight, ${o.runs} run(s) asked, ${counts.join(' or ')} done per row`,
  );
  printTables(results, rest, o, `${counts.join(' or ')} run(s) per row`);
  const g = goals(results, rest);
  if (g.length) {
    console.log('\ngoals:');
    for (const x of g)
      console.log(`  ${x.met === null ? 'info   ' : x.met ? 'met    ' : 'NOT met'}  ${x.goal}: ${x.detail}`);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    console.log(HELP);
    return;
  }
  if (opts.report) {
    reportFrom(opts);
    return;
  }
  if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'http-post.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exitCode = 2;
    return;
  }
  let rows;
  let cpus;
  try {
    rows = opts.restOnly ? [] : selectRows(opts.only);
    cpus = cpuLists(opts.cpus);
  } catch (err) {
    console.error(err.message);
    process.exitCode = 2;
    return;
  }
  const resultsDir = path.join(__dirname, 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profileDir = path.join(resultsDir, 'profiles', stamp);
  if (opts.profile) fs.mkdirSync(profileDir, { recursive: true });
  const env = machine();
  console.log(
    `machine: ${env.nproc} CPUs (${env.cpu}), ${env.memTotalMB} MB, ${env.os}; Node ${env.node}, Node-RED ${env.nodeRed}; package transport: ${transport()}`,
  );
  console.log(
    `N=${opts.n} measured + ${opts.warmup} warm-up per run, ${opts.concurrency} in flight, ${opts.runs} run(s) per row (medians)` +
      (cpus.client ? `, client pinned to CPU ${cpus.client}${cpus.sink ? `, sink to CPU ${cpus.sink}` : ''}` : '') +
      (opts.profile ? ', PROFILING (figures inflated)' : ''),
  );

  const key = crypto.randomBytes(32).toString('hex');
  const outFile = opts.out ? path.resolve(opts.out) : path.join(resultsDir, `peers-${stamp}.json`);
  const perRow = new Map(rows.map((r) => [r.id, []]));
  let sink;
  const cleanup = async () => {
    if (current) await current.stop().catch(() => {});
    if (sink) await sink.stop();
  };
  process.once('SIGINT', () => cleanup().then(() => process.exit(130)));
  try {
    if (rows.length) sink = await startSink(key, cpus.sink);
    const ctx = { opts, sink, key, cpus, profileDir };
    for (let run = 0; run < opts.runs && rows.length; run++) {
      for (const row of runOrder(rows)) {
        if (perRow.get(row.id).some((r) => r.skipped)) continue;
        process.stdout.write(`run ${run + 1}/${opts.runs} ${row.id.padEnd(22)} `);
        let r;
        try {
          r = await runOnce(row, ctx, run);
        } catch (err) {
          r = { crashed: String((err && err.message) || err) };
        }
        perRow.get(row.id).push(r);
        // what is done so far, in case a long run is stopped
        fs.writeFileSync(
          outFile,
          JSON.stringify(
            {
              partial: true,
              when: new Date().toISOString(),
              machine: env,
              transport: transport(),
              options: opts,
              runs: Object.fromEntries(perRow),
            },
            null,
            2,
          ),
        );
        if (r.skipped) console.log(`skipped: ${r.skipped}`);
        else if (r.crashed) console.log(`FAILED: ${r.crashed.slice(0, 2000)}`);
        else
          console.log(
            `${fmt(r.msgPerSec).padStart(7)} msg/s  p50 ${fmt(r.p50Ms, 1)} ms  p99 ${fmt(r.p99Ms, 1)} ms  ${fmt(r.cpuUsPerMsg)} µs/msg  peak ${fmt(r.peakRssMB)} MB  ${fmt(r.diskBytesPerMsg)} disk B/msg  ${r.connections} conns` +
              (r.warnings.maxListeners ? `  ${r.warnings.maxListeners}× MaxListenersExceededWarning` : '') +
              (r.ok ? '' : `  PROBLEM: ${r.problems.join('; ')}`),
          );
      }
    }
  } finally {
    await cleanup();
  }

  const results = rows.map((row) => aggregate(row, perRow.get(row.id)));
  let rest = null;
  if (opts.rest || opts.restOnly) {
    console.log(
      `\ncost at rest: ${opts.restRuns} start-ups each of Node-RED with an empty flow, without and with the package …`,
    );
    rest = await restCost(opts, cpus);
  }

  printTables(results, rest, opts);
  const g = goals(results, rest);
  if (g.length) {
    console.log('\ngoals:');
    for (const x of g)
      console.log(`  ${x.met === null ? 'info   ' : x.met ? 'met    ' : 'NOT met'}  ${x.goal}: ${x.detail}`);
  }
  if (opts.profile) {
    console.log('\nprofiles (measured window only, first run of each row):');
    for (const row of rows) {
      const first = perRow.get(row.id).find((r) => r.profileFile && fs.existsSync(r.profileFile));
      if (!first) continue;
      console.log(`\n${row.id}: ${path.relative(process.cwd(), first.profileFile)}`);
      console.log(profile.format(profile.summarise(first.profileFile, 25)));
    }
  }

  fs.writeFileSync(
    outFile,
    JSON.stringify(
      {
        when: new Date().toISOString(),
        machine: env,
        transport: transport(),
        options: opts,
        results,
        rest,
        goals: g,
        runs: Object.fromEntries(perRow),
      },
      null,
      2,
    ),
  );
  console.log(`\nJSON: ${path.relative(process.cwd(), outFile)}`);
  if (results.some((r) => r.crashed || r.ok === false)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exitCode = 1;
});
