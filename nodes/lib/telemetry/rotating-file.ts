/**
 * An append-only line file with size-based rotation and a bounded total size,
 * for edge boxes whose SD cards must not fill up:
 *
 *   audit.log  ← written to
 *   audit.log.1 … audit.log.<maxFiles>  ← older, .1 the newest
 *
 * When a write would take audit.log past `maxBytes`, the files shift by one
 * (the oldest is deleted) and a new audit.log starts; so the total stays
 * below (maxFiles + 1) × maxBytes. Lines are queued in memory and written in
 * batches, one write at a time; at most `maxPendingBytes` wait (a stuck disk
 * drops lines and counts them rather than growing without bound). A line
 * longer than `maxBytes` is cut. No Node-RED import.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';

export interface RotatingFileOptions {
  file: string;
  /** bytes per file */
  maxBytes: number;
  /** rotated files kept besides the current one */
  maxFiles: number;
  /** bytes waiting to be written before lines are dropped (default 4 MiB) */
  maxPendingBytes?: number;
  /** told once per failure streak when a write fails */
  onError?: (err: Error) => void;
}

export class RotatingFile {
  readonly file: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly maxPending: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private size: number | undefined;
  private writing: Promise<void> | undefined;
  private failing = false;
  /** lines are being dropped because the queue is full (told once per streak) */
  private overflowing = false;
  private closed = false;
  /** lines dropped (queue full, or a write that failed) */
  dropped = 0;
  /** lines written */
  written = 0;

  constructor(private readonly opts: RotatingFileOptions) {
    this.file = path.resolve(opts.file);
    this.maxBytes = Math.max(1024, Math.floor(opts.maxBytes));
    this.maxFiles = Math.max(0, Math.floor(opts.maxFiles));
    this.maxPending = Math.max(64 * 1024, opts.maxPendingBytes ?? 4 * 1024 * 1024);
  }

  /** Queues one line (a newline is added). */
  write(line: string): void {
    if (this.closed) return;
    let text = line.replace(/[\r\n]+/g, ' ');
    if (Buffer.byteLength(text) + 1 > this.maxBytes)
      text = Buffer.from(text)
        .subarray(0, this.maxBytes - 2)
        .toString('utf8');
    text += '\n';
    const n = Buffer.byteLength(text);
    if (this.pendingBytes + n > this.maxPending) {
      this.dropped++;
      if (!this.overflowing) this.opts.onError?.(new Error('the disk does not keep up; audit lines are dropped'));
      this.overflowing = true;
      return;
    }
    this.overflowing = false;
    this.pending.push(text);
    this.pendingBytes += n;
    if (!this.writing) this.writing = this.drain();
  }

  /** Resolves once every queued line was written (or dropped). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async drain(): Promise<void> {
    try {
      await fsp.mkdir(path.dirname(this.file), { recursive: true });
      if (this.size === undefined) {
        try {
          this.size = (await fsp.stat(this.file)).size;
        } catch {
          this.size = 0;
        }
      }
      while (this.pending.length > 0) {
        // take what fits in the current file (at least one line)
        const batch: string[] = [];
        let bytes = 0;
        while (this.pending.length > 0) {
          const n = Buffer.byteLength(this.pending[0]);
          if (batch.length > 0 && this.size + bytes + n > this.maxBytes) break;
          if (batch.length === 0 && this.size > 0 && this.size + n > this.maxBytes) break;
          batch.push(this.pending.shift() as string);
          bytes += n;
        }
        if (batch.length === 0) {
          await this.rotate();
          continue;
        }
        this.pendingBytes -= bytes;
        try {
          await fsp.appendFile(this.file, batch.join(''), { mode: 0o640 });
          this.size += bytes;
          this.written += batch.length;
          this.failing = false;
        } catch (err) {
          this.dropped += batch.length;
          this.size = undefined;
          if (!this.failing) this.opts.onError?.(err as Error);
          this.failing = true;
          return;
        }
        if (this.size >= this.maxBytes) await this.rotate();
      }
    } catch (err) {
      this.dropped += this.pending.length;
      this.pending = [];
      this.pendingBytes = 0;
      if (!this.failing) this.opts.onError?.(err as Error);
      this.failing = true;
    } finally {
      this.writing = undefined;
      if (this.pending.length > 0 && !this.failing) this.writing = this.drain();
    }
  }

  private async rotate(): Promise<void> {
    if (this.maxFiles === 0) {
      await fsp.rm(this.file, { force: true });
    } else {
      await fsp.rm(`${this.file}.${this.maxFiles}`, { force: true });
      for (let i = this.maxFiles - 1; i >= 1; i--) {
        await fsp.rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(() => undefined);
      }
      await fsp.rename(this.file, `${this.file}.1`).catch(() => undefined);
    }
    this.size = 0;
  }
}
