/**
 * Which request headers go to the journal (durable.ts). Those the node's
 * configuration supplies never do: they are taken from the configuration
 * again for every attempt. Those that carry secrets stay out of an
 * unencrypted journal. A header is secret when its name says so —
 * Authorization, Proxy-Authorization, Cookie, an API key, a token, a
 * password, a session — whatever its value. The idempotency key and the
 * encryption key id (`x-encryption-kid`) are not secrets.
 */
import { SENSITIVE_HEADERS } from '../http/redact';
import { setHeader } from '../http/deliver';

const SECRET_HEADER =
  /api[-_]?key|access[-_]?key|secret|token|passw|pwd|auth|session|cookie|credential|signature|(^|[-_])key$/i;
const NOT_SECRET = new Set(['idempotency-key', 'x-idempotency-key']);

export function isSecretHeader(name: string): boolean {
  const n = name.toLowerCase();
  if (NOT_SECRET.has(n)) return false;
  return SENSITIVE_HEADERS.includes(n) || SECRET_HEADER.test(n);
}

/** Splits headers into those that may be written to disk and the secret ones. */
export function splitSecretHeaders(headers: Record<string, unknown>): {
  kept: Record<string, unknown>;
  secret: Record<string, unknown>;
} {
  const kept: Record<string, unknown> = {};
  const secret: Record<string, unknown> = {};
  for (const k of Object.keys(headers)) (isSecretHeader(k) ? secret : kept)[k] = headers[k];
  return { kept, secret };
}

/**
 * What of a request's headers goes to the journal: not those the node's
 * configuration supplies (`config`, asked for again at each attempt), and —
 * unless the journal is encrypted — no secret-looking one (returned as
 * `secret`, for the caller to keep in memory).
 */
export function journaledHeaders(
  headers: Record<string, string>,
  config: Record<string, string>,
  encrypted: boolean,
): { kept: Record<string, string>; secret: Record<string, string> } {
  const fromConfig = new Map(Object.keys(config).map((k) => [k.toLowerCase(), config[k]]));
  const kept: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const k of Object.keys(headers ?? {})) {
    const v = headers[k];
    if (fromConfig.get(k.toLowerCase()) === v) continue;
    if (!encrypted && isSecretHeader(k)) secret[k] = v;
    else kept[k] = v;
  }
  return { kept, secret };
}

/** The headers of an attempt: the configuration's as they are now, then the journaled ones, then those kept in memory. */
export function attemptHeaders(
  config: Record<string, string>,
  stored: Record<string, string>,
  inMemory: Record<string, string> = {},
): Record<string, string> {
  // Object.assign, not a spread (a spread's copy outlives the young generation: lib/http/delivery.ts)
  const out: Record<string, string> = Object.assign({}, config);
  for (const k of Object.keys(stored)) setHeader(out, k, stored[k]);
  for (const k of Object.keys(inMemory)) setHeader(out, k, inMemory[k]);
  return out;
}
