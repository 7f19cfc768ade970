/**
 * Copying the outbox's live items out of an old segment (called by
 * maintenance.ts): each item's PUT is written again — built from the index as
 * it is now, so it carries every attempt recorded so far — and the ledger is
 * told that the old PUT is obsolete.
 */
import type { Item } from './item';
import type { Journal, WarnFn } from './journal';
import type { SegmentLedger } from './ledger';
import type { PendingIndex } from './pending-index';
import { T_PUT, putJson } from './records';
import { unpinItem } from './replay';

export interface CompactionHost {
  index: PendingIndex;
  journal: Journal;
  ledger: SegmentLedger;
  loadItem(it: Item): Promise<unknown>;
  warn: WarnFn;
}

export async function copyForward(host: CompactionHost, seg: number): Promise<void> {
  const victims: Item[] = [];
  for (const it of host.index.items.values()) if (it.putSeg === seg && !it.closing) victims.push(it);
  for (let i = 0; i < victims.length; i += 256) {
    await Promise.all(victims.slice(i, i + 256).map((it) => copyOne(host, it)));
  }
}

async function copyOne(host: CompactionHost, it: Item): Promise<void> {
  let data: unknown;
  try {
    data = await host.loadItem(it);
  } catch (err) {
    host.warn(`outbox: cannot copy ${it.id} forward: ${(err as Error).message}`, { id: it.id });
    return;
  }
  if (host.index.get(it.id) !== it || it.closing) return;
  const pos = await host.journal.appendJson(T_PUT, putJson(it, JSON.stringify(data)));
  if (host.index.get(it.id) !== it) return;
  unpinItem(host.ledger, it);
  host.ledger.cancel(it.putSeg, pos.seg);
  it.setPut(pos);
  it.stateSeg = 0;
  host.ledger.pin(pos.seg, pos.length);
}
