/**
 * Authentication of an HTTP caller: a shared secret in a header, or a
 * Standard Webhooks signature (https://www.standardwebhooks.com/).
 *
 * Standard Webhooks: the sender puts `webhook-id`, `webhook-timestamp`
 * (Unix seconds) and `webhook-signature` headers on the request. The
 * signature header is a space-separated list of `v1,<base64>` entries, each
 * the HMAC-SHA256 of `${id}.${timestamp}.${body}` over the exact body bytes,
 * keyed with the base64-decoded part of the secret that follows `whsec_`. Any
 * matching entry accepts the request; the timestamp must be within the
 * tolerance (5 minutes) of our clock in either direction.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { IntegrationError } from './errors';
import { webhookSecretProblem } from './rules';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * The HMAC key of a `whsec_…` secret: the base64 decoding of what follows the
 * prefix (a secret without the prefix is decoded whole, as the reference
 * library does). Throws an IntegrationError (code INVALID_SECRET) that never
 * contains the secret.
 */
export function decodeWebhookSecret(secret: string): Buffer {
  // the format rule is lib/rules/keys.ts, which the dialogs apply too
  const problem = webhookSecretProblem(secret);
  if (problem === 'empty') throw new IntegrationError('INVALID_SECRET', 'the webhook secret is empty');
  if (problem) throw new IntegrationError('INVALID_SECRET', 'the webhook secret is not "whsec_" followed by base64');
  let text = secret.trim();
  if (text.startsWith(WEBHOOK_SECRET_PREFIX)) text = text.slice(WEBHOOK_SECRET_PREFIX.length);
  const key = Buffer.from(text, 'base64');
  if (key.length === 0) {
    throw new IntegrationError('INVALID_SECRET', 'the webhook secret decodes to no bytes');
  }
  return key;
}

function asBuffer(body: Buffer | string): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
}

/** The raw HMAC-SHA256 of `${id}.${timestamp}.${body}`. */
export function webhookDigest(key: Buffer, id: string, timestamp: number | string, body: Buffer | string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(asBuffer(body)).digest();
}

/**
 * The `webhook-signature` header value (`v1,<base64>`) for a message. The
 * first argument is the decoded key, or the `whsec_…` secret itself (decoded
 * with decodeWebhookSecret, so a bad secret throws INVALID_SECRET).
 */
export function signWebhook(
  keyOrSecret: Buffer | string,
  id: string,
  timestamp: number | string,
  body: Buffer | string,
): string {
  const key = Buffer.isBuffer(keyOrSecret) ? keyOrSecret : decodeWebhookSecret(keyOrSecret);
  return 'v1,' + webhookDigest(key, id, timestamp, body).toString('base64');
}

/** The three Standard Webhooks request headers. */
export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  [name: string]: string;
}

/**
 * The headers a sender puts on a signed request: `webhook-id`,
 * `webhook-timestamp` (Unix seconds, default now) and `webhook-signature`
 * over the exact body bytes. The id must be a single line.
 */
export function webhookSignatureHeaders(
  keyOrSecret: Buffer | string,
  id: string,
  body: Buffer | string,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): WebhookSignatureHeaders {
  if (typeof id !== 'string' || id === '' || /[\r\n]/.test(id)) {
    throw new IntegrationError('INVALID_WEBHOOK_ID', 'the webhook id must be a non-empty single-line string');
  }
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new IntegrationError('INVALID_TIMESTAMP', 'the webhook timestamp must be whole seconds since 1970');
  }
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(keyOrSecret, id, timestampSeconds, body),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v.join(' ');
  return typeof v === 'string' ? v : undefined;
}

export interface WebhookHeaders {
  'webhook-id'?: string | string[];
  'webhook-timestamp'?: string | string[];
  'webhook-signature'?: string | string[];
  [name: string]: string | string[] | undefined;
}

export interface VerifyOptions {
  /** our clock, in Unix seconds (default: now) */
  nowSeconds?: number;
  /** allowed clock difference either way, in seconds (default 300) */
  toleranceSeconds?: number;
}

/**
 * The checks that need no body: the three headers are present and the
 * timestamp is recent. Lets a caller refuse a request before reading it.
 */
export function checkWebhookHeaders(headers: WebhookHeaders, options: VerifyOptions = {}): VerifyResult {
  const id = headerValue(headers['webhook-id']);
  const ts = headerValue(headers['webhook-timestamp']);
  const sig = headerValue(headers['webhook-signature']);
  const missing: string[] = [];
  if (!id) missing.push('webhook-id');
  if (!ts) missing.push('webhook-timestamp');
  if (!sig) missing.push('webhook-signature');
  if (missing.length) return { ok: false, reason: `missing header ${missing.join(', ')}` };
  if (!/^\d{1,15}$/.test(ts!.trim())) return { ok: false, reason: 'webhook-timestamp is not a number of seconds' };
  const timestamp = Number(ts!.trim());
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - timestamp > tolerance) return { ok: false, reason: 'webhook-timestamp is too old' };
  if (timestamp - now > tolerance) return { ok: false, reason: 'webhook-timestamp is in the future' };
  return { ok: true };
}

/**
 * Verifies a Standard Webhooks request against the exact body bytes. Every
 * `v1` entry of the signature header is compared in constant time; any match
 * accepts.
 */
export function verifyWebhook(
  key: Buffer,
  headers: WebhookHeaders,
  body: Buffer | string,
  options: VerifyOptions = {},
): VerifyResult {
  const pre = checkWebhookHeaders(headers, options);
  if (!pre.ok) return pre;
  const id = headerValue(headers['webhook-id'])!;
  const ts = headerValue(headers['webhook-timestamp'])!.trim();
  const expected = webhookDigest(key, id, ts, body);
  const entries = headerValue(headers['webhook-signature'])!
    .split(' ')
    .filter((s) => s.length > 0);
  let matched = false;
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'no matching v1 signature' };
}

/** A per-process key, so that both sides of a shared-secret compare are equal-length digests. */
const COMPARE_KEY = randomBytes(32);

/**
 * Constant-time comparison of a presented shared secret with the configured
 * one: both are HMAC'd with a random key and the digests compared with
 * `timingSafeEqual`, so neither the content nor the length leaks by timing.
 */
export function safeEqualSecret(provided: string | string[] | undefined, expected: string): boolean {
  const value = headerValue(provided);
  if (typeof value !== 'string' || typeof expected !== 'string' || expected.length === 0) return false;
  const a = createHmac('sha256', COMPARE_KEY).update(value, 'utf8').digest();
  const b = createHmac('sha256', COMPARE_KEY).update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
