/**
 * The outbox's in-memory index of pending items: the items in enqueue order,
 * one queue per ordering key (only its head may be due), and the due-time
 * heap over the items that can be due. Answers `due()` and `nextDueAt()`.
 */
import { DueHeap, type HeapEntry } from './due-heap';
import type { Item, PendingItem } from './item';
import type { HasKey } from '../short-lived';

function toSet(v: Iterable<string> | undefined): HasKey | undefined {
  if (v === undefined || v === null) return undefined;
  // a Set or a ShortSet (lib/short-lived.ts) is looked up as it is; any other list is made a Set
  return typeof (v as Partial<HasKey>).has === 'function' ? (v as unknown as HasKey) : new Set(v);
}

/** up to this many heap entries, nextDueAt() looks past busy ones with one pass over them */
const SCAN_MAX = 256;

export class PendingIndex {
  /** pending items in enqueue (seq) order */
  readonly items = new Map<string, Item>();
  /** ordering key → its pending items in seq order (the head is the only one eligible) */
  private keyQueues = new Map<string, Item[]>();
  /** heads of their ordering key and items without a key, by due time */
  private readonly heap = new DueHeap();
  /** sum of the items' data sizes */
  totalBytes = 0;

  get size(): number {
    return this.items.size;
  }

  get(id: string): Item | undefined {
    return this.items.get(id);
  }

  /** the oldest pending item */
  first(): Item | undefined {
    const f = this.items.values().next();
    return f.done ? undefined : f.value;
  }

  /** A new item (the newest): joins its key's queue and, when it can be due, the heap. */
  add(it: Item): void {
    this.items.set(it.id, it);
    if (it.key !== undefined) this.keyPush(it);
    if (this.isHead(it)) this.heapAdd(it);
    this.totalBytes += it.bytes;
  }

  /** While replaying: only the map and the bytes (the order is rebuilt once at the end). */
  addReplayed(it: Item): void {
    this.items.set(it.id, it);
    this.totalBytes += it.bytes;
  }

  /** While replaying: a record closed the item. */
  removeReplayed(it: Item): void {
    this.items.delete(it.id);
    this.totalBytes -= it.bytes;
  }

  /** The item is gone: leaves its key's queue (whose next item may be due now). */
  remove(it: Item): void {
    this.items.delete(it.id);
    this.keyRemove(it);
    this.totalBytes -= it.bytes;
  }

  /** Its next attempt time changed. */
  touched(it: Item): void {
    if (this.isHead(it)) this.heapAdd(it);
  }

  /** After replay: items in seq order, key queues, heap. */
  rebuildOrder(): void {
    let last = -Infinity;
    let sorted = true;
    for (const it of this.items.values()) {
      if (it.seq < last) {
        sorted = false;
        break;
      }
      last = it.seq;
    }
    if (!sorted) {
      const all = [...this.items.values()].sort((a, b) => a.seq - b.seq);
      this.items.clear();
      for (const it of all) this.items.set(it.id, it);
    }
    this.keyQueues = new Map();
    for (const it of this.items.values()) if (it.key !== undefined) this.keyPush(it);
    this.rebuildHeap();
  }

  /** Pending items (copies), oldest first: `limit` (default all) from `offset` (default 0). */
  list(options: { limit?: number; offset?: number } = {}): PendingItem[] {
    const limit = typeof options.limit === 'number' && options.limit >= 0 ? options.limit : Infinity;
    const offset = typeof options.offset === 'number' && options.offset > 0 ? Math.floor(options.offset) : 0;
    const out: PendingItem[] = [];
    let i = 0;
    for (const it of this.items.values()) {
      if (out.length >= limit) break;
      if (i++ < offset) continue;
      out.push(it.view());
    }
    return out;
  }

  /** the head of its ordering key, or without a key: the only items that can be due */
  isHead(it: Item): boolean {
    if (it.key === undefined) return true;
    const q = this.keyQueues.get(it.key);
    return q !== undefined && q[0] === it;
  }

  private keyPush(it: Item): void {
    const k = it.key as string;
    const q = this.keyQueues.get(k);
    if (q) q.push(it);
    else this.keyQueues.set(k, [it]);
  }

  private keyRemove(it: Item): void {
    if (it.key === undefined) return;
    const q = this.keyQueues.get(it.key);
    if (!q) return;
    if (q[0] === it) {
      q.shift();
      if (q.length > 0) this.heapAdd(q[0]); // the next one of this key may be due now
    } else {
      const i = q.indexOf(it);
      if (i >= 0) q.splice(i, 1);
    }
    if (q.length === 0) this.keyQueues.delete(it.key);
  }

