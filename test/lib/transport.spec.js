'use strict';
/**
 * The undici transport against real servers on 127.0.0.1: connection reuse
 * bounded by the endpoint's concurrency, no abort listener piling up on a
 * shared signal, the response size limit (Content-Length up front, while
 * streaming, decoded gzip) and the read deadline (an endless answer ends).
 */
const assert = require('node:assert');
const http = require('node:http');
const zlib = require('node:zlib');
const { getEventListeners } = require('node:events');

const { Endpoint } = require('../../dist/nodes/lib/http/endpoint');
const d = require('../../dist/nodes/lib/http/deliver');
const { linkSignal } = require('../../dist/nodes/lib/http/abort');
const { undiciTransport, ResponseTooLargeError } = require('../../dist/nodes/lib/http/transport');

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

const SETTINGS = {
  maxAttempts: 3,
  initialDelay: 10,
  maxDelay: 20,
  maxRetryAfter: 1,
  idempotencyHeader: 'Idempotency-Key',
};

describe('lib/http/transport (undici)', function () {
  this.timeout(60000);
  const open = [];
  afterEach(async function () {
    while (open.length) {
      const x = open.pop();
      if (x instanceof http.Server) await closeServer(x);
      else x.close();
    }
  });

  async function server(handler) {
    const s = http.createServer(handler);
    s.connections = 0;
    s.on('connection', () => s.connections++);
    const port = await listen(s);
    open.push(s);
    return { s, base: `http://127.0.0.1:${port}` };
  }

  function endpoint(base, config = {}) {
    const e = new Endpoint({ id: 'ep', config: { baseUrl: base, ...config }, env: {} });
    assert.strictEqual(e.setupError, undefined, e.setupError && e.setupError.message);
    open.push(e);
    return e;
  }

  it('1,000 messages through one endpoint: connections match maxConcurrent, no abort listener accumulates, no AbortController made, no warning', async function () {
    let inFlight = 0;
    let peak = 0;
    const { s, base } = await server((req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          inFlight--;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        }, 2),
      );
    });
    const e = endpoint(base, { maxConcurrent: 8 });
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    process.on('warning', onWarning);
    const shared = new AbortController(); // like the node's "closing" signal, shared by every message
    // no AbortController per message (each AbortSignal ends up in the old generation: lib/http/abort.ts)
    const RealAbortController = globalThis.AbortController;
    let controllersMade = 0;
    globalThis.AbortController = class extends RealAbortController {
      constructor() {
        super();
        controllersMade++;
      }
    };
    let maxListeners = 0;
    const sample = setInterval(() => {
      maxListeners = Math.max(maxListeners, getEventListeners(shared.signal, 'abort').length);
    }, 1);
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          d.deliver(
            e,
            { path: '/x', headers: { 'content-type': 'application/json' }, body: Buffer.from(`{"i":${i}}`) },
            d.newDeliveryState(`k${i}`, 3),
            SETTINGS,
            { signal: shared.signal },
          ),
        ),
      );
      maxListeners = Math.max(maxListeners, getEventListeners(shared.signal, 'abort').length);
      assert.strictEqual(outcomes.filter((o) => o.ok).length, 1000);
    } finally {
      globalThis.AbortController = RealAbortController;
      clearInterval(sample);
      process.off('warning', onWarning);
    }
    assert.strictEqual(controllersMade, 0, 'AbortControllers made while 1,000 messages were delivered');
    // a warning is emitted on the next tick: give it the chance
    await new Promise((r) => setImmediate(r));
    // (only what the transport could cause: another suite's leftovers collected now are not this test's concern)
    assert.deepStrictEqual(
      warnings
        .filter((w) => w.name === 'MaxListenersExceededWarning' || /AbortSignal|EventTarget|undici/i.test(w.message))
        .map((w) => w.name + ': ' + w.message),
      [],
    );
    assert.strictEqual(getEventListeners(shared.signal, 'abort').length, 0, 'no listener left on the shared signal');
    assert.ok(maxListeners <= 1, `at most one listener on the shared signal at any time (saw ${maxListeners})`);
    console.log(
      `      connections opened: ${s.connections} for 1000 requests (maxConcurrent 8, peak ${peak} in flight at the server)`,
    );
    assert.ok(s.connections <= 8, `at most maxConcurrent connections (got ${s.connections})`);
    assert.ok(s.connections >= 2, `connections are used in parallel (got ${s.connections})`);
  });

  it('the shared signal still cancels every delivery in flight', async function () {
    const { base } = await server(() => {
      /* never answers */
    });
    const e = endpoint(base, { maxConcurrent: 2, timeout: 60000 });
    const shared = new AbortController();
    const runs = Array.from({ length: 20 }, (_, i) =>
      d.deliver(e, { path: '/', headers: {}, body: Buffer.from('x') }, d.newDeliveryState(`c${i}`, 3), SETTINGS, {
        signal: shared.signal,
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    shared.abort();
    const outcomes = await Promise.all(runs);
    assert.deepStrictEqual([...new Set(outcomes.map((o) => o.error && o.error.code))], ['CANCELLED']);
    assert.strictEqual(getEventListeners(shared.signal, 'abort').length, 0);
  });

  it('linkSignal: one parent listener for many children, removed with the last', function () {
    const parent = new AbortController();
    const a = linkSignal(parent.signal);
    const b = linkSignal(parent.signal);
    assert.strictEqual(getEventListeners(parent.signal, 'abort').length, 1);
    a.dispose();
    assert.strictEqual(getEventListeners(parent.signal, 'abort').length, 1);
    b.dispose();
    assert.strictEqual(getEventListeners(parent.signal, 'abort').length, 0);
    const c = linkSignal(parent.signal);
    parent.abort();
    assert.strictEqual(c.signal.aborted, true);
  });

  it('keep-alive off: every request on a new connection', async function () {
    const { s, base } = await server((req, res) => {
      req.resume();
      res.end('ok');
    });
    const e = endpoint(base, { keepAlive: false, maxConcurrent: 1 });
    for (let i = 0; i < 3; i++) {
      const o = await d.deliver(
        e,
        { path: '/', headers: {}, body: null, method: 'GET' },
        d.newDeliveryState(`q${i}`, 1),
        SETTINGS,
      );
      assert.strictEqual(o.ok, true);
    }
    assert.strictEqual(s.connections, 3);
  });

  it('a redirect is not followed', async function () {
    let hits = 0;
    const { base } = await server((req, res) => {
      hits++;
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const e = endpoint(base);
    const o = await d.deliver(
      e,
      { path: '/', headers: {}, body: Buffer.from('x') },
      d.newDeliveryState('r', 3),
      SETTINGS,
    );
    assert.strictEqual(o.error.code, 'HTTP_302');
    assert.strictEqual(hits, 1);
  });

  describe('response size limit', function () {
    it('a Content-Length above the limit is refused before reading: RESPONSE_TOO_LARGE, not retried, status kept', async function () {
      let hits = 0;
      const { base } = await server((req, res) => {
        hits++;
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(500 * 1024 * 1024) });
        res.write('{"a":"');
        // never sends the rest; the client must not wait for it
      });
      const e = endpoint(base, { maxResponseMB: 1 });
      const started = Date.now();
      const o = await d.deliver(
        e,
        { path: '/', headers: {}, body: Buffer.from('x') },
        d.newDeliveryState('big', 3),
        SETTINGS,
      );
      assert.strictEqual(o.ok, false);
      assert.strictEqual(o.error.code, 'RESPONSE_TOO_LARGE');
      assert.strictEqual(o.statusCode, 200);
      assert.strictEqual(o.error.details[0].statusCode, 200);
      assert.match(o.error.details[0].reason, /declares 524288000 bytes, more than the limit of 1048576 bytes/);
      assert.strictEqual(hits, 1, 'not retried');
      assert.ok(Date.now() - started < 5000);
    });

    it('a chunked stream that grows past the limit is cut off', async function () {
      const { base } = await server((req, res) => {
        req.resume();
        res.writeHead(500, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
      });
      const e = endpoint(base, { maxResponseMB: 0.5 });
      const o = await d.deliver(
        e,
        { path: '/', headers: {}, body: Buffer.from('x') },
        d.newDeliveryState('s', 3),
        SETTINGS,
      );
      assert.strictEqual(o.error.code, 'RESPONSE_TOO_LARGE');
      assert.strictEqual(o.statusCode, 500);
      assert.match(o.error.details[0].reason, /grew past the limit of 524288 bytes/);
    });

    it('a small gzip body that inflates past the limit is cut off (decoded bytes count)', async function () {
      const bomb = zlib.gzipSync(Buffer.alloc(20 * 1024 * 1024));
      const { base } = await server((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': bomb.length });
        res.end(bomb);
      });
      const e = endpoint(base, { maxResponseMB: 1 });
      const o = await d.deliver(
        e,
        { path: '/', headers: {}, body: Buffer.from('x') },
        d.newDeliveryState('g', 3),
        SETTINGS,
      );
      assert.strictEqual(o.error.code, 'RESPONSE_TOO_LARGE');
    });

    it('a gzip body within the limit is decoded', async function () {
      const { base } = await server((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync('{"ok":true}'));
      });
      const e = endpoint(base);
      const o = await d.deliver(
        e,
        { path: '/', headers: {}, body: Buffer.from('x') },
        d.newDeliveryState('gz', 3),
        SETTINGS,
      );
      assert.strictEqual(o.ok, true);
      assert.deepStrictEqual(o.body.value, { ok: true });
    });

    it('an endless slow answer ends at the endpoint timeout (TIMEOUT), the body read included', async function () {
      const timers = [];
      const { base } = await server((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' });
        timers.push(setInterval(() => res.write('x'), 20));
      });
      try {
        const e = endpoint(base, { timeout: 400 });
        const started = Date.now();
        const o = await d.deliver(e, { path: '/', headers: {}, body: Buffer.from('x') }, d.newDeliveryState('t', 1), {
          ...SETTINGS,
          maxAttempts: 1,
        });
        assert.strictEqual(o.error.code, 'TIMEOUT');
        assert.ok(Date.now() - started < 5000);
      } finally {
        timers.forEach(clearInterval);
      }
    });

    it('the transport alone: ResponseTooLargeError carries status and headers', async function () {
      const { base } = await server((req, res) => {
        res.writeHead(201, { 'x-a': '1' });
        res.end(Buffer.alloc(2000));
      });
      await assert.rejects(
        undiciTransport({
          method: 'GET',
          url: base,
          headers: {},
          timeout: 1000,
          signal: new AbortController().signal,
          maxResponseBytes: 1000,
        }),
        (err) =>
          err instanceof ResponseTooLargeError &&
          err.status === 201 &&
          err.headers['x-a'] === '1' &&
          err.code === 'RESPONSE_TOO_LARGE',
      );
    });

    it('the OAuth2 token answer is bounded too', async function () {
      const { base } = await server((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, ' ');
        res.write('{"access_token":"');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
      });
      const e = new Endpoint({
        id: 'o',
        env: {},
        config: { baseUrl: base, authType: 'oauth2', tokenUrl: `${base}/token`, maxResponseMB: 0.25 },
        credentials: { clientId: 'id', clientSecret: 'sec' },
      });
      open.push(e);
      await assert.rejects(
        e.prepare({ path: '/', headers: {} }),
        (err) => err.code === 'RESPONSE_TOO_LARGE' && /token answer/.test(err.message),
      );
    });

    it('maxResponseMB: default 10, a bad value is a settings problem', function () {
      assert.strictEqual(endpoint('http://127.0.0.1:9').maxResponseBytes, 10 * 1024 * 1024);
      assert.strictEqual(endpoint('http://127.0.0.1:9', { maxResponseMB: '2' }).maxResponseBytes, 2 * 1024 * 1024);
      const bad = new Endpoint({ id: 'b', env: {}, config: { baseUrl: 'http://127.0.0.1:9', maxResponseMB: '-1' } });
      open.push(bad);
      assert.match(bad.setupError.message, /maxResponseMB/);
    });
  });
});
