/**
 * An append-only journal of checksummed records, kept in segment files
 * `<dir>/seg-000001.log`, `<dir>/seg-000002.log`, …
 *
 * Record framing (all integers big-endian):
 *
 *   offset 0  uint32  body length N (bytes of the JSON body only)
 *   offset 4  uint32  CRC-32 (IEEE) of bytes 8 … 8+N (the type byte and the body)
 *   offset 8  uint8   record type (1…255; 0 is never written, so zero-filled space is corrupt)
 *   offset 9  N bytes the body: JSON, UTF-8
 *
 * Group commit: `append()` only queues the encoded record. A single writer
 * takes everything queued (up to `maxBatchBytes` / `maxBatchRecords`), writes
 * it with one positional write and one `fdatasync`, then resolves the promise
 * of every record in that batch. Records queued while a sync is running form
 * the next batch (classic group commit): under load the batch grows, so the
 * number of syncs per second stays what the disk can do while throughput
 * rises.
 *
 * Opening reads every segment in order and hands each valid record to the
 * caller. The first record that does not check out (short header, short body,
 * CRC mismatch, type 0, body that is not JSON) ends the segment: it is
 * reported once through `warn`; in the LAST segment the file is truncated to
 * the end of the last good record so that new appends follow good data; in an
 * older segment the rest of that segment is skipped and reading continues with
 * the next segment. Bad data never makes `open()` throw.
 *
 * The directory is created with mode 0700, segment files with 0600; the
 * directory is fsync'd after a segment is created or deleted.
 *
 * Also here: `SegmentLedger`, the bookkeeping that tells when a segment no
 * longer holds anything that replay needs, and `Maintenance`, which deletes
 * such segments and copies the live records of the oldest segment forward.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';
import { crc32 } from './crc32';
import { DirLock, type LockOptions } from './lock';

export const HEADER_BYTES = 9;
export const DEFAULT_SEGMENT_SIZE = 8 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_RECORDS = 8192;
/** a length field above this is treated as corruption rather than trusted */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

const SEGMENT_RE = /^seg-(\d{6,})\.log$/;
const READ_CHUNK = 1024 * 1024;

export function segmentFileName(seq: number): string {
  return `seg-${String(seq).padStart(6, '0')}.log`;
}

/** Where a record lives: segment number, byte offset of its header, total length (header included). */
export interface RecordPos {
  seg: number;
  offset: number;
  length: number;
}

export interface JournalRecord extends RecordPos {
  type: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface JournalWarning {
  /** absolute path of the segment file */
  file: string;
  /** byte offset of the first bad record */
  offset: number;
  /** what was wrong: 'short header', 'short record', 'length too large', 'checksum mismatch', 'type 0', 'body is not JSON', or a reader's complaint */
  reason: string;
  /** bytes ignored from `offset` to the end of the file */
  droppedBytes: number;
  /** 'truncated' (last segment, cut back to the last good record), 'skipped' (older segment, rest skipped), 'ignored' (one record refused by the reader) */
  action: 'truncated' | 'skipped' | 'ignored';
}

export type WarnFn = (message: string, info?: JournalWarning | Record<string, unknown>) => void;

export interface JournalOptions {
  /** rotate to a new segment once the active one would exceed this many bytes (default 8 MiB) */
  segmentSize?: number;
  /** the most bytes written by one write + fdatasync (default 4 MiB; a single larger record is written alone) */
  maxBatchBytes?: number;
  /** the most records written by one write + fdatasync (default 8192) */
  maxBatchRecords?: number;
  /** told about bad data found on open, and about failures in the background */
  warn?: WarnFn;
  /** the cross-process lock on the directory (lock.ts): its timings; false only for tests that must share a directory */
  lock?: LockOptions | false;
}

interface Pending {
  buf: Buffer;
  resolve: (pos: RecordPos) => void;
  reject: (err: Error) => void;
}

interface Segment {
  seq: number;
  file: string;
  fh: fsp.FileHandle;
  /** bytes in the file (for the active segment: the end of the last durable record) */
  size: number;
}

/** Encodes one record: header + JSON body. Throws when `body` cannot be serialised. */
export function encodeRecord(type: number, body: unknown): Buffer {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError('record body is not JSON-serialisable');
  return encodeJson(type, json);
}

/** Encodes one record whose body is already JSON text. */
export function encodeJson(type: number, json: string): Buffer {
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new RangeError(`record type must be 1…255, not ${type}`);
  const n = Buffer.byteLength(json, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + n);
  buf.writeUInt32BE(n, 0);
  buf[8] = type;
  buf.write(json, HEADER_BYTES, n, 'utf8');
  buf.writeUInt32BE(crc32(buf.subarray(8)), 4);
  return buf;
}

type Decoded = { ok: true; type: number; body: unknown } | { ok: false; reason: string };

/** Checks and decodes one whole record held in `buf` (exactly header + body). */
export function decodeRecord(buf: Buffer): Decoded {
  if (buf.length < HEADER_BYTES) return { ok: false, reason: 'short header' };
  const n = buf.readUInt32BE(0);
  if (n + HEADER_BYTES !== buf.length) return { ok: false, reason: 'length mismatch' };
  if (crc32(buf.subarray(8)) !== buf.readUInt32BE(4)) return { ok: false, reason: 'checksum mismatch' };
  const type = buf[8];
  if (type === 0) return { ok: false, reason: 'type 0' };
  try {
    return { ok: true, type, body: JSON.parse(buf.toString('utf8', HEADER_BYTES)) };
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
}

async function readFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

async function writeFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** fsync a directory so that a created / deleted entry in it is durable (a no-op where directories cannot be opened, e.g. Windows). */
export async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
  } catch (err) {
    if (process.platform === 'win32') return;
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // some file systems refuse fsync on a directory; nothing more can be done there
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await fh.close();
  }
}

