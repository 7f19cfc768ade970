/**
 * A min-heap by (nextAttemptAt, seq) of the outbox items that can be due.
 * Entries go stale (an attempt moved the time, the item left) and are
 * recognised by the item's version `hv`: the caller drops them when met.
 */
import type { Item } from './item';

export interface HeapEntry {
  t: number;
  seq: number;
  hv: number;
  it: Item;
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}

function siftDown(h: HeapEntry[], i: number): void {
  const n = h.length;
  const e = h[i];
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && less(h[r], h[l]) ? r : l;
    if (!less(h[c], e)) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = e;
}

export class DueHeap {
  private h: HeapEntry[] = [];

  get length(): number {
    return this.h.length;
  }

  /** the earliest entry (stale or not) */
  peek(): HeapEntry | undefined {
    return this.h[0];
  }

  /** a new entry for `it` at its current time; older entries of it go stale */
  add(it: Item): void {
    it.hv++;
    this.push({ t: it.nextAttemptAt, seq: it.seq, hv: it.hv, it });
  }

  push(e: HeapEntry): void {
    const h = this.h;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  pop(): HeapEntry | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      siftDown(h, 0);
    }
    return top;
  }

  /** The earliest entry that `accept`s, found by a pass over the array (the heap is not changed). */
  scanMin(accept: (e: HeapEntry) => boolean): HeapEntry | undefined {
    let best: HeapEntry | undefined;
    for (const e of this.h) if ((best === undefined || less(e, best)) && accept(e)) best = e;
    return best;
  }

  /** replaces the content by one fresh entry per item */
  rebuild(items: Iterable<Item>): void {
    const h: HeapEntry[] = [];
    for (const it of items) {
      it.hv++;
      h.push({ t: it.nextAttemptAt, seq: it.seq, hv: it.hv, it });
    }
    for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i);
    this.h = h;
  }
}
