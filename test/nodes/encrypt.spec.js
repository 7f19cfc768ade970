'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const CryptoJS = require('crypto-js');
const helper = require('node-red-node-test-helper');
const encryptNode = require('../../dist/nodes/encrypt.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

const KEY_HEX = crypto.createHash('sha256').update('saypro encrypt node test key').digest('hex');
const KEY = Buffer.from(KEY_HEX, 'hex');
const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const OPENSSL = '/usr/bin/openssl';

/** encrypt node n1 → helper h1 (output 1) and h2 (output 2), plus a Catch node on the tab. */
function flow(config) {
  return [
    { id: 'f1', type: 'tab', label: 'encrypt' },
    { id: 'n1', z: 'f1', type: 'saypro-encrypt', name: 'enc', ...(config || {}), wires: [['h1'], ['h2']] },
    { id: 'h1', z: 'f1', type: 'helper' },
    { id: 'h2', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['h3']] },
    { id: 'h3', z: 'f1', type: 'helper' },
  ];
}

function statusCalls(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

/** Every status, log line and message of the run, as one string, to look for secrets in. */
function everythingSeen(node, msgs) {
  const logs = helper.log().args.map((a) => a[0]);
  return JSON.stringify({
    status: statusCalls(node),
    logs,
    msgs: msgs.map((m) => ({ ...m, payload: String(m.payload) })),
  });
}

function gcmOpen(envelope, key, aad) {
  const e = JSON.parse(envelope);
  const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(e.iv, 'base64'), { authTagLength: 16 });
  if (aad) d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(e.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(e.ct, 'base64')), d.final()]);
}

/** Runs one message through n1 and resolves with what arrives on output 1 or 2 (and Catch). */
function run(config, creds, msg) {
  return new Promise((resolve, reject) => {
    helper.load([encryptNode, catchNode], flow(config), { n1: creds }, () => {
      const n1 = helper.getNode('n1');
      const seen = { ok: [], error: [], caught: [] };
      const finish = () => resolve({ n1, ...seen });
      helper.getNode('h1').on('input', (m) => {
        seen.ok.push(m);
        setImmediate(finish);
      });
      helper.getNode('h2').on('input', (m) => {
        seen.error.push(m);
      });
      helper.getNode('h3').on('input', (m) => {
        seen.caught.push(m);
        setImmediate(finish);
      });
      try {
        n1.receive(msg);
      } catch (err) {
        reject(err);
      }
    });
  });
}

