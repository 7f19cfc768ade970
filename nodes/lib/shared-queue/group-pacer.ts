/**
 * Group pacing: the endpoint's rate limit and max concurrency held for every
 * Node-RED instance that shares a queue, through a JetStream KV bucket per
 * endpoint (SAYPRO_PACE_<endpoint id>), updated with compare-and-set:
 *
 *   "rate"     the group's rate as a GCRA record: the theoretical arrival
 *              time of the next request; grants are spaced evenly, one per
 *              rateIntervalMs / rateCount (+5 % for the time between a grant
 *              and its request), so no instance can burst; also
 *              `pausedUntil`, set when a partner answered 429/503 with
 *              Retry-After, so that every instance waits.
 *   "slot.<i>" one key per concurrency slot (0 ≤ i < maxConcurrent), created
 *              by the instance whose request holds it and deleted when the
 *              request is over; the bucket's TTL frees the slots of an
 *              instance that died (they are refreshed while a request lasts).
 *
 * The wrapped endpoint keeps its own pacer (circuit breaker, offline probes,
 * local concurrency) in front: a request first gets a local permit, then a
 * group slot, then a group rate token. One waiter per instance talks to the
 * bucket at a time, the others queue behind it locally. Times are the
 * instances' wall clocks (keep them in sync with NTP).
 */
import type { KV } from '@nats-io/kv';
import type { EndpointHandle, PacerLike, PacerOutcome, PacerPermit, PacerState } from '../http/types';

export interface GroupLimits {
  /** 0: no group concurrency limit */
  maxConcurrent: number;
  /** 0: no group rate limit */
  rateCount: number;
  rateIntervalMs: number;
}

/** How long an unrefreshed slot lives (the bucket TTL) and how often a held one is refreshed. */
export const SLOT_TTL_MS = 60_000;
const SLOT_REFRESH_MS = 15_000;
/** a KV error: wait this long before trying again */
const ERROR_BACKOFF_MS = 500;

interface RateRecord {
  /** theoretical arrival time of the next request (GCRA), epoch ms */
  tat: number;
  pausedUntil: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError());
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const e = new Error('The operation was aborted') as Error & { code: string };
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

function parseRate(bytes: Uint8Array | undefined): RateRecord {
  try {
    const v = JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as Partial<RateRecord>;
    return { tat: typeof v.tat === 'number' ? v.tat : 0, pausedUntil: typeof v.pausedUntil === 'number' ? v.pausedUntil : 0 };
  } catch {
    return { tat: 0, pausedUntil: 0 };
  }
}

export class GroupPacer implements PacerLike {
  private readonly kv: KV;
  private readonly inner: PacerLike | undefined;
  private readonly limits: GroupLimits;
  private readonly owner: string;
  private readonly warn: (text: string) => void;
  private readonly now: () => number;
  /** one waiter at a time talks to the bucket */
  private gate: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** group grants made by this instance (for the monitor) */
  granted = 0;

  constructor(opts: { kv: KV; inner?: PacerLike; limits: GroupLimits; owner: string; warn?: (text: string) => void; now?: () => number }) {
    this.kv = opts.kv;
    this.inner = opts.inner;
    this.limits = opts.limits;
    this.owner = opts.owner;
    this.warn = opts.warn ?? (() => undefined);
    this.now = opts.now ?? Date.now;
  }

  close(): void {
    this.closed = true;
  }

  async acquire(signal?: AbortSignal): Promise<PacerPermit> {
    const local = this.inner ? await this.inner.acquire(signal) : undefined;
    let slot: string | undefined;
    try {
      const run = this.gate.then(async () => {
        slot = await this.takeSlot(signal);
        await this.takeToken(signal);
      });
      this.gate = run.catch(() => undefined);
      await run;
    } catch (err) {
      local?.release({ kind: 'cancelled' });
      if (slot) this.freeSlot(slot);
      throw err;
    }
    this.granted++;
    let refresh: NodeJS.Timeout | undefined;
    if (slot) {
      const key = slot;
      refresh = setInterval(() => {
        this.kv.put(key, JSON.stringify({ owner: this.owner, at: this.now() })).catch(() => undefined);
      }, SLOT_REFRESH_MS);
      refresh.unref?.();
    }
    let released = false;
    return {
      probe: local?.probe ?? false,
      release: (outcome?: PacerOutcome) => {
        if (released) return;
        released = true;
        if (refresh) clearInterval(refresh);
        local?.release(outcome);
        if (slot) this.freeSlot(slot);
        if (outcome?.kind === 'response' && outcome.retryAfterMs && outcome.retryAfterMs > 0) this.pauseUntil(this.now() + outcome.retryAfterMs);
      },
    };
  }

