/**
 * The durable outbox: deliveries waiting to be made (or retried), kept in a
 * journal on disk so that they survive a restart, a crash or a power cut.
 *
 * In memory there is only an INDEX of pending items (id, ordering key,
 * attempts, next attempt time, creation time, size, last error, and where the
 * item's data lives on disk). The data itself — the request body, a message
 * snapshot, any JSON — stays in the journal and is read back with `load(id)`,
 * so a backlog of 100,000 items costs little memory.
 *
 * Journal records (see journal.ts for the framing):
 *   PUT   (1) {id, s: seq, k?: orderingKey, c: createdAt, a: attempts, n: nextAttemptAt, e?: lastError, b: bytes, d: data}
 *   STATE (2) {id, s, a, n, e?}         after an attempt
 *   DONE  (3) {id, s}                   delivered
 *   DEAD  (4) {id, s}                   moved to the dead-letter store
 * `s` (a sequence number given at enqueue) names the incarnation of an id: a
 * STATE/DONE/DEAD applies only to the pending item with that id AND that `s`.
 * A PUT for an id that is already pending with the same `s` is a copy made by
 * compaction and supersedes the older PUT (it carries the whole current
 * state). Replay applies the records in order; that is all it takes.
 */
import * as path from 'path';
import { IntegrationError, toErrorInfo } from '../errors';
import { Journal, JournalRecord, Maintenance, RecordPos, SegmentLedger, WarnFn } from './journal';
import { AttemptRecord, DeadLetterEntry, DeadLetterStore } from './dead-letter';
import type { RecordCipher } from './cipher';

const T_PUT = 1;
const T_STATE = 2;
const T_DONE = 3;
const T_DEAD = 4;

export const DEFAULT_MAX_ITEMS = 100000;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
const MAX_ID_LENGTH = 1024;
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

export interface EnqueueInput {
  /** the idempotency key: an item with this id already pending makes this a duplicate */
  id: string;
  /** items with the same key are delivered one at a time, in enqueue order */
  orderingKey?: string;
  /** any JSON value (undefined is stored as null) */
  data: unknown;
  /** the enqueue time (default: the outbox's clock); also the first nextAttemptAt unless that is given */
  now?: number;
  /** when the first attempt is due (default `now`) */
  nextAttemptAt?: number;
}

export type FullReason = 'maxItems' | 'maxBytes' | 'itemTooLarge';

export type EnqueueResult =
  | { status: 'accepted'; id: string; item: PendingItem; /** ids moved to the dead-letter store to make room */ evicted: string[] }
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
  /** encrypts the journal at rest (cipher.ts); also given to the dead-letter store the outbox opens itself */
  cipher?: RecordCipher;
}

class Item {
  stateSeg = 0; // segment of the latest STATE record, 0 when the PUT is the latest
  closing = false; // a DONE/DEAD is being written
  hv = 0; // version of the item's current entry in the due-time heap
  constructor(
    public id: string,
    public key: string | undefined,
    public seq: number,
    public createdAt: number,
    public attempts: number,
    public nextAttemptAt: number,
    public lastError: LastError | undefined,
    public bytes: number,
    public putSeg: number,
    public putOff: number,
    public putLen: number,
  ) {}
}

function snapshot(it: Item): PendingItem {
  const p: PendingItem = {
    id: it.id,
    attempts: it.attempts,
    nextAttemptAt: it.nextAttemptAt,
    createdAt: it.createdAt,
    bytes: it.bytes,
  };
  if (it.key !== undefined) p.orderingKey = it.key;
  if (it.lastError !== undefined) p.lastError = { ...it.lastError };
  return p;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normLastError(e: unknown): LastError | undefined {
  if (!isObj(e)) return undefined;
  const le: LastError = {
    code: typeof e.code === 'string' ? e.code : 'ERROR',
    message: typeof e.message === 'string' ? e.message.slice(0, MAX_ERROR_MESSAGE) : '',
  };
  if (typeof e.statusCode === 'number') le.statusCode = e.statusCode;
  return le;
}

function finite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new IntegrationError('OUTBOX_BAD_ARGUMENT', `${name} must be a finite number`, [{ field: name, reason: 'not a finite number', value: v }]);
  }
  return v;
}

function toSet(v: Iterable<string> | undefined): ReadonlySet<string> | undefined {
  if (v === undefined || v === null) return undefined;
  return v instanceof Set ? (v as ReadonlySet<string>) : new Set(v);
}

