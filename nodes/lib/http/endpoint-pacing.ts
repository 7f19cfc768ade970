/**
 * The pacing side of the endpoint config node: its pacing settings as the
 * editor saves them (with defaults, problems collected) and the status its
 * users see while the pacer holds requests back. Pure.
 */
import type { ErrorDetail } from '../errors';
import { PACER_DEFAULTS, type PacerOptions } from './pacer-settings';
import type { EndpointStatus, PacerState } from './types';
import type { EndpointConfig } from './endpoint-config';
import { ENDPOINT_NUMBERS, readNumber } from '../rules';

export const STATUS_KEYS = {
  invalidConfig: 'endpoint.status.invalidConfig',
  tokenOk: 'endpoint.status.tokenOk',
  tokenFailed: 'endpoint.status.tokenFailed',
  paused: 'endpoint.status.paused',
  circuitOpen: 'endpoint.status.circuitOpen',
  halfOpen: 'endpoint.status.halfOpen',
  offline: 'endpoint.status.offline',
} as const;

/** The pacing settings as the editor saves them, with their defaults (seconds where the editor has seconds). */
export const PACING_DEFAULTS = {
  maxConcurrent: PACER_DEFAULTS.maxConcurrent,
  rateCount: PACER_DEFAULTS.rateCount,
  rateInterval: PACER_DEFAULTS.rateIntervalMs / 1000,
  breakerFailures: PACER_DEFAULTS.breakerFailures,
  breakerRate: PACER_DEFAULTS.breakerRate,
  breakerMinRequests: PACER_DEFAULTS.breakerMinRequests,
  breakerWindow: PACER_DEFAULTS.breakerWindowMs / 1000,
  breakerOpen: PACER_DEFAULTS.breakerOpenMs / 1000,
} as const;

/**
 * Reads one numeric pacing setting against its rule (lib/rules/settings.ts):
 * empty means the default; a problem is collected (field, reason, value) and
 * the default used.
 */
function numberSetting(
  problems: ErrorDetail[],
  field: keyof typeof ENDPOINT_NUMBERS,
  raw: unknown,
  dflt: number,
  reason: string,
): number {
  const r = readNumber(raw, ENDPOINT_NUMBERS[field]);
  if (!r.ok) problems.push({ field, reason, value: String(raw) });
  return r.ok && r.value !== undefined ? r.value : dflt;
}

/** The pacer settings of an endpoint config (problems collected). */
export function pacingSettings(c: EndpointConfig, problems: ErrorDetail[]): Partial<PacerOptions> {
  const d = PACING_DEFAULTS;
  const seconds = 'expected a number of seconds above 0, at most 86400';
  const ms = (s: number) => Math.max(1, Math.round(s * 1000));
  return {
    maxConcurrent: numberSetting(
      problems,
      'maxConcurrent',
      c.maxConcurrent,
      d.maxConcurrent,
      'expected a whole number from 0 (no limit) to 1000',
    ),
    rateCount: numberSetting(
      problems,
      'rateCount',
      c.rateCount,
      d.rateCount,
      'expected a whole number of requests from 0 (no limit) to 1000000',
    ),
    rateIntervalMs: ms(numberSetting(problems, 'rateInterval', c.rateInterval, d.rateInterval, seconds)),
    breakerFailures: numberSetting(
      problems,
      'breakerFailures',
      c.breakerFailures,
      d.breakerFailures,
      'expected a whole number from 0 (off) to 1000',
    ),
    breakerRate: numberSetting(
      problems,
      'breakerRate',
      c.breakerRate,
      d.breakerRate,
      'expected a whole percentage from 0 (off) to 100',
    ),
    breakerMinRequests: numberSetting(
      problems,
      'breakerMinRequests',
      c.breakerMinRequests,
      d.breakerMinRequests,
      'expected a whole number from 1 to 1000000',
    ),
    breakerWindowMs: ms(numberSetting(problems, 'breakerWindow', c.breakerWindow, d.breakerWindow, seconds)),
    breakerOpenMs: ms(numberSetting(problems, 'breakerOpen', c.breakerOpen, d.breakerOpen, seconds)),
  };
}

/** What users see while the pacer holds requests back; undefined when it does not. */
export function pacingStatus(
  s: PacerState,
  now: number,
  translate: (key: string, substitutions?: Record<string, unknown>) => string = (k) => k,
): EndpointStatus | undefined {
  if (s.offline) return { fill: 'yellow', shape: 'ring', text: translate(STATUS_KEYS.offline) };
  if (s.circuit === 'open') return { fill: 'red', shape: 'ring', text: translate(STATUS_KEYS.circuitOpen) };
  if (s.circuit === 'half-open') return { fill: 'yellow', shape: 'ring', text: translate(STATUS_KEYS.halfOpen) };
  if (s.pausedUntil !== null && s.pausedUntil > now) {
    return {
      fill: 'yellow',
      shape: 'ring',
      text: translate(STATUS_KEYS.paused, { seconds: Math.ceil((s.pausedUntil - now) / 1000) }),
    };
  }
  return undefined;
}
