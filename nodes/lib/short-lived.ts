/**
 * Tables for what lives as long as one message: the deliveries in flight,
 * the queue's items being worked on, their secrets kept in memory.
 *
 * On Node.js 20 (V8 11.3) a Map or a Set that lives long — a node's, a
 * queue's — carries what was put in it and taken out again into the old
 * generation: each message's state, request and what they point at outlived
 * the young generation's collections, and the heap grew towards its first
 * full collection several times faster (`bench/peers` measures peak memory;
 * a closed loop of 50 in flight, 5 ms each, promoted about 200–600 bytes per
 * message through a Map and none through these tables). These keep their
 * entries as properties of a plain object instead, which V8 does not do that
 * for. Keys are strings; entries come back in the order they were first set,
 * except keys that read as array indices ("12"), which come first, in
 * numeric order (as an object's properties do).
 * Only what the package uses of Map and Set is here. No Node-RED.
 */

/** what a lookup needs of a set: ShortSet and Set both have it */
export interface HasKey {
  has(key: string): boolean;
}

export class ShortMap<V> {
  // a null prototype: every string is a key of its own ("__proto__", "constructor" …)
  private store: Record<string, V> = Object.create(null);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return key in this.store;
  }

  get(key: string): V | undefined {
    return this.store[key];
  }

  set(key: string, value: V): this {
    if (!(key in this.store)) this.count++;
    this.store[key] = value;
    return this;
  }

  delete(key: string): boolean {
    if (!(key in this.store)) return false;
    delete this.store[key];
    this.count--;
    return true;
  }

  clear(): void {
    this.store = Object.create(null);
    this.count = 0;
  }

  /** the keys (a copy): those that read as array indices first, in numeric order, then the rest oldest first */
  keys(): string[] {
    return Object.keys(this.store);
  }

  /** the values (a copy), in the order of keys() */
  values(): V[] {
    return Object.values(this.store);
  }

  entries(): Array<[string, V]> {
    return Object.entries(this.store);
  }

  /** calls `fn` with each entry, in the order of keys(), without copying them */
  forEach(fn: (value: V, key: string) => void): void {
    for (const key in this.store) fn(this.store[key], key);
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries()[Symbol.iterator]();
  }
}

export class ShortSet {
  private readonly map = new ShortMap<true>();

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  add(key: string): this {
    this.map.set(key, true);
    return this;
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  /** the members, oldest first (a copy) */
  values(): string[] {
    return this.map.keys();
  }

  [Symbol.iterator](): IterableIterator<string> {
    return this.map.keys()[Symbol.iterator]();
  }
}

/** Things without a name of their own (promises, jobs), each under a number given when it is added. */
export class ShortList<V> {
  // numbered entries of a plain object: an object's integer keys come back in numeric order, the oldest first
  private readonly store: Record<number, V> = Object.create(null);
  private count = 0;
  private next = 0;

  get size(): number {
    return this.count;
  }

  /** adds `value`; the number returned takes it out again */
  add(value: V): number {
    const id = this.next++;
    this.store[id] = value;
    this.count++;
    return id;
  }

  delete(id: number): boolean {
    if (!(id in this.store)) return false;
    delete this.store[id];
    this.count--;
    return true;
  }

  /** the values, oldest first (a copy) */
  values(): V[] {
    return Object.values(this.store);
  }
}
