/**
 * Shared mode: the HTTP POST node's queue in NATS JetStream, so that the same
 * flow deployed on several Node-RED instances shares the deliveries and a
 * dead box strands nothing. Same role and interface as the journal-backed
 * DurableQueue (lib/outbox/durable.ts); no Node-RED import.
 *
 *   enqueue()  publishes the request as built (the journal's StoredItem) to
 *              the node's work-queue stream with Nats-Msg-Id = event id + a
 *              hash of the route; resolves 'accepted' only after JetStream's
 *              PubAck (the stream's replicas have it), 'duplicate' when the
 *              duplicate window already holds that id (sent to two instances:
 *              kept once), 'full' when the stream's limits refuse it. Rejects
 *              when NATS cannot be reached: never acknowledged, the trigger
 *              answers 503.
 *   workers    (worker.ts) pull from the stream's consumers and make one
 *              attempt per message, acking only after the attempt is over;
 *              retries are NAKs with a delay; attempts counted in KV.
 *   dead letters in a second stream (dead-letters.ts), listable, replayable
 *              and purgeable from any instance.
 *   pacing     the endpoint's rate and concurrency for the whole group
 *              (group-pacer.ts).
 */
import { journaledHeaders } from '../outbox/secret-headers';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import {
  AckPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { IntegrationError } from '../errors';
import { snapshotMessage } from '../outbox/snapshot';
import type {
  DeadLetterListing,
  DurableCounters,
  DurableEnqueueInput,
  DurableEnqueueResult,
  DurableQueueOptions,
  DurableStats,
  StoredItem,
} from '../outbox/durable';
import type { DeadLetterCounts } from '../outbox/dead-letter';
import type { PacerState } from '../http/types';
import {
  ORDERING_BUCKETS,
  bucketOf,
  groupBucket,
  messageId,
  paceBucket,
  paceNames,
  queueNames,
  type QueueNames,
} from './names';
import { GroupMembers, MEMBER_TTL_MS, describeGroup, type SharedGroupInfo } from './group';
import { hostname } from 'os';
import { SharedDeadLetters } from './dead-letters';
import { GroupPacer, paceStreamConfig, withGroupPacer } from './group-pacer';
import { Workers } from './worker';
import { ensureStream, isFull, isTooLarge } from './jetstream-errors';

/** What the queue needs of the connection (the saypro-nats config node). */
export interface NatsLink {
  /** resolves once connected (waits while the servers cannot be reached) */
  connection(): Promise<NatsConnection>;
  /** false while disconnected or reconnecting */
  isConnected(): boolean;
  /** the connection's state in a word (connecting, connected, reconnecting, closed, invalid) */
  state?(): string;
}

export interface SharedQueueOptions extends Omit<DurableQueueOptions, 'dir'> {
  link: NatsLink;
  /** the HTTP POST node's id: the same on every instance running the flow */
  nodeId: string;
  /** stream replicas: 3 on a cluster, 1 on a single server (default 1) */
  replicas?: number;
  /** JetStream's duplicate window (default 10 minutes) */
  duplicateWindowMs?: number;
  /** how long a pulled message may go without a sign of life before it is given to another instance (default 30 s) */
  ackWaitMs?: number;
  /** how long enqueue waits for the PubAck (default 10 s) */
  publishTimeoutMs?: number;
  /** names this instance in the group's concurrency slots */
  instance?: string;
}

/** the message as it travels in the work stream */
export interface WireItem extends StoredItem {
  orderingKey?: string;
}

const STATS_EVERY_MS = 2000;
const SETUP_RETRY_MS = 3000;
const MAX_LIVE = 10_000;

export class SharedQueue {
  readonly names: QueueNames;
  readonly opts: SharedQueueOptions;
  readonly counters: DurableCounters = { delivered: 0, retried: 0, deadLettered: 0, refused: 0 };
  readonly clock: () => number;
  js: JetStreamClient | undefined;
  jsm: JetStreamManager | undefined;
  tries: KV | undefined;
  pacer: GroupPacer | undefined;
  /** the group's members and this instance's share (group.ts) */
  group: GroupMembers | undefined;
  /** names this instance in the group */
  readonly instance: string;
  /** the dead letters, once set up (a stand-in with zero counts until then) */
  deadLetter: { counts(): DeadLetterCounts };
  private dead: SharedDeadLetters | undefined;
  private workers: Workers | undefined;
  private readonly liveProps = new Map<string, Record<string, unknown>>();
  private cache = { depth: 0, bytes: 0, oldestAgeMs: 0, at: 0 };
  private readyResolve!: () => void;
  readonly ready: Promise<void>;
  private isReady = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private lastWarning = '';

  private constructor(opts: SharedQueueOptions) {
    this.opts = opts;
    this.names = queueNames(opts.nodeId);
    this.clock = opts.now ?? Date.now;
    this.instance = opts.instance ?? `${hostname()}-${process.pid}`;
    this.deadLetter = { counts: () => ({ total: 0, bytes: 0, byCode: {}, dropped: 0 }) };
    this.ready = new Promise((r) => (this.readyResolve = r));
  }

  /** Resolves at once: the streams are set up in the background as soon as NATS answers. */
  static async open(opts: SharedQueueOptions): Promise<SharedQueue> {
    const q = new SharedQueue(opts);
    void q.setup();
    return q;
  }

  get replicas(): number {
    return Math.max(1, Math.min(5, Math.floor(this.opts.replicas ?? 1)));
  }

  get ackWaitMs(): number {
    return Math.max(1000, this.opts.ackWaitMs ?? 30_000);
  }

  warn(text: string): void {
    try {
      this.opts.warn?.(text);
    } catch {
      // a listener's bug must not stop the queue
    }
  }

  changed(): void {
    try {
      this.opts.onChange?.();
    } catch {
      // a listener's bug must not stop the queue
    }
  }

  label(): string {
    try {
      return String(this.opts.endpoint.label ?? '');
    } catch {
      return '';
    }
  }

  // -------------------------------------------------------------- set-up

  private streamConfig(): Partial<StreamConfig> & { name: string } {
    return {
      name: this.names.stream,
      subjects: [this.names.subjects],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      num_replicas: this.replicas,
      max_msgs: this.opts.maxItems > 0 ? this.opts.maxItems : -1,
      max_bytes: this.opts.maxBytes > 0 ? this.opts.maxBytes : -1,
      duplicate_window: Math.max(1000, this.opts.duplicateWindowMs ?? 600_000) * 1_000_000,
    };
  }

  private ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
    return ensureStream(jsm, cfg, (t) => this.warn(t));
  }

  private async setup(): Promise<void> {
    while (!this.closing) {
      try {
        const nc = await this.opts.link.connection();
        if (this.closing) return;
        const jsm = await jetstreamManager(nc);
        const js = jetstream(nc, { timeout: this.opts.publishTimeoutMs ?? 10_000 });
        await this.ensureStream(jsm, this.streamConfig());
        await this.ensureStream(
          jsm,
          SharedDeadLetters.config(this.names, this.replicas, this.opts.maxDeadLetters) as never,
        );
        const consumer = (name: string, filter: string, maxAckPending: number) =>
          jsm.consumers.add(this.names.stream, {
            durable_name: name,
            ack_policy: AckPolicy.Explicit,
            ack_wait: this.ackWaitMs * 1_000_000,
            max_deliver: -1,
            filter_subject: filter,
            max_ack_pending: maxAckPending,
          });
        await consumer(this.names.workConsumer, this.names.unkeyed, 10_000);
        for (let b = 0; b < ORDERING_BUCKETS; b++) await consumer(this.names.keyConsumer(b), this.names.keyed(b), 1);
        const kvm = new Kvm(nc);
        const tries = await kvm.create(this.names.triesBucket, {
          history: 1,
          replicas: this.replicas,
          ttl: 7 * 24 * 3600 * 1000,
        });
        const settings = (
          this.opts.endpoint.pacer as
            { settings?: { maxConcurrent?: number; rateCount?: number; rateIntervalMs?: number } } | undefined
        )?.settings;
        const pace = await kvm.create(paceBucket(this.opts.endpoint.id), { history: 1, replicas: this.replicas });
        const pn = paceNames(this.opts.endpoint.id);
        await this.ensureStream(jsm, paceStreamConfig(pn.stream, `${pn.prefix}.>`, this.replicas));
        this.pacer = new GroupPacer({
          js,
          jsm,
          stream: pn.stream,
          prefix: pn.prefix,
          kv: pace,
          inner: this.opts.endpoint.pacer,
          limits: {
            maxConcurrent: settings?.maxConcurrent ?? 0,
            rateCount: settings?.rateCount ?? 0,
            rateIntervalMs: settings?.rateIntervalMs ?? 1000,
          },
          owner: this.instance,
          warn: (t) => this.warnOnce(t),
          now: this.opts.now,
        });
        const members = await kvm.create(groupBucket(this.opts.nodeId), {
          history: 1,
          replicas: this.replicas,
          ttl: MEMBER_TTL_MS,
        });
        this.group = new GroupMembers(members, this.instance, this.clock);
        this.js = js;
        this.jsm = jsm;
        this.tries = tries;
        this.dead = new SharedDeadLetters(js, jsm, this.names);
        this.deadLetter = this.dead;
        if (this.closing) return;
        this.workers = new Workers(this, withGroupPacer(this.opts.endpoint, this.pacer));
        this.workers.start();
        this.isReady = true;
        this.readyResolve();
        this.statsTimer = setInterval(() => void this.refresh(), STATS_EVERY_MS);
        this.statsTimer.unref?.();
        void this.refresh();
        this.changed();
        return;
      } catch (err) {
        if (this.closing) return;
        this.warnOnce(`shared queue: JetStream is not ready (${(err as Error)?.message ?? err}); trying again`);
        await new Promise((r) => setTimeout(r, SETUP_RETRY_MS));
      }
    }
  }

  warnOnce(text: string): void {
    if (text === this.lastWarning) return;
    this.lastWarning = text;
    this.warn(text);
  }

  /** refreshes the depth and the dead-letter count shown by brief()/stats() */
  async refresh(): Promise<void> {
    if (!this.jsm || this.closing) return;
    try {
      const info = await this.jsm.streams.info(this.names.stream);
      const s = info.state;
      const first = s.messages > 0 && s.first_ts ? Date.parse(s.first_ts) : NaN;
      const before = this.cache.depth;
      this.cache = {
        depth: s.messages,
        bytes: s.bytes,
        oldestAgeMs: Number.isFinite(first) ? Math.max(0, this.clock() - first) : 0,
        at: this.clock(),
      };
      await this.dead?.refresh();
      const members = this.group?.view.members;
      await this.group?.refresh(this.counters.delivered);
      if (before !== s.messages || members !== this.group?.view.members) this.changed();
    } catch {
      // shown as it was; the link state is on the config node
    }
  }

  // -------------------------------------------------------------- enqueue

  subjectFor(orderingKey: string | undefined): string {
    return orderingKey !== undefined && orderingKey !== ''
      ? this.names.keyed(bucketOf(orderingKey))
      : this.names.unkeyed;
  }

  private unavailable(reason: string): IntegrationError {
    return new IntegrationError(
      'SHARED_QUEUE_UNAVAILABLE',
      'The shared queue (NATS JetStream) cannot be reached; the message was not queued',
      [{ field: 'nats', reason }],
    );
  }

  /**
   * Queues a message in JetStream; resolves once the stream acknowledged it
   * (PubAck). Rejects while NATS cannot be reached (nothing acknowledged).
   */
  async enqueue(input: DurableEnqueueInput): Promise<DurableEnqueueResult> {
    if (this.closing) throw this.unavailable('the node is closing');
    if (!this.opts.link.isConnected()) throw this.unavailable('not connected to any NATS server');
    if (!this.isReady) {
      const timeout = new Promise<'timeout'>((r) =>
        setTimeout(() => r('timeout'), this.opts.publishTimeoutMs ?? 10_000).unref?.(),
      );
      if ((await Promise.race([this.ready.then(() => 'ready' as const), timeout])) !== 'ready')
        throw this.unavailable('the streams are not set up yet');
    }
    const js = this.js as JetStreamClient;
    const item: WireItem = {
      idempotencyKey: input.id,
      request: {
        method: input.method,
        path: input.path,
        // the node's own headers (API keys, ${VAR} values …) and secret-looking message headers are never
        // published: the configuration's are added again at each attempt (lib/outbox/secret-headers.ts)
        headers: journaledHeaders(input.headers, this.opts.configHeaders?.() ?? {}, false).kept,
        bodyBase64: input.body ? input.body.toString('base64') : null,
      },
      msg: snapshotMessage(input.msg, input.body),
      createdAt: this.clock(),
    };
    if (input.orderingKey !== undefined && input.orderingKey !== '') item.orderingKey = input.orderingKey;
    const id = messageId(input.id, input.method, input.path);
    const bytes = Buffer.from(JSON.stringify(item), 'utf8');
    const evicted: string[] = [];
    for (let round = 0; ; round++) {
      try {
        const h = natsHeaders();
        h.set('Saypro-Event-Id', input.id);
        const pa = await js.publish(this.subjectFor(item.orderingKey), bytes, {
          msgID: id,
          headers: h,
          timeout: this.opts.publishTimeoutMs ?? 10_000,
        });
        if (pa.duplicate) return { status: 'duplicate', id };
        break;
      } catch (err) {
        if (isTooLarge(err))
          return this.full(
            id,
            'itemTooLarge',
            `the message (${bytes.length} bytes) is larger than the stream or the server accepts`,
          );
        if (!isFull(err)) throw this.unavailable(String((err as Error)?.message ?? err));
        if (this.opts.fullPolicy !== 'dead-letter-oldest' || round >= 5)
          return this.full(id, 'maxItems', String((err as Error)?.message ?? err));
        const gone = await this.workers?.evictOldest().catch(() => undefined);
        if (!gone) return this.full(id, 'maxItems', String((err as Error)?.message ?? err));
        evicted.push(gone);
      }
    }
    if (input.live && Object.keys(input.live).length > 0) {
      this.liveProps.set(id, input.live);
      while (this.liveProps.size > MAX_LIVE) this.liveProps.delete(this.liveProps.keys().next().value as string);
    }
    this.cache.depth++;
    this.changed();
    return { status: 'accepted', id, evicted };
  }

  private full(id: string, reason: string, message: string): DurableEnqueueResult {
    this.counters.refused++;
    this.changed();
    const error = new IntegrationError('OUTBOX_FULL', 'The delivery queue is full; the message was not queued', [
      { field: reason === 'maxItems' ? 'maxQueued' : 'maxQueuedMB', reason: message },
    ]);
    return { status: 'full', id, error };
  }

  /** puts back what the snapshot could not keep, for a message queued by this process */
  reattach(id: string, msg: Record<string, unknown>): Record<string, unknown> {
    const live = this.liveProps.get(id);
    this.liveProps.delete(id);
    if (live) for (const k of Object.keys(live)) if (!(k in msg)) msg[k] = live[k];
    return msg;
  }

  // -------------------------------------------------------------- admin

  wake(): void {
    // the workers are woken by the server
  }

  get inFlight(): number {
    return this.workers?.inFlight ?? 0;
  }

  get sending(): number {
    return this.workers?.sending ?? 0;
  }

  pacing(): PacerState | null {
    try {
      return this.opts.endpoint.pacing?.() ?? null;
    } catch {
      return null;
    }
  }

  /** JetStream keeps no journal segments of ours: nothing to find lost on open. */
  losses(): { lostRecords: number; missingSegments: string[]; tornRecords: number } {
    return { lostRecords: 0, missingSegments: [], tornRecords: 0 };
  }

  /** depth and age are the whole group's (refreshed every 2 s) */
  brief(): { depth: number; oldestAgeMs: number; sending: number } {
    return { depth: this.cache.depth, oldestAgeMs: this.cache.oldestAgeMs, sending: this.sending };
  }

  /** the group as this instance sees it (figures refreshed every 2 s) */
  groupInfo(): SharedGroupInfo {
    return describeGroup({
      link: this.opts.link,
      stream: this.names.stream,
      replicas: this.replicas,
      instance: this.instance,
      view: this.group?.view,
      delivered: this.counters.delivered,
      pacer: this.pacer,
    });
  }

  stats(): DurableStats & { shared: SharedGroupInfo } {
    return {
      depth: this.cache.depth,
      bytes: this.cache.bytes,
      oldestAgeMs: this.cache.oldestAgeMs,
      ...this.counters,
      inFlight: this.inFlight,
      sending: this.sending,
      circuit: this.pacing(),
      ...this.losses(),
      shared: this.groupInfo(),
    };
  }

  private requireDead(): SharedDeadLetters {
    if (!this.dead) throw this.unavailable('the streams are not set up yet');
    return this.dead;
  }

  async listDeadLetters(options: { limit?: number; offset?: number } = {}): Promise<DeadLetterListing> {
    return this.requireDead().list(options.limit ?? 50, options.offset ?? 0);
  }

  /** Queues dead letters again (same key, attempts from 0); an entry leaves the dead letters once JetStream has it again. */
  async replay(ids: Iterable<string> | 'all'): Promise<{ requeued: string[]; duplicate: string[]; full: string[] }> {
    const dead = this.requireDead();
    const js = this.js as JetStreamClient;
    const out = { requeued: [] as string[], duplicate: [] as string[], full: [] as string[] };
    const list = ids === 'all' ? 'all' : [...ids];
    const seen = new Set<string>();
    for await (const { seq, rec } of dead.entries(list)) {
      const item = rec.data as WireItem;
      // one event, one replay: a second entry of the same id (two instances moved a redelivered
      // message) is only removed
      if (seen.has(rec.id)) {
        await dead.remove(seq);
        continue;
      }
      seen.add(rec.id);
      try {
        const pa = await js.publish(
          this.subjectFor(item?.orderingKey),
          JSON.stringify({ ...item, createdAt: this.clock() }),
          { msgID: `${rec.msgId}~replay${seq}` },
        );
        if (pa.duplicate) out.duplicate.push(rec.id);
        else out.requeued.push(rec.id);
        await dead.remove(seq);
      } catch (err) {
        if (isFull(err)) out.full.push(rec.id);
        else throw err;
      }
    }
    await dead.refresh().catch(() => undefined);
    void this.refresh();
    this.changed();
    return out;
  }

  async purge(ids: Iterable<string> | 'all'): Promise<number> {
    const n = await this.requireDead().purge(ids === 'all' ? 'all' : [...ids]);
    this.changed();
    return n;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  deadStore(): SharedDeadLetters | undefined {
    return this.dead;
  }

  /** Stops pulling; attempts in flight are aborted and their messages handed back (NAK) for another instance. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = (async () => {
        if (this.statsTimer) clearInterval(this.statsTimer);
        this.pacer?.close();
        await this.workers?.stop();
        // leaves the group at once (else it counts for 30 s more); never waits long for it
        if (this.group)
          await Promise.race([
            this.group.leave().catch(() => undefined),
            new Promise((r) => setTimeout(r, 1000).unref?.()),
          ]);
        this.liveProps.clear();
      })();
    }
    return this.closed;
  }
}
