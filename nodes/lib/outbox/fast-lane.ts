/**
 * Write-behind for the durable queue (durable.ts): a message that arrives
 * while one of the queue's slots is free goes straight to its first attempt,
 * and is written to the journal only if that attempt has not delivered it
 * within `windowMs`, or did not deliver it (a retry, a dead letter, the queue
 * closing). A message the partner accepts within the window never touches
 * the disk: no PUT record, no DONE record, no fsync.
 *
 * What stays true: the queue's answer to `enqueue` (the node's `done()`, the
 * event trigger's 202) comes only once the message is delivered or on disk,
 * so nothing acknowledged is lost. A crash inside the window loses a message
 * that nobody was told was safe, as a crash before the fsync always did.
 *
 * This module only keeps the entries and the one timer for the window; what
 * writing an entry means is the queue's (`journal` callback). Pure: no
 * Node-RED, no file system; the clock and the timer can be injected.
 */
import type { PendingItem } from './item';
import type { DurableEnqueueResult } from './durable-types';
import type { IntegrationError } from '../errors';
import { ShortMap } from '../short-lived';

/** what writing an entry gave: the item now pending in the outbox, or why it is not there */
export type Journaled =
  | { ok: true; item: PendingItem; evicted: string[] }
  | { ok: false; duplicate: true }
  | { ok: false; duplicate: false; full?: IntegrationError; error?: unknown };

export class FastEntry {
  readonly id: string;
  readonly createdAt: number;
  readonly deadline: number;
  /** what the queue needs to write it */
  readonly payload: unknown;
  /** set once writing started (the window passed, or the attempt did not deliver) */
  journal: Promise<Journaled> | undefined;
  /** the enqueue's answer */
  readonly answered: Promise<DurableEnqueueResult>;
  private resolveAnswer!: (r: DurableEnqueueResult) => void;
  private rejectAnswer!: (err: unknown) => void;
  private settled = false;

  constructor(id: string, createdAt: number, deadline: number, payload: unknown) {
    this.id = id;
    this.payload = payload;
    this.createdAt = createdAt;
    this.deadline = deadline;
    this.answered = new Promise<DurableEnqueueResult>((resolve, reject) => {
      this.resolveAnswer = resolve;
      this.rejectAnswer = reject;
    });
  }

  /** Answers the enqueue (once; later calls are ignored). */
  answer(r: DurableEnqueueResult): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveAnswer(r);
  }

  /** The enqueue fails: the message is neither delivered nor on disk. */
  fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectAnswer(err);
  }

  get isAnswered(): boolean {
    return this.settled;
  }
}

export interface FastLaneOptions {
  /** how long a message may wait for its first attempt before it is written anyway (ms, > 0) */
  windowMs: number;
  /** writes one entry to the journal; never rejects */
  journal: (entry: FastEntry) => Promise<Journaled>;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class FastLane {
  readonly windowMs: number;
  private readonly write: (entry: FastEntry) => Promise<Journaled>;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  /** in order of arrival, so of deadline: the window is the same for all */
  private readonly entries = new ShortMap<FastEntry>();
  private timer: unknown;
  /** entries not being written */
  private notWritten = 0;

  constructor(options: FastLaneOptions) {
    this.windowMs = options.windowMs;
    this.write = options.journal;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  /** messages at their first attempt that came through the lane (written meanwhile or not) */
  get size(): number {
    return this.entries.size;
  }

  /** messages of the lane that are neither delivered nor being written */
  get unwritten(): number {
    return this.notWritten;
  }

  get(id: string): FastEntry | undefined {
    return this.entries.get(id);
  }

  /** Takes a message in (its id must not be in the lane). */
  add(id: string, now: number, payload?: unknown): FastEntry {
    const entry = new FastEntry(id, now, now + this.windowMs, payload);
    this.entries.set(id, entry);
    this.notWritten++;
    if (this.timer === undefined) this.arm(this.windowMs);
    return entry;
  }

  /** The entry leaves the lane: its step is over (or it did not go to its attempt after all). */
  remove(entry: FastEntry): void {
    if (this.entries.get(entry.id) === entry) {
      this.entries.delete(entry.id);
      if (!entry.journal) this.notWritten--;
    }
    if (this.entries.size === 0) this.disarm();
  }

  /** Starts writing the entry now, unless that has started already; resolves with what writing gave. */
  journalNow(entry: FastEntry): Promise<Journaled> {
    if (!entry.journal) {
      if (this.entries.get(entry.id) === entry) this.notWritten--;
      entry.journal = this.write(entry);
    }
    return entry.journal;
  }

  /** Starts writing every entry not yet being written; resolves once all are written (or failed). */
  flush(): Promise<unknown> {
    const writes: Promise<Journaled>[] = [];
    for (const entry of this.entries.values()) if (!entry.journal) writes.push(this.journalNow(entry));
    return Promise.all(writes);
  }

  /** Stops the timer (the queue is closing: each attempt in flight writes its entry as it ends). */
  stop(): void {
    this.disarm();
  }

  private arm(ms: number): void {
    const t = this.setTimer(() => this.due(), Math.max(0, ms));
    this.timer = t;
    const h = t as { unref?: () => void } | undefined;
    // the window alone never keeps the process alive
    if (h && typeof h.unref === 'function') h.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** The window of some entries passed: write them; look again at the next deadline. */
  private due(): void {
    this.timer = undefined;
    const now = this.now();
    let next = Infinity;
    // every entry is looked at: their order is not their age (an id such as "12" comes first, lib/short-lived.ts)
    for (const entry of this.entries.values()) {
      if (entry.journal) continue; // being written (or written), its attempt still going on
      if (entry.deadline > now) next = Math.min(next, entry.deadline);
      else this.journalNow(entry);
    }
    if (next !== Infinity) this.arm(next - now);
  }
}
