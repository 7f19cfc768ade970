'use strict';
const assert = require('node:assert');
const {
  substituteEnv,
  parsePort,
  resolveBaseUrl,
  safeLabel,
  urlLabel,
  joinUrl,
  setQueryParam,
} = require('../../dist/nodes/lib/http/base-url');
const {
  isValidHeaderName,
  checkAuthSettings,
  applyAuth,
  mergeHeaderLayers,
  basicAuthorization,
} = require('../../dist/nodes/lib/http/auth');
const { createDispatchers } = require('../../dist/nodes/lib/http/agent');
const undici = require('undici');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint');

function rejectsWith(promise, pattern) {
  return assert.rejects(promise, (err) => {
    assert.match(err.message, pattern);
    return true;
  });
}

describe('lib/http/base-url', function () {
  describe('substituteEnv', function () {
    const env = { HOST: 'api.example.com', EMPTY: '', PORT: '8443' };

    it('replaces ${VAR} anywhere in the text, several times', function () {
      const r = substituteEnv('https://${HOST}:${PORT}/v1/${HOST}', env);
      assert.deepStrictEqual(r, {
        value: 'https://api.example.com:8443/v1/api.example.com',
        missing: [],
        substituted: true,
      });
    });

    it('uses the default of ${VAR:-default} when the variable is unset or empty, the value when set', function () {
      assert.strictEqual(substituteEnv('${NOPE:-https://api.stripe.com}/v1', env).value, 'https://api.stripe.com/v1');
      assert.strictEqual(substituteEnv('${EMPTY:-fallback}', env).value, 'fallback');
      assert.strictEqual(substituteEnv('${HOST:-other}', env).value, 'api.example.com');
      assert.strictEqual(substituteEnv('x${NOPE:-}y', env).value, 'xy');
    });

    it('reports variables without default that are missing (unset or empty)', function () {
      const r = substituteEnv('https://${NOPE}/${EMPTY}/${NOPE}', env);
      assert.deepStrictEqual(r.missing, ['NOPE', 'EMPTY']);
      assert.strictEqual(r.value, 'https:////');
    });

    it('leaves text without placeholders alone', function () {
      assert.deepStrictEqual(substituteEnv('https://x/$HOST/{y}', env), {
        value: 'https://x/$HOST/{y}',
        missing: [],
        substituted: false,
      });
    });
  });

  describe('parsePort', function () {
    it('empty means from the URL; 1–65535 are accepted', function () {
      assert.strictEqual(parsePort(''), undefined);
      assert.strictEqual(parsePort(undefined), undefined);
      assert.strictEqual(parsePort('  '), undefined);
      assert.strictEqual(parsePort('1'), 1);
      assert.strictEqual(parsePort(65535), 65535);
      assert.strictEqual(parsePort(' 8080 '), 8080);
    });
    it('rejects anything else', function () {
      for (const bad of ['0', '65536', '-1', '80.5', 'abc', '1e3', 0]) {
        assert.throws(() => parsePort(bad), /port/, String(bad));
      }
    });
  });

  describe('resolveBaseUrl', function () {
    it('accepts http and https, applies the port override, drops userinfo and fragment', function () {
      const r = resolveBaseUrl('https://user:p%40ss@api.example.com/v1#frag', '8443', {});
      assert.strictEqual(r.url.toString(), 'https://api.example.com:8443/v1');
      assert.deepStrictEqual(r.userinfo, { username: 'user', password: 'p@ss' });
      assert.strictEqual(resolveBaseUrl('http://127.0.0.1:1880', '', {}).url.port, '1880');
      assert.strictEqual(resolveBaseUrl('http://127.0.0.1:1880', 9000, {}).url.port, '9000');
    });

    it('resolves ${VAR:-default} with and without the variable', function () {
      const raw = '${SAYPRO_T_URL:-https://api.stripe.com}/v1';
      assert.strictEqual(resolveBaseUrl(raw, '', {}).url.toString(), 'https://api.stripe.com/v1');
      assert.strictEqual(
        resolveBaseUrl(raw, '', { SAYPRO_T_URL: 'http://127.0.0.1:4242' }).url.toString(),
        'http://127.0.0.1:4242/v1',
      );
    });

    it('rejects a missing variable by name, other schemes, and non-URLs', function () {
      assert.throws(() => resolveBaseUrl('https://${SAYPRO_T_MISSING}/v1', '', {}), /SAYPRO_T_MISSING.*not set/);
      assert.throws(() => resolveBaseUrl('ftp://x/y', '', {}), /http:\/\/ or https:\/\//);
      assert.throws(() => resolveBaseUrl('api.example.com', '', {}), /not a valid URL/);
      assert.throws(() => resolveBaseUrl('', '', {}), /required/);
      assert.throws(() => resolveBaseUrl(undefined, '', {}), /required/);
      assert.throws(() => resolveBaseUrl('https://x', '70000', {}), /port/);
    });
  });

  describe('labels', function () {
    it('urlLabel has no userinfo, query, fragment or trailing slash', function () {
      assert.strictEqual(urlLabel(new URL('https://u:p@api.stripe.com/')), 'https://api.stripe.com');
      assert.strictEqual(urlLabel(new URL('https://api.x.com:8443/v1/?key=secret')), 'https://api.x.com:8443/v1');
    });

    it('safeLabel resolves placeholders and strips userinfo even when the URL does not resolve', function () {
      assert.strictEqual(safeLabel('${SAYPRO_T_URL:-https://api.stripe.com}', '', {}), 'https://api.stripe.com');
      assert.strictEqual(safeLabel('https://user:hunter2@api.x.com/v1?key=k', '', {}), 'https://api.x.com/v1');
      const unresolved = safeLabel('https://user:hunter2@${SAYPRO_T_MISSING}/v1?key=k', '', {});
      assert.strictEqual(unresolved, 'https://${SAYPRO_T_MISSING}/v1');
    });
  });

  describe('joinUrl', function () {
    const base = new URL('https://x/v1');

    it('joins with exactly one slash', function () {
      assert.strictEqual(joinUrl(base, '/customers'), 'https://x/v1/customers');
      assert.strictEqual(joinUrl(base, 'customers'), 'https://x/v1/customers');
      assert.strictEqual(joinUrl(new URL('https://x/v1/'), '/customers'), 'https://x/v1/customers');
      assert.strictEqual(joinUrl(new URL('https://x/v1/'), 'customers/'), 'https://x/v1/customers/');
      assert.strictEqual(joinUrl(new URL('https://x'), '/v1/customers'), 'https://x/v1/customers');
      assert.strictEqual(joinUrl(base, ''), 'https://x/v1');
      assert.strictEqual(joinUrl(base, undefined), 'https://x/v1');
    });

    it('keeps the query of the path and of the base', function () {
      assert.strictEqual(joinUrl(base, '/c?limit=3&a=b'), 'https://x/v1/c?limit=3&a=b');
      assert.strictEqual(joinUrl(new URL('https://x/v1?tenant=7'), '/c?limit=3'), 'https://x/v1/c?tenant=7&limit=3');
      assert.strictEqual(joinUrl(base, '?limit=3'), 'https://x/v1?limit=3');
    });

    it('rejects absolute URLs and paths that leave the base path', function () {
      for (const p of ['http://evil/x', 'https://evil/x', 'HTTPS://evil', '//evil/x', 'javascript:alert(1)']) {
        assert.throws(() => joinUrl(base, p), /absolute URL/, p);
      }
      assert.throws(() => joinUrl(base, '/../admin'), /leaves the endpoint base path/);
      assert.throws(() => joinUrl(base, '/%2e%2e/admin'), /leaves the endpoint base path/);
      assert.strictEqual(joinUrl(base, '/a/../b'), 'https://x/v1/b');
      assert.throws(() => joinUrl(base, '/a\r\nX: y'), /control characters/);
      assert.throws(() => joinUrl(base, 42), /must be a string/);
    });
  });

  describe('setQueryParam', function () {
    it('appends with ? or & and URL-encodes name and value', function () {
      assert.strictEqual(
        setQueryParam('https://x/v1/c', 'api_key', 'a b&c=d/é'),
        'https://x/v1/c?api_key=a%20b%26c%3Dd%2F%C3%A9',
      );
      assert.strictEqual(setQueryParam('https://x/v1/c?limit=3', 'key', 'k'), 'https://x/v1/c?limit=3&key=k');
      assert.strictEqual(setQueryParam('https://x/v1/c?', 'key', 'k'), 'https://x/v1/c?key=k');
    });
    it('replaces a parameter of the same name the sender put there', function () {
      assert.strictEqual(
        setQueryParam('https://x/c?key=fake&limit=3&key=other', 'key', 'real'),
        'https://x/c?limit=3&key=real',
      );
    });
  });
});

describe('lib/http/auth', function () {
  it('validates header names (RFC 9110 token)', function () {
    for (const ok of ['X-API-Key', 'Authorization', 'x_custom', "a!#$%&'*+-.^_`|~9"])
      assert.ok(isValidHeaderName(ok), ok);
    for (const bad of ['', 'X API', 'X:Key', 'Ünï', 'a\r\nb', undefined, 3])
      assert.ok(!isValidHeaderName(bad), String(bad));
  });

  it('applies each type', function () {
    const url = 'https://x/v1/c?limit=3';
    assert.deepStrictEqual(applyAuth({ type: 'none' }, url), { headers: {}, url });
    assert.deepStrictEqual(applyAuth({ type: 'apikey', apiKeyIn: 'header', apiKeyName: 'X-Key', apiKey: 'k1' }, url), {
      headers: { 'X-Key': 'k1' },
      url,
    });
    assert.deepStrictEqual(
      applyAuth({ type: 'apikey', apiKeyIn: 'query', apiKeyName: 'api_key', apiKey: 'k 1' }, url),
      { headers: {}, url: url + '&api_key=k%201' },
    );
    assert.deepStrictEqual(applyAuth({ type: 'basic', username: 'ann', password: 'pä:ss' }, url).headers, {
      Authorization: 'Basic ' + Buffer.from('ann:pä:ss', 'utf8').toString('base64'),
    });
    assert.deepStrictEqual(applyAuth({ type: 'bearer', token: 'tok' }, url).headers, { Authorization: 'Bearer tok' });
    assert.deepStrictEqual(applyAuth({ type: 'oauth2' }, url, 'at-1').headers, { Authorization: 'Bearer at-1' });
    assert.throws(() => applyAuth({ type: 'oauth2' }, url), /No OAuth2 access token/);
  });

  it('basicAuthorization is base64 of user:pass', function () {
    assert.strictEqual(basicAuthorization('Aladdin', 'open sesame'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('checkAuthSettings lists what is missing without quoting secrets', function () {
    assert.strictEqual(checkAuthSettings({ type: 'none' }), undefined);
    assert.strictEqual(
      checkAuthSettings({ type: 'apikey', apiKeyIn: 'header', apiKeyName: 'X-Key', apiKey: 'k' }),
      undefined,
    );
    let e = checkAuthSettings({ type: 'apikey', apiKeyIn: 'header', apiKeyName: 'Bad Name', apiKey: '' });
    assert.deepStrictEqual(
      e.details.map((d) => d.field),
      ['apiKeyName', 'apiKey'],
    );
    e = checkAuthSettings({ type: 'apikey', apiKeyIn: 'query', apiKeyName: 'api key', apiKey: 'k' });
    assert.strictEqual(e, undefined, 'a query parameter name need not be a header token');
    e = checkAuthSettings({ type: 'basic', username: 'a:b', password: 'supersecret' });
    assert.match(e.message, /username/);
    assert.ok(!e.message.includes('supersecret'));
    assert.match(checkAuthSettings({ type: 'bearer', token: '' }).message, /token/);
    assert.match(checkAuthSettings({ type: 'bearer', token: 'a\r\nX-Evil: 1' }).message, /line break/);
    assert.match(checkAuthSettings({ type: 'digest' }).message, /authType/);
  });

  it('mergeHeaderLayers: later layers win whatever the case; invalid names and CR/LF are refused', function () {
    const out = mergeHeaderLayers(
      { Accept: 'application/json', 'X-Tenant': 't1', authorization: 'from defaults' },
      { accept: 'text/csv', AUTHORIZATION: 'from sender', 'X-Num': 5, 'X-Skip': undefined },
      { Authorization: 'Bearer real' },
    );
    assert.deepStrictEqual(out, { 'X-Tenant': 't1', accept: 'text/csv', 'X-Num': '5', Authorization: 'Bearer real' });
    assert.throws(() => mergeHeaderLayers({ 'Bad Name': 'x' }), /Bad Name/);
    assert.throws(() => mergeHeaderLayers({ 'X-A': 'a\r\nX-Evil: 1' }), /line break/);
  });
});

describe('lib/http/agent', function () {
  it('one keep-alive undici Agent for every origin; TLS options reach its connect options', function () {
    const a = createDispatchers({ tls: { ca: 'CA-PEM', rejectUnauthorized: undefined, servername: 'api.x' } });
    try {
      assert.ok(a.direct instanceof undici.Agent);
      assert.strictEqual(a.keepAlive, true);
      assert.strictEqual(a.forUrl('https://x/').dispatcher, a.direct);
      assert.strictEqual(a.forUrl(new URL('http://x/')).dispatcher, a.direct);
      assert.strictEqual(a.forUrl('https://x/').proxy, undefined);
      assert.strictEqual(a.connectOptions.ca, 'CA-PEM');
      assert.strictEqual(a.connectOptions.servername, 'api.x');
      assert.strictEqual(a.connectOptions.rejectUnauthorized, true, 'verification is on unless turned off');
    } finally {
      a.destroy();
    }
  });

  it('keepAlive false and verification off are passed on', function () {
    const a = createDispatchers({ keepAlive: false, tls: { rejectUnauthorized: false } });
    try {
      assert.strictEqual(a.keepAlive, false);
      assert.strictEqual(a.connectOptions.rejectUnauthorized, false);
    } finally {
      a.destroy();
    }
  });
});

describe('lib/http/endpoint (Endpoint)', function () {
  const open = [];
  function make(config, credentials, extra) {
    const e = new Endpoint({ id: 'e1', config, credentials, env: {}, ...(extra || {}) });
    open.push(e);
    return e;
  }
  afterEach(function () {
    while (open.length) open.pop().close();
  });

  it('defaults: POST, 10 s timeout, keep-alive agent by scheme, no headers', async function () {
    const e = make({ baseUrl: 'https://api.example.com/v1' });
    assert.strictEqual(e.setupError, undefined);
    assert.strictEqual(e.label, 'https://api.example.com/v1');
    assert.strictEqual(e.defaultMethod, 'POST');
    const r = await e.prepare({ path: '/customers', headers: {} });
    assert.strictEqual(r.method, 'POST');
    assert.strictEqual(r.url, 'https://api.example.com/v1/customers');
    assert.deepStrictEqual(r.headers, {});
    assert.strictEqual(r.timeoutMs, 10000);
    assert.ok(r.dispatcher instanceof undici.Agent);
    assert.strictEqual(r.keepAlive, true);
    assert.strictEqual(r.dispatcher, e.httpAgents.direct);
    assert.strictEqual(r.maxResponseBytes, 10 * 1024 * 1024);
    assert.strictEqual(e.invalidateAuth(), false);
  });

  it('intent.method overrides the default; an unknown method is refused', async function () {
    const e = make({ baseUrl: 'http://127.0.0.1:9/', method: 'PUT', timeout: '2500' });
    assert.strictEqual(e.defaultMethod, 'PUT');
    let r = await e.prepare({ path: '', headers: {} });
    assert.strictEqual(r.method, 'PUT');
    assert.strictEqual(r.timeoutMs, 2500);
    assert.strictEqual(r.dispatcher, e.httpAgents.direct);
    r = await e.prepare({ method: 'PATCH', path: '/x', headers: {} });
    assert.strictEqual(r.method, 'PATCH');
    await rejectsWith(e.prepare({ method: 'DELETE', path: '/x', headers: {} }), /DELETE is not supported/);
  });

  it('header order: defaults < sender < auth, case-insensitive', async function () {
    const e = make(
      {
        baseUrl: 'https://x',
        headers: [
          { name: 'Accept', value: 'application/json' },
          { name: 'X-Api-Key', value: 'default-key' },
          { name: 'X-Tenant', value: 't1' },
        ],
        authType: 'apikey',
        apiKeyIn: 'header',
        apiKeyName: 'X-API-Key',
      },
      { apiKey: 'real-key' },
    );
    const r = await e.prepare({
      path: '/c',
      headers: { accept: 'text/csv', 'x-api-key': 'sender-key', 'X-Extra': '1' },
    });
    assert.deepStrictEqual(r.headers, {
      'X-Tenant': 't1',
      accept: 'text/csv',
      'X-Extra': '1',
      'X-API-Key': 'real-key',
    });
  });

  it('collects every setting problem at once, and prepare() rejects with them', async function () {
    const e = make(
      {
        baseUrl: 'ftp://x',
        port: '99999',
        method: 'DELETE',
        timeout: '0',
        headers: [{ name: 'Bad Name', value: 'v' }],
        authType: 'oauth2',
        tokenUrl: 'nope',
        tokenAuth: 'jwt',
      },
      { clientId: '', clientSecret: '' },
    );
    assert.ok(e.setupError);
    const fields = e.setupError.details.map((d) => d.field);
    for (const f of ['method', 'timeout', 'port', 'headers[0]', 'tokenUrl', 'clientId', 'clientSecret', 'tokenAuth']) {
      assert.ok(fields.includes(f), `${f} in ${fields}`);
    }
    await assert.rejects(e.prepare({ path: '/', headers: {} }), (err) => err.code === 'INVALID_CONFIG');
    assert.deepStrictEqual(e.currentStatus, { fill: 'red', shape: 'ring', text: 'endpoint.status.invalidConfig' });
  });

  it('resolves ${VAR} credentials and ${VAR:-default} in header values from the environment', async function () {
    const env = { SAYPRO_T_TOKEN: 'tok-from-env', SAYPRO_T_TENANT: 'acme' };
    const e = make(
      {
        baseUrl: 'https://x',
        authType: 'bearer',
        headers: [
          { name: 'X-Tenant', value: '${SAYPRO_T_TENANT}' },
          { name: 'X-Region', value: '${SAYPRO_T_REGION:-eu}' },
        ],
      },
      { token: '${SAYPRO_T_TOKEN}' },
      { env },
    );
    const r = await e.prepare({ path: '/', headers: {} });
    assert.strictEqual(r.headers.Authorization, 'Bearer tok-from-env');
    assert.strictEqual(r.headers['X-Tenant'], 'acme');
    assert.strictEqual(r.headers['X-Region'], 'eu');
    const missing = make({ baseUrl: 'https://x', authType: 'bearer' }, { token: '${SAYPRO_T_NOT_SET}' });
    assert.match(missing.setupError.message, /token: environment variable SAYPRO_T_NOT_SET is not set/);
  });

  it('user:password in the base URL becomes Basic when no other auth is chosen, never part of the URL', async function () {
    const e = make({ baseUrl: 'https://ann:s%3Acret@x/v1' });
    const r = await e.prepare({ path: '/c', headers: {} });
    assert.strictEqual(r.url, 'https://x/v1/c');
    assert.strictEqual(r.headers.Authorization, basicAuthorization('ann', 's:cret'));
    assert.strictEqual(e.label, 'https://x/v1');
    assert.ok(e.secrets().includes('s:cret'));
    const other = make({ baseUrl: 'https://ann:pw@x/v1', authType: 'bearer' }, { token: 't' });
    assert.strictEqual(other.warnings.length, 1);
    assert.strictEqual((await other.prepare({ path: '', headers: {} })).headers.Authorization, 'Bearer t');
  });

  it('secrets() and sensitiveNames()', function () {
    const e = make(
      { baseUrl: 'https://x', authType: 'basic', apiKeyName: 'X-Custom-Key' },
      { username: 'ann', password: 'pw-1', apiKey: 'unused-key' },
    );
    assert.deepStrictEqual(
      e.secrets().sort(),
      ['pw-1', 'unused-key', Buffer.from('ann:pw-1').toString('base64')].sort(),
    );
    assert.deepStrictEqual(e.sensitiveNames(), [
      'authorization',
      'proxy-authorization',
      'x-custom-key',
      'x-api-key',
      'api_key',
      'apikey',
      'access_token',
      'client_secret',
      'password',
      'token',
    ]);
    const d = make({ baseUrl: 'https://x' });
    assert.deepStrictEqual(d.sensitiveNames(), [
      'authorization',
      'proxy-authorization',
      'x-api-key',
      'api_key',
      'apikey',
      'access_token',
      'client_secret',
      'password',
      'token',
    ]);
  });

  it('register/deregister/setStatus: users get the status now and later; one failing user does not stop the others', function () {
    const e = make({ baseUrl: 'https://x' });
    const seen = { a: [], b: [] };
    e.register({ id: 'a', status: (s) => seen.a.push(s) });
    e.register({
      id: 'bad',
      status: () => {
        throw new Error('boom');
      },
    });
    e.setStatus({ fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' });
    e.register({ id: 'b', status: (s) => seen.b.push(s) });
    assert.deepStrictEqual(seen.b, [{ fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' }]);
    e.deregister({ id: 'a' });
    e.setStatus({ fill: 'red', shape: 'ring', text: 'x' });
    assert.strictEqual(seen.a.length, 1);
    assert.strictEqual(seen.b.length, 2);
    assert.strictEqual(e.userCount, 2);
  });

  it('close() destroys the agents and refuses further requests', async function () {
    const e = make({ baseUrl: 'https://x' });
    const agents = e.httpAgents;
    let destroyed = 0;
    const orig = agents.destroy;
    agents.destroy = function () {
      destroyed++;
      return orig.call(this);
    };
    e.close();
    assert.strictEqual(destroyed, 1);
    await assert.rejects(e.prepare({ path: '/', headers: {} }), (err) => err.code === 'ENDPOINT_CLOSED');
  });
});

describe('lib/http/endpoint pacing', function () {
  const { PACING_DEFAULTS, pacingSettings, pacingStatus } = require('../../dist/nodes/lib/http/endpoint');
  const { PACER_DEFAULTS } = require('../../dist/nodes/lib/http/pacer-settings');
  const open = [];
  afterEach(function () {
    while (open.length) open.pop().close();
  });
  const flush = () => new Promise((resolve) => setImmediate(resolve));

  /** clock and timers that move only when told to */
  function fakeClock(start = 1700000000000) {
    let t = start;
    let seq = 0;
    const timers = new Map();
    return {
      now: () => t,
      setTimer: (fn, ms) => {
        const id = ++seq;
        timers.set(id, { at: t + ms, fn });
        return id;
      },
      clearTimer: (id) => timers.delete(id),
      pending: () => timers.size,
      async advance(ms) {
        const end = t + ms;
        for (;;) {
          let next;
          for (const [id, timer] of timers) if (timer.at <= end && (!next || timer.at < next[1].at)) next = [id, timer];
          if (!next) break;
          timers.delete(next[0]);
          t = Math.max(t, next[1].at);
          next[1].fn();
          await flush();
        }
        t = end;
        await flush();
      },
    };
  }
  const translate = (k, o) => (o ? `${k} ${JSON.stringify(o)}` : k);
  function make(config, clock) {
    const extra = clock ? { now: clock.now, pacer: { setTimer: clock.setTimer, clearTimer: clock.clearTimer } } : {};
    const e = new Endpoint({ id: 'e1', config, env: {}, translate, ...extra });
    open.push(e);
    return e;
  }

  it('the settings (seconds where the editor has seconds) reach the pacer; empty means the default', function () {
    const e = make({
      baseUrl: 'https://x',
      maxConcurrent: '2',
      rateCount: 100,
      rateInterval: '10',
      breakerFailures: 0,
      breakerRate: '50',
      breakerMinRequests: 20,
      breakerWindow: 0.5,
      breakerOpen: '45',
    });
    assert.strictEqual(e.setupError, undefined);
    assert.deepStrictEqual(
      { ...e.pacer.settings },
      {
        ...PACER_DEFAULTS,
        maxConcurrent: 2,
        rateCount: 100,
        rateIntervalMs: 10000,
        breakerFailures: 0,
        breakerRate: 50,
        breakerMinRequests: 20,
        breakerWindowMs: 500,
        breakerOpenMs: 45000,
      },
    );
    const d = make({
      baseUrl: 'https://x',
      maxConcurrent: '',
      rateCount: '',
      rateInterval: ' ',
      breakerOpen: undefined,
    });
    assert.deepStrictEqual({ ...d.pacer.settings }, { ...PACER_DEFAULTS });
    assert.deepStrictEqual(PACING_DEFAULTS, {
      maxConcurrent: 4,
      rateCount: 0,
      rateInterval: 1,
      breakerFailures: 5,
      breakerRate: 0,
      breakerMinRequests: 10,
      breakerWindow: 60,
      breakerOpen: 30,
    });
    const unlimited = make({ baseUrl: 'https://x', maxConcurrent: 0 });
    assert.strictEqual(unlimited.pacer.settings.maxConcurrent, 0);
    assert.strictEqual(e.pacing().circuit, 'closed');
  });

  it('bad pacing settings are reported with every other problem', async function () {
    const problems = [];
    pacingSettings(
      {
        maxConcurrent: '-1',
        rateCount: 'x',
        rateInterval: '0',
        breakerFailures: 1.5,
        breakerRate: 101,
        breakerMinRequests: 0,
        breakerWindow: 'abc',
        breakerOpen: 90000,
      },
      problems,
    );
    assert.deepStrictEqual(
      problems.map((p) => p.field),
      [
        'maxConcurrent',
        'rateCount',
        'rateInterval',
        'breakerFailures',
        'breakerRate',
        'breakerMinRequests',
        'breakerWindow',
        'breakerOpen',
      ],
    );
    assert.match(problems[4].reason, /percentage from 0 \(off\) to 100/);
    const e = make({ baseUrl: 'https://x', maxConcurrent: 'many' });
    assert.match(e.setupError.message, /maxConcurrent: expected a whole number from 0 \(no limit\) to 1000/);
    await assert.rejects(e.prepare({ path: '/', headers: {} }), (err) => err.code === 'INVALID_CONFIG');
    assert.ok(e.pacer, 'a pacer even so');
  });

  it('pacingStatus: offline, circuit open, half-open, paused n s, or nothing', function () {
    const base = {
      circuit: 'closed',
      pausedUntil: null,
      offline: false,
      inFlight: 0,
      waiting: 0,
      consecutiveFailures: 0,
      openUntil: null,
      nextProbeAt: null,
      offlineCode: null,
    };
    const now = 1000000;
    assert.strictEqual(pacingStatus(base, now, translate), undefined);
    assert.deepStrictEqual(pacingStatus({ ...base, pausedUntil: now + 11200 }, now, translate), {
      fill: 'yellow',
      shape: 'ring',
      text: 'endpoint.status.paused {"seconds":12}',
    });
    assert.deepStrictEqual(pacingStatus({ ...base, circuit: 'open', pausedUntil: now + 5 }, now, translate), {
      fill: 'red',
      shape: 'ring',
      text: 'endpoint.status.circuitOpen',
    });
    assert.deepStrictEqual(pacingStatus({ ...base, circuit: 'half-open' }, now, translate), {
      fill: 'yellow',
      shape: 'ring',
      text: 'endpoint.status.halfOpen',
    });
    assert.deepStrictEqual(pacingStatus({ ...base, circuit: 'open', offline: true }, now, translate), {
      fill: 'yellow',
      shape: 'ring',
      text: 'endpoint.status.offline',
    });
  });

  it('users see the pacing status while requests are held back, and the last status again afterwards', async function () {
    const clock = fakeClock();
    const e = make({ baseUrl: 'https://x', breakerFailures: 1, breakerOpen: 30 }, clock);
    const seen = [];
    e.register({ id: 'u', status: (s) => seen.push(s.text || '{}') });
    e.setStatus({ fill: 'green', shape: 'dot', text: 'endpoint.status.tokenOk' });
    // a 429 with Retry-After: 12 s
    (await e.pacer.acquire()).release({ kind: 'response', status: 429, retryAfterMs: 12000 });
    assert.deepStrictEqual(e.currentStatus, {
      fill: 'yellow',
      shape: 'ring',
      text: 'endpoint.status.paused {"seconds":12}',
    });
    await clock.advance(12000);
    // network down, then back
    (await e.pacer.acquire()).release({ kind: 'network', code: 'ECONNREFUSED' });
    assert.strictEqual(e.pacing().offline, true);
    await clock.advance(1000);
    (await e.pacer.acquire()).release({ kind: 'response', status: 404 });
    // circuit open, half-open, closed
    (await e.pacer.acquire()).release({ kind: 'response', status: 500 });
    assert.deepStrictEqual(e.currentStatus, { fill: 'red', shape: 'ring', text: 'endpoint.status.circuitOpen' });
    await clock.advance(30000);
    const probe = await e.pacer.acquire();
    assert.strictEqual(probe.probe, true);
    probe.release({ kind: 'response', status: 200 });
    assert.deepStrictEqual(seen, [
      'endpoint.status.tokenOk',
      'endpoint.status.paused {"seconds":12}',
      'endpoint.status.tokenOk',
      'endpoint.status.offline',
      'endpoint.status.tokenOk',
      'endpoint.status.circuitOpen',
      'endpoint.status.halfOpen',
      'endpoint.status.tokenOk',
    ]);
    // with no status of its own, the pacing status is cleared with {}
    const plain = make({ baseUrl: 'https://x' }, clock);
    const got = [];
    plain.register({ id: 'u', status: (s) => got.push(s) });
    plain.pacer.pauseUntil(clock.now() + 2000);
    await clock.advance(2000);
    assert.deepStrictEqual(got, [{ fill: 'yellow', shape: 'ring', text: 'endpoint.status.paused {"seconds":2}' }, {}]);
    assert.strictEqual(plain.currentStatus, undefined);
  });

  it('close() rejects the requests waiting for the pacer with ENDPOINT_CLOSED', async function () {
    const e = make({ baseUrl: 'https://x', maxConcurrent: 1 });
    const first = await e.pacer.acquire();
    const waiting = e.pacer.acquire();
    e.close();
    await assert.rejects(waiting, (err) => err.code === 'ENDPOINT_CLOSED');
    first.release();
  });
});
