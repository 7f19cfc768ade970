/**
 * Numeric settings as the edit dialogs save them (a number, or the text of an
 * input field). The text form is plain decimal: digits, an optional minus and
 * fraction, blanks around; "1e3", "0x10", "12px" are not numbers here.
 */

export interface NumberRule {
  min: number;
  max: number;
  /** whole numbers only */
  integer?: boolean;
  /** the value must be above `min`, not equal to it */
  aboveMin?: boolean;
  /** empty (undefined, null, blank text) is allowed and means "the default" */
  optional?: boolean;
}

export type NumberResult =
  { ok: true; /** undefined: empty, the default applies */ value: number | undefined } | { ok: false; empty: boolean };

const DECIMAL = /^\s*-?\d+(\.\d+)?\s*$/;

export function isEmptySetting(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/** The number in a setting, or NaN when it is not one (empty is NaN too). */
export function numberOf(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && DECIMAL.test(raw)) return Number(raw);
  return NaN;
}

/** Reads a numeric setting against its rule. */
export function readNumber(raw: unknown, rule: NumberRule): NumberResult {
  if (isEmptySetting(raw)) return rule.optional ? { ok: true, value: undefined } : { ok: false, empty: true };
  const n = numberOf(raw);
  if (!Number.isFinite(n)) return { ok: false, empty: false };
  if (rule.integer && !Number.isInteger(n)) return { ok: false, empty: false };
  if (rule.aboveMin ? n <= rule.min : n < rule.min) return { ok: false, empty: false };
  if (n > rule.max) return { ok: false, empty: false };
  return { ok: true, value: n };
}

/** true when the setting satisfies the rule (the editor's question). */
export function numberOk(raw: unknown, rule: NumberRule): boolean {
  return readNumber(raw, rule).ok;
}

/** The value, or `dflt` when it is empty or does not satisfy the rule. */
export function numberOrDefault(raw: unknown, rule: NumberRule, dflt: number): number {
  const r = readNumber(raw, rule);
  return r.ok && r.value !== undefined ? r.value : dflt;
}