/** mkdir -p with mode 0700 for what it creates; fsyncs the parent of the top directory created. */
async function makeDir(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) await syncDir(path.dirname(first));
}

/** directories with an open journal in this process: a second open would corrupt it */
const openDirs = new Set<string>();

export class Journal {
  readonly dir: string;
  readonly segmentSize: number;
  private readonly maxBatchBytes: number;
  private readonly maxBatchRecords: number;
  private readonly warn: WarnFn;
  private readonly segments = new Map<number, Segment>();
  private active!: Segment;
  private queue: Pending[] = [];
  private scheduled = false;
  private rotateNext = false;
  private closed = false;
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
  }

  /**
   * Opens (creating if needed) the journal in `dir` and hands every valid
   * record, oldest first, to `onRecord`. A record that `onRecord` throws on is
   * reported through `warn` and skipped; reading goes on.
   */
  static async open(dir: string, options: JournalOptions, onRecord: (record: JournalRecord) => void): Promise<Journal> {
    const j = new Journal(path.resolve(dir), options);
    if (openDirs.has(j.dir)) {
      throw Object.assign(new Error(`a journal is already open in ${j.dir} in this process; close it first`), { code: 'EJOURNALBUSY' });
    }
    openDirs.add(j.dir);
    try {
      await makeDir(j.dir);
      if (options.lock !== false) j.dirLock = await DirLock.acquire(j.dir, { ...options.lock, warn: (m) => j.warn(m, {}) });
      await j.load(onRecord);
    } catch (err) {
      await j.dirLock?.release().catch(() => undefined);
      openDirs.delete(j.dir);
      throw err;
    }
    return j;
  }

  private async load(onRecord: (record: JournalRecord) => void): Promise<void> {
    const names = (await fsp.readdir(this.dir))
      .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
      .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
      .map((x) => ({ name: x.name, seq: Number(x.m[1]) }))
      .sort((a, b) => a.seq - b.seq);
    try {
      for (let i = 0; i < names.length; i++) {
        const file = path.join(this.dir, names[i].name);
        const fh = await fsp.open(file, 'r+');
        const seg: Segment = { seq: names[i].seq, file, fh, size: (await fh.stat()).size };
        this.segments.set(seg.seq, seg);
        await this.scan(seg, i === names.length - 1, onRecord);
      }
      if (names.length === 0) {
        await this.createSegment(1);
      } else {
        this.active = this.segments.get(names[names.length - 1].seq) as Segment;
      }
    } catch (err) {
      for (const s of this.segments.values()) await s.fh.close().catch(() => undefined);
      throw err;
    }
  }

  private async scan(seg: Segment, last: boolean, onRecord: (record: JournalRecord) => void): Promise<void> {
    const size = seg.size;
    let buf = Buffer.alloc(0);
    let bufStart = 0;
    let pos = 0;
    const ensure = async (n: number): Promise<boolean> => {
      if (pos + n > size) return false;
      if (pos >= bufStart && pos + n <= bufStart + buf.length) return true;
      const want = Math.min(Math.max(n, READ_CHUNK), size - pos);
      const nb = Buffer.allocUnsafe(want);
      const got = await readFully(seg.fh, nb, pos);
      buf = got === want ? nb : nb.subarray(0, got);
      bufStart = pos;
      return got >= n;
    };
    let bad: string | undefined;
    while (pos < size) {
      if (!(await ensure(HEADER_BYTES))) {
        bad = 'short header';
        break;
      }
      const at = pos - bufStart;
      const n = buf.readUInt32BE(at);
      if (n > MAX_RECORD_BYTES) {
        bad = 'length too large';
        break;
      }
      if (!(await ensure(HEADER_BYTES + n))) {
        bad = 'short record';
        break;
      }
      const rec = buf.subarray(pos - bufStart, pos - bufStart + HEADER_BYTES + n);
      const d = decodeRecord(rec);
      if (!d.ok) {
        bad = d.reason;
        break;
      }
      try {
        onRecord({ type: d.type, body: d.body, seg: seg.seq, offset: pos, length: rec.length });
      } catch (err) {
        this.warn(`journal: record at ${seg.file} offset ${pos} ignored: ${(err as Error).message}`, {
          file: seg.file,
          offset: pos,
          reason: (err as Error).message,
          droppedBytes: rec.length,
          action: 'ignored',
        });
      }
      pos += rec.length;
    }
    if (bad === undefined) return;
    const dropped = size - pos;
    if (last) {
      this.warn(
        `journal: ${bad} at ${seg.file} offset ${pos}; truncating the last segment to its last good record (${dropped} bytes dropped)`,
        { file: seg.file, offset: pos, reason: bad, droppedBytes: dropped, action: 'truncated' },
      );
      await seg.fh.truncate(pos);
      await seg.fh.sync();
      seg.size = pos;
    } else {
      this.warn(
        `journal: ${bad} at ${seg.file} offset ${pos} in an older segment; skipping the rest of this segment (${dropped} bytes) and continuing with the next one`,
        { file: seg.file, offset: pos, reason: bad, droppedBytes: dropped, action: 'skipped' },
      );
    }
  }

  private async createSegment(seq: number): Promise<Segment> {
    const file = path.join(this.dir, segmentFileName(seq));
    const fh = await fsp.open(file, 'wx+', 0o600);
    try {
      await syncDir(this.dir);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.unlink(file).catch(() => undefined);
      throw err;
    }
    const seg: Segment = { seq, file, fh, size: 0 };
    this.segments.set(seq, seg);
    this.active = seg;
    return seg;
  }

  private nextSeq(): number {
    let max = 0;
    for (const s of this.segments.keys()) if (s > max) max = s;
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

  /**
   * Queues one record; resolves with its position once the fdatasync that
   * covers it has returned. Rejects (and nothing of it counts as written) when
   * the write or the sync fails; the journal then truncates what it may have
   * written and continues in a new segment.
   */
  append(type: number, body: unknown): Promise<RecordPos> {
    let buf: Buffer;
    try {
      buf = encodeRecord(type, body);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.appendEncoded(buf);
  }

  /** Like `append`, with a body that is already JSON text (the caller vouches for it). */
  appendJson(type: number, json: string): Promise<RecordPos> {
    let buf: Buffer;
    try {
      buf = encodeJson(type, json);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.appendEncoded(buf);
  }

  private appendEncoded(buf: Buffer): Promise<RecordPos> {
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
      this.exclusive(() => this.drain()).catch((err) => this.warn(`journal: writer failed: ${(err as Error).message}`, {}));
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
          seg = await this.createSegment(this.nextSeq());
          this.rotateNext = false;
        } catch (err) {
          for (const p of this.takeBatch(Infinity)) p.reject(err as Error);
          continue;
        }
      }
      const batch = this.takeBatch(this.segmentSize - seg.size);
      let bytes = 0;
      for (const p of batch) bytes += p.buf.length;
      const data = batch.length === 1 ? batch[0].buf : Buffer.concat(batch.map((p) => p.buf), bytes);
      const off = seg.size;
      try {
        await writeFully(seg.fh, data, off);
        await seg.fh.datasync();
      } catch (err) {
        // After a failed write or sync nothing of the batch may be trusted:
        // cut it off and continue in a fresh segment.
        await seg.fh.truncate(off).catch(() => undefined);
        this.rotateNext = true;
        this.warn(`journal: write to ${seg.file} failed (${(err as Error).message}); ${batch.length} record(s) not written`, {
          file: seg.file,
          offset: off,
        });
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
  private takeBatch(room: number): Pending[] {
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
      await this.createSegment(this.nextSeq());
      this.rotateNext = false;
      return old;
    });
  }

  /** Reads back one record by position (a positional read; verifies length and checksum). */
  async read(pos: RecordPos): Promise<{ type: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const seg = this.segments.get(pos.seg);
    if (!seg) throw Object.assign(new Error(`segment ${pos.seg} no longer exists`), { code: 'ESEGMENTGONE' });
    const buf = Buffer.allocUnsafe(pos.length);
    const got = await readFully(seg.fh, buf, pos.offset);
    if (got !== pos.length) throw Object.assign(new Error(`short read in ${seg.file} at ${pos.offset}`), { code: 'ECORRUPT' });
    const d = decodeRecord(buf);
    if (!d.ok) throw Object.assign(new Error(`${d.reason} in ${seg.file} at ${pos.offset}`), { code: 'ECORRUPT' });
    return { type: d.type, body: d.body };
  }

  /** Closes and deletes a segment that is not the active one, then fsyncs the directory. */
  async deleteSegment(seq: number): Promise<void> {
    const seg = this.segments.get(seq);
    if (!seg) return;
    if (seg === this.active) throw new Error('the active segment cannot be deleted');
    this.segments.delete(seq);
    await seg.fh.close().catch(() => undefined); // waits for reads in progress
    try {
      await fsp.unlink(seg.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // still on disk, so still read by the next open: keep it known here too
        seg.fh = await fsp.open(seg.file, 'r+');
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

  /** Writes what is queued, then closes every file. Appends after this reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
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
    const q = this.queue.splice(0);
    const err = Object.assign(new Error('journal abandoned'), { code: 'EJOURNALABANDONED' });
    for (const p of q) p.reject(err);
    for (const s of this.segments.values()) await s.fh.close().catch(() => undefined);
    // (a process that really dies leaves its lock file; the next one finds the pid gone)
    await this.dirLock?.release();
    openDirs.delete(this.dir);
  }
}

function positive(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}

/**
 * Which segments are still needed by replay.
 *
 * - A PIN is a record that replay needs for a pending item: the item's PUT
 *   and its latest STATE. A segment with a pin is kept.
 * - A CANCEL is a record in a newer segment that makes an older record
 *   obsolete (a DONE for a PUT, a copied-forward PUT for the older PUT). It is
 *   needed for as long as the older record's segment exists, otherwise the
 *   older record would come back to life on replay. A segment holding such a
 *   cancel is kept until the older segment is gone.
 *
 * A segment with no pin and no such cancel holds nothing replay needs and
 * can be deleted (unless it is the active one).
 */
export class SegmentLedger {
  private readonly segs = new Map<
    number,
    { pins: number; bytes: number; tombs: number; dependents: Map<number, number> | undefined }
  >();
  private readonly exists: (seg: number) => boolean;

  constructor(exists: (seg: number) => boolean) {
    this.exists = exists;
  }

  private entry(seg: number) {
    let e = this.segs.get(seg);
    if (!e) {
      e = { pins: 0, bytes: 0, tombs: 0, dependents: undefined };
      this.segs.set(seg, e);
    }
    return e;
  }

  /** a record replay needs lives in `seg`; `bytes` counts toward the segment's live bytes */
  pin(seg: number, bytes = 0): void {
    const e = this.entry(seg);
    e.pins++;
    e.bytes += bytes;
  }

  unpin(seg: number, bytes = 0): void {
    const e = this.segs.get(seg);
    if (!e) return;
    e.pins--;
    e.bytes -= bytes;
  }

  /** a record in `newSeg` makes a record in `oldSeg` obsolete */
  cancel(oldSeg: number, newSeg: number): void {
    if (oldSeg === newSeg || !this.exists(oldSeg)) return;
    const o = this.entry(oldSeg);
    if (!o.dependents) o.dependents = new Map();
    o.dependents.set(newSeg, (o.dependents.get(newSeg) ?? 0) + 1);
    this.entry(newSeg).tombs++;
  }

  /** `seg` was deleted: the cancels that were kept for it are free. */
  removed(seg: number): void {
    const e = this.segs.get(seg);
    this.segs.delete(seg);
    if (!e?.dependents) return;
    for (const [t, n] of e.dependents) {
      const te = this.segs.get(t);
      if (te) te.tombs -= n;
    }
  }

  deletable(seg: number): boolean {
    const e = this.segs.get(seg);
    return !e || (e.pins <= 0 && e.tombs <= 0);
  }

  pins(seg: number): number {
    return this.segs.get(seg)?.pins ?? 0;
  }

  /** bytes of the pinned records in `seg` that count toward live bytes */
  liveBytes(seg: number): number {
    return this.segs.get(seg)?.bytes ?? 0;
  }
}

export interface MaintenanceOptions {
  /** copy the oldest segment forward while there are more segments than this (default 4) */
  compactAfterSegments?: number;
  /** start a fresh active segment when the active one holds nothing needed and is at least this big (default 64 KiB) */
  recycleActiveBytes?: number;
  warn?: WarnFn;
}

export const DEFAULT_COMPACT_AFTER_SEGMENTS = 4;

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
    this.recycleBytes = typeof options.recycleActiveBytes === 'number' && options.recycleActiveBytes >= 0 ? options.recycleActiveBytes : 64 * 1024;
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
    const next = prev.then(() => this.pass()).catch((err) => {
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
      await this.journal.deleteSegment(seg);
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
