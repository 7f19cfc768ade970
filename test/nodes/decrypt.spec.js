'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const CryptoJS = require('crypto-js');
const helper = require('node-red-node-test-helper');
const encryptNode = require('../../dist/nodes/encrypt.js');
const decryptNode = require('../../dist/nodes/decrypt.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

const KEY_HEX = crypto.createHash('sha256').update('saypro decrypt node test key').digest('hex');
const KEY = Buffer.from(KEY_HEX, 'hex');
const OLD_HEX = crypto.createHash('sha256').update('the previous key').digest('hex');
const OPENSSL = '/usr/bin/openssl';

/** An A256GCM envelope made with plain node:crypto, independent of the package. */
function gcmEnvelope(plaintext, { key = KEY, aad, kid = 'k1', cty } = {}) {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(Buffer.from(plaintext)), c.final()]);
  const e = {
    v: 1,
    alg: 'A256GCM',
    kid,
    iv: iv.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
  if (cty) e.cty = cty;
  return e;
}

/** An A256CBC-HS256 envelope made with plain node:crypto from the documented construction. */
function cbcEnvelope(plaintext, { key = KEY, aad, kid = 'k1', cty } = {}) {
  const encKey = Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), 'saypro/aes-256-cbc-hmac/enc', 32));
  const macKey = Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), 'saypro/aes-256-cbc-hmac/mac', 32));
  const iv = crypto.randomBytes(16);
  const c = crypto.createCipheriv('aes-256-cbc', encKey, iv);
  const ct = Buffer.concat([c.update(Buffer.from(plaintext)), c.final()]);
  const a = aad === undefined ? Buffer.alloc(0) : Buffer.from(aad);
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(a.length));
  const tag = crypto
    .createHmac('sha256', macKey)
    .update(Buffer.concat([len, a, iv, ct]))
    .digest();
  const e = {
    v: 1,
    alg: 'A256CBC-HS256',
    kid,
    iv: iv.toString('base64'),
    tag: tag.toString('base64'),
    ct: ct.toString('base64'),
  };
  if (cty) e.cty = cty;
  return e;
}

function flip(b64, index = 0) {
  const raw = Buffer.from(b64, 'base64');
  raw[index] ^= 0x01;
  return raw.toString('base64');
}

function statusCalls(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

function everythingSeen(nodes, msgs) {
  const logs = helper.log().args.map((a) => a[0]);
  return JSON.stringify({
    status: nodes.map(statusCalls),
    logs,
    msgs: msgs.map((m) => ({ ...m, payload: Buffer.isBuffer(m.payload) ? m.payload.toString('latin1') : m.payload })),
  });
}

/**
 * A flow on tab f1: [enc n1 →] dec n2 → h1 (output 1) / h2 (output 2), a Catch node → h3.
 * With `encrypt` set, messages go in at the encrypt node and its output feeds the decrypt node.
 */
function load({ decrypt = {}, encrypt, creds = {}, encCreds = {} }) {
  const f = [
    { id: 'f1', type: 'tab', label: 'decrypt' },
    { id: 'n2', z: 'f1', type: 'saypro-decrypt', name: 'dec', ...decrypt, wires: [['h1'], ['h2']] },
    { id: 'h1', z: 'f1', type: 'helper' },
    { id: 'h2', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['h3']] },
    { id: 'h3', z: 'f1', type: 'helper' },
  ];
  if (encrypt) f.push({ id: 'n1', z: 'f1', type: 'saypro-encrypt', ...encrypt, wires: [['n2'], ['h2']] });
  return new Promise((resolve) => {
    helper.load([encryptNode, decryptNode, catchNode], f, { n1: encCreds, n2: creds }, () => {
      const seen = { ok: [], error: [], caught: [] };
      let waiting = null;
      const arrived = () => {
        if (waiting) {
          const w = waiting;
          waiting = null;
          setImmediate(w);
        }
      };
      helper.getNode('h1').on('input', (m) => {
        seen.ok.push(m);
        arrived();
      });
      helper.getNode('h2').on('input', (m) => {
        seen.error.push(m);
      });
      helper.getNode('h3').on('input', (m) => {
        seen.caught.push(m);
        arrived();
      });
      const n2 = helper.getNode('n2');
      const entry = encrypt ? helper.getNode('n1') : n2;
      resolve({
        n1: encrypt ? helper.getNode('n1') : undefined,
        n2,
        seen,
        /** sends one message and resolves when it came out of output 1 or reached Catch */
        send(msg) {
          return new Promise((res) => {
            const before = { ok: seen.ok.length, error: seen.error.length, caught: seen.caught.length };
            waiting = () =>
              res({
                ok: seen.ok.slice(before.ok),
                error: seen.error.slice(before.error),
                caught: seen.caught.slice(before.caught),
              });
            entry.receive(msg);
          });
        },
      });
    });
  });
}

