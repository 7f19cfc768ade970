/**
 * One pending item of the outbox as the in-memory index keeps it: no data,
 * only what scheduling needs and where its records are on disk.
 */
import type { RecordPos } from './journal';
import { isRecord } from '../rules';

const MAX_ERROR_MESSAGE = 500;

/** The last failure of an item, as kept in the index (small on purpose). */
export interface LastError {
  code: string;
  message: string;
  statusCode?: number;
}

/** A pending item as the outbox shows it (a copy; changing it changes nothing). */
export interface PendingItem {
  id: string;
  orderingKey?: string;
  attempts: number;
  /** ms since the epoch; the item is due when this is ≤ now */
  nextAttemptAt: number;
  createdAt: number;
  /** size of the item's data as JSON (UTF-8 bytes) */
  bytes: number;
  lastError?: LastError;
}

export interface ItemInit {
  id: string;
  key?: string;
  /** the enqueue sequence number: names this incarnation of the id */
  seq: number;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError?: LastError;
  bytes: number;
  /** where its PUT record is (absent while it is being written) */
  put?: RecordPos;
}

export class Item {
  id: string;
  key: string | undefined;
  seq: number;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: LastError | undefined;
  bytes: number;
  putSeg = 0;
  putOff = 0;
  putLen = 0;
  /** segment of the latest STATE record, 0 when the PUT is the latest */
  stateSeg = 0;
  /** a DONE/DEAD is being written */
  closing = false;
  /** version of the item's current entry in the due-time heap */
  hv = 0;

  constructor(init: ItemInit) {
    this.id = init.id;
    this.key = init.key;
    this.seq = init.seq;
    this.createdAt = init.createdAt;
    this.attempts = init.attempts;
    this.nextAttemptAt = init.nextAttemptAt;
    this.lastError = init.lastError;
    this.bytes = init.bytes;
    if (init.put) this.setPut(init.put);
  }

  setPut(pos: RecordPos): void {
    this.putSeg = pos.seg;
    this.putOff = pos.offset;
    this.putLen = pos.length;
  }

  get put(): RecordPos {
    return { seg: this.putSeg, offset: this.putOff, length: this.putLen };
  }

  /** a copy for callers */
  view(): PendingItem {
    const p: PendingItem = {
      id: this.id,
      attempts: this.attempts,
      nextAttemptAt: this.nextAttemptAt,
      createdAt: this.createdAt,
      bytes: this.bytes,
    };
    if (this.key !== undefined) p.orderingKey = this.key;
    if (this.lastError !== undefined) p.lastError = { ...this.lastError };
    return p;
  }
}

/** a non-null, non-array object (lib/rules/objects.ts) */
export const isObj = isRecord;

export function normLastError(e: unknown): LastError | undefined {
  if (!isObj(e)) return undefined;
  const le: LastError = {
    code: typeof e.code === 'string' ? e.code : 'ERROR',
    message: typeof e.message === 'string' ? e.message.slice(0, MAX_ERROR_MESSAGE) : '',
  };
  if (typeof e.statusCode === 'number') le.statusCode = e.statusCode;
  return le;
}
