/**
 * The shapes of a delivery (lib/http/deliver.ts): its journaled state, the
 * settings and options it runs with, what each attempt reports and what it
 * ends with. Types and two small pure functions; no I/O.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import type { Redactor } from './redact';
import { bodyExcerpt, type ParsedBody } from './response';
import type { Transport } from './transport';
import type { StopSignal } from './abort';

// ------------------------------------------------------------------ state

/** "paced": waiting for a permit of the endpoint's pacer (no attempt is used up meanwhile) */
export type DeliveryPhase = 'pending' | 'paced' | 'sending' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

/** Where a delivery stands. Plain data only, so it can be journaled as JSON. */
export interface DeliveryState {
  /** the same on every attempt (and on a re-sent message) */
  idempotencyKey: string;
  /** requests tried so far, including a free OAuth2 refresh retry (not connections that could not be made while paced) */
  attempts: number;
  maxAttempts: number;
  /** true once the single 401 → fresh token retry was used */
  authRetried: boolean;
  phase: DeliveryPhase;
  /** epoch ms when the delivery was created */
  createdAt: number;
  /** epoch ms of the next attempt while waiting, else null */
  nextAttemptAt: number | null;
  /** the status of the last answer, null when none came */
  lastStatusCode: number | null;
  /** the code of the last failure (HTTP_503, TIMEOUT …), null when none */
  lastErrorCode: string | null;
  /** epoch ms when the delivery ended, else null */
  finishedAt: number | null;
}

export function newDeliveryState(idempotencyKey: string, maxAttempts: number, now: number = Date.now()): DeliveryState {
  return {
    idempotencyKey,
    attempts: 0,
    maxAttempts: Math.max(1, Math.floor(maxAttempts)),
    authRetried: false,
    phase: 'pending',
    createdAt: now,
    nextAttemptAt: null,
    lastStatusCode: null,
    lastErrorCode: null,
    finishedAt: null,
  };
}

/** Attempts that count against maxAttempts (the free OAuth2 retry does not). */
export function countedAttempts(state: DeliveryState): number {
  return state.attempts - (state.authRetried ? 1 : 0);
}

// ---------------------------------------------------------------- settings

export interface DeliverySettings {
  maxAttempts: number;
  /** ms */
  initialDelay: number;
  /** ms */
  maxDelay: number;
  /** seconds: the longest Retry-After wait honoured */
  maxRetryAfter: number;
  /** "" for none */
  idempotencyHeader: string;
  /** Standard Webhooks signing: a `whsec_…` secret or its decoded key */
  signingKey?: string | Buffer;
  /** statuses besides 2xx that count as success (e.g. 409 "already exists") */
  alsoSuccess?: (status: number) => boolean;
  /** more values that must never appear in a message or log (e.g. the sending node's configured header values) */
  secrets?: string[];
}

/** "offline": the connection could not be made; not counted, the delivery waits for the endpoint */
export type AttemptResult = 'success' | 'retry' | 'auth-retry' | 'offline' | 'failed' | 'cancelled';

/** One line of the attempt log; every string in it is already redacted. */
export interface AttemptLog {
  attempt: number;
  maxAttempts: number;
  method: string;
  url: string;
  statusCode?: number;
  errorCode?: string;
  durationMs: number;
  result: AttemptResult;
  /** the wait before the next attempt, for result "retry" */
  delayMs?: number;
  /** everything above as one readable line */
  text: string;
  /** the delivery's idempotency key (the event id), for audit records */
  idempotencyKey?: string;
}

export interface DeliveryOptions {
  /** aborts a wait or a request in flight: the outcome is CANCELLED */
  signal?: StopSignal;
  /**
   * true when `signal` belongs to this delivery alone: it is listened to as
   * it is. Otherwise (a signal shared by many deliveries) the delivery follows
   * it through a child signal of its own, one listener on the shared one.
   */
  ownSignal?: boolean;
  /** default: built from endpoint.secrets(), endpoint.sensitiveNames() and the signing key */
  redactor?: Redactor;
  random?: () => number;
  now?: () => number;
  transport?: Transport;
  onAttempt?: (log: AttemptLog) => void;
  /** called whenever state.phase changes to sending, waiting or paced */
  onPhase?: (state: DeliveryState) => void;
  /** the message of a CANCELLED outcome */
  cancelMessage?: (phase: 'waiting' | 'sending') => string;
  /**
   * One step only (see deliverOnce): when a retry is due, return at once with
   * `retryAt` set instead of waiting for it. Waits for the pacer (and the
   * uncounted retries after a connection that could not be made) and the
   * immediate OAuth2 refresh retry still happen inside the step.
   */
  oneAttempt?: boolean;
}

