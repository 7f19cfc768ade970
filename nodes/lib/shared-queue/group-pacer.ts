/**
 * Group pacing: the endpoint's rate limit and max concurrency held for every
 * Node-RED instance that shares a queue.
 *
 * The primitive is JetStream's own per-subject limit, not compare-and-set: a
 * stream per endpoint (SAYPRO_PACE_<endpoint>, subjects
 * saypro.pace.<endpoint>.>) keeps at most one message per subject and refuses
 * a second one (discard new per subject), so the first instance to publish
 * to a subject owns it. (KV compare-and-set was tried first: on a clustered
 * nats-server 2.9 concurrent updates with the same expected revision were
 * measured to both succeed, i.e. lost updates; the per-subject limit held.)
 *
 *   r.<k>   rate slot k: time is cut into slots of rateIntervalMs / rateCount
 *           (+5 % for the way from a grant to the partner); a request needs
 *           a slot of its own and starts within a tolerance after the slot's
 *           start, never later (rate-slots.ts): an instance reserves a slot
 *           far enough ahead for the reservation's measured round trip,
 *           waits for its start, and gives it up if it could not be used in
 *           time. So the group makes at most one request per slot, spaced
 *           evenly, and no slow round trip turns into a burst.
 *   c.<i>   concurrency slot i (0 ≤ i < maxConcurrent), held for the request
 *           and deleted afterwards; the stream's max age (2 minutes) frees the
 *           slots of an instance that died.
 *
 * A 429/503 with Retry-After pauses the whole group: the pause's end is kept
 * in a KV key ("pause", a plain put: a lost update only shortens a pause).
 * The wrapped endpoint keeps its own pacer (circuit breaker, offline probes,
 * local limits) in front. One waiter per instance at a time looks for a
 * concurrency slot; up to AHEAD_WAITERS hold (or reserve) rate slots ahead. Times are the instances' wall clocks: keep them in sync
 * with NTP (a clock that is x ms off lets that instance's requests land up to
 * x ms beside its slots).
 */
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { isTaken } from './jetstream-errors';
import { Lead, firstCandidate, slotSpacing, slotStart, slotTolerance, usable } from './rate-slots';
import type { EndpointHandle, PacerLike, PacerOutcome, PacerPermit, PacerState } from '../http/types';
import type { StopSignal } from '../http/abort';

export interface GroupLimits {
  /** 0: no group concurrency limit */
  maxConcurrent: number;
  /** 0: no group rate limit */
  rateCount: number;
  rateIntervalMs: number;
}

/** how long an unreleased concurrency slot (or a rate slot) is kept */
export const SLOT_TTL_MS = 120_000;
/** a JetStream error: wait this long before trying again */
const ERROR_BACKOFF_MS = 500;
/** how many slots one reservation may try before choosing again from the clock */
const MAX_SCAN_SLOTS = 1000;
/** waiters of one instance holding rate slots at a time */
export const AHEAD_WAITERS = 32;

export function paceStreamConfig(
  name: string,
  subjects: string,
  replicas: number,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.New,
    discard_new_per_subject: true,
    max_age: SLOT_TTL_MS * 1_000_000,
    duplicate_window: 1_000_000_000,
  };
}

function sleep(ms: number, signal?: StopSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    const t = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const e = new Error('The operation was aborted') as Error & { code: string };
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

export interface GroupPacerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** the pace stream's name and subject prefix (without the trailing ".>") */
  stream: string;
  prefix: string;
  /** the pause key lives here */
  kv: KV;
  inner?: PacerLike;
  limits: GroupLimits;
  owner: string;
  warn?: (text: string) => void;
  now?: () => number;
  /** told of every rate grant: the slot and when the request may start (tests, figures) */
  onGrant?: (slot: number, at: number, slotStartMs: number) => void;
}

