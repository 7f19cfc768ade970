/**
 * What a shared queue creates in NATS JetStream before it can take messages,
 * as the steps SharedQueue.setup() takes in order (names in names.ts):
 *
 *   createStreams()       the work-queue stream (limits from the node's
 *                         settings, duplicate window) and the dead-letter stream
 *   createConsumers()     "work" for messages without an ordering key, and one
 *                         "key-<b>" per ordering bucket (one message in flight)
 *   createTriesBucket()   KV of the attempts made per pending message
 *   createGroupPacer()    the endpoint's rate and concurrency for the whole
 *                         group: its KV, its slot stream, its GroupPacer
 *   joinGroup()           KV of the group's members; this instance's record
 *
 * Every step creates or updates (another instance may have created it first).
 * Not here: retrying when NATS is not ready, starting the workers
 * (shared-queue.ts).
 */
import {
  AckPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { Kvm, KV } from '@nats-io/kv';
import type { EndpointHandle } from '../http/types';
import { SharedDeadLetters } from './dead-letters';
import { GroupMembers, MEMBER_TTL_MS } from './group';
import { GroupPacer, paceStreamConfig } from './group-pacer';
import { ensureStream } from './jetstream-errors';
import { ORDERING_BUCKETS, groupBucket, paceBucket, paceNames, type QueueNames } from './names';

/** how long an attempts record is kept (a message pending longer starts again from 0) */
const TRIES_TTL_MS = 7 * 24 * 3600 * 1000;
/** messages without an ordering key that may be in flight group-wide */
const WORK_MAX_ACK_PENDING = 10_000;

/** the work stream's limits, from the queue's options (0: no limit) */
export interface WorkStreamLimits {
  maxItems: number;
  maxBytes: number;
  maxDeadLetters: number;
  duplicateWindowMs?: number;
}

export function workStreamConfig(
  names: QueueNames,
  limits: WorkStreamLimits,
  replicas: number,
): Partial<StreamConfig> & { name: string } {
  return {
    name: names.stream,
    subjects: [names.subjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    num_replicas: replicas,
    max_msgs: limits.maxItems > 0 ? limits.maxItems : -1,
    max_bytes: limits.maxBytes > 0 ? limits.maxBytes : -1,
    duplicate_window: Math.max(1000, limits.duplicateWindowMs ?? 600_000) * 1_000_000,
  };
}

/** the work stream, then the dead letters' stream */
export async function createStreams(
  jsm: JetStreamManager,
  names: QueueNames,
  limits: WorkStreamLimits,
  replicas: number,
  warn: (text: string) => void,
): Promise<void> {
  await ensureStream(jsm, workStreamConfig(names, limits, replicas), warn);
  await ensureStream(jsm, SharedDeadLetters.config(names, replicas, limits.maxDeadLetters) as never, warn);
}

/** the pull consumers the workers read (worker.ts) */
export async function createConsumers(jsm: JetStreamManager, names: QueueNames, ackWaitMs: number): Promise<void> {
  const consumer = (name: string, filter: string, maxAckPending: number) =>
    jsm.consumers.add(names.stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWaitMs * 1_000_000,
      max_deliver: -1,
      filter_subject: filter,
      max_ack_pending: maxAckPending,
    });
  await consumer(names.workConsumer, names.unkeyed, WORK_MAX_ACK_PENDING);
  for (let b = 0; b < ORDERING_BUCKETS; b++) await consumer(names.keyConsumer(b), names.keyed(b), 1);
}

export function createTriesBucket(kvm: Kvm, names: QueueNames, replicas: number): Promise<KV> {
  return kvm.create(names.triesBucket, { history: 1, replicas, ttl: TRIES_TTL_MS });
}

export interface GroupPacerSetup {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kvm: Kvm;
  endpoint: EndpointHandle;
  replicas: number;
  /** names this instance in the concurrency slots */
  owner: string;
  /** told when the slot stream had to be changed (as createStreams) */
  warn: (text: string) => void;
  /** the pacer's own warnings (said once in a row) */
  warnOnce: (text: string) => void;
  now?: () => number;
}

/** the endpoint's pacing settings, shared by the group (0: no limit) */
function pacingLimits(endpoint: EndpointHandle) {
  const settings = (
    endpoint.pacer as { settings?: { maxConcurrent?: number; rateCount?: number; rateIntervalMs?: number } } | undefined
  )?.settings;
  return {
    maxConcurrent: settings?.maxConcurrent ?? 0,
    rateCount: settings?.rateCount ?? 0,
    rateIntervalMs: settings?.rateIntervalMs ?? 1000,
  };
}

export async function createGroupPacer(s: GroupPacerSetup): Promise<GroupPacer> {
  const limits = pacingLimits(s.endpoint);
  const kv = await s.kvm.create(paceBucket(s.endpoint.id), { history: 1, replicas: s.replicas });
  const pn = paceNames(s.endpoint.id);
  await ensureStream(s.jsm, paceStreamConfig(pn.stream, `${pn.prefix}.>`, s.replicas), s.warn);
  return new GroupPacer({
    js: s.js,
    jsm: s.jsm,
    stream: pn.stream,
    prefix: pn.prefix,
    kv,
    inner: s.endpoint.pacer,
    limits,
    owner: s.owner,
    warn: s.warnOnce,
    now: s.now,
  });
}

export async function joinGroup(
  kvm: Kvm,
  nodeId: string,
  replicas: number,
  instance: string,
  now: () => number,
): Promise<GroupMembers> {
  const members = await kvm.create(groupBucket(nodeId), { history: 1, replicas, ttl: MEMBER_TTL_MS });
  return new GroupMembers(members, instance, now);
}
