/**
 * Moving items between the outbox and its dead-letter store, crash-safe:
 *   to the dead letters — the entry is written (fsync'd) to the store first,
 *     then the DEAD record to the outbox; a crash in between leaves the item
 *     in both, and the next open finishes the move (`finishInterruptedMoves`);
 *   back (replay) — re-enqueued first, removed from the store afterwards.
 */
import { toErrorInfo } from '../errors';
import type { AttemptRecord, DeadLetterEntry, DeadLetterStore } from './dead-letter';
import { isObj, type Item } from './item';
import type { Journal, RecordPos, WarnFn } from './journal';
import type { PendingIndex } from './pending-index';
import type { EnqueueInput, EnqueueResult } from './outbox-types';
import { T_DEAD } from './records';

export interface MoveHost {
  index: PendingIndex;
  journal: Journal;
  deadLetter: DeadLetterStore;
  clock: () => number;
  warn: WarnFn;
  loadItem(it: Item): Promise<unknown>;
  setClosing(it: Item, closing: boolean): void;
  removeItem(it: Item, pos: RecordPos): void;
  enqueue(input: EnqueueInput): Promise<EnqueueResult>;
}

/**
 * Items pushed out of a full outbox (policy 'dead-letter-oldest'), already
 * marked closing: moved one after the other, oldest first, so that the dead
 * letters keep the order the items became dead in. When a move fails, the
 * items not moved are pending again and the first failure is thrown.
 */
export async function pushOut(host: MoveHost, victims: Item[], why: string): Promise<void> {
  const results: PromiseSettledResult<void>[] = [];
  for (const v of victims) {
    const [r] = await Promise.allSettled([
      moveToDeadLetter(host, v, {
        code: 'OUTBOX_FULL',
        message: 'pushed out of a full outbox by a newer item',
        details: [{ reason: why }],
      }),
    ]);
    results.push(r);
  }
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return;
  results.forEach((r, i) => {
    if (r.status === 'rejected') host.setClosing(victims[i], false);
  });
  throw failed.reason;
}

/** The item is already marked closing. Throws (leaving it pending) when a step fails. */
export async function moveToDeadLetter(
  host: MoveHost,
  it: Item,
  error: unknown,
  history?: AttemptRecord[],
): Promise<void> {
  let data: unknown = null;
  const info =
    isObj(error) && typeof error.code === 'string' && !(error instanceof Error)
      ? {
          code: error.code,
          message: typeof error.message === 'string' ? error.message : '',
          details: Array.isArray(error.details) ? [...error.details] : [],
        }
      : toErrorInfo(error, 'ERROR');
  try {
    data = await host.loadItem(it);
  } catch (err) {
    info.details.push({ reason: `the data could not be read back: ${(err as Error).message}` });
  }
  const hist =
    history ??
    (it.lastError
      ? [
          {
            at: host.clock(),
            errorCode: it.lastError.code,
            ...(it.lastError.statusCode !== undefined ? { statusCode: it.lastError.statusCode } : {}),
          },
        ]
      : []);
  await host.deadLetter.put({
    id: it.id,
    data,
    error: info,
    attempts: it.attempts,
    history: hist,
    orderingKey: it.key,
    createdAt: it.createdAt,
    enqueueSeq: it.seq,
  });
  const pos = await host.journal.append(T_DEAD, { id: it.id, s: it.seq });
  host.removeItem(it, pos);
}

/** An item both pending and in the dead-letter store under the same seq: the DEAD record was lost in a crash. */
export async function finishInterruptedMoves(host: MoveHost): Promise<void> {
  const finish: Item[] = [];
  for (const it of host.index.items.values()) {
    const d = host.deadLetter.peek(it.id);
    if (d && d.enqueueSeq === it.seq && d.createdAt === it.createdAt) finish.push(it);
  }
  if (finish.length === 0) return;
  host.warn(`outbox: finishing ${finish.length} move(s) to the dead-letter store interrupted by a crash`, {
    ids: finish.map((i) => i.id),
  });
  await Promise.all(
    finish.map(async (it) => {
      host.setClosing(it, true);
      try {
        const pos = await host.journal.append(T_DEAD, { id: it.id, s: it.seq });
        host.removeItem(it, pos);
      } catch (err) {
        host.setClosing(it, false);
        host.warn(`outbox: could not finish the move of ${it.id}: ${(err as Error).message}`, { id: it.id });
      }
    }),
  );
}

/**
 * Sends dead letters again: takes them from the dead-letter store and
 * enqueues each as a fresh item (attempts 0, due now, same id, data and
 * ordering key); entries are removed from the store only after their
 * enqueue resolved. Entries refused because the outbox is full stay there.
 */
export async function replayDeadLetters(
  host: MoveHost,
  ids: Iterable<string> | 'all',
  now?: number,
): Promise<{ requeued: string[]; duplicate: string[]; full: string[] }> {
  const result = { requeued: [] as string[], duplicate: [] as string[], full: [] as string[] };
  await host.deadLetter.take(ids, async (entries: DeadLetterEntry[]) => {
    const rs = await Promise.all(
      entries.map((e) => host.enqueue({ id: e.id, orderingKey: e.orderingKey, data: e.data, now })),
    );
    const ok: string[] = [];
    rs.forEach((r) => {
      if (r.status === 'accepted') result.requeued.push(r.id);
      else if (r.status === 'duplicate') result.duplicate.push(r.id);
      else result.full.push(r.id);
      if (r.status !== 'full') ok.push(r.id);
    });
    return ok;
  });
  return result;
}
