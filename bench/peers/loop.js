'use strict';
/**
 * The closed loop every row of the peer benchmark runs: `concurrency` items
 * in flight, a new one started as soon as one completes, until `count` have
 * completed. The same code drives a Node-RED flow (bench-driver node) and the
 * plain client loops, so their figures compare.
 *
 * A phase measures wall time, CPU time of this process (process.cpuUsage:
 * every thread, user + system) and each item's latency (start → completion).
 * Optionally the phase runs under V8's sampling profiler (node:inspector,
 * the profiler behind --cpu-prof), so that the profile covers the measured
 * window only, not the start-up.
 */
const fs = require('fs');
const { performance } = require('perf_hooks');

class ClosedLoop {
  /**
   * @param {(i: number) => void} launch starts item i; its completion must
   *   come back through complete(i, ok) (synchronously or later)
   */
  constructor(launch) {
    this.launch = launch;
    this.phase = null;
  }

  /** An item finished; `ok` false counts a failure. Unknown or repeated items are counted, not fatal. */
  complete(i, ok) {
    const p = this.phase;
    if (!p || typeof i !== 'number' || i < p.first || i >= p.first + p.count || p.done[i - p.first]) {
      if (p) p.unexpected++;
      return;
    }
    const k = i - p.first;
    p.done[k] = 1;
    p.latency[k] = performance.now() - p.started[k];
    p.completed++;
    if (!ok) p.failed++;
    p.lastProgress = Date.now();
    if (p.next < p.first + p.count) this._start(p);
    else if (p.completed === p.count) this._finish();
  }

  _start(p) {
    const i = p.next++;
    p.started[i - p.first] = performance.now();
    try {
      this.launch(i);
    } catch (err) {
      p.launchErrors++;
      if (!p.firstError) p.firstError = String((err && err.stack) || err);
      // counted as completed and failed so that the loop goes on
      setImmediate(() => this.complete(i, false));
    }
  }

  /**
   * Runs items first … first+count-1 with `concurrency` in flight.
   * Resolves with the figures; stalls (no completion for stallMs) resolve
   * with `stalled: true` and what completed until then.
   */
  async run({ first, count, concurrency, stallMs = 60000, profileFile }) {
    if (this.phase) throw new Error('a phase is already running');
    const session = profileFile ? await startProfiler() : null;
    const p = {
      first,
      count,
      next: first,
      completed: 0,
      failed: 0,
      unexpected: 0,
      launchErrors: 0,
      firstError: null,
      done: new Uint8Array(count),
      started: new Float64Array(count),
      latency: new Float64Array(count),
      lastProgress: Date.now(),
    };
    this.phase = p;
    const result = new Promise((resolve) => {
      p.resolve = resolve;
    });
    const watchdog = setInterval(() => {
      if (Date.now() - p.lastProgress > stallMs) this._finish(true);
    }, 1000);
    p.cpu0 = process.cpuUsage();
    p.io0 = diskWrites();
    p.t0 = performance.now();
    const initial = Math.min(concurrency, count);
    for (let k = 0; k < initial; k++) this._start(p);
    if (count === 0) this._finish();
    const out = await result;
    clearInterval(watchdog);
    if (session) await stopProfiler(session, profileFile);
    return out;
  }

  _finish(stalled = false) {
    const p = this.phase;
    if (!p || p.finished) return;
    p.finished = true;
    const wallMs = performance.now() - p.t0;
    const cpu = process.cpuUsage(p.cpu0);
    const written = diskWrites() - p.io0;
    this.phase = null;
    const lat = [];
    for (let k = 0; k < p.count; k++) if (p.done[k]) lat.push(p.latency[k]);
    lat.sort((a, b) => a - b);
    const q = (f) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))] : NaN);
    p.resolve({
      count: p.count,
      completed: p.completed,
      failed: p.failed,
      unexpected: p.unexpected,
      launchErrors: p.launchErrors,
      firstError: p.firstError,
      stalled,
      wallMs,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      msgPerSec: (p.completed / wallMs) * 1000,
      cpuUsPerMsg: p.completed ? (cpu.user + cpu.system) / p.completed : NaN,
      diskBytesPerMsg: p.completed ? written / p.completed : NaN,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
    });
  }
}

/**
 * Bytes this process has caused to be written to storage (`write_bytes` of /proc/self/io, Linux;
 * NaN elsewhere): the journal's records, whatever else Node-RED writes.
 */
function diskWrites() {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc (Linux). */
function memoryOf(pid = process.pid) {
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { rss: process.memoryUsage().rss, peak: NaN };
  }
  const kb = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function post(session, method, params) {
  return new Promise((resolve, reject) =>
    session.post(method, params || {}, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

async function startProfiler() {
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 250 });
  await post(session, 'Profiler.start');
  return session;
}

async function stopProfiler(session, file) {
  const { profile } = await post(session, 'Profiler.stop');
  fs.writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
}

/**
 * Runs a warm-up phase, then the measured one, and reports to the parent
 * over IPC: {type: 'result', warmup, measured, memory}.
 */
async function warmupAndMeasure(loop, opts) {
  const warm = await loop.run({ first: 0, count: opts.warmup, concurrency: opts.concurrency, stallMs: opts.stallMs });
  if (warm.stalled) return { warmup: warm, measured: null, memory: memoryOf() };
  const measured = await loop.run({
    first: opts.warmup,
    count: opts.n,
    concurrency: opts.concurrency,
    stallMs: opts.stallMs,
    profileFile: opts.profileFile,
  });
  return { warmup: warm, measured, memory: memoryOf() };
}

module.exports = { ClosedLoop, memoryOf, warmupAndMeasure };
