/**
 * What the durable queue keeps in memory only, per item queued by this
 * process, and loses on a restart on purpose:
 *   - properties a message cannot store (`msg.req`, `msg.res`, `_msgid` of an
 *     HTTP-in flow waiting for its answer), put back when the message leaves;
 *   - secret-looking headers kept out of an unencrypted journal
 *     (secret-headers.ts): the request's, sent with each attempt, and those of
 *     `msg.headers`, put back when the message leaves;
 *   - the attempt history of items being retried (bounded), for the dead letter.
 */
import type { AttemptRecord } from './dead-letter';
import { isObj } from './durable-types';
import { ShortMap } from '../short-lived';

/** attempt histories kept for at most this many items, each at most this long */
const MAX_HISTORIES = 1000;
export const MAX_HISTORY = 20;

export class InProcess {
  private readonly props = new ShortMap<Record<string, unknown>>();
  private readonly secrets = new ShortMap<{ request: Record<string, string>; msg: Record<string, unknown> }>();
  private readonly histories = new Map<string, AttemptRecord[]>();

  /** after an accepted enqueue */
  keep(
    id: string,
    live: Record<string, unknown> | undefined,
    requestSecrets: Record<string, string>,
    msgSecrets: Record<string, unknown>,
  ): void {
    if (live && Object.keys(live).length > 0) this.props.set(id, live);
    if (Object.keys(requestSecrets).length > 0 || Object.keys(msgSecrets).length > 0) {
      this.secrets.set(id, { request: requestSecrets, msg: msgSecrets });
    }
  }

  /** the secret headers of `msg.headers`, known once the message is written (fast-lane.ts) */
  keepMsgSecrets(id: string, msgSecrets: Record<string, unknown>): void {
    if (Object.keys(msgSecrets).length === 0) return;
    const s = this.secrets.get(id);
    if (s) s.msg = msgSecrets;
    else this.secrets.set(id, { request: {}, msg: msgSecrets });
  }

  /** the secret request headers to send with an attempt (none after a restart) */
  requestSecrets(id: string): Record<string, string> | undefined {
    return this.secrets.get(id)?.request;
  }

  /** The message leaves this process: puts back what was kept for it, then forgets it. */
  reattach(id: string, msg: Record<string, unknown>): Record<string, unknown> {
    const s = this.secrets.get(id);
    this.secrets.delete(id);
    if (s && Object.keys(s.msg).length > 0)
      msg.headers = Object.assign({}, isObj(msg.headers) ? msg.headers : {}, s.msg);
    const live = this.props.get(id);
    this.props.delete(id);
    if (live) {
      for (const k of Object.keys(live)) if (!(k in msg)) msg[k] = live[k];
    }
    return msg;
  }

  /** The item left without a message of ours (reported elsewhere). */
  forget(id: string): void {
    this.props.delete(id);
    this.secrets.delete(id);
    this.histories.delete(id);
  }

  /** keeps the attempts of an item that will be retried (a few, for its dead-letter history) */
  remember(id: string, attempts: AttemptRecord[]): void {
    const prior = this.histories.get(id) ?? [];
    this.histories.delete(id);
    this.histories.set(id, prior.concat(attempts).slice(-MAX_HISTORY));
    while (this.histories.size > MAX_HISTORIES) this.histories.delete(this.histories.keys().next().value as string);
  }

  /** the attempts remembered for an item, plus `more` (the newest MAX_HISTORY) */
  history(id: string, more: AttemptRecord[] = []): AttemptRecord[] {
    return (this.histories.get(id) ?? []).concat(more).slice(-MAX_HISTORY);
  }

  dropHistory(id: string): void {
    this.histories.delete(id);
  }

  clear(): void {
    this.props.clear();
    this.secrets.clear();
    this.histories.clear();
  }
}
