/**
 * An append-only journal of checksummed records, kept in segment files
 * `<dir>/seg-000001.log`, `<dir>/seg-000002.log`, … (record framing:
 * framing.ts), with a manifest of the segments (manifest.ts) and a lock that
 * keeps every other process out (lock.ts).
 *
 * Group commit: `append()` only queues the encoded record. A single writer
 * takes everything queued (up to `maxBatchBytes` / `maxBatchRecords`), gives
 * each record the next sequence number, writes the batch with one positional
 * write and one `fdatasync` (one O_DSYNC write where the platform has it:
 * fsutil.ts), then resolves the promise of every record in it.
 * Records queued while a sync is running form the next batch: under load the
 * batch grows, so the number of syncs per second stays what the disk can do
 * while throughput rises.
 *
 * Opening reads every segment in order and hands each valid record to the
 * caller (what it decides from the files found: journal-open.ts). Damage costs only the damaged records: the reader goes on at the
 * next record that checks out. Each damaged stretch is reported through
 * `warn`; a damaged tail of the LAST segment is truncated so that new appends
 * follow good data. Then missing segments and lost records are counted
 * (losses.ts), reported, and kept in `losses`. Bad data never makes `open()`
 * throw; a journal encrypted with another key (or with none given) does.
 *
 * With a `cipher` (cipher.ts) every record body is encrypted (AES-256-GCM).
 * Records written without one stay readable, so encryption can be turned on
 * for an existing journal.
 *
 * The directory is created with mode 0700, segment files with 0600; the
 * directory is fsync'd after a segment is created or deleted.
 */
import * as fsp from 'fs/promises';
import * as path from 'path';
import { DirLock } from './lock';
import { FLAG_ENCRYPTED, frame, legacyRecordAt, recordAt, seal } from './framing';
import { plainBody, readSegment, reportLosses } from './segment-reader';
import { accountLosses, type LossReport, type SegmentScan } from './losses';
import { continuesLastSegment, manifestAfterScan, nextLsnAfter, segmentFileName, segmentFiles } from './journal-open';
import { readManifest, writeManifest, type ManifestEntry } from './manifest';
import { makeDir, openSegmentFile, positive, readFully, syncDir, syncedWrites, writeFully } from './fsutil';
import type { RecordCipher } from './cipher';
import type { JournalOptions, JournalRecord, PendingRecord, RecordPos, Segment, WarnFn } from './journal-types';

export type { JournalOptions, JournalRecord, JournalWarning, RecordPos, Segment, WarnFn } from './journal-types';

export { HEADER_BYTES, MAX_RECORD_BYTES, encodeRecord, encodeJson } from './framing';
export { SegmentLedger } from './ledger';
export { Maintenance, DEFAULT_COMPACT_AFTER_SEGMENTS, type MaintenanceOptions } from './maintenance';
export { segmentFileName } from './journal-open';

export const DEFAULT_SEGMENT_SIZE = 8 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_RECORDS = 8192;

function abandonedError(): Error {
  return Object.assign(new Error('journal abandoned'), { code: 'EJOURNALABANDONED' });
}

/** directories with an open journal in this process: a second open would corrupt it */
const openDirs = new Set<string>();

export class Journal {
  readonly dir: string;
  readonly segmentSize: number;
  /** what opening found lost: missing segments and damaged records, with counts */
  losses: LossReport = { missingSegments: [], lostRecords: 0, lines: [], tornRecords: 0 };
  private readonly maxBatchBytes: number;
  private readonly maxBatchRecords: number;
  private readonly warn: WarnFn;
  private readonly cipher: RecordCipher | undefined;
  private readonly segments = new Map<number, Segment>();
  private manifest: ManifestEntry[] = [];
  private manifestWrites: Promise<void> = Promise.resolve();
  private active!: Segment;
  private queue: PendingRecord[] = [];
  private scheduled = false;
  private rotateNext = false;
  private closed = false;
  /** dropped as if the process had died: no file is touched from then on */
  private abandoned = false;
  /** segment deletions in progress (a simulated crash lets them end first) */
  private readonly deleting = new Set<Promise<void>>();
  /** the sequence number the next record written gets */
  private nextLsn = 1;
  /** serialises the writer and explicit rotations */
  private lock: Promise<void> = Promise.resolve();
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  private dirLock: DirLock | undefined;

