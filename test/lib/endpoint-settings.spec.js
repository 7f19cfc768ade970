'use strict';
/**
 * lib/http/endpoint-settings: the endpoint config node's properties and
 * credentials read once, without opening anything: the values a live
 * endpoint uses, every problem in the dialog's order, the values to redact.
 */
const assert = require('node:assert');
const { readEndpointSettings } = require('../../dist/nodes/lib/http/endpoint-settings');
const { DEFAULT_MAX_RESPONSE_MB, DEFAULT_TIMEOUT_MS } = require('../../dist/nodes/lib/http/endpoint-config');
const { IntegrationError } = require('../../dist/nodes/lib/errors');
const { basicAuthorization } = require('../../dist/nodes/lib/http/auth');

const read = (config, credentials, more) => readEndpointSettings({ config, credentials, env: {}, ...(more || {}) });

describe('lib/http/endpoint-settings (readEndpointSettings)', function () {
  it('defaults: POST, 10 s, 10 MB, X-API-Key, keep-alive, no auth, no problem', function () {
    const s = read({ baseUrl: 'https://api.example.com/v1/' });
    assert.deepStrictEqual(s.problems, []);
    assert.deepStrictEqual(s.warnings, []);
    assert.strictEqual(s.label, 'https://api.example.com/v1');
    assert.strictEqual(s.base.toString(), 'https://api.example.com/v1/');
    assert.strictEqual(s.defaultMethod, 'POST');
    assert.strictEqual(s.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.strictEqual(s.maxResponseBytes, DEFAULT_MAX_RESPONSE_MB * 1024 * 1024);
    assert.strictEqual(s.apiKeyName, 'X-API-Key');
    assert.strictEqual(s.keepAlive, true);
    assert.strictEqual(s.authType, 'none');
    assert.strictEqual(s.auth.type, 'none');
    assert.strictEqual(s.tokenUrl, undefined);
    assert.strictEqual(s.oauth2, undefined);
    assert.deepStrictEqual(s.defaultHeaders, {});
    assert.deepStrictEqual(s.secretValues, []);
    assert.strictEqual(s.pacing.maxConcurrent, 4);
  });

  it('lists every problem in the order of the dialog, the glue’s own last, and never throws', function () {
    const s = read(
      {
        baseUrl: 'ftp://x',
        port: '99999',
        method: 'DELETE',
        timeout: '0',
        maxResponseMB: '5000',
        allowHosts: 'good.example.com, bad host!',
        headers: [
          { name: 'Bad Name', value: 'v' },
          { name: 'X-Env', value: '${NOT_SET}' },
          { name: '', value: '' },
        ],
        authType: 'oauth2',
        tokenUrl: 'nope',
        tokenAuth: 'jwt',
        maxConcurrent: '-1',
      },
      { clientId: '', clientSecret: '' },
      { extraProblem: new IntegrationError('INVALID_CONFIG', 'no tls', [{ field: 'tls', reason: 'not found' }]) },
    );
    assert.deepStrictEqual(
      s.problems.map((p) => p.field),
      [
        'method',
        'timeout',
        'maxResponseMB',
        'allowHosts',
        'port',
        'baseUrl',
        'headers[0]',
        'headers[1]',
        'tokenUrl',
        'clientId',
        'clientSecret',
        'tokenAuth',
        'maxConcurrent',
        'tls',
      ],
    );
    // an unusable value falls back to its default
    assert.strictEqual(s.defaultMethod, 'POST');
    assert.strictEqual(s.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.match(s.problems.find((p) => p.field === 'headers[1]').reason, /NOT_SET is not set/);
    assert.match(s.problems.find((p) => p.field === 'tokenUrl').reason, /^The token URL/);
    assert.strictEqual(s.oauth2, undefined);
  });

  it('reads only the credentials the chosen authentication uses; unused literals are still redacted', function () {
    const s = read(
      { baseUrl: 'https://x', authType: 'bearer' },
      { token: '${TOKEN_VAR}', apiKey: 'left-over-key', password: '${UNUSED_VAR}' },
      { env: { TOKEN_VAR: 'tok-1' } },
    );
    assert.deepStrictEqual(s.problems, []);
    assert.strictEqual(s.auth.type, 'bearer');
    assert.strictEqual(s.auth.token, 'tok-1');
    assert.strictEqual(s.auth.apiKey, undefined);
    assert.deepStrictEqual(s.secretValues, ['tok-1', 'left-over-key']);

    const missing = read({ baseUrl: 'https://x', authType: 'bearer' }, { token: '${TOKEN_VAR}', apiKey: '${NOPE}' });
    assert.deepStrictEqual(missing.problems, [
      { field: 'token', reason: 'environment variable TOKEN_VAR is not set' },
      { field: 'token', reason: 'the token is required' },
    ]);
  });

  it('an unknown authentication type is reported, and reads no credential', function () {
    const s = read({ baseUrl: 'https://x', authType: 'kerberos' }, { token: 't', apiKey: 'k' });
    assert.strictEqual(s.authType, 'none');
    assert.ok(s.problems.length >= 1, JSON.stringify(s.problems));
    assert.strictEqual(s.auth.token, undefined);
  });

  it('API key: an empty header name means X-API-Key; in the query its name is required', function () {
    const h = read({ baseUrl: 'https://x', authType: 'apikey', apiKeyName: ' ' }, { apiKey: 'k1' });
    assert.deepStrictEqual(h.problems, []);
    assert.strictEqual(h.apiKeyName, 'X-API-Key');
    assert.strictEqual(h.auth.apiKeyName, 'X-API-Key');
    const q = read({ baseUrl: 'https://x', authType: 'apikey', apiKeyIn: 'query', apiKeyName: '' }, { apiKey: 'k1' });
    assert.strictEqual(q.auth.apiKeyName, '');
    assert.strictEqual(q.problems.length, 1, JSON.stringify(q.problems));
  });

  it('OAuth2: the token URL (variables resolved), the client, scope and audience trimmed, body by default', function () {
    const s = read(
      {
        baseUrl: 'https://api',
        authType: 'oauth2',
        tokenUrl: '${AUTH_HOST:-https://auth.example.com}/token',
        scope: ' read write ',
        audience: ' api ',
      },
      { clientId: 'cid', clientSecret: 'csecret' },
    );
    assert.deepStrictEqual(s.problems, []);
    assert.strictEqual(s.tokenUrl, 'https://auth.example.com/token');
    assert.deepStrictEqual(s.oauth2, {
      tokenUrl: 'https://auth.example.com/token',
      clientId: 'cid',
      clientSecret: 'csecret',
      scope: 'read write',
      audience: 'api',
      tokenAuth: 'body',
    });
    assert.deepStrictEqual(s.secretValues, ['csecret']);

    const inUrl = read(
      { baseUrl: 'https://api', authType: 'oauth2', tokenUrl: 'https://cid:cs@auth/token' },
      { clientId: 'cid', clientSecret: 'cs' },
    );
    assert.deepStrictEqual(
      inUrl.problems.map((p) => p.field),
      ['tokenUrl'],
    );
  });

  it('user:password in the base URL: Basic when no authentication is chosen, else ignored with a warning', function () {
    const none = read({ baseUrl: 'https://ann:s%3Acret@x/v1' });
    assert.deepStrictEqual(none.auth, { type: 'basic', username: 'ann', password: 's:cret' });
    assert.deepStrictEqual(none.secretValues, ['s:cret', basicAuthorization('ann', 's:cret').slice(6)]);
    assert.deepStrictEqual(none.warnings, []);
    assert.strictEqual(none.label, 'https://x/v1');

    const other = read({ baseUrl: 'https://ann:pw@x/v1', authType: 'bearer' }, { token: 't' });
    assert.strictEqual(other.auth.type, 'bearer');
    assert.strictEqual(other.warnings.length, 1);
    assert.ok(!/pw/.test(other.warnings[0]));
  });

  it('default headers: variables resolved now; values from the environment are secrets; empty rows skipped', function () {
    const s = read(
      {
        baseUrl: 'https://x',
        headers: [
          { name: 'X-Tenant', value: '${TENANT}' },
          { name: '', value: '' },
          { name: 'Accept', value: 'text/csv' },
        ],
      },
      undefined,
      { env: { TENANT: 'acme-secret' } },
    );
    assert.deepStrictEqual(s.problems, []);
    assert.deepStrictEqual(s.defaultHeaders, { 'X-Tenant': 'acme-secret', Accept: 'text/csv' });
    assert.ok(s.secretValues.includes('acme-secret'));
    assert.ok(!s.secretValues.includes('text/csv'));

    const broken = read({ baseUrl: 'https://x', headers: [{ name: 'X-A', value: 'a\nb' }] });
    assert.deepStrictEqual(broken.problems, [{ field: 'headers[0]', reason: 'the value contains a line break' }]);
  });

  it('the target guard and keep-alive come from the settings', function () {
    const s = read({ baseUrl: 'https://x', allowHosts: 'x, *.example.com', blockPrivate: 'true', keepAlive: 'false' });
    assert.deepStrictEqual(s.problems, []);
    assert.strictEqual(s.keepAlive, false);
    assert.doesNotThrow(() => s.guard.checkUrl('https://api.example.com/'));
    assert.throws(
      () => s.guard.checkUrl('https://elsewhere.org/'),
      (e) => e.code === 'TARGET_BLOCKED',
    );
  });

  it('the tls passphrase is a secret', function () {
    const s = read({ baseUrl: 'https://x' }, undefined, { tls: { passphrase: 'pp-1' } });
    assert.deepStrictEqual(s.secretValues, ['pp-1']);
  });
});
