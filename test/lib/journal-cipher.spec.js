'use strict';
/** Encryption at rest of journal records (lib/outbox/cipher.ts, journal.ts). */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { Journal } = require('../../dist/nodes/lib/outbox/journal');
const { RecordCipher } = require('../../dist/nodes/lib/outbox/cipher');
const { recordAt, HEADER_BYTES } = require('../../dist/nodes/lib/outbox/framing');

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-cipher-'));

async function openJ(dir, options = {}) {
  const records = [];
  const j = await Journal.open(dir, options, (r) => records.push(r));
  return { j, records };
}

describe('journal encryption at rest', function () {
  it('keys: 64 hex digits and base64 of 32 bytes are used as they are; a passphrase is stretched; the fingerprint tells them apart', function () {
    const raw = crypto.randomBytes(32);
    assert.strictEqual(
      RecordCipher.fromSecret(raw.toString('hex')).fingerprint,
      RecordCipher.fromSecret(raw.toString('base64')).fingerprint,
    );
    assert.strictEqual(
      RecordCipher.fromSecret('a passphrase').fingerprint,
      RecordCipher.fromSecret(' a passphrase ').fingerprint,
    );
    assert.notStrictEqual(
      RecordCipher.fromSecret('a passphrase').fingerprint,
      RecordCipher.fromSecret('another').fingerprint,
    );
    assert.throws(() => RecordCipher.fromSecret('  '), TypeError);
  });

  it('records are AES-256-GCM sealed: only the framing is readable; a tampered body fails its checksum or its tag', async function () {
    const d = tmpDir();
    const cipher = RecordCipher.fromSecret('k'.repeat(20));
    const { j } = await openJ(d, { cipher });
    const p = await j.append(1, { secret: 'PLAINTEXT-MARKER', n: 1 });
    await j.close();
    const file = fs.readFileSync(path.join(d, 'seg-000001.log'));
    assert.strictEqual(file.indexOf('PLAINTEXT-MARKER'), -1);
    const r = recordAt(file, p.offset);
    assert.strictEqual(r.flags & 1, 1);
    assert.strictEqual(r.type, 1);
    assert.strictEqual(
      r.length,
      HEADER_BYTES + 12 + Buffer.byteLength(JSON.stringify({ secret: 'PLAINTEXT-MARKER', n: 1 })) + 16,
    );
    const again = await openJ(d, { cipher });
    assert.deepStrictEqual(
      again.records.map((x) => x.body),
      [{ secret: 'PLAINTEXT-MARKER', n: 1 }],
    );
    assert.deepStrictEqual(await again.j.read(p), { type: 1, body: { secret: 'PLAINTEXT-MARKER', n: 1 } });
    await again.j.close();
  });

  it('turning encryption on keeps older plain records readable; without the key, or with another, the journal refuses to open', async function () {
    const d = tmpDir();
    let o = await openJ(d);
    await o.j.append(1, { plain: 1 });
    await o.j.close();
    const cipher = RecordCipher.fromSecret('the key');
    o = await openJ(d, { cipher });
    await o.j.append(1, { sealed: 2 });
    await o.j.close();
    o = await openJ(d, { cipher });
    assert.deepStrictEqual(
      o.records.map((x) => x.body),
      [{ plain: 1 }, { sealed: 2 }],
    );
    await o.j.close();
    await assert.rejects(
      openJ(d),
      (err) => err.code === 'EJOURNALKEY' && /encrypted and no key is configured/.test(err.message),
    );
    await assert.rejects(
      openJ(d, { cipher: RecordCipher.fromSecret('wrong') }),
      (err) => err.code === 'EJOURNALKEY' && /another key/.test(err.message),
    );
    // refusing left everything in place
    o = await openJ(d, { cipher });
    assert.strictEqual(o.records.length, 2);
    await o.j.close();
  });
});
