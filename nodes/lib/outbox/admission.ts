/**
 * Whether a new item fits the outbox's limits, and — with the policy
 * 'dead-letter-oldest' — which of the oldest items must make room for it.
 * Pure: counts in, a decision out.
 */
import type { FullReason } from './outbox-types';
import type { Item } from './item';

export interface Limits {
  maxItems: number;
  maxBytes: number;
  fullPolicy: 'refuse' | 'dead-letter-oldest';
}

/** What the limits count now: items not being closed, plus those being written. */
export interface Occupancy {
  count: number;
  bytes: number;
}

export type Admission = { ok: true; victims: Item[] } | { ok: false; reason: FullReason; message: string };

/** `oldest`: the pending items, oldest first (those being closed are passed over). */
export function admit(limits: Limits, now: Occupancy, bytes: number, oldest: Iterable<Item>): Admission {
  const { maxItems, maxBytes } = limits;
  if (bytes > maxBytes)
    return {
      ok: false,
      reason: 'itemTooLarge',
      message: `the item (${bytes} bytes) is larger than maxBytes (${maxBytes})`,
    };
  if (now.count + 1 <= maxItems && now.bytes + bytes <= maxBytes) return { ok: true, victims: [] };
  const reason: FullReason = now.count + 1 > maxItems ? 'maxItems' : 'maxBytes';
  const message =
    reason === 'maxItems'
      ? `the outbox holds its maximum of ${maxItems} items`
      : `the outbox holds ${now.bytes} bytes; this item (${bytes}) would pass maxBytes (${maxBytes})`;
  if (limits.fullPolicy === 'refuse') return { ok: false, reason, message };
  const victims: Item[] = [];
  let count = now.count;
  let size = now.bytes;
  for (const it of oldest) {
    if (count + 1 <= maxItems && size + bytes <= maxBytes) break;
    if (it.closing) continue;
    victims.push(it);
    count--;
    size -= it.bytes;
  }
  // the room may be taken by items still being written: nothing to evict yet
  if (count + 1 > maxItems || size + bytes > maxBytes) return { ok: false, reason, message };
  return { ok: true, victims };
}
