/**
 * The ciphers themselves: AES-256-GCM, AES-256-CBC + HMAC-SHA256 (encrypt-then-MAC, HKDF subkeys) and the CryptoJS/OpenSSL passphrase format.
 * Part of the encryption for the encrypt/decrypt nodes (see ../crypto.ts). Pure: no Node-RED import.
 */
import * as crypto from 'node:crypto';
import type CryptoJSModule from 'crypto-js';
import { IntegrationError } from '../errors';
import {
  CBC_HMAC_INFO_ENC,
  CBC_HMAC_INFO_MAC,
  CBC_IV_BYTES,
  CBC_TAG_BYTES,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  decodeBase64Strict,
} from './formats';

// ---------------------------------------------------------------------------
// Primitives (exported for tests and for readers of the format)

export interface Sealed {
  iv: Buffer;
  tag: Buffer;
  ct: Buffer;
}

/**
 * Random bytes for IVs from the CSPRNG, drawn 4 KB at a time: one call per
 * about 300 messages instead of one per message (a per-call cost that showed
 * in profiles). Every byte is handed out once; an IV is a view of the pool,
 * which is never written again.
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
export function randomIv(size: number): Buffer {
  if (randomOffset + size > randomPool.length) {
    randomPool = crypto.randomBytes(Math.max(RANDOM_POOL_BYTES, size));
    randomOffset = 0;
  }
  const iv = randomPool.subarray(randomOffset, randomOffset + size);
  randomOffset += size;
  return iv;
}

export function gcmEncrypt(key: Buffer, plaintext: Buffer, aad?: Buffer, iv: Buffer = randomIv(GCM_IV_BYTES)): Sealed {
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ct };
}

/** Throws when anything was changed. The caller checks the IV and tag lengths first. */
export function gcmDecrypt(key: Buffer, sealed: Sealed, aad?: Buffer): Buffer {
  if (sealed.iv.length !== GCM_IV_BYTES) throw new Error(`the IV must be ${GCM_IV_BYTES} bytes`);
  // Node accepts shorter tags unless told otherwise: insist on the full 16 bytes.
  if (sealed.tag.length !== GCM_TAG_BYTES) throw new Error(`the tag must be ${GCM_TAG_BYTES} bytes`);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: GCM_TAG_BYTES });
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ct), decipher.final()]);
}

/** The two keys of A256CBC-HS256, derived with HKDF-SHA256 (empty salt). */
export function cbcHmacKeys(key: Buffer): { encKey: Buffer; macKey: Buffer } {
  const salt = Buffer.alloc(0);
  return {
    encKey: Buffer.from(crypto.hkdfSync('sha256', key, salt, CBC_HMAC_INFO_ENC, 32)),
    macKey: Buffer.from(crypto.hkdfSync('sha256', key, salt, CBC_HMAC_INFO_MAC, 32)),
  };
}

/** HMAC-SHA256(macKey, uint64be(AAD length in bytes) ‖ AAD ‖ IV ‖ ciphertext). */
export function cbcHmacTag(macKey: Buffer, iv: Buffer, ct: Buffer, aad?: Buffer): Buffer {
  const a = aad ?? Buffer.alloc(0);
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(a.length));
  return crypto.createHmac('sha256', macKey).update(len).update(a).update(iv).update(ct).digest();
}

export function cbcHmacEncrypt(
  key: Buffer,
  plaintext: Buffer,
  aad?: Buffer,
  iv: Buffer = randomIv(CBC_IV_BYTES),
): Sealed {
  const { encKey, macKey } = cbcHmacKeys(key);
  const cipher = crypto.createCipheriv('aes-256-cbc', encKey, iv);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cbcHmacTag(macKey, iv, ct, aad), ct };
}

