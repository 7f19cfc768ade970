/**
 * What a request's outcome tells the pacer (lib/http/pacing.ts): whether a
 * network error proves the connection was never made (the endpoint is
 * "offline": no byte reached the server), and what an outcome counts as for
 * the circuit breaker (success, failure or neutral). Not the pacer's state or
 * timing; not the retry rules of one delivery (lib/http/retry.ts). Pure.
 */
import type { PacerOutcome } from './types';

/** Network error codes that prove the connection was never made: the endpoint is "offline". */
export const OFFLINE_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
];

export function isOfflineCode(code: unknown): boolean {
  return typeof code === 'string' && OFFLINE_CODES.includes(code);
}

/** The first OFFLINE_CODES code in an error or its `cause` chain, else undefined. */
export function offlineCodeOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (isOfflineCode(code)) return code as string;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      // AggregateError (happy eyeballs): offline only when every address was
      const codes = errors.map((x) => offlineCodeOf(x));
      if (codes.length && codes.every((c) => c !== undefined)) return codes[0];
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export type Verdict = 'success' | 'failure' | 'neutral';

/** What an outcome tells the circuit breaker. */
export function breakerVerdict(outcome: PacerOutcome): Verdict {
  switch (outcome.kind) {
    case 'response':
      if (outcome.status === 429) return 'neutral';
      return outcome.status >= 500 ? 'failure' : 'success';
    case 'timeout':
      return 'failure';
    case 'network':
      return isOfflineCode(outcome.code) ? 'neutral' : 'failure';
    default:
      return 'neutral';
  }
}