export class GroupPacer implements PacerLike {
  private readonly o: GroupPacerOptions;
  private readonly now: () => number;
  /** one waiter at a time looks for a concurrency slot */
  private gate: Promise<unknown> = Promise.resolve();
  /** waiters holding (or reserving) a rate slot, and those queued behind them */
  private ahead = 0;
  private aheadQueue: (() => void)[] = [];
  private closed = false;
  /** the next rate slot worth trying (slots before it are taken) */
  private nextSlot = 0;
  private readonly lead = new Lead();
  /** group grants made by this instance (for the monitor) */
  granted = 0;
  /** rate slots reserved but given up because they could not be used in time */
  missedSlots = 0;

  constructor(opts: GroupPacerOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
  }

  private warn(text: string): void {
    try {
      this.o.warn?.(text);
    } catch {
      // ignore
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.aheadQueue.splice(0)) w();
  }

  get spacingMs(): number {
    return slotSpacing(this.o.limits);
  }

  /** how far ahead rate slots are reserved now (learnt from the round trips) */
  get leadMs(): number {
    return this.lead.ms;
  }

  async acquire(signal?: StopSignal): Promise<PacerPermit> {
    const local = this.o.inner ? await this.o.inner.acquire(signal) : undefined;
    let slot: { seq: number } | undefined;
    try {
      const run = this.gate.then(async () => {
        slot = await this.takeSlot(signal);
      });
      this.gate = run.catch(() => undefined);
      await run;
      await this.enterAhead(signal);
      try {
        await this.takeToken(signal);
      } finally {
        this.leaveAhead();
      }
    } catch (err) {
      local?.release({ kind: 'cancelled' });
      if (slot) this.freeSlot(slot.seq);
      throw err;
    }
    this.granted++;
    let released = false;
    return {
      probe: local?.probe ?? false,
      release: (outcome?: PacerOutcome) => {
        if (released) return;
        released = true;
        local?.release(outcome);
        if (slot) this.freeSlot(slot.seq);
        if (outcome?.kind === 'response' && outcome.retryAfterMs && outcome.retryAfterMs > 0)
          this.pauseUntil(this.now() + outcome.retryAfterMs);
      },
    };
  }

  tryAcquire(): PacerPermit | undefined {
    return undefined; // the group needs a round trip: always acquire()
  }

  pauseUntil(t: number): void {
    this.o.inner?.pauseUntil(t);
    void (async () => {
      const e = await this.o.kv.get('pause');
      const current = e && e.operation === 'PUT' ? Number(e.string()) : 0;
      if (!(current >= t)) await this.o.kv.put('pause', String(Math.round(t)));
    })().catch(() => undefined);
  }

  state(): PacerState {
    if (this.o.inner) return this.o.inner.state();
    return {
      circuit: 'closed',
      pausedUntil: null,
      offline: false,
      inFlight: 0,
      waiting: 0,
      consecutiveFailures: 0,
      openUntil: null,
      nextProbeAt: null,
      offlineCode: null,
    };
  }

  private async publish(subject: string): Promise<number | undefined> {
    try {
      const pa = await this.o.js.publish(subject, this.o.owner);
      return pa.seq;
    } catch (err) {
      if (isTaken(err)) return undefined;
      throw err;
    }
  }

  // ------------------------------------------------------------ concurrency

  private async takeSlot(signal?: StopSignal): Promise<{ seq: number } | undefined> {
    const n = this.o.limits.maxConcurrent;
    if (n <= 0) return undefined;
    let delay = 10;
    for (;;) {
      if (this.closed) throw abortError();
      const start = Math.floor(Math.random() * n);
      try {
        for (let k = 0; k < n; k++) {
          const seq = await this.publish(`${this.o.prefix}.c.${(start + k) % n}`);
          if (seq !== undefined) return { seq };
        }
      } catch (err) {
        this.warn(`group pacing: ${(err as Error)?.message ?? err}`);
        await sleep(ERROR_BACKOFF_MS, signal);
        continue;
      }
      await sleep(delay, signal);
      delay = Math.min(200, delay * 2);
    }
  }

