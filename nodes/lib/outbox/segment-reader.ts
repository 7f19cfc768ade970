/**
 * Reading a journal segment when the journal is opened: every record that
 * checks out (framing.ts) is decoded — decrypted when it is encrypted — and
 * handed to the caller; each damaged stretch is reported, a damaged tail of
 * the last segment is cut off, and what was lost is summed up (losses.ts).
 */
import { FLAG_ENCRYPTED, isLegacy, scan, scanLegacy, type BadRegion, type RawRecord } from './framing';
import type { LossReport, SegmentScan } from './losses';
import type { JournalRecord, Segment, WarnFn } from './journal';
import type { RecordCipher } from './cipher';
import { readFully } from './fsutil';

export interface ReaderContext {
  dir: string;
  cipher: RecordCipher | undefined;
  warn: WarnFn;
  onRecord: (record: JournalRecord) => void;
}

function keyError(message: string): Error {
  return Object.assign(new Error(message), { code: 'EJOURNALKEY' });
}

/** Reads one segment: hands its records over, reports its damaged stretches, truncates a damaged tail of the last one. */
export async function readSegment(seg: Segment, last: boolean, ctx: ReaderContext): Promise<SegmentScan> {
  const { warn, onRecord } = ctx;
  const buf = Buffer.allocUnsafe(seg.size);
  const got = await readFully(seg.fh, buf, 0);
  const data = got === seg.size ? buf : buf.subarray(0, got);
  seg.legacy = isLegacy(data);
  const lsns: number[] = [];
  const take = (r: RawRecord): string | undefined => {
    let body: unknown;
    try {
      body = JSON.parse(plainBody(r, ctx.cipher, ctx.dir).toString('utf8'));
    } catch (err) {
      if ((err as { code?: string }).code === 'EJOURNALKEY') throw err;
      return 'body is not JSON';
    }
    if (r.lsn >= 0) lsns.push(r.lsn);
    try {
      onRecord({ type: r.type, body, seg: seg.seq, offset: r.offset, length: r.length });
    } catch (err) {
      warn(`journal: record at ${seg.file} offset ${r.offset} ignored: ${(err as Error).message}`, {
        file: seg.file,
        offset: r.offset,
        reason: (err as Error).message,
        droppedBytes: r.length,
        action: 'ignored',
      });
    }
    return undefined;
  };
  const bad = seg.legacy ? scanLegacy(data, take) : scan(data, take);
  for (const r of bad) await reportBad(seg, r, last, warn);
  return { seq: seg.seq, legacy: seg.legacy, lsns, bad, size: data.length };
}

async function reportBad(seg: Segment, r: BadRegion, last: boolean, warn: WarnFn): Promise<void> {
  const atEnd = r.offset + r.bytes >= seg.size;
  if (last && atEnd) {
    const n = seg.legacy ? 1 : Math.max(1, r.markers);
    warn(
      `journal: ${r.reason} at ${seg.file} offset ${r.offset}; truncating the last segment to its last good record (${r.bytes} bytes, ${n} record(s) dropped: what a crash in the middle of a write leaves)`,
      { file: seg.file, offset: r.offset, reason: r.reason, droppedBytes: r.bytes, action: 'truncated', records: n },
    );
    await seg.fh.truncate(r.offset);
    await seg.fh.sync();
    seg.size = r.offset;
    return;
  }
  const rest = seg.legacy
    ? 'skipping the rest of this segment (old format) and continuing with the next one'
    : 'reading goes on at the next good record';
  warn(`journal: ${r.reason} at ${seg.file} offset ${r.offset}; ${r.bytes} bytes skipped, ${rest}`, {
    file: seg.file,
    offset: r.offset,
    reason: r.reason,
    droppedBytes: r.bytes,
    action: 'skipped',
  });
}

/** One loud warning when anything acknowledged may be gone: how many records, which segments, and each loss. */
export function reportLosses(dir: string, l: LossReport, warn: WarnFn): void {
  if (l.lostRecords === 0 && l.missingSegments.length === 0) return;
  warn(
    `journal ${dir}: ${l.lostRecords} record(s) LOST` +
      (l.missingSegments.length ? `, missing segment(s) ${l.missingSegments.join(', ')}` : '') +
      `; what they held cannot be delivered (${l.lines.join('; ')})`,
    { lostRecords: l.lostRecords, missingSegments: l.missingSegments, lines: l.lines },
  );
}

/** The JSON bytes of a record (decrypted when it is encrypted); throws EJOURNALKEY when the key is missing or another one. */
export function plainBody(
  r: { type: number; flags: number; body: Buffer },
  cipher: RecordCipher | undefined,
  dir: string,
): Buffer {
  if ((r.flags & FLAG_ENCRYPTED) === 0) return r.body;
  if (!cipher) throw keyError(`the journal in ${dir} is encrypted and no key is configured`);
  try {
    return cipher.decrypt(r.type, r.flags, r.body);
  } catch {
    // the checksum held, so this is not damage: the key is another one
    throw keyError(
      `the journal in ${dir} is encrypted with another key than the one configured (key ${cipher.fingerprint})`,
    );
  }
}
