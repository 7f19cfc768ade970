/**
 * An exclusive lock on a journal directory, across processes, in pure
 * JavaScript (no flock): the file `<dir>/LOCK` holds who owns it.
 *
 *   {"pid":1234,"host":"edge-7","start":"8823411","since":1733470000000,"token":"…"}
 *
 * Taking it: the owner's record is written to a private temporary file, which
 * is then hard-linked to `LOCK` — `link()` fails with EEXIST when the lock is
 * held, and a lock file is never seen half-written. (Where hard links are not
 * supported, `open(LOCK, 'wx')` is used instead.)
 *
 * A lock whose owner is gone is stale and taken over:
 *   - same host: the pid no longer exists, or it exists but is another
 *     process (its start time, read from /proc/<pid>/stat on Linux, differs
 *     from the one recorded: the pid was reused);
 *   - another host (a shared or network file system, a recreated container):
 *     the owner refreshes the lock file's mtime every `heartbeatMs`; a lock not
 *     refreshed for `staleAfterMs` is stale.
 * Two processes that find the same stale lock do not both take it over: the
 * takeover itself is guarded by `LOCK.takeover` (created with `wx`), and the
 * lock is re-read under that guard before it is replaced.
 *
 * Released by `release()` (only while `LOCK` is still ours). A process that
 * dies leaves the file behind; the next owner sees the pid gone.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';

export const LOCK_FILE = 'LOCK';
const TAKEOVER_FILE = 'LOCK.takeover';
export const DEFAULT_HEARTBEAT_MS = 30_000;
export const DEFAULT_STALE_AFTER_MS = 180_000;

export interface LockOwner {
  pid: number;
  host: string;
  /** the process start time as the OS tells it (Linux: /proc/<pid>/stat field 22), '' where unknown */
  start: string;
  /** when the lock was taken (ms since the epoch) */
  since: number;
  /** random: tells this taking of the lock from any other */
  token: string;
}

export interface LockOptions {
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** told when a stale lock is taken over */
  warn?: (message: string) => void;
}

/** The start time of a process, '' when it cannot be told (not Linux, no such process). */
export function processStart(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may hold spaces
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return '';
  }
}

/** true: the process exists (or exists under another user); false: it does not. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text);
    if (o && typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string') {
      return {
        pid: o.pid,
        host: o.host,
        start: typeof o.start === 'string' ? o.start : '',
        since: typeof o.since === 'number' ? o.since : 0,
        token: o.token,
      };
    }
  } catch {
    // garbled: judged by its age below
  }
  return undefined;
}

export class LockedError extends Error {
  readonly code = 'EOUTBOXLOCKED';
  constructor(
    readonly dir: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(
      `the outbox directory ${dir} is in use by another process` +
        (owner ? ` (pid ${owner.pid} on ${owner.host}, since ${new Date(owner.since).toISOString()})` : '') +
        '; two Node-RED processes must not share one user directory (or sayproOutboxDir). ' +
        `If that process is gone for good, delete ${path.join(dir, LOCK_FILE)}`,
    );
  }
}

/** Why a lock is stale, or undefined when its owner may still be alive. */
function staleReason(
  owner: LockOwner | undefined,
  mtimeMs: number,
  now: number,
  staleAfterMs: number,
): string | undefined {
  const host = os.hostname();
  if (owner && owner.host === host) {
    if (owner.pid === process.pid && owner.start === processStart(process.pid)) return undefined; // ours (another journal object of this process)
    if (!pidAlive(owner.pid)) return `process ${owner.pid} is gone`;
    const start = processStart(owner.pid);
    if (owner.start !== '' && start !== '' && start !== owner.start)
      return `pid ${owner.pid} now belongs to another process`;
    return undefined;
  }
  // another host, or a file that cannot be read: only its heartbeat tells
  if (now - mtimeMs > staleAfterMs)
    return owner
      ? `not refreshed by ${owner.host} for ${Math.round((now - mtimeMs) / 1000)} s`
      : 'unreadable and not refreshed';
  return undefined;
}

