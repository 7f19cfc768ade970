/** The journal's public shapes (journal.ts). */
import type { FileHandle } from 'fs/promises';
import type { LockOptions } from './lock';
import type { RecordCipher } from './cipher';

/** Where a record lives: segment number, byte offset of its header, total length (header included). */
export interface RecordPos {
  seg: number;
  offset: number;
  length: number;
}

export interface JournalRecord extends RecordPos {
  type: number;
  body: any;
}

export interface JournalWarning {
  /** absolute path of the segment file */
  file: string;
  /** byte offset of the first bad byte */
  offset: number;
  /** what was wrong: 'short header', 'short record', 'no sync marker', 'length too large', 'checksum mismatch', 'type 0', 'body is not JSON', or a reader's complaint */
  reason: string;
  /** bytes ignored from `offset` */
  droppedBytes: number;
  /** 'truncated' (damaged tail of the last segment, cut off), 'skipped' (a damaged stretch, reading went on after it), 'ignored' (one record refused by the reader) */
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
  /** encrypts every record written (and is needed to read encrypted records) */
  cipher?: RecordCipher;
}

/** A segment file the journal has open. */
export interface Segment {
  seq: number;
  file: string;
  fh: FileHandle;
  /** bytes in the file (for the active segment: the end of the last durable record) */
  size: number;
  /** written in format 1 (read only) */
  legacy: boolean;
}

/** A record queued for the next group commit. */
export interface PendingRecord {
  buf: Buffer;
  resolve: (pos: RecordPos) => void;
  reject: (err: Error) => void;
}
