/**
 * When to try a request again and how long to wait first.
 *
 * - Exponential backoff with full jitter: before attempt n+1 we wait a random
 *   time between 0 and min(maxDelay, initialDelay · 2^(n-1)) milliseconds.
 * - A `Retry-After` header (seconds or an HTTP date) replaces the backoff,
 *   capped at `maxRetryAfter` seconds.
 * - Network errors, timeouts and 408, 425, 429, 500, 502, 503, 504 are worth
 *   another attempt; every other answer is final.
 *
 * Pure functions: no timers, no I/O; randomness and the clock are injectable.
 */

/** HTTP statuses that say "try again later". */
export const RETRYABLE_STATUSES: readonly number[] = [408, 425, 429, 500, 502, 503, 504];

/** Error codes of failed connections that another attempt may get past. */
export const RETRYABLE_NETWORK_CODES: readonly string[] = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
];

export interface BackoffOptions {
  /** the first backoff ceiling, in ms */
  initialDelay: number;
  /** the largest backoff ceiling, in ms */
  maxDelay: number;
}

/** The ceiling of the wait after attempt `attempt` (1-based): min(maxDelay, initialDelay · 2^(attempt-1)). */
export function backoffCeiling(attempt: number, options: BackoffOptions): number {
  const initial = Math.max(0, options.initialDelay);
  const max = Math.max(0, options.maxDelay);
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity for large n; min() keeps it at maxDelay
  return Math.min(max, initial * Math.pow(2, n - 1));
}

/**
 * Full jitter: a random whole number of ms in [0, ceiling]. `random` returns a
 * number in [0, 1) like Math.random.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, options);
  let r = random();
  if (!(r >= 0)) r = 0;
  if (r > 1) r = 1;
  return Math.min(ceiling, Math.round(r * ceiling));
}

/**
 * A `Retry-After` header in milliseconds from `now`: delay-seconds
 * ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"). A date in the
 * past gives 0. Anything else gives undefined (use the backoff instead).
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  let text: string | undefined;
  if (Array.isArray(value)) text = typeof value[0] === 'string' ? value[0] : undefined;
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) text = String(Math.floor(value));
  if (text === undefined) return undefined;
  text = text.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : Number.MAX_SAFE_INTEGER;
  }
  // an HTTP date must name a day and a time; Date.parse is lenient, so insist on letters and a colon
  if (!/[A-Za-z]/.test(text) || !/\d{1,2}:\d{2}/.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, at - now);
}

export interface RetryTiming extends BackoffOptions {
  /** the cap for a Retry-After wait, in seconds */
  maxRetryAfter: number;
}

export interface WaitDecision {
  delayMs: number;
  /** what set the delay */
  source: 'backoff' | 'retry-after' | 'retry-after-capped';
}

/**
 * How long to wait after attempt `attempt` failed: the server's Retry-After
 * when it gave a usable one (capped at maxRetryAfter seconds), else backoff.
 */
export function waitBeforeRetry(
  attempt: number,
  timing: RetryTiming,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): WaitDecision {
  if (retryAfterMs !== undefined) {
    const cap = Math.max(0, timing.maxRetryAfter) * 1000;
    if (retryAfterMs > cap) return { delayMs: cap, source: 'retry-after-capped' };
    return { delayMs: retryAfterMs, source: 'retry-after' };
  }
  return { delayMs: backoffDelay(attempt, timing, random), source: 'backoff' };
}

/** True for a status that another attempt may get past. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.includes(status);
}

/** What went wrong with an attempt that got no usable answer. */
export interface FailureClass {
  /** TIMEOUT, ECONNRESET, ECONNREFUSED …, or NETWORK_ERROR */
  code: string;
  retryable: boolean;
}

/**
 * Classifies an error thrown by the HTTP client (undici or node:http). Only
 * plain properties are read (`code`, `message`, `cause`), so any Error-like
 * object works.
 */
export function classifyError(err: unknown, timedOut = false): FailureClass {
  if (timedOut) return { code: 'TIMEOUT', retryable: true };
  const seen = new Set<unknown>();
  let e: unknown = err;
  let fallback: string | undefined;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    const message = String((e as { message?: unknown }).message ?? '');
    if (code === 'ECONNABORTED' || (code === 'ETIMEDOUT' && /timeout of \d+ms exceeded/.test(message))) {
      return { code: 'TIMEOUT', retryable: true };
    }
    if (
      code === 'ESOCKETTIMEDOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT'
    ) {
      return { code: 'TIMEOUT', retryable: true };
    }
    // undici through a proxy: the proxy refused the credentials (407) or the tunnel
    if (/Proxy Authentication Required|Proxy response \(407\)/.test(message))
      return { code: 'PROXY_AUTH_REQUIRED', retryable: false };
    if (/Proxy response \(\d+\) !== 200/.test(message)) return { code: 'PROXY_ERROR', retryable: true };
    // undici: the server closed the connection before answering
    if (code === 'UND_ERR_SOCKET' && !(e as { cause?: { code?: unknown } }).cause?.code)
      return { code: 'ECONNRESET', retryable: true };
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.includes(code)) return { code, retryable: true };
    if (/socket hang up/i.test(message)) return { code: 'ECONNRESET', retryable: true };
    if (typeof code === 'string' && fallback === undefined && !code.startsWith('ERR_BAD_')) fallback = code;
    e = (e as { cause?: unknown }).cause;
  }
  return { code: fallback && /^[A-Z][A-Z0-9_]*$/.test(fallback) ? fallback : 'NETWORK_ERROR', retryable: false };
}
