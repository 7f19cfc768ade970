/**
 * Encryption for the encrypt/decrypt nodes. Pure: no Node-RED import.
 *
 * Three formats:
 * - "aes-256-gcm" (A256GCM): node:crypto, random 96-bit IV, 128-bit tag, optional AAD.
 * - "aes-256-cbc-hmac" (A256CBC-HS256): AES-256-CBC then HMAC-SHA256 (encrypt-then-MAC) with
 *   separate keys derived by HKDF-SHA256 from the 32-byte key.
 * - "cryptojs" (CryptoJS-AES): `CryptoJS.AES.encrypt(text, passphrase).toString()`, the OpenSSL
 *   `Salted__` format (EVP_BytesToKey MD5, one round, AES-256-CBC). It has no integrity check;
 *   it exists for receivers that already speak it. crypto-js produces it; we read it back with
 *   node:crypto so that a bad padding is a real error and not garbage.
 *
 * GCM and CBC-HMAC travel in a JSON envelope:
 *   {"v":1,"alg":"A256GCM","kid":"k1","iv":"<b64>","tag":"<b64>","ct":"<b64>","cty":"..."}
 */
import * as crypto from 'node:crypto';
import type CryptoJSModule from 'crypto-js';
import { IntegrationError, type ErrorDetail } from './errors';
import {
  DECRYPT_ALGORITHMS as DECRYPT_ALGORITHM_LIST,
  DECRYPT_OUTPUTS,
  ENCRYPT_ALGORITHMS,
  KID_PATTERN,
  keyFormat,
} from './rules';

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
const ALG_BY_ID: Readonly<Record<string, Algorithm>> = {
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

function failed(reason: string): IntegrationError {
  return new IntegrationError('DECRYPT_FAILED', 'Decryption failed', [{ reason }]);
}

// ---------------------------------------------------------------------------
// Encrypting a message

export interface Plaintext {
  bytes: Buffer;
  /** the plaintext's content type, carried as `cty` */
  cty?: string;
}

/** Finds a header case-insensitively. */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (k.toLowerCase() === lower && (typeof v === 'string' || typeof v === 'number')) {
      const s = String(v).trim();
      return s === '' ? undefined : s;
    }
  }
  return undefined;
}

/**
 * The bytes to encrypt from `msg.payload`: a string as UTF-8, a Buffer as-is,
 * anything else JSON (then `cty` is application/json). `contentType` is
 * `msg.headers['content-type']` when set.
 */
export function plaintextFromPayload(payload: unknown, contentType?: string): Plaintext {
  if (typeof payload === 'string') return { bytes: Buffer.from(payload, 'utf8'), cty: contentType };
  if (Buffer.isBuffer(payload)) return { bytes: payload, cty: contentType ?? 'application/octet-stream' };
  if (payload instanceof Uint8Array)
    return { bytes: Buffer.from(payload), cty: contentType ?? 'application/octet-stream' };
  if (payload === undefined || payload === null) {
    throw new IntegrationError('ENCRYPT_INPUT', 'msg.payload is missing', [
      { field: 'payload', reason: 'nothing to encrypt' },
    ]);
  }
  if (typeof payload === 'object' || typeof payload === 'number' || typeof payload === 'boolean') {
    let json: string | undefined;
    try {
      json = JSON.stringify(payload);
    } catch (err) {
      throw new IntegrationError('ENCRYPT_INPUT', 'msg.payload cannot be written as JSON', [
        { field: 'payload', reason: err instanceof Error ? err.message : String(err) },
      ]);
    }
    if (json === undefined) {
      throw new IntegrationError('ENCRYPT_INPUT', 'msg.payload cannot be written as JSON', [
        { field: 'payload', reason: 'unsupported value' },
      ]);
    }
    return {
      bytes: Buffer.from(json, 'utf8'),
      cty: contentType && isJsonType(contentType) ? contentType : 'application/json',
    };
  }
  throw new IntegrationError('ENCRYPT_INPUT', `msg.payload of type ${typeof payload} cannot be encrypted`, [
    { field: 'payload', reason: 'expected a string, a Buffer, an object or an array' },
  ]);
}

/**
 * Additional authenticated data from a resolved node property: strings as
 * UTF-8, Buffers as-is, numbers and booleans as text, objects as JSON.
 * Throws (code `code`) when it is missing or empty.
 */
