/**
 * The field mapper's value conversions: string, number, integer, boolean,
 * ISO date, unix seconds and minor units (exact decimal arithmetic), each
 * answering the value or why it will not do. Pure: no Node-RED import.
 */
import type { ValueType } from './mapping';

export const DEFAULT_DECIMALS = 2;
export const MAX_DECIMALS = 8;

export type Conversion = { ok: true; value: unknown } | { ok: false; reason: string };

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const SECONDS_BELOW = 1e11;
const MAX_DATE_MS = 8.64e15;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(value)) return 'a buffer';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return `a ${typeof value}`;
  }
}

function fail(reason: string): Conversion {
  return { ok: false, reason };
}

function toNumber(value: unknown): Conversion {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value } : fail('not a finite number');
  }
  if (typeof value === 'string') {
    const s = value.trim();
    if (!NUMERIC.test(s)) return fail('not a number');
    const n = Number(s);
    return Number.isFinite(n) ? { ok: true, value: n } : fail('number out of range');
  }
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? { ok: true, value: n } : fail('number out of range');
  }
  return fail(`${describe(value)} cannot be converted to a number`);
}

const TRUE_WORDS = new Set(['true', 'yes', 'y', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'n', 'off', '0']);

function toBoolean(value: unknown): Conversion {
  if (typeof value === 'boolean') return { ok: true, value };
  if (typeof value === 'number') {
    if (value === 1) return { ok: true, value: true };
    if (value === 0) return { ok: true, value: false };
    return fail('not a boolean (numbers must be 1 or 0)');
  }
  if (typeof value === 'string') {
    const s = value.trim().toLowerCase();
    if (TRUE_WORDS.has(s)) return { ok: true, value: true };
    if (FALSE_WORDS.has(s)) return { ok: true, value: false };
    return fail('not a boolean (use true/false, yes/no, on/off or 1/0)');
  }
  return fail(`${describe(value)} cannot be converted to a boolean`);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function epochToMs(n: number): number {
  return Math.abs(n) < SECONDS_BELOW ? n * 1000 : n;
}

/**
 * Milliseconds since the epoch, or a reason. Accepts a Date, an epoch number
 * (or numeric string): absolute values below 1e11 are seconds, others
 * milliseconds; and ISO-8601 text (a date, or date and time, with an optional
 * offset; without an offset the time is read as UTC).
 */
export function toEpochMs(value: unknown): { ok: true; ms: number } | { ok: false; reason: string } {
  let ms: number;
  if (value instanceof Date) {
    ms = value.getTime();
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'not a valid date' };
    ms = epochToMs(value);
  } else if (typeof value === 'string') {
    const s = value.trim();
    if (NUMERIC.test(s)) {
      ms = epochToMs(Number(s));
    } else {
      const m = ISO_DATE.exec(s);
      if (!m) return { ok: false, reason: 'not a valid date (expected ISO-8601 text or an epoch number)' };
      const [, y, mo, d, h, mi, sec, frac, zone] = m;
      const year = Number(y);
      const month = Number(mo);
      const day = Number(d);
      const hour = h === undefined ? 0 : Number(h);
      const minute = mi === undefined ? 0 : Number(mi);
      const second = sec === undefined ? 0 : Number(sec);
      if (
        month < 1 ||
        month > 12 ||
        day < 1 ||
        day > daysInMonth(year, month) ||
        hour > 23 ||
        minute > 59 ||
        second > 59
      ) {
        return { ok: false, reason: 'not a valid date (a part is out of range)' };
      }
      const milli = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000 + 1e-9);
      let offsetMin = 0;
      if (zone && zone !== 'Z' && zone !== 'z') {
        const sign = zone[0] === '-' ? -1 : 1;
        const digits = zone.slice(1).replace(':', '');
        const oh = Number(digits.slice(0, 2));
        const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
        if (oh > 23 || om > 59) return { ok: false, reason: 'not a valid date (bad offset)' };
        offsetMin = sign * (oh * 60 + om);
      }
      const utc = new Date(0);
      utc.setUTCFullYear(year, month - 1, day);
      utc.setUTCHours(hour, minute, second, milli);
      ms = utc.getTime() - offsetMin * 60000;
    }
  } else {
    return { ok: false, reason: `${describe(value)} cannot be converted to a date` };
  }
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return { ok: false, reason: 'not a valid date' };
  return { ok: true, ms };
}

