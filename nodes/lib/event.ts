/**
 * The event trigger's logic, free of Node-RED: what an event looks like, how
 * it is checked and normalised, the type filter and the deduplication that
 * decide whether it is emitted, and the pieces of HTTP handling that need no
 * framework (reading a bounded raw body, content types, reply codes).
 *
 * An incoming event is `{id?, type, occurredAt?, source?, data?}`:
 * - `id`: non-empty string (a number is turned into a string), at most 200
 *   characters; a fresh UUID when missing.
 * - `type`: non-empty string of letters, digits and `_ . : -`, at most 200.
 * - `occurredAt`: ISO-8601 date or date-time (without an offset it is read as
 *   UTC), or a Unix time number (below 1e11 seconds, otherwise milliseconds);
 *   normalised to an ISO string; the time of receipt when missing.
 * - `source`: optional non-empty string naming the sender; otherwise the
 *   channel the event came through ("http" or "wire").
 * - `data`: any JSON value; `{}` when missing.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { IntegrationError, type ErrorDetail, type IntegrationErrorInfo } from './errors';
import { TYPE_PATTERN, MAX_TYPE_LENGTH, compileFilter, type TypeFilter } from './patterns';
import { DedupeCache } from './dedupe';
import type { Settlement } from './acks';

export const MAX_ID_LENGTH = 200;
export const MAX_SOURCE_LENGTH = 200;
export const DEFAULT_MAX_BYTES = 1048576;
export const DEFAULT_DEDUPE_WINDOW_SECONDS = 600;
/** how much of a rejected body is kept on `msg.payload` */
export const REJECTED_BODY_PREVIEW_BYTES = 1024;
/** Unix times below this are seconds, at or above it milliseconds (1e11 s is the year 5138) */
export const EPOCH_SECONDS_LIMIT = 1e11;

/** Error codes and the HTTP status each one is answered with. */
export const HTTP_STATUS: Record<string, number> = {
  INVALID_JSON: 400,
  INVALID_EVENT: 400,
  BODY_READ_FAILED: 400,
  UNAUTHORIZED: 401,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL_ERROR: 500,
};

/** What goes on `msg.event`. */
export interface EventMeta {
  id: string;
  type: string;
  occurredAt: string;
  source: string;
  receivedAt: string;
}

export type ValidationResult =
  | { ok: true; event: EventMeta; data: unknown }
  | { ok: false; error: IntegrationError };