export function aadToBuffer(value: unknown, code: string): Buffer {
  let buf: Buffer | undefined;
  if (typeof value === 'string') buf = Buffer.from(value, 'utf8');
  else if (Buffer.isBuffer(value)) buf = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    buf = Buffer.from(String(value), 'utf8');
  else if (value !== null && typeof value === 'object') buf = Buffer.from(JSON.stringify(value), 'utf8');
  if (!buf || buf.length === 0) {
    throw new IntegrationError(code, 'The additional authenticated data (AAD) is missing or empty', [
      {
        field: 'aad',
        reason: value === undefined || value === null ? 'the property is not set' : 'the value is empty',
      },
    ]);
  }
  return buf;
}

export interface Envelope {
  v: 1;
  alg: string;
  kid: string;
  iv: string;
  tag: string;
  ct: string;
  cty?: string;
}

export interface EncryptResult {
  /** the envelope JSON string, or the CryptoJS base64 */
  payload: string;
  alg: AlgId;
  kid: string;
  /** headers to merge into msg.headers */
  headers: Record<string, string>;
}

/** Encrypts one message's plaintext. AAD is ignored for CryptoJS (the format has none). */
export function encryptPlaintext(
  algorithm: Algorithm,
  key: PreparedKey,
  plaintext: Plaintext,
  aad?: Buffer,
): EncryptResult {
  const alg = ALG_ID[algorithm];
  if (algorithm === 'cryptojs') {
    const text = utf8OrUndefined(plaintext.bytes);
    if (text === undefined) {
      throw new IntegrationError('ENCRYPT_INPUT', 'The CryptoJS format carries text only', [
        { field: 'payload', reason: 'the payload is not UTF-8 text; use aes-256-gcm for binary data' },
      ]);
    }
    if (text.length === 0) {
      throw new IntegrationError('ENCRYPT_INPUT', 'The CryptoJS format cannot carry an empty payload', [
        { field: 'payload', reason: 'an empty plaintext cannot be told apart from a wrong passphrase' },
      ]);
    }
    return {
      payload: cryptoJsEncrypt(text, key.passphrase),
      alg,
      kid: key.kid,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-encryption-alg': alg, 'x-encryption-kid': key.kid },
    };
  }
  if (!key.bytes)
    throw new IntegrationError('INVALID_KEY', 'The key is not a valid 32-byte key', [
      { field: 'key', reason: 'not a 32-byte key' },
    ]);
  const sealed =
    algorithm === 'aes-256-gcm'
      ? gcmEncrypt(key.bytes, plaintext.bytes, aad)
      : cbcHmacEncrypt(key.bytes, plaintext.bytes, aad);
  const envelope: Envelope = {
    v: 1,
    alg,
    kid: key.kid,
    iv: sealed.iv.toString('base64'),
    tag: sealed.tag.toString('base64'),
    ct: sealed.ct.toString('base64'),
  };
  if (plaintext.cty) envelope.cty = plaintext.cty;
  return {
    payload: JSON.stringify(envelope),
    alg,
    kid: key.kid,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-encryption-alg': alg,
      'x-encryption-kid': key.kid,
    },
  };
}

// ---------------------------------------------------------------------------
// Decrypting a message

export type DecryptInput = { kind: 'envelope'; envelope: Record<string, unknown> } | { kind: 'cryptojs'; text: string };

function inputError(message: string, details: ErrorDetail[] = []): IntegrationError {
  return new IntegrationError('DECRYPT_INPUT', message, details);
}

/** Tells an envelope (string, Buffer or parsed object) from CryptoJS base64. */
export function classifyInput(payload: unknown, algorithm: DecryptAlgorithm): DecryptInput {
  let text: string | undefined;
  if (Buffer.isBuffer(payload) || payload instanceof Uint8Array) {
    text = utf8OrUndefined(Buffer.from(payload));
    if (text === undefined)
      throw inputError('msg.payload is not UTF-8 text', [
        { field: 'payload', reason: 'expected an envelope or CryptoJS base64' },
      ]);
  } else if (typeof payload === 'string') {
    text = payload;
  } else if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
    return checkKind({ kind: 'envelope', envelope: payload as Record<string, unknown> }, algorithm);
  } else {
    throw inputError(
      payload === undefined || payload === null
        ? 'msg.payload is missing'
        : `msg.payload of type ${Array.isArray(payload) ? 'array' : typeof payload} is not an envelope`,
      [{ field: 'payload', reason: 'expected an envelope (JSON string, Buffer or object) or CryptoJS base64' }],
    );
  }
  const t = text.trim();
  if (t.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch (err) {
      throw inputError('msg.payload is not valid JSON', [
        { field: 'payload', reason: err instanceof Error ? err.message : String(err) },
      ]);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw inputError('msg.payload is not an envelope object');
    return checkKind({ kind: 'envelope', envelope: parsed as Record<string, unknown> }, algorithm);
  }
  if (t === '') throw inputError('msg.payload is empty', [{ field: 'payload', reason: 'nothing to decrypt' }]);
  if (algorithm === 'cryptojs' || (algorithm === 'auto' && t.startsWith(CRYPTOJS_PREFIX)))
    return { kind: 'cryptojs', text: t };
  if (algorithm === 'auto') {
    throw inputError('msg.payload is neither an envelope nor CryptoJS output', [
      { field: 'payload', reason: 'expected a JSON envelope or base64 starting with "U2FsdGVkX1" (Salted__)' },
    ]);
  }
  if (t.startsWith(CRYPTOJS_PREFIX)) {
    throw new IntegrationError(
      'DECRYPT_ALG',
      `msg.payload is CryptoJS output but this node only accepts ${ALG_ID[algorithm]}`,
      [{ field: 'alg', reason: 'algorithm does not match the configured one', value: ALG_ID.cryptojs }],
    );
  }
  throw inputError('msg.payload is not a JSON envelope', [{ field: 'payload', reason: 'expected a JSON envelope' }]);
}

