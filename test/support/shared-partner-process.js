'use strict';
/**
 * The shared-mode partner stand-in (shared-partner.js) in its own process, so
 * that the arrival times it records are not skewed by a busy test process
 * (posting clients, assertions). Started with fork; answers GET /__state with
 * everything it recorded.
 *
 *   const p = await startPartnerProcess({ mix, seed, slowMs, retryAfter, busyGapMs });
 *   p.url; const s = await p.state(); // {requests, delivered: {id: n}, byInstance: {name: n}, counts, maxOpen}
 *   await p.close();
 */
const { fork } = require('child_process');

if (require.main === module) {
  const { startSharedPartner } = require('./shared-partner');
  const opts = JSON.parse(process.argv[2] || '{}');
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
      const times = requests.map((r) => r.at).sort((a, b) => a - b);
      let most = 0;
      for (let i = 0, j = 0; i < times.length; i++) {
        while (times[i] - times[j] >= ms) j++;
        most = Math.max(most, i - j + 1);
      }
      return most;
    },
  };
}
