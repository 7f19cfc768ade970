'use strict';
const assert = require('node:assert');
const http = require('node:http');
const { OAuth2TokenManager, refreshDelayMs, redact } = require('../../dist/nodes/lib/http/oauth2');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint');

const SECRET = 's3cr3t+/= &value';

/**
 * A real OAuth2 token endpoint on 127.0.0.1. `respond(req, body, n)` returns
 * {status, json|text, headers}; by default it issues tok-1, tok-2, … with
 * expires_in 3600. `hold()` makes it wait for `release()` before answering.
 */
function tokenServer() {
  const s = {
    requests: [],
    respond: (req, body, n) => ({
      status: 200,
      json: { access_token: `tok-${n}`, token_type: 'Bearer', expires_in: 3600 },
    }),
    gate: null,
    waiters: [],
    hold() {
      let release;
      const p = new Promise((r) => {
        release = r;
      });
      s.gate = p;
      s.release = () => {
        s.gate = null;
        release();
      };
    },
    /** resolves once n requests have arrived */
    arrived(n) {
      if (s.requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => s.waiters.push({ n, resolve }));
    },
  };
  s.server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', async () => {
      s.requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
        form: Object.fromEntries(new URLSearchParams(body)),
      });
      for (const w of s.waiters.slice())
        if (s.requests.length >= w.n) {
          s.waiters.splice(s.waiters.indexOf(w), 1);
          w.resolve();
        }
      if (s.gate) await s.gate;
      const r = s.respond(req, body, s.requests.length);
      const text = r.json !== undefined ? JSON.stringify(r.json) : r.text || '';
      res.writeHead(r.status, {
        'Content-Type': r.json !== undefined ? 'application/json' : r.contentType || 'text/plain',
        ...(r.headers || {}),
      });
      res.end(text);
    });
  });
  return new Promise((resolve) =>
    s.server.listen(0, '127.0.0.1', () => {
      s.url = `http://127.0.0.1:${s.server.address().port}/oauth/token`;
      resolve(s);
    }),
  );
}

