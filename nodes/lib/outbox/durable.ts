/**
 * Durable delivery: the HTTP POST node's queue, built from the outbox (the
 * journal on disk), the scheduler and the delivery engine's single-attempt
 * step. No Node-RED import: the node hands in callbacks for its outputs.
 *
 *   enqueue(message)  → the request as built (method, path, headers, body as
 *                       base64) and a JSON-safe snapshot of the message go
 *                       into the outbox; resolves after the fsync. With
 *                       write-behind (fast-lane.ts) a message that finds a
 *                       slot free goes to its attempt first and is written
 *                       only if not delivered within the window; resolves
 *                       once delivered or written.
 *   scheduler         → takes due items (at most maxInFlight, one per
 *                       ordering key) and works each in one step
 *                       (durable-step.ts): ONE attempt, then the result is
 *                       journaled — delivered, retry later, or a dead letter.
 *   close()           → stops the scheduler, aborts the attempts in flight
 *                       (not counted), waits for them, closes the outbox.
 *
 * Only the index of pending items is in memory (the outbox's); the data of
 * an item is read back when its attempt is due and dropped afterwards. The
 * one exception: properties that cannot be stored (`msg.req`, `msg.res` of an
 * HTTP-in flow waiting for its answer, and the original `_msgid`) of messages
 * queued by this process are kept by reference until the message leaves, so
 * that a request/response flow still answers its caller; after a restart
 * they are gone (so is the caller).
 */
import * as path from 'path';
import { IntegrationError } from '../errors';
import { Outbox, type PendingItem } from './outbox';
import { DeadLetterStore, type DeadLetterEntry } from './dead-letter';
import { Scheduler } from './scheduler';
import { fullError, JOURNAL_FAILURE_BACKOFF_MS, stepsInFlight, wait } from './queue-helpers';
import { InProcess } from './in-process';
import { RouteIds } from './routes';
import { CountersFile } from './counters-file';
import { step, type Loaded, type StepHost } from './durable-step';
import { deadLetterView, type DeadLetterView } from './dead-letter-view';
import { redactorFor } from '../http/redact';
import { evictedMessage } from './outcome-messages';
import { RecordCipher } from './cipher';
import { completeItem, startItem } from './stored-item';
import { FastLane, type FastEntry, type Journaled } from './fast-lane';
import {
  isObj,
  type DeadLetterListing,
  type DurableCounters,
  type DurableEnqueueInput,
  type DurableEnqueueResult,
  type DurableQueueOptions,
  type DurableStats,
  type StoredItem,
} from './durable-types';
import type { DeliveryState } from '../http/deliver';
import type { PacerState } from '../http/types';
import { ShortList, ShortMap } from '../short-lived';

export * from './durable-types';
export { stepsInFlight } from './queue-helpers';
export { formatAge, msUntilAgeChanges } from './age';

export class DurableQueue {
  readonly outbox: Outbox;
  readonly deadLetter: DeadLetterStore;
  private readonly opts: DurableQueueOptions;
  private readonly scheduler: Scheduler;
  /** write-behind for messages delivered at once (fast-lane.ts); undefined: every message is written first */
  private readonly fast: FastLane | undefined;
  private readonly abort = new AbortController();
  private readonly clock: () => number;
  /** the delivery state of each step in flight (for the status) */
  private readonly live = new ShortMap<DeliveryState>();
  private readonly routes: RouteIds;
  /** what is kept in memory only for items queued by this process */
  private readonly inProcess = new InProcess();
  private readonly encrypted: boolean;
  private readonly reports = new ShortList<Promise<void>>();
  /** since the queue was created: kept in counters.json beside the journal (counters-file.ts) */
  readonly counters: DurableCounters = { delivered: 0, retried: 0, deadLettered: 0, refused: 0 };
  private countsFile: CountersFile<DurableCounters> | undefined;
  private cipher: RecordCipher | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;