interface HeapEntry {
  t: number;
  seq: number;
  hv: number;
  it: Item;
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

function siftDown(h: HeapEntry[], i: number): void {
  const n = h.length;
  const e = h[i];
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && less(h[r], h[l]) ? r : l;
    if (!less(h[c], e)) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = e;
}

function heapPush(h: HeapEntry[], e: HeapEntry): void {
  let i = h.length;
  h.push(e);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!less(e, h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

function heapPop(h: HeapEntry[]): HeapEntry | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length > 0 && last !== undefined) {
    h[0] = last;
    siftDown(h, 0);
  }
  return top;
}

function heapify(h: HeapEntry[]): void {
  for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i);
}

function closedError(): Error {
  return new IntegrationError('OUTBOX_CLOSED', 'the outbox is closed');
}

export class Outbox {
  readonly dir: string;
  /** the dead-letter store in use */
  deadLetter!: DeadLetterStore;
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly fullPolicy: 'refuse' | 'dead-letter-oldest';
  private journal!: Journal;
  private readonly ledger: SegmentLedger;
  private maintenance!: Maintenance;
  private ownsDeadLetter = false;
  private readonly warn: WarnFn;
  private readonly clock: () => number;
  /** pending items in enqueue (seq) order */
  private readonly items = new Map<string, Item>();
  /** ordering key → its pending items in seq order (the head is the only one eligible) */
  private keyQueues = new Map<string, Item[]>();
  /**
   * Min-heap by (nextAttemptAt, seq) of the items that can be due: heads of
   * their ordering key and items without a key. Entries go stale (an attempt
   * moved the time, the item left) and are dropped when met.
   */
  private heap: HeapEntry[] = [];
  /** ids being enqueued (written, not yet synced) → their bytes */
  private readonly reserved = new Map<string, number>();
  private seq = 0;
  private totalBytes = 0;
  /** items not closing + reserved: what the limits count */
  private liveCount = 0;
  private liveBytes = 0;
  private delivered = 0;
  private retried = 0;
  private deadLettered = 0;
  private refused = 0;
  private closed = false;
  private inflight = 0;
  private inflightWaiters: Array<() => void> = [];

  private constructor(dir: string, options: OutboxOptions) {
    this.dir = path.resolve(dir);
    this.maxItems = options.maxItems && options.maxItems > 0 ? Math.floor(options.maxItems) : DEFAULT_MAX_ITEMS;
    this.maxBytes = options.maxBytes && options.maxBytes > 0 ? Math.floor(options.maxBytes) : DEFAULT_MAX_BYTES;
    this.fullPolicy = options.fullPolicy === 'dead-letter-oldest' ? 'dead-letter-oldest' : 'refuse';
    this.warn = options.warn ?? (() => undefined);
    this.clock = options.now ?? Date.now;
    this.ledger = new SegmentLedger((s) => (this.journal ? this.journal.hasSegment(s) : true));
  }

  /**
   * Opens (creating if needed) the outbox in `dir`: replays the journal,
   * rebuilds the index of pending items, finishes any move to the dead-letter
   * store that a crash interrupted, and starts background compaction.
   */
  static async open(dir: string, options: OutboxOptions = {}): Promise<Outbox> {
    const ob = new Outbox(dir, options);
    if (options.fullPolicy !== undefined && options.fullPolicy !== 'refuse' && options.fullPolicy !== 'dead-letter-oldest') {
      throw new IntegrationError('OUTBOX_BAD_ARGUMENT', `fullPolicy must be 'refuse' or 'dead-letter-oldest'`);
    }
    ob.journal = await Journal.open(
      ob.dir,
      {
        segmentSize: options.segmentSize,
        maxBatchBytes: options.maxBatchBytes,
        maxBatchRecords: options.maxBatchRecords,
        warn: ob.warn,
        cipher: options.cipher,
      },
      (r) => ob.replay(r),
    );
    try {
      if (options.deadLetter) {
        ob.deadLetter = options.deadLetter;
      } else {
        ob.deadLetter = await DeadLetterStore.open(path.join(ob.dir, 'dead-letter'), {
          segmentSize: options.segmentSize,
          compactAfterSegments: options.compactAfterSegments,
          warn: ob.warn,
          now: ob.clock,
          cipher: options.cipher,
        });
        ob.ownsDeadLetter = true;
      }
      ob.maintenance = new Maintenance(ob.journal, ob.ledger, (seg) => ob.copyForward(seg), {
        compactAfterSegments: options.compactAfterSegments,
        warn: ob.warn,
      });
      ob.rebuildOrder();
      await ob.reconcileDeadLetters();
    } catch (err) {
      await ob.journal.close().catch(() => undefined);
      if (ob.ownsDeadLetter) await ob.deadLetter.close().catch(() => undefined);
      throw err;
    }
    ob.maintenance.schedule();
    return ob;
  }