export interface ValidateOptions {
  /** the channel: "http" or "wire" (used when the event names no source) */
  source: string;
  /** time of receipt (default: now) */
  now?: Date;
  /** the id to use when the event has none, before generating one (e.g. a verified webhook-id) */
  fallbackId?: string;
  /** id generator (default crypto.randomUUID) */
  newId?: () => string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)([Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * An ISO-8601 string or a Unix time number as an ISO string (UTC), or
 * undefined when the value is not a time we can read.
 */
export function normaliseTime(value: unknown): string | undefined {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return undefined;
    ms = value < EPOCH_SECONDS_LIMIT ? value * 1000 : value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (ISO_DATE.test(text)) {
      ms = Date.parse(text + 'T00:00:00Z');
    } else {
      const m = ISO_DATE_TIME.exec(text);
      if (!m) return undefined;
      let zone = m[3] ?? 'Z';
      if (/^[+-]\d{4}$/.test(zone)) zone = zone.slice(0, 3) + ':' + zone.slice(3);
      const time = m[2].replace(',', '.');
      ms = Date.parse(`${m[1]}T${time}${zone.toUpperCase()}`);
    }
  } else {
    return undefined;
  }
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Checks an incoming event and normalises it. Every problem is reported at
 * once as details [{field, reason}] of an INVALID_EVENT error.
 */
export function validateEvent(payload: unknown, options: ValidateOptions): ValidationResult {
  const now = options.now ?? new Date();
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    return {
      ok: false,
      error: new IntegrationError('INVALID_EVENT', 'the event must be a JSON object', [
        { field: 'event', reason: `must be an object, got ${describe(payload)}` },
      ]),
    };
  }
  const raw = payload as Record<string, unknown>;
  const details: ErrorDetail[] = [];

  let type = '';
  if (raw.type === undefined || raw.type === null) {
    details.push({ field: 'type', reason: 'is required' });
  } else if (typeof raw.type !== 'string') {
    details.push({ field: 'type', reason: `must be a string, got ${describe(raw.type)}` });
  } else if (raw.type.length === 0) {
    details.push({ field: 'type', reason: 'must not be empty' });
  } else if (raw.type.length > MAX_TYPE_LENGTH) {
    details.push({ field: 'type', reason: `must be at most ${MAX_TYPE_LENGTH} characters` });
  } else if (!TYPE_PATTERN.test(raw.type)) {
    details.push({ field: 'type', reason: 'may only contain letters, digits and _ . : -', value: raw.type });
  } else {
    type = raw.type;
  }

  let id: string | undefined;
  if (raw.id !== undefined && raw.id !== null) {
    if (typeof raw.id === 'number') {
      if (Number.isFinite(raw.id)) id = String(raw.id);
      else details.push({ field: 'id', reason: 'must be a finite number or a string' });
    } else if (typeof raw.id === 'string') {
      if (raw.id.length === 0) details.push({ field: 'id', reason: 'must not be empty' });
      else if (raw.id.length > MAX_ID_LENGTH) details.push({ field: 'id', reason: `must be at most ${MAX_ID_LENGTH} characters` });
      else id = raw.id;
    } else {
      details.push({ field: 'id', reason: `must be a string or a number, got ${describe(raw.id)}` });
    }
  }

  let occurredAt: string | undefined;
  if (raw.occurredAt !== undefined && raw.occurredAt !== null) {
    if (typeof raw.occurredAt !== 'string' && typeof raw.occurredAt !== 'number') {
      details.push({ field: 'occurredAt', reason: `must be an ISO-8601 string or a Unix time number, got ${describe(raw.occurredAt)}` });
    } else {
      occurredAt = normaliseTime(raw.occurredAt);
      if (occurredAt === undefined) {
        details.push({ field: 'occurredAt', reason: 'is not an ISO-8601 date-time or a Unix time', value: raw.occurredAt });
      }
    }
  }

  let source = options.source;
  if (raw.source !== undefined && raw.source !== null) {
    if (typeof raw.source !== 'string') {
      details.push({ field: 'source', reason: `must be a string, got ${describe(raw.source)}` });
    } else if (raw.source.length === 0) {
      details.push({ field: 'source', reason: 'must not be empty' });
    } else if (raw.source.length > MAX_SOURCE_LENGTH) {
      details.push({ field: 'source', reason: `must be at most ${MAX_SOURCE_LENGTH} characters` });
    } else {
      source = raw.source;
    }
  }

  if (details.length > 0) {
    const message = details.length === 1 ? `invalid event: ${details[0].field} ${details[0].reason}` : `invalid event: ${details.length} problems`;
    return { ok: false, error: new IntegrationError('INVALID_EVENT', message, details) };
  }

  const receivedAt = now.toISOString();
  const event: EventMeta = {
    id: id ?? (options.fallbackId || (options.newId ?? randomUUID)()),
    type,
    occurredAt: occurredAt ?? receivedAt,
    source,
    receivedAt,
  };
  return { ok: true, event, data: raw.data === undefined ? {} : raw.data };
}

export type Outcome =
  | { status: 'accepted'; event: EventMeta; data: unknown }
  | { status: 'ignored'; event: EventMeta; data: unknown }
  | { status: 'duplicate'; event: EventMeta; data: unknown }
  | { status: 'rejected'; error: IntegrationError };

export interface IntakeOptions {
  /** the type filter text (comma- or newline-separated patterns; empty: all) */
  filter?: string;
  /** deduplication window in seconds (0: off) */
  dedupeWindowSeconds?: number;
  /** most ids remembered for deduplication */
  maxIds?: number;
  /** clock in milliseconds (default Date.now) */
  now?: () => number;
  newId?: () => string;
}

/**
 * The decision pipeline: validate → filter by type → deduplicate by id. One
 * instance per node; it holds the dedupe memory.
 */
export class EventIntake {
  readonly filter: TypeFilter;
  readonly dedupe: DedupeCache;
  private readonly now: () => number;
  private readonly newId?: () => string;

  constructor(options: IntakeOptions = {}) {
    this.filter = compileFilter(options.filter ?? '');
    this.now = options.now ?? Date.now;
    this.newId = options.newId;
    const seconds = options.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS;
    this.dedupe = new DedupeCache({ windowMs: seconds * 1000, maxEntries: options.maxIds, now: this.now });
  }

  /**
   * Decides what becomes of an incoming event. With `record: false` a new id
   * is only looked up, not remembered: the caller calls `remember(id)` once
   * the event is safe (durable replies record an id only after a 2xx).
   */
  process(payload: unknown, context: { source: string; fallbackId?: string; record?: boolean }): Outcome {
    const result = validateEvent(payload, {
      source: context.source,
      now: new Date(this.now()),
      fallbackId: context.fallbackId,
      newId: this.newId,
    });
    if (!result.ok) return { status: 'rejected', error: result.error };
    const { event, data } = result;
    if (!this.filter.matches(event.type)) return { status: 'ignored', event, data };
    const seen = context.record === false ? this.dedupe.has(event.id) : this.dedupe.check(event.id);
    if (seen) return { status: 'duplicate', event, data };
    return { status: 'accepted', event, data };
  }

  /** Records `id` in the dedupe window (after `process(…, {record: false})`). */
  remember(id: string): void {
    this.dedupe.check(id);
  }
}

/* ------------------------------------------------------------------------ */
/* Durable replies                                                          */
/* ------------------------------------------------------------------------ */

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
  return typeof n === 'number' && Number.isFinite(n) && n > 0 && n <= MAX_ACK_TIMEOUT_SECONDS ? n : DEFAULT_ACK_TIMEOUT_SECONDS;
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
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.ceil(value) : DEFAULT_RETRY_AFTER_SECONDS;
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
        error: { code: 'SHUTTING_DOWN', message: 'the flow stopped before the event was confirmed durable', details: [] },
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
        error: { code: 'ACK_TIMEOUT', message: `the event was not confirmed durable within ${options.timeoutSeconds} s`, details: [] },
      },
    };
  }
  if (settlement.ok) return { status: 202, outcome: 'accepted', body: { id, status: 'accepted' } };
  const status =
    typeof settlement.status === 'number' && Number.isInteger(settlement.status) && settlement.status >= 400 && settlement.status <= 599
      ? settlement.status
      : 500;
  if (status === 422) {
    return { status, outcome: 'refused', body: { id, status: 'rejected', error: errorOf(settlement.error, 'REJECTED', 'the flow rejected the event') } };
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
    body: { id, status: status < 500 ? 'rejected' : 'failed', error: errorOf(settlement.error, 'FAILED', 'the flow could not take the event') },
  };
  if (settlement.retryAfterSeconds !== undefined) reply.retryAfter = retryAfterOf(settlement.retryAfterSeconds);
  return reply;
}

