'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const c = require('../../dist/nodes/lib/crypto');

describe('lib/crypto IVs (pooled random bytes)', function () {
  it('every IV is fresh across many pool refills, and every envelope still decrypts', function () {
    const key = c.prepareKey('aes-256-gcm', crypto.randomBytes(32).toString('hex'), 'k1');
    const seen = new Set();
    for (let i = 0; i < 3000; i++) {
      const plaintext = c.plaintextFromPayload({ i }, 'application/json');
      const env = JSON.parse(c.encryptPlaintext('aes-256-gcm', key, plaintext).payload);
      const iv = Buffer.from(env.iv, 'base64');
      assert.strictEqual(iv.length, c.GCM_IV_BYTES);
      assert.ok(!seen.has(env.iv), 'IV repeated at message ' + i);
      seen.add(env.iv);
      if (i % 500 === 0) {
        const d = crypto.createDecipheriv('aes-256-gcm', key.bytes, iv);
        d.setAuthTag(Buffer.from(env.tag, 'base64'));
        const back = Buffer.concat([d.update(Buffer.from(env.ct, 'base64')), d.final()]).toString('utf8');
        assert.deepStrictEqual(JSON.parse(back), { i });
      }
    }
  });

  it('hands out views that never overlap, of the asked size, in the 16-byte CBC case too', function () {
    const a = c.randomIv(16);
    const b = c.randomIv(16);
    const before = Buffer.from(b);
    a.fill(0);
    assert.strictEqual(a.length, 16);
    assert.deepStrictEqual(b, before, 'writing one IV does not change another');
    assert.notDeepStrictEqual(before, Buffer.alloc(16));
  });
});
