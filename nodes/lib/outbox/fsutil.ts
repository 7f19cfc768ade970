/** Small file helpers shared by the journal, its manifest and its lock. */
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as path from 'path';

/**
 * Segment files are opened with O_DSYNC where the platform has it (Linux,
 * macOS): each write then returns once its data is on the disk, as a write
 * followed by fdatasync would, in one system call and one trip to libuv's
 * thread pool instead of two. Elsewhere (Windows) `syncedWrites` is false and
 * the journal calls datasync() after each write.
 */
const O_DSYNC: number | undefined = fs.constants.O_DSYNC;
export const syncedWrites = typeof O_DSYNC === 'number' && O_DSYNC > 0;

/** Opens a segment file for reading and appending; `create`: a new file (fails when it exists), mode 0600. */
export function openSegmentFile(file: string, create: boolean): Promise<fsp.FileHandle> {
  const c = fs.constants;
  const flags = c.O_RDWR | (create ? c.O_CREAT | c.O_EXCL : 0) | (syncedWrites ? (O_DSYNC as number) : 0);
  return fsp.open(file, flags, 0o600);
}

export async function readFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

export async function writeFully(fh: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
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
export async function makeDir(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  if (first !== undefined) await syncDir(path.dirname(first));
}

/** a whole number ≥ 1, else the default */
export function positive(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 1 ? Math.floor(v) : dflt;
}