  private constructor(opts: DurableQueueOptions, outbox: Outbox, deadLetter: DeadLetterStore) {
    this.opts = opts;
    this.outbox = outbox;
    this.deadLetter = deadLetter;
    this.clock = opts.now ?? Date.now;
    this.routes = new RouteIds(outbox);
    this.encrypted = typeof opts.encryptionKey === 'string' && opts.encryptionKey.trim() !== '';
    const windowMs = Number(opts.writeBehindMs);
    this.fast =
      Number.isFinite(windowMs) && windowMs > 0
        ? new FastLane({ windowMs, journal: (entry) => this.journalFast(entry), now: this.clock })
        : undefined;
    const host = this.stepHost();
    this.scheduler = new Scheduler({
      queue: outbox,
      run: (item, fresh) => step(host, item, fresh as Loaded | undefined),
      maxInFlight: opts.maxInFlight ?? stepsInFlight(opts.endpoint),
      now: this.clock,
      onError: (err, item) =>
        this.warn(
          `outbox: ${item ? `the attempt for ${item.id} failed unexpectedly: ` : ''}${(err as Error)?.message ?? err}`,
        ),
      onChange: () => this.changed(),
    });
  }

  /**
   * Opens (or creates) the queue in `dir` (dead letters in `dir/dead-letter`)
   * and starts working off what is pending there: every item resumes with its
   * attempt count, next attempt time and idempotency key.
   */
  static async open(opts: DurableQueueOptions): Promise<DurableQueue> {
    const warn = (text: string) => opts.warn?.(text);
    const journalWarn = (text: string) => warn(typeof text === 'string' ? text : String(text));
    const cipher =
      typeof opts.encryptionKey === 'string' && opts.encryptionKey.trim() !== ''
        ? RecordCipher.fromSecret(opts.encryptionKey)
        : undefined;
    const deadLetter = await DeadLetterStore.open(path.join(opts.dir, 'dead-letter'), {
      maxEntries: opts.maxDeadLetters > 0 ? opts.maxDeadLetters : 0,
      warn: journalWarn,
      now: opts.now,
      cipher,
    });
    let outbox: Outbox;
    try {
      outbox = await Outbox.open(opts.dir, {
        maxItems: opts.maxItems,
        maxBytes: opts.maxBytes,
        fullPolicy: opts.fullPolicy,
        deadLetter,
        warn: journalWarn,
        now: opts.now,
        cipher,
      });
    } catch (err) {
      await deadLetter.close().catch(() => undefined);
      throw err;
    }
    const q = new DurableQueue(opts, outbox, deadLetter);
    q.cipher = cipher;
    // after the outbox: its directory lock makes this process the only writer of the counts
    q.countsFile = await CountersFile.open(opts.dir, q.counters, { now: opts.now, warn: journalWarn });
    q.scheduler.start();
    return q;
  }

  private warn(text: string): void {
    try {
      this.opts.warn?.(text);
    } catch {
      // a listener's bug must not stop the queue
    }
  }

  private changed(): void {
    try {
      this.opts.onChange?.();
    } catch {
      // a listener's bug must not stop the queue
    }
  }

  // -------------------------------------------------------------- enqueue

