/**
 * Drives the work of a durable outbox: takes the items that are due, at most
 * `maxInFlight` at a time, and runs one step (one delivery attempt) for each.
 *
 *  - Items with an ordering key go one at a time: while one of a key is being
 *    worked on, the key is busy and `due()` skips it; the outbox itself only
 *    ever offers the head (oldest pending item) of a key, so a head waiting
 *    for its retry blocks its key.
 *  - There is no polling loop: one timer, set for the next due time the
 *    outbox reports (`nextDueAt`), plus `wake()` when something changed (an
 *    item was enqueued or replayed). A step that ends frees its slot and looks
 *    again.
 *  - `run(item)` is expected to journal the outcome of its step (complete,
 *    recordAttempt, toDeadLetter) before it resolves, so that the outbox's
 *    view (next due time, the head of a key) is current when the scheduler
 *    looks again. A step whose record is still being written (a completion:
 *    the outbox stops offering the item at once) may end sooner and `hold`
 *    the item's id until the record is written: its slot is free for the next
 *    item meanwhile.
 *
 * Pure: no Node-RED, no file system; the clock and the timer can be injected.
 */
import type { PendingItem } from './outbox';
import { ShortMap, ShortSet, type HasKey } from '../short-lived';

/** What the scheduler needs of an outbox. */
export interface DueQueue {
  due(now: number, limit: number, busyKeys?: Iterable<string>, busyIds?: HasKey): PendingItem[];
  nextDueAt(busyKeys?: Iterable<string>, busyIds?: HasKey): number | undefined;
}

export interface SchedulerOptions {
  queue: DueQueue;
  /** one step for one item; should not reject (a rejection is reported to onError); `context`: see offer() */
  run: (item: PendingItem, context?: unknown) => Promise<void>;
  /** most items worked on at once (default 32) */
  maxInFlight?: number;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** a step rejected, or the queue threw */
  onError?: (err: unknown, item?: PendingItem) => void;
  /** called after the set of items in flight changed */
  onChange?: () => void;
}

export const DEFAULT_MAX_IN_FLIGHT = 32;
/** setTimeout's longest delay; a later due time is looked at again then */
const MAX_TIMER_MS = 2147483647;
/** a due time that has passed but yielded nothing is looked at again after this */
const MIN_REPOLL_MS = 10;

export class Scheduler {
  private readonly queue: DueQueue;
  private readonly runStep: (item: PendingItem, context?: unknown) => Promise<void>;
  readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly onError: (err: unknown, item?: PendingItem) => void;
  private readonly onChange: () => void;
  /** ids being worked on */
  readonly busyIds = new ShortSet();
  /** ids kept from being taken again after their step ended (hold) */
  private readonly held = new ShortSet();
  /** ordering keys being worked on (one item each at most: due() only offers heads, and a busy key is skipped) */
  private readonly keys = new ShortSet();
  private readonly running = new ShortMap<Promise<void>>();
  private timer: unknown;
  /** when the timer fires, undefined when none is set */
  timerAt: number | undefined;
  private started = false;
  private stopped = false;
  private pumping = false;
  private again = false;

  constructor(options: SchedulerOptions) {
    this.queue = options.queue;
    this.runStep = options.run;
    this.maxInFlight =
      options.maxInFlight && options.maxInFlight > 0 ? Math.floor(options.maxInFlight) : DEFAULT_MAX_IN_FLIGHT;
    this.now = options.now ?? Date.now;
    this.setTimer =
      options.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        return t;
      });
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
    this.onError = options.onError ?? (() => undefined);
    this.onChange = options.onChange ?? (() => undefined);
  }

  /** items being worked on */
  get inFlight(): number {
    return this.running.size;
  }

  /** ordering keys being worked on */
  get busyKeys(): ReadonlySet<string> {
    return new Set(this.keys);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.pump();
  }

  /** Something changed (an item was added or became due): look now. */
  wake(): void {
    if (!this.started || this.stopped) return;
    this.pump();
  }

  /**
   * An item just queued and due now, without an ordering key: launched at
   * once, with `context` handed to run(), when a slot is free and no due time
   * has passed that the scheduler has not looked at yet (then every due item
   * was taken at the last look, and this one is the only one that can be due).
   * Spares a look at the queue for each message queued under load. Returns
   * false when it was not launched: call wake() then.
   */
  offer(item: PendingItem, context?: unknown): boolean {
    if (!this.started || this.stopped || this.pumping) return false;
    if (this.running.size >= this.maxInFlight) return false;
    if (item.orderingKey !== undefined || this.busyIds.has(item.id)) return false;
    const now = this.now();
    if (!(item.nextAttemptAt <= now) || (this.timerAt !== undefined && this.timerAt <= now)) return false;
    this.launch(item, context);
    return true;
  }

  /**
   * Keeps `id` from being taken again until `until` settles, without taking a
   * slot (its step is over, the record of its outcome is still being
   * written). Looks again afterwards when `until` resolves true (something may
   * be due now: the next item of its ordering key, or the item itself).
   */
  hold(id: string, until: Promise<boolean>): void {
    this.held.add(id);
    this.busyIds.add(id);
    until
      .catch(() => true)
      .then((look) => {
        this.held.delete(id);
        if (!this.running.has(id)) this.busyIds.delete(id);
        if (look) this.wake();
      });
  }

  /** Stops taking items and waits for the steps in flight to end (abort them first if they should not finish). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer();
    await Promise.allSettled([...this.running.values()]);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

  private pump(): void {
    if (this.pumping) {
      this.again = true; // called from inside a step that started synchronously
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.pumpOnce();
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    if (this.stopped) return;
    this.cancelTimer();
    const now = this.now();
    const room = this.maxInFlight - this.running.size;
    let launched = 0;
    if (room > 0) {
      let items: PendingItem[];
      try {
        items = this.queue.due(now, room, this.keys, this.busyIds);
      } catch (err) {
        this.onError(err);
        items = [];
      }
      for (const item of items) {
        if (this.busyIds.has(item.id)) continue;
        if (item.orderingKey !== undefined && this.keys.has(item.orderingKey)) continue;
        this.launch(item);
        launched++;
      }
    }
    if (this.running.size >= this.maxInFlight) return; // a step that ends looks again
    let next: number | undefined;
    try {
      next = this.queue.nextDueAt(this.keys, this.busyIds);
    } catch (err) {
      this.onError(err);
      next = undefined;
    }
    if (next === undefined) return;
    let delay = next - now;
    if (delay <= 0) delay = launched > 0 ? 0 : MIN_REPOLL_MS;
    this.timerAt = now + delay;
    this.timer = this.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        this.pump();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    const t = this.timer as { unref?: () => void } | undefined;
    // the timer alone never keeps the process alive
    if (t && typeof t.unref === 'function') t.unref();
  }

  private launch(item: PendingItem, context?: unknown): void {
    const id = item.id;
    const key = item.orderingKey;
    this.busyIds.add(id);
    if (key !== undefined) this.keys.add(key);
    let p: Promise<void>;
    try {
      p = Promise.resolve(this.runStep(item, context));
    } catch (err) {
      p = Promise.reject(err);
    }
    const tracked = p
      .catch((err) => this.onError(err, item))
      .then(() => {
        this.running.delete(id);
        if (!this.held.has(id)) this.busyIds.delete(id);
        if (key !== undefined) this.keys.delete(key);
        this.changed();
        if (!this.stopped) this.pump();
      });
    this.running.set(id, tracked);
    this.changed();
  }

  private changed(): void {
    try {
      this.onChange();
    } catch {
      // a listener's bug must not stop the scheduler
    }
  }
}