function assertRejected(r, codeWanted, label) {
  assert.strictEqual(r.ok.length, 0, `${label}: nothing on output 1`);
  assert.strictEqual(r.error.length, 1, `${label}: one message on output 2`);
  assert.strictEqual(r.caught.length, 1, `${label}: Catch fired`);
  assert.strictEqual(r.error[0].error.code, codeWanted, `${label}: ${JSON.stringify(r.error[0].error)}`);
  assert.strictEqual(typeof r.error[0].error.message, 'string');
  assert.ok(Array.isArray(r.error[0].error.details));
}

describe('saypro-decrypt node', function () {
  afterEach(function () {
    delete process.env.SAYPRO_TEST_DEC_KEY;
    delete process.env.SAYPRO_TEST_DEC_KEY2;
    return helper.unload();
  });

  it('loads with defaults', function (done) {
    const f = [{ id: 'n2', type: 'saypro-decrypt', name: 'dec', wires: [[], []] }];
    helper.load(decryptNode, f, { n2: { key: KEY_HEX } }, function () {
      try {
        const n2 = helper.getNode('n2');
        assert.strictEqual(n2.name, 'dec');
        assert.strictEqual(n2.type, 'saypro-decrypt');
        assert.deepStrictEqual(statusCalls(n2).pop(), {});
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  describe('round trip encrypt → decrypt', function () {
    const payloads = [
      ['a string', 'héllo wörld', (p) => assert.strictEqual(p, 'héllo wörld'), undefined],
      [
        'an object',
        { id: 'evt_1', amount: 12.5, tags: ['a', 'b'] },
        (p) => assert.deepStrictEqual(p, { id: 'evt_1', amount: 12.5, tags: ['a', 'b'] }),
        'application/json',
      ],
      ['an array', [1, 'two'], (p) => assert.deepStrictEqual(p, [1, 'two']), 'application/json'],
      [
        'a Buffer',
        Buffer.from([0, 1, 2, 255, 254]),
        (p) => assert.deepStrictEqual(p, Buffer.from([0, 1, 2, 255, 254])),
        'application/octet-stream',
      ],
    ];
    for (const [algorithm, key, decAlg] of [
      ['aes-256-gcm', KEY_HEX, 'auto'],
      ['aes-256-cbc-hmac', KEY.toString('base64'), 'auto'],
      ['aes-256-gcm', KEY_HEX, 'aes-256-gcm'],
      ['aes-256-cbc-hmac', KEY_HEX, 'aes-256-cbc-hmac'],
    ]) {
      it(`${algorithm} (decrypt set to ${decAlg}): string, object, array and Buffer payloads`, async function () {
        const t = await load({
          encrypt: { algorithm },
          encCreds: { key },
          decrypt: { algorithm: decAlg },
          creds: { key: KEY_HEX },
        });
        for (const [label, payload, check, cty] of payloads) {
          const r = await t.send({ payload, headers: { 'x-trace': '1' } });
          assert.strictEqual(r.error.length, 0, label + ': ' + JSON.stringify(r.error[0] && r.error[0].error));
          const m = r.ok[0];
          check(m.payload);
          assert.deepStrictEqual(m.encryption, {
            alg: algorithm === 'aes-256-gcm' ? 'A256GCM' : 'A256CBC-HS256',
            kid: 'k1',
          });
          const expected = { 'x-trace': '1' };
          if (cty) expected['content-type'] = cty;
          assert.deepStrictEqual(m.headers, expected, label);
        }
        assert.deepStrictEqual(statusCalls(t.n2).pop(), {
          fill: 'green',
          shape: 'dot',
          text: 'decrypt.status.decrypted',
        });
      });
    }

    it('cryptojs (decrypt auto and fixed): text and objects', async function () {
      for (const decAlg of ['auto', 'cryptojs']) {
        const t = await load({
          encrypt: { algorithm: 'cryptojs' },
          encCreds: { key: 'shared passphrase' },
          decrypt: { algorithm: decAlg },
          creds: { key: 'shared passphrase' },
        });
        let r = await t.send({ payload: 'Grüße' });
        assert.strictEqual(r.ok[0].payload, 'Grüße');
        assert.deepStrictEqual(r.ok[0].encryption, { alg: 'CryptoJS-AES', kid: 'k1' });
        assert.ok(!r.ok[0].headers || !('content-type' in r.ok[0].headers), 'the envelope content type does not stick');
        r = await t.send({ payload: { a: 1 } });
        assert.strictEqual(r.ok[0].payload, '{"a":1}', 'CryptoJS carries no content type: a string');
        await helper.unload();
      }
    });

    it('the content type of the plaintext comes back as msg.headers["content-type"]', async function () {
      const t = await load({ encrypt: {}, encCreds: { key: KEY_HEX }, creds: { key: KEY_HEX } });
      const r = await t.send({ payload: 'a,b\n1,2\n', headers: { 'content-type': 'text/csv; charset=utf-8' } });
      assert.strictEqual(r.ok[0].payload, 'a,b\n1,2\n');
      assert.deepStrictEqual(r.ok[0].headers, { 'content-type': 'text/csv; charset=utf-8' });
    });

    it('AAD from msg.event.id: the same id opens it, another id is DECRYPT_FAILED', async function () {
      const t = await load({ decrypt: { aad: 'event.id', aadType: 'msg' }, creds: { key: KEY_HEX } });
      const e = gcmEnvelope('bound', { aad: 'evt_1' });
      let r = await t.send({ payload: e, event: { id: 'evt_1' } });
      assert.strictEqual(r.ok[0].payload, 'bound');
      r = await t.send({ payload: e, event: { id: 'evt_2' } });
      assertRejected(r, 'DECRYPT_FAILED', 'wrong AAD');
      r = await t.send({ payload: e });
      assertRejected(r, 'DECRYPT_AAD', 'missing AAD');
      r = await t.send({ payload: cbcEnvelope('bound', { aad: 'evt_3' }), event: { id: 'evt_3' } });
      assert.strictEqual(r.ok[0].payload, 'bound');
      r = await t.send({ payload: cbcEnvelope('bound', { aad: 'evt_3' }), event: { id: 'evt_4' } });
      assertRejected(r, 'DECRYPT_FAILED', 'wrong AAD (CBC)');
    });

    it('AAD through both nodes: encrypt and decrypt resolve the same msg.event.id', async function () {
      const t = await load({
        encrypt: { aad: 'event.id', aadType: 'msg' },
        encCreds: { key: KEY_HEX },
        decrypt: { aad: 'event.id', aadType: 'msg' },
        creds: { key: KEY_HEX },
      });
      const r = await t.send({ payload: { n: 1 }, event: { id: 'evt_77' } });
      assert.deepStrictEqual(r.ok[0].payload, { n: 1 });
    });
  });

  describe('rejections: output 2 and Catch, nothing on output 1', function () {
    const e = gcmEnvelope('secret plaintext', { cty: 'text/plain' });
    const cbc = cbcEnvelope('secret plaintext');
    const tag = Buffer.from(e.tag, 'base64');
    const cases = [
      ['wrong key', gcmEnvelope('x', { key: crypto.randomBytes(32) }), 'DECRYPT_FAILED'],
      ['a changed byte in ct', { ...e, ct: flip(e.ct, 3) }, 'DECRYPT_FAILED'],
      ['a changed byte in iv', { ...e, iv: flip(e.iv, 11) }, 'DECRYPT_FAILED'],
      ['a changed byte in tag', { ...e, tag: flip(e.tag, 15) }, 'DECRYPT_FAILED'],
      ['a changed byte in the CBC ct', { ...cbc, ct: flip(cbc.ct, 0) }, 'DECRYPT_FAILED'],
      ['a changed byte in the CBC tag', { ...cbc, tag: flip(cbc.tag, 31) }, 'DECRYPT_FAILED'],
      ['a missing tag', { ...e, tag: undefined }, 'DECRYPT_INPUT'],
      ['a tag truncated to 12 bytes', { ...e, tag: tag.subarray(0, 12).toString('base64') }, 'DECRYPT_INPUT'],
      ['a tag truncated to 4 bytes', { ...e, tag: tag.subarray(0, 4).toString('base64') }, 'DECRYPT_INPUT'],
      ['bad base64', { ...e, ct: '%%%' + e.ct }, 'DECRYPT_INPUT'],
      ['not JSON', '{"v":1,"alg":', 'DECRYPT_INPUT'],
      ['neither envelope nor CryptoJS', 'hello there', 'DECRYPT_INPUT'],
      ['an unknown alg', { ...e, alg: 'A128GCM' }, 'DECRYPT_ALG'],
      ['alg "none"', { ...e, alg: 'none' }, 'DECRYPT_ALG'],
      ['an unknown kid', { ...e, kid: 'k9' }, 'DECRYPT_KID'],
      [
        'CryptoJS with a wrong passphrase',
        CryptoJS.AES.encrypt('hello', 'another passphrase').toString(),
        'DECRYPT_FAILED',
      ],
      ['bad CryptoJS base64', 'U2FsdGVkX1%%%%', 'DECRYPT_INPUT'],
      ['no payload', undefined, 'DECRYPT_INPUT'],
    ];
    it('each case, with the key never shown', async function () {
      const t = await load({ creds: { key: KEY_HEX } });
      const all = [];
      for (const [label, payload, wanted] of cases) {
        const original = payload === undefined ? undefined : JSON.parse(JSON.stringify(payload));
        const r = await t.send({ payload: typeof payload === 'object' ? JSON.stringify(payload) : payload });
        assertRejected(r, wanted, label);
        if (original !== undefined) {
          assert.deepStrictEqual(
            r.error[0].payload,
            typeof original === 'object' ? JSON.stringify(original) : original,
            `${label}: payload left as it arrived`,
          );
        }
        all.push(...r.error, ...r.caught);
      }
      assert.deepStrictEqual(statusCalls(t.n2).pop(), { fill: 'red', shape: 'ring', text: 'decrypt.status.failed' });
      const seen = everythingSeen([t.n2], all);
      assert.ok(!seen.includes(KEY_HEX) && !seen.includes(KEY.toString('base64')), 'key visible');
      assert.ok(!seen.includes('secret plaintext'), 'plaintext leaked');
    });

    it('a fixed algorithm rejects another alg (no downgrade)', async function () {
      const t = await load({ decrypt: { algorithm: 'aes-256-gcm' }, creds: { key: KEY_HEX } });
      assertRejected(await t.send({ payload: cbcEnvelope('x') }), 'DECRYPT_ALG', 'CBC to a GCM node');
      assertRejected(
        await t.send({ payload: CryptoJS.AES.encrypt('x', KEY_HEX).toString() }),
        'DECRYPT_ALG',
        'CryptoJS to a GCM node',
      );
      assert.strictEqual((await t.send({ payload: gcmEnvelope('x') })).ok[0].payload, 'x');
      await helper.unload();
      const c = await load({ decrypt: { algorithm: 'cryptojs' }, creds: { key: KEY_HEX } });
      assertRejected(await c.send({ payload: gcmEnvelope('x') }), 'DECRYPT_ALG', 'envelope to a CryptoJS node');
    });

    it('auto with AAD configured refuses CryptoJS input, which cannot carry AAD', async function () {
      const t = await load({ decrypt: { aad: 'event.id', aadType: 'msg' }, creds: { key: 'pw' } });
      const r = await t.send({ payload: CryptoJS.AES.encrypt('x', 'pw').toString(), event: { id: 'evt_1' } });
      assertRejected(r, 'DECRYPT_ALG', 'CryptoJS with AAD');
    });

    it('output json on a non-JSON plaintext is DECRYPT_OUTPUT, never garbage', async function () {
      const t = await load({ decrypt: { output: 'json' }, creds: { key: KEY_HEX } });
      assertRejected(await t.send({ payload: gcmEnvelope('not json') }), 'DECRYPT_OUTPUT', 'json');
      await helper.unload();
      const s = await load({ decrypt: { output: 'string' }, creds: { key: KEY_HEX } });
      assertRejected(await s.send({ payload: gcmEnvelope(Buffer.from([0xc3, 0x28])) }), 'DECRYPT_OUTPUT', 'string');
    });
  });

  describe('input forms and outputs', function () {
    it('takes the envelope as a string, a Buffer or a parsed object (http in)', async function () {
      const t = await load({ creds: { key: KEY_HEX } });
      const e = gcmEnvelope('{"a":1}', { cty: 'application/json' });
      for (const payload of [JSON.stringify(e), Buffer.from(JSON.stringify(e)), e]) {
        const r = await t.send({
          payload,
          headers: {
            'content-type': 'application/json',
            'content-length': '123',
            'x-encryption-alg': 'A256GCM',
            'x-encryption-kid': 'k1',
          },
        });
        assert.deepStrictEqual(r.ok[0].payload, { a: 1 });
        assert.deepStrictEqual(r.ok[0].headers, { 'content-type': 'application/json' });
      }
    });

    it('output string, buffer and json force the type', async function () {
      const e = gcmEnvelope('{"a":1}', { cty: 'application/json' });
      for (const [output, expected] of [
        ['string', '{"a":1}'],
        ['buffer', Buffer.from('{"a":1}')],
        ['json', { a: 1 }],
        ['auto', { a: 1 }],
      ]) {
        const t = await load({ decrypt: { output }, creds: { key: KEY_HEX } });
        const r = await t.send({ payload: e });
        assert.deepStrictEqual(r.ok[0].payload, expected, output);
        await helper.unload();
      }
    });

    it('reads openssl enc -aes-256-cbc -a -A -md md5 output (CryptoJS format)', async function () {
      const text = 'from openssl: ✓ {"x":2}';
      const ct = execFileSync(
        OPENSSL,
        ['enc', '-aes-256-cbc', '-a', '-A', '-md', 'md5', '-pass', 'env:CRYPTOJS_PASSPHRASE'],
        {
          input: text,
          env: { PATH: process.env.PATH, CRYPTOJS_PASSPHRASE: 'open sesame' },
          stdio: ['pipe', 'pipe', 'ignore'],
        },
      ).toString('utf8');
      assert.ok(ct.startsWith('U2FsdGVkX1'));
      for (const algorithm of ['auto', 'cryptojs']) {
        const t = await load({ decrypt: { algorithm }, creds: { key: 'open sesame' } });
        const r = await t.send({ payload: ct });
        assert.strictEqual(r.ok[0].payload, text);
        assertRejected(
          await t.send({ payload: ct.slice(0, -6) + (ct.slice(-6, -5) === 'A' ? 'B' : 'A') + ct.slice(-5) }),
          'DECRYPT_FAILED',
          'changed last block',
        );
        await helper.unload();
      }
    });
  });

  describe('keys', function () {
    it('rotation: opens envelopes of the current and the previous key by kid', async function () {
      const t = await load({ decrypt: { kid: 'k2', kid2: 'k1' }, creds: { key: KEY_HEX, key2: OLD_HEX } });
      let r = await t.send({ payload: gcmEnvelope('new', { kid: 'k2' }) });
      assert.deepStrictEqual([r.ok[0].payload, r.ok[0].encryption.kid], ['new', 'k2']);
      r = await t.send({ payload: gcmEnvelope('old', { kid: 'k1', key: Buffer.from(OLD_HEX, 'hex') }) });
      assert.deepStrictEqual([r.ok[0].payload, r.ok[0].encryption.kid], ['old', 'k1']);
      r = await t.send({ payload: cbcEnvelope('old cbc', { kid: 'k1', key: Buffer.from(OLD_HEX, 'hex') }) });
      assert.strictEqual(r.ok[0].payload, 'old cbc');
      r = await t.send({ payload: gcmEnvelope('wrong pairing', { kid: 'k1' }) });
      assertRejected(r, 'DECRYPT_FAILED', 'current key under the old kid');
      r = await t.send({ payload: gcmEnvelope('x', { kid: 'k3' }) });
      assertRejected(r, 'DECRYPT_KID', 'unknown kid');
      assert.match(r.error[0].error.message, /k3/);
      assert.match(r.error[0].error.details[0].reason, /k2, k1/);
    });

    it('rotation for CryptoJS: tries the current passphrase, then the previous one', async function () {
      const t = await load({
        decrypt: { algorithm: 'cryptojs', kid: 'k2', kid2: 'k1' },
        creds: { key: 'new pass', key2: 'old pass' },
      });
      let r = await t.send({ payload: CryptoJS.AES.encrypt('via old', 'old pass').toString() });
      assert.deepStrictEqual([r.ok[0].payload, r.ok[0].encryption.kid], ['via old', 'k1']);
      r = await t.send({ payload: CryptoJS.AES.encrypt('via new', 'new pass').toString() });
      assert.deepStrictEqual([r.ok[0].payload, r.ok[0].encryption.kid], ['via new', 'k2']);
    });

    for (const [label, decrypt, creds, status, code] of [
      [
        'a passphrase for a fixed GCM node',
        { algorithm: 'aes-256-gcm' },
        { key: 'passphrase' },
        'decrypt.status.invalidKey',
        'INVALID_KEY',
      ],
      ['no key', {}, {}, 'decrypt.status.invalidKey', 'INVALID_KEY'],
      [
        'a bad previous key',
        { algorithm: 'aes-256-cbc-hmac', kid2: 'k0' },
        { key: KEY_HEX, key2: KEY_HEX.slice(1) },
        'decrypt.status.invalidKey',
        'INVALID_KEY',
      ],
      [
        'a previous key without its id',
        {},
        { key: KEY_HEX, key2: OLD_HEX },
        'decrypt.status.invalidConfig',
        'INVALID_CONFIG',
      ],
      [
        'a previous key with the same id',
        { kid2: 'k1' },
        { key: KEY_HEX, key2: OLD_HEX },
        'decrypt.status.invalidConfig',
        'INVALID_CONFIG',
      ],
    ]) {
      it(`invalid at start (${label}): red ring, every message to output 2`, async function () {
        const t = await load({ decrypt, creds });
        assert.deepStrictEqual(statusCalls(t.n2)[0], { fill: 'red', shape: 'ring', text: status });
        for (let i = 0; i < 2; i++) assertRejected(await t.send({ payload: gcmEnvelope('x') }), code, label);
        const seen = everythingSeen([t.n2], t.seen.error);
        for (const k of Object.values(creds)) assert.ok(!seen.includes(k), 'key visible');
      });
    }

    it('reads ${VAR} keys from the environment at start', async function () {
      process.env.SAYPRO_TEST_DEC_KEY = KEY.toString('base64');
      process.env.SAYPRO_TEST_DEC_KEY2 = OLD_HEX;
      const t = await load({
        decrypt: { kid2: 'k0' },
        creds: { key: '${SAYPRO_TEST_DEC_KEY}', key2: '${SAYPRO_TEST_DEC_KEY2}' },
      });
      assert.strictEqual((await t.send({ payload: gcmEnvelope('env key') })).ok[0].payload, 'env key');
      assert.strictEqual(
        (await t.send({ payload: gcmEnvelope('env key2', { kid: 'k0', key: Buffer.from(OLD_HEX, 'hex') }) })).ok[0]
          .payload,
        'env key2',
      );
    });

    it('an unset ${VAR} is an invalid key', async function () {
      const t = await load({ creds: { key: '${SAYPRO_TEST_DEC_KEY}' } });
      assert.deepStrictEqual(statusCalls(t.n2)[0], { fill: 'red', shape: 'ring', text: 'decrypt.status.invalidKey' });
      assertRejected(await t.send({ payload: gcmEnvelope('x') }), 'INVALID_KEY', 'unset variable');
    });

    it('never puts a key in a message, status or log, on success or failure', async function () {
      const t = await load({
        encrypt: { aad: 'event.id', aadType: 'msg' },
        encCreds: { key: KEY_HEX },
        decrypt: { aad: 'event.id', aadType: 'msg', kid2: 'k0' },
        creds: { key: KEY_HEX, key2: OLD_HEX },
      });
      const msgs = [];
      for (const msg of [
        { payload: 'ok', event: { id: 'e1' } },
        { payload: 'no aad' },
        { payload: { deep: true }, event: { id: 'e2' } },
      ]) {
        const r = await t.send(msg);
        msgs.push(...r.ok, ...r.error, ...r.caught);
      }
      assert.strictEqual(msgs.filter((m) => m.encryption).length, 2);
      const seen = everythingSeen([t.n1, t.n2], msgs);
      for (const form of [KEY_HEX, KEY.toString('base64'), KEY.toString('base64url'), OLD_HEX]) {
        assert.ok(!seen.includes(form), 'key visible');
      }
    });
  });
});
