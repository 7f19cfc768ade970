/**
 * What a journal lost, worked out when it is opened: missing segment files
 * and damaged records, each with a count.
 *
 * It rests on two facts the writer keeps:
 *   - every record gets the next sequence number (framing.ts), so the records
 *     of one segment are a contiguous run and a gap between two good records
 *     is exactly the number of records lost between them;
 *   - the manifest (manifest.ts) lists every segment that should exist, with
 *     its first sequence number and, once it is no longer written to, its last.
 * So a segment in the manifest that is not on disk is missing, and its range
 * says how many records went with it; a segment's records that are not found
 * between its first and last sequence number were damaged. Where an end is not
 * known (the tail of the segment being written, a segment the manifest does
 * not know) the sync markers found in the damaged stretch are counted, at
 * least one record per stretch.
 */
import type { BadRegion } from './framing';
import type { ManifestEntry } from './manifest';

export interface SegmentScan {
  seq: number;
  /** written in format 1 (no sequence numbers): only its damaged stretches are counted */
  legacy: boolean;
  /** sequence numbers of the good records, in file order */
  lsns: number[];
  bad: BadRegion[];
  size: number;
}

export interface LossReport {
  /** segment files that should be there and are not */
  missingSegments: number[];
  /** records lost: in missing segments and in damaged stretches */
  lostRecords: number;
  /** one line per loss, for the log */
  lines: string[];
  /**
   * records in the damaged tail of the segment being written, cut off: what a
   * crash in the middle of a write leaves (most likely never acknowledged), so
   * reported on its own and not counted in lostRecords
   */
  tornRecords: number;
}

function atLeastOne(r: BadRegion): number {
  return Math.max(1, r.markers);
}

/** `manifest`: undefined when there was none to check against (then no segment can be called missing). */
export function accountLosses(manifest: ManifestEntry[] | undefined, scans: SegmentScan[]): LossReport {
  const report: LossReport = { missingSegments: [], lostRecords: 0, lines: [], tornRecords: 0 };
  const onDisk = new Set(scans.map((s) => s.seq));
  const known = new Map((manifest ?? []).map((e) => [e.seq, e]));

  for (const e of manifest ?? []) {
    if (onDisk.has(e.seq)) continue;
    report.missingSegments.push(e.seq);
    if (e.last !== null && e.last >= e.first) {
      const n = e.last - e.first + 1;
      report.lostRecords += n;
      report.lines.push(`segment ${e.seq} is missing: ${n} record(s) lost (sequence ${e.first}…${e.last})`);
    } else if (e.last !== null) {
      report.lines.push(`segment ${e.seq} is missing (it held no records)`);
    } else {
      report.lostRecords += 1;
      report.lines.push(
        `segment ${e.seq} is missing: the segment being written, an unknown number of records lost (at least 1 counted)`,
      );
    }
  }

  const newest = scans.reduce((m, s) => Math.max(m, s.seq), 0);
  for (let s of [...scans].sort((a, b) => a.seq - b.seq)) {
    if (s.seq === newest) {
      const tail = s.bad.find((r) => r.offset + r.bytes === s.size);
      if (tail) {
        report.tornRecords = s.legacy ? 1 : atLeastOne(tail);
        s = { ...s, bad: s.bad.filter((r) => r !== tail), size: tail.offset };
      }
    }
    if (s.legacy) {
      for (const r of s.bad) {
        report.lostRecords += 1;
        report.lines.push(
          `segment ${s.seq} (old format): ${r.reason} at offset ${r.offset}, ${r.bytes} byte(s) unreadable (at least 1 record lost)`,
        );
      }
      continue;
    }
    const e = known.get(s.seq);
    const lo = e?.first;
    const hi = e && e.last !== null ? e.last : undefined;
    const n = s.lsns.length;
    const headRegion = s.bad.find((r) => r.offset === 0);
    const tailRegion = s.bad.find((r) => r.offset + r.bytes === s.size && r.bytes > 0);
    let lost = 0;
    if (n === 0) {
      if (lo !== undefined && hi !== undefined) lost = Math.max(0, hi - lo + 1);
      else for (const r of s.bad) lost += atLeastOne(r);
    } else {
      for (let i = 1; i < n; i++) {
        const gap = s.lsns[i] - s.lsns[i - 1] - 1;
        if (gap > 0) lost += gap;
      }
      if (lo !== undefined) lost += Math.max(0, s.lsns[0] - lo);
      else if (headRegion) lost += atLeastOne(headRegion);
      if (hi !== undefined) lost += Math.max(0, hi - s.lsns[n - 1]);
      else if (tailRegion && tailRegion !== headRegion) lost += atLeastOne(tailRegion);
    }
    if (lost === 0) continue;
    report.lostRecords += lost;
    const where = s.bad.map((r) => `${r.reason} at offset ${r.offset} (${r.bytes} bytes)`).join('; ');
    report.lines.push(`segment ${s.seq}: ${lost} damaged record(s) lost${where ? ` — ${where}` : ''}`);
  }
  return report;
}