  private freeSlot(seq: number): void {
    this.o.jsm.streams.deleteMessage(this.o.stream, seq, false).catch(() => undefined);
  }

  // ------------------------------------------------------------ rate

  private async pausedFor(): Promise<number> {
    const e = await this.o.kv.get('pause');
    const until = e && e.operation === 'PUT' ? Number(e.string()) : 0;
    return Number.isFinite(until) ? Math.max(0, until - this.now()) : 0;
  }

  private async enterAhead(signal?: StopSignal): Promise<void> {
    while (this.ahead >= AHEAD_WAITERS) {
      if (this.closed) throw abortError();
      if (signal?.aborted) throw abortError();
      await new Promise<void>((r) => {
        const onAbort = () => r();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.aheadQueue.push(() => {
          signal?.removeEventListener('abort', onAbort);
          r();
        });
      });
    }
    this.ahead++;
  }

  private leaveAhead(): void {
    this.ahead--;
    // every queued waiter looks again (one that was aborted meanwhile has left)
    for (const w of this.aheadQueue.splice(0)) w();
  }

  /**
   * Reserves the first free rate slot at least `lead` ahead. Several
   * reservations of one instance run at once: each claims its candidates
   * locally first (nextSlot), so they never try the same slot.
   */
  private async reserve(spacing: number): Promise<number> {
    for (let n = 0; n < MAX_SCAN_SLOTS; n++) {
      if (this.closed) throw abortError();
      const t0 = this.now();
      const k = firstCandidate(t0, this.lead.ms, spacing, this.nextSlot);
      this.nextSlot = k + 1;
      if ((await this.publish(`${this.o.prefix}.r.${k}`)) !== undefined) {
        this.lead.sample(this.now() - t0);
        return k;
      }
    }
    throw new Error(`no free rate slot among ${MAX_SCAN_SLOTS} tried`);
  }

  private async takeToken(signal?: StopSignal): Promise<void> {
    for (;;) {
      if (this.closed) throw abortError();
      try {
        const paused = await this.pausedFor();
        if (paused > 0) {
          await sleep(paused, signal);
          continue;
        }
        const spacing = this.spacingMs;
        if (spacing <= 0) return;
        const k = await this.reserve(spacing);
        const start = slotStart(k, spacing);
        let now = this.now();
        while (now < start) {
          await sleep(start - now, signal);
          now = this.now();
        }
        if (usable(k, now, spacing, slotTolerance(spacing)) !== 'ok') {
          // too late for this slot: using it would put two requests closer than the rate allows
          this.missedSlots++;
          this.lead.missed();
          continue;
        }
        try {
          this.o.onGrant?.(k, now, start);
        } catch {
          // a listener's bug must not stop the grant
        }
        return;
      } catch (err) {
        if (signal?.aborted || (err as Error)?.name === 'AbortError') throw abortError();
        this.warn(`group pacing: ${(err as Error)?.message ?? err}`);
        await sleep(ERROR_BACKOFF_MS, signal);
      }
    }
  }
}

/** The endpoint as deliver() sees it, with the group pacer in place of its own. */
export function withGroupPacer(endpoint: EndpointHandle, pacer: GroupPacer): EndpointHandle {
  return {
    get id() {
      return endpoint.id;
    },
    get label() {
      return endpoint.label;
    },
    get defaultMethod() {
      return endpoint.defaultMethod;
    },
    prepare: (intent) => endpoint.prepare(intent),
    invalidateAuth: () => endpoint.invalidateAuth(),
    secrets: () => endpoint.secrets(),
    sensitiveNames: () => endpoint.sensitiveNames(),
    register: (user) => endpoint.register(user),
    deregister: (user) => endpoint.deregister(user),
    pacer,
    pacing: () => (endpoint.pacing ? endpoint.pacing() : pacer.state()),
  };
}
