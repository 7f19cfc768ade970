/**
 * The trigger's status dot: "listening on /events" while idle, then the
 * counts ("2 waiting · 3 accepted · 1 duplicate": accepted always, the
 * others once they happen), or a red ring when authentication cannot work.
 * Texts are i18n keys, translated by the caller's `t`.
 */
import type { Tally } from './pipeline';

export type Counts = Record<Tally, number>;

export interface StatusDot {
  fill: 'red' | 'green' | 'blue';
  shape: 'dot' | 'ring';
  text: string;
}

type Translate = (key: string, params?: Record<string, unknown>) => string;

export function emptyCounts(): Counts {
  return { accepted: 0, ignored: 0, duplicate: 0, rejected: 0, refused: 0, busy: 0, unconfirmed: 0, failed: 0 };
}

export function triggerStatus(
  state: { counts: Counts; waiting: number; authProblem?: string; url?: string },
  t: Translate,
): StatusDot {
  if (state.authProblem) return { fill: 'red', shape: 'ring', text: 'event-trigger.status.auth-missing' };
  const keys = Object.keys(state.counts) as Tally[];
  const total = keys.reduce((sum, k) => sum + state.counts[k], 0);
  if (total === 0 && state.waiting === 0) {
    return state.url
      ? { fill: 'blue', shape: 'dot', text: t('event-trigger.status.listening', { url: state.url }) }
      : { fill: 'blue', shape: 'dot', text: t('event-trigger.status.ready') };
  }
  const parts = keys
    .filter((k) => k === 'accepted' || state.counts[k] > 0)
    .map((k) => t(`event-trigger.status.${k}`, { count: state.counts[k] }));
  if (state.waiting > 0) parts.unshift(t('event-trigger.status.waiting', { count: state.waiting }));
  return { fill: 'green', shape: 'dot', text: parts.join(' · ') };
}
