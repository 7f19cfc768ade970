/**
 * How one journal record is laid out on disk, and how a segment file is read
 * back record by record — finding the next good record after damage.
 *
 * Record (format 2; all integers big-endian):
 *
 *   offset 0   4 bytes  sync marker D5 3A 7E B1
 *   offset 4   uint32   body length N
 *   offset 8   uint32   CRC-32 (IEEE) of bytes 4…8 and 12…20+N (length, sequence number, type, flags, body)
 *   offset 12  uint48   sequence number: +1 for every record the journal writes, across segments
 *   offset 18  uint8    record type (1…255; 0 is never written, so zero-filled space is corrupt)
 *   offset 19  uint8    flags: bit 0 = the body is encrypted (cipher.ts)
 *   offset 20  N bytes  the body: JSON text (UTF-8), or its encryption
 *
 * The marker can never occur inside a JSON body (0xD5 starts a two-byte UTF-8
 * sequence, and 0x3A is not a continuation byte); in an encrypted body or in a
 * damaged region it may occur by chance, which is why a candidate record counts
 * only when its length and checksum hold as well. So after a damaged record
 * the reader looks for the next marker that starts a valid record and goes on
 * from there: one bad record costs that record, not the rest of the segment.
 *
 * Format 1 (before the sync marker and the sequence number): length, CRC-32
 * of type+body, type, body — a 9-byte header. Segments written that way are
 * still read (`scanLegacy`: the first bad record ends such a segment, as it
 * always did); new records always go to a format-2 segment, and compaction
 * copies live records forward, so old segments disappear on their own.
 */
import { crc32 } from './crc32';

export const MAGIC = Buffer.from([0xd5, 0x3a, 0x7e, 0xb1]);
export const HEADER_BYTES = 20;
export const LEGACY_HEADER_BYTES = 9;
/** a length field above this is treated as corruption rather than trusted */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
export const FLAG_ENCRYPTED = 1;

/** A record as read from a segment: where it is, its header fields and its raw body bytes. */
export interface RawRecord {
  offset: number;
  length: number;
  lsn: number;
  type: number;
  flags: number;
  body: Buffer;
}

/** A stretch of a segment that holds no valid record. */
export interface BadRegion {
  offset: number;
  bytes: number;
  reason: string;
  /** sync markers in the stretch: how many records started there (at least one record is lost) */
  markers: number;
}

/**
 * Builds a record with its sequence number and checksum still to be filled in
 * by `seal()` (the writer assigns sequence numbers in the order records reach
 * the disk). `body` is the JSON text or the encrypted body.
 */
export function frame(type: number, flags: number, body: Buffer | string): Buffer {
  if (!Number.isInteger(type) || type < 1 || type > 255) throw new RangeError(`record type must be 1…255, not ${type}`);
  const n = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (n > MAX_RECORD_BYTES) throw new RangeError(`a record body of ${n} bytes is larger than ${MAX_RECORD_BYTES}`);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + n);
  MAGIC.copy(buf, 0);
  buf.writeUInt32BE(n, 4);
  buf.writeUInt32BE(0, 8);
  buf.writeUIntBE(0, 12, 6);
  buf[18] = type;
  buf[19] = flags;
  if (typeof body === 'string') buf.write(body, HEADER_BYTES, n, 'utf8');
  else body.copy(buf, HEADER_BYTES);
  return buf;
}

function checksum(buf: Buffer, end: number): number {
  return crc32(buf.subarray(12, end), crc32(buf.subarray(4, 8)));
}

/** Sets the sequence number of a framed record and its checksum. */
export function seal(buf: Buffer, lsn: number): Buffer {
  buf.writeUIntBE(lsn, 12, 6);
  buf.writeUInt32BE(checksum(buf, buf.length), 8);
  return buf;
}

/** A whole record (framed and sealed) from JSON text: for tests and tools. */
export function encodeJson(type: number, json: string, lsn = 0): Buffer {
  return seal(frame(type, 0, json), lsn);
}

/** Like encodeJson, from a value. Throws when `body` cannot be serialised. */
export function encodeRecord(type: number, body: unknown, lsn = 0): Buffer {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError('record body is not JSON-serialisable');
  return encodeJson(type, json, lsn);
}

