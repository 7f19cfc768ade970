/**
 * Background compaction of a journal: deletes segments that hold nothing
 * replay needs (ledger.ts) and copies the live records of the oldest segment
 * forward so that it can go too.
 */
import type { Journal, WarnFn } from './journal';
import type { SegmentLedger } from './ledger';
import { positive } from './fsutil';

export interface MaintenanceOptions {
  /** copy the oldest segment forward while there are more segments than this (default 4) */
  compactAfterSegments?: number;
  /**
   * start a fresh active segment when the active one holds nothing needed and is at least this big
   * (default 1 MiB: a rotation opens, syncs and deletes files, so under a steady load it should be rare)
   */
  recycleActiveBytes?: number;
  warn?: WarnFn;
}

export const DEFAULT_COMPACT_AFTER_SEGMENTS = 4;
export const DEFAULT_RECYCLE_ACTIVE_BYTES = 1024 * 1024;

/**
 * Deletes segments that hold nothing replay needs and, when there are more
 * than `compactAfterSegments` segments, copies the live records of the oldest
 * one to the active segment (`copyForward`) so that it can be deleted too.
 * Runs in the background, one pass at a time; `schedule()` asks for a pass.
 */
export class Maintenance {
  private readonly maxSegments: number;
  private readonly recycleBytes: number;
  private readonly warn: WarnFn;
  private pending = false;
  private current: Promise<void> | undefined;
  private stopped = false;
  /** segments deleted and copy-forwards done since start (for tests and stats) */
  deleted = 0;
  copied = 0;

  constructor(
    private readonly journal: Journal,
    private readonly ledger: SegmentLedger,
    private readonly copyForward: (seg: number) => Promise<void>,
    options: MaintenanceOptions = {},
  ) {
    this.maxSegments = positive(options.compactAfterSegments, DEFAULT_COMPACT_AFTER_SEGMENTS);
    this.recycleBytes =
      typeof options.recycleActiveBytes === 'number' && options.recycleActiveBytes >= 0
        ? options.recycleActiveBytes
        : DEFAULT_RECYCLE_ACTIVE_BYTES;
    this.warn = options.warn ?? (() => undefined);
  }

  /** Asks for a pass soon (coalesced). */
  schedule(): void {
    if (this.stopped || this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (this.stopped) return;
      void this.run();
    });
  }

  /** Runs a pass now (after the one in progress, if any); resolves when done. Never rejects. */
  run(): Promise<void> {
    const prev = this.current ?? Promise.resolve();
    const next = prev
      .then(() => this.pass())
      .catch((err) => {
        this.warn(`outbox maintenance failed: ${(err as Error).message}`, {});
      });
    this.current = next;
    void next.then(() => {
      if (this.current === next) this.current = undefined;
    });
    return next;
  }

  /** Waits for the pass in progress; no new pass starts after this. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.current) await this.current;
  }

  private async collect(): Promise<number> {
    let n = 0;
    for (const seg of this.journal.segmentNumbers()) {
      if (this.stopped) break;
      if (seg === this.journal.activeSegment || !this.ledger.deletable(seg)) continue;
      try {
        await this.journal.deleteSegment(seg);
      } catch (err) {
        // still there (and still read on open): the pass goes on with the others
        this.warn(`outbox maintenance: segment ${seg} could not be deleted: ${(err as Error).message}`, { seg });
        continue;
      }
      this.ledger.removed(seg);
      n++;
    }
    this.deleted += n;
    return n;
  }

  private async pass(): Promise<void> {
    if (this.stopped) return;
    await this.collect();
    // copy-forward, at most one pass over the segments that were there at the start
    let budget = this.journal.segmentNumbers().length;
    while (!this.stopped && budget-- > 0) {
      const segs = this.journal.segmentNumbers();
      if (segs.length <= this.maxSegments) break;
      const oldest = segs[0];
      if (oldest === this.journal.activeSegment) break;
      let total = 0;
      let live = 0;
      for (const s of segs) {
        total += this.journal.segmentBytes(s);
        live += this.ledger.liveBytes(s);
      }
      const worth = this.ledger.liveBytes(oldest) <= this.journal.segmentBytes(oldest) / 2 || live <= total / 2;
      if (!worth) break;
      await this.copyForward(oldest);
      this.copied++;
      await this.collect();
    }
    // the active segment holds only obsolete records: start a fresh one and drop it
    const active = this.journal.activeSegment;
    if (
      !this.stopped &&
      this.journal.queued === 0 &&
      this.ledger.deletable(active) &&
      this.journal.segmentBytes(active) >= Math.max(1, Math.min(this.recycleBytes, this.journal.segmentSize / 4))
    ) {
      await this.journal.rotate();
      await this.collect();
    }
  }
}
