/**
 * One step of the durable queue (durable.ts) for one due item, top-down:
 *
 *   readItem        the item's data back from the journal (or a dead letter:
 *                   unreadable, not ours)
 *   nothingLeft     attempts used up, or the idempotency key's lifetime
 *                   passed → a dead letter without a request
 *   attempt         ONE attempt (deliverOnce: waiting for the endpoint's
 *                   pacer uses up no attempt)
 *   then, by outcome:
 *     delivered     → complete(id) and output 1 (neither the message nor the
 *                     step waits for the DONE record's fsync)
 *     cancelled     → closing: nothing (stays as on disk); else looked at later
 *     retry later   → recordAttempt(id, {attempts, nextAttemptAt, lastError})
 *     failed        → the last attempt journaled, then giveUp: dead letter, output 2
 *
 * No Node-RED import; the queue hands in what a step needs (StepHost).
 */
import { IntegrationError } from '../errors';
import type { Outbox, PendingItem } from './outbox';
import type { AttemptRecord } from './dead-letter';
import type { InProcess } from './in-process';
import { deadLetterMessage, deliveredMessage, type FailureContext } from './outcome-messages';
import { attemptHeaders } from './secret-headers';
import { parseStoredItem, type DurableCounters, type DurableQueueOptions, type StoredItem } from './durable-types';
import {
  countedAttempts,
  deliverOnce,
  newDeliveryState,
  type DeliveryFailure,
  type DeliveryOutcome,
  type DeliveryState,
} from '../http/deliver';
import { windowPassed } from '../idempotency-window';
import type { FastEntry, Journaled } from './fast-lane';
import type { ShortMap } from '../short-lived';

/** a step cancelled while the queue is not closing (the endpoint stopped …): looked at again after this */
export const CANCELLED_BACKOFF_MS = 5000;

/** What the queue lends a step. */
export interface StepHost {
  readonly outbox: Outbox;
  readonly opts: DurableQueueOptions;
  readonly inProcess: InProcess;
  readonly counters: DurableCounters;
  /** the delivery state of each step in flight (for the status) */
  readonly live: ShortMap<DeliveryState>;
  readonly signal: AbortSignal;
  closing(): boolean;
  clock(): number;
  warn(text: string): void;
  changed(): void;
  /** holds the item's slot for a while after a journal write failed */
  cooldown(): Promise<void>;
  label(): string;
  configHeaders(): Record<string, string>;
  reattach(id: string, msg: Record<string, unknown>): Record<string, unknown>;
  /** keeps the item from the scheduler until `until` settles (scheduler.ts hold) */
  hold(id: string, until: Promise<boolean>): void;
  /** writes a message of the fast lane to the journal (once; fast-lane.ts) */
  journalNow(entry: FastEntry): Promise<Journaled>;
  /** the fast-lane message's step is over */
  leaveLane(entry: FastEntry): void;
}

export interface Loaded {
  stored: StoredItem;
  body: Buffer | null;
  /**
   * The message itself, when the item was queued a moment ago by this
   * process and taken at once (Scheduler.offer): it goes on as it came, as
   * from an in-memory node, instead of being restored from its snapshot.
   */
  original?: Record<string, unknown>;
  /** taken through the fast lane: not written yet when its attempt started (fast-lane.ts) */
  fast?: FastEntry;
}

/**
 * Works one due item: see the header comment. `fresh`: what was just queued
 * (the data as written, the body, the message), so nothing is read back.
 */
export async function step(host: StepHost, item: PendingItem, fresh?: Loaded): Promise<void> {
  if (fresh?.fast) return fastStep(host, item, fresh, fresh.fast);
  if (host.closing()) return;
  const loaded = fresh ?? (await readItem(host, item));
  if (!loaded || host.closing()) return;
  if (await nothingLeft(host, item, loaded)) return;
  const { state, outcome, attempts } = await attempt(host, item, loaded);
  if (outcome.ok) return delivered(host, item, loaded, state, outcome);
  const failure = outcome as DeliveryFailure;
  if (failure.error.code === 'CANCELLED') return cancelled(host, item);
  if (failure.retryAt !== undefined) return retryLater(host, item, state, failure, attempts);
  return failed(host, item, loaded, state, failure, attempts);
}

