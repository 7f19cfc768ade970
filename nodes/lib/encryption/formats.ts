/**
 * Algorithms, envelope constants and keys: the names and sizes every other part uses, and how a key's text becomes 32 bytes.
 * Part of the encryption for the encrypt/decrypt nodes (see ../crypto.ts). Pure: no Node-RED import.
 */
import { IntegrationError } from '../errors';
import {
  DECRYPT_ALGORITHMS as DECRYPT_ALGORITHM_LIST,
  DECRYPT_OUTPUTS,
  ENCRYPT_ALGORITHMS,
  KID_PATTERN,
  keyFormat,
} from '../rules';

export type Algorithm = 'aes-256-gcm' | 'aes-256-cbc-hmac' | 'cryptojs';
export type DecryptAlgorithm = Algorithm | 'auto';
export type OutputMode = 'auto' | 'string' | 'buffer' | 'json';
export type AlgId = 'A256GCM' | 'A256CBC-HS256' | 'CryptoJS-AES';

export const ALGORITHMS: readonly Algorithm[] = ENCRYPT_ALGORITHMS;
export const DECRYPT_ALGORITHMS: readonly DecryptAlgorithm[] = DECRYPT_ALGORITHM_LIST;
export const OUTPUT_MODES: readonly OutputMode[] = DECRYPT_OUTPUTS;

/** The name of each algorithm on the wire (envelope `alg`, `x-encryption-alg`). */
export const ALG_ID: Readonly<Record<Algorithm, AlgId>> = {
  'aes-256-gcm': 'A256GCM',
  'aes-256-cbc-hmac': 'A256CBC-HS256',
  cryptojs: 'CryptoJS-AES',
};
export const ALG_BY_ID: Readonly<Record<string, Algorithm>> = {
  A256GCM: 'aes-256-gcm',
  'A256CBC-HS256': 'aes-256-cbc-hmac',
};

export const CBC_HMAC_INFO_ENC = 'saypro/aes-256-cbc-hmac/enc';
export const CBC_HMAC_INFO_MAC = 'saypro/aes-256-cbc-hmac/mac';
/** base64 of "Salted__": how every CryptoJS/OpenSSL passphrase ciphertext starts. */
export const CRYPTOJS_PREFIX = 'U2FsdGVkX1';
export const DEFAULT_KID = 'k1';

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
export const CBC_IV_BYTES = 16;
export const CBC_TAG_BYTES = 32;
export const KEY_BYTES = 32;

/** Key ids go into the envelope and an HTTP header: keep them short and plain. */
export { KID_PATTERN };

// ---------------------------------------------------------------------------
// Keys

/**
 * Decodes a 32-byte key written as 64 hex characters or as base64 (standard or
 * url-safe, padding optional). Returns undefined when the text is neither.
 */
export function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  const buf = decodeBase64Loose(t);
  return buf && buf.length === KEY_BYTES ? buf : undefined;
}

/** Why `text` is not a usable 32-byte key (never quoting it), or undefined when it is. */
export function keyProblem(text: string | undefined): string | undefined {
  // the format rule is lib/rules/keys.ts, which the dialogs apply too
  const f = keyFormat(text);
  if (f.ok) return undefined;
  switch (f.problem) {
    case 'empty':
      return 'the key is empty';
    case 'hexLength':
      return `a hex key needs 64 hex characters (32 bytes); this one has ${f.count}`;
    case 'base64Length':
      return `a base64 key must decode to 32 bytes; this one decodes to ${f.count}`;
    default:
      return 'the key must be 64 hex characters or the base64 (standard or url-safe) of exactly 32 bytes';
  }
}

/** A key as a node holds it after start: the raw text (CryptoJS passphrase) and, when it is one, the 32 bytes. */
export interface PreparedKey {
  kid: string;
  /** the 32-byte key, when the text is one (required for GCM and CBC-HMAC) */
  bytes?: Buffer;
  /** the credential text, used as-is as a CryptoJS passphrase */
  passphrase: string;
}

/**
 * Checks a credential for an algorithm and prepares it. Throws an
 * IntegrationError with code INVALID_KEY; the message never contains the key.
 * For "auto" any non-empty text is accepted (it may be a passphrase), and the
 * bytes are kept when it is also a 32-byte key.
 */
export function prepareKey(
  algorithm: DecryptAlgorithm,
  text: string | undefined,
  kid: string,
  field = 'key',
): PreparedKey {
  if (text === undefined || text === '') {
    throw new IntegrationError('INVALID_KEY', `The ${field} is not set`, [{ field, reason: 'the key is empty' }]);
  }
  if (algorithm === 'cryptojs' || algorithm === 'auto') {
    return { kid, passphrase: text, bytes: algorithm === 'auto' ? decodeKey(text) : undefined };
  }
  const bytes = decodeKey(text);
  if (!bytes) {
    throw new IntegrationError('INVALID_KEY', `The ${field} is not a valid 32-byte key for ${algorithm}`, [
      { field, reason: keyProblem(text) ?? 'invalid key' },
    ]);
  }
  return { kid, passphrase: text, bytes };
}

// ---------------------------------------------------------------------------
// Base64

/** Strict standard base64 with padding (what the envelope carries). */
export function decodeBase64Strict(value: string): Buffer | undefined {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return undefined;
  const buf = Buffer.from(value, 'base64');
  return buf.toString('base64') === value ? buf : undefined;
}

/** Standard or url-safe base64, padding optional, but canonical (no stray bits). */
function decodeBase64Loose(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  if (/[+/]/.test(value) && /[-_]/.test(value)) return undefined;
  let std = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (std.length % 4 === 1) return undefined;
  std += '='.repeat((4 - (std.length % 4)) % 4);
  if (value.includes('=') && value.length !== std.length) return undefined;
  return decodeBase64Strict(std);
}