export interface DeliverySuccess {
  ok: true;
  state: DeliveryState;
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: ParsedBody;
  durationMs: number;
}

export interface DeliveryFailure {
  ok: false;
  state: DeliveryState;
  error: IntegrationError;
  /** present when a response came back */
  statusCode?: number;
  headers?: Record<string, string | string[]>;
  /** the last response's body, secrets redacted (parse it with parseResponseBody) */
  raw?: Buffer;
  durationMs: number;
  /**
   * Only with `oneAttempt`: the delivery is not over; the next attempt is due
   * at this time (epoch ms, also in state.nextAttemptAt) and `error` says why
   * this one failed.
   */
  retryAt?: number;
}

export type DeliveryOutcome = DeliverySuccess | DeliveryFailure;

/** Extra fields on the detail of a delivery failure (msg.error.details[0]). */
export interface DeliveryErrorDetail extends ErrorDetail {
  attempts: number;
  statusCode: number | null;
  bodyExcerpt: string;
  method?: string;
  url?: string;
}

/** One attempt as a readable log line (every part already redacted). */
export function attemptLogText(log: Omit<AttemptLog, 'text' | 'maxAttempts'>, maxAttempts: number): string {
  const what = log.statusCode !== undefined ? String(log.statusCode) : (log.errorCode ?? '?');
  let text = `${log.method} ${log.url} → ${what} in ${log.durationMs} ms (attempt ${log.attempt}/${maxAttempts})`;
  if (log.result === 'retry') text += `; retry in ${log.delayMs} ms`;
  else if (log.result === 'auth-retry') text += '; retrying at once with a fresh token';
  else if (log.result === 'offline') text += '; endpoint unreachable, waiting for it (not counted)';
  else if (log.result === 'failed') text += '; giving up';
  else if (log.result === 'cancelled') text += '; cancelled';
  return text;
}

/** How much of an answer goes into an error's bodyExcerpt (characters). */
export const EXCERPT_CHARS = 500;

/** The last answer seen (for error details and the failed output). */
export interface LastAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  raw: Buffer;
}

/** What a failure outcome is built from. */
export interface FailureFacts {
  state: DeliveryState;
  last?: LastAnswer;
  redactor: Redactor;
  /** the last request's method and (redacted) URL */
  method?: string;
  url?: string;
}

/**
 * A DeliveryFailure: the error with one redacted detail (reason, attempts,
 * status, body excerpt, method, URL) and the last answer's status and
 * (redacted) headers — and its redacted body when `withBody`.
 */
export function failureOutcome(
  f: FailureFacts,
  code: string,
  message: string,
  reason: string,
  durationMs: number,
  o: { retryAt?: number; withBody: boolean },
): DeliveryFailure {
  const { last, redactor } = f;
  const detail: DeliveryErrorDetail = {
    reason: redactor.text(reason),
    attempts: f.state.attempts,
    statusCode: last ? last.statusCode : null,
    bodyExcerpt: last ? redactor.text(bodyExcerpt(last.raw, last.headers['content-type'], EXCERPT_CHARS)) : '',
  };
  if (f.method) detail.method = f.method;
  if (f.url) detail.url = f.url;
  const error = new IntegrationError(code, redactor.text(message), [detail]);
  const out: DeliveryFailure = { ok: false, state: f.state, error, durationMs: Math.max(0, durationMs) };
  if (o.retryAt !== undefined) out.retryAt = o.retryAt;
  if (last) {
    out.statusCode = last.statusCode;
    out.headers = redactor.responseHeaders(last.headers);
    // a third party may echo what it got (a key in the URL …): never hand that on
    if (o.withBody) out.raw = redactor.bytes(last.raw);
  }
  return out;
}
