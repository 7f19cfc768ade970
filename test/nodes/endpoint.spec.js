'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');
const { execFileSync } = require('node:child_process');
const undici = require('undici');
const { undiciTransport } = require('../../dist/nodes/lib/http/transport');
const helper = require('node-red-node-test-helper');
const { loadDialog } = require('../support/dialogs');
const endpointNode = require('../../dist/nodes/endpoint.js');
const tlsNode = require('@node-red/nodes/core/network/05-tls.js');

helper.init(require.resolve('node-red'));

const OPENSSL = '/usr/bin/openssl';
const SECRET = 'client-secret-Zq9!';

function load(nodes, flow, creds) {
  return new Promise((resolve) => helper.load(nodes, flow, creds || {}, resolve));
}

/** one endpoint config node e1 with the given properties */
async function endpoint(config, creds, more) {
  await load([endpointNode, tlsNode], [{ id: 'e1', type: 'saypro-endpoint', ...config }, ...(more || [])], {
    e1: creds || {},
  });
  return helper.getNode('e1');
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}
function close(server) {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Every log line of the run, as one string, to look for secrets in. */
function logs() {
  return JSON.stringify(helper.log().args.map((a) => a[0]));
}

describe('saypro-endpoint node', function () {
  afterEach(async function () {
    for (const k of Object.keys(process.env)) if (k.startsWith('SAYPRO_TEST_EP_')) delete process.env[k];
    await helper.unload();
  });

  it('loads with defaults', async function () {
    const e1 = await endpoint({ name: 'api', baseUrl: 'https://api.example.com/v1' });
    assert.strictEqual(e1.type, 'saypro-endpoint');
    assert.strictEqual(e1.name, 'api');
    assert.strictEqual(e1.label, 'https://api.example.com/v1');
    assert.strictEqual(e1.defaultMethod, 'POST');
    assert.strictEqual(e1.endpoint.setupError, undefined);
    const r = await e1.prepare({ path: '/customers', headers: {} });
    assert.strictEqual(r.method, 'POST');
    assert.strictEqual(r.url, 'https://api.example.com/v1/customers');
    assert.deepStrictEqual(r.headers, {});
    assert.strictEqual(r.timeoutMs, 10000);
    assert.ok(r.dispatcher instanceof undici.Agent);
    assert.strictEqual(r.keepAlive, true);
    assert.strictEqual(e1.invalidateAuth(), false);
    assert.deepStrictEqual(e1.secrets(), []);
  });

  it('prepare() for none, API key (header, query), Basic and Bearer', async function () {
    let e1 = await endpoint({
      baseUrl: 'http://127.0.0.1:9/api',
      authType: 'none',
      method: 'PUT',
      timeout: 1500,
      keepAlive: false,
    });
    let r = await e1.prepare({ path: '/items?x=1', headers: { 'X-Trace': 't' } });
    assert.deepStrictEqual(
      { method: r.method, url: r.url, headers: r.headers, timeoutMs: r.timeoutMs },
      {
        method: 'PUT',
        url: 'http://127.0.0.1:9/api/items?x=1',
        headers: { 'X-Trace': 't' },
        timeoutMs: 1500,
      },
    );
    assert.ok(r.dispatcher instanceof undici.Agent);
    assert.strictEqual(r.keepAlive, false);
    await helper.unload();

    e1 = await endpoint(
      { baseUrl: 'https://x/v1', authType: 'apikey', apiKeyIn: 'header', apiKeyName: 'X-Api-Token' },
      { apiKey: 'key-123' },
    );
    r = await e1.prepare({ path: '/c', headers: { 'x-api-token': 'forged', Accept: 'application/json' } });
    assert.strictEqual(r.url, 'https://x/v1/c');
    assert.deepStrictEqual(r.headers, { Accept: 'application/json', 'X-Api-Token': 'key-123' });
    await helper.unload();

    e1 = await endpoint(
      { baseUrl: 'https://x/v1', authType: 'apikey', apiKeyIn: 'query', apiKeyName: 'api_key' },
      { apiKey: 'k&1 /=' },
    );
    assert.strictEqual((await e1.prepare({ path: '/c', headers: {} })).url, 'https://x/v1/c?api_key=k%261%20%2F%3D');
    assert.strictEqual(
      (await e1.prepare({ path: '/c?limit=2', headers: {} })).url,
      'https://x/v1/c?limit=2&api_key=k%261%20%2F%3D',
    );
    assert.deepStrictEqual((await e1.prepare({ path: '/c', headers: {} })).headers, {});
    await helper.unload();

    e1 = await endpoint({ baseUrl: 'https://x', authType: 'basic' }, { username: 'ann', password: 'p@ss wörd' });
    r = await e1.prepare({ path: '/c', headers: { authorization: 'forged' } });
    assert.deepStrictEqual(r.headers, {
      Authorization: 'Basic ' + Buffer.from('ann:p@ss wörd', 'utf8').toString('base64'),
    });
    await helper.unload();

    e1 = await endpoint(
      { baseUrl: 'https://x', authType: 'bearer', headers: [{ name: 'Accept', value: 'application/json' }] },
      { token: 'tok-abc' },
    );
    r = await e1.prepare({ method: 'GET', path: '/me', headers: { accept: 'text/plain' } });
    assert.strictEqual(r.method, 'GET');
    assert.deepStrictEqual(r.headers, { accept: 'text/plain', Authorization: 'Bearer tok-abc' });
    assert.deepStrictEqual(e1.secrets(), ['tok-abc']);
  });

  it('rejects an absolute URL as the path', async function () {
    const e1 = await endpoint({ baseUrl: 'https://x/v1' });
    await assert.rejects(
      e1.prepare({ path: 'https://evil.example/steal', headers: {} }),
      (err) => err.code === 'INVALID_PATH',
    );
    await assert.rejects(e1.prepare({ path: 'http://evil.example/steal', headers: {} }), /absolute URL/);
  });

  it('reads ${VAR} credentials from the environment when it starts', async function () {
    process.env.SAYPRO_TEST_EP_USER = 'env-user';
    process.env.SAYPRO_TEST_EP_PASS = 'env-pass';
    const e1 = await endpoint(
      { baseUrl: 'https://x', authType: 'basic' },
      { username: '${SAYPRO_TEST_EP_USER}', password: '${SAYPRO_TEST_EP_PASS}' },
    );
    const r = await e1.prepare({ path: '/', headers: {} });
    assert.strictEqual(r.headers.Authorization, 'Basic ' + Buffer.from('env-user:env-pass').toString('base64'));
    assert.ok(e1.secrets().includes('env-pass'));
  });

  it('a ${VAR} credential that is not set: invalid config for users, an error naming the variable', async function () {
    const e1 = await endpoint({ baseUrl: 'https://x', authType: 'bearer' }, { token: '${SAYPRO_TEST_EP_MISSING}' });
    const seen = [];
    e1.register({ id: 'u1', status: (s) => seen.push(s) });
    assert.deepStrictEqual(seen, [{ fill: 'red', shape: 'ring', text: 'endpoint.status.invalidConfig' }]);
    await assert.rejects(e1.prepare({ path: '/', headers: {} }), (err) => {
      assert.strictEqual(err.code, 'INVALID_CONFIG');
      assert.match(err.message, /SAYPRO_TEST_EP_MISSING is not set/);
      return true;
    });
    assert.match(logs(), /SAYPRO_TEST_EP_MISSING/);
  });

  describe('only the chosen authentication type is read and checked (the partner preset, then "None")', function () {
    // what the Partner preset leaves behind: an API key credential referring to a variable that is not set
    const partner = { baseUrl: 'https://partner.example.com', apiKeyIn: 'header', apiKeyName: 'X-API-Key' };
    const leftOver = { apiKey: '${SAYPRO_TEST_EP_PARTNER_API_KEY}', token: '${SAYPRO_TEST_EP_UNSET_TOKEN}' };

    it('authentication "none": the hidden API key is neither resolved, checked nor sent', async function () {
      const e1 = await endpoint({ ...partner, authType: 'none' }, leftOver);
      assert.strictEqual(e1.endpoint.setupError, undefined, e1.endpoint.setupError && e1.endpoint.setupError.message);
      const r = await e1.prepare({ path: '/orders', headers: {} });
      assert.deepStrictEqual(r.headers, {});
      assert.strictEqual(r.url, 'https://partner.example.com/orders');
      assert.doesNotMatch(logs(), /PARTNER_API_KEY|UNSET_TOKEN|invalidConfig/);
    });

    it('authentication "API key": the same credential is required and its variable named', async function () {
      const e1 = await endpoint({ ...partner, authType: 'apikey' }, leftOver);
      await assert.rejects(e1.prepare({ path: '/orders', headers: {} }), (err) => {
        assert.strictEqual(err.code, 'INVALID_CONFIG');
        assert.match(err.message, /apiKey: environment variable SAYPRO_TEST_EP_PARTNER_API_KEY is not set/);
        // the bearer token field is not this type's: not mentioned
        assert.doesNotMatch(err.message, /UNSET_TOKEN/);
        return true;
      });
      process.env.SAYPRO_TEST_EP_PARTNER_API_KEY = 'pk-123';
      await helper.unload();
      const e2 = await endpoint({ ...partner, authType: 'apikey' }, leftOver);
      const r = await e2.prepare({ path: '/orders', headers: {} });
      assert.deepStrictEqual(r.headers, { 'X-API-Key': 'pk-123' });
    });

    it('Basic: a left-over literal API key is not sent, and is still redacted should it come back', async function () {
      const e1 = await endpoint(
        { ...partner, authType: 'basic' },
        { apiKey: 'left-over-key-123', username: 'u', password: 'p' },
      );
      const r = await e1.prepare({ path: '/', headers: {} });
      assert.deepStrictEqual(Object.keys(r.headers), ['Authorization']);
      assert.ok(e1.secrets().includes('left-over-key-123'));
    });
  });

  it('${VAR:-default} in the base URL, with and without the variable', async function () {
    const config = { baseUrl: '${SAYPRO_TEST_EP_URL:-https://api.stripe.com}/v1' };
    let e1 = await endpoint(config);
    assert.strictEqual(e1.label, 'https://api.stripe.com/v1');
    assert.strictEqual(
      (await e1.prepare({ path: '/customers', headers: {} })).url,
      'https://api.stripe.com/v1/customers',
    );
    await helper.unload();
    process.env.SAYPRO_TEST_EP_URL = 'http://127.0.0.1:12111';
    e1 = await endpoint(config);
    assert.strictEqual(e1.label, 'http://127.0.0.1:12111/v1');
    const r = await e1.prepare({ path: '/customers', headers: {} });
    assert.strictEqual(r.url, 'http://127.0.0.1:12111/v1/customers');
    assert.strictEqual(r.dispatcher, e1.endpoint.httpAgents.direct);
  });

  it('the port setting overrides the URL port; an empty port keeps it', async function () {
    let e1 = await endpoint({ baseUrl: 'http://127.0.0.1:1880/in', port: '8081' });
    assert.strictEqual((await e1.prepare({ path: '/x', headers: {} })).url, 'http://127.0.0.1:8081/in/x');
    assert.strictEqual(e1.label, 'http://127.0.0.1:8081/in');
    await helper.unload();
    e1 = await endpoint({ baseUrl: 'http://127.0.0.1:1880/in', port: '' });
    assert.strictEqual((await e1.prepare({ path: '/x', headers: {} })).url, 'http://127.0.0.1:1880/in/x');
    await helper.unload();
    e1 = await endpoint({ baseUrl: 'http://127.0.0.1:1880/in', port: '70000' });
    await assert.rejects(e1.prepare({ path: '/x', headers: {} }), /port/);
  });

  it('label and errors never show userinfo', async function () {
    const e1 = await endpoint({ baseUrl: 'https://ann:hunter2@api.example.com/v1' });
    assert.strictEqual(e1.label, 'https://api.example.com/v1');
    const r = await e1.prepare({ path: '/c', headers: {} });
    assert.strictEqual(r.url, 'https://api.example.com/v1/c');
    assert.strictEqual(r.headers.Authorization, 'Basic ' + Buffer.from('ann:hunter2').toString('base64'));
    assert.ok(!logs().includes('hunter2'));
  });

  it('sensitiveNames() and users registered/deregistered through setStatus', async function () {
    const e1 = await endpoint({ baseUrl: 'https://x', authType: 'apikey', apiKeyName: 'Stripe-Key' }, { apiKey: 'sk' });
    assert.deepStrictEqual(e1.sensitiveNames(), [
      'authorization',
      'proxy-authorization',
      'stripe-key',
      'x-api-key',
      'api_key',
      'apikey',
      'access_token',
      'client_secret',
      'password',
      'token',
    ]);
    const a = [];
    const b = [];
    e1.register({ id: 'a', status: (s) => a.push(s) });
    e1.register({ id: 'b', status: (s) => b.push(s) });
    assert.deepStrictEqual(a, [], 'no status before there is one');
    e1.setStatus({ fill: 'yellow', shape: 'ring', text: 'endpoint.status.x' });
    e1.deregister({ id: 'a' });
    e1.setStatus({ fill: 'green', shape: 'dot', text: 'endpoint.status.y' });
    assert.deepStrictEqual(
      a.map((s) => s.text),
      ['endpoint.status.x'],
    );
    assert.deepStrictEqual(
      b.map((s) => s.text),
      ['endpoint.status.x', 'endpoint.status.y'],
    );
  });

  it('close destroys the agents; prepare() afterwards is refused', async function () {
    const e1 = await endpoint({ baseUrl: 'https://x' });
    const agents = e1.endpoint.httpAgents;
    const destroyed = [];
    const orig = agents.destroy;
    agents.destroy = function () {
      destroyed.push('all');
      return orig.call(this);
    };
    await helper.unload();
    assert.deepStrictEqual(destroyed, ['all']);
    assert.strictEqual(agents.direct.destroyed, true);
    await assert.rejects(e1.prepare({ path: '/', headers: {} }), (err) => err.code === 'ENDPOINT_CLOSED');
  });

  describe('pacing', function () {
    it('the node hands out its pacer (handle.pacer) and pacing(); the settings come from the flow', async function () {
      const e1 = await endpoint({
        baseUrl: 'http://127.0.0.1:9',
        maxConcurrent: 2,
        rateCount: '100',
        rateInterval: '10',
        breakerFailures: 3,
        breakerRate: 50,
        breakerWindow: 30,
        breakerOpen: 5,
      });
      assert.strictEqual(e1.pacer, e1.endpoint.pacer);
      assert.strictEqual(typeof e1.pacer.acquire, 'function');
      const st = e1.pacing();
      assert.deepStrictEqual(
        [st.circuit, st.pausedUntil, st.offline, st.inFlight, st.waiting, st.consecutiveFailures],
        ['closed', null, false, 0, 0, 0],
      );
      const s = e1.pacer.settings;
      assert.deepStrictEqual(
        [
          s.maxConcurrent,
          s.rateCount,
          s.rateIntervalMs,
          s.breakerFailures,
          s.breakerRate,
          s.breakerWindowMs,
          s.breakerOpenMs,
        ],
        [2, 100, 10000, 3, 50, 30000, 5000],
      );
      const a = await e1.pacer.acquire();
      const b = await e1.pacer.acquire();
      const third = e1.pacer.acquire();
      assert.deepStrictEqual([e1.pacing().inFlight, e1.pacing().waiting], [2, 1]);
      a.release({ kind: 'response', status: 200 });
      (await third).release();
      b.release();
      assert.deepStrictEqual([e1.pacing().inFlight, e1.pacing().waiting], [0, 0]);
    });

    it('a bad pacing setting is an invalid config naming the field', async function () {
      const e1 = await endpoint({ baseUrl: 'http://127.0.0.1:9', breakerRate: 150 });
      await assert.rejects(
        e1.prepare({ path: '/', headers: {} }),
        (err) => err.code === 'INVALID_CONFIG' && /breakerRate/.test(err.message),
      );
      assert.match(logs(), /endpoint\.status\.invalidConfig.*breakerRate/);
    });

    it('users are shown "paused" while a Retry-After pause lasts, then the status before it', async function () {
      const e1 = await endpoint({ baseUrl: 'http://127.0.0.1:9' });
      const seen = [];
      e1.register({ id: 'u', status: (s) => seen.push(s) });
      e1.setStatus({ fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' });
      (await e1.pacer.acquire()).release({ kind: 'response', status: 503, retryAfterMs: 150 });
      assert.deepStrictEqual(seen[1], { fill: 'yellow', shape: 'ring', text: 'endpoint.status.paused' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepStrictEqual(seen.slice(2), [{ fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' }]);
      assert.strictEqual(e1.pacing().pausedUntil, null);
    });

    it('stopping the endpoint rejects the requests waiting for it with ENDPOINT_CLOSED and leaves no timer behind', async function () {
      const e1 = await endpoint({ baseUrl: 'http://127.0.0.1:9', rateCount: 1, rateInterval: 3600 });
      (await e1.pacer.acquire()).release({ kind: 'response', status: 200 });
      const waiting = e1.pacer.acquire();
      await helper.unload();
      await assert.rejects(waiting, (err) => err.code === 'ENDPOINT_CLOSED');
      await assert.rejects(e1.pacer.acquire(), (err) => err.code === 'ENDPOINT_CLOSED');
      assert.strictEqual(e1.pacer.isClosed, true);
    });
  });

  describe('OAuth2 against a local token server', function () {
    let server;
    let tokenUrl;
    let requests;
    let respond;
    let hold;

    beforeEach(async function () {
      requests = [];
      hold = null;
      respond = (n) => ({ status: 200, body: { access_token: `at-${n}`, token_type: 'Bearer', expires_in: 3600 } });
      server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', async () => {
          requests.push({ headers: req.headers, form: Object.fromEntries(new URLSearchParams(body)) });
          if (hold) await hold.promise;
          const r = respond(requests.length);
          res.writeHead(r.status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(r.body));
        });
      });
      tokenUrl = `http://127.0.0.1:${await listen(server)}/oauth/token`;
    });
    afterEach(function () {
      return close(server);
    });

    function oauthEndpoint(extra, creds) {
      return endpoint(
        {
          baseUrl: 'https://api.example.com',
          authType: 'oauth2',
          tokenUrl,
          scope: 'payments:write',
          audience: 'https://api.example.com/',
          ...(extra || {}),
        },
        { clientId: 'cid', clientSecret: SECRET, ...(creds || {}) },
      );
    }

    it('20 concurrent prepare() calls → exactly 1 token request; 401 → invalidateAuth() → refetch', async function () {
      const e1 = await oauthEndpoint();
      let release;
      hold = {
        promise: new Promise((r) => {
          release = r;
        }),
      };
      const all = Promise.all(Array.from({ length: 20 }, () => e1.prepare({ path: '/v1/charges', headers: {} })));
      while (requests.length < 1) await new Promise((r) => setImmediate(r));
      release();
      const prepared = await all;
      hold = null;
      assert.strictEqual(requests.length, 1);
      for (const p of prepared) {
        assert.strictEqual(p.url, 'https://api.example.com/v1/charges');
        assert.deepStrictEqual(p.headers, { Authorization: 'Bearer at-1' });
      }
      assert.deepStrictEqual(requests[0].form, {
        grant_type: 'client_credentials',
        scope: 'payments:write',
        audience: 'https://api.example.com/',
        client_id: 'cid',
        client_secret: SECRET,
      });
      assert.ok(e1.secrets().includes('at-1') && e1.secrets().includes(SECRET));
      assert.strictEqual(e1.invalidateAuth(), true);
      assert.strictEqual((await e1.prepare({ path: '/v1/charges', headers: {} })).headers.Authorization, 'Bearer at-2');
      assert.strictEqual(requests.length, 2);
    });

    it('tokenAuth "basic" sends the client as HTTP Basic to the token endpoint', async function () {
      const e1 = await oauthEndpoint({ tokenAuth: 'basic' });
      await e1.prepare({ path: '/', headers: {} });
      assert.strictEqual(
        requests[0].headers.authorization,
        'Basic ' + Buffer.from(`cid:${encodeURIComponent(SECRET)}`).toString('base64'),
      );
      assert.strictEqual(requests[0].form.client_secret, undefined);
    });

    it('a client secret from ${VAR}', async function () {
      process.env.SAYPRO_TEST_EP_SECRET = 'secret-from-env';
      const e1 = await oauthEndpoint({}, { clientSecret: '${SAYPRO_TEST_EP_SECRET}' });
      await e1.prepare({ path: '/', headers: {} });
      assert.strictEqual(requests[0].form.client_secret, 'secret-from-env');
    });

    it('token failure: red ring "token failed" to users, a clear error without the secret, none in status, label or log', async function () {
      respond = (n) =>
        n === 1
          ? { status: 401, body: { error: 'invalid_client', error_description: `bad secret ${SECRET}` } }
          : { status: 200, body: { access_token: 'at-ok', expires_in: 60 } };
      const e1 = await oauthEndpoint();
      const seen = [];
      e1.register({ id: 'u1', status: (s) => seen.push(s) });
      let message;
      await assert.rejects(e1.prepare({ path: '/', headers: {} }), (err) => {
        message = err.message;
        assert.strictEqual(err.code, 'OAUTH2_TOKEN');
        assert.match(err.message, /HTTP 401: invalid_client \(bad secret \*\*\*\)/);
        return true;
      });
      assert.ok(!message.includes(SECRET));
      assert.deepStrictEqual(seen, [{ fill: 'red', shape: 'ring', text: 'endpoint.status.tokenFailed' }]);
      await e1.prepare({ path: '/', headers: {} });
      assert.deepStrictEqual(seen[1], { fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' });
      const everything = JSON.stringify({ seen, label: e1.label, logs: logs() });
      assert.ok(!everything.includes(SECRET), everything);
    });

    it('an unreachable token URL is a clear rejection', async function () {
      const e1 = await oauthEndpoint({ tokenUrl: 'http://127.0.0.1:1/token' });
      await assert.rejects(
        e1.prepare({ path: '/', headers: {} }),
        /The token request to http:\/\/127\.0\.0\.1:1\/token failed: .*ECONNREFUSED/,
      );
    });
  });

  describe('TLS with a self-signed certificate', function () {
    let dir;
    let server;
    let base;

    before(async function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-ep-tls-'));
      execFileSync(
        OPENSSL,
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
      server = https.createServer(
        { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
        (req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ ok: true, path: req.url, auth: req.headers.authorization || null }));
        },
      );
      base = `https://127.0.0.1:${await listen(server)}/api`;
    });
    after(async function () {
      await close(server);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function send(prepared) {
      const res = await undiciTransport({
        method: prepared.method,
        url: prepared.url,
        headers: prepared.headers,
        timeout: prepared.timeoutMs,
        signal: new AbortController().signal,
        dispatcher: prepared.dispatcher,
        keepAlive: prepared.keepAlive,
        data: prepared.method === 'GET' ? undefined : Buffer.from('{}'),
      });
      return { status: res.status, data: JSON.parse(res.data.toString('utf8')) };
    }

    function tls(extra) {
      return {
        id: 't1',
        type: 'tls-config',
        name: 'local ca',
        cert: '',
        key: '',
        ca: '',
        verifyservercert: true,
        ...(extra || {}),
      };
    }

    it('fails with verification on and no CA', async function () {
      const e1 = await endpoint({ baseUrl: base });
      const prepared = await e1.prepare({ path: '/hello', headers: {} });
      await assert.rejects(send(prepared), (err) => {
        assert.match(String(err.code), /SELF_SIGNED|UNABLE_TO_VERIFY/);
        return true;
      });
    });

    it('succeeds with the CA from a tls-config node (file path)', async function () {
      const e1 = await endpoint({ baseUrl: base, tls: 't1', authType: 'bearer' }, { token: 'tok-tls' }, [
        tls({ ca: path.join(dir, 'cert.pem') }),
      ]);
      const prepared = await e1.prepare({ path: '/hello', headers: {} });
      assert.ok(e1.endpoint.httpAgents.connectOptions.ca, 'the CA reached the agent');
      const res = await send(prepared);
      assert.strictEqual(res.status, 200);
      assert.deepStrictEqual(res.data, { ok: true, path: '/api/hello', auth: 'Bearer tok-tls' });
    });

    it('succeeds with the CA uploaded into the tls-config credentials (cadata)', async function () {
      await load(
        [endpointNode, tlsNode],
        [{ id: 'e1', type: 'saypro-endpoint', baseUrl: base, tls: 't1' }, tls({ caname: 'cert.pem' })],
        { t1: { cadata: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') } },
      );
      const res = await send(await helper.getNode('e1').prepare({ path: '/x', headers: {} }));
      assert.strictEqual(res.status, 200);
    });

    it('a tls-config node with verification off connects without a CA; a missing tls node is invalid config', async function () {
      let e1 = await endpoint({ baseUrl: base, tls: 't1' }, {}, [tls({ verifyservercert: false })]);
      const prepared = await e1.prepare({ path: '/x', headers: {} });
      assert.strictEqual(e1.endpoint.httpAgents.connectOptions.rejectUnauthorized, false);
      assert.strictEqual((await send(prepared)).status, 200);
      await helper.unload();
      e1 = await endpoint({ baseUrl: base, tls: 'nope' });
      await assert.rejects(e1.prepare({ path: '/x', headers: {} }), /TLS configuration was not found|tls/);
    });
  });

  describe('editor definition (nodes/endpoint.html)', function () {
    let def;
    before(function () {
      // the dialog's own script, after the package scripts it loads (resources/rules.js …)
      const dialog = loadDialog('endpoint');
      def = { type: dialog.type, ...dialog.def };
    });
    const ctx = (props) => ({ _: (k, o) => (o ? `${k} ${JSON.stringify(o)}` : k), ...(props || {}) });
    const check = (prop, value, props) => def.defaults[prop].validate.call(ctx(props), value, {});

    it('is a config node with the documented defaults and credentials', function () {
      assert.strictEqual(def.type, 'saypro-endpoint');
      assert.strictEqual(def.category, 'config');
      const values = JSON.parse(
        JSON.stringify(Object.fromEntries(Object.entries(def.defaults).map(([k, v]) => [k, v.value]))),
      );
      assert.deepStrictEqual(values, {
        preset: '',
        name: '',
        baseUrl: '',
        port: '',
        method: 'POST',
        headers: [],
        timeout: 10000,
        keepAlive: true,
        tls: '',
        authType: 'none',
        apiKeyIn: 'header',
        apiKeyName: 'X-API-Key',
        tokenUrl: '',
        scope: '',
        audience: '',
        tokenAuth: 'body',
        maxConcurrent: 4,
        rateCount: 0,
        rateInterval: 1,
        breakerFailures: 5,
        breakerRate: 0,
        breakerMinRequests: 10,
        breakerWindow: 60,
        breakerOpen: 30,
        maxResponseMB: 10,
        proxy: '',
        allowHosts: '',
        blockPrivate: false,
        secretVars: {},
      });
      const { DEFAULT_MAX_RESPONSE_MB } = require('../../dist/nodes/lib/http/endpoint');
      assert.strictEqual(values.maxResponseMB, DEFAULT_MAX_RESPONSE_MB);
      assert.deepStrictEqual(
        { type: def.defaults.proxy.type, required: def.defaults.proxy.required },
        { type: 'http proxy', required: false },
      );
      assert.strictEqual(check('maxResponseMB', '0.5'), true);
      assert.strictEqual(check('maxResponseMB', '0'), 'endpoint.errors.maxResponseMB');
      assert.strictEqual(check('allowHosts', 'api.stripe.com, *.example.com'), true);
      assert.strictEqual(check('allowHosts', 'http://x/'), 'endpoint.errors.allowHosts');
      // the runtime has the same defaults
      const { PACING_DEFAULTS } = require('../../dist/nodes/lib/http/endpoint');
      for (const [k, v] of Object.entries(PACING_DEFAULTS)) assert.strictEqual(values[k], v, k);
      assert.strictEqual(def.defaults.baseUrl.required, true);
      assert.deepStrictEqual(
        { type: def.defaults.tls.type, required: def.defaults.tls.required },
        { type: 'tls-config', required: false },
      );
      assert.deepStrictEqual(Object.fromEntries(Object.entries(def.credentials).map(([k, v]) => [k, v.type])), {
        apiKey: 'password',
        username: 'text',
        password: 'password',
        token: 'password',
        clientId: 'text',
        clientSecret: 'password',
      });
    });

    it('label: name, else the host (placeholders given their default, no userinfo), else the preset', function () {
      assert.strictEqual(def.label.call(ctx({ name: 'Stripe', baseUrl: 'https://x' })), 'Stripe');
      assert.strictEqual(
        def.label.call(ctx({ baseUrl: '${STRIPE_API_URL:-https://api.stripe.com}' })),
        'api.stripe.com',
      );
      assert.strictEqual(def.label.call(ctx({ baseUrl: 'https://u:pw@api.x.com/v1/?k=1' })), 'api.x.com');
      assert.strictEqual(def.label.call(ctx({ baseUrl: 'http://127.0.0.1/api', port: '8443' })), '127.0.0.1:8443');
      // a host known only when the flow starts: the preset's name, else the setting as written
      assert.strictEqual(def.label.call(ctx({ baseUrl: '${PARTNER_URL}/v2', preset: 'stripe' })), 'Stripe');
      assert.strictEqual(def.label.call(ctx({ baseUrl: '${PARTNER_URL}/v2' })), '${PARTNER_URL}/v2');
      assert.strictEqual(def.label.call(ctx({ baseUrl: '' })), 'endpoint.paletteLabel');
    });

    it('validators explain themselves', function () {
      assert.strictEqual(check('baseUrl', 'https://api.x.com/v1'), true);
      assert.strictEqual(check('baseUrl', '${API_URL}'), true);
      assert.strictEqual(check('baseUrl', '${API_URL:-https://a.b}/v1'), true);
      assert.strictEqual(check('baseUrl', 'ftp://x'), 'endpoint.errors.urlScheme');
      assert.strictEqual(check('baseUrl', ''), 'endpoint.errors.baseUrlRequired');
      assert.strictEqual(check('port', ''), true);
      assert.strictEqual(check('port', '8443'), true);
      assert.strictEqual(check('port', '0'), 'endpoint.errors.port');
      assert.strictEqual(check('port', '65536'), 'endpoint.errors.port');
      assert.strictEqual(check('timeout', 1), true);
      assert.strictEqual(check('timeout', 0), 'endpoint.errors.timeout');
      assert.strictEqual(check('timeout', '1.5'), 'endpoint.errors.timeout');
      assert.strictEqual(check('method', 'DELETE'), 'endpoint.errors.method');
      // a property missing from an imported flow takes the runtime default
      assert.strictEqual(check('method', undefined), true);
      assert.strictEqual(check('timeout', ''), true);
      assert.strictEqual(check('authType', undefined), true);
      assert.strictEqual(check('tokenAuth', undefined, { authType: 'oauth2' }), true);
      assert.strictEqual(check('tokenAuth', 'jwt', { authType: 'oauth2' }), 'endpoint.errors.tokenAuth');
      assert.strictEqual(check('apiKeyName', '', { authType: 'apikey' }), true);
      assert.strictEqual(
        check('apiKeyName', '', { authType: 'apikey', apiKeyIn: 'query' }),
        'endpoint.errors.apiKeyParam',
      );
      assert.strictEqual(check('apiKeyName', 'Bad Name', { authType: 'none' }), true);
      assert.strictEqual(check('apiKeyName', 'Bad Name', { authType: 'apikey' }), 'endpoint.errors.apiKeyName');
      assert.strictEqual(check('apiKeyName', 'X-Key', { authType: 'apikey' }), true);
      assert.strictEqual(check('apiKeyName', 'api key', { authType: 'apikey', apiKeyIn: 'query' }), true);
      assert.strictEqual(check('tokenUrl', '', { authType: 'basic' }), true);
      assert.strictEqual(check('tokenUrl', '', { authType: 'oauth2' }), 'endpoint.errors.tokenUrlRequired');
      assert.strictEqual(check('tokenUrl', 'auth.x.com/token', { authType: 'oauth2' }), 'endpoint.errors.urlScheme');
      assert.strictEqual(check('tokenUrl', 'https://auth.x.com/token', { authType: 'oauth2' }), true);
      assert.strictEqual(check('headers', [{ name: 'Accept', value: 'x' }]), true);
      const problems = check('headers', [
        { name: 'Bad Name', value: 'x' },
        { name: '', value: 'y' },
      ]);
      assert.ok(Array.isArray(problems) && problems.length === 2, JSON.stringify(problems));
    });

    it('pacing validators explain themselves; empty takes the default', function () {
      for (const f of [
        'maxConcurrent',
        'rateCount',
        'rateInterval',
        'breakerFailures',
        'breakerRate',
        'breakerMinRequests',
        'breakerWindow',
        'breakerOpen',
      ]) {
        assert.strictEqual(check(f, ''), true, f);
        assert.strictEqual(check(f, undefined), true, f);
        assert.strictEqual(check(f, 'x'), `endpoint.errors.${f}`, f);
        assert.strictEqual(check(f, -1), `endpoint.errors.${f}`, f);
      }
      assert.strictEqual(check('maxConcurrent', 0), true);
      assert.strictEqual(check('maxConcurrent', '16'), true);
      assert.strictEqual(check('maxConcurrent', 1001), 'endpoint.errors.maxConcurrent');
      assert.strictEqual(check('maxConcurrent', 2.5), 'endpoint.errors.maxConcurrent');
      assert.strictEqual(check('rateCount', 100), true);
      assert.strictEqual(check('rateInterval', '0.5'), true);
      assert.strictEqual(check('rateInterval', 0), 'endpoint.errors.rateInterval');
      assert.strictEqual(check('breakerRate', 100), true);
      assert.strictEqual(check('breakerRate', 101), 'endpoint.errors.breakerRate');
      assert.strictEqual(check('breakerMinRequests', 0), 'endpoint.errors.breakerMinRequests');
      assert.strictEqual(check('breakerOpen', 86400), true);
      assert.strictEqual(check('breakerOpen', 86401), 'endpoint.errors.breakerOpen');
      assert.strictEqual(check('breakerWindow', '60'), true);
    });

    it('every pacing field has a form input, and every i18n key used exists in the catalogue', function () {
      const html = fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'endpoint.html'), 'utf8');
      for (const f of [
        'maxConcurrent',
        'rateCount',
        'rateInterval',
        'breakerFailures',
        'breakerRate',
        'breakerMinRequests',
        'breakerWindow',
        'breakerOpen',
      ]) {
        assert.ok(html.includes(`id="node-config-input-${f}"`), f);
      }
      const catalogue = JSON.parse(
        fs.readFileSync(path.join(__dirname, '..', '..', 'locales', 'en-US', 'endpoint.json'), 'utf8'),
      );
      const keys = new Set();
      for (const m of html.matchAll(/(?:data-i18n="(?:\[[a-z]+\])?|_\(')(endpoint\.[A-Za-z0-9.]+)/g)) keys.add(m[1]);
      for (const k of Object.values(require('../../dist/nodes/lib/http/endpoint').STATUS_KEYS)) keys.add(k);
      assert.ok(keys.has('endpoint.label.pacingTip') && keys.has('endpoint.status.paused'));
      for (const key of keys) {
        const value = key.split('.').reduce((o, part) => (o ? o[part] : undefined), catalogue);
        assert.strictEqual(typeof value, 'string', key);
      }
      assert.match(catalogue.endpoint.status.paused, /__seconds__/);
    });
  });
});