/**
 * Amount in minor units (cents) with exact decimal arithmetic on the text
 * form: 10.5 → 1050, "19.99" → 1999, 1.005 → 101 (half away from zero).
 */
export function toMinorUnits(value: unknown, decimals = DEFAULT_DECIMALS): Conversion {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail('not a finite number');
    text = String(value); // shortest round-trip form: 1.005 stays "1.005"
  } else if (typeof value === 'string') {
    text = value.trim();
  } else if (typeof value === 'bigint') {
    text = value.toString();
  } else {
    return fail(`${describe(value)} cannot be converted to minor units`);
  }
  if (!NUMERIC.test(text)) return fail('not an amount');
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    return fail(`decimals must be a whole number from 0 to ${MAX_DECIMALS}`);
  }
  let sign = 1n;
  let s = text;
  if (s[0] === '+' || s[0] === '-') {
    if (s[0] === '-') sign = -1n;
    s = s.slice(1);
  }
  let exponent = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exponent = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  const intPart = dot >= 0 ? s.slice(0, dot) : s;
  const fracPart = dot >= 0 ? s.slice(dot + 1) : '';
  // value = digits × 10^(exponent - fracPart.length); we want it × 10^decimals
  const digits = (intPart + fracPart).replace(/^0+(?=\d)/, '') || '0';
  const shift = exponent - fracPart.length + decimals;
  if (shift > 30 || digits.length + shift > 30) return fail('amount out of range');
  let result: bigint;
  if (shift >= 0) {
    result = BigInt(digits) * 10n ** BigInt(shift);
  } else {
    const drop = -shift;
    if (drop > digits.length) {
      result = 0n; // below a tenth of a minor unit: rounds to zero
    } else {
      const keep = digits.slice(0, digits.length - drop) || '0';
      const first = digits[digits.length - drop];
      result = BigInt(keep) + (first >= '5' ? 1n : 0n);
    }
  }
  result *= sign;
  const n = Number(result);
  if (!Number.isSafeInteger(n)) return fail('amount out of range');
  return { ok: true, value: n === 0 ? 0 : n };
}

/** Converts a value to a rule type; never throws. */
export function convertValue(value: unknown, type: ValueType | string, decimals = DEFAULT_DECIMALS): Conversion {
  switch (type) {
    case 'auto':
    case undefined:
    case '':
      return { ok: true, value };
    case 'string':
      if (typeof value === 'string') return { ok: true, value };
      if (typeof value === 'number')
        return Number.isFinite(value) ? { ok: true, value: String(value) } : fail('not a finite number');
      if (typeof value === 'boolean' || typeof value === 'bigint') return { ok: true, value: String(value) };
      if (value instanceof Date) {
        return Number.isNaN(value.getTime()) ? fail('not a valid date') : { ok: true, value: value.toISOString() };
      }
      return fail(`${describe(value)} cannot be converted to text`);
    case 'number':
      return toNumber(value);
    case 'integer': {
      const r = toNumber(value);
      if (!r.ok) return r;
      const n = r.value as number;
      if (!Number.isInteger(n)) return fail('not a whole number');
      if (!Number.isSafeInteger(n)) return fail('whole number out of range');
      return { ok: true, value: n === 0 ? 0 : n };
    }
    case 'boolean':
      return toBoolean(value);
    case 'date': {
      const r = toEpochMs(value);
      return r.ok ? { ok: true, value: new Date(r.ms).toISOString() } : fail(r.reason);
    }
    case 'unix': {
      const r = toEpochMs(value);
      if (!r.ok) return fail(r.reason);
      const secs = Math.floor(r.ms / 1000);
      return { ok: true, value: secs === 0 ? 0 : secs };
    }
    case 'minor':
      return toMinorUnits(value, decimals);
    default:
      return fail(`unknown type "${String(type)}"`);
  }
}
