/**
 * Per-endpoint pacing: one Pacer per endpoint config node, shared by every
 * node that sends through it. A request is made only with a permit from
 * `acquire()`, and the permit is released with what became of the request.
 * A permit is granted when all of these allow it:
 *
 *  - concurrency: at most `maxConcurrent` permits out at once (0: no limit);
 *  - rate: at most `rateCount` permits granted in any `rateIntervalMs`
 *    (a sliding window over the grant times, so no burst at a window's edge
 *    can exceed it; 0: no limit);
 *  - pause: a 429 or 503 with Retry-After (outcome `retryAfterMs`) or
 *    `pauseUntil(t)` holds every request until then; a pause only grows;
 *  - circuit breaker (lib/http/circuit-breaker.ts): it opens after
 *    `breakerFailures` failures in a row or at a `breakerRate` % failure rate;
 *    open, nothing goes through for `breakerOpenMs`; then, half-open, exactly
 *    one probe. Failures are 5xx answers, timeouts and connection errors
 *    other than "network down"; any other answer except 429 is a success;
 *    429 and cancelled are neutral;
 *  - network down: a connection that could not even be made (OFFLINE_CODES:
 *    ECONNREFUSED, ENOTFOUND, EAI_AGAIN, EHOSTUNREACH, ENETUNREACH, ENETDOWN,
 *    EHOSTDOWN: no byte reached the server) takes the endpoint offline. Then
 *    one probe goes out after `offlineInitialMs`, doubling up to
 *    `offlineMaxMs` while probes fail (network error or timeout); the first
 *    HTTP answer of any status brings it back and releases everyone.
 *    ECONNRESET, EPIPE and ETIMEDOUT are not "down": the server may have got
 *    the request, so they are ordinary (breaker) failures. "Network down", and
 *    anything but an answer while offline, is neutral for the breaker.
 *
 * Waiters are served first come, first served. There is no polling: a single
 * timer is set for the next moment something can change (pause end, open
 * circuit end, next offline probe, a rate slot), and releases wake waiters.
 * `close()` clears the timer and rejects every waiter with ENDPOINT_CLOSED.
 *
 * Not here: the breaker's own counting (lib/http/circuit-breaker.ts), the
 * settings' defaults and ranges (lib/http/pacer-settings.ts),
 * which errors mean "network down" and what an outcome tells the breaker
 * (lib/http/pacer-outcomes.ts), the dialog's pacing fields and the status
 * users see (lib/http/endpoint-pacing.ts). Pure: no Node-RED, no I/O; the
 * clock and timers are injectable.
 */
import { IntegrationError } from '../errors';
import { CircuitBreaker, type BreakerTicket } from './circuit-breaker';
import { breakerVerdict, isOfflineCode } from './pacer-outcomes';
import { pacerSettings, type PacerOptions, type PacerSettings, type TimerHandle } from './pacer-settings';
import type { PacerLike, PacerOutcome, PacerPermit, PacerState } from './types';
import type { StopSignal } from './abort';

// re-exported from their homes, for callers of this module
export type { CircuitState, PacerLike, PacerOutcome, PacerPermit, PacerState } from './types';
export { OFFLINE_CODES, breakerVerdict, isOfflineCode, offlineCodeOf, type Verdict } from './pacer-outcomes';
export { PACER_DEFAULTS, pacerSettings } from './pacer-settings';
export type { PacerOptions, PacerSettings, TimerHandle } from './pacer-settings';