  private heapAdd(it: Item): void {
    this.heap.add(it);
    if (this.heap.length > 2 * this.items.size + 1024) this.rebuildHeap();
  }

  private rebuildHeap(): void {
    this.heap.rebuild([...this.items.values()].filter((it) => this.isHead(it)));
  }

  private current(e: HeapEntry): boolean {
    return e.hv === e.it.hv && this.items.get(e.it.id) === e.it;
  }

  private skip(it: Item, busyKeys: HasKey | undefined, busyIds: HasKey | undefined): boolean {
    return (
      it.closing ||
      (busyIds !== undefined && busyIds.has(it.id)) ||
      (it.key !== undefined && busyKeys !== undefined && busyKeys.has(it.key))
    );
  }

  /**
   * Up to `limit` pending items whose nextAttemptAt ≤ now, oldest first. Only
   * the head (earliest pending item) of each ordering key is eligible; items
   * without a key are independent. Items whose key is in `busyKeys`, items in
   * `busyIds` (e.g. attempts in flight), and items being completed are skipped.
   * Cost: O(d log n) for d due items, or a scan in enqueue order that stops
   * after `limit` finds when many are due.
   */
  due(now: number, limit = Infinity, busyKeys?: Iterable<string>, busyIds?: HasKey): PendingItem[] {
    const bk = toSet(busyKeys);
    if (!(limit > 0)) return [];
    if (Number.isFinite(limit)) {
      // first a short scan in enqueue order: when the oldest items are due (a
      // backlog being worked off) it finds them at once
      const found: Item[] = [];
      let budget = 64 + 4 * limit;
      let complete = true;
      for (const it of this.items.values()) {
        if (budget-- <= 0) {
          complete = false;
          break;
        }
        if (it.nextAttemptAt > now || !this.isHead(it) || this.skip(it, bk, busyIds)) continue;
        found.push(it);
        if (found.length >= limit) return found.map((it) => it.view());
      }
      if (complete) return found.map((it) => it.view()); // looked at every item
    }
    const h = this.heap;
    const cap = Math.max(1024, Number.isFinite(limit) ? 4 * limit : 0);
    const popped: HeapEntry[] = [];
    let many = false;
    while (h.length > 0 && (h.peek() as HeapEntry).t <= now) {
      const e = h.pop() as HeapEntry;
      if (!this.current(e)) continue; // stale: dropped for good
      popped.push(e);
      if (popped.length > cap) {
        many = true;
        break;
      }
    }
    let out: Item[];
    if (!many) {
      out = popped
        .filter((e) => !this.skip(e.it, bk, busyIds))
        .map((e) => e.it)
        .sort((a, b) => a.seq - b.seq);
      if (out.length > limit) out.length = limit;
    } else {
      // so many are due that a scan in enqueue order finds the oldest ones sooner
      out = [];
      for (const it of this.items.values()) {
        if (it.nextAttemptAt > now || !this.isHead(it) || this.skip(it, bk, busyIds)) continue;
        out.push(it);
        if (out.length >= limit) break;
      }
    }
    for (const e of popped) h.push(e); // still pending and due: they stay in the heap
    return out.map((it) => it.view());
  }

  /**
   * The earliest nextAttemptAt among the items `due()` could return, given
   * the same busy keys / ids (undefined when none). Cheap: a look at the top
   * of the due-time heap.
   */
  nextDueAt(busyKeys?: Iterable<string>, busyIds?: HasKey): number | undefined {
    const bk = toSet(busyKeys);
    const h = this.heap;
    const aside: HeapEntry[] = [];
    let found: number | undefined;
    while (h.length > 0) {
      const top = h.peek() as HeapEntry;
      if (!this.current(top)) {
        h.pop();
        continue;
      }
      if (this.skip(top.it, bk, busyIds)) {
        if (h.length <= SCAN_MAX) {
          // a small heap whose top is in flight (the usual case under load): one pass beats
          // taking the busy entries off and putting them back at every look
          found = h.scanMin((e) => this.current(e) && !this.skip(e.it, bk, busyIds))?.t;
          break;
        }
        aside.push(h.pop() as HeapEntry);
        continue;
      }
      found = top.t;
      break;
    }
    for (const e of aside) h.push(e);
    return found;
  }
}