  /**
   * Queues a message durably: resolves after the fsync with 'accepted', or
   * 'duplicate' (the same request under this key is already pending: nothing
   * written, the message is already safe), or 'full' with an OUTBOX_FULL
   * error (policy 'refuse', or a message larger than the whole queue may
   * hold). Rejects when the journal cannot be written (the message is then
   * NOT safe).
   *
   * The item id is the idempotency key. One event may become several
   * requests through the same node (e.g. the same order to /orders.csv and
   * /orders.xml): a pending item with this key but another method or path is
   * not a duplicate, and the new one is queued as `<key>#<hash of method and
   * path>`, still sent with the same idempotency key.
   */
  async enqueue(input: DurableEnqueueInput): Promise<DurableEnqueueResult> {
    const prior = this.fast?.get(input.id);
    // the same key again while the first is at its first attempt: the first one is written, then the usual way
    if (prior) await this.fast?.journalNow(prior);
    else if (this.fast && input.orderingKey === undefined) {
      const taken = this.enqueueFast(this.fast, input);
      if (taken) return taken;
    }
    // near the limits: the messages of the lane count first, so they are written before this one is admitted
    if (this.fast && this.fast.unwritten > 0 && !this.outbox.hasRoom(this.fast.unwritten + 1)) await this.fast.flush();
    const now = this.clock();
    const { data, requestSecrets } = startItem(input, this.configHeaders(), this.encrypted, now);
    const msgSecrets = completeItem(data, input, this.encrypted);
    const r = await this.routes.enqueue(input.id, input.orderingKey, data, now);
    if (r.status === 'full') {
      this.counters.refused++;
      this.changed();
      return { status: 'full', id: r.id, error: fullError(r) };
    }
    if (r.status === 'duplicate') return { status: 'duplicate', id: r.id };
    this.inProcess.keep(r.id, input.live, requestSecrets, msgSecrets);
    this.evicted(r.evicted);
    this.changed();
    // taken at once when a slot is free, with what was just written: nothing to look up or read back
    const fresh: Loaded = { stored: data, body: input.body, original: isObj(input.msg) ? input.msg : undefined };
    if (!this.scheduler.offer(r.item, fresh)) this.scheduler.wake();
    return { status: 'accepted', id: r.id, evicted: r.evicted };
  }

  /**
   * Write-behind (fast-lane.ts): straight to the first attempt when a slot is
   * free and the key is not pending; undefined when it cannot be taken so.
   * Resolves once the message is delivered or written.
   */
  private enqueueFast(lane: FastLane, input: DurableEnqueueInput): Promise<DurableEnqueueResult> | undefined {
    if (this.outbox.has(input.id) || this.routes.busy(input.id)) return undefined;
    // a queue that would refuse it answers so at once (a race with the window is answered when its attempt ends)
    if (!this.outbox.hasRoom(lane.unwritten + 1)) return undefined;
    const now = this.clock();
    const item: PendingItem = { id: input.id, attempts: 0, nextAttemptAt: now, createdAt: now, bytes: 0 };
    const { data, requestSecrets } = startItem(input, this.configHeaders(), this.encrypted, now);
    const entry = lane.add(input.id, now, { input, data });
    this.inProcess.keep(input.id, input.live, requestSecrets, {});
    const fresh: Loaded = {
      stored: data,
      body: input.body,
      original: isObj(input.msg) ? input.msg : undefined,
      fast: entry,
    };
    if (!this.scheduler.offer(item, fresh)) {
      lane.remove(entry);
      this.inProcess.forget(input.id);
      return undefined;
    }
    this.changed();
    return entry.answered;
  }

  /** Writes a message of the fast lane to the journal (its window passed, or its attempt did not deliver it). */
  private async journalFast(entry: FastEntry): Promise<Journaled> {
    const { input, data } = entry.payload as { input: DurableEnqueueInput; data: StoredItem };
    try {
      const msgSecrets = completeItem(data, input, this.encrypted);
      const r = await this.outbox.enqueue({ id: entry.id, data, now: entry.createdAt, owned: true });
      if (r.status === 'duplicate') return { ok: false, duplicate: true };
      if (r.status === 'full') {
        this.counters.refused++;
        return { ok: false, duplicate: false, full: fullError(r) };
      }
      this.inProcess.keepMsgSecrets(entry.id, msgSecrets);
      this.evicted(r.evicted);
      entry.answer({ status: 'accepted', id: entry.id, evicted: r.evicted });
      this.changed();
      return { ok: true, item: r.item, evicted: r.evicted };
    } catch (error) {
      return { ok: false, duplicate: false, error };
    }
  }

  private evicted(ids: string[]): void {
    if (ids.length === 0) return;
    this.counters.deadLettered += ids.length;
    for (const id of ids) this.reportEvicted(id);
  }

