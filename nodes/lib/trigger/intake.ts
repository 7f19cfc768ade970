/**
 * The decision to emit an event: validate → filter by type → deduplicate by
 * id (lib/event.ts, lib/patterns.ts, lib/dedupe.ts). One instance per node;
 * it holds the dedupe memory.
 */
import { IntegrationError } from '../errors';
import { compileFilter, type TypeFilter } from '../patterns';
import { DedupeCache } from '../dedupe';
import { validateEvent, type EventMeta } from '../event';

export const DEFAULT_DEDUPE_WINDOW_SECONDS = 600;

export type Outcome =
  | { status: 'accepted'; event: EventMeta; data: unknown }
  | { status: 'ignored'; event: EventMeta; data: unknown }
  | { status: 'duplicate'; event: EventMeta; data: unknown }
  | { status: 'rejected'; error: IntegrationError };

export interface IntakeOptions {
  /** the type filter text (comma- or newline-separated patterns; empty: all) */
  filter?: string;
  /** deduplication window in seconds (0: off) */
  dedupeWindowSeconds?: number;
  /** most ids remembered for deduplication */
  maxIds?: number;
  /** clock in milliseconds (default Date.now) */
  now?: () => number;
  newId?: () => string;
}

/** The decision pipeline: validate → filter by type → deduplicate by id. */
export class EventIntake {
  readonly filter: TypeFilter;
  readonly dedupe: DedupeCache;
  private readonly now: () => number;
  private readonly newId?: () => string;

  constructor(options: IntakeOptions = {}) {
    this.filter = compileFilter(options.filter ?? '');
    this.now = options.now ?? Date.now;
    this.newId = options.newId;
    const seconds = options.dedupeWindowSeconds ?? DEFAULT_DEDUPE_WINDOW_SECONDS;
    this.dedupe = new DedupeCache({ windowMs: seconds * 1000, maxEntries: options.maxIds, now: this.now });
  }

  /**
   * Decides what becomes of an incoming event. With `record: false` a new id
   * is only looked up, not remembered: the caller calls `remember(id)` once
   * the event is safe (durable replies record an id only after a 2xx).
   */
  process(payload: unknown, context: { source: string; fallbackId?: string; record?: boolean }): Outcome {
    const result = validateEvent(payload, {
      source: context.source,
      now: new Date(this.now()),
      fallbackId: context.fallbackId,
      newId: this.newId,
    });
    if (!result.ok) return { status: 'rejected', error: result.error };
    const { event, data } = result;
    if (!this.filter.matches(event.type)) return { status: 'ignored', event, data };
    const seen = context.record === false ? this.dedupe.has(event.id) : this.dedupe.check(event.id);
    if (seen) return { status: 'duplicate', event, data };
    return { status: 'accepted', event, data };
  }

  /** Records `id` in the dedupe window (after `process(…, {record: false})`). */
  remember(id: string): void {
    this.dedupe.check(id);
  }
}
