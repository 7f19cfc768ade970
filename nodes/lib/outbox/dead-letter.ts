/**
 * The dead-letter store: where an item goes when it will not be retried any
 * more (too many attempts, a permanent error, or pushed out of a full outbox).
 * It keeps the item's data so that an operator can look at it and send it
 * again. It has its own journal directory, durable the same way as the outbox
 * (checksummed records, group commit with fdatasync, compaction).
 *
 * Records: PUT (1) carries a whole entry, data included; DEL (2) `{id}`
 * removes one. An id appears at most once: a PUT for an id already present
 * replaces it.
 *
 * Replay (sending entries again) is crash-safe in the obvious order:
 * `take(ids, requeue)` reads the entries, awaits `requeue(entries)` (the caller
 * enqueues them into the outbox, which resolves after the outbox's fsync), and
 * only then removes the entries that `requeue` accepted. A crash in between
 * leaves an entry both re-queued and still here; taking it again re-queues the
 * same id, which the outbox reports as a duplicate while it is pending.
 */
import { Journal, JournalRecord, Maintenance, RecordPos, SegmentLedger, WarnFn } from './journal';
import {
  Meta,
  isObj,
  normError,
  normHistory,
  summary,
  type DeadLetterCounts,
  type DeadLetterEntry,
  type DeadLetterInput,
  type DeadLetterOptions,
  type DeadLetterSummary,
  type ListOptions,
} from './dead-letter-entry';

export * from './dead-letter-entry';

const T_PUT = 1;
const T_DEL = 2;

export class DeadLetterStore {
  readonly dir: string;
  private journal!: Journal;
  private readonly ledger: SegmentLedger;
  private maintenance!: Maintenance;
  /** id → entry (without data), in the order they became dead */
  private readonly entries = new Map<string, Meta>();
  private totalBytes = 0;
  private readonly byCode = new Map<string, number>();
  private dropped = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly warn: WarnFn;
  private readonly clock: () => number;
  private closed = false;
  private trimming: Promise<void> | undefined;
  /** the highest version used so far */
  private version = 0;

  private constructor(dir: string, options: DeadLetterOptions) {
    this.dir = dir;
    this.maxEntries = options.maxEntries && options.maxEntries > 0 ? Math.floor(options.maxEntries) : 0;
    this.maxBytes = options.maxBytes && options.maxBytes > 0 ? Math.floor(options.maxBytes) : 0;
    this.warn = options.warn ?? (() => undefined);
    this.clock = options.now ?? Date.now;
    this.ledger = new SegmentLedger((s) => (this.journal ? this.journal.hasSegment(s) : true));
  }

  /** Opens (creating if needed) the store in `dir` and rebuilds its index from the journal. */
  static async open(dir: string, options: DeadLetterOptions = {}): Promise<DeadLetterStore> {
    const store = new DeadLetterStore(dir, options);
    store.journal = await Journal.open(
      dir,
      { segmentSize: options.segmentSize, warn: options.warn, cipher: options.cipher },
      (r) => store.replay(r),
    );
    store.maintenance = new Maintenance(store.journal, store.ledger, (seg) => store.copyForward(seg), {
      compactAfterSegments: options.compactAfterSegments,
      warn: options.warn,
    });
    // rebuild deadAt order if copies moved entries
    let last = -Infinity;
    let sorted = true;
    for (const m of store.entries.values()) {
      if (m.deadAt < last) {
        sorted = false;
        break;
      }
      last = m.deadAt;
    }
    if (!sorted) {
      const all = [...store.entries.values()].sort((a, b) => a.deadAt - b.deadAt);
      store.entries.clear();
      for (const m of all) store.entries.set(m.id, m);
    }
    store.maintenance.schedule();
    return store;
  }

