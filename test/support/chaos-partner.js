'use strict';
/**
 * A third party that misbehaves on purpose, on 127.0.0.1, for the
 * fault-injection test and the delivery benchmark. Every request is recorded:
 * when it came, its idempotency key, the event id found in the JSON body (at
 * `eventIdPath`, default "event_id") and what the partner did with it.
 *
 * Answers (kinds), drawn per request from `mix` (weights, any scale):
 *   ok       200 {"status":"success"}
 *   error    500 {"error":…}
 *   busy     429 with Retry-After: <retryAfter> (at most one every `busyGapMs`,
 *            another draw becomes "ok": a 429 pauses the whole endpoint)
 *   slow     answers 200 only after `slowMs` (meant to be past the client's
 *            timeout); counted as delivered only if the connection was still
 *            open when the answer was written
 *   reset    reads the whole request, then destroys the socket (ECONNRESET)
 * A body that is not JSON, or has no event id, gets 400 (kind "bad").
 *
 *   const p = await startChaosPartner({ mix: { ok: 70, error: 10, busy: 2, slow: 5, reset: 10 }, seed: 42 });
 *   p.url            base URL
 *   p.requests       [{at, key, eventId, kind, status}] in arrival order
 *   p.delivered      Map eventId → number of 200 answers written to an open connection
 *   p.counts()       {total, ok, error, busy, slow, slowAnswered, reset, bad}
 *   p.setMix(mix)    changes the mix (e.g. {ok: 1} to stop misbehaving)
 *   await p.close()
 */
const http = require('http');

/** Small seeded PRNG (mulberry32): the same seed gives the same sequence of answers. */
function prng(seed) {
  let a = seed >>> 0;
  return function random() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(obj, path) {
  let v = obj;
  for (const part of String(path).split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = v[part];
  }
  return v;
}

const KINDS = ['ok', 'error', 'busy', 'slow', 'reset'];

/**
 * @param {object} [opts]
 * @param {object} [opts.mix]          weights per kind (default all "ok")
 * @param {number} [opts.seed]         PRNG seed (default random)
 * @param {number} [opts.slowMs]       delay of a slow answer (default 1200)
 * @param {number} [opts.retryAfter]   seconds in a 429's Retry-After (default 1)
 * @param {number} [opts.busyGapMs]    least time between two 429s (default 1500)
 * @param {string} [opts.eventIdPath]  where the event id is in the body (default "event_id")
 * @param {string} [opts.keyHeader]    idempotency header (default "idempotency-key")
 * @param {number} [opts.port]         port to listen on (default any free one)
 * @param {boolean}[opts.record]       keep every request in `requests` (default true; the
 *                                     benchmark turns it off and reads `arrivals`)
 */
function startChaosPartner(opts = {}) {
  const random = prng(opts.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : opts.seed);
  const slowMs = opts.slowMs ?? 1200;
  const retryAfter = opts.retryAfter ?? 1;
  const busyGapMs = opts.busyGapMs ?? 1500;
  const eventIdPath = opts.eventIdPath || 'event_id';
  const keyHeader = (opts.keyHeader || 'idempotency-key').toLowerCase();
  const record = opts.record !== false;
  let mix = { ok: 1 };
  let lastBusy = 0;

  const requests = [];
  const delivered = new Map();
  const tally = { total: 0, ok: 0, error: 0, busy: 0, slow: 0, slowAnswered: 0, reset: 0, bad: 0 };
  /** arrival times (ms, from performance.now) of every request, for rates */
  const arrivals = [];

  function setMix(m) {
    const clean = {};
    for (const k of KINDS) if (m && Number(m[k]) > 0) clean[k] = Number(m[k]);
    if (Object.keys(clean).length === 0) clean.ok = 1;
    mix = clean;
  }
  setMix(opts.mix);

  function draw() {
    const total = Object.values(mix).reduce((a, b) => a + b, 0);
    let r = random() * total;
    for (const [kind, w] of Object.entries(mix)) {
      if (r < w) return kind;
      r -= w;
    }
    return 'ok';
  }

  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      arrivals.push(performance.now());
      tally.total++;
      const key = req.headers[keyHeader];
      let eventId;
      try {
        const v = pick(JSON.parse(Buffer.concat(chunks).toString('utf8')), eventIdPath);
        if (typeof v === 'string' || typeof v === 'number') eventId = String(v);
      } catch {
        eventId = undefined;
      }
      const entry = { at, key: typeof key === 'string' ? key : undefined, eventId, kind: 'bad', status: 400 };
      if (record) requests.push(entry);
      const answer = (status, body, headers = {}) => {
        if (res.destroyed || res.writableEnded || req.socket.destroyed) return false;
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
        return true;
      };
      const accepted = () => delivered.set(eventId, (delivered.get(eventId) || 0) + 1);

      if (eventId === undefined) {
        tally.bad++;
        answer(400, { error: { message: `no ${eventIdPath} in the body` } });
        return;
      }
      let kind = draw();
      if (kind === 'busy') {
        if (at - lastBusy < busyGapMs) kind = 'ok';
        else lastBusy = at;
      }
      entry.kind = kind;
      tally[kind]++;
      switch (kind) {
        case 'error':
          entry.status = 500;
          answer(500, { error: { message: 'internal error (injected)' } });
          break;
        case 'busy':
          entry.status = 429;
          answer(429, { error: { message: 'slow down (injected)' } }, { 'retry-after': String(retryAfter) });
          break;
        case 'reset':
          entry.status = null;
          req.socket.destroy();
          break;
        case 'slow':
          entry.status = null;
          setTimeout(() => {
            if (answer(200, { status: 'success', late: true })) {
              entry.status = 200;
              tally.slowAnswered++;
              accepted();
            }
          }, slowMs).unref();
          break;
        default:
          entry.status = 200;
          answer(200, { status: 'success' });
          accepted();
      }
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port || 0, '127.0.0.1', () => {
      const port = server.address().port;
      resolve({
        server,
        port,
        url: `http://127.0.0.1:${port}`,
        requests,
        delivered,
        arrivals,
        setMix,
        counts: () => ({ ...tally }),
        close() {
          return new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          });
        },
      });
    });
  });
}

module.exports = { startChaosPartner, prng };
