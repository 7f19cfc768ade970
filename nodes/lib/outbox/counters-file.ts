/**
 * The queue's counts (delivered, retried, dead-lettered, refused) kept in a
 * small JSON file beside its journal, so that the monitor's figures survive a
 * redeploy and a restart of Node-RED.
 *
 * The counts object stays a plain object that the queue increments; this
 * module loads it at open, writes it when it changed (at most every
 * `intervalMs`, atomically: a temporary file renamed over the old one) and
 * once more at close. A crash loses at most the last interval's increments —
 * counts, never messages. A missing or damaged file starts from zero. No
 * Node-RED import.
 */
import { promises as fsp } from 'fs';
import * as path from 'path';

export const COUNTERS_FILE = 'counters.json';

export interface CountersFileOptions {
  /** how often a change is written at most (default 2 s) */
  intervalMs?: number;
  now?: () => number;
  warn?: (text: string) => void;
}

/** What the file holds. */
export interface SavedCounters {
  v: 1;
  /** when counting began (ms since the epoch): the queue's creation, or the file's */
  since: number;
  counts: Record<string, number>;
}

function validCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses the file's text; undefined when it is not ours or damaged. */
export function parseCounters(text: string): SavedCounters | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (r.v !== 1 || !validCount(r.since) || !r.counts || typeof r.counts !== 'object') return undefined;
  const counts: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.counts as Record<string, unknown>)) if (validCount(v)) counts[k] = v;
  return { v: 1, since: r.since, counts };
}

export class CountersFile<T extends object> {
  readonly file: string;
  /** when counting began */
  since: number;
  private timer: NodeJS.Timeout | undefined;
  private saved = '';
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    dir: string,
    private readonly counts: T,
    private readonly opts: CountersFileOptions,
  ) {
    this.file = path.join(dir, COUNTERS_FILE);
    this.since = (opts.now ?? Date.now)();
  }

  /**
   * Reads the saved counts of `dir` into `counts` (only the keys `counts`
   * already has) and starts writing changes.
   */
  static async open<T extends object>(
    dir: string,
    counts: T,
    opts: CountersFileOptions = {},
  ): Promise<CountersFile<T>> {
    const cf = new CountersFile(dir, counts, opts);
    let text: string | undefined;
    try {
      text = await fsp.readFile(cf.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        opts.warn?.(
          `outbox: the counts in ${cf.file} could not be read (${(err as Error).message}); counting from zero`,
        );
    }
    if (text !== undefined) {
      const saved = parseCounters(text);
      if (!saved) opts.warn?.(`outbox: ${cf.file} is damaged; counting from zero`);
      else {
        cf.since = saved.since;
        const target = counts as Record<string, number>;
        for (const k of Object.keys(target)) if (k in saved.counts) target[k] = saved.counts[k];
        cf.saved = cf.text();
      }
    }
    cf.timer = setInterval(() => void cf.save(), Math.max(50, opts.intervalMs ?? 2000));
    cf.timer.unref();
    return cf;
  }

  private text(): string {
    return JSON.stringify({ v: 1, since: this.since, counts: this.counts });
  }

  /** Writes the counts if they changed since the last write. */
  save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const text = this.text();
      if (text === this.saved) return;
      const tmp = `${this.file}.tmp`;
      try {
        await fsp.writeFile(tmp, text, { mode: 0o600 });
        await fsp.rename(tmp, this.file);
        this.saved = text;
      } catch (err) {
        if (!this.closed || (err as NodeJS.ErrnoException).code !== 'ENOENT')
          this.opts.warn?.(`outbox: the counts could not be written to ${this.file} (${(err as Error).message})`);
      }
    });
    return this.writing;
  }

  /** Stops the timer and writes what changed. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.save();
    this.closed = true;
  }
}