/** The longest single timer (setTimeout's limit); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Waiter {
  resolve: (p: PacerPermit) => void;
  reject: (e: Error) => void;
  signal?: StopSignal;
  onAbort?: () => void;
}

type Gate = { ok: true; offlineProbe: boolean; circuitProbe: boolean } | { ok: false; until: number };

/** The error acquire() rejects with when its signal aborts. */
export function abortError(): Error {
  const e = new Error('The wait for the endpoint was aborted') as Error & { code: string };
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

export function closedError(): IntegrationError {
  return new IntegrationError('ENDPOINT_CLOSED', 'The endpoint has been stopped');
}

export class Pacer implements PacerLike {
  readonly settings: Readonly<PacerSettings>;

  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private readonly onChange?: (state: PacerState) => void;

  private inFlight = 0;
  private waiters: Waiter[] = [];
  private grants: number[] = [];
  private pausedUntilMs = 0;

  private readonly breaker: CircuitBreaker;

  private offline = false;
  private offlineEpoch = 0;
  private offlineCode: string | null = null;
  private offlineDelay = 0;
  private nextProbeAtMs = 0;
  private offlineProbeOut = false;

  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private closed = false;
  private lastSignature: string;

  constructor(options: PacerOptions = {}) {
    this.settings = pacerSettings(options);
    this.breaker = new CircuitBreaker(this.settings);
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
    this.onChange = options.onChange;
    this.lastSignature = this.signature();
  }

  // ---------------------------------------------------------------- public

  acquire(signal?: StopSignal): Promise<PacerPermit> {
    if (this.closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<PacerPermit>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i < 0) return;
          this.waiters.splice(i, 1);
          reject(abortError());
          this.pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  tryAcquire(): PacerPermit | undefined {
    if (this.closed || this.waiters.length > 0) return undefined;
    const now = this.now();
    this.advance(now);
    const gate = this.gate(now);
    const permit = gate.ok ? this.grant(now, gate) : undefined;
    this.schedule(now);
    this.notify();
    return permit;
  }

  pauseUntil(t: number): void {
    if (this.closed || !Number.isFinite(t)) return;
    if (t > this.pausedUntilMs && t > this.now()) this.pausedUntilMs = t;
    this.pump();
  }

  state(): PacerState {
    const now = this.now();
    const circuit = this.breaker.view(now);
    return {
      circuit: circuit.circuit,
      pausedUntil: this.pausedUntilMs > now ? this.pausedUntilMs : null,
      offline: this.offline,
      inFlight: this.inFlight,
      waiting: this.waiters.length,
      consecutiveFailures: circuit.consecutiveFailures,
      openUntil: circuit.openUntil,
      nextProbeAt: this.offline ? this.nextProbeAtMs : null,
      offlineCode: this.offline ? this.offlineCode : null,
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Clears the timer and rejects every waiter with ENDPOINT_CLOSED; later calls are refused. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearWake();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(closedError());
    }
  }

  // --------------------------------------------------------------- inner

  /** Time-driven transitions: a pause that ended, an open circuit whose time is up. */
  private advance(now: number): void {
    if (this.pausedUntilMs !== 0 && now >= this.pausedUntilMs) this.pausedUntilMs = 0;
    this.breaker.advance(now);
  }

  /** May a permit be granted now? If not, until when (Infinity: until a release). */
  private gate(now: number): Gate {
    const s = this.settings;
    if (s.maxConcurrent > 0 && this.inFlight >= s.maxConcurrent) return { ok: false, until: Infinity };
    if (this.pausedUntilMs > now) return { ok: false, until: this.pausedUntilMs };
    let offlineProbe = false;
    if (this.offline) {
      if (this.offlineProbeOut) return { ok: false, until: Infinity };
      if (this.nextProbeAtMs > now) return { ok: false, until: this.nextProbeAtMs };
      offlineProbe = true;
    }
    const circuit = this.breaker.gate();
    if (!circuit.ok) return circuit;
    if (s.rateCount > 0) {
      const from = now - s.rateIntervalMs;
      while (this.grants.length && this.grants[0] <= from) this.grants.shift();
      if (this.grants.length >= s.rateCount) return { ok: false, until: this.grants[0] + s.rateIntervalMs };
    }
    return { ok: true, offlineProbe, circuitProbe: circuit.probe };
  }

  private grant(now: number, gate: { offlineProbe: boolean; circuitProbe: boolean }): PacerPermit {
    this.inFlight++;
    if (this.settings.rateCount > 0) this.grants.push(now);
    if (gate.offlineProbe) this.offlineProbeOut = true;
    const ticket = this.breaker.grant(gate.circuitProbe);
    const offlineEpoch = gate.offlineProbe ? this.offlineEpoch : -1;
    let released = false;
    return {
      probe: gate.offlineProbe || gate.circuitProbe,
      release: (outcome?: PacerOutcome) => {
        if (released) return;
        released = true;
        this.settle(outcome ?? { kind: 'cancelled' }, offlineEpoch, ticket);
      },
    };
  }

  /** A permit came back: what its outcome says about a pause, the network and the server, then wake waiters. */
  private settle(outcome: PacerOutcome, offlineEpoch: number, ticket: BreakerTicket): void {
    if (this.closed) return;
    this.inFlight = Math.max(0, this.inFlight - 1);
    const now = this.now();
    const wasOffline = this.offline;
    const offlineProbe = this.offline && offlineEpoch === this.offlineEpoch;
    this.notePause(outcome, now);
    this.noteNetwork(outcome, now, offlineProbe);
    // while offline, only an answer says anything about the server
    const verdict = wasOffline && outcome.kind !== 'response' ? 'neutral' : breakerVerdict(outcome);
    this.breaker.settle(verdict, now, ticket);
    this.pump();
  }

  /** A 429 / 503 with Retry-After pauses the endpoint (a pause only grows). */
  private notePause(outcome: PacerOutcome, now: number): void {
    if (outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503)) {
      const ms = outcome.retryAfterMs;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && now + ms > this.pausedUntilMs)
        this.pausedUntilMs = now + ms;
    }
  }

  /** Network down (a connection never made), back (any answer), or a probe that failed or said nothing. */
  private noteNetwork(outcome: PacerOutcome, now: number, offlineProbe: boolean): void {
    if (outcome.kind === 'response') {
      if (this.offline) {
        this.offline = false;
        this.offlineCode = null;
        this.offlineDelay = 0;
        this.nextProbeAtMs = 0;
        this.offlineProbeOut = false;
      }
    } else if (outcome.kind === 'network' && isOfflineCode(outcome.code)) {
      if (!this.offline) {
        this.offline = true;
        this.offlineEpoch++;
        this.offlineCode = outcome.code;
        this.offlineDelay = this.settings.offlineInitialMs;
        this.nextProbeAtMs = now + this.offlineDelay;
        this.offlineProbeOut = false;
      } else if (offlineProbe) {
        this.offlineCode = outcome.code;
        this.probeFailed(now);
      }
    } else if (offlineProbe && (outcome.kind === 'network' || outcome.kind === 'timeout')) {
      // the probe got no answer either: keep waiting, longer
      this.probeFailed(now);
    } else if (offlineProbe) {
      // cancelled: the next waiter may probe at once
      this.offlineProbeOut = false;
    }
  }

  private probeFailed(now: number): void {
    this.offlineDelay = Math.min(
      this.settings.offlineMaxMs,
      Math.max(this.settings.offlineInitialMs, this.offlineDelay * 2),
    );
    this.nextProbeAtMs = now + this.offlineDelay;
    this.offlineProbeOut = false;
  }

  /** Grants what can be granted (first come, first served), then sets the timer. */
  private pump(): void {
    if (this.closed) return;
    const now = this.now();
    this.advance(now);
    while (this.waiters.length) {
      const gate = this.gate(now);
      if (!gate.ok) break;
      const w = this.waiters.shift() as Waiter;
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.resolve(this.grant(now, gate));
    }
    this.schedule(now);
    this.notify();
  }

  /** One timer, for the next moment something can change; none when nothing will. */
  private schedule(now: number): void {
    let at = Infinity;
    if (this.pausedUntilMs > now) at = Math.min(at, this.pausedUntilMs);
    at = Math.min(at, this.breaker.wakeAt());
    if (this.waiters.length) {
      const gate = this.gate(now);
      if (!gate.ok) at = Math.min(at, gate.until);
    }
    if (!Number.isFinite(at)) {
      this.clearWake();
      return;
    }
    if (this.timer !== undefined && this.timerAt === at) return;
    this.clearWake();
    this.timerAt = at;
    this.timer = this.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at - now)),
    );
  }

  private clearWake(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private signature(): string {
    return `${this.breaker.signature()}|${this.pausedUntilMs}|${this.offline}|${this.nextProbeAtMs}`;
  }

  private notify(): void {
    const sig = this.signature();
    if (sig === this.lastSignature) return;
    this.lastSignature = sig;
    if (!this.onChange) return;
    try {
      this.onChange(this.state());
    } catch {
      // a listener's bug must not break the pacer
    }
  }
}
