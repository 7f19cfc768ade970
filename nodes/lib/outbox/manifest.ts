/**
 * The journal's manifest: `<dir>/MANIFEST`, the list of segments that should
 * exist, each with its first sequence number and — once the writer has moved
 * on to a newer segment — its last one:
 *
 *   {"v":1,"segments":[[3,1200,1899],[5,2400,null]]}
 *
 * It is rewritten (temporary file, fsync, rename, fsync of the directory)
 * when a segment is created — before anything is written to it — and before
 * a segment is deleted, so a segment file that is in the manifest and not on
 * disk was lost, not compacted away (losses.ts). It holds no record data.
 */
import * as fsp from 'fs/promises';
import * as path from 'path';
import { syncDir } from './fsutil';

export const MANIFEST_FILE = 'MANIFEST';

export interface ManifestEntry {
  seq: number;
  first: number;
  /** null while the segment is the one being written */
  last: number | null;
}

/** The manifest in `dir`; undefined when there is none or it cannot be read (with the reason). */
export async function readManifest(dir: string): Promise<{ entries?: ManifestEntry[]; problem?: string }> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `the manifest cannot be read: ${(err as Error).message}` };
  }
  try {
    const o = JSON.parse(text);
    if (!o || !Array.isArray(o.segments)) throw new Error('no segment list');
    const entries: ManifestEntry[] = [];
    for (const s of o.segments) {
      if (
        !Array.isArray(s) ||
        !Number.isInteger(s[0]) ||
        !Number.isInteger(s[1]) ||
        !(s[2] === null || Number.isInteger(s[2]))
      )
        throw new Error('bad entry');
      entries.push({ seq: s[0], first: s[1], last: s[2] });
    }
    return { entries };
  } catch (err) {
    return { problem: `the manifest is damaged (${(err as Error).message})` };
  }
}

export async function writeManifest(dir: string, entries: ManifestEntry[]): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  const tmp = `${file}.tmp`;
  const body = JSON.stringify({ v: 1, segments: entries.map((e) => [e.seq, e.first, e.last]) });
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  await syncDir(dir);
}