  private constructor(dir: string, options: JournalOptions) {
    this.dir = dir;
    this.segmentSize = positive(options.segmentSize, DEFAULT_SEGMENT_SIZE);
    this.maxBatchBytes = positive(options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES);
    this.maxBatchRecords = positive(options.maxBatchRecords, DEFAULT_MAX_BATCH_RECORDS);
    this.warn = options.warn ?? (() => undefined);
    this.cipher = options.cipher;
  }

  /**
   * Opens (creating if needed) the journal in `dir` and hands every valid
   * record, oldest first, to `onRecord`. A record that `onRecord` throws on is
   * reported through `warn` and skipped; reading goes on.
   */
  static async open(dir: string, options: JournalOptions, onRecord: (record: JournalRecord) => void): Promise<Journal> {
    const j = new Journal(path.resolve(dir), options);
    if (openDirs.has(j.dir)) {
      throw Object.assign(new Error(`a journal is already open in ${j.dir} in this process; close it first`), {
        code: 'EJOURNALBUSY',
      });
    }
    openDirs.add(j.dir);
    try {
      await makeDir(j.dir);
      if (options.lock !== false)
        j.dirLock = await DirLock.acquire(j.dir, { ...options.lock, warn: (m) => j.warn(m, {}) });
      await j.load(onRecord);
    } catch (err) {
      for (const s of j.segments.values()) await s.fh.close().catch(() => undefined);
      await j.dirLock?.release().catch(() => undefined);
      openDirs.delete(j.dir);
      throw err;
    }
    return j;
  }

  // ------------------------------------------------------------------ open

  private async load(onRecord: (record: JournalRecord) => void): Promise<void> {
    const names = segmentFiles(await fsp.readdir(this.dir));
    const manifest = await readManifest(this.dir);
    if (manifest.problem)
      this.warn(`journal: ${manifest.problem} in ${this.dir}; missing segments cannot be detected this time`, {
        reason: manifest.problem,
      });
    const scans: SegmentScan[] = [];
    for (let i = 0; i < names.length; i++) {
      const file = path.join(this.dir, names[i].name);
      const fh = await openSegmentFile(file, false);
      const seg: Segment = { seq: names[i].seq, file, fh, size: 0, legacy: false };
      this.segments.set(seg.seq, seg); // known before anything else can fail, so open()'s clean-up closes it
      seg.size = (await fh.stat()).size;
      const last = i === names.length - 1;
      scans.push(await readSegment(seg, last, { dir: this.dir, cipher: this.cipher, warn: this.warn, onRecord }));
    }
    this.nextLsn = nextLsnAfter(scans, manifest.entries);
    this.losses = accountLosses(manifest.entries, scans);
    reportLosses(this.dir, this.losses, this.warn);

    this.manifest = manifestAfterScan(manifest.entries, scans, this.nextLsn);
    const last = names.length > 0 ? this.segments.get(names[names.length - 1].seq) : undefined;
    const lastEntry = last ? manifest.entries?.find((e) => e.seq === last.seq) : undefined;
    if (!continuesLastSegment(last, scans[scans.length - 1], lastEntry, this.nextLsn)) {
      // nothing yet, an old-format segment, or the segment that was being written is gone
      await this.startSegment(this.nextSeq());
    } else {
      this.active = last as Segment;
      if (this.active.size === 0) this.active.legacy = false;
      const e = this.manifest[this.manifest.length - 1];
      e.last = null;
      if (e.first > this.nextLsn) e.first = this.nextLsn;
      await this.saveManifest();
    }
  }

