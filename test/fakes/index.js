'use strict';
/**
 * The common base of the fake vendor APIs used by the tests (Stripe,
 * SendGrid, Mailchimp, HubSpot, Twilio, PayPal): an HTTP server on 127.0.0.1 and a free port
 * that records every request, checks authentication, can be told to fail the
 * next requests (a status such as 500 or 503, a 429 with Retry-After, a slow
 * answer, a dropped connection) and then hands the request to the vendor's
 * routes.
 *
 *   const fake = await startFakeServer({ name, routes, authenticate, errorBody });
 *   fake.url                        http://127.0.0.1:<port>
 *   fake.requests                   every request, in order (see `record` below)
 *   fake.requestsTo('POST', '/v1/payment_intents')   filtered (path: string or RegExp)
 *   fake.last('GET', /\/campaigns\//)               the latest matching, or undefined
 *   fake.waitForRequest(pred, { timeout })           resolves with the first match (also a past one)
 *   fake.failNext(n, { status, headers, body, match })  the next n matching requests get that answer
 *   fake.rateLimitNext(n, retryAfter = '1', { match })  429 + Retry-After in the vendor's shape
 *   fake.delayNext(n, ms, { match })                   answer the next n requests ms late
 *   fake.dropNext(n, { match })                        destroy the socket (the client sees ECONNRESET)
 *   fake.clearRequests()            forget the recorded requests only
 *   fake.reset()                    forget requests and failure switches, and the vendor's data
 *   await fake.stop()
 *
 * A record is { seq, at, method, path (decoded), rawPath, query (values are
 * strings, or arrays when repeated), headers (lower-case names), rawBody
 * (utf-8 text), body (parsed: JSON, or a form with bracket nesting into
 * objects and arrays; null when empty or unparsable), bodyError, status,
 * responseHeaders, responseBody, injected (true when a failure switch
 * answered), dropped, contractErrors (what the vendor's OpenAPI document
 * rejects in the request), responseContractErrors }.
 *
 * With `contract: 'stripe'` (a document in test/contracts/specs) every request
 * to an operation of the document is validated against it first: one it
 * rejects gets `contractError(errors)` (the vendor's 400) and is listed in
 * `fake.contractViolations`; and each answer of a route is validated against
 * the document's response for its status: one that does not match becomes a
 * 500 naming the problems (a fake that drifted from the document fails the
 * test that uses it). Injected answers (failNext …) are not validated.
 *   fake.contractViolations         [{ method, path, errors, kind: 'request' | 'response' }]
 *   fake.assertContract()           throws when there is any
 *
 * Routes are [method, pattern, handler]: pattern is a string with `:name`
 * segments (decoded into `params`) or a RegExp (groups into `params`).
 * A handler gets (ctx) = { req, record, params, query, headers, body, rawBody,
 * bodyError, contentType, fake } and returns { status, headers, body } (body:
 * object → JSON, string → as is, null/undefined → empty). No route → 404 in
 * the vendor's shape (errorBody(404)).
 */
const http = require('http');
const crypto = require('crypto');
const { parseForm, parseQuery } = require('./form');

function safeDecodePath(p) {
  return p
    .split('/')
    .map((seg) => {
      try {
        return decodeURIComponent(seg);
      } catch {
        return seg;
      }
    })
    .join('/');
}

function compileRoute(pattern) {
  if (pattern instanceof RegExp)
    return (path) => {
      const m = pattern.exec(path);
      return m ? { ...(m.groups || {}) } : null;
    };
  const names = [];
  const re = new RegExp(
    '^' +
      pattern
        .split('/')
        .map((seg) => {
          if (seg.startsWith(':')) {
            names.push(seg.slice(1));
            return '([^/]+)';
          }
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/') +
      '/?$',
  );
  return (rawPath) => {
    const m = re.exec(rawPath);
    if (!m) return null;
    const params = {};
    names.forEach((n, i) => {
      try {
        params[n] = decodeURIComponent(m[i + 1]);
      } catch {
        params[n] = m[i + 1];
      }
    });
    return params;
  };
}

function matches(record, match) {
  if (!match) return true;
  if (typeof match === 'function') return !!match(record);
  if (match.method && match.method.toUpperCase() !== record.method) return false;
  if (match.path instanceof RegExp) return match.path.test(record.path);
  if (typeof match.path === 'string') return match.path === record.path;
  return true;
}

function pathMatches(record, method, path) {
  if (method && method.toUpperCase() !== record.method) return false;
  if (path === undefined) return true;
  return path instanceof RegExp ? path.test(record.path) : record.path === path;
}

/** A random id of `n` characters from [0-9A-Za-z]. */
function randomId(n) {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i] % alphabet.length];
  return s;
}

