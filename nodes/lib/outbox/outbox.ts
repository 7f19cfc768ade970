/**
 * The durable outbox: deliveries waiting to be made (or retried), kept in a
 * journal on disk so that they survive a restart, a crash or a power cut.
 *
 * In memory there is only an INDEX of pending items (pending-index.ts: id,
 * ordering key, attempts, next attempt time, creation time, size, last error,
 * and where the item's data lives on disk). The data itself — the request
 * body, a message snapshot, any JSON — stays in the journal and is read back
 * with `load(id)`, so a backlog of 100,000 items costs little memory. The
 * data of the most recently enqueued items (a few MiB, body-cache.ts) is also
 * kept in memory until they leave, so that their first attempt does not read
 * back what was just written.
 *
 * The journal records are in records.ts; opening replays them (replay.ts);
 * compaction copies live items forward (compaction.ts). This file holds the
 * operations: enqueue (with the limits), attempts, completion, dead letters.
 */
import * as path from 'path';
import { Journal, Maintenance, RecordPos, SegmentLedger, WarnFn } from './journal';
import { AttemptRecord, DeadLetterStore } from './dead-letter';
import { Item, normLastError, type PendingItem } from './item';
import { PendingIndex } from './pending-index';
import { applyRecord, unpinItem } from './replay';
import { copyForward } from './compaction';
import { admit } from './admission';
import { BodyCache, DEFAULT_BODY_CACHE_BYTES } from './body-cache';
import {
  finishInterruptedMoves,
  moveToDeadLetter,
  pushOut,
  replayDeadLetters,
  type MoveHost,
} from './dead-letter-moves';
import { dataJson, enqueueInput, finite, fullPolicyOf } from './outbox-input';
import { Operations } from './operations';
import { T_DONE, T_PUT, T_STATE, putJson, readItemData, stateBody } from './records';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_ITEMS,
  type AttemptUpdate,
  type EnqueueInput,
  type EnqueueResult,
  type OutboxOptions,
  type OutboxStats,
} from './outbox-types';
import type { HasKey } from '../short-lived';

