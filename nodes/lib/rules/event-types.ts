/** Event type filters (the trigger's "types" setting): type names in which `*` may appear. */

/** The longest type (and pattern) we accept. */
export const MAX_TYPE_LENGTH = 200;

/** What a valid filter entry looks like: a type name in which `*` may appear. */
export const EVENT_TYPE_ENTRY = /^[A-Za-z0-9_.:*-]+$/;

/** Splits a filter text on commas and new lines, trimming and dropping empty entries. */
export function splitFilter(text: string | string[] | undefined | null): string[] {
  if (text === undefined || text === null) return [];
  const parts = Array.isArray(text) ? text : String(text).split(/[,\r\n]+/);
  return parts.map((p) => String(p).trim()).filter((p) => p.length > 0);
}

/** True when `entry` is a usable filter pattern. */
export function isValidPattern(entry: string): boolean {
  return entry.length > 0 && entry.length <= MAX_TYPE_LENGTH && EVENT_TYPE_ENTRY.test(entry);
}

/** The entries of a filter text that are not valid patterns (they would never match). */
export function invalidFilterEntries(text: unknown): string[] {
  return splitFilter(typeof text === 'string' || Array.isArray(text) ? text : '').filter((e) => !isValidPattern(e));
}