/**
 * @param {object} o
 * @param {string} o.name                     for messages
 * @param {Array}  o.routes                   [[method, pattern, handler], ...]
 * @param {(ctx) => object|null} [o.authenticate]  null when the caller is allowed, else the 401 answer
 * @param {(status:number, ctx) => object} [o.errorBody]  the vendor's error body for a status (failNext, 404, 429)
 * @param {object} [o.defaultHeaders]         headers on every answer
 * @param {() => void} [o.onReset]            clears the vendor's data
 * @param {string} [o.host]                   default 127.0.0.1
 * @param {string} [o.contract]               the vendor's document in test/contracts/specs
 * @param {(errors:string[]) => object} [o.contractError]  the vendor's 400 answer {status, body} for a request the document rejects
 */
function startFakeServer(o) {
  const vendorContract = o.contract ? require('../contracts/validator').cachedContract(o.contract) : undefined;
  const contractViolations = [];
  const routes = (o.routes || []).map(([method, pattern, handler]) => ({
    method: method.toUpperCase(),
    match: compileRoute(pattern),
    handler,
  }));
  const errorBody = o.errorBody || ((status) => ({ error: http.STATUS_CODES[status] || 'error' }));
  const requests = [];
  let switches = [];
  let seq = 0;
  const waiters = [];
  const sockets = new Set();

  function takeSwitch(record) {
    for (const s of switches) {
      if (s.remaining > 0 && matches(record, s.match)) {
        s.remaining--;
        switches = switches.filter((x) => x.remaining > 0);
        return s;
      }
    }
    return undefined;
  }

  function notify(record) {
    for (const w of waiters.slice()) {
      if (w.pred(record)) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(record);
      }
    }
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url, 'http://fake.invalid');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const contentType = String(req.headers['content-type'] || '').toLowerCase();
      let body = null;
      let bodyError;
      if (rawBody !== '') {
        if (contentType.includes('json')) {
          try {
            body = JSON.parse(rawBody);
          } catch (err) {
            bodyError = 'not valid JSON: ' + err.message;
          }
        } else if (contentType.includes('application/x-www-form-urlencoded')) {
          body = parseForm(rawBody);
        } else {
          bodyError = 'unsupported content type: ' + (contentType || '(none)');
        }
      }
      const record = {
        seq: ++seq,
        at: Date.now(),
        method: req.method,
        path: safeDecodePath(url.pathname),
        rawPath: url.pathname,
        query: parseQuery(url.search),
        headers: { ...req.headers },
        rawBody,
        body,
        bodyError,
        status: undefined,
        responseHeaders: undefined,
        responseBody: undefined,
        injected: false,
        dropped: false,
      };
      requests.push(record);

      const reply = (status, headers, payload, fromRoute = false) => {
        if (fromRoute && vendorContract && vendorContract.operation(req.method, record.path)) {
          const checked = vendorContract.validateResponse(
            { method: req.method, path: record.path, status, body: payload },
            { allowUndeclaredErrors: true },
          );
          if (checked.errors.length) {
            record.responseContractErrors = checked.errors;
            contractViolations.push({
              kind: 'response',
              method: req.method,
              path: record.path,
              errors: checked.errors,
            });
            status = 500;
            headers = {};
            payload = { error: `fake ${o.name} answered outside the vendor's document`, errors: checked.errors };
          }
        }
        const h = { ...(o.defaultHeaders || {}), ...(headers || {}) };
        let text = '';
        if (payload !== undefined && payload !== null) {
          if (typeof payload === 'string' || Buffer.isBuffer(payload)) text = payload;
          else {
            text = JSON.stringify(payload);
            const hasType = Object.keys(h).some((k) => k.toLowerCase() === 'content-type');
            if (!hasType) h['content-type'] = 'application/json';
          }
        }
        record.status = status;
        record.responseHeaders = h;
        record.responseBody = payload === undefined ? null : payload;
        res.writeHead(status, h);
        res.end(text);
        notify(record);
      };

      const ctx = {
        req,
        record,
        query: record.query,
        headers: record.headers,
        body,
        rawBody,
        bodyError,
        contentType,
        fake: api,
        params: {},
      };

      try {
        const sw = takeSwitch(record);
        if (sw) {
          if (sw.delayMs) await new Promise((r) => setTimeout(r, sw.delayMs));
          if (sw.drop) {
            record.dropped = true;
            record.injected = true;
            notify(record);
            req.socket.destroy();
            return;
          }
          if (sw.status) {
            record.injected = true;
            const b = sw.body !== undefined ? sw.body : errorBody(sw.status, ctx);
            return reply(sw.status, sw.headers, b);
          }
        }
        if (o.authenticate) {
          const denied = o.authenticate(ctx);
          if (denied) return reply(denied.status || 401, denied.headers, denied.body, true);
        }
        if (vendorContract && vendorContract.operation(req.method, record.path)) {
          const checked = vendorContract.validateRequest({
            method: req.method,
            path: record.path,
            query: record.query,
            search: url.search,
            headers: record.headers,
            rawBody,
          });
          if (checked.errors.length) {
            record.contractErrors = checked.errors;
            contractViolations.push({ kind: 'request', method: req.method, path: record.path, errors: checked.errors });
            const answer = o.contractError
              ? o.contractError(checked.errors, ctx)
              : { status: 400, body: { errors: checked.errors } };
            return reply(answer.status || 400, answer.headers, answer.body, true);
          }
        }
        for (const r of routes) {
          if (r.method !== req.method) continue;
          const params = r.match(url.pathname);
          if (!params) continue;
          ctx.params = params;
          const answer = (await r.handler(ctx)) || { status: 204 };
          return reply(answer.status || 200, answer.headers, answer.body, true);
        }
        return reply(404, {}, errorBody(404, ctx));
      } catch (err) {
        return reply(500, {}, { error: 'fake ' + o.name + ' failed: ' + (err && err.message) });
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const api = {
    name: o.name,
    server,
    url: '',
    port: 0,
    requests,
    contractViolations,
    assertContract() {
      if (contractViolations.length) {
        throw new Error(
          `fake ${o.name}: ${contractViolations.length} exchange(s) outside the vendor's document:\n` +
            contractViolations.map((v) => `  ${v.kind} ${v.method} ${v.path}: ${v.errors.join('; ')}`).join('\n'),
        );
      }
    },
    requestsTo(method, path) {
      return requests.filter((r) => pathMatches(r, method, path));
    },
    last(method, path) {
      const list = api.requestsTo(method, path);
      return list[list.length - 1];
    },
    waitForRequest(pred, { timeout = 5000 } = {}) {
      const p = typeof pred === 'function' ? pred : (r) => matches(r, pred);
      const found = requests.find((r) => r.status !== undefined && p(r));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          pred: p,
          resolve,
          timer: setTimeout(() => {
            waiters.splice(waiters.indexOf(w), 1);
            reject(
              new Error(
                `fake ${o.name}: no matching request within ${timeout} ms; saw ${requests.map((r) => r.method + ' ' + r.path).join(', ') || 'none'}`,
              ),
            );
          }, timeout),
        };
        waiters.push(w);
      });
    },
    failNext(n, { status = 500, headers = {}, body, match } = {}) {
      switches.push({ remaining: n, status, headers, body, match });
      return api;
    },
    rateLimitNext(n, retryAfter = '1', { match, body } = {}) {
      switches.push({ remaining: n, status: 429, headers: { 'retry-after': String(retryAfter) }, body, match });
      return api;
    },
    delayNext(n, ms, { match } = {}) {
      switches.push({ remaining: n, delayMs: ms, match });
      return api;
    },
    dropNext(n, { match } = {}) {
      switches.push({ remaining: n, drop: true, match });
      return api;
    },
    clearRequests() {
      requests.length = 0;
    },
    reset() {
      requests.length = 0;
      contractViolations.length = 0;
      switches = [];
      if (o.onReset) o.onReset();
    },
    stop() {
      for (const w of waiters.splice(0)) clearTimeout(w.timer);
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, o.host || '127.0.0.1', () => {
      const { port } = server.address();
      api.port = port;
      api.url = `http://${o.host || '127.0.0.1'}:${port}`;
      resolve(api);
    });
  });
}

