/**
 * What an event looks like and how it is checked and normalised (free of
 * Node-RED). The decision to emit it (type filter, deduplication) is in
 * trigger/intake.ts; the HTTP side in trigger/*.
 *
 * An incoming event is `{id?, type, occurredAt?, source?, data?}`:
 * - `id`: non-empty string (a number is turned into a string), at most 200
 *   characters, no control characters (NUL, CR, LF …) nor invalid Unicode,
 *   and its idempotency key (lib/idempotency-key.ts) at most 255 characters;
 *   a fresh UUID when missing.
 * - `type`: non-empty string of letters, digits and `_ . : -`, at most 200.
 * - `occurredAt`: ISO-8601 date or date-time (without an offset it is read as
 *   UTC), or a Unix time number (below 1e11 seconds, otherwise milliseconds);
 *   normalised to an ISO string; the time of receipt when missing.
 * - `source`: optional non-empty string naming the sender; otherwise the
 *   channel the event came through ("http" or "wire").
 * - `data`: any JSON value; `{}` when missing.
 */
import { randomUUID } from 'node:crypto';
import { IntegrationError, type ErrorDetail } from './errors';
import { TYPE_PATTERN, MAX_TYPE_LENGTH } from './patterns';
import { idempotencyKeyProblem } from './idempotency-key';

export const MAX_ID_LENGTH = 200;
export const MAX_SOURCE_LENGTH = 200;
/** Unix times below this are seconds, at or above it milliseconds (1e11 s is the year 5138) */
export const EPOCH_SECONDS_LIMIT = 1e11;

/** What goes on `msg.event`. */
export interface EventMeta {
  id: string;
  type: string;
  occurredAt: string;
  source: string;
  receivedAt: string;
}

export type ValidationResult = { ok: true; event: EventMeta; data: unknown } | { ok: false; error: IntegrationError };

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

/** `id` when it can serve as an event id (see the file header), else undefined. */
export function usableId(id: string | undefined): string | undefined {
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) return undefined;
  return idempotencyKeyProblem(id) === undefined ? id : undefined;
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
      else if (raw.id.length > MAX_ID_LENGTH)
        details.push({ field: 'id', reason: `must be at most ${MAX_ID_LENGTH} characters` });
      else {
        const problem = idempotencyKeyProblem(raw.id);
        if (problem) details.push({ field: 'id', reason: problem });
        else id = raw.id;
      }
    } else {
      details.push({ field: 'id', reason: `must be a string or a number, got ${describe(raw.id)}` });
    }
  }

  let occurredAt: string | undefined;
  if (raw.occurredAt !== undefined && raw.occurredAt !== null) {
    if (typeof raw.occurredAt !== 'string' && typeof raw.occurredAt !== 'number') {
      details.push({
        field: 'occurredAt',
        reason: `must be an ISO-8601 string or a Unix time number, got ${describe(raw.occurredAt)}`,
      });
    } else {
      occurredAt = normaliseTime(raw.occurredAt);
      if (occurredAt === undefined) {
        details.push({
          field: 'occurredAt',
          reason: 'is not an ISO-8601 date-time or a Unix time',
          value: raw.occurredAt,
        });
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
    const message =
      details.length === 1
        ? `invalid event: ${details[0].field} ${details[0].reason}`
        : `invalid event: ${details.length} problems`;
    return { ok: false, error: new IntegrationError('INVALID_EVENT', message, details) };
  }

  const receivedAt = now.toISOString();
  const event: EventMeta = {
    id: id ?? (usableId(options.fallbackId) || (options.newId ?? randomUUID)()),
    type,
    occurredAt: occurredAt ?? receivedAt,
    source,
    receivedAt,
  };
  return { ok: true, event, data: raw.data === undefined ? {} : raw.data };
}