describe('lib/http/oauth2', function () {
  let srv;
  let clock;
  const managers = [];
  function manager(extra) {
    const m = new OAuth2TokenManager({
      tokenUrl: srv.url,
      clientId: 'client-1',
      clientSecret: SECRET,
      now: () => clock,
      ...(extra || {}),
    });
    managers.push(m);
    return m;
  }

  beforeEach(async function () {
    clock = 1_000_000;
    srv = await tokenServer();
  });
  afterEach(async function () {
    while (managers.length) managers.pop().close();
    srv.server.closeAllConnections();
    await new Promise((r) => srv.server.close(r));
  });

  it('refreshDelayMs: expires_in minus min(60 s, 10 %); no expires_in → one hour', function () {
    assert.strictEqual(refreshDelayMs(3600), 3540_000);
    assert.strictEqual(refreshDelayMs('3600'), 3540_000);
    assert.strictEqual(refreshDelayMs(100), 90_000);
    assert.strictEqual(refreshDelayMs(600), 540_000);
    assert.strictEqual(refreshDelayMs(601), 541_000);
    assert.strictEqual(refreshDelayMs(undefined), 3540_000);
    assert.strictEqual(refreshDelayMs('soon'), 3540_000);
    assert.strictEqual(refreshDelayMs(0), 0);
  });

  it('posts grant_type=client_credentials with scope, audience and the client in the form body', async function () {
    const m = manager({ scope: 'read write', audience: 'https://api.example.com/' });
    assert.strictEqual(await m.getToken(), 'tok-1');
    const r = srv.requests[0];
    assert.strictEqual(r.method, 'POST');
    assert.strictEqual(r.url, '/oauth/token');
    assert.match(r.headers['content-type'], /^application\/x-www-form-urlencoded/);
    assert.strictEqual(r.headers.authorization, undefined);
    assert.deepStrictEqual(r.form, {
      grant_type: 'client_credentials',
      scope: 'read write',
      audience: 'https://api.example.com/',
      client_id: 'client-1',
      client_secret: SECRET,
    });
    assert.ok(r.body.includes('scope=read+write'), r.body);
    assert.strictEqual(m.requests, 1);
    assert.strictEqual(m.lastOk, true);
  });

  it('tokenAuth basic: HTTP Basic with form-encoded id and secret, no secret in the body', async function () {
    const m = manager({ tokenAuth: 'basic' });
    await m.getToken();
    const r = srv.requests[0];
    const decoded = Buffer.from(r.headers.authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
    const [id, secret] = decoded.split(':');
    assert.strictEqual(decodeURIComponent(id.replace(/\+/g, ' ')), 'client-1');
    assert.strictEqual(decodeURIComponent(secret.replace(/\+/g, ' ')), SECRET);
    assert.deepStrictEqual(r.form, { grant_type: 'client_credentials' });
  });

  it('20 concurrent getToken() calls make exactly one token request', async function () {
    const m = manager();
    srv.hold();
    const all = Promise.all(Array.from({ length: 20 }, () => m.getToken()));
    await srv.arrived(1);
    srv.release();
    const tokens = await all;
    assert.deepStrictEqual(new Set(tokens), new Set(['tok-1']));
    assert.strictEqual(srv.requests.length, 1);
    assert.strictEqual(m.requests, 1);
    assert.strictEqual(await m.getToken(), 'tok-1');
    assert.strictEqual(srv.requests.length, 1);
  });

  it('caches until expires_in minus the skew, then fetches once more', async function () {
    const m = manager();
    assert.strictEqual(await m.getToken(), 'tok-1');
    clock += 3540_000 - 1;
    assert.strictEqual(await m.getToken(), 'tok-1');
    assert.strictEqual(srv.requests.length, 1);
    clock += 1;
    const [a, b] = await Promise.all([m.getToken(), m.getToken()]);
    assert.strictEqual(a, 'tok-2');
    assert.strictEqual(b, 'tok-2');
    assert.strictEqual(srv.requests.length, 2);
  });

  it('short-lived tokens refresh 10 % early; a token without expires_in lasts an hour (less 60 s)', async function () {
    srv.respond = (req, body, n) => ({
      status: 200,
      json: n === 1 ? { access_token: 'short', expires_in: 30 } : { access_token: `tok-${n}` },
    });
    const m = manager();
    assert.strictEqual(await m.getToken(), 'short');
    clock += 27_000 - 1;
    assert.strictEqual(await m.getToken(), 'short');
    clock += 1;
    assert.strictEqual(await m.getToken(), 'tok-2');
    clock += 3540_000 - 1;
    assert.strictEqual(await m.getToken(), 'tok-2');
    clock += 1;
    assert.strictEqual(await m.getToken(), 'tok-3');
  });

  it('invalidate() drops the token: the next call fetches a new one', async function () {
    const m = manager();
    assert.strictEqual(await m.getToken(), 'tok-1');
    m.invalidate();
    assert.strictEqual(m.currentToken, undefined);
    assert.strictEqual(await m.getToken(), 'tok-2');
    assert.strictEqual(srv.requests.length, 2);
  });

  it('accepts a form-encoded token response and a string expires_in', async function () {
    srv.respond = () => ({
      status: 200,
      contentType: 'application/x-www-form-urlencoded',
      text: 'access_token=form-tok&token_type=bearer&expires_in=120',
    });
    const m = manager();
    assert.strictEqual(await m.getToken(), 'form-tok');
    clock += 108_000 - 1;
    assert.strictEqual(await m.getToken(), 'form-tok');
    clock += 1;
    await m.getToken();
    assert.strictEqual(srv.requests.length, 2);
  });

  it('a token error names the status and the OAuth error, never the secret; the next call tries again', async function () {
    srv.respond = (req, body, n) =>
      n === 1
        ? {
            status: 401,
            json: { error: 'invalid_client', error_description: `Client authentication failed for secret ${SECRET}` },
          }
        : { status: 200, json: { access_token: 'tok-ok' } };
    const results = [];
    const m = manager({ onResult: (ok, err) => results.push([ok, err && err.code]) });
    await assert.rejects(m.getToken(), (err) => {
      assert.strictEqual(err.code, 'OAUTH2_TOKEN');
      assert.match(err.message, /HTTP 401/);
      assert.match(err.message, /invalid_client/);
      assert.match(err.message, /Client authentication failed/);
      assert.match(err.message, new RegExp(srv.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      const everything = JSON.stringify({ m: err.message, d: err.details, s: err.stack });
      assert.ok(!everything.includes(SECRET), everything);
      assert.ok(!everything.includes(encodeURIComponent(SECRET)), everything);
      return true;
    });
    assert.strictEqual(m.lastOk, false);
    assert.strictEqual(await m.getToken(), 'tok-ok');
    assert.deepStrictEqual(results, [
      [false, 'OAUTH2_TOKEN'],
      [true, undefined],
    ]);
  });

  it('a busy or unreachable token server is retryable; a refused client is not', async function () {
    for (const [status, retryable] of [
      [503, true],
      [500, true],
      [429, true],
      [408, true],
      [400, false],
      [401, false],
      [403, false],
    ]) {
      srv.respond = () => ({ status, json: { error: 'e' } });
      await assert.rejects(manager().getToken(), (err) => {
        assert.strictEqual(err.retryable, retryable, `HTTP ${status}`);
        return true;
      });
    }
    const closed = http.createServer();
    await new Promise((r) => closed.listen(0, '127.0.0.1', r));
    const port = closed.address().port;
    await new Promise((r) => closed.close(r));
    const m = new OAuth2TokenManager({ tokenUrl: `http://127.0.0.1:${port}/t`, clientId: 'c', clientSecret: SECRET });
    managers.push(m);
    await assert.rejects(m.getToken(), (err) => err.retryable === true);
  });

  it('a 200 without access_token, a 500 with an HTML body, and a refused connection are clear rejections', async function () {
    srv.respond = () => ({ status: 200, json: { token_type: 'Bearer' } });
    await assert.rejects(manager().getToken(), /has no access_token/);
    srv.respond = () => ({ status: 500, text: '<html>oops</html>', contentType: 'text/html' });
    await assert.rejects(manager().getToken(), (err) => /failed with HTTP 500$/.test(err.message));
    const closed = http.createServer();
    await new Promise((r) => closed.listen(0, '127.0.0.1', r));
    const port = closed.address().port;
    await new Promise((r) => closed.close(r));
    const m = new OAuth2TokenManager({ tokenUrl: `http://127.0.0.1:${port}/t`, clientId: 'c', clientSecret: SECRET });
    managers.push(m);
    await assert.rejects(m.getToken(), (err) => {
      assert.strictEqual(err.code, 'OAUTH2_TOKEN');
      assert.match(err.message, /The token request to http:\/\/127\.0\.0\.1:\d+\/t failed: .*ECONNREFUSED/);
      assert.ok(!err.message.includes(SECRET));
      return true;
    });
  });

  it('close() aborts a token request in flight', async function () {
    const m = manager();
    srv.hold();
    const p = m.getToken();
    await srv.arrived(1);
    m.close();
    await assert.rejects(p, (err) => err.code === 'ENDPOINT_CLOSED');
    srv.release();
    await assert.rejects(m.getToken(), (err) => err.code === 'ENDPOINT_CLOSED');
  });

  it('redact replaces every secret, longest first', function () {
    assert.strictEqual(redact('a abc b ab', ['ab', 'abc', '', undefined]), 'a *** b ***');
  });

  describe('through the Endpoint', function () {
    let e;
    function endpoint(extra) {
      e = new Endpoint({
        id: 'e1',
        config: {
          baseUrl: 'https://api.example.com/v1',
          authType: 'oauth2',
          tokenUrl: srv.url,
          scope: 'read',
          ...(extra || {}),
        },
        credentials: { clientId: 'client-1', clientSecret: SECRET },
        env: {},
        now: () => clock,
      });
      return e;
    }
    afterEach(function () {
      if (e) e.close();
    });

    it('20 concurrent prepare() calls → one token request, every request carries the token', async function () {
      endpoint();
      srv.hold();
      const all = Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          e.prepare({ path: `/c/${i}`, headers: { Authorization: 'Bearer forged' } }),
        ),
      );
      await srv.arrived(1);
      srv.release();
      const prepared = await all;
      assert.strictEqual(srv.requests.length, 1);
      prepared.forEach((p, i) => {
        assert.strictEqual(p.url, `https://api.example.com/v1/c/${i}`);
        assert.deepStrictEqual(p.headers, { Authorization: 'Bearer tok-1' });
      });
      assert.ok(e.secrets().includes('tok-1'));
      assert.ok(e.secrets().includes(SECRET));
    });

    it('expiry → a new token; 401 → invalidateAuth() → a new token', async function () {
      endpoint();
      assert.strictEqual((await e.prepare({ path: '/', headers: {} })).headers.Authorization, 'Bearer tok-1');
      clock += 3600_000;
      assert.strictEqual((await e.prepare({ path: '/', headers: {} })).headers.Authorization, 'Bearer tok-2');
      assert.strictEqual(e.invalidateAuth(), true);
      assert.strictEqual((await e.prepare({ path: '/', headers: {} })).headers.Authorization, 'Bearer tok-3');
      assert.strictEqual(srv.requests.length, 3);
    });

    it('token failure → red ring to users and a rejection without the secret; success → green', async function () {
      endpoint();
      const seen = [];
      e.register({ id: 'u1', status: (s) => seen.push(s) });
      srv.respond = (req, body, n) =>
        n === 1 ? { status: 400, json: { error: 'invalid_scope' } } : { status: 200, json: { access_token: 'tok-ok' } };
      await assert.rejects(e.prepare({ path: '/', headers: {} }), (err) => {
        assert.match(err.message, /HTTP 400: invalid_scope/);
        assert.ok(!err.message.includes(SECRET));
        return true;
      });
      assert.deepStrictEqual(seen, [{ fill: 'red', shape: 'ring', text: 'endpoint.status.tokenFailed' }]);
      await e.prepare({ path: '/', headers: {} });
      assert.deepStrictEqual(seen[1], { fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' });
      await e.prepare({ path: '/', headers: {} });
      assert.strictEqual(seen.length, 2, 'no status push while nothing changes');
    });
  });
});
