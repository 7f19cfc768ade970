/**
 * The outbox's public shapes: options, what enqueue takes and answers, the
 * update after an attempt and the stats (outbox.ts).
 */
import type { DeadLetterStore } from './dead-letter';
import type { WarnFn } from './journal';
import type { RecordCipher } from './cipher';
import type { LastError, PendingItem } from './item';

export type { LastError, PendingItem } from './item';

export const DEFAULT_MAX_ITEMS = 100000;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const MAX_ID_LENGTH = 1024;

export interface EnqueueInput {
  /** the idempotency key: an item with this id already pending makes this a duplicate */
  id: string;
  /** items with the same key are delivered one at a time, in enqueue order */
  orderingKey?: string;
  /** any JSON value (undefined is stored as null) */
  data: unknown;
  /**
   * true: the caller hands `data` over and never changes it again; the
   * outbox's memory of recent items then keeps this very value, and `load()`
   * returns it as is (shared: whoever loads it must not change it either)
   * instead of parsing a fresh copy from the JSON written.
   */
  owned?: boolean;
  /** the enqueue time (default: the outbox's clock); also the first nextAttemptAt unless that is given */
  now?: number;
  /** when the first attempt is due (default `now`) */
  nextAttemptAt?: number;
}

export type FullReason = 'maxItems' | 'maxBytes' | 'itemTooLarge';

export type EnqueueResult =
  | {
      status: 'accepted';
      id: string;
      item: PendingItem;
      /** ids moved to the dead-letter store to make room */ evicted: string[];
    }
  | { status: 'duplicate'; id: string; item?: PendingItem }
  | { status: 'full'; id: string; reason: FullReason; message: string };

export interface AttemptUpdate {
  attempts: number;
  nextAttemptAt: number;
  lastError?: LastError | { code: string; message: string; statusCode?: number; [k: string]: unknown } | null;
}

export interface OutboxStats {
  /** pending items (durably enqueued, not yet durably completed or dead-lettered) */
  depth: number;
  /** sum of their data sizes */
  bytes: number;
  /** age of the oldest pending item (0 when empty) */
  oldestAgeMs: number;
  /** counters since open */
  delivered: number;
  retried: number;
  deadLettered: number;
  /** enqueues refused because the outbox was full, since open */
  refused: number;
  /** journal segments and their bytes on disk */
  segments: number;
  diskBytes: number;
  /** found when the journal was opened: records lost to damage or missing segments (journal.ts, losses.ts) */
  lostRecords: number;
  missingSegments: number[];
  /** a damaged tail cut off on open: what a crash in the middle of a write leaves */
  tornRecords: number;
}

export interface OutboxOptions {
  /** most pending items (default 100,000) */
  maxItems?: number;
  /** most data bytes pending (default 256 MiB) */
  maxBytes?: number;
  /** what a full outbox does with a new item: 'refuse' (default; enqueue answers status 'full') or 'dead-letter-oldest' */
  fullPolicy?: 'refuse' | 'dead-letter-oldest';
  /** the dead-letter store; default: one opened in `<dir>/dead-letter` and closed with the outbox */
  deadLetter?: DeadLetterStore;
  /** journal segment size (default 8 MiB) */
  segmentSize?: number;
  /** copy the oldest segment forward while there are more segments than this (default 4) */
  compactAfterSegments?: number;
  /** group commit limits (defaults 4 MiB / 8192 records per fdatasync) */
  maxBatchBytes?: number;
  maxBatchRecords?: number;
  /** told about corrupt data found on open and failures in the background (never throws) */
  warn?: WarnFn;
  /** the clock (default Date.now) */
  now?: () => number;
  /**
   * bytes of data of recently enqueued items kept in memory until they leave,
   * so that their first attempt does not read them back from disk
   * (body-cache.ts; default 4 MiB, 0: off)
   */
  bodyCacheBytes?: number;
  /** encrypts the journal at rest (cipher.ts); also given to the dead-letter store the outbox opens itself */
  cipher?: RecordCipher;
}