  /** Writes the manifest as it is when its turn comes (one write at a time). */
  private saveManifest(): Promise<void> {
    const run = this.manifestWrites.then(() =>
      this.abandoned
        ? Promise.reject(abandonedError())
        : writeManifest(
            this.dir,
            this.manifest.map((e) => ({ ...e })),
          ),
    );
    this.manifestWrites = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------ segments

  /** Creates segment `seq`, lists it in the manifest (closing the previous one's range) and makes it the active one. */
  private async startSegment(seq: number): Promise<Segment> {
    const file = path.join(this.dir, segmentFileName(seq));
    const fh = await openSegmentFile(file, true);
    const prev = this.manifest.find((e) => e.last === null);
    const entry: ManifestEntry = { seq, first: this.nextLsn, last: null };
    if (prev) prev.last = this.nextLsn - 1;
    this.manifest.push(entry);
    try {
      await this.saveManifest();
    } catch (err) {
      if (prev) prev.last = null;
      this.manifest = this.manifest.filter((e) => e !== entry);
      await fh.close().catch(() => undefined);
      await fsp.unlink(file).catch(() => undefined);
      throw err;
    }
    const seg: Segment = { seq, file, fh, size: 0, legacy: false };
    this.segments.set(seq, seg);
    this.active = seg;
    if (this.closed && !openDirs.has(this.dir)) {
      // abandoned while this segment was being started: its handle would never be closed
      await fh.close().catch(() => undefined);
      throw abandonedError();
    }
    return seg;
  }

  private nextSeq(): number {
    let max = 0;
    for (const s of this.segments.keys()) if (s > max) max = s;
    for (const e of this.manifest) if (e.seq > max) max = e.seq;
    return max + 1;
  }

  /** The segment new records go to. */
  get activeSegment(): number {
    return this.active.seq;
  }

  /** Segment numbers in order, oldest first. */
  segmentNumbers(): number[] {
    return [...this.segments.keys()].sort((a, b) => a - b);
  }

  hasSegment(seq: number): boolean {
    return this.segments.has(seq);
  }

  /** Bytes in a segment file (0 when it does not exist). */
  segmentBytes(seq: number): number {
    return this.segments.get(seq)?.size ?? 0;
  }

  /** Bytes in all segment files. */
  diskBytes(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.size;
    return n;
  }

  /** Records waiting to be written (not yet covered by an fdatasync). */
  get queued(): number {
    return this.queue.length;
  }

  /** true when records are written encrypted */
  get encrypted(): boolean {
    return this.cipher !== undefined;
  }

  // ------------------------------------------------------------------ writing

  /**
   * Queues one record; resolves with its position once the fdatasync that
   * covers it has returned. Rejects (and nothing of it counts as written) when
   * the write or the sync fails; the journal then truncates what it may have
   * written and continues in a new segment.
   */
  append(type: number, body: unknown): Promise<RecordPos> {
    let json: string | undefined;
    try {
      json = JSON.stringify(body);
      if (json === undefined) throw new TypeError('record body is not JSON-serialisable');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.appendJson(type, json);
  }

  /** Like `append`, with a body that is already JSON text (the caller vouches for it). */
  appendJson(type: number, json: string): Promise<RecordPos> {
    let buf: Buffer;
    try {
      buf = this.cipher
        ? frame(type, FLAG_ENCRYPTED, this.cipher.encrypt(type, FLAG_ENCRYPTED, Buffer.from(json, 'utf8')))
        : frame(type, 0, json);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(Object.assign(new Error('journal is closed'), { code: 'EJOURNALCLOSED' }));
    return new Promise<RecordPos>((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate rather than starting at once: a burst of appends made in
    // one turn of the event loop goes out as one batch.
    setImmediate(() => {
      this.scheduled = false;
      this.exclusive(() => this.drain()).catch((err) =>
        this.warn(`journal: writer failed: ${(err as Error).message}`, {}),
      );
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => {
      this.running--;
      if (this.running === 0 && this.queue.length === 0 && !this.scheduled) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      let seg = this.active;
      const first = this.queue[0];
      if (this.rotateNext || (seg.size > 0 && seg.size + first.buf.length > this.segmentSize)) {
        try {
          seg = await this.startSegment(this.nextSeq());
          this.rotateNext = false;
        } catch (err) {
          for (const p of this.takeBatch(Infinity)) p.reject(err as Error);
          continue;
        }
      }
      const batch = this.takeBatch(this.segmentSize - seg.size);
      const firstLsn = this.nextLsn;
      let bytes = 0;
      for (const p of batch) {
        seal(p.buf, this.nextLsn++);
        bytes += p.buf.length;
      }
      const data =
        batch.length === 1
          ? batch[0].buf
          : Buffer.concat(
              batch.map((p) => p.buf),
              bytes,
            );
      const off = seg.size;
      try {
        await writeFully(seg.fh, data, off);
        if (!syncedWrites) await seg.fh.datasync();
      } catch (err) {
        // After a failed write or sync nothing of the batch may be trusted:
        // cut it off and continue in a fresh segment.
        this.nextLsn = firstLsn;
        await seg.fh.truncate(off).catch(() => undefined);
        this.rotateNext = true;
        this.warn(
          `journal: write to ${seg.file} failed (${(err as Error).message}); ${batch.length} record(s) not written`,
          {
            file: seg.file,
            offset: off,
          },
        );
        for (const p of batch) p.reject(err as Error);
        continue;
      }
      seg.size = off + bytes;
      let o = off;
      for (const p of batch) {
        p.resolve({ seg: seg.seq, offset: o, length: p.buf.length });
        o += p.buf.length;
      }
    }
  }

  /** Takes the next batch from the queue: at least one record, then as many as fit `room` and the batch limits. */
  private takeBatch(room: number): PendingRecord[] {
    let n = 0;
    let bytes = 0;
    const q = this.queue;
    while (n < q.length && n < this.maxBatchRecords) {
      const len = q[n].buf.length;
      if (n > 0 && (bytes + len > this.maxBatchBytes || bytes + len > room)) break;
      bytes += len;
      n++;
    }
    return q.splice(0, n);
  }

  /**
   * Starts a new active segment now (after everything queued so far has been
   * written) and returns the number of the segment that was active before.
   */
  rotate(): Promise<number> {
    if (this.closed) return Promise.reject(Object.assign(new Error('journal is closed'), { code: 'EJOURNALCLOSED' }));
    return this.exclusive(async () => {
      await this.drain();
      const old = this.active.seq;
      await this.startSegment(this.nextSeq());
      this.rotateNext = false;
      return old;
    });
  }

  /** Reads back one record by position (a positional read; verifies length and checksum). */
  async read(pos: RecordPos): Promise<{ type: number; body: any }> {
    const seg = this.segments.get(pos.seg);
    if (!seg) throw Object.assign(new Error(`segment ${pos.seg} no longer exists`), { code: 'ESEGMENTGONE' });
    const buf = Buffer.allocUnsafe(pos.length);
    const got = await readFully(seg.fh, buf, pos.offset);
    if (got !== pos.length)
      throw Object.assign(new Error(`short read in ${seg.file} at ${pos.offset}`), { code: 'ECORRUPT' });
    const r = seg.legacy ? legacyRecordAt(buf, 0) : recordAt(buf, 0);
    if (typeof r === 'string' || r.length !== pos.length)
      throw Object.assign(
        new Error(`${typeof r === 'string' ? r : 'length mismatch'} in ${seg.file} at ${pos.offset}`),
        { code: 'ECORRUPT' },
      );
    try {
      return { type: r.type, body: JSON.parse(plainBody(r, this.cipher, this.dir).toString('utf8')) };
    } catch (err) {
      throw Object.assign(new Error(`${(err as Error).message} in ${seg.file} at ${pos.offset}`), {
        code: (err as { code?: string }).code ?? 'ECORRUPT',
      });
    }
  }

  /**
   * Deletes a segment that is not the active one: first the manifest stops
   * listing it (so it is not reported missing), then the file goes and the
   * directory is fsync'd.
   */
  deleteSegment(seq: number): Promise<void> {
    if (this.abandoned) return Promise.resolve();
    const run = this.removeSegment(seq);
    const tracked = run.catch(() => undefined);
    this.deleting.add(tracked);
    void tracked.then(() => this.deleting.delete(tracked));
    return run;
  }

  private async removeSegment(seq: number): Promise<void> {
    const seg = this.segments.get(seq);
    if (!seg) return;
    if (seg === this.active) throw new Error('the active segment cannot be deleted');
    this.manifest = this.manifest.filter((e) => e.seq !== seq);
    await this.saveManifest();
    this.segments.delete(seq);
    await seg.fh.close().catch(() => undefined); // waits for reads in progress
    try {
      await fsp.unlink(seg.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // still on disk, so still read by the next open: keep it known here too
        seg.fh = await openSegmentFile(seg.file, false);
        this.segments.set(seq, seg);
        throw err;
      }
    }
    await syncDir(this.dir);
  }

  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes every file and releases the directory. Appends after this reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    await this.manifestWrites;
    for (const s of this.segments.values()) await s.fh.close().catch(() => undefined);
    await this.dirLock?.release();
    openDirs.delete(this.dir);
  }

  /**
   * Drops the journal as if the process had died: records not yet written are
   * never written (their promises reject with code EJOURNALABANDONED), files
   * are closed, the directory is released. For crash tests.
   */
  async abandon(): Promise<void> {
    if (this.closed && !openDirs.has(this.dir)) return;
    this.closed = true;
    this.abandoned = true;
    const q = this.queue.splice(0);
    const err = abandonedError();
    for (const p of q) p.reject(err);
    // a manifest write or a segment deletion under way ends first, as if the process died right after it:
    // left running, it would touch the files of the journal opened next on this directory
    await Promise.all([...this.deleting]);
    await this.manifestWrites;
    for (const s of this.segments.values()) await s.fh.close().catch(() => undefined);
    // (a process that really dies leaves its lock file; the next one finds the pid gone)
    await this.dirLock?.release();
    openDirs.delete(this.dir);
  }
}