  private replay(r: JournalRecord): void {
    const b = r.body;
    if (!isObj(b) || typeof b.id !== 'string') throw new Error('record without an id');
    if (r.type === T_PUT) {
      if (
        !isObj(b.error) ||
        typeof b.deadAt !== 'number' ||
        typeof b.b !== 'number' ||
        typeof b.v !== 'number' ||
        !('d' in b)
      ) {
        throw new Error('malformed dead-letter entry');
      }
      if (b.v > this.version) this.version = b.v;
      const old = this.entries.get(b.id);
      if (old) this.drop(old, r.seg);
      this.insert(this.metaFrom(b, r));
    } else if (r.type === T_DEL) {
      if (typeof b.v !== 'number') throw new Error('malformed removal');
      if (b.v > this.version) this.version = b.v;
      const old = this.entries.get(b.id);
      if (old && old.v === b.v) this.drop(old, r.seg);
    } else {
      throw new Error(`unknown record type ${r.type}`);
    }
  }

  private metaFrom(b: Record<string, unknown>, pos: RecordPos): Meta {
    return new Meta(
      b.id as string,
      b.v as number,
      normError(b.error),
      typeof b.attempts === 'number' ? b.attempts : 0,
      normHistory(b.history),
      b.deadAt as number,
      typeof b.k === 'string' ? b.k : undefined,
      typeof b.c === 'number' ? b.c : undefined,
      typeof b.s === 'number' ? b.s : undefined,
      b.b as number,
      pos.seg,
      pos.offset,
      pos.length,
    );
  }

  private insert(m: Meta): void {
    this.entries.set(m.id, m);
    this.ledger.pin(m.seg, m.len);
    this.totalBytes += m.bytes;
    this.byCode.set(m.error.code, (this.byCode.get(m.error.code) ?? 0) + 1);
  }

  /** forget `m`, made obsolete by a record in segment `bySeg` */
  private drop(m: Meta, bySeg: number): void {
    if (this.entries.get(m.id) === m) this.entries.delete(m.id);
    this.ledger.unpin(m.seg, m.len);
    this.ledger.cancel(m.seg, bySeg);
    this.totalBytes -= m.bytes;
    const n = (this.byCode.get(m.error.code) ?? 1) - 1;
    if (n > 0) this.byCode.set(m.error.code, n);
    else this.byCode.delete(m.error.code);
  }

  private assertOpen(): void {
    if (this.closed) throw Object.assign(new Error('dead-letter store is closed'), { code: 'DEAD_LETTER_CLOSED' });
  }

  /**
   * Stores an entry (replacing one with the same id); resolves once it is on
   * disk (after the fsync).
   */
  async put(input: DeadLetterInput): Promise<DeadLetterSummary> {
    this.assertOpen();
    if (!input || typeof input.id !== 'string' || input.id === '')
      throw new TypeError('a dead-letter entry needs a string id');
    const dataJson = JSON.stringify(input.data === undefined ? null : input.data);
    const body: Record<string, unknown> = {
      id: input.id,
      v: ++this.version,
      error: normError(input.error),
      attempts: typeof input.attempts === 'number' && input.attempts >= 0 ? input.attempts : 0,
      history: normHistory(input.history),
      deadAt: typeof input.deadAt === 'number' ? input.deadAt : this.clock(),
    };
    if (typeof input.orderingKey === 'string') body.k = input.orderingKey;
    if (typeof input.createdAt === 'number') body.c = input.createdAt;
    if (typeof input.enqueueSeq === 'number') body.s = input.enqueueSeq;
    body.b = Buffer.byteLength(dataJson, 'utf8');
    const meta = JSON.stringify(body);
    const json = meta.slice(0, -1) + ',"d":' + dataJson + '}';
    const pos = await this.journal.appendJson(T_PUT, json);
    // synchronous from here on: the ledger must know the record before any maintenance pass runs
    const m = this.metaFrom(body, pos);
    const old = this.entries.get(m.id);
    if (old) this.drop(old, pos.seg);
    this.insert(m);
    this.maintenance.schedule();
    if (this.overLimit()) await this.trim();
    return summary(m);
  }

  private overLimit(): boolean {
    return (
      (this.maxEntries > 0 && this.entries.size > this.maxEntries) ||
      (this.maxBytes > 0 && this.totalBytes > this.maxBytes)
    );
  }

  /** Drops the oldest entries while over a limit (one run at a time; callers share it). Never rejects. */
  private trim(): Promise<void> {
    if (!this.trimming) this.trimming = this.trimLoop().finally(() => (this.trimming = undefined));
    return this.trimming;
  }

