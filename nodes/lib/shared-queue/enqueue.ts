/**
 * Putting one message into a shared queue's work stream: the message as it
 * travels (WireItem: the journal's StoredItem plus its ordering key, secrets
 * left out) and its publication, which resolves only on JetStream's PubAck.
 *
 *   toWireItem()     the request as built → what is published (no node
 *                    headers, no secret-looking message headers)
 *   publishItem()    publishes with the dedupe id; a full stream is retried
 *                    after evicting the oldest message when the policy says
 *                    so (at most 5 rounds); too large or still full → 'full'
 *   fullRefusal()    the OUTBOX_FULL error that a refused message carries
 *   queueUnavailable() the error while NATS cannot be reached (nothing queued)
 *
 * Not here: the queue's readiness, counters and live properties
 * (shared-queue.ts), the workers that take the messages (worker.ts).
 */
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { JetStreamClient } from '@nats-io/jetstream';
import { IntegrationError } from '../errors';
import { journaledHeaders } from '../outbox/secret-headers';
import { snapshotMessage } from '../outbox/snapshot';
import type { DurableEnqueueInput, StoredItem } from '../outbox/durable';
import { isFull, isTooLarge } from './jetstream-errors';

/** the message as it travels in the work stream */
export interface WireItem extends StoredItem {
  orderingKey?: string;
}

/** how many times a full stream is tried again after evicting its oldest message */
const EVICT_ROUNDS = 5;

/** The error of an enqueue while NATS JetStream cannot be reached: the message was not queued. */
export function queueUnavailable(reason: string): IntegrationError {
  return new IntegrationError(
    'SHARED_QUEUE_UNAVAILABLE',
    'The shared queue (NATS JetStream) cannot be reached; the message was not queued',
    [{ field: 'nats', reason }],
  );
}

/** The error of a message the stream's limits refused. */
export function fullRefusal(reason: 'maxItems' | 'itemTooLarge', message: string): IntegrationError {
  return new IntegrationError('OUTBOX_FULL', 'The delivery queue is full; the message was not queued', [
    { field: reason === 'maxItems' ? 'maxQueued' : 'maxQueuedMB', reason: message },
  ]);
}

/**
 * The request as built, as it is published. The node's own headers (API keys,
 * ${VAR} values …) and secret-looking message headers are never published: the
 * configuration's are added again at each attempt (lib/outbox/secret-headers.ts).
 */
export function toWireItem(
  input: DurableEnqueueInput,
  configHeaders: Record<string, string>,
  createdAt: number,
): WireItem {
  const item: WireItem = {
    idempotencyKey: input.id,
    request: {
      method: input.method,
      path: input.path,
      headers: journaledHeaders(input.headers, configHeaders, false).kept,
      bodyBase64: input.body ? input.body.toString('base64') : null,
    },
    msg: snapshotMessage(input.msg, input.body),
    createdAt,
  };
  if (input.orderingKey !== undefined && input.orderingKey !== '') item.orderingKey = input.orderingKey;
  return item;
}

export interface PublishItemOptions {
  js: JetStreamClient;
  subject: string;
  bytes: Buffer;
  /** the event id, sent as the Saypro-Event-Id header */
  eventId: string;
  /** the dedupe id (Nats-Msg-Id) */
  msgId: string;
  timeoutMs: number;
  fullPolicy: string | undefined;
  /** dead-letters the stream's oldest message; resolves its event id, or undefined when there is none */
  evictOldest: () => Promise<string | undefined>;
}

export type PublishOutcome =
  | { status: 'published'; evicted: string[] }
  | { status: 'duplicate' }
  | { status: 'full'; reason: 'maxItems' | 'itemTooLarge'; message: string };

/** Publishes one message; rejects with queueUnavailable() when JetStream does not answer. */
export async function publishItem(o: PublishItemOptions): Promise<PublishOutcome> {
  const evicted: string[] = [];
  for (let round = 0; ; round++) {
    try {
      const h = natsHeaders();
      h.set('Saypro-Event-Id', o.eventId);
      const pa = await o.js.publish(o.subject, o.bytes, { msgID: o.msgId, headers: h, timeout: o.timeoutMs });
      if (pa.duplicate) return { status: 'duplicate' };
      return { status: 'published', evicted };
    } catch (err) {
      const text = String((err as Error)?.message ?? err);
      if (isTooLarge(err))
        return {
          status: 'full',
          reason: 'itemTooLarge',
          message: `the message (${o.bytes.length} bytes) is larger than the stream or the server accepts`,
        };
      if (!isFull(err)) throw queueUnavailable(text);
      if (o.fullPolicy !== 'dead-letter-oldest' || round >= EVICT_ROUNDS)
        return { status: 'full', reason: 'maxItems', message: text };
      const gone = await o.evictOldest().catch(() => undefined);
      if (!gone) return { status: 'full', reason: 'maxItems', message: text };
      evicted.push(gone);
    }
  }
}
