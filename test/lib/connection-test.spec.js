'use strict';
/**
 * lib/connection-test.ts against real servers on 127.0.0.1: each step in plain
 * words, stopping at the first that fails.
 */
const assert = require('node:assert');
const http = require('node:http');
const net = require('node:net');
const https = require('node:https');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { testConnection } = require('../../dist/nodes/lib/connection-test');

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('lib/connection-test', function () {
  let server;
  let base;
  const seen = [];
  before(async function () {
    server = await listen((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        if (req.url === '/token') {
          if (!body.includes('client_secret=right')) {
            res.statusCode = 401;
            res.setHeader('content-type', 'application/json');
            return res.end('{"error":"invalid_client"}');
          }
          res.setHeader('content-type', 'application/json');
          return res.end('{"access_token":"at_1","expires_in":3600}');
        }
        res.statusCode = req.headers.authorization === 'Bearer good' ? 200 : 401;
        res.end();
      });
    });
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  it('names a setting that does not work (a missing variable) and stops there', async function () {
    const r = await testConnection(
      { config: { baseUrl: base, authType: 'apikey' }, credentials: { apiKey: '${NO_SUCH_KEY_VAR}' } },
      { env: {} },
    );
    assert.strictEqual(r.ok, false);
    assert.deepStrictEqual(
      r.steps.map((s) => s.step),
      ['settings'],
    );
    assert.match(r.summary, /NO_SUCH_KEY_VAR is not set/);
  });

  it('host not found', async function () {
    const lookup = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const r = await testConnection({ config: { baseUrl: 'https://partner-typo.example.invalid' } }, { lookup });
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.summary, 'dns: host not found');
  });

  it('connection refused on a port where nothing listens', async function () {
    const probe = net.createServer();
    await new Promise((r) => probe.listen(0, '127.0.0.1', r));
    const port = probe.address().port;
    await new Promise((r) => probe.close(r));
    const r = await testConnection({ config: { baseUrl: `http://127.0.0.1:${port}` } });
    assert.deepStrictEqual(
      r.steps.map((s) => [s.step, s.ok]),
      [
        ['settings', true],
        ['dns', true],
        ['tcp', false],
      ],
    );
    assert.match(r.summary, /^tcp: connection refused/);
  });

  it('a probe path tries the credentials: refused (401) and accepted (200)', async function () {
    const bad = await testConnection({
      config: { baseUrl: base, authType: 'bearer' },
      credentials: { token: 'wrong' },
      path: '/me',
    });
    assert.strictEqual(bad.ok, false);
    assert.match(
      bad.summary,
      /^auth: 401 from the partner: the credentials were refused \(GET http:\/\/127\.0\.0\.1:\d+\/me\)$/,
    );
    const good = await testConnection({
      config: { baseUrl: base, authType: 'bearer' },
      credentials: { token: 'good' },
      path: '/me',
    });
    assert.strictEqual(good.ok, true, JSON.stringify(good));
    assert.strictEqual(good.summary, 'connection works');
    assert.match(good.steps[3].text, /answered 200: the credentials were accepted/);
    assert.ok(!JSON.stringify(good).includes('good"'), 'the token is not in the result');
  });

  it("OAuth2: fetches a token with the endpoint's token code; a refused client is said so", async function () {
    const cfg = { baseUrl: base, authType: 'oauth2', tokenUrl: `${base}/token` };
    const ok = await testConnection(
      { config: cfg, credentials: { clientId: 'c', clientSecret: '${CS}' } },
      { env: { CS: 'right' } },
    );
    assert.strictEqual(ok.ok, true, JSON.stringify(ok));
    assert.match(ok.steps[3].text, /access token/);
    const no = await testConnection({ config: cfg, credentials: { clientId: 'c', clientSecret: 'wrong-secret' } });
    assert.strictEqual(no.ok, false);
    assert.match(no.summary, /^auth: .*HTTP 401: invalid_client/);
    assert.ok(!no.summary.includes('wrong-secret'));
  });

  describe('TLS', function () {
    let tlsServer;
    let dir;
    let cert;
    before(function () {
      // a self-signed certificate for 127.0.0.1, made with the openssl command line for this test
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-tls-'));
      const r = spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ]);
      if (r.status !== 0) throw new Error('openssl failed: ' + r.stderr);
      cert = fs.readFileSync(path.join(dir, 'cert.pem'));
      tlsServer = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert }, (req, res) =>
        res.end(),
      );
      return new Promise((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    });
    after(function () {
      fs.rmSync(dir, { recursive: true, force: true });
      return new Promise((resolve) => tlsServer.close(resolve));
    });

    it('says a self-signed certificate is not trusted, and that one signed by a given CA is', async function () {
      const baseUrl = `https://127.0.0.1:${tlsServer.address().port}`;
      const bad = await testConnection({ config: { baseUrl } });
      assert.strictEqual(bad.ok, false);
      assert.strictEqual(bad.summary, 'tls: TLS: certificate not trusted (self-signed)');
      const good = await testConnection({ config: { baseUrl } }, { tls: { ca: cert } });
      assert.strictEqual(good.ok, true, JSON.stringify(good));
      assert.match(
        good.steps.find((x) => x.step === 'tls').text,
        /^TLS TLSv1\.[23]: certificate trusted, valid until /,
      );
    });
  });
});
