'use strict';
/**
 * Proxies, with a real proxy written here (node:http on 127.0.0.1) that
 * forwards absolute-URI requests, tunnels CONNECT and records both with the
 * Proxy-Authorization it got: HTTP_PROXY / HTTPS_PROXY / NO_PROXY as Node-RED's
 * core http request node reads them, a Node-RED `http proxy` config node with
 * credentials, https through CONNECT, OAuth2 token requests through the same
 * proxy, and the proxy password never in a log line or error.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const { execFileSync } = require('node:child_process');
const helper = require('node-red-node-test-helper');
const { chooseProxy, proxyUrlFor, shouldProxy } = require('../../dist/nodes/lib/http/proxy');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint');
const d = require('../../dist/nodes/lib/http/deliver');

helper.init(require.resolve('node-red'));

const SETTINGS = {
  maxAttempts: 2,
  initialDelay: 10,
  maxDelay: 20,
  maxRetryAfter: 1,
  idempotencyHeader: 'Idempotency-Key',
};

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** A forward proxy: plain requests are forwarded, CONNECT is tunnelled; `auth` (optional) is required as Basic. */
async function startProxy(auth) {
  const log = [];
  const sockets = new Set();
  const expected = auth ? 'Basic ' + Buffer.from(auth).toString('base64') : undefined;
  const server = http.createServer((req, res) => {
    log.push({ kind: 'forward', url: req.url, proxyAuthorization: req.headers['proxy-authorization'] });
    if (expected && req.headers['proxy-authorization'] !== expected) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' });
      return res.end();
    }
    const target = new URL(req.url);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const up = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  server.on('connect', (req, client, head) => {
    log.push({ kind: 'connect', url: req.url, proxyAuthorization: req.headers['proxy-authorization'] });
    sockets.add(client);
    if (expected && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = req.url.split(':');
    const up = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head && head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('lib/http/proxy: choosing a proxy like the core http request node', function () {
  it("scheme-specific variables, lower case first, npm_config_ and all_proxy; a proxy without scheme takes the request's", function () {
    assert.strictEqual(proxyUrlFor('http://a.b/x', { HTTP_PROXY: 'http://p:1' }), 'http://p:1');
    assert.strictEqual(proxyUrlFor('https://a.b/x', { HTTP_PROXY: 'http://p:1' }), '');
    assert.strictEqual(proxyUrlFor('https://a.b/x', { https_proxy: 'p:2', HTTPS_PROXY: 'http://q:3' }), 'https://p:2');
    assert.strictEqual(proxyUrlFor('https://a.b/x', { all_proxy: 'http://r:4' }), 'http://r:4');
    assert.strictEqual(
      proxyUrlFor('http://a.b/x', { npm_config_http_proxy: 'http://n:5', http_proxy: 'http://p:1' }),
      'http://n:5',
    );
  });

  it('NO_PROXY: *, names, .domain and *.domain suffixes, ports', function () {
    assert.strictEqual(shouldProxy('a.b', 80, '*'), false);
    assert.strictEqual(shouldProxy('a.b', 80, 'x.y, a.b'), false);
    assert.strictEqual(shouldProxy('api.a.b', 80, '.a.b'), false);
    assert.strictEqual(shouldProxy('api.a.b', 80, '*.a.b'), false);
    assert.strictEqual(shouldProxy('a.b', 80, 'a.b:443'), true);
    assert.strictEqual(shouldProxy('a.b', 443, 'a.b:443'), false);
    assert.strictEqual(proxyUrlFor('http://127.0.0.1:9/', { HTTP_PROXY: 'http://p:1', NO_PROXY: '127.0.0.1' }), '');
  });

  it('a config node replaces the environment; its credentials become Proxy-Authorization (and secrets), never part of the URL', function () {
    const c = chooseProxy(
      'https://api.x/v1',
      { HTTPS_PROXY: 'http://env:1' },
      { url: 'http://proxy.lan:3128', noproxy: ['internal.lan'], username: 'u', password: 'pw-123456' },
    );
    assert.deepStrictEqual(c, {
      url: 'http://proxy.lan:3128',
      authorization: 'Basic ' + Buffer.from('u:pw-123456').toString('base64'),
      secrets: [Buffer.from('u:pw-123456').toString('base64'), 'pw-123456'],
    });
    assert.strictEqual(
      chooseProxy('https://internal.lan/', {}, { url: 'http://proxy.lan:3128', noproxy: ['internal.lan'] }),
      undefined,
    );
    const e = chooseProxy('http://a/', { http_proxy: 'http://us%40r:p%3Ass@proxy:8080' });
    assert.strictEqual(e.url, 'http://proxy:8080');
    assert.strictEqual(e.authorization, 'Basic ' + Buffer.from('us@r:p:ss').toString('base64'));
    assert.throws(() => chooseProxy('http://a/', { http_proxy: 'socks5://p:1' }), /http:\/\/ or https:\/\//);
  });
});

describe('lib/http/proxy: requests through a real local proxy', function () {
  this.timeout(30000);
  let target;
  let targetBase;
  let tlsTarget;
  let tlsBase;
  let dir;
  const seen = [];
  const open = [];

  before(async function () {
    target = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url, headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' });
        if (req.url === '/token') return res.end(JSON.stringify({ access_token: 'at-proxy-123456', expires_in: 3600 }));
        return res.end(
          JSON.stringify({
            ok: true,
            auth: req.headers.authorization || null,
            proxyAuth: req.headers['proxy-authorization'] || null,
          }),
        );
      });
    });
    targetBase = `http://127.0.0.1:${await listen(target)}`;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-proxy-tls-'));
    execFileSync(
      '/usr/bin/openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tlsTarget = https.createServer(
      { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
      (req, res) => {
        req.resume();
        req.on('end', () => {
          seen.push({ url: req.url, tls: true });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"tls":true}');
        });
      },
    );
    tlsBase = `https://127.0.0.1:${await listen(tlsTarget)}`;
  });
  after(async function () {
    target.closeAllConnections();
    target.close();
    tlsTarget.closeAllConnections();
    tlsTarget.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async function () {
    while (open.length) await open.pop()();
  });

  async function proxy(auth) {
    const p = await startProxy(auth);
    open.push(p.close);
    return p;
  }
  function endpoint(o) {
    const e = new Endpoint({ id: 'p', ...o });
    assert.strictEqual(e.setupError, undefined, e.setupError && e.setupError.message);
    open.push(async () => e.close());
    return e;
  }
  const send = (e, logs) =>
    d.deliver(e, { path: '/x', headers: {}, body: Buffer.from('{}') }, d.newDeliveryState('k1', 2), SETTINGS, {
      onAttempt: (l) => logs && logs.push(l.text),
    });

  it('HTTP_PROXY: an http request goes through the proxy as an absolute-URI request', async function () {
    const p = await proxy();
    const e = endpoint({ config: { baseUrl: targetBase }, env: { HTTP_PROXY: p.url } });
    const out = await send(e);
    assert.strictEqual(out.ok, true, JSON.stringify(out.error));
    assert.deepStrictEqual(
      p.log.map((l) => [l.kind, l.url]),
      [['forward', `${targetBase}/x`]],
    );
  });

  it('HTTPS_PROXY: an https request goes through CONNECT (TLS end to end, the tls-config options apply)', async function () {
    const p = await proxy();
    const e = endpoint({
      config: { baseUrl: tlsBase },
      env: { HTTPS_PROXY: p.url },
      tls: { rejectUnauthorized: false },
    });
    const out = await send(e);
    assert.strictEqual(out.ok, true, JSON.stringify(out.error));
    assert.deepStrictEqual(out.body.value, { tls: true });
    assert.deepStrictEqual(
      p.log.map((l) => [l.kind, l.url]),
      [['connect', tlsBase.replace('https://', '')]],
    );
  });

  it('NO_PROXY is obeyed: the request goes direct', async function () {
    const p = await proxy();
    const e = endpoint({
      config: { baseUrl: targetBase },
      env: { HTTP_PROXY: p.url, NO_PROXY: 'example.com, 127.0.0.1' },
    });
    const out = await send(e);
    assert.strictEqual(out.ok, true);
    assert.deepStrictEqual(p.log, []);
  });

  it('an http proxy config node with credentials: Proxy-Authorization sent to the proxy, not to the partner, never logged; OAuth2 token requests pass through it too', async function () {
    const PASSWORD = 'proxy-pass-7f3a9c';
    const p = await proxy(`proxyuser:${PASSWORD}`);
    const e = endpoint({
      config: { baseUrl: targetBase, authType: 'oauth2', tokenUrl: `${targetBase}/token` },
      credentials: { clientId: 'cid', clientSecret: 'csecret-123456' },
      env: { HTTP_PROXY: 'http://127.0.0.1:1' }, // ignored: the config node wins
      proxy: { url: p.url, noproxy: [], username: 'proxyuser', password: PASSWORD },
    });
    const logs = [];
    const out = await send(e, logs);
    assert.strictEqual(out.ok, true, JSON.stringify(out.error));
    assert.deepStrictEqual(
      p.log.map((l) => [l.kind, l.url]),
      [
        ['forward', `${targetBase}/token`],
        ['forward', `${targetBase}/x`],
      ],
    );
    const basic = 'Basic ' + Buffer.from(`proxyuser:${PASSWORD}`).toString('base64');
    assert.ok(p.log.every((l) => l.proxyAuthorization === basic));
    assert.strictEqual(out.body.value.proxyAuth, null, 'the proxy credentials do not reach the partner');
    assert.strictEqual(out.body.value.auth, 'Bearer [redacted]');
    assert.ok(e.secrets().includes(PASSWORD));
    const text = logs.join('\n') + JSON.stringify(out);
    assert.ok(!text.includes(PASSWORD) && !text.includes(basic.slice(6)), text);
  });

  it('a proxy that refuses the credentials: a clear failure without the password', async function () {
    const p = await proxy('proxyuser:right-password');
    const e = endpoint({
      config: { baseUrl: targetBase },
      proxy: { url: p.url, username: 'proxyuser', password: 'wrong-password-1' },
    });
    const out = await send(e);
    assert.strictEqual(out.ok, false);
    assert.strictEqual(out.error.code, 'PROXY_AUTH_REQUIRED', JSON.stringify(out.error));
    assert.strictEqual(out.state.attempts, 1, 'not retried');
    assert.ok(!JSON.stringify(out).includes('wrong-password-1'));
  });

  it('https through a proxy that refuses the credentials: PROXY_AUTH_REQUIRED too', async function () {
    const p = await proxy('proxyuser:right-password');
    const e = endpoint({
      config: { baseUrl: tlsBase },
      tls: { rejectUnauthorized: false },
      proxy: { url: p.url, username: 'proxyuser', password: 'wrong-password-2' },
    });
    const out = await send(e);
    assert.strictEqual(out.error.code, 'PROXY_AUTH_REQUIRED', JSON.stringify(out.error));
    assert.ok(!JSON.stringify(out).includes('wrong-password-2'));
  });

  it('a bad proxy URL is a settings problem of the endpoint', function () {
    const e = new Endpoint({ id: 'bad', config: { baseUrl: targetBase }, env: { HTTP_PROXY: 'ftp://x:1' } });
    open.push(async () => e.close());
    assert.match(e.setupError.message, /proxy/);
  });

  it("the endpoint node uses Node-RED's own http proxy config node (user name and password from its credentials)", async function () {
    const PASSWORD = 'nr-proxy-pass-1234';
    const p = await proxy(`nruser:${PASSWORD}`);
    const endpointNode = require('../../dist/nodes/endpoint.js');
    const proxyNode = require('@node-red/nodes/core/network/06-httpproxy.js');
    await new Promise((resolve) =>
      helper.load(
        [endpointNode, proxyNode],
        [
          { id: 'e1', type: 'saypro-endpoint', baseUrl: targetBase, proxy: 'px' },
          { id: 'px', type: 'http proxy', name: 'lan proxy', url: p.url, noproxy: [] },
        ],
        { px: { username: 'nruser', password: PASSWORD } },
        resolve,
      ),
    );
    open.push(() => helper.unload());
    const e1 = helper.getNode('e1');
    assert.strictEqual(e1.endpoint.setupError, undefined);
    const out = await d.deliver(
      e1,
      { path: '/x', headers: {}, body: Buffer.from('{}') },
      d.newDeliveryState('k2', 1),
      SETTINGS,
    );
    assert.strictEqual(out.ok, true, JSON.stringify(out.error));
    assert.strictEqual(p.log.length, 1);
    assert.strictEqual(p.log[0].proxyAuthorization, 'Basic ' + Buffer.from(`nruser:${PASSWORD}`).toString('base64'));
  });
});