  // ------------------------------------------------- taking over an orphaned queue (orphans.ts)

  /** The journal's cipher: an encrypted orphaned queue opens only with the same key. */
  get recordCipher(): RecordCipher | undefined {
    return this.cipher;
  }

  /**
   * Queues a message taken over from another queue with its id (so its
   * idempotency key), ordering key and first-queued time. Rejects when this
   * queue is full: the message then stays where it was.
   */
  async adopt(item: {
    id: string;
    orderingKey?: string;
    data: unknown;
    createdAt: number;
  }): Promise<'queued' | 'duplicate'> {
    const r = await this.outbox.enqueue({
      id: item.id,
      orderingKey: item.orderingKey,
      data: item.data,
      now: Math.min(item.createdAt, this.clock()),
      nextAttemptAt: this.clock(),
    });
    if (r.status === 'full') throw new IntegrationError('OUTBOX_FULL', `this queue is full: ${r.message}`);
    if (r.status === 'duplicate') return 'duplicate';
    this.evicted(r.evicted);
    this.changed();
    this.scheduler.wake();
    return 'queued';
  }

  /** Keeps a dead letter taken over from another queue, as it is. */
  async adoptDeadLetter(entry: DeadLetterEntry): Promise<void> {
    // (its enqueueSeq named an item of the other queue: meaningless here)
    const { id, data, error, attempts, history, deadAt, orderingKey, createdAt } = entry;
    await this.deadLetter.put({ id, data, error, attempts, history, deadAt, orderingKey, createdAt });
    this.changed();
  }

  /** An item pushed out of a full queue (policy 'dead-letter-oldest'): never silent, it leaves on output 2 too. */
  private reportEvicted(id: string): void {
    this.inProcess.dropHistory(id);
    const p = (async () => {
      const entry = await this.deadLetter.get(id);
      const { msg, error } = evictedMessage(id, entry, this.label(), this.clock());
      this.opts.onFailed?.(this.reattach(id, msg), error);
    })()
      .catch((err) =>
        this.warn(
          `outbox: ${id} was moved to the dead letters (queue full) but could not be reported: ${(err as Error)?.message ?? err}`,
        ),
      )
      .finally(() => this.reports.delete(added));
    const added = this.reports.add(p);
  }

  private configHeaders(): Record<string, string> {
    try {
      return this.opts.configHeaders?.() ?? {};
    } catch {
      return {};
    }
  }

  /** puts back what was kept in memory for a message queued by this process */
  private reattach(id: string, msg: Record<string, unknown>): Record<string, unknown> {
    return this.inProcess.reattach(id, msg);
  }

  // -------------------------------------------------------------- one step

  private label(): string {
    try {
      return String(this.opts.endpoint.label ?? '');
    } catch {
      return '';
    }
  }

  private cooldown(): Promise<void> {
    return wait(JOURNAL_FAILURE_BACKOFF_MS, this.abort.signal);
  }

  /** What one step (durable-step.ts) works with. */
  private stepHost(): StepHost {
    return {
      outbox: this.outbox,
      opts: this.opts,
      inProcess: this.inProcess,
      counters: this.counters,
      live: this.live,
      signal: this.abort.signal,
      closing: () => this.closing,
      clock: this.clock,
      warn: (text) => this.warn(text),
      changed: () => this.changed(),
      cooldown: () => this.cooldown(),
      label: () => this.label(),
      configHeaders: () => this.configHeaders(),
      reattach: (id, msg) => this.reattach(id, msg),
      hold: (id, until) => this.scheduler.hold(id, until),
      journalNow: (entry) => (this.fast as FastLane).journalNow(entry),
      leaveLane: (entry) => this.fast?.remove(entry),
    };
  }

  // -------------------------------------------------------------- admin

  /** Wakes the scheduler (e.g. after items were added from outside). */
  wake(): void {
    this.scheduler.wake();
  }

  get inFlight(): number {
    return this.scheduler.inFlight;
  }