/** The bearer token of a request, or undefined. */
function bearerToken(headers) {
  const m = /^Bearer\s+(.+)$/i.exec(String(headers.authorization || ''));
  return m ? m[1].trim() : undefined;
}

/** { username, password } of an HTTP Basic header, or undefined. */
function basicCredentials(headers) {
  const m = /^Basic\s+(.+)$/i.exec(String(headers.authorization || ''));
  if (!m) return undefined;
  const text = Buffer.from(m[1].trim(), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return { username: text, password: '' };
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * Starts several fakes at once and gives the environment a Node-RED process
 * needs to talk to them:
 *   const f = await startFakes(['stripe', 'sendgrid']);   // or { stripe: {opts}, hubspot: {} }
 *   f.stripe, f.sendgrid, f.env (STRIPE_API_URL, STRIPE_SECRET_KEY, …), await f.stop()
 */
async function startFakes(which) {
  const starters = {
    stripe: () => require('./stripe').startStripe,
    sendgrid: () => require('./sendgrid').startSendGrid,
    mailchimp: () => require('./mailchimp').startMailchimp,
    hubspot: () => require('./hubspot').startHubSpot,
    twilio: () => require('./twilio').startTwilio,
    paypal: () => require('./paypal').startPayPal,
  };
  const wanted = Array.isArray(which)
    ? Object.fromEntries(which.map((n) => [n, {}]))
    : which || Object.fromEntries(Object.keys(starters).map((n) => [n, {}]));
  const out = { env: {} };
  for (const name of Object.keys(wanted)) {
    if (!starters[name]) throw new Error('no fake called ' + name);
    const fake = await starters[name]()(wanted[name]);
    out[name] = fake;
    Object.assign(out.env, fake.env);
  }
  out.stop = async () => {
    for (const name of Object.keys(wanted)) if (out[name]) await out[name].stop();
  };
  return out;
}

module.exports = { startFakeServer, startFakes, parseForm, parseQuery, bearerToken, basicCredentials, randomId };
