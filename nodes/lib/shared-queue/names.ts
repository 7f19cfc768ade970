/**
 * Names of everything shared mode keeps in NATS JetStream for one HTTP POST
 * node (the same flow deployed on several Node-RED instances has the same node
 * ids, so every instance finds the same streams):
 *
 *   SAYPRO_OUTBOX_<node>     work-queue stream of the pending deliveries
 *     saypro.outbox.<node>.u       messages without an ordering key  (consumer "work")
 *     saypro.outbox.<node>.k.<b>   messages whose ordering key hashes to bucket b
 *                                  (consumer "key-<b>", one message in flight group-wide)
 *   SAYPRO_DEAD_<node>       the dead letters (limits stream)
 *     saypro.dead.<node>.<hash of the event id>
 *   KV SAYPRO_TRIES_<node>   attempts made for a pending message, by stream sequence
 *   KV SAYPRO_GROUP_<node>   the group's members and what each delivered (group.ts)
 *   SAYPRO_PACE_<endpoint>   the endpoint's group rate and concurrency slots
 *   KV SAYPRO_PAUSE_<endpoint> the group's pause after a Retry-After
 */
import { createHash } from 'crypto';

/** Ordering-key buckets per node: keys sharing a bucket wait for each other. */
export const ORDERING_BUCKETS = 8;

/** A node id as a stream-name and subject token: [A-Za-z0-9_-] only. */
export function token(id: string): string {
  const t = String(id).replace(/[^A-Za-z0-9_-]/g, '_');
  return t === '' ? '_' : t;
}

export function hashHex(text: string, chars = 32): string {
  return createHash('sha256').update(text).digest('hex').slice(0, chars);
}

/** The bucket of an ordering key (stable across instances and restarts). */
export function bucketOf(orderingKey: string, buckets = ORDERING_BUCKETS): number {
  return createHash('sha256').update(orderingKey).digest().readUInt32BE(0) % buckets;
}

export interface QueueNames {
  stream: string;
  deadStream: string;
  triesBucket: string;
  /** all subjects of the work stream */
  subjects: string;
  unkeyed: string;
  keyed(bucket: number): string;
  deadSubject(eventId: string): string;
  deadAll: string;
  /** durable consumer names */
  workConsumer: string;
  keyConsumer(bucket: number): string;
}

export function queueNames(nodeId: string): QueueNames {
  const t = token(nodeId);
  return {
    stream: `SAYPRO_OUTBOX_${t}`,
    deadStream: `SAYPRO_DEAD_${t}`,
    triesBucket: `SAYPRO_TRIES_${t}`,
    subjects: `saypro.outbox.${t}.>`,
    unkeyed: `saypro.outbox.${t}.u`,
    keyed: (b) => `saypro.outbox.${t}.k.${b}`,
    deadSubject: (eventId) => `saypro.dead.${t}.${hashHex(eventId)}`,
    deadAll: `saypro.dead.${t}.>`,
    workConsumer: 'work',
    keyConsumer: (b) => `key-${b}`,
  };
}

/** The work-stream subject of a message: its ordering key's bucket, or the unkeyed subject when it has none. */
export function workSubject(names: QueueNames, orderingKey: string | undefined): string {
  return orderingKey !== undefined && orderingKey !== '' ? names.keyed(bucketOf(orderingKey)) : names.unkeyed;
}

/** KV bucket of the group's members (group.ts) */
export function groupBucket(nodeId: string): string {
  return `SAYPRO_GROUP_${token(nodeId)}`;
}

/** KV bucket of the endpoint's group pause */
export function paceBucket(endpointId: string): string {
  return `SAYPRO_PAUSE_${token(endpointId)}`;
}

/** the stream of the endpoint's group rate and concurrency slots (see group-pacer.ts) */
export function paceNames(endpointId: string): { stream: string; prefix: string } {
  const t = token(endpointId);
  return { stream: `SAYPRO_PACE_${t}`, prefix: `saypro.pace.${t}` };
}

/**
 * The message id of a delivery (JetStream's duplicate window drops a second
 * publish with the same id): the event id plus a hash of the route, so that
 * the same event sent twice to the same route is kept once, while one event
 * sent to two routes through the same node is two deliveries.
 */
export function messageId(eventId: string, method: string | null, path: string): string {
  return `${eventId}#${hashHex(`${method ?? ''} ${path}`, 12)}`;
}
