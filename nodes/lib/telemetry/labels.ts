/**
 * Bounded label values for metrics: every distinct label value is a time
 * series, so values that come from outside (event types, error codes) are
 * capped: the first `max` distinct values per scope are kept, later ones
 * become "other". Values are cleaned (no control characters, at most 64
 * characters). No Node-RED import.
 */

export const OTHER = 'other';
export const LABEL_CHARS = 64;

export function cleanLabel(value: unknown, fallback = 'unknown'): string {
  if (value === undefined || value === null) return fallback;
  const t = String(value)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim();
  if (t === '') return fallback;
  return t.length > LABEL_CHARS ? t.slice(0, LABEL_CHARS) : t;
}

export class BoundedLabel {
  private readonly seen = new Map<string, Set<string>>();
  constructor(private readonly max: number) {}

  /** `value` when it is one of the first `max` distinct values in `scope`, else "other". */
  value(scope: string, raw: unknown, fallback = 'unknown'): string {
    const v = cleanLabel(raw, fallback);
    let set = this.seen.get(scope);
    if (!set) {
      set = new Set();
      this.seen.set(scope, set);
    }
    if (set.has(v)) return v;
    if (set.size >= this.max) return OTHER;
    set.add(v);
    return v;
  }
}

/** 2xx … 5xx for an HTTP status; "error" when no answer came. */
export function statusClass(status: number | undefined): string {
  if (typeof status !== 'number' || !Number.isFinite(status) || status < 100 || status > 599) return 'error';
  return `${Math.floor(status / 100)}xx`;
}
