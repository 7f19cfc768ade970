'use strict';
/**
 * What the HTTP POST node's test files share: the node's editor defaults, a
 * real HTTP server on 127.0.0.1 that answers from a script, and a flow of
 * endpoint → http post → helper nodes (with a Catch node).
 */
const http = require('node:http');

const EDITOR_DEFAULTS = {
  name: '',
  endpoint: '',
  method: '',
  path: '',
  headers: [],
  msgHeaders: true,
  maxAttempts: 5,
  initialDelay: 1000,
  maxDelay: 30000,
  maxRetryAfter: 120,
  idempotencyHeader: 'Idempotency-Key',
  successStatuses: '',
  sign: false,
  durable: true,
  maxQueued: 10000,
  maxQueuedMB: 100,
  fullPolicy: 'refuse',
  orderingKey: '',
  maxDeadLetters: 10000,
  writeBehind: 100,
};

/** Fast retries for the tests. */
const FAST = { initialDelay: 20, maxDelay: 50 };

/**
 * A real HTTP server on 127.0.0.1. `script` is a list of handlers, one per
 * request (the last one repeats); each gets (req, res, body) after the body
 * was read. Every request is recorded.
 */
async function startServer(script, port = 0) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      requests.push({ method: req.method, url: req.url, headers: req.headers, body, at: Date.now() });
      const handler = script[Math.min(requests.length - 1, script.length - 1)];
      handler(req, res, body);
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = server.address().port;
  return {
    requests,
    port: bound,
    base: `http://127.0.0.1:${bound}`,
    script,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const answer =
  (status, body = '', headers = {}) =>
  (req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
const reset = () => (req) => req.socket.destroy();
const never = () => () => {};

/** endpoint `ep` → http post `n1` → helper nodes ok / failed, and a Catch node → caught. */
function flow(server, props = {}, endpointProps = {}, { label = 'http post', timeout = 2000 } = {}) {
  return [
    { id: 'tab', type: 'tab', label },
    {
      id: 'ep',
      type: 'saypro-endpoint',
      name: 'api',
      baseUrl: server ? server.base : 'http://127.0.0.1:9',
      timeout,
      ...endpointProps,
    },
    {
      id: 'n1',
      z: 'tab',
      type: 'saypro-http-post',
      ...EDITOR_DEFAULTS,
      name: 'post',
      endpoint: 'ep',
      ...FAST,
      ...props,
      wires: [['ok'], ['failed']],
    },
    { id: 'ok', z: 'tab', type: 'helper' },
    { id: 'failed', z: 'tab', type: 'helper' },
    { id: 'c1', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
}

/** Resolves once predicate() is true; a predicate that throws rejects. */
function until(predicate, ms = 10000, what = 'condition not met') {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    (function poll() {
      let ok = false;
      try {
        ok = predicate();
      } catch (err) {
        return reject(err);
      }
      if (ok) return resolve();
      if (Date.now() - started > ms) return reject(new Error(typeof what === 'function' ? what() : what));
      setTimeout(poll, 5);
    })();
  });
}

/** Resolves with the list once `n` messages arrived in it. */
async function waitFor(list, n = 1, ms = 10000) {
  await until(
    () => list.length >= n,
    ms,
    () => `expected ${n} message(s), got ${list.length}`,
  );
  return list;
}

function statusCalls(node) {
  return node.status.getCalls().map((c) => c.args[0]);
}

module.exports = { EDITOR_DEFAULTS, FAST, startServer, answer, reset, never, flow, until, waitFor, statusCalls };