/* ------------------------------------------------------------------------ */
/* HTTP pieces                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Content types we read as JSON: none at all, `application/json`, any
 * `type/subtype+json`, `text/json` and `text/plain` (parameters ignored).
 */
export function isAcceptableContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.trim() === '') return true;
  const media = contentType.split(';')[0].trim().toLowerCase();
  if (media === 'text/plain') return true;
  return /^[a-z0-9!#$&^_.-]+\/(?:[a-z0-9!#$&^_.-]+\+)?json$/.test(media);
}

/** Parses a body as JSON (UTF-8, a leading BOM allowed); INVALID_JSON when it is not. */
export function parseJsonBody(body: Buffer | string): unknown {
  let text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    throw new IntegrationError('INVALID_JSON', 'the body is empty', [{ field: 'body', reason: 'expected a JSON object' }]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new IntegrationError('INVALID_JSON', 'the body is not valid JSON', [{ field: 'body', reason }]);
  }
}

/** An IntegrationError that also carries the bytes read so far. */
export class BodyError extends IntegrationError {
  readonly partial: Buffer;
  constructor(code: string, message: string, partial: Buffer, reason?: string) {
    super(code, message, reason ? [{ field: 'body', reason }] : []);
    this.partial = partial;
  }
}

/** The PAYLOAD_TOO_LARGE error, for a declared or a streamed size. */
export function tooLarge(maxBytes: number, partial: Buffer = Buffer.alloc(0), declared?: number): BodyError {
  const reason =
    declared !== undefined
      ? `Content-Length ${declared} is more than the limit of ${maxBytes} bytes`
      : `the body is more than the limit of ${maxBytes} bytes`;
  return new BodyError('PAYLOAD_TOO_LARGE', 'the body is too large', partial, reason);
}

/**
 * Reads a request body into a Buffer, refusing more than `maxBytes`: first by
 * the declared Content-Length, then by counting the bytes as they stream in
 * (a chunked body declares none). On overflow the stream is paused and the
 * promise rejects with a BodyError (PAYLOAD_TOO_LARGE) holding what was read.
 */
export function readBody(
  req: Readable & { headers?: Record<string, string | string[] | undefined> },
  maxBytes: number,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const declaredText = req.headers?.['content-length'];
    if (typeof declaredText === 'string' && /^\d+$/.test(declaredText.trim())) {
      const declared = Number(declaredText.trim());
      if (declared > maxBytes) {
        reject(tooLarge(maxBytes, Buffer.alloc(0), declared));
        return;
      }
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let finished = false;
    const cleanup = () => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.removeListener('aborted', onAborted);
      req.removeListener('close', onClose);
    };
    const fail = (err: Error) => {
      if (finished) return;
      finished = true;
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      if (finished) return;
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      if (length + buf.length > maxBytes) {
        chunks.push(buf.subarray(0, Math.max(0, maxBytes - length)));
        req.pause();
        fail(tooLarge(maxBytes, Buffer.concat(chunks)));
        return;
      }
      chunks.push(buf);
      length += buf.length;
    };
    const onEnd = () => {
      if (finished) return;
      finished = true;
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (err: Error) =>
      fail(new BodyError('BODY_READ_FAILED', 'the body could not be read', Buffer.concat(chunks), err.message));
    const onAborted = () =>
      fail(new BodyError('BODY_READ_FAILED', 'the request was aborted', Buffer.concat(chunks), 'aborted'));
    const onClose = () => {
      // 'close' before 'end' means the client went away mid-body
      if (!finished && !req.readableEnded) onAborted();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    req.on('close', onClose);
  });
}

/** The first `max` bytes of a body as text, for `msg.payload` of a rejected request. */
export function previewBody(body: Buffer | string | undefined, max = REJECTED_BODY_PREVIEW_BYTES): string {
  if (body === undefined) return '';
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return buf.subarray(0, max).toString('utf8');
}

/** The HTTP status for an error code (500 for codes we do not know). */
export function statusFor(code: string): number {
  return HTTP_STATUS[code] ?? 500;
}
