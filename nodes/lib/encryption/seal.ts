/**
 * Encrypting a message: the plaintext from msg.payload, the AAD, and the JSON envelope (or the CryptoJS text).
 * Part of the encryption for the encrypt/decrypt nodes (see ../crypto.ts). Pure: no Node-RED import.
 */
import { IntegrationError } from '../errors';
import { ALG_ID, type AlgId, type Algorithm, type PreparedKey } from './formats';
import { isJsonType } from './open';
import { cbcHmacEncrypt, cryptoJsEncrypt, gcmEncrypt, utf8OrUndefined } from './primitives';

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
