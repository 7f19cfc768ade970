'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const { fc, NUM_RUNS, adversarial, nastyString, nastyValue } = require('./arbitraries');
const c = require('../../../dist/nodes/lib/crypto');
const { IntegrationError } = require('../../../dist/nodes/lib/errors');

const KEY = crypto.randomBytes(32).toString('hex');
const keysFor = (alg) => [c.prepareKey(alg, KEY, 'k1')];

const envelopeLike = fc.record(
  {
    v: fc.oneof(fc.constant(1), nastyValue),
    alg: fc.oneof(fc.constantFrom('A256GCM', 'A256CBC-HS256', 'CryptoJS-AES'), nastyString),
    kid: fc.oneof(fc.constant('k1'), nastyString),
    iv: fc.oneof(fc.base64String({ maxLength: 24 }), nastyString),
    tag: fc.oneof(fc.base64String({ maxLength: 44 }), nastyString),
    ct: fc.oneof(fc.base64String({ maxLength: 64 }), nastyString),
    cty: nastyString,
  },
  { requiredKeys: [] },
);

describe('property: decrypt', function () {
  for (const alg of c.DECRYPT_ALGORITHMS) {
    it(`${alg}: any payload is decrypted or refused with a DECRYPT_* error that holds no key`, function () {
      fc.assert(
        fc.property(
          fc.oneof(
            adversarial,
            envelopeLike,
            envelopeLike.map((e) => JSON.stringify(e)),
            fc.base64String({ maxLength: 200 }).map((s) => c.CRYPTOJS_PREFIX + s),
            fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u)),
          ),
          (payload) => {
            try {
              const r = c.decryptPayload(payload, alg, keysFor(alg));
              assert.ok(Buffer.isBuffer(r.plaintext));
            } catch (err) {
              assert.ok(err instanceof IntegrationError, String(err && err.stack));
              assert.match(err.code, /^DECRYPT_/);
              assert.ok(!JSON.stringify(err.toJSON()).includes(KEY));
            }
          },
        ),
        { numRuns: NUM_RUNS },
      );
    });
  }

  for (const alg of c.ALGORITHMS) {
    it(`${alg}: encrypt then decrypt gives back the exact bytes (AAD too)`, function () {
      fc.assert(
        fc.property(
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
          fc.option(fc.uint8Array({ minLength: 1, maxLength: 32 })),
          (text, aadBytes) => {
            const aad = alg === 'cryptojs' || !aadBytes ? undefined : Buffer.from(aadBytes);
            const key = c.prepareKey(alg, KEY, 'k1');
            const sealed = c.encryptPlaintext(alg, key, { bytes: Buffer.from(text, 'utf8') }, aad);
            const r = c.decryptPayload(sealed.payload, alg, [key], aad);
            assert.strictEqual(r.plaintext.toString('utf8'), text);
          },
        ),
        { numRuns: Math.ceil(NUM_RUNS / 3) },
      );
    });
  }
});
