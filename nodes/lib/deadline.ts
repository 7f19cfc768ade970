/**
 * A per-message deadline for the HTTP POST node (in-memory mode): a flow that
 * holds a caller waiting (an `http in` with an `http response` at the end)
 * must answer within a bounded time, whatever the third party does. When the
 * deadline passes, the delivery is stopped (a wait for the next attempt, a
 * wait for an unreachable endpoint, or a request in flight), no further
 * attempt is made, and the message leaves on output 2 with DEADLINE_EXCEEDED.
 *
 * The node's `deadline` setting is in seconds (0 or empty: none);
 * `msg.deadline` (seconds, a positive number) replaces it for one message.
 */
import { IntegrationError, type ErrorDetail } from './errors';
import { HTTP_POST_NUMBERS, numberOf, readNumber } from './rules';

/** the longest deadline accepted: one hour (a synchronous caller never waits longer) */
export const MAX_DEADLINE_S = 3600;

export type DeadlineSetting = { ok: true; seconds: number } | { ok: false; reason: string };

/** The node's setting: '' / undefined / 0 → none (0). */
export function readDeadlineSetting(value: unknown): DeadlineSetting {
  // the rule is lib/rules/settings.ts (HTTP_POST_NUMBERS.deadline), as the dialog applies it
  const r = readNumber(value, HTTP_POST_NUMBERS.deadline);
  if (r.ok) return { ok: true, seconds: r.value ?? 0 };
  const n = numberOf(value);
  if (Number.isFinite(n) && n > MAX_DEADLINE_S)
    return { ok: false, reason: `the deadline is at most ${MAX_DEADLINE_S} seconds` };
  return { ok: false, reason: 'the deadline is a number of seconds, 0 for none' };
}

/**
 * The deadline of one message in milliseconds (undefined: none): msg.deadline
 * when it is a positive number of seconds, else the node's setting. A
 * msg.deadline that is not a usable number is a problem (the message is not
 * sent: a caller who asked for a bound must get it).
 */
export function messageDeadlineMs(nodeSeconds: number, msgDeadline: unknown): { ms?: number; problem?: ErrorDetail } {
  if (msgDeadline !== undefined && msgDeadline !== null && msgDeadline !== '') {
    const n = typeof msgDeadline === 'string' ? Number(msgDeadline) : msgDeadline;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > MAX_DEADLINE_S) {
      return {
        problem: {
          field: 'deadline',
          reason: `msg.deadline must be a number of seconds between 0 and ${MAX_DEADLINE_S}`,
          value: String(msgDeadline),
        },
      };
    }
    return { ms: Math.round(n * 1000) };
  }
  return nodeSeconds > 0 ? { ms: Math.round(nodeSeconds * 1000) } : {};
}

/** "30 s", "1.5 s" */
function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * The error of a delivery stopped by its deadline. `phase` is where it was
 * stopped, `attempts` the requests made, `lastReason` why the last one failed
 * (when one did).
 */
export function deadlineExceeded(
  ms: number,
  phase: 'waiting' | 'sending',
  attempts: number,
  lastReason?: string,
): IntegrationError {
  const where =
    phase === 'sending'
      ? attempts > 0
        ? 'while a request was in flight'
        : 'before the endpoint could be reached'
      : 'while waiting to try again';
  const reason = `no answer within the ${seconds(ms)} deadline (stopped ${where}; ${attempts} request${attempts === 1 ? '' : 's'} made)${lastReason ? `; last failure: ${lastReason}` : ''}`;
  return new IntegrationError('DEADLINE_EXCEEDED', `The third party did not answer within ${seconds(ms)}`, [
    { field: 'deadline', reason },
  ]);
}