/** Verifies the MAC (constant time) before decrypting; throws when anything was changed. */
export function cbcHmacDecrypt(key: Buffer, sealed: Sealed, aad?: Buffer): Buffer {
  if (sealed.iv.length !== CBC_IV_BYTES) throw new Error(`the IV must be ${CBC_IV_BYTES} bytes`);
  if (sealed.tag.length !== CBC_TAG_BYTES) throw new Error(`the tag must be ${CBC_TAG_BYTES} bytes`);
  const { encKey, macKey } = cbcHmacKeys(key);
  const expected = cbcHmacTag(macKey, sealed.iv, sealed.ct, aad);
  if (!crypto.timingSafeEqual(expected, sealed.tag)) throw new Error('the authentication tag does not match');
  const decipher = crypto.createDecipheriv('aes-256-cbc', encKey, sealed.iv);
  return Buffer.concat([decipher.update(sealed.ct), decipher.final()]);
}

/** OpenSSL EVP_BytesToKey with MD5 and one round: 32-byte key and 16-byte IV. */
export function evpBytesToKey(passphrase: Buffer, salt: Buffer): { key: Buffer; iv: Buffer } {
  const parts: Buffer[] = [];
  let prev = Buffer.alloc(0);
  let total = 0;
  while (total < 48) {
    prev = crypto.createHash('md5').update(prev).update(passphrase).update(salt).digest();
    parts.push(prev);
    total += prev.length;
  }
  const all = Buffer.concat(parts);
  return { key: all.subarray(0, 32), iv: all.subarray(32, 48) };
}

let cryptoJsModule: typeof CryptoJSModule | undefined;
/** crypto-js is loaded on first use: most flows never use that format, and loading it costs start time. */
function cryptoJs(): typeof CryptoJSModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cryptoJsModule ??= require('crypto-js') as typeof CryptoJSModule;
  return cryptoJsModule;
}

/** `CryptoJS.AES.encrypt(text, passphrase).toString()`: OpenSSL "Salted__" base64. */
export function cryptoJsEncrypt(text: string, passphrase: string): string {
  return cryptoJs().AES.encrypt(text, passphrase).toString();
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly; undefined when the bytes are not valid UTF-8. */
export function utf8OrUndefined(bytes: Buffer): string | undefined {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Reads CryptoJS/OpenSSL passphrase output with node:crypto. Throws an
 * IntegrationError: DECRYPT_INPUT for a malformed string, DECRYPT_FAILED for a
 * wrong passphrase (bad PKCS#7 padding, empty or non-UTF-8 plaintext).
 * The format carries no MAC: a wrong passphrase is found by those checks only.
 */
export function cryptoJsDecrypt(b64: string, passphrase: string): Buffer {
  const raw = decodeBase64Strict(b64.replace(/\s+/g, ''));
  if (!raw)
    throw new IntegrationError('DECRYPT_INPUT', 'The CryptoJS ciphertext is not valid base64', [
      { field: 'payload', reason: 'not valid base64' },
    ]);
  if (raw.length < 32 || raw.subarray(0, 8).toString('latin1') !== 'Salted__' || (raw.length - 16) % 16 !== 0) {
    throw new IntegrationError('DECRYPT_INPUT', 'The CryptoJS ciphertext is malformed', [
      { field: 'payload', reason: 'expected "Salted__", an 8-byte salt and whole 16-byte blocks' },
    ]);
  }
  const { key, iv } = evpBytesToKey(Buffer.from(passphrase, 'utf8'), raw.subarray(8, 16));
  let plain: Buffer;
  try {
    const decipher = crypto.createDecipheriv('aes-256-cbc', key, iv);
    plain = Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]);
  } catch {
    throw failed('wrong passphrase or changed ciphertext (bad padding)');
  }
  if (plain.length === 0) throw failed('wrong passphrase or changed ciphertext (empty plaintext)');
  if (utf8OrUndefined(plain) === undefined) throw failed('wrong passphrase or changed ciphertext (not UTF-8 text)');
  return plain;
}

export function failed(reason: string): IntegrationError {
  return new IntegrationError('DECRYPT_FAILED', 'Decryption failed', [{ reason }]);
}
