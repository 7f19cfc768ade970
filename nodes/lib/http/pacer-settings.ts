/**
 * The Pacer's settings (lib/http/pacing.ts): what each limit means, its
 * default, and how given values are made safe (a whole number in range, else
 * the default), plus the options a Pacer is built with (clock, timers, change
 * listener). Not the settings as the endpoint's dialog saves them (seconds,
 * strings, problems collected): that is lib/http/endpoint-pacing.ts. Pure.
 */
import type { PacerState } from './types';

export interface PacerSettings {
  /** permits out at once; 0: no limit */
  maxConcurrent: number;
  /** permits per rateIntervalMs; 0: no rate limit */
  rateCount: number;
  rateIntervalMs: number;
  /** failures in a row that open the circuit; 0: off */
  breakerFailures: number;
  /** failure percentage in the window that opens the circuit; 0: off */
  breakerRate: number;
  /** outcomes in the window needed before the rate counts */
  breakerMinRequests: number;
  breakerWindowMs: number;
  /** how long the circuit stays open the first time */
  breakerOpenMs: number;
  /** the longest it stays open after failed probes (never less than breakerOpenMs) */
  breakerMaxOpenMs: number;
  /** the first wait before an offline probe; doubles per failed probe */
  offlineInitialMs: number;
  offlineMaxMs: number;
}

export const PACER_DEFAULTS: Readonly<PacerSettings> = Object.freeze({
  maxConcurrent: 4,
  rateCount: 0,
  rateIntervalMs: 1000,
  breakerFailures: 5,
  breakerRate: 0,
  breakerMinRequests: 10,
  breakerWindowMs: 60000,
  breakerOpenMs: 30000,
  breakerMaxOpenMs: 300000,
  offlineInitialMs: 1000,
  offlineMaxMs: 60000,
});

export type TimerHandle = unknown;

export interface PacerOptions extends Partial<PacerSettings> {
  /** epoch ms */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  /** called when the circuit, the pause or the offline state changes (not for every permit) */
  onChange?: (state: PacerState) => void;
}

/** A whole number of at least `min`, else the default. */
function whole(v: unknown, dflt: number, min: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min ? Math.floor(v) : dflt;
}

/** The settings a Pacer runs with: each option a whole number in its range, else its default. */
export function pacerSettings(options: Partial<PacerSettings> = {}): Readonly<PacerSettings> {
  const d = PACER_DEFAULTS;
  const breakerOpenMs = whole(options.breakerOpenMs, d.breakerOpenMs, 1);
  return Object.freeze({
    maxConcurrent: whole(options.maxConcurrent, d.maxConcurrent, 0),
    rateCount: whole(options.rateCount, d.rateCount, 0),
    rateIntervalMs: whole(options.rateIntervalMs, d.rateIntervalMs, 1),
    breakerFailures: whole(options.breakerFailures, d.breakerFailures, 0),
    breakerRate: Math.min(100, whole(options.breakerRate, d.breakerRate, 0)),
    breakerMinRequests: whole(options.breakerMinRequests, d.breakerMinRequests, 1),
    breakerWindowMs: whole(options.breakerWindowMs, d.breakerWindowMs, 1),
    breakerOpenMs,
    breakerMaxOpenMs: Math.max(breakerOpenMs, whole(options.breakerMaxOpenMs, d.breakerMaxOpenMs, 1)),
    offlineInitialMs: whole(options.offlineInitialMs, d.offlineInitialMs, 1),
    offlineMaxMs: Math.max(
      whole(options.offlineInitialMs, d.offlineInitialMs, 1),
      whole(options.offlineMaxMs, d.offlineMaxMs, 1),
    ),
  });
}
