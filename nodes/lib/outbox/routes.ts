/**
 * One event may become several requests through the same HTTP POST node (the
 * same order to /orders.csv and /orders.xml) under one idempotency key. The
 * outbox item id is the key; a pending item with this key but another method
 * or path is not a duplicate, and the new one is queued as
 * `<key>#<hash of method and path>`, still sent with the same key.
 */
import { createHash } from 'crypto';
import type { EnqueueResult, Outbox } from './outbox';
import { parseStoredItem, type StoredItem } from './durable-types';

export class RouteIds {
  /** ids being enqueued (written, not yet synced) → the routes (method + path) of those requests */
  private readonly enqueuing = new Map<string, string[]>();

  constructor(private readonly outbox: Outbox) {}

  /** true while a request under `key` is being enqueued */
  busy(key: string): boolean {
    return this.enqueuing.has(key);
  }

  /**
   * Enqueues `data` under `key`, or under a route-specific id when `key` is
   * taken by another route. `data` is handed over (`owned`): the queue built
   * it for this call, and neither it nor whoever loads it changes it.
   */
  async enqueue(key: string, orderingKey: string | undefined, data: StoredItem, now: number): Promise<EnqueueResult> {
    const route = `${data.request.method ?? ''} ${data.request.path}`;
    const routeId = () => `${key}#${createHash('sha256').update(route).digest('hex').slice(0, 12)}`;
    const busy = this.enqueuing.get(key);
    if (busy && !busy.includes(route)) {
      // the same key is being queued right now for another request
      return this.outbox.enqueue({ id: routeId(), orderingKey, data, now, owned: true });
    }
    this.enqueuing.set(key, (busy ?? []).concat(route));
    let r: EnqueueResult;
    try {
      r = await this.outbox.enqueue({ id: key, orderingKey, data, now, owned: true });
    } finally {
      const list = this.enqueuing.get(key) ?? [];
      const i = list.indexOf(route);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.enqueuing.delete(key);
    }
    if (r.status !== 'duplicate') return r;
    let pending: StoredItem | undefined;
    try {
      pending = parseStoredItem(await this.outbox.load(key));
    } catch {
      pending = undefined;
    }
    const pendingRoute = pending ? `${pending.request.method ?? ''} ${pending.request.path}` : route;
    return pendingRoute !== route ? this.outbox.enqueue({ id: routeId(), orderingKey, data, now, owned: true }) : r;
  }
}
