/**
 * Durable mode of the HTTP POST node: where its queue lives, what becomes of
 * a message handed to it (queued, refused, invalid), and what an opening
 * that failed or found damage means. The queue itself (the journal on disk,
 * or NATS JetStream) is lib/outbox/durable.ts and lib/shared-queue/; this is
 * the node's side of it. No Node-RED here.
 */
import * as path from 'path';
import { IntegrationError } from '../errors';
import type { DurableEnqueueInput, DurableEnqueueResult } from '../outbox/durable-types';
import type { DeliveryRequest } from '../http/deliver';
import { outboxRoot, queueDirName } from '../outbox/queue-dir';

/** what a trigger waiting on a refused message tells its caller (seconds) */
export const REFUSED_RETRY_AFTER_S = 30;

export interface IntakeQueue {
  enqueue(input: DurableEnqueueInput): Promise<DurableEnqueueResult>;
}

export type Intake =
  /** on disk (fsync'd), or already there: safe */
  | { kind: 'queued' }
  /** not queued now (queue full, not open, the disk failing): worth trying again later (503) */
  | { kind: 'refused'; error: IntegrationError }
  /** this message can never be queued */
  | { kind: 'invalid'; error: IntegrationError };

/** The error of a message that arrives while the queue is not open. */
export function notOpen(): IntegrationError {
  return new IntegrationError('OUTBOX_UNAVAILABLE', 'The delivery queue is not open');
}

/** Writes one message with its request to the queue. Never rejects. */
export async function enqueueMessage(
  queue: IntakeQueue,
  msg: Record<string, unknown>,
  request: DeliveryRequest,
  key: string,
  group: string | undefined,
): Promise<Intake> {
  let result: DurableEnqueueResult;
  try {
    result = await queue.enqueue({
      id: key,
      orderingKey: group,
      method: request.method ?? null,
      path: request.path,
      headers: request.headers,
      body: request.body,
      msg,
      live: liveParts(msg),
    });
  } catch (err) {
    const e = err as IntegrationError;
    if (e?.code === 'OUTBOX_BAD_ARGUMENT') return { kind: 'invalid', error: e };
    return {
      kind: 'refused',
      error: new IntegrationError('OUTBOX_UNAVAILABLE', 'The message could not be written to the delivery queue', [
        { field: 'outbox', reason: String(e?.message ?? err) },
      ]),
    };
  }
  return result.status === 'full' ? { kind: 'refused', error: result.error } : { kind: 'queued' };
}

/** an HTTP-in flow's req/res cannot be stored: kept by reference while this process lives */
function liveParts(msg: Record<string, unknown>): Record<string, unknown> {
  const live: Record<string, unknown> = {};
  for (const k of ['req', 'res', '_msgid']) if (msg[k] !== undefined) live[k] = msg[k];
  return live;
}

/**
 * Where the queue of node `nodeId` lives: `sayproOutboxDir`, else the user
 * directory, else the temporary directory (`temporary`: worth a warning, it
 * may not survive a reboot).
 */
export function queueDir(
  settings: { sayproOutboxDir?: unknown; userDir?: unknown },
  nodeId: string,
  tmpdir: string,
): { dir: string; temporary: boolean } {
  // one home for the layout: lib/outbox/orphans.ts finds the queues of deleted nodes by it
  const root = outboxRoot(settings);
  if (root !== undefined) return { dir: path.join(root, queueDirName(nodeId)), temporary: false };
  return { dir: path.join(tmpdir, 'saypro-outbox', queueDirName(nodeId)), temporary: true };
}

/** The queue could not be opened: locked by another process (EOUTBOXLOCKED), or unavailable. */
export function openFailure(err: unknown, dir: string): { state: 'locked' | 'unavailable'; error: IntegrationError } {
  const locked = (err as { code?: string })?.code === 'EOUTBOXLOCKED';
  const error = new IntegrationError(
    locked ? 'OUTBOX_LOCKED' : 'OUTBOX_UNAVAILABLE',
    'The delivery queue could not be opened',
    [{ field: 'outbox', reason: String((err as Error)?.message ?? err), value: dir }],
  );
  return { state: locked ? 'locked' : 'unavailable', error };
}

/** Records found lost when the queue was opened (at least 1 when whole segments are missing). */
export function lostRecords(losses: { lostRecords: number; missingSegments: string[] }): number {
  return losses.lostRecords > 0 || losses.missingSegments.length > 0 ? Math.max(1, losses.lostRecords) : 0;
}

/** The queue's limits and policy from the node's settings (lib/outbox/durable.ts options). */
export function queueLimits(s: {
  maxQueued: number;
  maxQueuedMB: number;
  fullPolicy: 'refuse' | 'dead-letter-oldest';
  maxDeadLetters: number;
  keyLifetimeMs: number;
  outboxKey: string | undefined;
  writeBehindMs?: number;
}) {
  return {
    maxItems: s.maxQueued,
    maxBytes: Math.max(1, Math.floor(s.maxQueuedMB * 1024 * 1024)),
    fullPolicy: s.fullPolicy,
    maxDeadLetters: s.maxDeadLetters,
    keyLifetimeMs: s.keyLifetimeMs,
    encryptionKey: s.outboxKey,
    writeBehindMs: s.writeBehindMs ?? 0,
  };
}

/** What the admin routes say of the node's queue. */
export function adminState(
  durable: boolean,
  open: boolean,
  state: 'opening' | 'open' | 'unavailable' | 'locked',
  misconfigured: boolean,
): 'memory' | 'open' | 'opening' | 'unavailable' {
  if (!durable) return 'memory';
  if (open) return 'open';
  return state === 'opening' && !misconfigured ? 'opening' : 'unavailable';
}

/** What a trigger waiting on a message that could not be queued tells its caller: 503, try again later. */
export function refusal(error: IntegrationError, by: string) {
  return { ok: false as const, status: 503, retryAfterSeconds: REFUSED_RETRY_AFTER_S, error: error.toJSON(), by };
}
