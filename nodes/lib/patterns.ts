/**
 * Event type names and the filter patterns that select them.
 *
 * A type is made of letters, digits and `_ . : -` (e.g. `listing.created`,
 * `payment.refund.created`). A filter is a list of patterns separated by
 * commas or new lines; `*` in a pattern stands for one or more characters of
 * any kind, dots included, so `payment.*` matches `payment.completed` and
 * `payment.refund.created` but not `payment` itself, and `*.created` matches
 * every creation. Matching is case-sensitive. An empty filter matches every
 * type.
 */

/** What a valid event type looks like. */
export const TYPE_PATTERN = /^[A-Za-z0-9_.:-]+$/;

import { MAX_TYPE_LENGTH, isValidPattern, splitFilter } from './rules';

/** the entry rules live in lib/rules/event-types.ts (shared with the dialog) */
export { MAX_TYPE_LENGTH, isValidPattern, splitFilter };

export interface TypeFilter {
  /** the valid patterns, in the order given */
  readonly patterns: string[];
  /** the entries that are not valid patterns (they never match) */
  readonly invalid: string[];
  /** true when the filter lets this type through */
  matches(type: string): boolean;
}

/** Turns one pattern into an anchored regular expression (`*` → one or more characters). */
export function patternToRegExp(pattern: string): RegExp {
  const source = pattern
    .replace(/\*+/g, '*')
    .split('*')
    .map((part) => part.replace(/[.\-:]/g, (c) => '\\' + c))
    .join('.+');
  return new RegExp('^' + source + '$');
}

/**
 * Compiles a filter. Entries that are not valid patterns are kept aside in
 * `invalid` and never match; a filter that had entries but no valid one
 * matches nothing (a typo must not open the gate to every event).
 */
export function compileFilter(text: string | string[] | undefined | null): TypeFilter {
  const entries = splitFilter(text);
  const patterns: string[] = [];
  const invalid: string[] = [];
  for (const entry of entries) {
    if (isValidPattern(entry)) {
      if (!patterns.includes(entry)) patterns.push(entry);
    } else {
      invalid.push(entry);
    }
  }
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const wild = patterns.filter((p) => p.includes('*')).map(patternToRegExp);
  const matchAll = entries.length === 0;
  return {
    patterns,
    invalid,
    matches(type: string): boolean {
      if (matchAll) return true;
      if (typeof type !== 'string') return false;
      if (exact.has(type)) return true;
      return wild.some((re) => re.test(type));
    },
  };
}
