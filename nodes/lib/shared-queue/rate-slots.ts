/**
 * The arithmetic of the group's rate slots (group-pacer.ts), pure so that it
 * can be tested on its own.
 *
 * Time is cut into slots `spacing` ms long; slot k starts at k × spacing
 * (wall clock). A request needs a slot of its own, reserved in JetStream, and
 * may start only inside [start, start + tolerance]: a slot whose start has
 * passed by more than the tolerance before its owner could use it (the
 * reservation's round trip took long, the timer fired late, the event loop
 * was busy) is given up, never used late. A request starting in a window
 * [T, T + W) then has its slot's start in [T - tolerance, T + W), so at most
 * ceil((W + tolerance) / spacing) requests of the group start in any window
 * of W ms, whatever the instances' round trips.
 *
 * Why: an earlier version reserved the slot containing "now" and sent at
 * once. A reservation is a round trip to a replicated stream (a few ms idle,
 * hundreds of ms on a busy box or during a leader election), so the request
 * of slot k could leave long after k's start, next to the on-time requests of
 * later slots: bursts of 29 in a 1-s window for a limit of 25 were seen at the
 * partner. Reserving ahead by the measured round trip ("lead") and refusing
 * late slots bounds every window.
 */

export interface RateLimits {
  rateCount: number;
  rateIntervalMs: number;
}

/** slots are this much longer than interval / count, a margin for the way from the grant to the partner */
export const SLOT_MARGIN = 1.05;
export const MIN_LEAD_MS = 15;
export const MAX_LEAD_MS = 3000;
export const INITIAL_LEAD_MS = 100;

/** ms between two slot starts; 0 when there is no rate limit */
export function slotSpacing(l: RateLimits): number {
  return l.rateCount > 0 && l.rateIntervalMs > 0 ? (l.rateIntervalMs / l.rateCount) * SLOT_MARGIN : 0;
}

/** how late after its start a slot may still be used: half a slot, within 2 … 50 ms */
export function slotTolerance(spacing: number): number {
  return Math.max(2, Math.min(50, spacing / 2));
}

export function slotStart(k: number, spacing: number): number {
  return k * spacing;
}

/** the first slot worth trying to reserve now: it starts after now + lead, and after the slots already tried */
export function firstCandidate(now: number, leadMs: number, spacing: number, nextSlot: number): number {
  return Math.max(Math.ceil((now + leadMs) / spacing), nextSlot);
}

/** whether a request may start in slot k at time `now` */
export function usable(k: number, now: number, spacing: number, tolerance: number): 'early' | 'ok' | 'late' {
  const start = slotStart(k, spacing);
  if (now < start) return 'early';
  return now <= start + tolerance ? 'ok' : 'late';
}

/** the most requests that may start in a window of `windowMs` */
export function maxStartsInWindow(windowMs: number, spacing: number, tolerance: number): number {
  return Math.ceil((windowMs + tolerance) / spacing);
}

/**
 * How far ahead to reserve, learnt from the reservations' round trips: twice
 * the slowest recent one (a slow sample counts at once, fast ones bring it
 * down slowly), half as much again after a slot was missed (that bump fades
 * by 5 % a reservation).
 */
export class Lead {
  private value = INITIAL_LEAD_MS;
  private slowest = INITIAL_LEAD_MS / 2;

  get ms(): number {
    return this.value;
  }

  /** the publish that won a slot took `ms` */
  sample(ms: number): void {
    const t = Math.max(0, ms);
    this.slowest = t > this.slowest ? t : this.slowest * 0.9 + t * 0.1;
    this.value = clamp(Math.max(this.slowest * 2 + 5, this.value * 0.95), MIN_LEAD_MS, MAX_LEAD_MS);
  }

  /** a reserved slot could not be used in time */
  missed(): void {
    this.value = clamp(this.value * 1.5, MIN_LEAD_MS, MAX_LEAD_MS);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
