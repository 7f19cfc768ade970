'use strict';
/**
 * A partner stand-in on 127.0.0.1 for the shared-mode tests. It records
 * every request (arrival and end time, idempotency key, the event id of the
 * JSON body at `event_id`, the instance from the path /i/<instance>/…), how
 * many requests were open at once, and answers per request by a seeded draw:
 *
 *   ok     200
 *   error  500
 *   busy   429 with Retry-After: <retryAfter> (at most one per `busyGapMs`)
 *   slow   200 after `slowMs`
 * Event ids starting with "bad_" always get 400 (a permanent failure).
 *
 *   p.url, p.requests, p.delivered (Map id → 200s written), p.byInstance (Map → 200s),
 *   p.maxOpen, p.counts(), p.setMix(mix), await p.close()
 */
const http = require('http');
const { prng } = require('./chaos-partner');

async function startSharedPartner(opts = {}) {
  let mix = opts.mix || { ok: 1 };
  const random = prng(opts.seed || 1);
  const slowMs = opts.slowMs || 800;
  const retryAfter = opts.retryAfter || 1;
  const busyGapMs = opts.busyGapMs || 2000;
  const requests = [];
  const delivered = new Map();
  const byInstance = new Map();
  const counts = { total: 0, ok: 0, error: 0, busy: 0, slow: 0, bad: 0 };
  let open = 0;
  let maxOpen = 0;
  let lastBusy = 0;

  const draw = () => {
    const kinds = Object.keys(mix);
    const total = kinds.reduce((a, k) => a + mix[k], 0);
    let x = random() * total;
    for (const k of kinds) {
      x -= mix[k];
      if (x < 0) return k;
    }
    return 'ok';
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    open++;
    maxOpen = Math.max(maxOpen, open);
    let closed = false;
    res.on('close', () => {
      if (!closed) open--;
      closed = true;
    });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      let eventId;
      try {
        eventId = JSON.parse(Buffer.concat(chunks).toString('utf8')).event_id;
      } catch {
        eventId = undefined;
      }
      const m = /^\/i\/([^/]+)\//.exec(req.url || '');
      const instance = m ? m[1] : '';
      let kind = typeof eventId === 'string' && eventId.startsWith('bad_') ? 'bad' : draw();
      if (kind === 'busy') {
        if (at - lastBusy < busyGapMs) kind = 'ok';
        else lastBusy = at;
      }
      counts.total++;
      counts[kind] = (counts[kind] || 0) + 1;
      const rec = { at, key: req.headers['idempotency-key'], eventId, instance, kind, status: 0, end: 0 };
      requests.push(rec);
      const answer = (status, headers, body) => {
        rec.status = status;
        rec.end = Date.now();
        if (status === 200 && !res.destroyed && eventId !== undefined) {
          delivered.set(eventId, (delivered.get(eventId) || 0) + 1);
          byInstance.set(instance, (byInstance.get(instance) || 0) + 1);
        }
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (kind === 'bad') answer(400, {}, { error: 'bad event' });
      else if (kind === 'error') answer(500, {}, { error: 'boom' });
      else if (kind === 'busy') answer(429, { 'retry-after': String(retryAfter) }, { error: 'slow down' });
      else if (kind === 'slow') setTimeout(() => answer(200, {}, { status: 'success' }), slowMs);
      else answer(200, {}, { status: 'success' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    delivered,
    byInstance,
    get maxOpen() {
      return maxOpen;
    },
    counts: () => ({ ...counts }),
    setMix(m) {
      mix = m;
    },
    /** the most requests that arrived in any window of `ms` (sliding over arrivals) */
    maxInWindow(ms) {
      const times = requests.map((r) => r.at).sort((a, b) => a - b);
      let most = 0;
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        while (times[i] - times[j] >= ms) j++;
        most = Math.max(most, i - j + 1);
      }
      return most;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

module.exports = { startSharedPartner };
