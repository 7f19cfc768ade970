'use strict';
/**
 * The shared-mode partner stand-in (shared-partner.js) in its own process, so
 * that the arrival times it records are not skewed by a busy test process
 * (posting clients, assertions). Started with fork; answers GET /__state with
 * everything it recorded.
 *
 *   const p = await startPartnerProcess({ mix, seed, slowMs, retryAfter, busyGapMs });
 *   p.url; const s = await p.state(); // {requests, delivered: {id: n}, byInstance: {name: n}, counts, maxOpen,
 *                                     //  stalls: [{at, ms}] — times the partner itself did not run for > 50 ms}
 *   await p.close();
 */
const { fork } = require('child_process');

/**
 * The most arrivals in any window of `ms` in which the partner was running
 * throughout. While the partner process itself does not run (a busy
 * machine), arrivals wait in the kernel and are stamped together when it
 * resumes: such a window measures the partner's pause, not the senders. So a
 * window that overlaps one of the partner's pauses (`stalls`: {at: its end,
 * ms}) is left out and counted. Windows start at each arrival (the most in
 * any window is always reached at one of those). Returns
 * {count, judged, excluded, from}.
 */
function judgedWindows(requests, stalls, ms) {
  const times = requests.map((r) => r.at).sort((a, b) => a - b);
  const pauses = stalls.map((s) => [s.at - s.ms - 10, s.at + 5]).sort((a, b) => a[0] - b[0]);
  let best = { count: 0, judged: 0, excluded: 0, from: 0 };
  let k = 0;
  for (let j = 0, i = 0; j < times.length; j++) {
    const from = times[j];
    const to = from + ms;
    while (i < times.length && times[i] < to) i++;
    while (k < pauses.length && pauses[k][1] < from) k++;
    if (k < pauses.length && pauses[k][0] <= to) {
      best.excluded++;
      continue;
    }
    best.judged++;
    if (i - j > best.count) best = { ...best, count: i - j, from };
  }
  return best;
}

/** the window of `ms` with the most arrivals: {count, from, requests} */
function busiestWindow(requests, ms) {
  const sorted = [...requests].sort((a, b) => a.at - b.at);
  let best = { count: 0, from: 0, requests: [] };
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i].at - sorted[j].at >= ms) j++;
    if (i - j + 1 > best.count) best = { count: i - j + 1, from: sorted[j].at, requests: sorted.slice(j, i + 1) };
  }
  return best;
}

if (require.main === module) {
  const { startSharedPartner } = require('./shared-partner');
  const opts = JSON.parse(process.argv[2] || '{}');
  // the partner's own pauses (a busy machine): arrivals during one are stamped when it ends
  const stalls = [];
  let tick = Date.now();
  setInterval(() => {
    const now = Date.now();
    if (now - tick > 60 && stalls.length < 10000) stalls.push({ at: now, ms: now - tick - 10 });
    tick = now;
  }, 10);
  startSharedPartner(opts).then((p) => {
    const http = require('http');
    const control = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          requests: p.requests,
          delivered: Object.fromEntries(p.delivered),
          byInstance: Object.fromEntries(p.byInstance),
          counts: p.counts(),
          maxOpen: p.maxOpen,
          stalls,
        }),
      );
    });
    control.listen(0, '127.0.0.1', () =>
      process.send({ url: p.url, control: `http://127.0.0.1:${control.address().port}` }),
    );
  });
  process.on('disconnect', () => process.exit(0));
} else {
  module.exports = {
    async startPartnerProcess(opts = {}) {
      const child = fork(__filename, [JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const info = await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`the partner process exited (${code})`)));
      });
      return {
        url: info.url,
        async state() {
          const res = await fetch(`${info.control}/__state`, { signal: AbortSignal.timeout(30000) });
          return res.json();
        },
        close: () =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    },
    /** the most arrivals in any window of `ms` */
    maxInWindow(requests, ms) {
      return busiestWindow(requests, ms).count;
    },
    busiestWindow,
    judgedWindows,
  };
}