/**
 * The first attempt of a message of the fast lane. Delivered before its
 * window passed: nothing was written, nothing is. Otherwise it is written
 * (if its window has not already started that), then its outcome goes the
 * usual way, as the item the outbox now holds. Not written (the queue full,
 * the disk failing): delivered all the same, or refused to the node.
 */
async function fastStep(host: StepHost, item: PendingItem, loaded: Loaded, entry: FastEntry): Promise<void> {
  try {
    if (host.closing()) {
      const j = await host.journalNow(entry);
      if (!j.ok) notWritten(host, entry, j);
      return;
    }
    const { state, outcome, attempts } = await attempt(host, item, loaded);
    if (outcome.ok && !entry.journal) {
      entry.answer({ status: 'accepted', id: item.id, evicted: [] });
      return delivered(host, item, loaded, state, outcome, false);
    }
    const j = await host.journalNow(entry);
    if (!j.ok) {
      if (outcome.ok) {
        entry.answer(
          j.duplicate ? { status: 'duplicate', id: item.id } : { status: 'accepted', id: item.id, evicted: [] },
        );
        return delivered(host, item, loaded, state, outcome, false);
      }
      return notWritten(host, entry, j);
    }
    if (outcome.ok) return delivered(host, j.item, loaded, state, outcome);
    const failure = outcome as DeliveryFailure;
    if (failure.error.code === 'CANCELLED') return cancelled(host, j.item);
    if (failure.retryAt !== undefined) return retryLater(host, j.item, state, failure, attempts);
    return failed(host, j.item, loaded, state, failure, attempts);
  } finally {
    host.leaveLane(entry);
  }
}

/** A fast-lane message neither delivered nor written: the node refuses it (or, a duplicate, it is already safe). */
function notWritten(host: StepHost, entry: FastEntry, j: Exclude<Journaled, { ok: true }>): void {
  if (j.duplicate) return entry.answer({ status: 'duplicate', id: entry.id });
  host.inProcess.forget(entry.id);
  if (j.full) return entry.answer({ status: 'full', id: entry.id, error: j.full });
  entry.fail(j.error);
}

/** The item's data, or undefined (gone meanwhile, or given up as unreadable / not ours). */
async function readItem(host: StepHost, item: PendingItem): Promise<Loaded | undefined> {
  let data: unknown;
  try {
    data = await host.outbox.load(item.id);
  } catch (err) {
    if (host.closing()) return undefined;
    await giveUp(
      host,
      item,
      undefined,
      new IntegrationError('OUTBOX_UNREADABLE', 'The queued message cannot be read back from disk', [
        { reason: (err as Error)?.message ?? String(err) },
      ]),
    );
    return undefined;
  }
  if (data === undefined) return undefined; // gone meanwhile
  const stored = parseStoredItem(data);
  if (!stored) {
    await giveUp(
      host,
      item,
      undefined,
      new IntegrationError('OUTBOX_BAD_DATA', 'The queued item is not a message this node queued', [
        { reason: 'the stored data has no request or message' },
      ]),
    );
    return undefined;
  }
  const body = stored.request.bodyBase64 !== null ? Buffer.from(stored.request.bodyBase64, 'base64') : null;
  return { stored, body };
}

