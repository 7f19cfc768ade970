/**
 * The outbox's journal records (framing: framing.ts):
 *   PUT   (1) {id, s: seq, k?: orderingKey, c: createdAt, a: attempts, n: nextAttemptAt, e?: lastError, b: bytes, d: data}
 *   STATE (2) {id, s, a, n, e?}         after an attempt
 *   DONE  (3) {id, s}                   delivered
 *   DEAD  (4) {id, s}                   moved to the dead-letter store
 * `s` (a sequence number given at enqueue) names the incarnation of an id: a
 * STATE/DONE/DEAD applies only to the pending item with that id AND that `s`.
 * Here: how records are built, and an item's data read back from its PUT.
 */
import { IntegrationError } from '../errors';
import { isObj, type Item } from './item';
import type { Journal } from './journal';

export const T_PUT = 1;
export const T_STATE = 2;
export const T_DONE = 3;
export const T_DEAD = 4;

/** The PUT record of an item as it is now, around its data (already JSON). */
export function putJson(it: Item, dataJson: string): string {
  let s = '{"id":' + JSON.stringify(it.id) + ',"s":' + it.seq;
  if (it.key !== undefined) s += ',"k":' + JSON.stringify(it.key);
  s += ',"c":' + JSON.stringify(it.createdAt) + ',"a":' + it.attempts + ',"n":' + JSON.stringify(it.nextAttemptAt);
  if (it.lastError) s += ',"e":' + JSON.stringify(it.lastError);
  return s + ',"b":' + it.bytes + ',"d":' + dataJson + '}';
}

/** The STATE record after an attempt. */
export function stateBody(it: Item): Record<string, unknown> {
  const body: Record<string, unknown> = { id: it.id, s: it.seq, a: it.attempts, n: it.nextAttemptAt };
  if (it.lastError) body.e = it.lastError;
  return body;
}

/**
 * An item's data read back from its PUT record. Compaction may move the
 * record while it is being read: then the read is made again at the new place
 * (a few times at most). Anything else is OUTBOX_UNREADABLE.
 */
export async function readItemData(journal: Journal, it: Item, counted: () => void): Promise<unknown> {
  for (let tries = 0; tries < 4; tries++) {
    const pos = it.put;
    try {
      counted();
      const r = await journal.read(pos);
      if (r.type !== T_PUT || !isObj(r.body) || r.body.id !== it.id) throw new Error('record does not match the index');
      return r.body.d;
    } catch (err) {
      if (it.putSeg !== pos.seg || it.putOff !== pos.offset) continue; // moved by compaction meanwhile
      throw new IntegrationError(
        'OUTBOX_UNREADABLE',
        `the data of ${it.id} cannot be read back: ${(err as Error).message}`,
        [{ field: 'id', reason: 'unreadable on disk', value: it.id }],
      );
    }
  }
  throw new IntegrationError('OUTBOX_UNREADABLE', `the data of ${it.id} kept moving`);
}
