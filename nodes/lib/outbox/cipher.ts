/**
 * Encryption at rest for journal records: AES-256-GCM per record (node:crypto).
 *
 *   encrypted body = 12-byte random IV ‖ ciphertext ‖ 16-byte tag
 *   additional authenticated data = "saypro-journal" ‖ record type ‖ flags
 *
 * The key comes from a secret the user gives (a credential, or an environment
 * variable named in it): 64 hex digits or base64 of 32 bytes are used as the
 * key itself; any other text is a passphrase stretched with scrypt (N=2^14; a raw key skips that step)
 * under a fixed salt, so the same passphrase opens the journal on every start.
 *
 * What stays readable on disk: the record framing (sync marker, body length,
 * checksum, sequence number, record type, the encrypted flag), so sizes,
 * counts and timing (file times) are visible; segment file names; the lock
 * file (pid, host name, start time). Everything in a body — ids, ordering
 * keys, attempts, errors, the request and the message — is encrypted.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD_PREFIX = Buffer.from('saypro-journal', 'utf8');
const SALT = 'saypro-integration-kit/outbox-journal/v1';

export class RecordCipher {
  /** a short fingerprint of the key (sha-256, 8 hex digits): safe to log, tells keys apart */
  readonly fingerprint: string;

  private constructor(private readonly key: Buffer) {
    this.fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /** A cipher from the user's secret; throws a TypeError when it is empty. */
  static fromSecret(secret: string): RecordCipher {
    const s = typeof secret === 'string' ? secret.trim() : '';
    if (s === '') throw new TypeError('the journal encryption key is empty');
    if (/^[0-9a-fA-F]{64}$/.test(s)) return new RecordCipher(Buffer.from(s, 'hex'));
    if (/^[A-Za-z0-9+/]{43}=$/.test(s)) return new RecordCipher(Buffer.from(s, 'base64'));
    return new RecordCipher(scryptSync(s, SALT, 32, { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
  }

  private aad(type: number, flags: number): Buffer {
    return Buffer.concat([AAD_PREFIX, Buffer.from([type, flags])]);
  }

  encrypt(type: number, flags: number, plain: Buffer): Buffer {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(this.aad(type, flags));
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([iv, body, c.getAuthTag()]);
  }

  /** Throws when the key is not the one the record was encrypted with (or the record was tampered with). */
  decrypt(type: number, flags: number, sealed: Buffer): Buffer {
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('encrypted record too short');
    const d = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
    d.setAAD(this.aad(type, flags));
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([d.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), d.final()]);
  }
}