  // ---------------------------------------------------------------- replay

  private replay(r: JournalRecord): void {
    const b = r.body;
    if (!isObj(b) || typeof b.id !== 'string' || typeof b.s !== 'number') throw new Error('record without id or sequence number');
    if (b.s > this.seq) this.seq = b.s;
    const existing = this.items.get(b.id);
    switch (r.type) {
      case T_PUT: {
        if (typeof b.c !== 'number' || typeof b.a !== 'number' || typeof b.n !== 'number' || typeof b.b !== 'number' || !('d' in b)) {
          throw new Error('malformed PUT record');
        }
        const key = typeof b.k === 'string' ? b.k : undefined;
        if (existing) {
          // a copy made by compaction (same seq), or — should an older
          // incarnation never have been closed — a newer one: either way it
          // replaces what was there.
          this.unpinItem(existing);
          this.ledger.cancel(existing.putSeg, r.seg);
          this.totalBytes -= existing.bytes;
          existing.key = key;
          existing.seq = b.s;
          existing.createdAt = b.c;
          existing.attempts = b.a;
          existing.nextAttemptAt = b.n;
          existing.lastError = normLastError(b.e);
          existing.bytes = b.b;
          existing.putSeg = r.seg;
          existing.putOff = r.offset;
          existing.putLen = r.length;
          existing.stateSeg = 0;
          this.ledger.pin(r.seg, r.length);
          this.totalBytes += existing.bytes;
        } else {
          const it = new Item(b.id, key, b.s, b.c, b.a, b.n, normLastError(b.e), b.b, r.seg, r.offset, r.length);
          this.items.set(it.id, it);
          this.ledger.pin(r.seg, r.length);
          this.totalBytes += it.bytes;
        }
        return;
      }
      case T_STATE:
        if (!existing || existing.seq !== b.s) return; // about an item no longer here
        if (typeof b.a !== 'number' || typeof b.n !== 'number') throw new Error('malformed STATE record');
        existing.attempts = b.a;
        existing.nextAttemptAt = b.n;
        existing.lastError = normLastError(b.e);
        if (existing.stateSeg) this.ledger.unpin(existing.stateSeg);
        existing.stateSeg = r.seg;
        this.ledger.pin(r.seg);
        return;
      case T_DONE:
      case T_DEAD:
        if (!existing || existing.seq !== b.s) return;
        this.unpinItem(existing);
        this.ledger.cancel(existing.putSeg, r.seg);
        this.items.delete(existing.id);
        this.totalBytes -= existing.bytes;
        return;
      default:
        throw new Error(`unknown record type ${r.type}`);
    }
  }

  /** After replay: items in seq order, key queues, counters. */
  private rebuildOrder(): void {
    let last = -Infinity;
    let sorted = true;
    for (const it of this.items.values()) {
      if (it.seq < last) {
        sorted = false;
        break;
      }
      last = it.seq;
    }
    if (!sorted) {
      const all = [...this.items.values()].sort((a, b) => a.seq - b.seq);
      this.items.clear();
      for (const it of all) this.items.set(it.id, it);
    }
    this.keyQueues = new Map();
    for (const it of this.items.values()) if (it.key !== undefined) this.keyPush(it);
    this.rebuildHeap();
    this.liveCount = this.items.size;
    this.liveBytes = this.totalBytes;
  }

  /** An item both pending here and in the dead-letter store under the same seq: the DEAD record was lost in a crash. */
  private async reconcileDeadLetters(): Promise<void> {
    const finish: Item[] = [];
    for (const it of this.items.values()) {
      const d = this.deadLetter.peek(it.id);
      if (d && d.enqueueSeq === it.seq && d.createdAt === it.createdAt) finish.push(it);
    }
    if (finish.length === 0) return;
    this.warn(`outbox: finishing ${finish.length} move(s) to the dead-letter store interrupted by a crash`, { ids: finish.map((i) => i.id) });
    await Promise.all(
      finish.map(async (it) => {
        this.setClosing(it, true);
        try {
          const pos = await this.journal.append(T_DEAD, { id: it.id, s: it.seq });
          this.removeItem(it, pos);
        } catch (err) {
          this.setClosing(it, false);
          this.warn(`outbox: could not finish the move of ${it.id}: ${(err as Error).message}`, { id: it.id });
        }
      }),
    );
  }