  tryAcquire(): PacerPermit | undefined {
    return undefined; // the group needs a round trip: always acquire()
  }

  pauseUntil(t: number): void {
    this.inner?.pauseUntil(t);
    if (this.limits.rateCount <= 0) {
      void this.kvUpdate('pause', (r) => (r.pausedUntil >= t ? undefined : { ...r, pausedUntil: t })).catch(() => undefined);
      return;
    }
    void this.kvUpdate('rate', (r) => (r.pausedUntil >= t ? undefined : { ...r, pausedUntil: t })).catch(() => undefined);
  }

  state(): PacerState {
    if (this.inner) return this.inner.state();
    return { circuit: 'closed', pausedUntil: null, offline: false, inFlight: 0, waiting: 0, consecutiveFailures: 0, openUntil: null, nextProbeAt: null, offlineCode: null };
  }

  // ------------------------------------------------------------ slots

  private async takeSlot(signal?: AbortSignal): Promise<string | undefined> {
    const n = this.limits.maxConcurrent;
    if (n <= 0) return undefined;
    let delay = 10;
    for (;;) {
      if (this.closed) throw abortError();
      const start = Math.floor(Math.random() * n);
      for (let k = 0; k < n; k++) {
        const key = `slot.${(start + k) % n}`;
        try {
          await this.kv.create(key, JSON.stringify({ owner: this.owner, at: this.now() }));
          return key;
        } catch (err) {
          if (!isConflict(err)) {
            this.warn(`group pacing: ${(err as Error)?.message ?? err}`);
            await sleep(ERROR_BACKOFF_MS, signal);
            break;
          }
        }
      }
      await sleep(delay, signal);
      delay = Math.min(200, delay * 2);
    }
  }

  private freeSlot(key: string): void {
    this.kv.delete(key).catch(() => undefined);
  }

  // ------------------------------------------------------------ rate

  private async takeToken(signal?: AbortSignal): Promise<void> {
    const { rateCount } = this.limits;
    // evenly spaced grants (GCRA, no burst): one per `rateIntervalMs / rateCount`, 5 % longer so that
    // the time between a grant and its request reaching the partner cannot push it over the limit
    const spacing = rateCount > 0 ? (this.limits.rateIntervalMs / rateCount) * 1.05 : 0;
    for (;;) {
      if (this.closed) throw abortError();
      let wait = 0;
      try {
        const ok = await this.kvUpdate(rateCount > 0 ? 'rate' : 'pause', (r) => {
          const now = this.now();
          if (r.pausedUntil > now) {
            wait = r.pausedUntil - now;
            return undefined;
          }
          if (rateCount <= 0) return null;
          // a theoretical arrival time far ahead of this clock is from a skewed clock: start again
          const tat = r.tat > now + 60_000 ? now : r.tat;
          if (tat > now) {
            wait = tat - now;
            return undefined;
          }
          return { tat: Math.max(tat, now) + spacing, pausedUntil: r.pausedUntil };
        });
        if (ok) return;
      } catch (err) {
        if (signal?.aborted) throw abortError();
        this.warn(`group pacing: ${(err as Error)?.message ?? err}`);
        wait = ERROR_BACKOFF_MS;
      }
      await sleep(Math.max(1, wait), signal);
    }
  }

  /**
   * Reads the record, lets `change` decide (undefined: not now, null: go
   * without writing, a record: write it with compare-and-set) and retries on a
   * conflict. Resolves true when the caller may go.
   */
  private async kvUpdate(key: string, change: (r: RateRecord) => RateRecord | undefined | null): Promise<boolean> {
    for (let i = 0; ; i++) {
      const e = await this.kv.get(key);
      const live = e && e.operation === 'PUT';
      const next = change(parseRate(live ? e.value : undefined));
      if (next === undefined) return false;
      if (next === null) return true;
      const bytes = JSON.stringify(next);
      try {
        if (live) await this.kv.update(key, bytes, e.revision);
        else await this.kv.create(key, bytes);
        return true;
      } catch (err) {
        if (!isConflict(err) || i > 50) throw err;
        await sleep(Math.random() * 5);
      }
    }
  }
}

/** a compare-and-set that lost (wrong last sequence / key exists) */
function isConflict(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; api_error?: { err_code?: number } };
  if (e?.api_error?.err_code === 10071 || e?.code === 10071) return true;
  return /wrong last sequence|key exists/i.test(String(e?.message ?? ''));
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
