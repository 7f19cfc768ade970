/**
 * Remembers the event ids seen in the last `windowMs` milliseconds so that a
 * redelivered event is recognised and dropped. Memory is bounded: at most
 * `maxEntries` ids are kept, the oldest going first; ids also expire by time.
 * The clock is injectable so that expiry can be tested without waiting.
 */

export const DEFAULT_MAX_ENTRIES = 10000;

export interface DedupeOptions {
  /** how long an id is remembered, in milliseconds; 0 (or less) turns deduplication off */
  windowMs: number;
  /** the most ids kept at once (default 10000) */
  maxEntries?: number;
  /** the clock, in milliseconds (default Date.now) */
  now?: () => number;
}

export class DedupeCache {
  readonly windowMs: number;
  readonly maxEntries: number;
  private readonly now: () => number;
  /** id → time first seen; Map keeps insertion order, i.e. oldest first */
  private readonly seen = new Map<string, number>();

  constructor(options: DedupeOptions) {
    this.windowMs = Number.isFinite(options.windowMs) && options.windowMs > 0 ? options.windowMs : 0;
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxEntries = Number.isFinite(max) && max >= 1 ? Math.floor(max) : DEFAULT_MAX_ENTRIES;
    this.now = options.now ?? Date.now;
  }

  /** false when deduplication is off */
  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** how many ids are remembered right now (after expiring old ones) */
  get size(): number {
    this.prune(this.now());
    return this.seen.size;
  }

  /**
   * Returns true when `id` was already seen within the window (a duplicate);
   * otherwise records it and returns false. A duplicate does not extend the
   * window: it runs from the first time the id was seen.
   */
  check(id: string): boolean {
    if (!this.enabled) return false;
    const now = this.now();
    this.prune(now);
    const first = this.seen.get(id);
    if (first !== undefined) {
      if (now - first < this.windowMs) return true;
      this.seen.delete(id);
    }
    this.seen.set(id, now);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (oldest.done) break;
      this.seen.delete(oldest.value);
    }
    return false;
  }

  /** true when `id` is remembered (without recording it) */
  has(id: string): boolean {
    if (!this.enabled) return false;
    this.prune(this.now());
    return this.seen.has(id);
  }

  clear(): void {
    this.seen.clear();
  }

  /** Drops the ids whose window has passed, oldest first. */
  private prune(now: number): void {
    for (const [id, first] of this.seen) {
      if (now - first < this.windowMs) break;
      this.seen.delete(id);
    }
  }
}