/** true when no attempt may be made any more (and the item was given up). */
async function nothingLeft(host: StepHost, item: PendingItem, loaded: Loaded): Promise<boolean> {
  const settings = host.opts.settings;
  if (item.attempts >= Math.max(1, Math.floor(settings.maxAttempts))) {
    // its attempts were used up (a crash right after the last one was journaled, or a lower maxAttempts since)
    const le = item.lastError;
    const error = new IntegrationError(
      le?.code ?? 'NO_ATTEMPTS_LEFT',
      le?.message ? `${le.message}; no attempts left` : 'No attempts left',
      [{ reason: `${item.attempts} of ${settings.maxAttempts} attempts were made`, field: 'maxAttempts' }],
    );
    await giveUp(host, item, loaded, error);
    return true;
  }
  // a key some request has carried (attempts counted) is used since the item was queued at the latest
  const passed = settings.idempotencyHeader
    ? windowPassed({
        firstUseAt: item.attempts > 0 ? item.createdAt : null,
        now: host.clock(),
        lifetimeMs: host.opts.keyLifetimeMs ?? 0,
        header: settings.idempotencyHeader,
      })
    : null;
  if (passed) {
    await giveUp(host, item, loaded, passed);
    return true;
  }
  return false;
}

/** ONE attempt; every attempt made is recorded for the dead letter's history. */
async function attempt(
  host: StepHost,
  item: PendingItem,
  { stored, body }: Loaded,
): Promise<{ state: DeliveryState; outcome: DeliveryOutcome; attempts: AttemptRecord[] }> {
  const id = item.id;
  const settings = host.opts.settings;
  const state = newDeliveryState(stored.idempotencyKey || id, settings.maxAttempts, item.createdAt);
  state.attempts = item.attempts;
  state.lastErrorCode = item.lastError?.code ?? null;
  state.lastStatusCode = item.lastError?.statusCode ?? null;
  host.live.set(id, state);
  const attempts: AttemptRecord[] = [];
  try {
    const outcome = await deliverOnce(
      host.opts.endpoint,
      {
        method: stored.request.method ?? undefined,
        path: stored.request.path,
        headers: attemptHeaders(host.configHeaders(), stored.request.headers, host.inProcess.requestSecrets(id)),
        body,
      },
      state,
      settings,
      {
        signal: host.signal,
        onAttempt: (log) => {
          if (log.result !== 'offline' && log.result !== 'cancelled') {
            const rec: AttemptRecord = { at: host.clock() };
            if (log.statusCode !== undefined) rec.statusCode = log.statusCode;
            if (log.errorCode !== undefined) rec.errorCode = log.errorCode;
            attempts.push(rec);
          }
          host.opts.onAttempt?.(log);
        },
        onPhase: () => host.changed(),
        cancelMessage: () => 'the queue was closed while this message was being sent; it stays queued',
      },
    );
    return { state, outcome, attempts };
  } finally {
    host.live.delete(id);
  }
}

function delivered(
  host: StepHost,
  item: PendingItem,
  { stored, body, original }: Loaded,
  state: DeliveryState,
  outcome: Extract<DeliveryOutcome, { ok: true }>,
  journaled = true,
): void {
  const id = item.id;
  host.inProcess.dropHistory(id);
  // the DONE record is written while the message goes on, and the step's slot is free at once (a crash before
  // its fsync delivers the message again, same key); the item is held from the scheduler until it is written
  if (journaled) host.hold(id, completionOver(host, item, host.outbox.complete(id)));
  host.counters.delivered++;
  const msg = deliveredMessage(
    stored,
    body,
    outcome,
    state.attempts,
    stored.idempotencyKey || id,
    host.label(),
    original,
  );
  host.changed();
  host.opts.onDelivered?.(host.reattach(id, msg));
}

/** Resolves once a completion is journaled or failed: true when the scheduler should look again. */
async function completionOver(host: StepHost, item: PendingItem, completion: Promise<boolean>): Promise<boolean> {
  const id = item.id;
  try {
    if (!(await completion) && !host.outbox.has(id)) {
      // pushed out to the dead letters meanwhile (a full queue): it was delivered all the same
      host.warn(`outbox: ${id} was delivered while it was being moved to the dead letters`);
    }
    return item.orderingKey !== undefined; // the next of its key can go now
  } catch (error) {
    host.warn(
      `outbox: ${id} was delivered but that could not be written to the journal (${(error as Error)?.message ?? error}); it may be delivered again`,
    );
    await host.cooldown(); // pending again: held for a while, so that a failing disk is not met with a storm
    return true;
  }
}

