/**
 * Shared mode: the HTTP POST node's queue in NATS JetStream, so that the same
 * flow deployed on several Node-RED instances shares the deliveries and a
 * dead box strands nothing. Same role and interface as the journal-backed
 * DurableQueue (lib/outbox/durable.ts); no Node-RED import.
 *
 *   set-up     (setup.ts) the streams, consumers and buckets, created in the
 *              background once NATS answers, tried again until they are.
 *   enqueue()  publishes the request as built (the journal's StoredItem) to
 *              the node's work-queue stream with Nats-Msg-Id = event id + a
 *              hash of the route (enqueue.ts); resolves 'accepted' only after
 *              JetStream's PubAck (the stream's replicas have it), 'duplicate'
 *              when the duplicate window already holds that id (sent to two
 *              instances: kept once), 'full' when the stream's limits refuse
 *              it. Rejects when NATS cannot be reached: never acknowledged,
 *              the trigger answers 503.
 *   workers    (worker.ts) pull from the stream's consumers and make one
 *              attempt per message, acking only after the attempt is over;
 *              retries are NAKs with a delay; attempts counted in KV.
 *   dead letters in a second stream (dead-letters.ts), listable, replayable
 *              and purgeable from any instance.
 *   pacing     the endpoint's rate and concurrency for the whole group
 *              (group-pacer.ts).
 *
 * This file is the queue object: its life (open, set-up, close), its figures
 * (brief, stats, group) and the admin commands; each part's work is in the
 * module named above.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type {
  DeadLetterListing,
  DurableCounters,
  DurableEnqueueInput,
  DurableEnqueueResult,
  DurableQueueOptions,
  DurableStats,
} from '../outbox/durable';
import type { DeadLetterCounts } from '../outbox/dead-letter';
import type { PacerState } from '../http/types';
import { messageId, queueNames, workSubject, type QueueNames } from './names';
import { describeGroup, type GroupMembers, type SharedGroupInfo } from './group';
import { hostname } from 'os';
import { SharedDeadLetters, type ReplayOutcome } from './dead-letters';
import { withGroupPacer, type GroupPacer } from './group-pacer';
import { Workers } from './worker';
import { fullRefusal, publishItem, queueUnavailable, toWireItem, type WireItem } from './enqueue';
import { createConsumers, createGroupPacer, createStreams, createTriesBucket, joinGroup } from './setup';

export type { WireItem } from './enqueue';

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

const STATS_EVERY_MS = 2000;
const SETUP_RETRY_MS = 3000;
const MAX_LIVE = 10_000;

/** what a listener or the endpoint answers, or `fallback` when it throws: their bugs must not stop the queue */
function quietly<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

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
    quietly(() => this.opts.warn?.(text), undefined);
  }

  changed(): void {
    quietly(() => this.opts.onChange?.(), undefined);
  }

  label(): string {
    return quietly(() => String(this.opts.endpoint.label ?? ''), '');
  }

  // -------------------------------------------------------------- set-up

  /** Creates what the queue needs in JetStream (setup.ts), then starts the workers; tries again until NATS is ready. */
  private async setup(): Promise<void> {
    while (!this.closing) {
      try {
        const nc = await this.opts.link.connection();
        if (this.closing) return;
        await this.createInJetStream(nc);
        if (this.closing) return;
        this.startWorking();
        return;
      } catch (err) {
        if (this.closing) return;
        this.warnOnce(`shared queue: JetStream is not ready (${(err as Error)?.message ?? err}); trying again`);
        await new Promise((r) => setTimeout(r, SETUP_RETRY_MS));
      }
    }
  }

  private async createInJetStream(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc, { timeout: this.opts.publishTimeoutMs ?? 10_000 });
    const warn = (t: string) => this.warn(t);
    await createStreams(jsm, this.names, this.opts, this.replicas, warn);
    await createConsumers(jsm, this.names, this.ackWaitMs);
    const kvm = new Kvm(nc);
    const tries = await createTriesBucket(kvm, this.names, this.replicas);
    this.pacer = await createGroupPacer({
      js,
      jsm,
      kvm,
      endpoint: this.opts.endpoint,
      replicas: this.replicas,
      owner: this.instance,
      warn,
      warnOnce: (t) => this.warnOnce(t),
      now: this.opts.now,
    });
    this.group = await joinGroup(kvm, this.opts.nodeId, this.replicas, this.instance, this.clock);
    this.js = js;
    this.jsm = jsm;
    this.tries = tries;
    this.dead = new SharedDeadLetters(js, jsm, this.names);
    this.deadLetter = this.dead;
  }

  private startWorking(): void {
    this.workers = new Workers(this, withGroupPacer(this.opts.endpoint, this.pacer as GroupPacer));
    this.workers.start();
    this.isReady = true;
    this.readyResolve();
    this.statsTimer = setInterval(() => void this.refresh(), STATS_EVERY_MS);
    this.statsTimer.unref?.();
    void this.refresh();
    this.changed();
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
    return workSubject(this.names, orderingKey);
  }

  /**
   * Queues a message in JetStream; resolves once the stream acknowledged it
   * (PubAck). Rejects while NATS cannot be reached (nothing acknowledged).
   */
  async enqueue(input: DurableEnqueueInput): Promise<DurableEnqueueResult> {
    if (this.closing) throw queueUnavailable('the node is closing');
    if (!this.opts.link.isConnected()) throw queueUnavailable('not connected to any NATS server');
    if (!this.isReady && !(await this.readyWithin(this.opts.publishTimeoutMs ?? 10_000)))
      throw queueUnavailable('the streams are not set up yet');
    const item = toWireItem(input, this.opts.configHeaders?.() ?? {}, this.clock());
    const id = messageId(input.id, input.method, input.path);
    const published = await publishItem({
      js: this.js as JetStreamClient,
      subject: this.subjectFor(item.orderingKey),
      bytes: Buffer.from(JSON.stringify(item), 'utf8'),
      eventId: input.id,
      msgId: id,
      timeoutMs: this.opts.publishTimeoutMs ?? 10_000,
      fullPolicy: this.opts.fullPolicy,
      evictOldest: async () => this.workers?.evictOldest(),
    });
    if (published.status === 'duplicate') return { status: 'duplicate', id };
    if (published.status === 'full') return this.refuse(id, published.reason, published.message);
    this.keepLive(id, input.live);
    this.cache.depth++;
    this.changed();
    return { status: 'accepted', id, evicted: published.evicted };
  }

  /** whether the set-up finishes within `ms` */
  private async readyWithin(ms: number): Promise<boolean> {
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref?.());
    return (await Promise.race([this.ready.then(() => 'ready' as const), timeout])) === 'ready';
  }

  private refuse(id: string, reason: 'maxItems' | 'itemTooLarge', message: string): DurableEnqueueResult {
    this.counters.refused++;
    this.changed();
    return { status: 'full', id, error: fullRefusal(reason, message) };
  }

  /** keeps what the snapshot cannot (req, res …) for when the message leaves this process */
  private keepLive(id: string, live: Record<string, unknown> | undefined): void {
    if (!live || Object.keys(live).length === 0) return;
    this.liveProps.set(id, live);
    while (this.liveProps.size > MAX_LIVE) this.liveProps.delete(this.liveProps.keys().next().value as string);
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
    return quietly(() => this.opts.endpoint.pacing?.() ?? null, null);
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
    if (!this.dead) throw queueUnavailable('the streams are not set up yet');
    return this.dead;
  }

  async listDeadLetters(options: { limit?: number; offset?: number } = {}): Promise<DeadLetterListing> {
    return this.requireDead().list(options.limit ?? 50, options.offset ?? 0);
  }

  /** Queues dead letters again (same key, attempts from 0); an entry leaves the dead letters once JetStream has it again. */
  async replay(ids: Iterable<string> | 'all'): Promise<ReplayOutcome> {
    const dead = this.requireDead();
    const js = this.js as JetStreamClient;
    const out = await dead.replay(ids === 'all' ? 'all' : [...ids], async (data, dedupeId) => {
      const item = data as WireItem;
      const pa = await js.publish(
        this.subjectFor(item?.orderingKey),
        JSON.stringify({ ...item, createdAt: this.clock() }),
        { msgID: dedupeId },
      );
      return pa.duplicate;
    });
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