  /** steps whose request is on the wire */
  get sending(): number {
    let n = 0;
    this.live.forEach((s) => (n += s.phase === 'sending' ? 1 : 0));
    return n;
  }

  pacing(): PacerState | null {
    try {
      return this.opts.endpoint.pacing?.() ?? null;
    } catch {
      return null;
    }
  }

  /** What the status shows, cheaply (no journal figures): depth, age of the oldest, requests on the wire. */
  brief(): { depth: number; oldestAgeMs: number; sending: number } {
    const depth = this.outbox.size;
    const oldest = depth > 0 ? this.outbox.list({ limit: 1 })[0] : undefined;
    return { depth, oldestAgeMs: oldest ? Math.max(0, this.clock() - oldest.createdAt) : 0, sending: this.sending };
  }

  stats(): DurableStats {
    const s = this.outbox.stats(this.clock());
    return {
      depth: s.depth,
      bytes: s.bytes,
      oldestAgeMs: s.oldestAgeMs,
      delivered: this.counters.delivered,
      retried: this.counters.retried,
      deadLettered: this.counters.deadLettered,
      refused: this.counters.refused,
      countsSince: this.countsFile?.since ?? 0,
      inFlight: this.inFlight,
      sending: this.sending,
      circuit: this.pacing(),
      ...this.losses(),
    };
  }

  /** What opening the journals found lost (a count that stays until the next open). */
  losses(): { lostRecords: number; missingSegments: string[]; tornRecords: number } {
    const s = this.outbox.stats(this.clock());
    const d = this.deadLetter.losses();
    return {
      lostRecords: s.lostRecords + d.lostRecords,
      missingSegments: s.missingSegments
        .map((n) => `queue/${n}`)
        .concat(d.missingSegments.map((n) => `dead-letter/${n}`)),
      tornRecords: s.tornRecords + d.tornRecords,
    };
  }

  /** One dead letter as the monitor opens it: the request as sent (secrets masked) and every attempt; undefined when there is no such entry. */
  async deadLetterView(id: string): Promise<DeadLetterView | undefined> {
    const entry = await this.deadLetter.get(id);
    if (!entry) return undefined;
    return deadLetterView(entry, {
      base: this.opts.endpoint.label,
      defaultMethod: this.opts.endpoint.defaultMethod,
      configHeaders: this.configHeaders(),
      idempotencyHeader: this.opts.settings.idempotencyHeader,
      redactor: redactorFor(this.opts.endpoint),
    });
  }

  listDeadLetters(options: { limit?: number; offset?: number } = {}): DeadLetterListing {
    return {
      counts: this.deadLetter.counts(),
      items: this.deadLetter.list({ limit: options.limit ?? 50, offset: options.offset ?? 0 }),
    };
  }

  /**
   * Queues dead letters again (same key, same data, attempts from 0); an
   * entry leaves the dead letters only once it is queued. Entries the queue
   * refuses (full) stay dead letters.
   */
  async replay(ids: Iterable<string> | 'all'): Promise<{ requeued: string[]; duplicate: string[]; full: string[] }> {
    const r = await this.outbox.replayDeadLetters(ids, this.clock());
    this.changed();
    this.scheduler.wake();
    return r;
  }

  /** Deletes dead letters for good; returns how many. */
  async purge(ids: Iterable<string> | 'all'): Promise<number> {
    const n = await this.deadLetter.purge(ids);
    this.changed();
    return n;
  }

  /**
   * Stops: no new attempts; attempts in flight are aborted (not counted, the
   * items stay pending as journaled) and awaited; then the journals close.
   */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = (async () => {
        this.fast?.stop(); // each attempt of the fast lane in flight writes its message as it ends
        this.abort.abort();
        await this.scheduler.stop();
        await Promise.allSettled(this.reports.values());
        await this.countsFile?.close();
        await this.outbox.close();
        await this.deadLetter.close();
        this.inProcess.clear();
      })();
    }
    return this.closed;
  }
}