/** Closing: stays pending exactly as it is on disk. Otherwise (the endpoint went away) looked at later, no attempt used up. */
async function cancelled(host: StepHost, item: PendingItem): Promise<void> {
  if (host.closing()) return;
  try {
    await host.outbox.recordAttempt(item.id, {
      attempts: item.attempts,
      nextAttemptAt: host.clock() + CANCELLED_BACKOFF_MS,
      lastError: item.lastError ?? null,
    });
  } catch {
    await host.cooldown();
  }
}

function lastErrorOf(failure: DeliveryFailure): { code: string; message: string; statusCode?: number } {
  const lastError: { code: string; message: string; statusCode?: number } = {
    code: failure.error.code,
    message: failure.error.message,
  };
  if (failure.statusCode !== undefined) lastError.statusCode = failure.statusCode;
  return lastError;
}

async function retryLater(
  host: StepHost,
  item: PendingItem,
  state: DeliveryState,
  failure: DeliveryFailure,
  attempts: AttemptRecord[],
): Promise<void> {
  const id = item.id;
  host.inProcess.remember(id, attempts);
  try {
    await host.outbox.recordAttempt(id, {
      attempts: countedAttempts(state),
      nextAttemptAt: failure.retryAt as number,
      lastError: lastErrorOf(failure),
    });
    host.counters.retried++;
  } catch (err) {
    if (!host.closing())
      host.warn(`outbox: the attempt for ${id} could not be written to the journal: ${(err as Error)?.message ?? err}`);
    await host.cooldown();
  }
  host.changed();
}

async function failed(
  host: StepHost,
  item: PendingItem,
  loaded: Loaded,
  state: DeliveryState,
  failure: DeliveryFailure,
  attempts: AttemptRecord[],
): Promise<void> {
  // the dead letter shows every attempt made: journal the last one first
  if (countedAttempts(state) !== item.attempts) {
    try {
      await host.outbox.recordAttempt(item.id, {
        attempts: countedAttempts(state),
        nextAttemptAt: host.clock(),
        lastError: lastErrorOf(failure),
      });
    } catch {
      // giveUp below says whether the journal works
    }
  }
  await giveUp(host, item, Object.assign({}, loaded, { state, failure }), failure.error, attempts);
}

/** No more attempts: to the dead letters (durably), then output 2. */
export async function giveUp(
  host: StepHost,
  item: PendingItem,
  ctx: FailureContext | undefined,
  error: IntegrationError,
  attempts: AttemptRecord[] = [],
): Promise<void> {
  const id = item.id;
  const history = host.inProcess.history(id, attempts);
  if (history.length === 0 && item.lastError) {
    const rec: AttemptRecord = { at: host.clock(), errorCode: item.lastError.code };
    if (item.lastError.statusCode !== undefined) rec.statusCode = item.lastError.statusCode;
    history.push(rec);
  }
  let moved = false;
  try {
    moved = await host.outbox.toDeadLetter(id, error.toJSON(), history);
  } catch (err) {
    if (!host.closing())
      host.warn(`outbox: ${id} could not be moved to the dead letters: ${(err as Error)?.message ?? err}`);
    await host.cooldown();
    return; // still pending: it is tried again
  }
  host.inProcess.dropHistory(id);
  if (!moved) {
    host.inProcess.forget(id);
    return; // not pending any more (pushed out of a full queue: reported then)
  }
  host.counters.deadLettered++;
  const msg = await deadLetterMessage(item, ctx, error, host.label(), host.clock());
  host.changed();
  host.opts.onFailed?.(host.reattach(id, msg), error);
}
