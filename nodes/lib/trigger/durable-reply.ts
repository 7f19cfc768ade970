/**
 * The durable reply: in "durable" mode the HTTP reply to an event waits until
 * a node of the flow settles it (lib/acks.ts) — 202 only once the event is
 * safe — and this module decides what each settlement (or its absence) is
 * answered with.
 */
import type { IntegrationErrorInfo } from '../errors';
import type { Settlement } from '../acks';

/**
 * "durable": the HTTP reply waits until a node settles the event (an HTTP
 * POST node has journaled it, or an error output has refused it);
 * "immediate": 202 as soon as the event is emitted.
 */
export type ReplyMode = 'durable' | 'immediate';
export const DEFAULT_ACK_TIMEOUT_SECONDS = 10;
export const MAX_ACK_TIMEOUT_SECONDS = 3600;
/** Retry-After of a 503 that names no time of its own */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * The reply mode of a node's configuration. A node saved before the option
 * existed has no `reply` property and keeps answering at once ("immediate");
 * any other value than "immediate" is "durable".
 */
export function replyModeOf(value: unknown): ReplyMode {
  if (value === undefined || value === null || value === '' || value === 'immediate') return 'immediate';
  return 'durable';
}

/** The ack timeout in seconds: a number above 0 (fractions allowed) up to an hour, else the default. */
export function ackTimeoutOf(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 && n <= MAX_ACK_TIMEOUT_SECONDS
    ? n
    : DEFAULT_ACK_TIMEOUT_SECONDS;
}

/** What became of an event that waited: the status counters of the node. */
export type DurableOutcome = 'accepted' | 'refused' | 'busy' | 'unconfirmed' | 'failed';

export interface DurableReply {
  status: number;
  body: { id: string; status: string; error?: IntegrationErrorInfo };
  /** seconds for the Retry-After header, when there is one */
  retryAfter?: number;
  outcome: DurableOutcome;
}

function retryAfterOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
    ? Math.ceil(value)
    : DEFAULT_RETRY_AFTER_SECONDS;
}

function errorOf(error: Settlement['error'], code: string, message: string): IntegrationErrorInfo {
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return { code: error.code, message: error.message, details: Array.isArray(error.details) ? error.details : [] };
  }
  return { code, message, details: [] };
}

/**
 * The HTTP reply for an event that waited for its settlement:
 * - settled ok → 202 accepted (the only 2xx: the event is safe);
 * - settled 422 (a node's error output) → 422 rejected, with that node's error;
 * - settled 503 (a full queue) → 503 busy with Retry-After;
 * - settled with another 4xx/5xx → that status (500 when it names none);
 * - nothing settled within the timeout, or the node closed first → 503 pending
 *   with Retry-After, so that the sender tries again later.
 */
export function durableReply(
  id: string,
  settlement: Settlement | undefined,
  options: { timeoutSeconds: number; closing?: boolean },
): DurableReply {
  if (options.closing) {
    return {
      status: 503,
      retryAfter: DEFAULT_RETRY_AFTER_SECONDS,
      outcome: 'unconfirmed',
      body: {
        id,
        status: 'pending',
        error: {
          code: 'SHUTTING_DOWN',
          message: 'the flow stopped before the event was confirmed durable',
          details: [],
        },
      },
    };
  }
  if (!settlement) {
    return {
      status: 503,
      retryAfter: DEFAULT_RETRY_AFTER_SECONDS,
      outcome: 'unconfirmed',
      body: {
        id,
        status: 'pending',
        error: {
          code: 'ACK_TIMEOUT',
          message: `the event was not confirmed durable within ${options.timeoutSeconds} s`,
          details: [],
        },
      },
    };
  }
  if (settlement.ok) return { status: 202, outcome: 'accepted', body: { id, status: 'accepted' } };
  const status =
    typeof settlement.status === 'number' &&
    Number.isInteger(settlement.status) &&
    settlement.status >= 400 &&
    settlement.status <= 599
      ? settlement.status
      : 500;
  if (status === 422) {
    return {
      status,
      outcome: 'refused',
      body: { id, status: 'rejected', error: errorOf(settlement.error, 'REJECTED', 'the flow rejected the event') },
    };
  }
  if (status === 503) {
    return {
      status,
      retryAfter: retryAfterOf(settlement.retryAfterSeconds),
      outcome: 'busy',
      body: { id, status: 'busy', error: errorOf(settlement.error, 'BUSY', 'the flow cannot take the event now') },
    };
  }
  const reply: DurableReply = {
    status,
    outcome: 'failed',
    body: {
      id,
      status: status < 500 ? 'rejected' : 'failed',
      error: errorOf(settlement.error, 'FAILED', 'the flow could not take the event'),
    },
  };
  if (settlement.retryAfterSeconds !== undefined) reply.retryAfter = retryAfterOf(settlement.retryAfterSeconds);
  return reply;
}