function checkKind(input: DecryptInput, algorithm: DecryptAlgorithm): DecryptInput {
  if (input.kind === 'envelope' && algorithm === 'cryptojs') {
    throw new IntegrationError('DECRYPT_ALG', 'msg.payload is an envelope but this node only accepts CryptoJS output', [
      { field: 'alg', reason: 'algorithm does not match the configured one', value: safeShort(input.envelope.alg) },
    ]);
  }
  return input;
}

function safeShort(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 64 ? v.slice(0, 64) + '…' : v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  return typeof v;
}

export interface ParsedEnvelope {
  algorithm: Exclude<Algorithm, 'cryptojs'>;
  alg: AlgId;
  kid: string;
  sealed: Sealed;
  cty?: string;
}

/**
 * Checks an envelope: the version, the algorithm (against a fixed configured
 * one: no downgrade), and that iv/tag/ct are strict base64 of the right
 * lengths. Reports every problem at once.
 */
export function parseEnvelope(env: Record<string, unknown>, algorithm: DecryptAlgorithm): ParsedEnvelope {
  if (env.v !== 1) {
    throw inputError('The envelope version is not supported', [
      { field: 'v', reason: 'expected 1', value: safeShort(env.v) },
    ]);
  }
  if (typeof env.alg !== 'string' || !(env.alg in ALG_BY_ID)) {
    throw new IntegrationError(
      'DECRYPT_ALG',
      env.alg === undefined ? 'The envelope has no alg' : 'The envelope alg is not supported',
      [{ field: 'alg', reason: 'expected "A256GCM" or "A256CBC-HS256"', value: safeShort(env.alg) }],
    );
  }
  const envAlgorithm = ALG_BY_ID[env.alg] as Exclude<Algorithm, 'cryptojs'>;
  if (algorithm !== 'auto' && algorithm !== envAlgorithm) {
    throw new IntegrationError(
      'DECRYPT_ALG',
      `The envelope alg ${env.alg} does not match the configured ${ALG_ID[algorithm]}`,
      [{ field: 'alg', reason: 'algorithm does not match the configured one', value: env.alg }],
    );
  }
  const gcm = envAlgorithm === 'aes-256-gcm';
  const details: ErrorDetail[] = [];
  if (typeof env.kid !== 'string' || env.kid === '') details.push({ field: 'kid', reason: 'missing' });
  const field = (name: 'iv' | 'tag' | 'ct', bytes?: number): Buffer | undefined => {
    const v = env[name];
    if (v === undefined || v === null) {
      details.push({ field: name, reason: 'missing' });
      return undefined;
    }
    if (typeof v !== 'string') {
      details.push({ field: name, reason: 'must be a base64 string' });
      return undefined;
    }
    const buf = decodeBase64Strict(v);
    if (!buf) {
      details.push({ field: name, reason: 'not valid base64' });
      return undefined;
    }
    if (bytes !== undefined && buf.length !== bytes) {
      details.push({ field: name, reason: `must be ${bytes} bytes, got ${buf.length}` });
      return undefined;
    }
    return buf;
  };
  const iv = field('iv', gcm ? GCM_IV_BYTES : CBC_IV_BYTES);
  const tag = field('tag', gcm ? GCM_TAG_BYTES : CBC_TAG_BYTES);
  const ct = field('ct');
  if (ct && !gcm && (ct.length === 0 || ct.length % 16 !== 0))
    details.push({ field: 'ct', reason: 'must be whole 16-byte blocks' });
  if (env.cty !== undefined && typeof env.cty !== 'string') details.push({ field: 'cty', reason: 'must be a string' });
  if (details.length || !iv || !tag || !ct) throw inputError('The envelope is malformed', details);
  return {
    algorithm: envAlgorithm,
    alg: env.alg as AlgId,
    kid: env.kid as string,
    sealed: { iv, tag, ct },
    cty: typeof env.cty === 'string' && env.cty !== '' ? env.cty : undefined,
  };
}

