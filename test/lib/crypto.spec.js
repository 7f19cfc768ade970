'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const CryptoJS = require('crypto-js');
const c = require('../../dist/nodes/lib/crypto');

const KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const KEY = Buffer.from(KEY_HEX, 'hex');
const root = path.resolve(__dirname, '..', '..');

function code(fn) {
  try {
    fn();
  } catch (err) {
    return err.code;
  }
  return 'no error';
}

function envelopeFor(algorithm, text, aad, extra) {
  const key = c.prepareKey(algorithm, KEY_HEX, 'k1');
  const out = c.encryptPlaintext(algorithm, key, { bytes: Buffer.from(text, 'utf8'), ...(extra || {}) }, aad);
  return JSON.parse(out.payload);
}

describe('lib/crypto', function () {
  describe('keys', function () {
    it('reads 64 hex characters', function () {
      assert.deepStrictEqual(c.decodeKey(KEY_HEX), KEY);
      assert.deepStrictEqual(c.decodeKey(KEY_HEX.toUpperCase()), KEY);
      assert.deepStrictEqual(c.decodeKey('  ' + KEY_HEX + '\n'), KEY);
    });

    it('reads standard and url-safe base64 of 32 bytes, with or without padding', function () {
      const k = Buffer.from('fbff3e7f00112233fbff3e7f00112233fbff3e7f00112233fbff3e7f001122ff', 'hex');
      const std = k.toString('base64');
      const url = k.toString('base64url');
      assert.ok(std.includes('+') || std.includes('/'), 'the sample exercises the alphabets');
      assert.deepStrictEqual(c.decodeKey(std), k);
      assert.deepStrictEqual(c.decodeKey(std.replace(/=+$/, '')), k);
      assert.deepStrictEqual(c.decodeKey(url), k);
      assert.deepStrictEqual(c.decodeKey(url + '='), k);
    });

    it('refuses other lengths, mixed alphabets and non-canonical base64', function () {
      assert.strictEqual(c.decodeKey(KEY_HEX.slice(2)), undefined);
      assert.strictEqual(c.decodeKey(KEY_HEX + '00'), undefined);
      assert.strictEqual(c.decodeKey(crypto.randomBytes(31).toString('base64')), undefined);
      assert.strictEqual(c.decodeKey(crypto.randomBytes(33).toString('base64')), undefined);
      const k = Buffer.from('fbff3e7f00112233fbff3e7f00112233fbff3e7f00112233fbff3e7f001122ff', 'hex').toString(
        'base64',
      );
      assert.ok(k.includes('+') && k.includes('/'));
      assert.strictEqual(c.decodeKey(k.replace('+', '-')), undefined, 'mixed alphabets');
      // last character carries stray bits: "/" → 63 has its low 2 bits set
      const canonical = KEY.toString('base64');
      assert.strictEqual(canonical.slice(-2), '8=');
      assert.strictEqual(c.decodeKey(canonical.slice(0, -2) + '9='), undefined);
      assert.strictEqual(c.decodeKey('correct horse battery staple'), undefined);
      assert.strictEqual(c.decodeKey(''), undefined);
    });

    it('explains a bad key without quoting it', function () {
      const secret = 'abcdef0123456789abcdef';
      const reason = c.keyProblem(secret);
      assert.match(reason, /64 hex characters/);
      assert.match(reason, /22/);
      assert.ok(!reason.includes(secret));
      assert.match(c.keyProblem(crypto.randomBytes(16).toString('base64')), /decodes to 16/);
      assert.match(c.keyProblem('not a key!'), /base64/);
      assert.strictEqual(c.keyProblem(KEY_HEX), undefined);
    });

    it('prepareKey checks the key by algorithm', function () {
      assert.deepStrictEqual(c.prepareKey('aes-256-gcm', KEY_HEX, 'k1').bytes, KEY);
      assert.deepStrictEqual(c.prepareKey('aes-256-cbc-hmac', KEY.toString('base64'), 'k1').bytes, KEY);
      for (const alg of ['aes-256-gcm', 'aes-256-cbc-hmac']) {
        let caught;
        try {
          c.prepareKey(alg, 'my passphrase', 'k1');
        } catch (err) {
          caught = err;
        }
        assert.strictEqual(caught && caught.code, 'INVALID_KEY');
        assert.ok(!JSON.stringify(caught.toJSON()).includes('my passphrase'));
        assert.ok(!caught.message.includes('my passphrase'));
      }
      assert.strictEqual(
        code(() => c.prepareKey('aes-256-gcm', '', 'k1')),
        'INVALID_KEY',
      );
      assert.strictEqual(
        code(() => c.prepareKey('cryptojs', '', 'k1')),
        'INVALID_KEY',
      );
      assert.strictEqual(
        code(() => c.prepareKey('cryptojs', undefined, 'k1')),
        'INVALID_KEY',
      );
      const pass = c.prepareKey('cryptojs', 'my passphrase', 'k1');
      assert.strictEqual(pass.passphrase, 'my passphrase');
      assert.strictEqual(pass.bytes, undefined);
      assert.deepStrictEqual(c.prepareKey('auto', KEY_HEX, 'k1').bytes, KEY);
      assert.strictEqual(c.prepareKey('auto', 'my passphrase', 'k1').bytes, undefined);
    });
  });

  describe('AES-256-GCM', function () {
    it('matches the GCM specification test vectors (cases 14 and 16)', function () {
      const z = c.gcmEncrypt(Buffer.alloc(32), Buffer.alloc(16), undefined, Buffer.alloc(12));
      assert.strictEqual(z.ct.toString('hex'), 'cea7403d4d606b6e074ec5d3baf39d18');
      assert.strictEqual(z.tag.toString('hex'), 'd0d1c8a799996bf0265b98b5d48ab919');
      const K = Buffer.from('feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', 'hex');
      const P = Buffer.from(
        'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
        'hex',
      );
      const A = Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex');
      const IV = Buffer.from('cafebabefacedbaddecaf888', 'hex');
      const s = c.gcmEncrypt(K, P, A, IV);
      assert.strictEqual(
        s.ct.toString('hex'),
        '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
      );
      assert.strictEqual(s.tag.toString('hex'), '76fc6ece0f4e1768cddf8853bb2d551b');
      assert.deepStrictEqual(c.gcmDecrypt(K, s, A), P);
    });

    it('uses a fresh 96-bit IV per message and a 128-bit tag', function () {
      const a = c.gcmEncrypt(KEY, Buffer.from('same'));
      const b = c.gcmEncrypt(KEY, Buffer.from('same'));
      assert.strictEqual(a.iv.length, 12);
      assert.strictEqual(a.tag.length, 16);
      assert.notDeepStrictEqual(a.iv, b.iv);
      assert.notDeepStrictEqual(a.ct, b.ct);
    });

    it('fails on a changed byte, wrong AAD, wrong key and a truncated tag', function () {
      const aad = Buffer.from('evt_1');
      const s = c.gcmEncrypt(KEY, Buffer.from('hello world'), aad);
      assert.strictEqual(c.gcmDecrypt(KEY, s, aad).toString(), 'hello world');
      const flip = (buf) => {
        const x = Buffer.from(buf);
        x[0] ^= 1;
        return x;
      };
      assert.throws(() => c.gcmDecrypt(KEY, { ...s, ct: flip(s.ct) }, aad));
      assert.throws(() => c.gcmDecrypt(KEY, { ...s, iv: flip(s.iv) }, aad));
      assert.throws(() => c.gcmDecrypt(KEY, { ...s, tag: flip(s.tag) }, aad));
      assert.throws(() => c.gcmDecrypt(KEY, s, Buffer.from('evt_2')));
      assert.throws(() => c.gcmDecrypt(KEY, s));
      assert.throws(() => c.gcmDecrypt(crypto.randomBytes(32), s, aad));
      // node:crypto on its own would accept a 4-byte prefix of the right tag
      assert.throws(() => c.gcmDecrypt(KEY, { ...s, tag: s.tag.subarray(0, 12) }, aad), /16 bytes/);
      assert.throws(() => c.gcmDecrypt(KEY, { ...s, tag: s.tag.subarray(0, 4) }, aad), /16 bytes/);
    });
  });

  describe('AES-256-CBC + HMAC-SHA256', function () {
    it('derives the keys with HKDF and MACs len(AAD) ‖ AAD ‖ IV ‖ ct (checked independently)', function () {
      const iv = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
      const aad = Buffer.from('evt_42');
      const s = c.cbcHmacEncrypt(KEY, Buffer.from('attack at dawn'), aad, iv);
      const encKey = Buffer.from(crypto.hkdfSync('sha256', KEY, Buffer.alloc(0), 'saypro/aes-256-cbc-hmac/enc', 32));
      const macKey = Buffer.from(crypto.hkdfSync('sha256', KEY, Buffer.alloc(0), 'saypro/aes-256-cbc-hmac/mac', 32));
      assert.notDeepStrictEqual(encKey, macKey);
      const cipher = crypto.createCipheriv('aes-256-cbc', encKey, iv);
      const ct = Buffer.concat([cipher.update('attack at dawn'), cipher.final()]);
      assert.deepStrictEqual(s.ct, ct);
      const len = Buffer.from([0, 0, 0, 0, 0, 0, 0, 6]);
      const tag = crypto
        .createHmac('sha256', macKey)
        .update(Buffer.concat([len, aad, iv, ct]))
        .digest();
      assert.deepStrictEqual(s.tag, tag);
      assert.strictEqual(s.tag.length, 32);
      // no AAD: the length block is eight zero bytes
      const s0 = c.cbcHmacEncrypt(KEY, Buffer.from('x'), undefined, iv);
      const tag0 = crypto
        .createHmac('sha256', macKey)
        .update(Buffer.concat([Buffer.alloc(8), iv, s0.ct]))
        .digest();
      assert.deepStrictEqual(s0.tag, tag0);
    });

    it('round-trips and fails on any change, wrong AAD or a short tag', function () {
      const aad = Buffer.from('evt_1');
      const s = c.cbcHmacEncrypt(KEY, Buffer.from('hello world'), aad);
      assert.strictEqual(s.iv.length, 16);
      assert.strictEqual(c.cbcHmacDecrypt(KEY, s, aad).toString(), 'hello world');
      const flip = (buf, i) => {
        const x = Buffer.from(buf);
        x[i] ^= 0x80;
        return x;
      };
      assert.throws(() => c.cbcHmacDecrypt(KEY, { ...s, ct: flip(s.ct, s.ct.length - 1) }, aad), /authentication/);
      assert.throws(() => c.cbcHmacDecrypt(KEY, { ...s, iv: flip(s.iv, 0) }, aad), /authentication/);
      assert.throws(() => c.cbcHmacDecrypt(KEY, { ...s, tag: flip(s.tag, 31) }, aad), /authentication/);
      assert.throws(() => c.cbcHmacDecrypt(KEY, s, Buffer.from('evt_2')), /authentication/);
      assert.throws(() => c.cbcHmacDecrypt(KEY, { ...s, tag: s.tag.subarray(0, 16) }, aad), /32 bytes/);
    });
  });

  describe('CryptoJS format', function () {
    it('EVP_BytesToKey(MD5, 1 round) matches openssl -P', function () {
      const { key, iv } = c.evpBytesToKey(Buffer.from('secret'), Buffer.from('0102030405060708', 'hex'));
      assert.strictEqual(
        key.toString('hex').toUpperCase(),
        'C9E5A1BD216DBE1317E230CEF48F38EE7F0E17AD64022144BCCEC4A1AA2879AB',
      );
      assert.strictEqual(iv.toString('hex').toUpperCase(), 'E24B32BBBC4EF02ECBCB6576523AD893');
    });

    it('encrypts exactly like CryptoJS.AES.encrypt(text, passphrase).toString()', function () {
      const out = c.cryptoJsEncrypt('héllo', 'pässphrase');
      assert.ok(out.startsWith(c.CRYPTOJS_PREFIX));
      assert.strictEqual(CryptoJS.AES.decrypt(out, 'pässphrase').toString(CryptoJS.enc.Utf8), 'héllo');
    });

    it('reads CryptoJS output with node:crypto', function () {
      const ct = CryptoJS.AES.encrypt('{"a":1} ✓', 'pw').toString();
      assert.strictEqual(c.cryptoJsDecrypt(ct, 'pw').toString('utf8'), '{"a":1} ✓');
      // line-wrapped base64 (openssl without -A) is accepted
      assert.strictEqual(c.cryptoJsDecrypt(ct.replace(/(.{16})/g, '$1\n'), 'pw').toString('utf8'), '{"a":1} ✓');
    });

    it('a wrong passphrase is an error, never garbage', function () {
      for (let i = 0; i < 200; i++) {
        const ct = CryptoJS.AES.encrypt('the plaintext ' + i, 'right').toString();
        assert.strictEqual(
          code(() => c.cryptoJsDecrypt(ct, 'wrong')),
          'DECRYPT_FAILED',
          'round ' + i,
        );
      }
    });

    it('bad base64 and malformed input are DECRYPT_INPUT', function () {
      assert.strictEqual(
        code(() => c.cryptoJsDecrypt('U2FsdGVkX1***', 'pw')),
        'DECRYPT_INPUT',
      );
      assert.strictEqual(
        code(() => c.cryptoJsDecrypt('U2FsdGVkX1+/+EwIf8T9uQ==', 'pw')),
        'DECRYPT_INPUT',
      );
      const ct = CryptoJS.AES.encrypt('hello', 'pw').toString();
      const raw = Buffer.from(ct, 'base64');
      assert.strictEqual(
        code(() => c.cryptoJsDecrypt(raw.subarray(0, raw.length - 3).toString('base64'), 'pw')),
        'DECRYPT_INPUT',
      );
      assert.strictEqual(
        code(() =>
          c.cryptoJsDecrypt(Buffer.concat([Buffer.from('Xalted__'), raw.subarray(8)]).toString('base64'), 'pw'),
        ),
        'DECRYPT_INPUT',
      );
    });

    it('refuses to encrypt what it could not read back (binary, empty)', function () {
      const key = c.prepareKey('cryptojs', 'pw', 'k1');
      assert.strictEqual(
        code(() => c.encryptPlaintext('cryptojs', key, { bytes: Buffer.from([0xff, 0xfe]) })),
        'ENCRYPT_INPUT',
      );
      assert.strictEqual(
        code(() => c.encryptPlaintext('cryptojs', key, { bytes: Buffer.alloc(0) })),
        'ENCRYPT_INPUT',
      );
    });
  });

  describe('plaintext and AAD', function () {
    it('takes strings as UTF-8, Buffers as bytes and objects as JSON', function () {
      assert.deepStrictEqual(c.plaintextFromPayload('héllo'), { bytes: Buffer.from('héllo'), cty: undefined });
      assert.deepStrictEqual(c.plaintextFromPayload('a,b', 'text/csv'), { bytes: Buffer.from('a,b'), cty: 'text/csv' });
      assert.deepStrictEqual(c.plaintextFromPayload(Buffer.from([1, 2])), {
        bytes: Buffer.from([1, 2]),
        cty: 'application/octet-stream',
      });
      assert.deepStrictEqual(c.plaintextFromPayload(Buffer.from([1, 2]), 'image/png').cty, 'image/png');
      assert.deepStrictEqual(c.plaintextFromPayload({ a: [1] }), {
        bytes: Buffer.from('{"a":[1]}'),
        cty: 'application/json',
      });
      assert.deepStrictEqual(c.plaintextFromPayload([1, 2]).cty, 'application/json');
      assert.strictEqual(
        c.plaintextFromPayload({ a: 1 }, 'application/vnd.api+json; charset=utf-8').cty,
        'application/vnd.api+json; charset=utf-8',
      );
      assert.strictEqual(c.plaintextFromPayload({ a: 1 }, 'text/csv').cty, 'application/json');
      assert.strictEqual(
        code(() => c.plaintextFromPayload(undefined)),
        'ENCRYPT_INPUT',
      );
      assert.strictEqual(
        code(() => c.plaintextFromPayload(null)),
        'ENCRYPT_INPUT',
      );
      const loop = {};
      loop.self = loop;
      assert.strictEqual(
        code(() => c.plaintextFromPayload(loop)),
        'ENCRYPT_INPUT',
      );
    });

    it('finds content-type in any case', function () {
      assert.strictEqual(c.headerValue({ 'Content-Type': 'text/plain' }, 'content-type'), 'text/plain');
      assert.strictEqual(c.headerValue({}, 'content-type'), undefined);
      assert.strictEqual(c.headerValue(undefined, 'content-type'), undefined);
    });

    it('turns AAD values into bytes and refuses missing or empty ones', function () {
      assert.deepStrictEqual(c.aadToBuffer('evt_1', 'X'), Buffer.from('evt_1'));
      assert.deepStrictEqual(c.aadToBuffer(42, 'X'), Buffer.from('42'));
      assert.deepStrictEqual(c.aadToBuffer(Buffer.from([7]), 'X'), Buffer.from([7]));
      assert.deepStrictEqual(c.aadToBuffer({ a: 1 }, 'X'), Buffer.from('{"a":1}'));
      assert.strictEqual(
        code(() => c.aadToBuffer(undefined, 'ENCRYPT_AAD')),
        'ENCRYPT_AAD',
      );
      assert.strictEqual(
        code(() => c.aadToBuffer('', 'DECRYPT_AAD')),
        'DECRYPT_AAD',
      );
    });
  });

  describe('envelope', function () {
    it('has v, alg, kid, iv, tag, ct and cty, and the headers', function () {
      const key = c.prepareKey('aes-256-gcm', KEY_HEX, 'k7');
      const out = c.encryptPlaintext('aes-256-gcm', key, { bytes: Buffer.from('{}'), cty: 'application/json' });
      const e = JSON.parse(out.payload);
      assert.deepStrictEqual(Object.keys(e), ['v', 'alg', 'kid', 'iv', 'tag', 'ct', 'cty']);
      assert.strictEqual(e.v, 1);
      assert.strictEqual(e.alg, 'A256GCM');
      assert.strictEqual(e.kid, 'k7');
      assert.strictEqual(Buffer.from(e.iv, 'base64').length, 12);
      assert.strictEqual(Buffer.from(e.tag, 'base64').length, 16);
      assert.strictEqual(e.cty, 'application/json');
      assert.deepStrictEqual(out.headers, {
        'content-type': 'application/json; charset=utf-8',
        'x-encryption-alg': 'A256GCM',
        'x-encryption-kid': 'k7',
      });
      const cbc = envelopeFor('aes-256-cbc-hmac', 'x');
      assert.strictEqual(cbc.alg, 'A256CBC-HS256');
      assert.strictEqual(Buffer.from(cbc.tag, 'base64').length, 32);
      assert.ok(!('cty' in cbc));
      const cj = c.encryptPlaintext('cryptojs', c.prepareKey('cryptojs', 'pw', 'k1'), { bytes: Buffer.from('x') });
      assert.deepStrictEqual(cj.headers, {
        'content-type': 'text/plain; charset=utf-8',
        'x-encryption-alg': 'CryptoJS-AES',
        'x-encryption-kid': 'k1',
      });
      assert.ok(cj.payload.startsWith('U2FsdGVkX1'));
    });

    it('decrypts an envelope given as string, Buffer or object', function () {
      const keys = [c.prepareKey('auto', KEY_HEX, 'k1')];
      const e = envelopeFor('aes-256-gcm', 'hi', undefined, { cty: 'text/plain' });
      for (const input of [JSON.stringify(e), Buffer.from(JSON.stringify(e)), e, '  ' + JSON.stringify(e) + '\n']) {
        const r = c.decryptPayload(input, 'auto', keys);
        assert.strictEqual(r.plaintext.toString(), 'hi');
        assert.strictEqual(r.alg, 'A256GCM');
        assert.strictEqual(r.kid, 'k1');
        assert.strictEqual(r.cty, 'text/plain');
      }
    });

    it('rejects malformed envelopes with DECRYPT_INPUT, listing every problem', function () {
      const keys = [c.prepareKey('auto', KEY_HEX, 'k1')];
      const e = envelopeFor('aes-256-gcm', 'hi');
      const cases = [
        { ...e, tag: undefined },
        { ...e, tag: Buffer.from(e.tag, 'base64').subarray(0, 12).toString('base64') },
        { ...e, tag: Buffer.from(e.tag, 'base64').subarray(0, 4).toString('base64') },
        { ...e, iv: 'not base64!' },
        { ...e, ct: e.ct.slice(0, -1) },
        { ...e, ct: 42 },
        { ...e, v: 2 },
        { ...e, kid: '' },
        'not json and not cryptojs',
        '{"v":1,',
        '[1,2]',
        '',
        undefined,
        12,
        Buffer.from([0xff, 0xfe, 0x00]),
      ];
      for (const input of cases) {
        assert.strictEqual(
          code(() => c.decryptPayload(input, 'auto', keys)),
          'DECRYPT_INPUT',
          JSON.stringify(input),
        );
      }
      let caught;
      try {
        c.decryptPayload({ ...e, iv: '', tag: undefined, ct: '***' }, 'auto', keys);
      } catch (err) {
        caught = err;
      }
      assert.deepStrictEqual(
        caught.details.map((d) => d.field),
        ['iv', 'tag', 'ct'],
      );
    });

    it('rejects unknown alg, and an alg other than a fixed one (no downgrade)', function () {
      const keys = [c.prepareKey('aes-256-gcm', KEY_HEX, 'k1')];
      const gcm = envelopeFor('aes-256-gcm', 'hi');
      const cbc = envelopeFor('aes-256-cbc-hmac', 'hi');
      assert.strictEqual(
        code(() => c.decryptPayload({ ...gcm, alg: 'A128GCM' }, 'auto', keys)),
        'DECRYPT_ALG',
      );
      assert.strictEqual(
        code(() => c.decryptPayload({ ...gcm, alg: undefined }, 'auto', keys)),
        'DECRYPT_ALG',
      );
      assert.strictEqual(
        code(() => c.decryptPayload(cbc, 'aes-256-gcm', keys)),
        'DECRYPT_ALG',
      );
      assert.strictEqual(
        code(() => c.decryptPayload(gcm, 'aes-256-cbc-hmac', keys)),
        'DECRYPT_ALG',
      );
      assert.strictEqual(
        code(() => c.decryptPayload(gcm, 'cryptojs', [c.prepareKey('cryptojs', 'pw', 'k1')])),
        'DECRYPT_ALG',
      );
      assert.strictEqual(
        code(() => c.decryptPayload(CryptoJS.AES.encrypt('x', KEY_HEX).toString(), 'aes-256-gcm', keys)),
        'DECRYPT_ALG',
      );
      // relabelling a GCM envelope as CBC does not open it either
      assert.strictEqual(
        code(() => c.decryptPayload({ ...gcm, alg: 'A256CBC-HS256' }, 'auto', keys)),
        'DECRYPT_INPUT',
      );
      assert.strictEqual(c.decryptPayload(gcm, 'aes-256-gcm', keys).plaintext.toString(), 'hi');
      assert.strictEqual(c.decryptPayload(cbc, 'aes-256-cbc-hmac', keys).plaintext.toString(), 'hi');
    });

    it('chooses the key by kid; an unknown kid is DECRYPT_KID', function () {
      const other = crypto.randomBytes(32).toString('hex');
      const keys = [c.prepareKey('auto', other, 'k2'), c.prepareKey('auto', KEY_HEX, 'k1')];
      const e = envelopeFor('aes-256-gcm', 'hi');
      assert.strictEqual(c.decryptPayload(e, 'auto', keys).kid, 'k1');
      assert.strictEqual(
        code(() => c.decryptPayload({ ...e, kid: 'k9' }, 'auto', keys)),
        'DECRYPT_KID',
      );
      assert.strictEqual(
        code(() => c.decryptPayload({ ...e, kid: 'k2' }, 'auto', keys)),
        'DECRYPT_FAILED',
      );
      assert.strictEqual(
        code(() => c.decryptPayload(e, 'auto', [c.prepareKey('auto', 'a passphrase', 'k1')])),
        'INVALID_KEY',
      );
    });

    it('fails with DECRYPT_FAILED on a changed byte or wrong AAD, without the key in the error', function () {
      const keys = [c.prepareKey('auto', KEY_HEX, 'k1')];
      const aad = Buffer.from('evt_1');
      for (const alg of ['aes-256-gcm', 'aes-256-cbc-hmac']) {
        const e = envelopeFor(alg, 'hello', aad);
        assert.strictEqual(c.decryptPayload(e, 'auto', keys, aad).plaintext.toString(), 'hello');
        for (const f of ['iv', 'tag', 'ct']) {
          const raw = Buffer.from(e[f], 'base64');
          raw[raw.length - 1] ^= 0x01;
          let caught;
          try {
            c.decryptPayload({ ...e, [f]: raw.toString('base64') }, 'auto', keys, aad);
          } catch (err) {
            caught = err;
          }
          assert.strictEqual(caught && caught.code, 'DECRYPT_FAILED', alg + ' ' + f);
          assert.ok(!JSON.stringify(caught.toJSON()).includes(KEY_HEX));
        }
        assert.strictEqual(
          code(() => c.decryptPayload(e, 'auto', keys, Buffer.from('evt_2'))),
          'DECRYPT_FAILED',
        );
        assert.strictEqual(
          code(() => c.decryptPayload(e, 'auto', keys)),
          'DECRYPT_FAILED',
        );
      }
    });

    it('CryptoJS input: auto detects Salted__, tries the previous key, refuses when AAD is required', function () {
      const ct = CryptoJS.AES.encrypt('hello', 'old').toString();
      const keys = [c.prepareKey('auto', 'new', 'k2'), c.prepareKey('auto', 'old', 'k1')];
      const r = c.decryptPayload(ct, 'auto', keys);
      assert.strictEqual(r.plaintext.toString(), 'hello');
      assert.strictEqual(r.alg, 'CryptoJS-AES');
      assert.strictEqual(r.kid, 'k1');
      assert.strictEqual(c.decryptPayload(Buffer.from(ct), 'cryptojs', keys).kid, 'k1');
      assert.strictEqual(
        code(() => c.decryptPayload(ct, 'auto', [keys[0]])),
        'DECRYPT_FAILED',
      );
      assert.strictEqual(
        code(() => c.decryptPayload(ct, 'auto', keys, Buffer.from('evt'))),
        'DECRYPT_ALG',
      );
      // without the Salted__ prefix auto cannot know; fixed cryptojs can still say it is malformed
      assert.strictEqual(
        code(() => c.decryptPayload('aGVsbG8=', 'auto', keys)),
        'DECRYPT_INPUT',
      );
      assert.strictEqual(
        code(() => c.decryptPayload('aGVsbG8=', 'cryptojs', keys)),
        'DECRYPT_INPUT',
      );
    });
  });

  describe('output', function () {
    it('auto parses JSON types, keeps octet-stream as a Buffer, else gives a string', function () {
      assert.deepStrictEqual(c.decodeOutput(Buffer.from('{"a":1}'), 'application/json; charset=utf-8', 'auto'), {
        a: 1,
      });
      assert.deepStrictEqual(c.decodeOutput(Buffer.from('[1]'), 'application/problem+json', 'auto'), [1]);
      assert.strictEqual(c.decodeOutput(Buffer.from('{"a":1}'), undefined, 'auto'), '{"a":1}');
      assert.strictEqual(c.decodeOutput(Buffer.from('a,b'), 'text/csv', 'auto'), 'a,b');
      assert.deepStrictEqual(c.decodeOutput(Buffer.from('ab'), 'application/octet-stream', 'auto'), Buffer.from('ab'));
      assert.deepStrictEqual(c.decodeOutput(Buffer.from([0xff]), undefined, 'auto'), Buffer.from([0xff]));
      assert.strictEqual(
        code(() => c.decodeOutput(Buffer.from('{'), 'application/json', 'auto')),
        'DECRYPT_OUTPUT',
      );
    });

    it('string, buffer and json force the type', function () {
      assert.strictEqual(c.decodeOutput(Buffer.from('{"a":1}'), 'application/json', 'string'), '{"a":1}');
      assert.deepStrictEqual(
        c.decodeOutput(Buffer.from('{"a":1}'), 'application/json', 'buffer'),
        Buffer.from('{"a":1}'),
      );
      assert.deepStrictEqual(c.decodeOutput(Buffer.from('{"a":1}'), 'text/plain', 'json'), { a: 1 });
      assert.strictEqual(
        code(() => c.decodeOutput(Buffer.from('nope'), undefined, 'json')),
        'DECRYPT_OUTPUT',
      );
      assert.strictEqual(
        code(() => c.decodeOutput(Buffer.from([0xc3, 0x28]), undefined, 'string')),
        'DECRYPT_OUTPUT',
      );
    });
  });

  describe('docs/encryption.md', function () {
    const docs = fs.readFileSync(path.join(root, 'docs', 'encryption.md'), 'utf8');
    const blocks = [...docs.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);

    for (const file of ['receiver-gcm.js', 'receiver-gcm.py', 'receiver-cbc-hmac.js']) {
      it(`shows test/fixtures/${file} verbatim`, function () {
        const text = fs.readFileSync(path.join(root, 'test', 'fixtures', file), 'utf8');
        assert.ok(blocks.includes(text), `${file} differs from its recipe in docs/encryption.md`);
      });
    }

    it('the README points to these receiver recipes', function () {
      const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
      assert.match(readme, /\]\(docs\/encryption\.md\)/);
    });

    it('documents the header names, key generation and the openssl command', function () {
      for (const s of [
        'x-encryption-alg',
        'x-encryption-kid',
        'openssl rand -hex 32',
        'randomBytes(32)',
        'openssl enc -d -aes-256-cbc -a -A -md md5',
        c.CBC_HMAC_INFO_ENC,
        c.CBC_HMAC_INFO_MAC,
        '"kid"',
        '"cty"',
      ]) {
        assert.ok(docs.includes(s), s);
      }
    });
  });
});
