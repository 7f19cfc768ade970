/**
 * What the dead-letter store keeps per entry (dead-letter.ts): the shapes it
 * takes and shows, the in-memory index entry (no data) and the normalising of
 * what callers hand in.
 */
import type { WarnFn } from './journal';
import type { RecordCipher } from './cipher';
import { isRecord } from '../rules';

const MAX_HISTORY = 50;
const MAX_MESSAGE = 2000;

export interface DeadLetterError {
  code: string;
  message: string;
  details: unknown[];
}

/** One delivery attempt, as kept in an entry's history. */
export interface AttemptRecord {
  /** when the attempt was made (ms since the epoch) */
  at: number;
  /** the HTTP status the endpoint answered, when it answered */
  statusCode?: number;
  /** the error code, when the attempt failed without (or despite) an answer */
  errorCode?: string;
}

/** What is stored; `put()` takes this. */
export interface DeadLetterInput {
  id: string;
  data: unknown;
  error: { code: string; message: string; details?: unknown[] };
  attempts?: number;
  history?: AttemptRecord[];
  /** when it became dead (default: the store's clock) */
  deadAt?: number;
  /** the outbox ordering key it had, kept so that a replay queues it under the same key */
  orderingKey?: string;
  /** when it was first enqueued */
  createdAt?: number;
  /** the outbox's sequence number for it (lets the outbox finish an interrupted move after a crash) */
  enqueueSeq?: number;
}

/** An entry as listed: everything but the data. */
export interface DeadLetterSummary {
  id: string;
  error: DeadLetterError;
  attempts: number;
  history: AttemptRecord[];
  deadAt: number;
  orderingKey?: string;
  createdAt?: number;
  enqueueSeq?: number;
  /** size of the data as JSON (UTF-8 bytes) */
  bytes: number;
}

export interface DeadLetterEntry extends DeadLetterSummary {
  data: unknown;
}

export interface DeadLetterCounts {
  total: number;
  /** sum of the entries' data sizes */
  bytes: number;
  /** entries per error code */
  byCode: Record<string, number>;
  oldestDeadAt?: number;
  newestDeadAt?: number;
  /** entries dropped since open because `maxEntries` / `maxBytes` was exceeded */
  dropped: number;
}

export interface DeadLetterOptions {
  /** segment size of its journal (default 8 MiB) */
  segmentSize?: number;
  /** compaction threshold, in segments (default 4) */
  compactAfterSegments?: number;
  /** keep at most this many entries, dropping the oldest with a warning (default 0 = no limit) */
  maxEntries?: number;
  /** keep at most this many data bytes, dropping the oldest with a warning (default 0 = no limit) */
  maxBytes?: number;
  /** told about bad data found on open, dropped entries and background failures */
  warn?: WarnFn;
  /** the clock (default Date.now) */
  now?: () => number;
  /** encrypts the store at rest (cipher.ts) */
  cipher?: RecordCipher;
}

export interface ListOptions {
  limit?: number;
  offset?: number;
  /** 'newest' first (default) or 'oldest' first */
  order?: 'newest' | 'oldest';
}

export class Meta {
  removing = false;
  constructor(
    public id: string,
    /** version: a PUT gets a new one; a DEL names the version it removes */
    public v: number,
    public error: DeadLetterError,
    public attempts: number,
    public history: AttemptRecord[],
    public deadAt: number,
    public orderingKey: string | undefined,
    public createdAt: number | undefined,
    public enqueueSeq: number | undefined,
    public bytes: number,
    public seg: number,
    public off: number,
    public len: number,
  ) {}
}

/** a non-null, non-array object (lib/rules/objects.ts) */
export const isObj = isRecord;

export function normError(e: DeadLetterInput['error'] | unknown): DeadLetterError {
  if (isObj(e)) {
    const code = typeof e.code === 'string' && e.code ? e.code : 'ERROR';
    const message = typeof e.message === 'string' ? e.message.slice(0, MAX_MESSAGE) : String(e.message ?? '');
    const details = Array.isArray(e.details) ? e.details : [];
    return { code, message, details };
  }
  return { code: 'ERROR', message: String(e ?? '').slice(0, MAX_MESSAGE), details: [] };
}

export function normHistory(h: unknown): AttemptRecord[] {
  if (!Array.isArray(h)) return [];
  const out: AttemptRecord[] = [];
  for (const a of h.slice(-MAX_HISTORY)) {
    if (!isObj(a) || typeof a.at !== 'number') continue;
    const r: AttemptRecord = { at: a.at };
    if (typeof a.statusCode === 'number') r.statusCode = a.statusCode;
    if (typeof a.errorCode === 'string') r.errorCode = a.errorCode;
    out.push(r);
  }
  return out;
}

export function summary(m: Meta): DeadLetterSummary {
  const s: DeadLetterSummary = {
    id: m.id,
    error: { code: m.error.code, message: m.error.message, details: m.error.details },
    attempts: m.attempts,
    history: m.history.map((h) => ({ ...h })),
    deadAt: m.deadAt,
    bytes: m.bytes,
  };
  if (m.orderingKey !== undefined) s.orderingKey = m.orderingKey;
  if (m.createdAt !== undefined) s.createdAt = m.createdAt;
  if (m.enqueueSeq !== undefined) s.enqueueSeq = m.enqueueSeq;
  return s;
}