async function writeNew(file: string, text: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await fsp.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fsp.link(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
    // no hard links here: exclusive create, then write (a torn file is judged by its age)
    let fh2: fsp.FileHandle;
    try {
      fh2 = await fsp.open(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      await fh2.writeFile(text);
      await fh2.sync();
    } finally {
      await fh2.close();
    }
    return true;
  } finally {
    await fsp.unlink(tmp).catch(() => undefined);
  }
}

async function readLock(
  file: string,
): Promise<{ text: string; owner: LockOwner | undefined; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    return { text, owner: parseOwner(text), mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export class DirLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    readonly dir: string,
    readonly owner: LockOwner,
  ) {}

  /** Takes the lock on `dir` (which must exist) or throws a LockedError (code EOUTBOXLOCKED). */
  static async acquire(dir: string, options: LockOptions = {}): Promise<DirLock> {
    const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const file = path.join(dir, LOCK_FILE);
    const owner: LockOwner = {
      pid: process.pid,
      host: os.hostname(),
      start: processStart(process.pid),
      since: Date.now(),
      token: randomBytes(12).toString('hex'),
    };
    const text = JSON.stringify(owner);
    for (let round = 0; round < 5; round++) {
      if (await writeNew(file, text)) return DirLock.started(dir, owner, heartbeatMs);
      const seen = await readLock(file);
      if (!seen) continue; // released meanwhile
      const why = staleReason(seen.owner, seen.mtimeMs, Date.now(), staleAfterMs);
      if (why === undefined) throw new LockedError(dir, seen.owner);
      if (await DirLock.takeOver(dir, seen.text, text, staleAfterMs)) {
        options.warn?.(`outbox: took over the stale lock on ${dir} (${why})`);
        return DirLock.started(dir, owner, heartbeatMs);
      }
    }
    throw new LockedError(dir, (await readLock(file))?.owner);
  }

  private static started(dir: string, owner: LockOwner, heartbeatMs: number): DirLock {
    const l = new DirLock(dir, owner);
    if (heartbeatMs > 0) {
      l.timer = setInterval(() => void l.beat(), heartbeatMs);
      l.timer.unref();
    }
    return l;
  }

  /** Replaces a stale lock (still holding `staleText`) by ours, under the takeover guard. */
  private static async takeOver(
    dir: string,
    staleText: string,
    ourText: string,
    staleAfterMs: number,
  ): Promise<boolean> {
    const file = path.join(dir, LOCK_FILE);
    const guard = path.join(dir, TAKEOVER_FILE);
    if (!(await writeNew(guard, ourText))) {
      // someone is taking it over right now — unless that one died doing so
      const g = await readLock(guard);
      if (g && staleReason(g.owner, g.mtimeMs, Date.now(), Math.min(staleAfterMs, 10_000)) !== undefined)
        await fsp.unlink(guard).catch(() => undefined);
      return false;
    }
    try {
      const now = await readLock(file);
      if (now && now.text !== staleText) return false; // replaced meanwhile: look again
      if (now) await fsp.unlink(file);
      return await writeNew(file, ourText);
    } finally {
      await fsp.unlink(guard).catch(() => undefined);
    }
  }

  private async beat(): Promise<void> {
    if (this.released) return;
    const t = new Date();
    await fsp.utimes(path.join(this.dir, LOCK_FILE), t, t).catch(() => undefined);
  }

  /** true while the lock file is still ours */
  async held(): Promise<boolean> {
    const now = await readLock(path.join(this.dir, LOCK_FILE)).catch(() => undefined);
    return now?.owner?.token === this.owner.token;
  }

  /** Deletes the lock file (only when it is still ours) and stops the heartbeat. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    if (await this.held()) await fsp.unlink(path.join(this.dir, LOCK_FILE)).catch(() => undefined);
  }
}