export * from './outbox-types';

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
  private readonly index = new PendingIndex();
  /** data of recently enqueued items (body-cache.ts) */
  private readonly bodies: BodyCache;
  /** item data read back from the journal since open */
  private diskReads = 0;
  /** ids being enqueued (written, not yet synced) → their bytes */
  private readonly reserved = new Map<string, number>();
  /** ids being completed (DONE written, not yet synced) → settles when that is over */
  private readonly completing = new Map<string, Promise<void>>();
  private seq = 0;
  /** items not closing + reserved: what the limits count */
  private liveCount = 0;
  private liveBytes = 0;
  private delivered = 0;
  private retried = 0;
  private deadLettered = 0;
  private refused = 0;
  /** operations run unless the outbox is closed; close() waits for the ones in progress */
  private readonly ops = new Operations();

  private constructor(dir: string, options: OutboxOptions) {
    this.dir = path.resolve(dir);
    this.maxItems = options.maxItems && options.maxItems > 0 ? Math.floor(options.maxItems) : DEFAULT_MAX_ITEMS;
    this.maxBytes = options.maxBytes && options.maxBytes > 0 ? Math.floor(options.maxBytes) : DEFAULT_MAX_BYTES;
    this.fullPolicy = fullPolicyOf(options.fullPolicy);
    this.warn = options.warn ?? (() => undefined);
    this.clock = options.now ?? Date.now;
    this.bodies = new BodyCache(
      options.bodyCacheBytes === undefined ? DEFAULT_BODY_CACHE_BYTES : Number(options.bodyCacheBytes),
    );
    this.ledger = new SegmentLedger((s) => (this.journal ? this.journal.hasSegment(s) : true));
  }

  /**
   * Opens (creating if needed) the outbox in `dir`: replays the journal,
   * rebuilds the index of pending items, finishes any move to the dead-letter
   * store that a crash interrupted, and starts background compaction.
   */
  static async open(dir: string, options: OutboxOptions = {}): Promise<Outbox> {
    const ob = new Outbox(dir, options);
    ob.journal = await Journal.open(
      ob.dir,
      {
        segmentSize: options.segmentSize,
        maxBatchBytes: options.maxBatchBytes,
        maxBatchRecords: options.maxBatchRecords,
        warn: ob.warn,
        cipher: options.cipher,
      },
      (r) => {
        const s = applyRecord(ob.index, ob.ledger, r);
        if (s > ob.seq) ob.seq = s;
      },
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
      ob.maintenance = new Maintenance(ob.journal, ob.ledger, (seg) => copyForward(ob.compactionHost(), seg), {
        compactAfterSegments: options.compactAfterSegments,
        warn: ob.warn,
      });
      ob.index.rebuildOrder();
      ob.liveCount = ob.index.size;
      ob.liveBytes = ob.index.totalBytes;
      await finishInterruptedMoves(ob.moveHost());
    } catch (err) {
      await ob.journal.close().catch(() => undefined);
      if (ob.ownsDeadLetter) await ob.deadLetter.close().catch(() => undefined);
      throw err;
    }
    ob.maintenance.schedule();
    return ob;
  }

  // ---------------------------------------------------------------- helpers

  private setClosing(it: Item, closing: boolean): void {
    if (it.closing === closing) return;
    it.closing = closing;
    const d = closing ? -1 : 1;
    this.liveCount += d;
    this.liveBytes += d * it.bytes;
  }

  /** The item is gone for good; `pos` is the DONE/DEAD record that says so. Synchronous. */
  private removeItem(it: Item, pos: RecordPos): void {
    if (this.index.get(it.id) !== it) return;
    this.index.remove(it);
    this.bodies.delete(it.id);
    unpinItem(this.ledger, it);
    this.ledger.cancel(it.putSeg, pos.seg);
    if (!it.closing) {
      this.liveCount--;
      this.liveBytes -= it.bytes;
    }
    this.maintenance.schedule();
  }

  private moveHost(): MoveHost {
    return {
      index: this.index,
      journal: this.journal,
      deadLetter: this.deadLetter,
      clock: this.clock,
      warn: this.warn,
      loadItem: (it) => this.loadItem(it),
      setClosing: (it, closing) => this.setClosing(it, closing),
      removeItem: (it, pos) => this.removeItem(it, pos),
      enqueue: (input) => this.enqueue(input),
    };
  }

  private compactionHost() {
    return {
      index: this.index,
      journal: this.journal,
      ledger: this.ledger,
      loadItem: (it: Item) => this.loadItem(it),
      warn: this.warn,
    };
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
    return this.ops.run(() => this.doEnqueue(input));
  }

  private async doEnqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const { id, key, now, next } = enqueueInput(input, this.clock);
    // the same id again while its delivery is being completed: a new item once the old one is gone
    for (let c = this.completing.get(id); c; c = this.completing.get(id)) await c;
    const pending = this.index.get(id);
    if (pending || this.reserved.has(id)) {
      return pending ? { status: 'duplicate', id, item: pending.view() } : { status: 'duplicate', id };
    }
    const { json, bytes } = dataJson(input.data);

    const admission = admit(this, { count: this.liveCount, bytes: this.liveBytes }, bytes, this.index.items.values());
    if (!admission.ok) {
      this.refused++;
      return { status: 'full', id, reason: admission.reason, message: admission.message };
    }
    const victims = admission.victims;
    for (const v of victims) this.setClosing(v, true);

    this.reserved.set(id, bytes);
    this.liveCount++;
    this.liveBytes += bytes;
    const unreserve = () => {
      this.reserved.delete(id);
      this.liveCount--;
      this.liveBytes -= bytes;
    };

    if (victims.length > 0) {
      try {
        await pushOut(
          this.moveHost(),
          victims,
          `the outbox was full (${this.maxItems} items / ${this.maxBytes} bytes)`,
        );
      } catch (err) {
        unreserve();
        throw err;
      }
      this.deadLettered += victims.length;
    }

    const it = new Item({
      id,
      key,
      seq: ++this.seq,
      createdAt: now,
      attempts: 0,
      nextAttemptAt: next,
      bytes,
    });
    let pos: RecordPos;
    try {
      pos = await this.journal.appendJson(T_PUT, putJson(it, json));
    } catch (err) {
      unreserve();
      throw err;
    }
    // synchronous from here: the ledger learns of the record before any maintenance pass
    this.reserved.delete(id);
    it.setPut(pos);
    this.index.add(it);
    this.ledger.pin(pos.seg, pos.length);
    this.bodies.put(id, it.seq, json, bytes, input.owned === true ? { value: input.data ?? null } : undefined);
    return { status: 'accepted', id, item: it.view(), evicted: victims.map((v) => v.id) };
  }

  /**
   * True when `more` items could be added now without being refused (policy
   * 'refuse'; 'dead-letter-oldest' always makes room). Bytes are not known yet.
   */
  hasRoom(more = 1): boolean {
    return this.fullPolicy !== 'refuse' || (this.liveCount + more <= this.maxItems && this.liveBytes < this.maxBytes);
  }

  /** True when an item with this id is pending. */
  has(id: string): boolean {
    return this.index.get(id) !== undefined;
  }

  /** The index entry of a pending item (a copy), without its data. */
  get(id: string): PendingItem | undefined {
    return this.index.get(id)?.view();
  }

  /** Number of pending items. */
  get size(): number {
    return this.index.size - this.completing.size;
  }

  /** Pending items (index entries, no data), oldest first: `limit` (default all) from `offset` (default 0). */
  list(options: { limit?: number; offset?: number } = {}): PendingItem[] {
    return this.index.list(options);
  }

  /** Reads a pending item's data back from disk (undefined when no such item is pending). */
  async load(id: string): Promise<unknown> {
    this.ops.assertOpen();
    const it = this.index.get(id);
    if (!it) return undefined;
    return this.loadItem(it);
  }

  private async loadItem(it: Item): Promise<unknown> {
    const kept = this.bodies.get(it.id, it.seq);
    if (kept) return kept.value;
    return readItemData(this.journal, it, () => this.diskReads++);
  }

  /**
   * Up to `limit` pending items whose nextAttemptAt ≤ now, oldest first (see
   * PendingIndex.due): only the head of each ordering key, none in `busyKeys`
   * or `busyIds`, none being completed.
   */
  due(now: number = this.clock(), limit = Infinity, busyKeys?: Iterable<string>, busyIds?: HasKey): PendingItem[] {
    return this.index.due(now, limit, busyKeys, busyIds);
  }

  /** The earliest nextAttemptAt among the items `due()` could return (undefined when none). */
  nextDueAt(busyKeys?: Iterable<string>, busyIds?: HasKey): number | undefined {
    return this.index.nextDueAt(busyKeys, busyIds);
  }

  /**
   * Records a failed attempt: the new attempt count, when to try next and
   * why it failed. Journaled (shares the group commit); resolves after the
   * fsync with true, or false when no such item is pending (or it is being
   * completed). The index changes at once, so `due()` sees the new time.
   */
  recordAttempt(id: string, update: AttemptUpdate): Promise<boolean> {
    return this.ops.run(async () => {
      const attempts = finite(update?.attempts, 'attempts');
      const next = finite(update?.nextAttemptAt, 'nextAttemptAt');
      const it = this.index.get(id);
      if (!it || it.closing) return false;
      it.attempts = attempts;
      it.nextAttemptAt = next;
      it.lastError = normLastError(update.lastError);
      this.index.touched(it);
      const pos = await this.journal.append(T_STATE, stateBody(it));
      this.retried++;
      if (this.index.get(id) === it) {
        if (it.stateSeg) this.ledger.unpin(it.stateSeg);
        it.stateSeg = pos.seg;
        this.ledger.pin(pos.seg);
      }
      this.maintenance.schedule();
      return true;
    });
  }

  /**
   * Delivered: removes the item durably. Resolves true after the fsync, false
   * when no such item is pending. From the call on (synchronously) the item
   * no longer counts in `size` or the limits, and an enqueue of the same id
   * waits until the completion is over, so that a caller need not wait for
   * the fsync before it goes on: if the process dies first, the item is
   * delivered again, under the same idempotency key.
   */
  complete(id: string): Promise<boolean> {
    return this.ops.run(async () => {
      const it = this.index.get(id);
      if (!it || it.closing) return false;
      this.setClosing(it, true);
      let over!: () => void;
      this.completing.set(id, new Promise<void>((resolve) => (over = resolve)));
      try {
        const pos = await this.journal.append(T_DONE, { id, s: it.seq });
        this.removeItem(it, pos);
        this.delivered++;
        return true;
      } catch (err) {
        this.setClosing(it, false);
        throw err;
      } finally {
        this.completing.delete(id);
        over();
      }
    });
  }

  /**
   * Gives up on an item: writes it (data included) to the dead-letter store,
   * durably, and only then removes it from the outbox. A crash in between
   * leaves it in both; the next `open()` finishes the move. `history` defaults
   * to one entry built from the item's last error.
   */
  toDeadLetter(
    id: string,
    error: { code: string; message: string; details?: unknown[] } | Error | unknown,
    history?: AttemptRecord[],
  ): Promise<boolean> {
    return this.ops.run(async () => {
      const it = this.index.get(id);
      if (!it || it.closing) return false;
      this.setClosing(it, true);
      try {
        await moveToDeadLetter(this.moveHost(), it, error, history);
      } catch (err) {
        this.setClosing(it, false);
        throw err;
      }
      this.deadLettered++;
      return true;
    });
  }

  /** Sends dead letters again (dead-letter-moves.ts): same id, data and ordering key, fresh attempts. */
  async replayDeadLetters(
    ids: Iterable<string> | 'all',
    now?: number,
  ): Promise<{ requeued: string[]; duplicate: string[]; full: string[] }> {
    this.ops.assertOpen();
    return replayDeadLetters(this.moveHost(), ids, now);
  }

  /** Depth, bytes and the age of the oldest item are exact; the counters run since open. */
  stats(now: number = this.clock()): OutboxStats {
    const first = this.index.first();
    return {
      depth: this.size,
      bytes: this.index.totalBytes,
      oldestAgeMs: first === undefined ? 0 : Math.max(0, now - first.createdAt),
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

  /** Runs a compaction pass now (deleting segments nothing needs, copying the oldest forward when due) and waits for it. */
  compact(): Promise<void> {
    this.ops.assertOpen();
    return this.maintenance.run();
  }

  /**
   * Journal figures: segments, bytes on disk, the compaction counters since
   * open, and how item data was read since open (`reads` from disk,
   * `cacheHits` from memory) with what the cache of recent items holds now.
   */
  disk(): {
    segments: number;
    bytes: number;
    segmentsDeleted: number;
    copyForwards: number;
    reads: number;
    cacheHits: number;
    cached: { entries: number; bytes: number };
  } {
    return {
      segments: this.journal.segmentNumbers().length,
      bytes: this.journal.diskBytes(),
      segmentsDeleted: this.maintenance.deleted,
      copyForwards: this.maintenance.copied,
      reads: this.diskReads,
      cacheHits: this.bodies.hits,
      cached: this.bodies.size,
    };
  }

  /** Waits for operations in progress, stops compaction, closes the journal (and the dead-letter store it opened itself). */
  async close(): Promise<void> {
    if (!(await this.ops.close())) return;
    await this.maintenance.stop();
    this.bodies.clear();
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
    this.ops.abandon();
    void this.maintenance.stop();
    this.bodies.clear();
    await this.journal.abandon();
    if (this.ownsDeadLetter) await this.deadLetter.abandon();
  }
}
