/**
 * The messages the durable queue sends out of the HTTP POST node once an item
 * is done with: delivered (output 1, with the answer), moved to the dead
 * letters (output 2, with msg.error), pushed out of a full queue (output 2).
 * Built from the stored snapshot of the message (snapshot.ts).
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import { parseResponseBody } from '../http/response';
import type { DeliveryFailure, DeliveryState } from '../http/deliver';
import type { DeadLetterEntry } from './dead-letter';
import type { PendingItem } from './item';
import { restoreMessage } from './snapshot';
import { ACK_PROPERTY } from '../acks';
import { parseStoredItem, type StoredItem } from './durable-types';

type Msg = Record<string, unknown>;

export interface Delivered {
  statusCode: number;
  headers: Record<string, unknown>;
  durationMs: number;
  body: { value: unknown };
}

export function deliveredMessage(
  stored: StoredItem,
  body: Buffer | null,
  outcome: Delivered,
  attempts: number,
  key: string,
  endpoint: string,
  original?: Msg,
): Msg {
  const msg = original ? fromOriginal(original) : restoreMessage(stored.msg, body);
  msg.delivery = {
    attempts,
    idempotencyKey: key,
    statusCode: outcome.statusCode,
    durationMs: outcome.durationMs,
    endpoint,
  };
  msg.statusCode = outcome.statusCode;
  msg.responseHeaders = outcome.headers;
  msg.payload = outcome.body.value;
  return msg;
}

/**
 * The message as it came to the node (queued by this process a moment ago),
 * without what a restored one never carries: the reply token of the event
 * trigger, good only for the request that waited on it (snapshot.ts).
 */
function fromOriginal(original: Msg): Msg {
  delete original[ACK_PROPERTY];
  return original;
}

export interface FailureContext {
  stored: StoredItem;
  body: Buffer | null;
  state?: DeliveryState;
  failure?: DeliveryFailure;
}

export async function deadLetterMessage(
  item: PendingItem,
  ctx: FailureContext | undefined,
  error: IntegrationError,
  endpoint: string,
  now: number,
): Promise<Msg> {
  const msg: Msg = ctx ? restoreMessage(ctx.stored.msg, ctx.body) : {};
  const id = item.id;
  if (ctx?.failure && ctx.state) {
    const f = ctx.failure;
    msg.delivery = {
      attempts: ctx.state.attempts,
      idempotencyKey: ctx.stored.idempotencyKey || id,
      statusCode: f.statusCode ?? null,
      durationMs: f.durationMs,
      endpoint,
    };
    if (f.statusCode !== undefined) {
      msg.statusCode = f.statusCode;
      msg.responseHeaders = f.headers;
      msg.responseBody = (await parseResponseBody(f.raw ?? Buffer.alloc(0), f.headers?.['content-type'])).value;
    }
  } else {
    msg.delivery = {
      attempts: item.attempts,
      idempotencyKey: ctx?.stored.idempotencyKey || id,
      statusCode: item.lastError?.statusCode ?? null,
      durationMs: Math.max(0, now - item.createdAt),
      endpoint,
    };
  }
  msg.error = error.toJSON();
  return msg;
}

/** An item pushed out of a full queue (policy 'dead-letter-oldest'): never silent, it leaves on output 2 too. */
export function evictedMessage(
  id: string,
  entry: DeadLetterEntry | undefined,
  endpoint: string,
  now: number,
): { msg: Msg; error: IntegrationError } {
  const stored = entry ? parseStoredItem(entry.data) : undefined;
  const msg = stored
    ? restoreMessage(stored.msg, stored.request.bodyBase64 ? Buffer.from(stored.request.bodyBase64, 'base64') : null)
    : {};
  const info = entry?.error ?? {
    code: 'OUTBOX_FULL',
    message: 'pushed out of a full outbox by a newer item',
    details: [],
  };
  const error = new IntegrationError(
    'OUTBOX_FULL',
    `${info.message}; moved to the dead letters`,
    (info.details as ErrorDetail[]) ?? [],
  );
  msg.delivery = {
    attempts: entry?.attempts ?? 0,
    idempotencyKey: stored?.idempotencyKey || id,
    statusCode: null,
    durationMs: entry && entry.createdAt ? Math.max(0, now - entry.createdAt) : 0,
    endpoint,
  };
  msg.error = error.toJSON();
  return { msg, error };
}
