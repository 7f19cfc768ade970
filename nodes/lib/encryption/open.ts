/**
 * Decrypting a message: which format it is, the envelope's checks, the plaintext and the output the node gives.
 * Part of the encryption for the encrypt/decrypt nodes (see ../crypto.ts). Pure: no Node-RED import.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import {
  ALG_BY_ID,
  ALG_ID,
  type AlgId,
  type Algorithm,
  CBC_IV_BYTES,
  CBC_TAG_BYTES,
  CRYPTOJS_PREFIX,
  type DecryptAlgorithm,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  type OutputMode,
  type PreparedKey,
  decodeBase64Strict,
} from './formats';
import { type Sealed, cbcHmacDecrypt, cryptoJsDecrypt, failed, gcmDecrypt, utf8OrUndefined } from './primitives';

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
