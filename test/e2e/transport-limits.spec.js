'use strict';
/**
 * A partner's answer cannot exhaust Node-RED's memory: in a real Node-RED
 * process (default settings) with a debug node wired to both outputs, the
 * HTTP POST node gets a 500 MB answer (declared, and streamed without a
 * length), an endless fast answer and an endless slow one. Each ends on
 * output 2 (RESPONSE_TOO_LARGE, or TIMEOUT for the trickle), and the Node-RED
 * process's resident memory (VmRSS from /proc) stays bounded; the peak is
 * printed.
 */
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const { startNodeRed, debugPane } = require('../support/nodered');

const MB = 1024 * 1024;

function rssMB(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Answers per path; counts the bytes it managed to write for each. */
function startPartner() {
  const written = {};
  const timers = new Set();
  const server = http.createServer((req, res) => {
    req.resume();
    const route = req.url.replace(/^\//, '');
    written[route] = 0;
    const chunk = Buffer.alloc(256 * 1024, 'a');
    const pumpUntil = (limit) => {
      const pump = () => {
        while (written[route] < limit) {
          written[route] += chunk.length;
          if (!res.write(chunk)) return;
        }
        if (limit !== Infinity) res.end();
      };
      res.on('drain', pump);
      res.on('error', () => undefined);
      pump();
    };
    if (route === 'declared') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(500 * MB) });
      return pumpUntil(500 * MB);
    }
    if (route === 'chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return pumpUntil(500 * MB);
    }
    if (route === 'endless') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      return pumpUntil(Infinity);
    }
    if (route === 'trickle') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const t = setInterval(() => res.write('x'), 50);
      timers.add(t);
      res.on('close', () => {
        clearInterval(t);
        timers.delete(t);
      });
      return undefined;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"ok":true}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        written,
        close: () =>
          new Promise((r) => {
            for (const t of timers) clearInterval(t);
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

function flow(port) {
  const z = 'tab1';
  const routes = ['declared', 'chunked', 'endless', 'trickle', 'small'];
  return [
    { id: z, type: 'tab', label: 'limits' },
    {
      id: 'ep',
      type: 'saypro-endpoint',
      name: 'partner',
      baseUrl: `http://127.0.0.1:${port}`,
      method: 'POST',
      headers: [],
      timeout: 3000,
      keepAlive: true,
      authType: 'none',
      maxConcurrent: 4,
    },
    {
      id: 'hp1',
      z,
      type: 'saypro-http-post',
      name: 'deliver',
      endpoint: 'ep',
      method: '',
      path: '/{{payload.route}}',
      headers: [],
      msgHeaders: true,
      maxAttempts: 3,
      initialDelay: 50,
      maxDelay: 100,
      maxRetryAfter: 1,
      idempotencyHeader: 'Idempotency-Key',
      successStatuses: '',
      sign: false,
      durable: false,
      wires: [['dbg'], ['dbg']],
    },
    {
      id: 'dbg',
      z,
      type: 'debug',
      name: 'out',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'true',
      targetType: 'full',
      wires: [],
    },
    ...routes.map((r) => ({
      id: `inj_${r}`,
      z,
      type: 'inject',
      name: r,
      props: [{ p: 'payload' }],
      repeat: '',
      once: false,
      topic: '',
      payload: JSON.stringify({ route: r }),
      payloadType: 'json',
      wires: [['hp1']],
    })),
  ];
}

describe('e2e: response size limit and read deadline in a real Node-RED', function () {
  this.timeout(180000);
  let partner;
  let nr;
  let pane;

  before(async function () {
    partner = await startPartner();
    nr = await startNodeRed({ flow: flow(partner.port) });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    if (partner) await partner.close();
  });

  async function inject(route) {
    const res = await fetch(`${nr.base}/inject/inj_${route}`, { method: 'POST' });
    assert.strictEqual(res.status, 200);
  }

  const byRoute = (route) => (m) => m && typeof m.msg === 'string' && m.msg.includes(`"route":"${route}"`);

  it('500 MB (declared and streamed), an endless answer and a trickle all end on output 2; RSS stays bounded', async function () {
    const pid = nr.child.pid;
    await inject('small');
    // a small answer replaces msg.payload (the partner answers {"ok":true})
    await pane.waitFor((m) => typeof m.msg === 'string' && m.msg.includes('"payload":{"ok":true}'), 20000);
    const baseline = rssMB(pid);
    let peak = baseline;
    const poll = setInterval(() => {
      const v = rssMB(pid);
      if (v > peak) peak = v;
    }, 25);
    const results = {};
    try {
      for (const route of ['declared', 'chunked', 'endless', 'trickle']) {
        await inject(route);
        const m = await pane.waitFor(byRoute(route), 60000);
        results[route] = JSON.parse(m.msg);
      }
    } finally {
      clearInterval(poll);
    }
    for (const route of ['declared', 'chunked', 'endless']) {
      assert.strictEqual(
        results[route].error && results[route].error.code,
        'RESPONSE_TOO_LARGE',
        `${route}: ${JSON.stringify(results[route].error)}`,
      );
      assert.ok(results[route].statusCode === 200 || results[route].statusCode === 500);
      assert.strictEqual(results[route].delivery.attempts, 1, 'not retried');
    }
    assert.match(results.declared.error.details[0].reason, /declares 524288000 bytes/);
    assert.strictEqual(results.trickle.error.code, 'TIMEOUT');
    const growth = peak - baseline;
    console.log(
      `      Node-RED RSS: baseline ${baseline.toFixed(1)} MB, peak ${peak.toFixed(1)} MB (+${growth.toFixed(1)} MB) ` +
        `while the partner wrote ${(partner.written.chunked / MB).toFixed(0)} MB (chunked), ${(partner.written.endless / MB).toFixed(0)} MB (endless) before being cut off`,
    );
    assert.ok(growth < 120, `RSS grew by ${growth.toFixed(1)} MB`);
    assert.ok(partner.written.declared < 100 * MB, 'the declared 500 MB were not read');
    // Node-RED is still alive and answers
    const res = await fetch(`${nr.base}/flows`);
    assert.strictEqual(res.status, 200);
  });
});