describe('saypro-encrypt node', function () {
  afterEach(function () {
    delete process.env.SAYPRO_TEST_ENC_KEY;
    return helper.unload();
  });

  it('loads with defaults', function (done) {
    const f = [{ id: 'n1', type: 'saypro-encrypt', name: 'enc', wires: [[], []] }];
    helper.load(encryptNode, f, { n1: { key: KEY_HEX } }, function () {
      try {
        const n1 = helper.getNode('n1');
        assert.strictEqual(n1.name, 'enc');
        assert.strictEqual(n1.type, 'saypro-encrypt');
        assert.deepStrictEqual(statusCalls(n1).pop(), {});
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('GCM by default: an envelope string, headers, msg.encryption and a green count', async function () {
    const { n1, ok, error } = await run(
      {},
      { key: KEY_HEX },
      { payload: 'héllo', headers: { 'Content-Type': 'text/plain', 'X-Other': 'kept' } },
    );
    assert.strictEqual(error.length, 0);
    const m = ok[0];
    assert.strictEqual(typeof m.payload, 'string');
    const e = JSON.parse(m.payload);
    assert.deepStrictEqual(Object.keys(e), ['v', 'alg', 'kid', 'iv', 'tag', 'ct', 'cty']);
    assert.strictEqual(e.alg, 'A256GCM');
    assert.strictEqual(e.kid, 'k1');
    assert.strictEqual(e.cty, 'text/plain');
    assert.strictEqual(gcmOpen(m.payload, KEY).toString('utf8'), 'héllo');
    assert.deepStrictEqual(m.headers, {
      'X-Other': 'kept',
      'content-type': 'application/json; charset=utf-8',
      'x-encryption-alg': 'A256GCM',
      'x-encryption-kid': 'k1',
    });
    assert.deepStrictEqual(m.encryption, { alg: 'A256GCM', kid: 'k1' });
    assert.deepStrictEqual(statusCalls(n1).pop(), { fill: 'green', shape: 'dot', text: 'encrypt.status.encrypted' });
  });

  it('objects become JSON with cty application/json; Buffers keep their bytes; no header, no cty for strings', async function () {
    let r = await run({ kid: 'k2' }, { key: KEY_HEX }, { payload: { amount: 12.5, tags: ['a'] } });
    let e = JSON.parse(r.ok[0].payload);
    assert.strictEqual(e.cty, 'application/json');
    assert.strictEqual(e.kid, 'k2');
    assert.strictEqual(r.ok[0].headers['x-encryption-kid'], 'k2');
    assert.deepStrictEqual(JSON.parse(gcmOpen(r.ok[0].payload, KEY)), { amount: 12.5, tags: ['a'] });
    await helper.unload();
    const bytes = crypto.randomBytes(100);
    r = await run({}, { key: KEY_HEX }, { payload: bytes });
    e = JSON.parse(r.ok[0].payload);
    assert.strictEqual(e.cty, 'application/octet-stream');
    assert.deepStrictEqual(gcmOpen(r.ok[0].payload, KEY), bytes);
    await helper.unload();
    r = await run({}, { key: KEY_HEX }, { payload: 'plain' });
    assert.ok(!('cty' in JSON.parse(r.ok[0].payload)));
  });

  it('CBC-HMAC and CryptoJS set their alg header and content type', async function () {
    let r = await run({ algorithm: 'aes-256-cbc-hmac' }, { key: KEY.toString('base64') }, { payload: 'x' });
    assert.strictEqual(JSON.parse(r.ok[0].payload).alg, 'A256CBC-HS256');
    assert.strictEqual(r.ok[0].headers['x-encryption-alg'], 'A256CBC-HS256');
    await helper.unload();
    r = await run({ algorithm: 'cryptojs' }, { key: 'correct horse' }, { payload: 'hello' });
    const m = r.ok[0];
    assert.ok(m.payload.startsWith('U2FsdGVkX1'));
    assert.strictEqual(CryptoJS.AES.decrypt(m.payload, 'correct horse').toString(CryptoJS.enc.Utf8), 'hello');
    assert.deepStrictEqual(m.headers, {
      'content-type': 'text/plain; charset=utf-8',
      'x-encryption-alg': 'CryptoJS-AES',
      'x-encryption-kid': 'k1',
    });
  });

  it('binds msg.event.id as AAD', async function () {
    const r = await run(
      { aad: 'event.id', aadType: 'msg' },
      { key: KEY_HEX },
      { payload: 'x', event: { id: 'evt_1' } },
    );
    assert.strictEqual(gcmOpen(r.ok[0].payload, KEY, 'evt_1').toString(), 'x');
    assert.throws(() => gcmOpen(r.ok[0].payload, KEY, 'evt_2'));
    assert.throws(() => gcmOpen(r.ok[0].payload, KEY));
    assert.ok(!r.ok[0].payload.includes('evt_1'), 'AAD is not sent');
  });

  it('takes AAD from a fixed string or an environment variable too', async function () {
    let r = await run({ aad: 'tenant-42', aadType: 'str' }, { key: KEY_HEX }, { payload: 'x' });
    assert.strictEqual(gcmOpen(r.ok[0].payload, KEY, 'tenant-42').toString(), 'x');
    assert.throws(() => gcmOpen(r.ok[0].payload, KEY));
    await helper.unload();
    process.env.SAYPRO_TEST_ENC_AAD = 'from-env';
    try {
      r = await run({ aad: 'SAYPRO_TEST_ENC_AAD', aadType: 'env' }, { key: KEY_HEX }, { payload: 'y' });
    } finally {
      delete process.env.SAYPRO_TEST_ENC_AAD;
    }
    assert.strictEqual(gcmOpen(r.ok[0].payload, KEY, 'from-env').toString(), 'y');
  });

  it('a missing AAD property goes to output 2 and Catch (ENCRYPT_AAD)', async function () {
    const r = await run({ aad: 'event.id', aadType: 'msg' }, { key: KEY_HEX }, { payload: 'x' });
    assert.strictEqual(r.ok.length, 0);
    assert.strictEqual(r.error.length, 1);
    assert.strictEqual(r.error[0].error.code, 'ENCRYPT_AAD');
    assert.strictEqual(r.error[0].payload, 'x');
    assert.strictEqual(r.caught.length, 1);
    assert.deepStrictEqual(statusCalls(r.n1).pop(), { fill: 'red', shape: 'ring', text: 'encrypt.status.failed' });
  });

  it('a missing payload goes to output 2 (ENCRYPT_INPUT)', async function () {
    const r = await run({}, { key: KEY_HEX }, { topic: 'nothing' });
    assert.strictEqual(r.ok.length, 0);
    assert.strictEqual(r.error[0].error.code, 'ENCRYPT_INPUT');
    assert.strictEqual(r.caught.length, 1);
  });

  for (const [label, key, algorithm] of [
    ['a passphrase for GCM', 'not a 32 byte key', 'aes-256-gcm'],
    ['31 bytes of hex', KEY_HEX.slice(2), 'aes-256-gcm'],
    ['16 bytes of base64 for CBC-HMAC', crypto.randomBytes(16).toString('base64'), 'aes-256-cbc-hmac'],
    ['no key', undefined, 'cryptojs'],
  ]) {
    it(`invalid key at start (${label}): red ring, every message to output 2, key never shown`, async function () {
      const r = await run({ algorithm }, key === undefined ? {} : { key }, { payload: 'secret stuff' });
      assert.deepStrictEqual(statusCalls(r.n1)[0], { fill: 'red', shape: 'ring', text: 'encrypt.status.invalidKey' });
      assert.strictEqual(r.ok.length, 0);
      assert.strictEqual(r.error.length, 1);
      assert.strictEqual(r.error[0].error.code, 'INVALID_KEY');
      assert.ok(r.error[0].error.details.length >= 1);
      assert.strictEqual(r.caught.length, 1);
      if (key) assert.ok(!everythingSeen(r.n1, [...r.error, ...r.caught]).includes(key));
    });
  }

  it('reads a ${VAR} key from the environment at start', async function () {
    process.env.SAYPRO_TEST_ENC_KEY = KEY.toString('base64url');
    const r = await run({}, { key: '${SAYPRO_TEST_ENC_KEY}' }, { payload: 'from env' });
    assert.strictEqual(gcmOpen(r.ok[0].payload, KEY).toString(), 'from env');
  });

  it('a ${VAR} key whose variable is unset is an invalid key naming the variable', async function () {
    const r = await run({}, { key: '${SAYPRO_TEST_ENC_KEY}' }, { payload: 'x' });
    assert.deepStrictEqual(statusCalls(r.n1)[0], { fill: 'red', shape: 'ring', text: 'encrypt.status.invalidKey' });
    assert.strictEqual(r.error[0].error.code, 'INVALID_KEY');
    assert.match(r.error[0].error.message, /SAYPRO_TEST_ENC_KEY/);
  });

  it('never puts the key in a message, status or log', async function () {
    for (const [algorithm, key] of [
      ['aes-256-gcm', KEY_HEX],
      ['aes-256-cbc-hmac', KEY.toString('base64')],
      ['cryptojs', 'passphrase-abc-123'],
    ]) {
      const r = await run({ algorithm }, { key }, { payload: { a: 1 } });
      const seen = everythingSeen(r.n1, r.ok);
      for (const form of [key, KEY_HEX, KEY.toString('base64'), KEY.toString('base64url')]) {
        assert.ok(!seen.includes(form), `${algorithm}: key visible`);
      }
      assert.strictEqual(r.ok.length, 1);
      await helper.unload();
    }
  });

  describe('receivers without this package', function () {
    it('the GCM envelope opens with test/fixtures/receiver-gcm.js (plain Node)', async function () {
      const r = await run(
        { aad: 'event.id', aadType: 'msg' },
        { key: KEY_HEX },
        { payload: { hello: 'wörld' }, event: { id: 'evt_9' } },
      );
      const out = execFileSync(process.execPath, [path.join(FIXTURES, 'receiver-gcm.js')], {
        input: r.ok[0].payload,
        env: { PATH: process.env.PATH, ENCRYPTION_KEY: KEY_HEX, ENCRYPTION_AAD: 'evt_9' },
      });
      assert.deepStrictEqual(JSON.parse(out.toString('utf8')), { hello: 'wörld' });
      const bad = spawnSync(process.execPath, [path.join(FIXTURES, 'receiver-gcm.js')], {
        input: r.ok[0].payload,
        env: { PATH: process.env.PATH, ENCRYPTION_KEY: KEY_HEX, ENCRYPTION_AAD: 'evt_8' },
      });
      assert.notStrictEqual(bad.status, 0, 'wrong AAD must fail in the recipe too');
    });

    it('the GCM envelope opens with test/fixtures/receiver-gcm.py (python3 + cryptography)', async function () {
      const probe = spawnSync('python3', ['-c', 'from cryptography.hazmat.primitives.ciphers.aead import AESGCM'], {
        encoding: 'utf8',
      });
      if (probe.error || probe.status !== 0) {
        this.test.title += ' (skipped: python3 with the "cryptography" module is not available here)';
        this.skip();
      }
      const r = await run(
        { aad: 'event.id', aadType: 'msg' },
        { key: KEY_HEX },
        { payload: 'ünïcode text', event: { id: 'evt_7' } },
      );
      const out = execFileSync('python3', [path.join(FIXTURES, 'receiver-gcm.py')], {
        input: r.ok[0].payload,
        env: { PATH: process.env.PATH, ENCRYPTION_KEY: KEY.toString('base64'), ENCRYPTION_AAD: 'evt_7' },
      });
      assert.strictEqual(out.toString('utf8'), 'ünïcode text');
      const bad = spawnSync('python3', [path.join(FIXTURES, 'receiver-gcm.py')], {
        input: r.ok[0].payload.replace(/"ct":"(.)/, (m, ch) => `"ct":"${ch === 'A' ? 'B' : 'A'}`),
        env: { PATH: process.env.PATH, ENCRYPTION_KEY: KEY_HEX, ENCRYPTION_AAD: 'evt_7' },
      });
      assert.notStrictEqual(bad.status, 0, 'a changed byte must fail in the recipe too');
    });

    it('the CBC-HMAC envelope opens with test/fixtures/receiver-cbc-hmac.js (plain Node)', async function () {
      const r = await run(
        { algorithm: 'aes-256-cbc-hmac', aad: 'event.id', aadType: 'msg' },
        { key: KEY_HEX },
        { payload: 'cbc text', event: { id: 'evt_5' } },
      );
      const out = execFileSync(process.execPath, [path.join(FIXTURES, 'receiver-cbc-hmac.js')], {
        input: r.ok[0].payload,
        env: { PATH: process.env.PATH, ENCRYPTION_KEY: KEY.toString('base64url'), ENCRYPTION_AAD: 'evt_5' },
      });
      assert.strictEqual(out.toString('utf8'), 'cbc text');
      const bad = spawnSync(process.execPath, [path.join(FIXTURES, 'receiver-cbc-hmac.js')], {
        input: r.ok[0].payload,
        env: { PATH: process.env.PATH, ENCRYPTION_KEY: KEY_HEX },
      });
      assert.notStrictEqual(bad.status, 0, 'a missing AAD must fail in the recipe too');
    });

    it('the CryptoJS output opens with openssl enc -d -aes-256-cbc -a -A -md md5', async function () {
      const text = 'Grüße, {"a":1}';
      const r = await run({ algorithm: 'cryptojs' }, { key: 'pässphrase 1' }, { payload: text });
      const out = execFileSync(
        OPENSSL,
        ['enc', '-d', '-aes-256-cbc', '-a', '-A', '-md', 'md5', '-pass', 'env:CRYPTOJS_PASSPHRASE'],
        {
          input: r.ok[0].payload, // one base64 line, no trailing newline
          env: { PATH: process.env.PATH, CRYPTOJS_PASSPHRASE: 'pässphrase 1' },
          stdio: ['pipe', 'pipe', 'ignore'],
        },
      );
      assert.strictEqual(out.toString('utf8'), text);
    });
  });
});
