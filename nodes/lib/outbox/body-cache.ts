/**
 * The data of recently enqueued items, kept in memory so that the first
 * attempt — which the scheduler starts right after the enqueue — does not
 * read back from disk (fs read, checksum, decryption) the record that was
 * just written.
 *
 * Bounded by bytes: when a new entry does not fit, the oldest entries go
 * first (their items are then read from disk as before). An entry leaves as
 * soon as its item is delivered, dead-lettered or otherwise removed. The
 * entry is the JSON text that went into the journal, parsed again on each
 * read: a caller that changes what it got, or what it enqueued, changes
 * neither the cache nor the journal. An item enqueued as `owned` (its caller
 * handed the value over and changes it no more) is kept as that value and
 * answered without parsing. After a restart the cache is empty and
 * everything is read from disk.
 */

/** default bound of the cache (bytes of item data) */
export const DEFAULT_BODY_CACHE_BYTES = 4 * 1024 * 1024;

/** what an entry costs beyond its data (map slot, id, object): counted against the bound */
const ENTRY_OVERHEAD = 64;

interface Entry {
  /** the item's incarnation (outbox seq): an entry never answers for a later item with the same id */
  seq: number;
  json: string;
  /** the value itself, for an owned item */
  owned: { value: unknown } | undefined;
  cost: number;
}

export class BodyCache {
  readonly maxBytes: number;
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  /** reads answered from memory since open */
  hits = 0;

  /** `maxBytes` 0 turns the cache off */
  constructor(maxBytes: number) {
    this.maxBytes = Number.isFinite(maxBytes) && maxBytes > 0 ? Math.floor(maxBytes) : 0;
  }

  /**
   * Keeps the data (as written to the journal) of item `id`/`seq`; `bytes` is
   * its UTF-8 size; `owned`: the value itself, answered as it is.
   */
  put(id: string, seq: number, json: string, bytes: number, owned?: { value: unknown }): void {
    this.delete(id);
    const cost = bytes + id.length + ENTRY_OVERHEAD;
    if (cost > this.maxBytes) return;
    while (this.used + cost > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
    this.entries.set(id, { seq, json, owned, cost });
    this.used += cost;
  }

  /** The data of item `id`/`seq` (a fresh copy; an owned item's own value), or undefined when it is not kept. */
  get(id: string, seq: number): { value: unknown } | undefined {
    const e = this.entries.get(id);
    if (!e || e.seq !== seq) return undefined;
    this.hits++;
    return e.owned ?? { value: JSON.parse(e.json) as unknown };
  }

  delete(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.used -= e.cost;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  /** entries kept and the bytes they count */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.used };
  }
}