/** The record starting at `at` in `buf` when it is whole and checks out, else why not. */
export function recordAt(buf: Buffer, at: number): RawRecord | string {
  if (at + HEADER_BYTES > buf.length) return 'short header';
  if (buf[at] !== MAGIC[0] || buf[at + 1] !== MAGIC[1] || buf[at + 2] !== MAGIC[2] || buf[at + 3] !== MAGIC[3])
    return 'no sync marker';
  const n = buf.readUInt32BE(at + 4);
  if (n > MAX_RECORD_BYTES) return 'length too large';
  const end = at + HEADER_BYTES + n;
  if (end > buf.length) return 'short record';
  const rec = buf.subarray(at, end);
  if (checksum(rec, rec.length) !== rec.readUInt32BE(8)) return 'checksum mismatch';
  const type = rec[18];
  if (type === 0) return 'type 0';
  return {
    offset: at,
    length: rec.length,
    lsn: rec.readUIntBE(12, 6),
    type,
    flags: rec[19],
    body: rec.subarray(HEADER_BYTES),
  };
}

function countMarkers(buf: Buffer, from: number, to: number): number {
  let n = 0;
  let i = buf.indexOf(MAGIC, from);
  while (i >= 0 && i < to) {
    n++;
    i = buf.indexOf(MAGIC, i + 1);
  }
  return n;
}

/**
 * Reads every valid record of a format-2 segment held in `buf`, in order.
 * Damage never stops the reading: each stretch without a valid record is
 * reported as a BadRegion and reading resumes at the next marker that starts
 * a valid record. `accept` may refuse a record that checks out (e.g. a body
 * that is not JSON): it is then treated as damage too.
 */
export function scan(buf: Buffer, onRecord: (r: RawRecord) => string | undefined): BadRegion[] {
  const bad: BadRegion[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const r = recordAt(buf, pos);
    const refused = typeof r === 'string' ? r : onRecord(r);
    if (refused === undefined) {
      pos += (r as RawRecord).length;
      continue;
    }
    // look for the next marker that starts a record which checks out
    const start = pos;
    let next = -1;
    let from = start + 1;
    for (;;) {
      const i = buf.indexOf(MAGIC, from);
      if (i < 0) break;
      if (typeof recordAt(buf, i) !== 'string') {
        next = i;
        break;
      }
      from = i + 1;
    }
    const end = next < 0 ? buf.length : next;
    bad.push({ offset: start, bytes: end - start, reason: refused, markers: countMarkers(buf, start, end) });
    pos = end;
  }
  return bad;
}

/** Format 1: header (9 bytes) + body; the first bad record ends the segment. */
export function scanLegacy(buf: Buffer, onRecord: (r: RawRecord) => string | undefined): BadRegion[] {
  let pos = 0;
  while (pos < buf.length) {
    const r = legacyRecordAt(buf, pos);
    const refused = typeof r === 'string' ? r : onRecord(r);
    if (refused !== undefined) return [{ offset: pos, bytes: buf.length - pos, reason: refused, markers: 0 }];
    pos += (r as RawRecord).length;
  }
  return [];
}

export function legacyRecordAt(buf: Buffer, at: number): RawRecord | string {
  if (at + LEGACY_HEADER_BYTES > buf.length) return 'short header';
  const n = buf.readUInt32BE(at);
  if (n > MAX_RECORD_BYTES) return 'length too large';
  const end = at + LEGACY_HEADER_BYTES + n;
  if (end > buf.length) return 'short record';
  const rec = buf.subarray(at, end);
  if (crc32(rec.subarray(8)) !== rec.readUInt32BE(4)) return 'checksum mismatch';
  if (rec[8] === 0) return 'type 0';
  return { offset: at, length: rec.length, lsn: -1, type: rec[8], flags: 0, body: rec.subarray(LEGACY_HEADER_BYTES) };
}

/** A format-1 record (for tests of the upgrade path). */
export function encodeLegacy(type: number, json: string): Buffer {
  const n = Buffer.byteLength(json, 'utf8');
  const buf = Buffer.allocUnsafe(LEGACY_HEADER_BYTES + n);
  buf.writeUInt32BE(n, 0);
  buf[8] = type;
  buf.write(json, LEGACY_HEADER_BYTES, n, 'utf8');
  buf.writeUInt32BE(crc32(buf.subarray(8)), 4);
  return buf;
}

/**
 * Which format a segment file is in: format 1 when its first record is a
 * valid format-1 record, or when it holds no sync marker at all (nothing of
 * format 2 to find in it); otherwise format 2.
 */
export function isLegacy(buf: Buffer): boolean {
  if (buf.length === 0) return false;
  if (typeof recordAt(buf, 0) !== 'string') return false;
  if (typeof legacyRecordAt(buf, 0) !== 'string') return true;
  return buf.indexOf(MAGIC) < 0;
}
