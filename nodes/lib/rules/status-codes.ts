/**
 * HTTP status specs: "2xx", "200,201", "400-499", "2xx, 304" (the response
 * check's status rules, the HTTP POST node's extra success statuses).
 */

export interface StatusSpec {
  /** the spec in a canonical form, e.g. "2xx, 304, 400-499" */
  readonly text: string;
  /** inclusive [low, high] ranges */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  matches(code: number): boolean;
}

export type StatusSpecResult = { ok: true; spec: StatusSpec } | { ok: false; reason: string };

const CLASS_ENTRY = /^([1-5])xx$/i;
const CODE_ENTRY = /^(\d{3})$/;
const RANGE_ENTRY = /^(\d{3})\s*-\s*(\d{3})$/;
export const MIN_STATUS = 100;
export const MAX_STATUS = 599;

/** Parses "2xx", "200,201", "400-499", "2xx, 304"; the reason explains what is wrong. */
export function parseStatusSpec(input: unknown): StatusSpecResult {
  if (typeof input === 'number' && Number.isInteger(input)) input = String(input);
  if (typeof input !== 'string')
    return { ok: false, reason: 'status codes must be text such as 2xx, 200,201 or 400-499' };
  if (input.trim() === '') return { ok: false, reason: 'no status codes given (e.g. 2xx, 200,201 or 400-499)' };
  const ranges: Array<[number, number]> = [];
  const parts: string[] = [];
  const entries = input.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i].trim();
    if (entry === '') return { ok: false, reason: `empty entry ${i + 1} in "${input.trim()}" (check the commas)` };
    let m = CLASS_ENTRY.exec(entry);
    if (m) {
      const n = Number(m[1]);
      ranges.push([n * 100, n * 100 + 99]);
      parts.push(`${n}xx`);
      continue;
    }
    m = CODE_ENTRY.exec(entry);
    if (m) {
      const code = Number(m[1]);
      if (code < MIN_STATUS || code > MAX_STATUS)
        return { ok: false, reason: `${entry} is not an HTTP status code (100 to 599)` };
      ranges.push([code, code]);
      parts.push(String(code));
      continue;
    }
    m = RANGE_ENTRY.exec(entry);
    if (m) {
      const lo = Number(m[1]);
      const hi = Number(m[2]);
      if (lo < MIN_STATUS || hi > MAX_STATUS)
        return { ok: false, reason: `${entry} is outside the HTTP status codes (100 to 599)` };
      if (lo > hi)
        return { ok: false, reason: `${entry} is an empty range (the first code must not be larger than the second)` };
      ranges.push([lo, hi]);
      parts.push(`${lo}-${hi}`);
      continue;
    }
    return {
      ok: false,
      reason: `"${entry}" is not a status code, class or range (write e.g. 2xx, 200,201 or 400-499)`,
    };
  }
  const text = parts.join(', ');
  return {
    ok: true,
    spec: {
      text,
      ranges,
      matches(code: number) {
        return ranges.some(([lo, hi]) => code >= lo && code <= hi);
      },
    },
  };
}

/** An optional spec (the HTTP POST node's extra success statuses): empty is fine. */
export function optionalStatusSpecOk(input: unknown): boolean {
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) return true;
  return parseStatusSpec(input).ok;
}
