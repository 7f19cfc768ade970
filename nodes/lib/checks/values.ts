/**
 * Response checks: how a value found in a response compares with a rule's
 * value (which is text, as stored in the flow), and how a found value is shown
 * in error details. Pure: no Node-RED import.
 *
 *   ruleText()     a rule value as text
 *   valueEquals()  JSON-aware equality of a found value and a rule's text
 *                  (the "eq", "neq" and "in" ops)
 *   splitList()    the items of an "in" rule
 *   clipValue()    a found value made small for error details
 *   describeType() a found value's type in words, for reasons
 *
 * Not here: the rules themselves (response-rules.ts), reading values out of
 * the message (lib/path.ts).
 */

/** Found values longer than this (strings, or objects as JSON) are cut in error details. */
export const MAX_VALUE_LENGTH = 200;

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A rule value as text: strings as they are, numbers/booleans/null as written in JSON, objects as JSON. */
export function ruleText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/**
 * Whether a found value equals the rule's text:
 * - a string equals the same text, exactly (case and spaces count);
 * - a number equals number-looking text of the same value ("200", "200.0", "2e2" all equal 200);
 * - a boolean equals "true" / "false"; null equals "null";
 * - an object or array equals JSON text with the same content (key order does not matter).
 * So "200" matches both the string "200" and the number 200, while "COMPLETED" matches only the string.
 */
export function valueEquals(found: unknown, expected: string): boolean {
  if (typeof found === 'string') return found === expected;
  if (typeof found === 'number') {
    const t = expected.trim();
    return NUMERIC.test(t) && Number(t) === found;
  }
  if (typeof found === 'boolean') return expected.trim() === String(found);
  if (found === null) return expected.trim() === 'null';
  if (typeof found === 'object') {
    try {
      return deepEqual(found, JSON.parse(expected));
    } catch {
      return false;
    }
  }
  return false;
}

/** Splits the value of an "in" rule: comma-separated, items trimmed, empty items dropped. */
export function splitList(value: unknown): string[] {
  return ruleText(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A found value made safe and small for error details: long strings and big objects are cut. */
export function clipValue(value: unknown, max = MAX_VALUE_LENGTH): unknown {
  if (typeof value === 'string') return value.length > max ? `${value.slice(0, max)}…` : value;
  if (value === null || typeof value !== 'object') return value;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  if (json === undefined) return String(value);
  if (json.length > max) return `${json.slice(0, max)}…`;
  return JSON.parse(json);
}

/** "null", "an array", "an object", "a number" … */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