export interface DecryptResult {
  plaintext: Buffer;
  alg: AlgId;
  kid: string;
  cty?: string;
}

/**
 * Decrypts `msg.payload`. `keys` are the current key first, then the previous
 * one; an envelope picks its key by `kid`, CryptoJS input tries each in turn.
 * `aad` (when configured) must match; CryptoJS input is refused when AAD is
 * configured because that format cannot carry it. Every failure is an
 * IntegrationError whose message never contains a key.
 */
export function decryptPayload(
  payload: unknown,
  algorithm: DecryptAlgorithm,
  keys: PreparedKey[],
  aad?: Buffer,
): DecryptResult {
  const input = classifyInput(payload, algorithm);
  if (input.kind === 'cryptojs') {
    if (aad && algorithm === 'auto') {
      throw new IntegrationError('DECRYPT_ALG', 'CryptoJS output carries no AAD, but this node requires AAD', [
        { field: 'aad', reason: 'the CryptoJS format cannot be bound to AAD' },
      ]);
    }
    let last: unknown;
    for (const key of keys) {
      try {
        return { plaintext: cryptoJsDecrypt(input.text, key.passphrase), alg: ALG_ID.cryptojs, kid: key.kid };
      } catch (err) {
        if (err instanceof IntegrationError && err.code === 'DECRYPT_INPUT') throw err;
        last = err;
      }
    }
    throw last instanceof Error ? last : failed('wrong passphrase');
  }
  const env = parseEnvelope(input.envelope, algorithm);
  const key = keys.find((k) => k.kid === env.kid);
  if (!key) {
    throw new IntegrationError('DECRYPT_KID', `Unknown key id ${JSON.stringify(safeShort(env.kid))}`, [
      { field: 'kid', reason: `this node knows ${keys.map((k) => k.kid).join(', ')}`, value: safeShort(env.kid) },
    ]);
  }
  if (!key.bytes) {
    throw new IntegrationError(
      'INVALID_KEY',
      `The key for kid ${key.kid} is not a 32-byte key, so it cannot open ${env.alg}`,
      [
        {
          field: 'key',
          reason: 'a passphrase works for CryptoJS only; GCM and CBC-HMAC need 64 hex characters or base64 of 32 bytes',
        },
      ],
    );
  }
  let plaintext: Buffer;
  try {
    plaintext =
      env.algorithm === 'aes-256-gcm'
        ? gcmDecrypt(key.bytes, env.sealed, aad)
        : cbcHmacDecrypt(key.bytes, env.sealed, aad);
  } catch {
    throw new IntegrationError('DECRYPT_FAILED', 'Decryption failed', [
      {
        reason: `authentication failed: wrong key${aad ? ', wrong AAD' : ''} or changed ciphertext, IV or tag`,
        value: env.alg,
      },
    ]);
  }
  return { plaintext, alg: env.alg, kid: env.kid, cty: env.cty };
}

/** True for application/json and any +json type (parameters ignored). */
export function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0].trim().toLowerCase();
  return mime === 'application/json' || /^[a-z0-9!#$&^_.-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(mime);
}

function isBinaryType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0].trim().toLowerCase();
  return mime === 'application/octet-stream';
}

function outputError(message: string, reason: string): IntegrationError {
  return new IntegrationError('DECRYPT_OUTPUT', message, [{ field: 'payload', reason }]);
}

/**
 * The plaintext as `msg.payload`: "auto" parses JSON when `cty` is a JSON
 * type, gives a Buffer for application/octet-stream or bytes that are not
 * UTF-8, and a string otherwise; "string", "buffer" and "json" force the type.
 */
export function decodeOutput(plaintext: Buffer, cty: string | undefined, mode: OutputMode): unknown {
  if (mode === 'buffer') return plaintext;
  if (mode === 'auto' && isBinaryType(cty)) return plaintext;
  const text = utf8OrUndefined(plaintext);
  if (text === undefined) {
    if (mode === 'auto') return plaintext;
    throw outputError('The plaintext is not UTF-8 text', `choose the buffer output for binary data`);
  }
  if (mode === 'json' || (mode === 'auto' && isJsonType(cty))) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw outputError('The plaintext is not valid JSON', err instanceof Error ? err.message : String(err));
    }
  }
  return text;
}
