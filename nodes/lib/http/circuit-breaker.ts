/**
 * The circuit breaker of an endpoint's Pacer (lib/http/pacing.ts). It opens
 * after `breakerFailures` failures in a row (0: off) or, when `breakerRate`
 * > 0, when at least `breakerRate` % of at least `breakerMinRequests`
 * outcomes in the last `breakerWindowMs` failed. Open, it lets nothing
 * through for `breakerOpenMs`; then, half-open, it lets exactly one probe
 * through: a success closes it, a failure opens it again for twice as long
 * (at most `breakerMaxOpenMs`); a probe that says nothing (neutral) lets the
 * next waiter probe. What counts as a success, a failure or neutral is
 * breakerVerdict() (lib/http/pacer-outcomes.ts).
 *
 * Not the other gates (concurrency, rate, pause, network down), the waiters
 * or the timer: those are the Pacer's. Pure: the caller passes the time.
 */
import type { Verdict } from './pacer-outcomes';
import type { PacerSettings } from './pacer-settings';
import type { CircuitState } from './types';

interface Sample {
  at: number;
  failed: boolean;
}

/** What a permit carries from its grant to its release. */
export interface BreakerTicket {
  /** the circuit's epoch when the permit was the half-open probe, else -1 */
  epoch: number;
  /** the circuit was closed when the permit was granted */
  closedAtGrant: boolean;
}

export class CircuitBreaker {
  private circuit: CircuitState = 'closed';
  private epoch = 0;
  private openUntilMs = 0;
  private openMs: number;
  private probeOut = false;
  private consecutive = 0;
  private samples: Sample[] = [];

  constructor(private readonly settings: Readonly<PacerSettings>) {
    this.openMs = settings.breakerOpenMs;
  }

  /** An open circuit whose time is up becomes half-open. */
  advance(now: number): void {
    if (this.circuit === 'open' && now >= this.openUntilMs) {
      this.circuit = 'half-open';
      this.openUntilMs = 0;
      this.probeOut = false;
    }
  }

  /** May a permit go? Open: not until it may probe; half-open: only as the probe (Infinity: until the probe ends). */
  gate(): { ok: true; probe: boolean } | { ok: false; until: number } {
    if (this.circuit === 'open') return { ok: false, until: this.openUntilMs };
    if (this.circuit === 'half-open') {
      if (this.probeOut) return { ok: false, until: Infinity };
      return { ok: true, probe: true };
    }
    return { ok: true, probe: false };
  }

  /** A permit was granted (the probe, when `probe`). */
  grant(probe: boolean): BreakerTicket {
    if (probe) this.probeOut = true;
    return { epoch: probe ? this.epoch : -1, closedAtGrant: this.circuit === 'closed' };
  }

  /** A permit came back: a half-open probe closes or reopens the circuit; closed, it counts and may trip. */
  settle(verdict: Verdict, now: number, ticket: BreakerTicket): void {
    const s = this.settings;
    if (this.circuit === 'half-open' && ticket.epoch === this.epoch) {
      this.probeOut = false;
      if (verdict === 'success') this.close();
      else if (verdict === 'failure') {
        this.consecutive++;
        this.open(now, Math.min(s.breakerMaxOpenMs, this.openMs * 2));
      }
    } else if (this.circuit === 'closed' && ticket.closedAtGrant && verdict !== 'neutral') {
      if (verdict === 'success') this.consecutive = 0;
      else this.consecutive++;
      if (s.breakerRate > 0) {
        this.samples.push({ at: now, failed: verdict === 'failure' });
        const from = now - s.breakerWindowMs;
        while (this.samples.length && this.samples[0].at <= from) this.samples.shift();
      }
      if (verdict === 'failure' && this.shouldTrip()) this.open(now, s.breakerOpenMs);
    }
  }

  /** The circuit as seen now (an open one whose time is up is half-open), for PacerState. */
  view(now: number): { circuit: CircuitState; consecutiveFailures: number; openUntil: number | null } {
    const openOver = this.circuit === 'open' && now >= this.openUntilMs;
    return {
      circuit: openOver ? 'half-open' : this.circuit,
      consecutiveFailures: this.consecutive,
      openUntil: this.circuit === 'open' && !openOver ? this.openUntilMs : null,
    };
  }

  /** When an open circuit may probe; Infinity when it is not open. */
  wakeAt(): number {
    return this.circuit === 'open' ? this.openUntilMs : Infinity;
  }

  /** Changes when the circuit or its open time does (the Pacer's change signature). */
  signature(): string {
    return `${this.circuit}|${this.openUntilMs}`;
  }

  private shouldTrip(): boolean {
    const s = this.settings;
    if (s.breakerFailures > 0 && this.consecutive >= s.breakerFailures) return true;
    if (s.breakerRate > 0 && this.samples.length >= s.breakerMinRequests) {
      const failed = this.samples.filter((x) => x.failed).length;
      if (failed * 100 >= s.breakerRate * this.samples.length) return true;
    }
    return false;
  }

  private open(now: number, ms: number): void {
    this.circuit = 'open';
    this.epoch++;
    this.openMs = ms;
    this.openUntilMs = now + ms;
    this.probeOut = false;
    this.samples = [];
  }

  private close(): void {
    this.circuit = 'closed';
    this.epoch++;
    this.openMs = this.settings.breakerOpenMs;
    this.openUntilMs = 0;
    this.probeOut = false;
    this.consecutive = 0;
    this.samples = [];
  }
}
