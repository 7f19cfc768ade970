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
 * No Node-RED import; the HTTP client is undici unless a transport is injected.
 */
import { randomUUID } from 'node:crypto';
import { linkSignal } from './abort';
import { TARGET_BLOCKED } from './target-guard';
import { isResponseTooLarge, undiciTransport, RESPONSE_TOO_LARGE, type Transport, type TransportRequest, type TransportResponse } from './transport';
import { IntegrationError, type ErrorDetail } from '../errors';
import { webhookSignatureHeaders } from '../webhook-signature';
import { idempotencyKey } from '../idempotency-key';
import type { EndpointHandle, HttpMethod, PacerLike, PacerOutcome, PacerPermit, PreparedRequest } from './types';
import { offlineCodeOf } from './pacing';
import { classifyError, isRetryableStatus, parseRetryAfter, waitBeforeRetry } from './retry';
import { MIN_HEADER_SECRET, Redactor } from './redact';
import { bodyExcerpt, parseResponseBody, type ParsedBody } from './response';

export const METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'PATCH', 'GET'];
export const DEFAULT_IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const EXCERPT_CHARS = 500;

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

/**
 * The idempotency key of a message: `msg.event.id` when present, else a key
 * kept from an earlier delivery (`msg.delivery.idempotencyKey`), else a new
 * UUID.
 */
export function idempotencyKeyFor(msg: unknown, uuid: () => string = randomUUID): string {
  const m = (msg && typeof msg === 'object' ? msg : {}) as Record<string, unknown>;
  const event = m.event as Record<string, unknown> | undefined;
  const id = event && typeof event === 'object' ? event.id : undefined;
  if ((typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isFinite(id))) return idempotencyKey(String(id));
  const delivery = m.delivery as Record<string, unknown> | undefined;
  const kept = delivery && typeof delivery === 'object' ? delivery.idempotencyKey : undefined;
  if (typeof kept === 'string' && kept.trim() !== '') return kept;
  return uuid();
}

// ---------------------------------------------------------------- request

/** What to send; `body` is the exact bytes (null: none). */
export interface DeliveryRequest {
  /** undefined: the endpoint's default method */
  method?: HttpMethod;
  /** path (and query) relative to the endpoint, already templated */
  path: string;
  /** sender headers: node headers < msg headers, content type included */
  headers: Record<string, string>;
  body: Buffer | null;
}

export interface HeaderEntry {
  name?: unknown;
  value?: unknown;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** Set by the HTTP client from the request itself; a stale copy from msg.headers would break it. */
export const DROPPED_HEADERS: readonly string[] = ['content-length', 'host', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer'];

/** Looks a header up regardless of case; returns the name as stored. */
export function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((k) => k.toLowerCase() === lower);
}

/** Sets a header, replacing any spelling of the same name. */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const existing = findHeader(headers, name);
  if (existing !== undefined) delete headers[existing];
  headers[name] = value;
}

function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) return value.join(', ');
  return undefined;
}

/**
 * Merges the node's header table and (optionally) msg.headers, the latter
 * winning, names compared without case. Problems (bad names, values that are
 * objects or hold line breaks) are collected; the caller fails the message
 * with all of them (code INVALID_HEADER).
 */
export function buildSenderHeaders(
  nodeHeaders: HeaderEntry[] | undefined,
  msgHeaders: unknown,
): { headers: Record<string, string>; problems: ErrorDetail[] } {
  const headers: Record<string, string> = {};
  const problems: ErrorDetail[] = [];
  const add = (name: string, value: unknown, where: string) => {
    if (!TOKEN.test(name)) {
      problems.push({ field: name, rule: where, reason: 'is not a valid header name' });
      return;
    }
    if (DROPPED_HEADERS.includes(name.toLowerCase())) return;
    const text = headerText(value);
    if (text === undefined) {
      if (value !== undefined && value !== null) problems.push({ field: name, rule: where, reason: 'the value must be text, a number or a boolean' });
      return;
    }
    if (BAD_VALUE.test(text)) {
      problems.push({ field: name, rule: where, reason: 'the value holds a line break or a character HTTP headers cannot carry' });
      return;
    }
    setHeader(headers, name, text);
  };
  (Array.isArray(nodeHeaders) ? nodeHeaders : []).forEach((h, i) => {
    const name = typeof h?.name === 'string' ? h.name.trim() : '';
    if (name === '') return;
    add(name, h.value ?? '', `header ${i + 1}`);
  });
  if (msgHeaders && typeof msgHeaders === 'object' && !Array.isArray(msgHeaders)) {
    for (const name of Object.keys(msgHeaders)) add(name, (msgHeaders as Record<string, unknown>)[name], 'msg.headers');
  }
  return { headers, problems };
}

