/**
 * What opening a journal decides from what it finds on disk, without I/O:
 * which files are segments (and in what order), the manifest to keep after
 * the scan, and whether new records may continue the last segment or must
 * start a fresh one. The journal (journal.ts) reads the files and applies
 * these decisions.
 */
import type { SegmentScan } from './losses';
import type { ManifestEntry } from './manifest';

const SEGMENT_RE = /^seg-(\d{6,})\.log$/;

export function segmentFileName(seq: number): string {
  return `seg-${String(seq).padStart(6, '0')}.log`;
}

/** The segment files among a directory's names, oldest first. */
export function segmentFiles(names: string[]): Array<{ name: string; seq: number }> {
  return names
    .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ name: x.name, seq: Number(x.m[1]) }))
    .sort((a, b) => a.seq - b.seq);
}

/** The sequence number the next record gets: one past the highest seen in the files or the manifest. */
export function nextLsnAfter(scans: SegmentScan[], prior: ManifestEntry[] | undefined): number {
  let max = 0;
  for (const sc of scans) for (const l of sc.lsns) if (l > max) max = l;
  for (const e of prior ?? []) max = Math.max(max, e.last ?? e.first - 1);
  return max + 1;
}

/** The segments there are, as the manifest shall list them from now on (ranges kept from the old one). */
export function manifestAfterScan(
  prior: ManifestEntry[] | undefined,
  scans: SegmentScan[],
  nextLsn: number,
): ManifestEntry[] {
  const known = new Map((prior ?? []).map((e) => [e.seq, e]));
  return scans.map((sc) => ({
    seq: sc.seq,
    first: known.get(sc.seq)?.first ?? (sc.lsns.length > 0 ? sc.lsns[0] : nextLsn),
    last: known.get(sc.seq)?.last ?? (sc.lsns.length > 0 ? sc.lsns[sc.lsns.length - 1] : null),
  }));
}

/**
 * True when new records may follow in the last segment: it is in the current
 * format (or empty), the old manifest did not close it, and its last record
 * is the one just before `nextLsn` (nothing of it was lost). Otherwise new
 * records start a fresh segment, so that sequence numbers stay contiguous
 * within each one.
 */
export function continuesLastSegment(
  last: { legacy: boolean; size: number } | undefined,
  lastScan: SegmentScan | undefined,
  lastEntry: ManifestEntry | undefined,
  nextLsn: number,
): boolean {
  if (last === undefined || lastScan === undefined) return false;
  if (last.legacy && last.size > 0) return false;
  if (lastEntry !== undefined && lastEntry.last !== null) return false;
  return lastScan.lsns.length === 0
    ? lastEntry === undefined || lastEntry.first === nextLsn
    : lastScan.lsns[lastScan.lsns.length - 1] + 1 === nextLsn;
}
