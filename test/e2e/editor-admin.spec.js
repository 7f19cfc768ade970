'use strict';
/**
 * The editor's admin routes (preview, last input, generate key, test
 * connection, monitor) in a real Node-RED with adminAuth: without a token they
 * answer 401; a read-only user may preview and read the monitor but not
 * generate a key (refused: 401); an admin may. The key is 32 random bytes, new each time.
 */
const assert = require('assert');
const bcrypt = require('bcryptjs');
const { startNodeRed } = require('../support/nodered');

describe('editor admin routes behind adminAuth (real Node-RED)', function () {
  this.timeout(60000);
  let nr;

  before(async function () {
    const hash = bcrypt.hashSync('secret-pass', 8);
    nr = await startNodeRed({
      flow: [{ id: 'eatab', type: 'tab', label: 'admin' }],
      env: { EA_SET_VARIABLE: 'a-secret-value-never-answered', EA_EMPTY_VARIABLE: '' },
      settings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'admin', password: hash, permissions: '*' },
            { username: 'viewer', password: hash, permissions: 'read' },
          ],
        },
      },
    });
  });
  after(async function () {
    if (nr) await nr.stop();
  });

  async function token(username) {
    const res = await fetch(`${nr.base}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: username === 'admin' ? '*' : 'read',
        username,
        password: 'secret-pass',
      }),
    });
    assert.strictEqual(res.status, 200);
    return (await res.json()).access_token;
  }

  function call(method, path, tok, body) {
    const headers = { 'content-type': 'application/json' };
    if (tok) headers.authorization = `Bearer ${tok}`;
    return fetch(`${nr.base}/saypro-integration-kit/${path}`, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  const previewBody = { type: 'saypro-format-encoder', config: { format: 'json' }, msg: { payload: { a: 1 } } };

  it('answers 401 without a token', async function () {
    for (const [method, path, body] of [
      ['POST', 'preview', previewBody],
      ['GET', 'last-input/x'],
      ['POST', 'generate-key', {}],
      ['POST', 'test-connection', {}],
      ['GET', 'monitor'],
      ['GET', 'env?names=EA_SET_VARIABLE'],
    ]) {
      const res = await call(method, path, null, body);
      assert.strictEqual(res.status, 401, `${method} ${path}`);
    }
  });

  it('lets a read-only user preview and read the monitor, not generate a key or test a connection', async function () {
    const tok = await token('viewer');
    const p = await call('POST', 'preview', tok, previewBody);
    assert.strictEqual(p.status, 200);
    const r = await p.json();
    assert.deepStrictEqual(
      { ok: r.ok, contentType: r.contentType, body: r.body },
      { ok: true, contentType: 'application/json; charset=utf-8', body: '{"a":1}' },
    );
    assert.strictEqual((await call('GET', 'monitor', tok)).status, 200);
    assert.deepStrictEqual(await (await call('GET', 'last-input/nothing', tok)).json(), { msg: null });
    // Node-RED answers a missing permission with 401, as for no token
    assert.strictEqual((await call('POST', 'generate-key', tok, {})).status, 401);
    assert.strictEqual((await call('POST', 'test-connection', tok, {})).status, 401);
  });

  it('tells a reader which environment variables the server has, by name only, never a value', async function () {
    const tok = await token('viewer');
    const res = await call('GET', 'env?names=EA_SET_VARIABLE,EA_EMPTY_VARIABLE,EA_NOT_SET,bad-name,1X', tok);
    assert.strictEqual(res.status, 200);
    const text = await res.text();
    assert.deepStrictEqual(JSON.parse(text), {
      set: { EA_SET_VARIABLE: true, EA_EMPTY_VARIABLE: false, EA_NOT_SET: false },
    });
    assert.ok(!text.includes('a-secret-value'), 'no value is answered');
  });

  it('gives an admin a new random 32-byte key each time', async function () {
    const tok = await token('admin');
    const a = await (await call('POST', 'generate-key', tok, {})).json();
    const b = await (await call('POST', 'generate-key', tok, {})).json();
    assert.match(a.key, /^[0-9a-f]{64}$/);
    assert.notStrictEqual(a.key, b.key);
  });
});