  // ---------------------------------------------------------------- helpers

  private keyPush(it: Item): void {
    const k = it.key as string;
    const q = this.keyQueues.get(k);
    if (q) q.push(it);
    else this.keyQueues.set(k, [it]);
  }

  private keyRemove(it: Item): void {
    if (it.key === undefined) return;
    const q = this.keyQueues.get(it.key);
    if (!q) return;
    if (q[0] === it) {
      q.shift();
      if (q.length > 0) this.heapPush(q[0]); // the next one of this key may be due now
    } else {
      const i = q.indexOf(it);
      if (i >= 0) q.splice(i, 1);
    }
    if (q.length === 0) this.keyQueues.delete(it.key);
  }

  private unpinItem(it: Item): void {
    this.ledger.unpin(it.putSeg, it.putLen);
    if (it.stateSeg) this.ledger.unpin(it.stateSeg);
  }

  private setClosing(it: Item, closing: boolean): void {
    if (it.closing === closing) return;
    it.closing = closing;
    const d = closing ? -1 : 1;
    this.liveCount += d;
    this.liveBytes += d * it.bytes;
  }

  /** The item is gone for good; `pos` is the DONE/DEAD record that says so. Synchronous. */
  private removeItem(it: Item, pos: RecordPos): void {
    if (this.items.get(it.id) !== it) return;
    this.items.delete(it.id);
    this.keyRemove(it);
    this.unpinItem(it);
    this.ledger.cancel(it.putSeg, pos.seg);
    this.totalBytes -= it.bytes;
    if (!it.closing) {
      this.liveCount--;
      this.liveBytes -= it.bytes;
    }
    this.maintenance.schedule();
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await fn();
    } finally {
      this.inflight--;
      if (this.inflight === 0) {
        const w = this.inflightWaiters;
        this.inflightWaiters = [];
        for (const f of w) f();
      }
    }
  }

  private buildPut(it: Item, dataJson: string): string {
    let s = '{"id":' + JSON.stringify(it.id) + ',"s":' + it.seq;
    if (it.key !== undefined) s += ',"k":' + JSON.stringify(it.key);
    s += ',"c":' + JSON.stringify(it.createdAt) + ',"a":' + it.attempts + ',"n":' + JSON.stringify(it.nextAttemptAt);
    if (it.lastError) s += ',"e":' + JSON.stringify(it.lastError);
    return s + ',"b":' + it.bytes + ',"d":' + dataJson + '}';
  }

  // ---------------------------------------------------------------- API

  /**
   * Adds an item. Resolves once it is on disk (after the fsync that covers
   * it) with status 'accepted'; 'duplicate' when an item with this id is
   * already pending (nothing written); 'full' with a reason when the limits
   * say no (policy 'refuse', or an item bigger than `maxBytes`). With policy
   * 'dead-letter-oldest' the oldest pending items are first moved to the
   * dead-letter store (error code OUTBOX_FULL) to make room.
   */
  enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.track(() => this.doEnqueue(input));
  }

  private async doEnqueue(input: EnqueueInput): Promise<EnqueueResult> {
    if (!isObj(input)) throw new IntegrationError('OUTBOX_BAD_ARGUMENT', 'enqueue needs {id, data}');
    const id = input.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) {
      throw new IntegrationError('OUTBOX_BAD_ARGUMENT', `id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`, [
        { field: 'id', reason: 'not a non-empty string', value: typeof id === 'string' ? id.slice(0, 64) : typeof id },
      ]);
    }
    const key = input.orderingKey;
    if (key !== undefined && key !== null && typeof key !== 'string') {
      throw new IntegrationError('OUTBOX_BAD_ARGUMENT', 'orderingKey must be a string', [{ field: 'orderingKey', reason: 'not a string' }]);
    }
    const now = input.now === undefined ? this.clock() : finite(input.now, 'now');
    const next = input.nextAttemptAt === undefined ? now : finite(input.nextAttemptAt, 'nextAttemptAt');
    const pending = this.items.get(id);
    if (pending || this.reserved.has(id)) {
      return pending ? { status: 'duplicate', id, item: snapshot(pending) } : { status: 'duplicate', id };
    }
    const dataJson = JSON.stringify(input.data === undefined ? null : input.data);
    if (dataJson === undefined) throw new IntegrationError('OUTBOX_BAD_ARGUMENT', 'data is not JSON-serialisable');
    const bytes = Buffer.byteLength(dataJson, 'utf8');

    if (bytes > this.maxBytes) {
      this.refused++;
      return { status: 'full', id, reason: 'itemTooLarge', message: `the item (${bytes} bytes) is larger than maxBytes (${this.maxBytes})` };
    }
    const victims: Item[] = [];
    if (this.liveCount + 1 > this.maxItems || this.liveBytes + bytes > this.maxBytes) {
      const reason: FullReason = this.liveCount + 1 > this.maxItems ? 'maxItems' : 'maxBytes';
      const message =
        reason === 'maxItems'
          ? `the outbox holds its maximum of ${this.maxItems} items`
          : `the outbox holds ${this.liveBytes} bytes; this item (${bytes}) would pass maxBytes (${this.maxBytes})`;
      if (this.fullPolicy === 'refuse') {
        this.refused++;
        return { status: 'full', id, reason, message };
      }
      let count = this.liveCount;
      let size = this.liveBytes;
      for (const it of this.items.values()) {
        if (count + 1 <= this.maxItems && size + bytes <= this.maxBytes) break;
        if (it.closing) continue;
        victims.push(it);
        count--;
        size -= it.bytes;
      }
      if (count + 1 > this.maxItems || size + bytes > this.maxBytes) {
        // the room is taken by items still being written: nothing to evict yet
        this.refused++;
        return { status: 'full', id, reason, message };
      }
      for (const v of victims) this.setClosing(v, true);
    }

    this.reserved.set(id, bytes);
    this.liveCount++;
    this.liveBytes += bytes;
    const unreserve = () => {
      this.reserved.delete(id);
      this.liveCount--;
      this.liveBytes -= bytes;
    };

    if (victims.length > 0) {
      const results = await Promise.allSettled(
        victims.map((v) =>
          this.moveToDeadLetter(v, { code: 'OUTBOX_FULL', message: 'pushed out of a full outbox by a newer item', details: [{ reason: `the outbox was full (${this.maxItems} items / ${this.maxBytes} bytes)` }] }),
        ),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        results.forEach((r, i) => {
          if (r.status === 'rejected') this.setClosing(victims[i], false);
        });
        unreserve();
        throw failed.reason;
      }
      this.deadLettered += victims.length;
    }

    const it = new Item(id, typeof key === 'string' ? key : undefined, ++this.seq, now, 0, next, undefined, bytes, 0, 0, 0);
    let pos: RecordPos;
    try {
      pos = await this.journal.appendJson(T_PUT, this.buildPut(it, dataJson));
    } catch (err) {
      unreserve();
      throw err;
    }
    // synchronous from here: the ledger learns of the record before any maintenance pass
    this.reserved.delete(id);
    it.putSeg = pos.seg;
    it.putOff = pos.offset;
    it.putLen = pos.length;
    this.items.set(id, it);
    if (it.key !== undefined) this.keyPush(it);
    if (this.isHead(it)) this.heapPush(it);
    this.ledger.pin(pos.seg, pos.length);
    this.totalBytes += bytes;
    return { status: 'accepted', id, item: snapshot(it), evicted: victims.map((v) => v.id) };
  }

  /** True when an item with this id is pending. */
  has(id: string): boolean {
    return this.items.has(id);
  }

  /** The index entry of a pending item (a copy), without its data. */
  get(id: string): PendingItem | undefined {
    const it = this.items.get(id);
    return it ? snapshot(it) : undefined;
  }

  /** Number of pending items. */
  get size(): number {
    return this.items.size;
  }

  /** Pending items (index entries, no data), oldest first: `limit` (default all) from `offset` (default 0). */
  list(options: { limit?: number; offset?: number } = {}): PendingItem[] {
    const limit = typeof options.limit === 'number' && options.limit >= 0 ? options.limit : Infinity;
    const offset = typeof options.offset === 'number' && options.offset > 0 ? Math.floor(options.offset) : 0;
    const out: PendingItem[] = [];
    let i = 0;
    for (const it of this.items.values()) {
      if (out.length >= limit) break;
      if (i++ < offset) continue;
      out.push(snapshot(it));
    }
    return out;
  }

  /** Reads a pending item's data back from disk (undefined when no such item is pending). */
  async load(id: string): Promise<unknown> {
    this.assertOpen();
    const it = this.items.get(id);
    if (!it) return undefined;
    return this.loadItem(it);
  }

  private async loadItem(it: Item): Promise<unknown> {
    for (let tries = 0; tries < 4; tries++) {
      const pos = { seg: it.putSeg, offset: it.putOff, length: it.putLen };
      try {
        const r = await this.journal.read(pos);
        if (r.type !== T_PUT || !isObj(r.body) || r.body.id !== it.id) throw new Error('record does not match the index');
        return r.body.d;
      } catch (err) {
        if (it.putSeg !== pos.seg || it.putOff !== pos.offset) continue; // moved by compaction meanwhile
        throw new IntegrationError('OUTBOX_UNREADABLE', `the data of ${it.id} cannot be read back: ${(err as Error).message}`, [
          { field: 'id', reason: 'unreadable on disk', value: it.id },
        ]);
      }
    }
    throw new IntegrationError('OUTBOX_UNREADABLE', `the data of ${it.id} kept moving`);
  }

  /** the head of its ordering key, or without a key: the only items that can be due */
  private isHead(it: Item): boolean {
    if (it.key === undefined) return true;
    const q = this.keyQueues.get(it.key);
    return q !== undefined && q[0] === it;
  }

  private heapPush(it: Item): void {
    it.hv++;
    heapPush(this.heap, { t: it.nextAttemptAt, seq: it.seq, hv: it.hv, it });
    if (this.heap.length > 2 * this.items.size + 1024) this.rebuildHeap();
  }

  private rebuildHeap(): void {
    const h: HeapEntry[] = [];
    for (const it of this.items.values()) {
      if (!this.isHead(it)) continue;
      it.hv++;
      h.push({ t: it.nextAttemptAt, seq: it.seq, hv: it.hv, it });
    }
    heapify(h);
    this.heap = h;
  }

  private current(e: HeapEntry): boolean {
    return e.hv === e.it.hv && this.items.get(e.it.id) === e.it;
  }

  private skip(it: Item, busyKeys: ReadonlySet<string> | undefined, busyIds: ReadonlySet<string> | undefined): boolean {
    return it.closing || (busyIds !== undefined && busyIds.has(it.id)) || (it.key !== undefined && busyKeys !== undefined && busyKeys.has(it.key));
  }

  /**
   * Up to `limit` pending items whose nextAttemptAt ≤ now, oldest first. Only
   * the head (earliest pending item) of each ordering key is eligible; items
   * without a key are independent. Items whose key is in `busyKeys`, items in
   * `busyIds` (e.g. attempts in flight), and items being completed are skipped.
   * Cost: O(d log n) for d due items, or a scan in enqueue order that stops
   * after `limit` finds when many are due.
   */
  due(now: number = this.clock(), limit = Infinity, busyKeys?: Iterable<string>, busyIds?: ReadonlySet<string>): PendingItem[] {
    const bk = toSet(busyKeys);
    if (!(limit > 0)) return [];
    if (Number.isFinite(limit)) {
      // first a short scan in enqueue order: when the oldest items are due (a
      // backlog being worked off) it finds them at once
      const found: Item[] = [];
      let budget = 64 + 4 * limit;
      let complete = true;
      for (const it of this.items.values()) {
        if (budget-- <= 0) {
          complete = false;
          break;
        }
        if (it.nextAttemptAt > now || !this.isHead(it) || this.skip(it, bk, busyIds)) continue;
        found.push(it);
        if (found.length >= limit) return found.map(snapshot);
      }
      if (complete) return found.map(snapshot); // looked at every item
    }
    const h = this.heap;
    const cap = Math.max(1024, Number.isFinite(limit) ? 4 * limit : 0);
    const popped: HeapEntry[] = [];
    let many = false;
    while (h.length > 0 && h[0].t <= now) {
      const e = heapPop(h) as HeapEntry;
      if (!this.current(e)) continue; // stale: dropped for good
      popped.push(e);
      if (popped.length > cap) {
        many = true;
        break;
      }
    }
    let out: Item[];
    if (!many) {
      out = popped
        .filter((e) => !this.skip(e.it, bk, busyIds))
        .map((e) => e.it)
        .sort((a, b) => a.seq - b.seq);
      if (out.length > limit) out.length = limit;
    } else {
      // so many are due that a scan in enqueue order finds the oldest ones sooner
      out = [];
      for (const it of this.items.values()) {
        if (it.nextAttemptAt > now || !this.isHead(it) || this.skip(it, bk, busyIds)) continue;
        out.push(it);
        if (out.length >= limit) break;
      }
    }
    for (const e of popped) heapPush(h, e); // still pending and due: they stay in the heap
    return out.map(snapshot);
  }

  /**
   * The earliest nextAttemptAt among the items `due()` could return, given
   * the same busy keys / ids (undefined when none). Cheap: a look at the top
   * of the due-time heap.
   */
  nextDueAt(busyKeys?: Iterable<string>, busyIds?: ReadonlySet<string>): number | undefined {
    const bk = toSet(busyKeys);
    const h = this.heap;
    const aside: HeapEntry[] = [];
    let found: number | undefined;
    while (h.length > 0) {
      const top = h[0];
      if (!this.current(top)) {
        heapPop(h);
        continue;
      }
      if (this.skip(top.it, bk, busyIds)) {
        aside.push(heapPop(h) as HeapEntry);
        continue;
      }
      found = top.t;
      break;
    }
    for (const e of aside) heapPush(h, e);
    return found;
  }

  /**
   * Records a failed attempt: the new attempt count, when to try next and
   * why it failed. Journaled (shares the group commit); resolves after the
   * fsync with true, or false when no such item is pending (or it is being
   * completed). The index changes at once, so `due()` sees the new time.
   */
  recordAttempt(id: string, update: AttemptUpdate): Promise<boolean> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.track(async () => {
      const attempts = finite(update?.attempts, 'attempts');
      const next = finite(update?.nextAttemptAt, 'nextAttemptAt');
      const it = this.items.get(id);
      if (!it || it.closing) return false;
      it.attempts = attempts;
      it.nextAttemptAt = next;
      it.lastError = normLastError(update.lastError);
      if (this.isHead(it)) this.heapPush(it);
      const body: Record<string, unknown> = { id, s: it.seq, a: attempts, n: next };
      if (it.lastError) body.e = it.lastError;
      const pos = await this.journal.append(T_STATE, body);
      this.retried++;
      if (this.items.get(id) === it) {
        if (it.stateSeg) this.ledger.unpin(it.stateSeg);
        it.stateSeg = pos.seg;
        this.ledger.pin(pos.seg);
      }
      this.maintenance.schedule();
      return true;
    });
  }

  /** Delivered: removes the item durably. Resolves true after the fsync, false when no such item is pending. */
  complete(id: string): Promise<boolean> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.track(async () => {
      const it = this.items.get(id);
      if (!it || it.closing) return false;
      this.setClosing(it, true);
      let pos: RecordPos;
      try {
        pos = await this.journal.append(T_DONE, { id, s: it.seq });
      } catch (err) {
        this.setClosing(it, false);
        throw err;
      }
      this.removeItem(it, pos);
      this.delivered++;
      return true;
    });
  }

  /**
   * Gives up on an item: writes it (data included) to the dead-letter store,
   * durably, and only then removes it from the outbox. A crash in between
   * leaves it in both; the next `open()` finishes the move. `history` defaults
   * to one entry built from the item's last error.
   */
  toDeadLetter(id: string, error: { code: string; message: string; details?: unknown[] } | Error | unknown, history?: AttemptRecord[]): Promise<boolean> {
    try {
      this.assertOpen();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.track(async () => {
      const it = this.items.get(id);
      if (!it || it.closing) return false;
      this.setClosing(it, true);
      try {
        await this.moveToDeadLetter(it, error, history);
      } catch (err) {
        this.setClosing(it, false);
        throw err;
      }
      this.deadLettered++;
      return true;
    });
  }

  /** The item is already marked closing. Throws (leaving it pending) when a step fails. */
  private async moveToDeadLetter(it: Item, error: unknown, history?: AttemptRecord[]): Promise<void> {
    let data: unknown = null;
    const info = isObj(error) && typeof error.code === 'string' && !(error instanceof Error)
      ? { code: error.code, message: typeof error.message === 'string' ? error.message : '', details: Array.isArray(error.details) ? [...error.details] : [] }
      : toErrorInfo(error, 'ERROR');
    try {
      data = await this.loadItem(it);
    } catch (err) {
      info.details.push({ reason: `the data could not be read back: ${(err as Error).message}` });
    }
    const hist =
      history ?? (it.lastError ? [{ at: this.clock(), errorCode: it.lastError.code, ...(it.lastError.statusCode !== undefined ? { statusCode: it.lastError.statusCode } : {}) }] : []);
    await this.deadLetter.put({
      id: it.id,
      data,
      error: info,
      attempts: it.attempts,
      history: hist,
      orderingKey: it.key,
      createdAt: it.createdAt,
      enqueueSeq: it.seq,
    });
    const pos = await this.journal.append(T_DEAD, { id: it.id, s: it.seq });
    this.removeItem(it, pos);
  }

  /**
   * Sends dead letters again: takes them from the dead-letter store and
   * enqueues each as a fresh item (attempts 0, due now, same id, data and
   * ordering key); entries are removed from the store only after their
   * enqueue resolved. Entries refused because the outbox is full stay there.
   */
  async replayDeadLetters(ids: Iterable<string> | 'all', now?: number): Promise<{ requeued: string[]; duplicate: string[]; full: string[] }> {
    this.assertOpen();
    const result = { requeued: [] as string[], duplicate: [] as string[], full: [] as string[] };
    await this.deadLetter.take(ids, async (entries: DeadLetterEntry[]) => {
      const rs = await Promise.all(entries.map((e) => this.enqueue({ id: e.id, orderingKey: e.orderingKey, data: e.data, now })));
      const ok: string[] = [];
      rs.forEach((r) => {
        if (r.status === 'accepted') result.requeued.push(r.id);
        else if (r.status === 'duplicate') result.duplicate.push(r.id);
        else result.full.push(r.id);
        if (r.status !== 'full') ok.push(r.id);
      });
      return ok;
    });
    return result;
  }

  /** Depth, bytes and the age of the oldest item are exact; the counters run since open. */
  stats(now: number = this.clock()): OutboxStats {
    const first = this.items.values().next();
    return {
      depth: this.items.size,
      bytes: this.totalBytes,
      oldestAgeMs: first.done ? 0 : Math.max(0, now - first.value.createdAt),
      delivered: this.delivered,
      retried: this.retried,
      deadLettered: this.deadLettered,
      refused: this.refused,
      segments: this.journal.segmentNumbers().length,
      diskBytes: this.journal.diskBytes(),
      lostRecords: this.journal.losses.lostRecords,
      missingSegments: [...this.journal.losses.missingSegments],
      tornRecords: this.journal.losses.tornRecords,
    };
  }

  // ---------------------------------------------------------------- compaction

  private async copyForward(seg: number): Promise<void> {
    const victims: Item[] = [];
    for (const it of this.items.values()) if (it.putSeg === seg && !it.closing) victims.push(it);
    for (let i = 0; i < victims.length; i += 256) {
      await Promise.all(victims.slice(i, i + 256).map((it) => this.copyOne(it)));
    }
  }

  private async copyOne(it: Item): Promise<void> {
    let data: unknown;
    try {
      data = await this.loadItem(it);
    } catch (err) {
      this.warn(`outbox: cannot copy ${it.id} forward: ${(err as Error).message}`, { id: it.id });
      return;
    }
    if (this.items.get(it.id) !== it || it.closing) return;
    // built from the index as it is now, so it carries every attempt recorded so far
    const pos = await this.journal.appendJson(T_PUT, this.buildPut(it, JSON.stringify(data)));
    if (this.items.get(it.id) !== it) return;
    this.unpinItem(it);
    this.ledger.cancel(it.putSeg, pos.seg);
    it.putSeg = pos.seg;
    it.putOff = pos.offset;
    it.putLen = pos.length;
    it.stateSeg = 0;
    this.ledger.pin(pos.seg, pos.length);
  }

  /** Runs a compaction pass now (deleting segments nothing needs, copying the oldest forward when due) and waits for it. */
  compact(): Promise<void> {
    this.assertOpen();
    return this.maintenance.run();
  }

  /** Journal figures: segments, bytes on disk, and the compaction counters since open. */
  disk(): { segments: number; bytes: number; segmentsDeleted: number; copyForwards: number } {
    return {
      segments: this.journal.segmentNumbers().length,
      bytes: this.journal.diskBytes(),
      segmentsDeleted: this.maintenance.deleted,
      copyForwards: this.maintenance.copied,
    };
  }

  /** Waits for operations in progress, stops compaction, closes the journal (and the dead-letter store it opened itself). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inflight > 0) await new Promise<void>((resolve) => this.inflightWaiters.push(resolve));
    await this.maintenance.stop();
    await this.journal.close();
    if (this.ownsDeadLetter) await this.deadLetter.close();
  }

  /**
   * Drops the outbox as if the process had died: nothing more is written
   * (operations in progress reject), files are closed and the directory is
   * released, so that a new `Outbox.open()` on it sees what a crash would
   * leave. For tests.
   */
  async abandon(): Promise<void> {
    this.closed = true;
    void this.maintenance.stop();
    await this.journal.abandon();
    if (this.ownsDeadLetter) await this.deadLetter.abandon();
  }
}
