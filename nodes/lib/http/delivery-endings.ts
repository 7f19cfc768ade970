/**
 * How a delivery (lib/http/delivery.ts) ends, and what it says then:
 *
 *   succeeded()   the partner's answer, with whatever it echoes redacted
 *   ended()       failed or cancelled: the error and its redacted detail
 *   retryDue()    one attempt only (oneAttempt): this attempt failed and the
 *                 next one is due at state.nextAttemptAt
 *
 * and the texts of msg.error.message and of the detail's reason for each way
 * an attempt goes wrong (no answer, an answer that is not a success, an
 * endpoint that could not prepare the request, an answer too large).
 *
 * Not the decisions (success, retry, wait or give up: lib/http/delivery.ts and
 * lib/http/retry.ts); not the shapes (lib/http/delivery-state.ts).
 */
import {
  failureOutcome,
  type DeliveryFailure,
  type DeliveryOutcome,
  type DeliveryState,
  type FailureFacts,
} from './delivery-state';
import type { Redactor } from './redact';
import { parseResponseBody } from './response';

// ---------------------------------------------------------------- endings

/** Success: the partner's answer, with whatever it echoes (a token, a key) redacted before it reaches a message. */
export async function succeeded(
  state: DeliveryState,
  redactor: Redactor,
  now: () => number,
  statusCode: number,
  headers: Record<string, string | string[]>,
  raw: Buffer,
): Promise<DeliveryOutcome> {
  state.phase = 'succeeded';
  state.lastErrorCode = null;
  state.finishedAt = now();
  const parsed = await parseResponseBody(redactor.bytes(raw), headers['content-type']);
  return {
    ok: true,
    state,
    statusCode,
    headers: redactor.responseHeaders(headers),
    body: parsed,
    durationMs: Math.max(0, state.finishedAt - state.createdAt),
  };
}

/** The delivery failed or was cancelled: no retry is due; a failure keeps its code as the last error. */
export function ended(
  facts: FailureFacts,
  now: () => number,
  phase: 'failed' | 'cancelled',
  code: string,
  message: string,
  reason: string,
): DeliveryFailure {
  const { state } = facts;
  state.phase = phase;
  state.nextAttemptAt = null;
  state.finishedAt = now();
  if (phase === 'failed') state.lastErrorCode = code;
  return failureOutcome(facts, code, message, reason, state.finishedAt - state.createdAt, { withBody: true });
}

/** oneAttempt: this attempt failed and another one is due at state.nextAttemptAt. */
export function retryDue(
  facts: FailureFacts,
  now: () => number,
  code: string,
  message: string,
  reason: string,
): DeliveryFailure {
  const { state } = facts;
  state.phase = 'waiting';
  const retryAt = state.nextAttemptAt ?? now();
  return failureOutcome(facts, code, message, reason, now() - state.createdAt, {
    retryAt,
    withBody: false,
  });
}

// ------------------------------------------------------------------ texts

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "(attempt 2 of 5)" */
export function attemptOf(attempt: number, maxAttempts: number): string {
  return `(attempt ${attempt} of ${maxAttempts})`;
}

/** The message of a cancelled delivery: the caller's own (`custom`), else one saying where it stood. */
export function cancelledText(phase: 'waiting' | 'sending', custom: string | undefined): string {
  return (
    custom ??
    (phase === 'waiting'
      ? 'the delivery was cancelled while waiting to be retried'
      : 'the delivery was cancelled while the request was in flight')
  );
}

/**
 * The first reason of an error thrown by endpoint.prepare(), for msg.error.message: an endpoint
 * whose settings do not work names the first field ("apiKey: environment variable X is not set"),
 * anything else its own message.
 */
export function firstReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; details?: Array<{ field?: unknown; reason?: unknown }> };
  const d = Array.isArray(e?.details) ? e.details[0] : undefined;
  if (e?.code === 'INVALID_CONFIG' && d && typeof d.reason === 'string')
    return typeof d.field === 'string' && d.field !== '' ? `${d.field}: ${d.reason}` : d.reason;
  const text = String(e?.message ?? err);
  return text !== '' ? text : 'the endpoint could not prepare the request';
}

/** The reason of a failed endpoint.prepare(), with the error's own code unless it is PREPARE_FAILED. */
export function prepareFailureReason(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown };
  const original = typeof e?.code === 'string' && e.code !== 'PREPARE_FAILED' ? ` (${e.code})` : '';
  return `the endpoint could not prepare the request: ${String(e?.message ?? err)}${original}`;
}

/** An answer larger than the endpoint's limit. */
export function tooLargeText(statusCode: number, limit: number): string {
  return `The answer (HTTP ${statusCode}) is larger than the endpoint's limit of ${limit} bytes; it was not read`;
}

/** No answer: "No answer within 2000 ms" or "The request failed with ECONNRESET". */
export function noAnswerText(code: string, timeoutMs: number): string {
  return code === 'TIMEOUT' ? `No answer within ${timeoutMs} ms` : `The request failed with ${code}`;
}

/** The reason of no answer: the timeout, else the network error's own message. */
export function noAnswerReason(code: string, timeoutMs: number, failure: unknown): string {
  return code === 'TIMEOUT' ? `no answer within ${timeoutMs} ms` : String((failure as Error)?.message ?? failure);
}

/** "The server answered 503 Service Unavailable" */
export function answeredText(statusCode: number, statusText: string): string {
  return `The server answered ${statusCode}${statusText}`;
}

/**
 * Why an answer ends the delivery: no attempts left for a retryable status, a redirect (never
 * followed; `location` already redacted, undefined when none was given), or a status that is not retried.
 */
export function notRetriedReason(
  statusCode: number,
  statusText: string,
  retryable: boolean,
  location: string | undefined,
): string {
  if (retryable) return `the server answered ${statusCode}${statusText}; no attempts left`;
  if (statusCode >= 300 && statusCode < 400)
    return `the server redirected${location !== undefined ? ` to ${location}` : ''}; redirects are not followed`;
  return `the server answered ${statusCode}${statusText}, which is not retried`;
}
