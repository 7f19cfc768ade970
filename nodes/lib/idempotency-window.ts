/**
 * Idempotency keys kept inside the vendor's key lifetime. A vendor remembers
 * an idempotency key only for a while (Stripe: 24 hours, PayPal's
 * PayPal-Request-Id: 6 hours); a retry after that is a new request to it, and
 * a payment can be taken twice. So an attempt that would start after the
 * key's lifetime (less a safety margin for the attempt itself) is not made:
 * the message fails with IDEMPOTENCY_WINDOW_PASSED (a dead letter in durable
 * mode) and a reason that says what to check before sending it again.
 *
 * The key's first use is taken as the time the message was queued (durable
 * mode) or received (in-memory mode): never later than the first request, so
 * the window closes early rather than late. A key no request has carried
 * yet (the endpoint was never reached) has no window.
 *
 * Pure functions; the HTTP POST node applies them (nodes/http-post.ts,
 * lib/outbox/durable.ts) and its dialog warns from the same arithmetic.
 */
import { IntegrationError } from './errors';
import { HTTP_POST_NUMBERS, readNumber } from './rules';

/** the longest lifetime accepted: a year, in hours */
export const MAX_KEY_LIFETIME_H = 24 * 366;
/** an attempt must start at least this long before the key expires (at most a tenth of the lifetime) */
export const WINDOW_MARGIN_MS = 5 * 60 * 1000;

export type KeyLifetimeSetting = { ok: true; hours: number } | { ok: false; reason: string };

/** The node's `keyLifetime` setting in hours: '' / undefined / 0 → none (0). */
export function readKeyLifetime(value: unknown): KeyLifetimeSetting {
  // the rule is lib/rules/settings.ts (HTTP_POST_NUMBERS.keyLifetime), as the dialog applies it
  const r = readNumber(value, HTTP_POST_NUMBERS.keyLifetime);
  if (r.ok) return { ok: true, hours: r.value ?? 0 };
  return { ok: false, reason: `the key lifetime is a number of hours from 0 (none) to ${MAX_KEY_LIFETIME_H}` };
}

export function marginFor(lifetimeMs: number): number {
  return Math.min(WINDOW_MARGIN_MS, Math.floor(lifetimeMs / 10));
}

/** "24 h", "6.5 h", "45 min", "1.8 s" */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3600_000) return `${Math.round(ms / 60_000)} min`;
  const h = ms / 3600_000;
  return `${Number.isInteger(h) ? h : h.toFixed(1)} h`;
}

export interface WindowInput {
  /** epoch ms of the key's first use (see above); null: no request has carried it yet */
  firstUseAt: number | null;
  /** epoch ms of the attempt about to be made */
  now: number;
  /** the vendor's key lifetime; 0: none */
  lifetimeMs: number;
  /** the idempotency header, for the message */
  header?: string;
}

/** null while another attempt is safe; else the error that stops it. */
export function windowPassed(o: WindowInput): IntegrationError | null {
  if (!(o.lifetimeMs > 0) || o.firstUseAt === null) return null;
  const closesAt = o.firstUseAt + o.lifetimeMs - marginFor(o.lifetimeMs);
  if (o.now < closesAt) return null;
  const header = o.header || 'idempotency';
  return new IntegrationError(
    'IDEMPOTENCY_WINDOW_PASSED',
    `Not sent again: the ${header} key is older than the ${formatDuration(o.lifetimeMs)} the vendor keeps it`,
    [
      {
        field: 'keyLifetime',
        reason:
          `the key was first used ${formatDuration(Math.max(0, o.now - o.firstUseAt))} ago and the vendor forgets keys after ${formatDuration(o.lifetimeMs)}: ` +
          'another attempt could be taken as a new request (a second charge). Check with the vendor (dashboard or API) whether an earlier attempt went through before sending this again',
      },
    ],
  );
}

export interface RetrySchedule {
  maxAttempts: number;
  /** ms */
  maxDelay: number;
  /** seconds */
  maxRetryAfter: number;
  /** ms a request may take; 0 if unknown */
  timeoutMs?: number;
}

/**
 * The longest time from the first attempt to the start of the last one when
 * every wait is as long as the settings allow (a backoff up to the max delay,
 * or a Retry-After up to its cap) and every attempt runs into the timeout.
 * Waits for an unreachable endpoint (durable mode) come on top and have no
 * bound: the run-time check covers those.
 */
export function longestRetrySpanMs(s: RetrySchedule): number {
  const waits = Math.max(0, Math.floor(s.maxAttempts) - 1);
  const wait = Math.max(0, s.maxDelay, s.maxRetryAfter * 1000);
  return waits * (wait + Math.max(0, s.timeoutMs ?? 0));
}

/** true when the retry schedule alone could start an attempt after the key's lifetime */
export function scheduleOutlivesKey(s: RetrySchedule, lifetimeMs: number): boolean {
  return lifetimeMs > 0 && longestRetrySpanMs(s) > lifetimeMs - marginFor(lifetimeMs);
}
