/**
 * Which request headers carry secrets and so stay out of an unencrypted
 * journal (durable.ts). A header is secret when its name says so —
 * Authorization, Proxy-Authorization, Cookie, an API key, a token, a
 * password, a session — whatever its value. The idempotency key and the
 * encryption key id (`x-encryption-kid`) are not secrets.
 */
import { SENSITIVE_HEADERS } from '../http/redact';

const SECRET_HEADER = /api[-_]?key|access[-_]?key|secret|token|passw|pwd|auth|session|cookie|credential|signature|(^|[-_])key$/i;
const NOT_SECRET = new Set(['idempotency-key', 'x-idempotency-key']);

export function isSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  if (NOT_SECRET.has(n)) return false;
  return SENSITIVE_HEADERS.includes(n) || SECRET_HEADER.test(n);
}

/** Splits headers into those that may be written to disk and the secret ones. */
export function splitSecretHeaders(headers: Record<string, unknown>): { kept: Record<string, unknown>; secret: Record<string, unknown> } {
  const kept: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const k of Object.keys(headers)) (isSecretHeader(k) ? secret : kept)[k] = headers[k];
  return { kept, secret };
}