/**
 * The bytes to send for msg.payload: a string as UTF-8, a Buffer as it is,
 * anything else as JSON (content-type application/json unless one is given).
 * GET, and a payload of undefined or null, send no body.
 */
export function encodeBody(payload: unknown, method: HttpMethod, headers: Record<string, string>): Buffer | null {
  if (method === 'GET' || payload === undefined || payload === null) return null;
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new IntegrationError('INVALID_PAYLOAD', 'msg.payload cannot be sent as JSON', [{ field: 'payload', reason: (err as Error).message }]);
  }
  if (json === undefined) {
    throw new IntegrationError('INVALID_PAYLOAD', 'msg.payload cannot be sent as JSON', [{ field: 'payload', reason: `a ${typeof payload} has no JSON form` }]);
  }
  if (findHeader(headers, 'content-type') === undefined) headers['content-type'] = 'application/json';
  return Buffer.from(json, 'utf8');
}

// ---------------------------------------------------------------- engine

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

export type { Transport, TransportRequest, TransportResponse } from './transport';

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
  signal?: AbortSignal;
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

const defaultTransport: Transport = undiciTransport;

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function cancellableWait(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Response headers as a plain object with lower-case names. */
export function plainHeaders(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!headers || typeof headers !== 'object') return out;
  const source =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? ((headers as { toJSON: () => Record<string, unknown> }).toJSON() as Record<string, unknown>)
      : (headers as Record<string, unknown>);
  for (const name of Object.keys(source)) {
    const v = source[name];
    if (v === undefined || v === null) continue;
    const value = Array.isArray(v) ? v.map(String) : String(v);
    Object.defineProperty(out, name.toLowerCase(), { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data === undefined || data === null) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(data), 'utf8');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Builds the default redactor for an endpoint (and the signing key, the
 * sender's configured secrets, and credential headers of the request).
 */
export function redactorFor(endpoint: EndpointHandle, signingKey?: string | Buffer, extra: string[] = [], requestHeaders?: Record<string, string>): Redactor {
  const secrets: string[] = [...extra];
  try {
    secrets.push(...(endpoint.secrets?.() ?? []));
  } catch {
    // an endpoint that cannot list its secrets still gets header redaction
  }
  if (typeof signingKey === 'string') secrets.push(signingKey);
  else if (Buffer.isBuffer(signingKey)) secrets.push(signingKey.toString('base64'));
  let names: string[] = [];
  try {
    names = endpoint.sensitiveNames?.() ?? [];
  } catch {
    names = [];
  }
  if (requestHeaders) {
    // a credential that came with the message (msg.headers.Authorization …) is a secret too
    const probe = new Redactor({ sensitiveNames: names });
    for (const [name, value] of Object.entries(requestHeaders)) {
      if (probe.isSensitiveHeader(name) && value) {
        secrets.push(value);
        const space = value.indexOf(' ');
        if (space > 0 && value.length - space > MIN_HEADER_SECRET) secrets.push(value.slice(space + 1)); // the token after "Bearer "
      }
    }
  }
  return new Redactor({ secrets, sensitiveNames: names });
}

function secretsKey(endpoint: EndpointHandle): string {
  try {
    return (endpoint.secrets?.() ?? []).join('\u0000');
  } catch {
    return '';
  }
}

interface LastAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  raw: Buffer;
}

/**
 * Delivers `request` through `endpoint`. Never rejects: every ending is an
 * outcome. `state` is updated in place and returned in the outcome.
 */
export async function deliver(
  endpoint: EndpointHandle,
  request: DeliveryRequest,
  state: DeliveryState,
  settings: DeliverySettings,
  options: DeliveryOptions = {},
): Promise<DeliveryOutcome> {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const transport = options.transport ?? defaultTransport;
  // one listener on the caller's (shared) signal per delivery at most, removed when it ends
  const link = linkSignal(options.signal);
  const signal = link.signal;
  let redactor = options.redactor ?? redactorFor(endpoint, settings.signingKey, settings.secrets, request.headers);
  let knownSecrets = secretsKey(endpoint);
  /** a token fetched (or refreshed) while preparing an attempt is a new secret: rebuild the redactor */
  const refreshRedactor = () => {
    if (options.redactor) return;
    const key = secretsKey(endpoint);
    if (key === knownSecrets) return;
    knownSecrets = key;
    redactor = redactorFor(endpoint, settings.signingKey, settings.secrets, request.headers);
  };
  const maxAttempts = Math.max(1, Math.floor(settings.maxAttempts));
  state.maxAttempts = maxAttempts;
  const timing = { initialDelay: settings.initialDelay, maxDelay: settings.maxDelay, maxRetryAfter: settings.maxRetryAfter };
  const pacer: PacerLike | undefined = endpoint.pacer && typeof endpoint.pacer.acquire === 'function' ? endpoint.pacer : undefined;

  let last: LastAnswer | undefined;
  let lastMethod: string | undefined;
  let lastUrl: string | undefined;

  const setPhase = (phase: DeliveryPhase) => {
    state.phase = phase;
    if (phase === 'sending' || phase === 'waiting' || phase === 'paced') {
      try {
        options.onPhase?.(state);
      } catch {
        // a listener's bug must not stop the delivery
      }
    }
  };

  const report = (log: Omit<AttemptLog, 'text' | 'maxAttempts'>) => {
    const what = log.statusCode !== undefined ? String(log.statusCode) : log.errorCode ?? '?';
    let text = `${log.method} ${log.url} → ${what} in ${log.durationMs} ms (attempt ${log.attempt}/${maxAttempts})`;
    if (log.result === 'retry') text += `; retry in ${log.delayMs} ms`;
    else if (log.result === 'auth-retry') text += '; retrying at once with a fresh token';
    else if (log.result === 'offline') text += '; endpoint unreachable, waiting for it (not counted)';
    else if (log.result === 'failed') text += '; giving up';
    else if (log.result === 'cancelled') text += '; cancelled';
    try {
      options.onAttempt?.({ ...log, maxAttempts, text, idempotencyKey: state.idempotencyKey });
    } catch {
      // logging must not stop the delivery
    }
  };

  const detail = (reason: string): DeliveryErrorDetail => {
    const d: DeliveryErrorDetail = {
      reason: redactor.text(reason),
      attempts: state.attempts,
      statusCode: last ? last.statusCode : null,
      bodyExcerpt: last ? redactor.text(bodyExcerpt(last.raw, last.headers['content-type'], EXCERPT_CHARS)) : '',
    };
    if (lastMethod) d.method = lastMethod;
    if (lastUrl) d.url = lastUrl;
    return d;
  };

  const finish = (phase: 'failed' | 'cancelled', code: string, message: string, reason: string): DeliveryFailure => {
    state.phase = phase;
    state.nextAttemptAt = null;
    state.finishedAt = now();
    if (phase === 'failed') state.lastErrorCode = code;
    const error = new IntegrationError(code, redactor.text(message), [detail(reason)]);
    const out: DeliveryFailure = { ok: false, state, error, durationMs: Math.max(0, state.finishedAt - state.createdAt) };
    if (last) {
      out.statusCode = last.statusCode;
      out.headers = redactor.responseHeaders(last.headers);
      // a third party may echo what it got (a key in the URL …): never hand that on
      out.raw = redactor.bytes(last.raw);
    }
    return out;
  };

  const cancelled = (phase: 'waiting' | 'sending'): DeliveryFailure => {
    const message =
      options.cancelMessage?.(phase) ??
      (phase === 'waiting' ? 'the delivery was cancelled while waiting to be retried' : 'the delivery was cancelled while the request was in flight');
    return finish('cancelled', 'CANCELLED', message, message);
  };

  /** oneAttempt: this attempt failed and another one is due at state.nextAttemptAt */
  const later = (code: string, message: string, reason: string): DeliveryFailure => {
    state.phase = 'waiting';
    const retryAt = state.nextAttemptAt ?? now();
    const error = new IntegrationError(code, redactor.text(message), [detail(reason)]);
    const out: DeliveryFailure = { ok: false, state, error, durationMs: Math.max(0, now() - state.createdAt), retryAt };
    if (last) {
      out.statusCode = last.statusCode;
      out.headers = redactor.responseHeaders(last.headers);
    }
    return out;
  };

  try {
    for (;;) {
      // ---- wait for the next attempt (also after resuming a stored state)
      if (signal?.aborted) return cancelled(state.attempts > 0 ? 'waiting' : 'sending');
      if (state.nextAttemptAt !== null) {
        const delay = state.nextAttemptAt - now();
        if (delay > 0) {
          setPhase('waiting');
          const waited = await cancellableWait(delay, signal);
          if (!waited) return cancelled('waiting');
        }
        state.nextAttemptAt = null;
      }

      // ---- a permit from the endpoint's pacer (waits here do not use up attempts)
      let permit: PacerPermit | undefined;
      if (pacer) {
        permit = pacer.tryAcquire();
        if (!permit) {
          setPhase('paced');
          try {
            permit = await pacer.acquire(signal);
          } catch (err) {
            if (signal?.aborted) return cancelled(state.attempts > 0 || state.lastErrorCode !== null ? 'waiting' : 'sending');
            if ((err as { code?: unknown })?.code === 'ENDPOINT_CLOSED') {
              const message = 'the endpoint was stopped while this message was waiting for it';
              return finish('cancelled', 'CANCELLED', message, message);
            }
            throw err;
          }
        }
      }
      // what the pacer is told when the permit is released (no request made: cancelled)
      let outcome: PacerOutcome = { kind: 'cancelled' };
      try {
        // ---- prepare the attempt
        state.attempts++;
        const attempt = countedAttempts(state);
        setPhase('sending');
        const headers: Record<string, string> = { ...request.headers };
        if (settings.idempotencyHeader) setHeader(headers, settings.idempotencyHeader, state.idempotencyKey);
        const body = request.body;
        if (settings.signingKey !== undefined) {
          const signed = webhookSignatureHeaders(settings.signingKey, state.idempotencyKey, body ?? Buffer.alloc(0), Math.floor(now() / 1000));
          for (const name of Object.keys(signed)) setHeader(headers, name, signed[name]);
        }

        const started = now();
        let prepared: PreparedRequest;
        try {
          prepared = await endpoint.prepare({ method: request.method, path: request.path, headers });
        } catch (err) {
          const e = err as { message?: unknown; code?: unknown; retryable?: unknown };
          const original = typeof e?.code === 'string' && e.code !== 'PREPARE_FAILED' ? ` (${e.code})` : '';
          const reason = `the endpoint could not prepare the request: ${String(e?.message ?? err)}${original}`;
          const retryable = e?.retryable === true;
          // the SSRF guard's refusal keeps its own code: the address is refused, not the settings
          if (e?.code === TARGET_BLOCKED) {
            state.lastErrorCode = TARGET_BLOCKED;
            report({ attempt, method: request.method ?? endpoint.defaultMethod, url: redactor.url(request.path), errorCode: TARGET_BLOCKED, durationMs: now() - started, result: 'failed' });
            return finish('failed', TARGET_BLOCKED, String(e.message), String(e.message));
          }
          state.lastErrorCode = 'PREPARE_FAILED';
          const durationMs = now() - started;
          const base = { attempt, method: request.method ?? endpoint.defaultMethod, url: redactor.url(request.path), errorCode: 'PREPARE_FAILED', durationMs };
          if (signal?.aborted) {
            report({ ...base, result: 'cancelled' });
            return cancelled('sending');
          }
          if (retryable && attempt < maxAttempts) {
            const wait = waitBeforeRetry(attempt, timing, undefined, random);
            state.nextAttemptAt = now() + wait.delayMs;
            report({ ...base, result: 'retry', delayMs: wait.delayMs });
            if (options.oneAttempt) {
              return later('PREPARE_FAILED', `The endpoint could not prepare the request (attempt ${attempt} of ${maxAttempts})`, reason);
            }
            continue;
          }
          report({ ...base, result: 'failed' });
          return finish('failed', 'PREPARE_FAILED', `The endpoint could not prepare the request (${plural(state.attempts, 'attempt')})`, reason);
        }
        refreshRedactor();
        if (signal?.aborted) return cancelled('sending');

        const method = prepared.method;
        const url = prepared.url;
        lastMethod = method;
        lastUrl = redactor.url(url);

        // ---- send it
        const attemptCtl = new AbortController();
        let timedOut = false;
        const onOuterAbort = () => attemptCtl.abort();
        signal?.addEventListener('abort', onOuterAbort, { once: true });
        const timeoutMs = Number.isFinite(prepared.timeoutMs) && prepared.timeoutMs > 0 ? prepared.timeoutMs : 0;
        const deadline = timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              attemptCtl.abort();
            }, timeoutMs)
          : undefined;
        const config: TransportRequest = {
          url,
          method,
          headers: { ...prepared.headers },
          data: method === 'GET' || body === null ? undefined : body,
          timeout: timeoutMs,
          signal: attemptCtl.signal,
          dispatcher: prepared.dispatcher,
          keepAlive: prepared.keepAlive,
          maxResponseBytes: prepared.maxResponseBytes,
        };
        let response: TransportResponse | undefined;
        let failure: unknown;
        try {
          response = await transport(config);
        } catch (err) {
          failure = err;
      } finally {
        if (deadline) clearTimeout(deadline);
        signal?.removeEventListener('abort', onOuterAbort);
      }
      const durationMs = now() - started;
      const base = { attempt, method, url: lastUrl, durationMs };

      if (signal?.aborted && !response) {
        report({ ...base, errorCode: 'CANCELLED', result: 'cancelled' });
        return cancelled('sending');
      }

      // ---- an answer too large to read: final (the partner would send the same again)
      if (!response && isResponseTooLarge(failure)) {
        const statusCode = failure.status;
        last = { statusCode, headers: plainHeaders(failure.headers), raw: Buffer.alloc(0) };
        state.lastStatusCode = statusCode;
        state.lastErrorCode = RESPONSE_TOO_LARGE;
        outcome = { kind: 'response', status: statusCode };
        report({ ...base, statusCode, errorCode: RESPONSE_TOO_LARGE, result: 'failed' });
        return finish('failed', RESPONSE_TOO_LARGE, `The answer (HTTP ${statusCode}) is larger than the endpoint's limit of ${failure.limit} bytes; it was not read`, failure.message);
      }

      // ---- no answer
      if (!response) {
        const down = pacer && !timedOut ? offlineCodeOf(failure) : undefined;
        if (down) {
          // the connection was never made: not an attempt; wait at the pacer for the endpoint
          outcome = { kind: 'network', code: down };
          state.attempts--;
          state.lastErrorCode = down;
          report({ ...base, errorCode: down, result: 'offline' });
          continue;
        }
        const cls = classifyError(failure, timedOut);
        outcome = cls.code === 'TIMEOUT' ? { kind: 'timeout' } : { kind: 'network', code: cls.code };
        state.lastErrorCode = cls.code;
        const message = cls.code === 'TIMEOUT' ? `no answer within ${timeoutMs} ms` : String((failure as Error)?.message ?? failure);
        if (cls.retryable && attempt < maxAttempts) {
          const wait = waitBeforeRetry(attempt, timing, undefined, random);
          state.nextAttemptAt = now() + wait.delayMs;
          report({ ...base, errorCode: cls.code, result: 'retry', delayMs: wait.delayMs });
          if (options.oneAttempt) {
            const what = cls.code === 'TIMEOUT' ? `No answer within ${timeoutMs} ms` : `The request failed with ${cls.code}`;
            return later(cls.code, `${what} (attempt ${attempt} of ${maxAttempts})`, message);
          }
          continue;
        }
        report({ ...base, errorCode: cls.code, result: 'failed' });
        const summary =
          cls.code === 'TIMEOUT'
            ? `No answer within ${timeoutMs} ms (${plural(state.attempts, 'attempt')})`
            : `The request failed with ${cls.code} (${plural(state.attempts, 'attempt')})`;
        return finish('failed', cls.code, cls.retryable ? summary : `${summary}: not retried`, message);
      }

      // ---- an answer
      const statusCode = response.status;
      const respHeaders = plainHeaders(response.headers);
      const raw = toBuffer(response.data);
      last = { statusCode, headers: respHeaders, raw };
      state.lastStatusCode = statusCode;
      const retryAfterMs = parseRetryAfter(respHeaders['retry-after'], now());
      outcome = { kind: 'response', status: statusCode };
      if (retryAfterMs !== undefined && (statusCode === 429 || statusCode === 503)) {
        // the whole endpoint pauses as long as this message waits (capped alike)
        outcome.retryAfterMs = waitBeforeRetry(attempt, timing, retryAfterMs, random).delayMs;
      }

      if ((statusCode >= 200 && statusCode < 300) || settings.alsoSuccess?.(statusCode) === true) {
        report({ ...base, statusCode, result: 'success' });
        state.phase = 'succeeded';
        state.lastErrorCode = null;
        state.finishedAt = now();
        // the partner's words: whatever it echoes (a token, a key) is redacted before it reaches a message
        const parsed = await parseResponseBody(redactor.bytes(raw), respHeaders['content-type']);
        return { ok: true, state, statusCode, headers: redactor.responseHeaders(respHeaders), body: parsed, durationMs: Math.max(0, state.finishedAt - state.createdAt) };
      }

      const code = `HTTP_${statusCode}`;
      state.lastErrorCode = code;
      if (statusCode === 401 && !state.authRetried) {
        let fresh = false;
        try {
          fresh = endpoint.invalidateAuth() === true;
        } catch {
          fresh = false;
        }
        if (fresh) {
          state.authRetried = true;
          report({ ...base, statusCode, result: 'auth-retry' });
          continue;
        }
      }

      const statusText = response.statusText ? ` ${response.statusText}` : '';
      if (isRetryableStatus(statusCode) && attempt < maxAttempts) {
        const wait = waitBeforeRetry(attempt, timing, retryAfterMs, random);
        state.nextAttemptAt = now() + wait.delayMs;
        report({ ...base, statusCode, result: 'retry', delayMs: wait.delayMs });
        if (options.oneAttempt) {
          return later(code, `The server answered ${statusCode}${statusText} (attempt ${attempt} of ${maxAttempts})`, `the server answered ${statusCode}${statusText}; retried`);
        }
        continue;
      }
      report({ ...base, statusCode, result: 'failed' });
      let reason: string;
      if (isRetryableStatus(statusCode)) reason = `the server answered ${statusCode}${statusText}; no attempts left`;
      else if (statusCode >= 300 && statusCode < 400) {
        const location = respHeaders.location;
        reason = `the server redirected${location ? ` to ${redactor.url(String(location))}` : ''}; redirects are not followed`;
      } else reason = `the server answered ${statusCode}${statusText}, which is not retried`;
      return finish('failed', code, `The server answered ${statusCode}${statusText} (${plural(state.attempts, 'attempt')})`, reason);
      } finally {
        permit?.release(outcome);
      }
    }
  } catch (err) {
    // a bug of ours or of the endpoint: report it, never reject
    return finish('failed', 'DELIVERY_FAILED', 'The delivery failed unexpectedly', String((err as Error)?.message ?? err));
  } finally {
    link.dispose();
  }
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
  return deliver(endpoint, request, state, settings, { ...options, oneAttempt: true });
}