  private async trimLoop(): Promise<void> {
    try {
      while (!this.closed && this.overLimit()) {
        const oldest = [...this.entries.values()].find((m) => !m.removing);
        if (!oldest) break;
        const n = await this.remove([oldest]);
        if (n === 0) break;
        this.dropped += n;
        this.warn(`dead-letter store full: dropped the oldest entry ${oldest.id} (${oldest.error.code})`, {
          id: oldest.id,
          code: oldest.error.code,
        });
      }
    } catch (err) {
      this.warn(`dead-letter store: could not drop old entries: ${(err as Error).message}`, {});
    }
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The summary (no data) of one entry. */
  peek(id: string): DeadLetterSummary | undefined {
    const m = this.entries.get(id);
    return m ? summary(m) : undefined;
  }

  /** Entries without their data, for an admin list; newest first unless `order: 'oldest'`. */
  list(options: ListOptions = {}): DeadLetterSummary[] {
    const limit = typeof options.limit === 'number' && options.limit >= 0 ? Math.floor(options.limit) : 50;
    const offset = typeof options.offset === 'number' && options.offset > 0 ? Math.floor(options.offset) : 0;
    const all = [...this.entries.values()];
    if (options.order !== 'oldest') all.reverse();
    return all.slice(offset, offset + limit).map(summary);
  }

  counts(): DeadLetterCounts {
    let oldest: number | undefined;
    let newest: number | undefined;
    for (const m of this.entries.values()) {
      if (oldest === undefined || m.deadAt < oldest) oldest = m.deadAt;
      if (newest === undefined || m.deadAt > newest) newest = m.deadAt;
    }
    const c: DeadLetterCounts = {
      total: this.entries.size,
      bytes: this.totalBytes,
      byCode: Object.fromEntries(this.byCode),
      dropped: this.dropped,
    };
    if (oldest !== undefined) c.oldestDeadAt = oldest;
    if (newest !== undefined) c.newestDeadAt = newest;
    return c;
  }

  /** One entry with its data (undefined when there is none). */
  async get(id: string): Promise<DeadLetterEntry | undefined> {
    this.assertOpen();
    for (let tries = 0; tries < 4; tries++) {
      const m = this.entries.get(id);
      if (!m) return undefined;
      const pos = { seg: m.seg, offset: m.off, length: m.len };
      try {
        const r = await this.journal.read(pos);
        if (r.type !== T_PUT || !isObj(r.body) || r.body.id !== id) throw new Error('record does not match the index');
        return { ...summary(m), data: r.body.d };
      } catch (err) {
        const now = this.entries.get(id);
        if (now && (now.seg !== pos.seg || now.off !== pos.offset)) continue; // moved by compaction meanwhile
        if (!now) return undefined;
        throw Object.assign(new Error(`dead-letter entry ${id} cannot be read: ${(err as Error).message}`), {
          code: 'DEAD_LETTER_UNREADABLE',
        });
      }
    }
    throw Object.assign(new Error(`dead-letter entry ${id} kept moving`), { code: 'DEAD_LETTER_UNREADABLE' });
  }

  private select(ids: Iterable<string> | 'all'): Meta[] {
    if (ids === 'all') return [...this.entries.values()].filter((m) => !m.removing);
    const out: Meta[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const m = this.entries.get(id);
      if (m && !m.removing) out.push(m);
    }
    return out;
  }

  /** Durably removes these entries (when they are still the same ones); returns how many. */
  private async remove(metas: Meta[]): Promise<number> {
    const mine = metas.filter((m) => this.entries.get(m.id) === m && !m.removing);
    for (const m of mine) m.removing = true;
    const results = await Promise.allSettled(mine.map((m) => this.journal.append(T_DEL, { id: m.id, v: m.v })));
    let n = 0;
    let failure: unknown;
    results.forEach((r, i) => {
      const m = mine[i];
      m.removing = false;
      if (r.status === 'fulfilled') {
        // (a put of the same id may have replaced it meanwhile: then it is gone already)
        if (this.entries.get(m.id) === m) this.drop(m, r.value.seg);
        n++;
      } else failure = r.reason;
    });
    this.maintenance.schedule();
    if (failure !== undefined) throw failure;
    return n;
  }

  /**
   * Takes entries out for replay. For each chunk of up to `chunkSize` (256)
   * entries: reads them with their data, awaits `requeue(entries)` — which
   * must re-enqueue them durably and may return the ids it accepted (default:
   * all) — then removes the accepted ones durably. Returns the entries removed.
   * If `requeue` throws, that chunk stays in the store and the error is thrown.
   */
  async take(
    ids: Iterable<string> | 'all',
    requeue: (entries: DeadLetterEntry[]) => Promise<Iterable<string> | void> | Iterable<string> | void,
    chunkSize = 256,
  ): Promise<DeadLetterEntry[]> {
    this.assertOpen();
    if (typeof requeue !== 'function')
      throw new TypeError('take() needs a requeue function: entries are removed only after it resolves');
    const metas = this.select(ids);
    const out: DeadLetterEntry[] = [];
    const size = Math.max(1, Math.floor(chunkSize));
    for (let i = 0; i < metas.length; i += size) {
      const chunk = metas.slice(i, i + size).filter((m) => this.entries.get(m.id) === m && !m.removing);
      const entries: DeadLetterEntry[] = [];
      const read: Meta[] = [];
      for (const m of chunk) {
        const e = await this.get(m.id);
        if (e && this.entries.get(m.id) === m) {
          entries.push(e);
          read.push(m);
        }
      }
      if (entries.length === 0) continue;
      const accepted = await requeue(entries);
      const ok = accepted === undefined || accepted === null ? undefined : new Set(accepted);
      const toRemove = read.filter((m) => !ok || ok.has(m.id));
      await this.remove(toRemove);
      for (const e of entries) if (!ok || ok.has(e.id)) out.push(e);
    }
    return out;
  }

  /** Deletes entries for good (ids, or 'all'); returns how many were removed. */
  async purge(ids: Iterable<string> | 'all'): Promise<number> {
    this.assertOpen();
    return this.remove(this.select(ids));
  }

  private async copyForward(seg: number): Promise<void> {
    const victims = [...this.entries.values()].filter((m) => m.seg === seg && !m.removing);
    for (let i = 0; i < victims.length; i += 256) {
      await Promise.all(victims.slice(i, i + 256).map((m) => this.copyOne(m)));
    }
  }

  private async copyOne(m: Meta): Promise<void> {
    let body: Record<string, unknown>;
    try {
      const r = await this.journal.read({ seg: m.seg, offset: m.off, length: m.len });
      body = r.body as Record<string, unknown>;
    } catch (err) {
      this.warn(`dead-letter store: cannot copy entry ${m.id} forward: ${(err as Error).message}`, { id: m.id });
      return;
    }
    if (this.entries.get(m.id) !== m || m.removing) return;
    const pos = await this.journal.append(T_PUT, body);
    if (this.entries.get(m.id) !== m) return;
    this.ledger.unpin(m.seg, m.len);
    this.ledger.cancel(m.seg, pos.seg);
    m.seg = pos.seg;
    m.off = pos.offset;
    m.len = pos.length;
    this.ledger.pin(m.seg, m.len);
  }

  /** Runs a compaction pass now and waits for it. */
  compact(): Promise<void> {
    return this.maintenance.run();
  }

  /** What opening its journal found lost (missing segments, damaged records). */
  losses(): { lostRecords: number; missingSegments: number[]; tornRecords: number } {
    const l = this.journal.losses;
    return { lostRecords: l.lostRecords, missingSegments: [...l.missingSegments], tornRecords: l.tornRecords };
  }

  /** Journal figures: segment count and bytes on disk. */
  disk(): { segments: number; bytes: number } {
    return { segments: this.journal.segmentNumbers().length, bytes: this.journal.diskBytes() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.maintenance.stop();
    await this.journal.close();
  }

  /** Drops the store as if the process had died (nothing more is written). For crash tests. */
  async abandon(): Promise<void> {
    this.closed = true;
    void this.maintenance.stop();
    await this.journal.abandon();
  }
}
