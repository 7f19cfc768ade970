/**
 * Messages that steer the HTTP POST node's dead letters instead of being
 * delivered: `msg.command` = "list" (msg.limit, msg.offset), "replay" or
 * "purge" (msg.ids: absent for all, one id, or a list of ids). A malformed
 * msg.ids is refused, never taken as "all" by mistake. `answerCommand` is
 * the whole step, `commandLog` what the node logs after it. No Node-RED here.
 */
import { IntegrationError } from '../errors';

export const COMMANDS = ['replay', 'purge', 'list'] as const;
export type CommandName = (typeof COMMANDS)[number];

export type Command =
  { name: 'list'; limit: number; offset: number } | { name: 'replay' | 'purge'; ids: string[] | 'all' };

/** what the dead letters of a queue offer (lib/outbox/durable.ts, lib/shared-queue) */
export interface DeadLetterStore {
  listDeadLetters(o: { limit: number; offset: number }): Promise<unknown> | unknown;
  replay(ids: string[] | 'all'): Promise<{ requeued: unknown[]; duplicate: unknown[]; full: unknown[] }>;
  purge(ids: string[] | 'all'): Promise<number>;
}

export type CommandResult =
  | { name: 'list'; payload: unknown }
  | { name: 'replay'; requeued: number; duplicate: number; full: number }
  | { name: 'purge'; purged: number };

export type CommandAnswer = { ok: true; result: CommandResult } | { ok: false; error: IntegrationError };

/** a line the node logs: an i18n key with its values */
export interface LogLine {
  level: 'log' | 'warn';
  key: string;
  vars: Record<string, number>;
}

/**
 * Runs the command `msg` carries: refused when the node has no durable
 * queue, or when its queue could not be opened (`notOpen()`: why), or when
 * the command is malformed. `queue()` waits for a queue still opening.
 */
export async function answerCommand(
  msg: Record<string, unknown>,
  o: { durable: boolean; queue: () => Promise<DeadLetterStore | undefined>; notOpen: () => IntegrationError },
): Promise<CommandAnswer> {
  if (!o.durable) return { ok: false, error: notDurable(msg.command) };
  const queue = await o.queue();
  if (!queue) return { ok: false, error: o.notOpen() };
  const command = readCommand(msg);
  if ('error' in command) return { ok: false, error: command.error };
  return { ok: true, result: await runCommand(queue, command) };
}

/** What the node logs after a replay or a purge (keys under http-post.log); a list logs nothing. */
export function commandLog(r: CommandResult): LogLine[] {
  if (r.name === 'purge') return [{ level: 'log', key: 'http-post.log.purged', vars: { count: r.purged } }];
  if (r.name !== 'replay') return [];
  const { requeued, duplicate, full } = r;
  const lines: LogLine[] = [{ level: 'log', key: 'http-post.log.replayed', vars: { requeued, duplicate, full } }];
  if (full > 0) lines.push({ level: 'warn', key: 'http-post.log.replayFull', vars: { full } });
  return lines;
}

/** true when `msg.command` names a command */
export function isCommand(msg: Record<string, unknown>): boolean {
  return typeof msg.command === 'string' && (COMMANDS as readonly string[]).includes(msg.command);
}

/** The command a message carries, or why it cannot be run. */
export function readCommand(msg: Record<string, unknown>): Command | { error: IntegrationError } {
  if (msg.command === 'list')
    return { name: 'list', limit: Math.min(whole(msg.limit, 100), 10000), offset: whole(msg.offset, 0) };
  const ids = idsOf(msg.ids);
  if (ids === undefined)
    return {
      error: new IntegrationError('INVALID_COMMAND', 'msg.ids must be an id or a list of ids (absent: all)', [
        { field: 'ids', reason: 'not an id or a list of ids' },
      ]),
    };
  return { name: msg.command === 'replay' ? 'replay' : 'purge', ids };
}

export async function runCommand(store: DeadLetterStore, command: Command): Promise<CommandResult> {
  if (command.name === 'list')
    return { name: 'list', payload: await store.listDeadLetters({ limit: command.limit, offset: command.offset }) };
  if (command.name === 'replay') {
    const r = await store.replay(command.ids);
    return { name: 'replay', requeued: r.requeued.length, duplicate: r.duplicate.length, full: r.full.length };
  }
  return { name: 'purge', purged: await store.purge(command.ids) };
}

/** The error of a command sent to a node without a durable queue. */
export function notDurable(command: unknown): IntegrationError {
  return new IntegrationError(
    'NOT_DURABLE',
    `"${String(command)}" works on the dead letters of the durable queue, which is off for this node`,
    [{ field: 'durable', reason: 'turn on the durable queue' }],
  );
}

/** msg.ids: absent for all, one id, or a list of ids; anything else is undefined */
function idsOf(ids: unknown): string[] | 'all' | undefined {
  if (ids === undefined || ids === null) return 'all';
  if (typeof ids === 'string' || typeof ids === 'number') return [String(ids)];
  if (Array.isArray(ids) && ids.every((x: unknown) => typeof x === 'string' || typeof x === 'number'))
    return ids.map(String);
  return undefined;
}

/** a whole number ≥ 0 (a numeric string too), else the fallback */
function whole(v: unknown, fallback: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : fallback;
}
