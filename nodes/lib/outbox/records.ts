/**
 * The outbox's journal records (framing: framing.ts):
 *   PUT   (1) {id, s: seq, k?: orderingKey, c: createdAt, a: attempts, n: nextAttemptAt, e?: lastError, b: bytes, d: data}
 *   STATE (2) {id, s, a, n, e?}         after an attempt
 *   DONE  (3) {id, s}                   delivered
 *   DEAD  (4) {id, s}                   moved to the dead-letter store
 * `s` (a sequence number given at enqueue) names the incarnation of an id: a
 * STATE/DONE/DEAD applies only to the pending item with that id AND that `s`.
 */
import type { Item } from './item';

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
