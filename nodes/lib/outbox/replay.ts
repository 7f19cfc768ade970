/**
 * Rebuilding the outbox's index from its journal: the records applied in
 * order (records.ts), each pin and cancel told to the segment ledger so that
 * compaction knows what replay still needs. A PUT for an id that is already
 * pending is a copy made by compaction (same `s`) — or a newer incarnation
 * of an id whose older one was never closed — and replaces it.
 */
import { Item, isObj, normLastError } from './item';
import type { PendingIndex } from './pending-index';
import type { JournalRecord } from './journal';
import type { SegmentLedger } from './ledger';
import { T_DEAD, T_DONE, T_PUT, T_STATE } from './records';

/** The ledger no longer counts the item's PUT and latest STATE. */
export function unpinItem(ledger: SegmentLedger, it: Item): void {
  ledger.unpin(it.putSeg, it.putLen);
  if (it.stateSeg) ledger.unpin(it.stateSeg);
}

/** Applies one record; returns the sequence number it carries. Throws on a record that makes no sense (the journal reports and skips it). */
export function applyRecord(index: PendingIndex, ledger: SegmentLedger, r: JournalRecord): number {
  const b = r.body;
  if (!isObj(b) || typeof b.id !== 'string' || typeof b.s !== 'number')
    throw new Error('record without id or sequence number');
  const existing = index.get(b.id);
  switch (r.type) {
    case T_PUT: {
      if (
        typeof b.c !== 'number' ||
        typeof b.a !== 'number' ||
        typeof b.n !== 'number' ||
        typeof b.b !== 'number' ||
        !('d' in b)
      ) {
        throw new Error('malformed PUT record');
      }
      const key = typeof b.k === 'string' ? b.k : undefined;
      const init = {
        id: b.id,
        key,
        seq: b.s,
        createdAt: b.c,
        attempts: b.a,
        nextAttemptAt: b.n,
        lastError: normLastError(b.e),
        bytes: b.b,
        put: r,
      };
      if (existing) {
        unpinItem(ledger, existing);
        ledger.cancel(existing.putSeg, r.seg);
        index.removeReplayed(existing);
      }
      index.addReplayed(new Item(init));
      ledger.pin(r.seg, r.length);
      return b.s;
    }
    case T_STATE:
      if (!existing || existing.seq !== b.s) return b.s; // about an item no longer here
      if (typeof b.a !== 'number' || typeof b.n !== 'number') throw new Error('malformed STATE record');
      existing.attempts = b.a;
      existing.nextAttemptAt = b.n;
      existing.lastError = normLastError(b.e);
      if (existing.stateSeg) ledger.unpin(existing.stateSeg);
      existing.stateSeg = r.seg;
      ledger.pin(r.seg);
      return b.s;
    case T_DONE:
    case T_DEAD:
      if (!existing || existing.seq !== b.s) return b.s;
      unpinItem(ledger, existing);
      ledger.cancel(existing.putSeg, r.seg);
      index.removeReplayed(existing);
      return b.s;
    default:
      throw new Error(`unknown record type ${r.type}`);
  }
}
