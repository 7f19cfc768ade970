/**
 * The delivery engine: sends one request through an endpoint (EndpointHandle)
 * until it succeeds, fails for good, runs out of attempts or is cancelled.
 *
 *  - every attempt carries the same idempotency key (header configurable)
 *    and, when signing is on, fresh Standard Webhooks headers over the exact
 *    body bytes;
 *  - the endpoint prepares each attempt (URL, defaults, auth, agent, timeout);
 *  - retryable failures (lib/http/retry.ts) wait with full-jitter backoff or
 *    the server's Retry-After; the wait can be cancelled with an AbortSignal;
 *  - a 401 with OAuth2 (endpoint.invalidateAuth() → true) is retried once at
 *    once with a fresh token; that retry is not counted against maxAttempts;
 *  - every attempt is reported (already redacted) to `onAttempt`;
 *  - every attempt (the OAuth2 retry too) is made under a permit of the
 *    endpoint's pacer (`endpoint.pacer`, lib/http/pacing.ts), released with
 *    what happened. Waiting for a permit (concurrency, rate, a pause, an open
 *    circuit, the network down) never uses up an attempt: only requests that
 *    were made count against maxAttempts. When the connection could not be
 *    made at all (pacing OFFLINE_CODES: ECONNREFUSED, ENOTFOUND …) the attempt
 *    is not counted either (state.attempts is unchanged): the delivery waits
 *    at the pacer until the endpoint answers a probe, then tries again. A 429
 *    or 503 with Retry-After pauses the whole endpoint for the same (capped)
 *    time this message waits. The phase is "paced" while the delivery waits
 *    for a permit. A handle without a pacer is not paced, and a failed
 *    connection counts as an attempt like any other network error.
 *
 * Its progress lives in a DeliveryState: a plain object of strings, numbers,
 * booleans and nulls (JSON-serialisable) that the engine updates as it goes.
 * A caller can store it and later hand the same state back to deliver() to
 * resume: the attempts already made are counted and a pending
 * `nextAttemptAt` is waited for first.
 *
 * `deliverOnce` (option `oneAttempt`) makes one attempt and returns, with
 * `retryAt` set when another one is due, so that a durable queue can journal
 * each attempt and need not keep a waiting delivery in memory.
 *
 * The answer is read under the endpoint's size limit (lib/http/transport.ts):
 * a larger one ends the delivery with RESPONSE_TOO_LARGE (not retried: the
 * partner would answer the same again).
 *
 * The engine itself is lib/http/delivery.ts (named steps); the shapes are in
 * lib/http/delivery-state.ts, what a sender hands over in lib/http/sender.ts.
 * This module is the public face: everything the nodes import comes from here.
 *
 * No Node-RED import; the HTTP client is undici unless a transport is injected.
 */
import { randomUUID } from 'node:crypto';
import { idempotencyKey } from '../idempotency-key';
import { Delivery } from './delivery';
import type { DeliveryOptions, DeliveryOutcome, DeliverySettings, DeliveryState } from './delivery-state';
import type { DeliveryRequest } from './sender';
import type { EndpointHandle, HttpMethod } from './types';

export { countedAttempts, newDeliveryState } from './delivery-state';
export type {
  AttemptLog,
  AttemptResult,
  DeliveryErrorDetail,
  DeliveryFailure,
  DeliveryOptions,
  DeliveryOutcome,
  DeliveryPhase,
  DeliverySettings,
  DeliveryState,
  DeliverySuccess,
} from './delivery-state';
export { DROPPED_HEADERS, buildSenderHeaders, encodeBody, findHeader, setHeader } from './sender';
export type { DeliveryRequest, HeaderEntry } from './sender';
export { EXCERPT_CHARS, cancellableWait, plainHeaders, redactorFor } from './delivery';
export type { Transport, TransportRequest, TransportResponse } from './transport';

export const METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'PATCH', 'GET'];
export const DEFAULT_IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * The idempotency key of a message: `msg.event.id` when present, else a key
 * kept from an earlier delivery (`msg.delivery.idempotencyKey`), else a new
 * UUID.
 */
export function idempotencyKeyFor(msg: unknown, uuid: () => string = randomUUID): string {
  const m = (msg && typeof msg === 'object' ? msg : {}) as Record<string, unknown>;
  const event = m.event as Record<string, unknown> | undefined;
  const id = event && typeof event === 'object' ? event.id : undefined;
  if ((typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isFinite(id)))
    return idempotencyKey(String(id));
  const delivery = m.delivery as Record<string, unknown> | undefined;
  const kept = delivery && typeof delivery === 'object' ? delivery.idempotencyKey : undefined;
  if (typeof kept === 'string' && kept.trim() !== '') return kept;
  return uuid();
}

/**
 * Delivers `request` through `endpoint`. Never rejects: every ending is an
 * outcome. `state` is updated in place and returned in the outcome.
 */
export function deliver(
  endpoint: EndpointHandle,
  request: DeliveryRequest,
  state: DeliveryState,
  settings: DeliverySettings,
  options: DeliveryOptions = {},
): Promise<DeliveryOutcome> {
  return new Delivery(endpoint, request, state, settings, options).run();
}

/**
 * One step of a delivery, for a caller that journals every attempt (the
 * durable outbox): makes the next attempt (waiting for the endpoint's pacer
 * first, which uses up no attempt) and returns its outcome. A failure that
 * will be retried comes back with `retryAt` (and state.nextAttemptAt) set
 * instead of being waited for; hand the stored state back later to go on.
 */
export function deliverOnce(
  endpoint: EndpointHandle,
  request: DeliveryRequest,
  state: DeliveryState,
  settings: DeliverySettings,
  options: DeliveryOptions = {},
): Promise<DeliveryOutcome> {
  // Object.assign, not a spread: a spread's copy outlives the young generation (lib/http/delivery.ts)
  return deliver(endpoint, request, state, settings, Object.assign({}, options, { oneAttempt: true }));
}
