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
 * for. Keys are strings; entries come back in the order they were first set.
 * Only what the package uses of Map and Set is here. No Node-RED.
 */

/** what a lookup needs of a set: ShortSet and Set both have it */
export interface HasKey {
  has(key: string): boolean;
}

// a prefix that no array index has: every key then keeps its insertion order (and "__proto__" is a key)
const P = '~';

export class ShortMap<V> {
  private store: Record<string, V> = Object.create(null);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(key: string): boolean {
    return P + key in this.store;
  }

  get(key: string): V | undefined {
    return this.store[P + key];
  }

  set(key: string, value: V): this {
    const k = P + key;
    if (!(k in this.store)) this.count++;
    this.store[k] = value;
    return this;
  }

  delete(key: string): boolean {
    const k = P + key;
    if (!(k in this.store)) return false;
    delete this.store[k];
    this.count--;
    return true;
  }

  clear(): void {
    this.store = Object.create(null);
    this.count = 0;
  }

  /** the keys, oldest first (a copy) */
  keys(): string[] {
    return Object.keys(this.store).map((k) => k.slice(P.length));
  }

  /** the values, oldest first (a copy) */
  values(): V[] {
    return Object.values(this.store);
  }

  entries(): Array<[string, V]> {
    return Object.keys(this.store).map((k) => [k.slice(P.length), this.store[k]]);
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
  private readonly map = new ShortMap<V>();
  private next = 0;

  get size(): number {
    return this.map.size;
  }

  /** adds `value`; the number returned takes it out again */
  add(value: V): string {
    const id = String(this.next++);
    this.map.set(id, value);
    return id;
  }

  delete(id: string): boolean {
    return this.map.delete(id);
  }

  /** the values, oldest first (a copy) */
  values(): V[] {
    return this.map.values();
  }
}
