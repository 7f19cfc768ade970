/**
 * Field mapping: a list of rules turns a message into a new object with exact
 * keys and checked types. Pure: anything that needs Node-RED (JSONata, flow
 * environment variables) comes in through a resolver, so this runs and is
 * tested without the runtime.
 */
import type { ErrorDetail } from './errors';
import { formatPath, getPath, parsePath, setPath, type PathSegment } from './path';
import {
  MAPPING_NUMBERS,
  MAPPING_SOURCE_TYPES,
  MAPPING_VALUE_TYPES,
  SECRET_NAME,
  isPlainObject,
  listProblems as formatProblems,
  looksSecret,
  readNumber,
} from './rules';

export const SOURCE_TYPES = MAPPING_SOURCE_TYPES;
export const VALUE_TYPES = MAPPING_VALUE_TYPES;
export type SourceType = (typeof SOURCE_TYPES)[number];
export type ValueType = (typeof VALUE_TYPES)[number];

/** One rule as it is stored in the flow (editor defaults fill the gaps). */
export interface MappingRule {
  target: string;
  sourceType?: SourceType | string;
  source?: string;
  type?: ValueType | string;
  /** used when the source value is missing (undefined, null or ""); "" means no default */
  default?: string;
  required?: boolean;
  /** decimal places of the currency for type "minor" (default 2) */
  decimals?: number | string;
}

export interface Resolver {
  /** evaluates a JSONata expression against the message (index = rule position, 0-based) */
  evaluateJsonata?(expr: string, msg: unknown, index: number): Promise<unknown>;
  /** environment variables: a plain record or a lookup function */
  env?: Record<string, string | undefined> | ((name: string) => unknown);
}

export interface MapOptions {
  /** start from a deep copy of msg.payload (when it is an object) instead of {} */
  keepUnmapped?: boolean;
}

export type MapResult = { ok: true; value: Record<string, unknown> } | { ok: false; problems: ErrorDetail[] };

export interface ValidateOptions {
  /** throws when a JSONata expression does not parse (e.g. `(e) => jsonata(e)`) */
  parseJsonata?(expr: string, index: number): void;
}

/** Values longer than this (as text) never go into error details. */
export const MAX_DETAIL_VALUE_LENGTH = 100;

/** A target or source whose name matches this is treated as secret (lib/rules/secrets.ts). */
export { SECRET_NAME, looksSecret };

export const DEFAULT_DECIMALS = 2;
export const MAX_DECIMALS = 8;

// ---------------------------------------------------------------------------
// conversions

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

// ---------------------------------------------------------------------------
// rules

interface CompiledRule {
  index: number;
  label: string;
  target: string;
  targetPath: PathSegment[];
  sourceType: SourceType;
  source: string;
  sourcePath?: PathSegment[];
  type: ValueType;
  decimals: number;
  default: string;
  required: boolean;
  secret: boolean;
}

function ruleLabel(index: number): string {
  return `rule ${index + 1}`;
}

function parseDecimals(raw: unknown): number | undefined {
  const r = readNumber(raw, MAPPING_NUMBERS.decimals);
  if (!r.ok) return undefined;
  return r.value === undefined ? DEFAULT_DECIMALS : Math.min(r.value, MAX_DECIMALS);
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function compile(rules: unknown, opts: ValidateOptions = {}): { compiled: CompiledRule[]; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const compiled: CompiledRule[] = [];
  if (!Array.isArray(rules)) {
    return { compiled, problems: [{ rule: 'rules', reason: 'rules must be a list' }] };
  }
  const seen = new Map<string, number>();
  rules.forEach((raw: unknown, index: number) => {
    const label = ruleLabel(index);
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push({ rule: label, reason: 'rule must be an object' });
      return;
    }
    const r = raw as MappingRule;
    const target = typeof r.target === 'string' ? r.target : '';
    const field = target || undefined;
    const problem = (reason: string) =>
      problems.push(field === undefined ? { rule: label, reason } : { field, rule: label, reason });
    const before = problems.length;

    let targetPath: PathSegment[] = [];
    if (target.trim() === '') {
      problem('target is empty');
    } else {
      try {
        targetPath = parsePath(target);
        const canonical = formatPath(targetPath);
        const previous = seen.get(canonical);
        if (previous !== undefined) problem(`same target as ${ruleLabel(previous)}`);
        else seen.set(canonical, index);
      } catch (err) {
        problem(`target: ${(err as Error).message}`);
      }
    }

    const sourceType = (r.sourceType === undefined || r.sourceType === '' ? 'msg' : r.sourceType) as SourceType;
    const source = r.source === undefined || r.source === null ? '' : String(r.source);
    let sourcePath: PathSegment[] | undefined;
    if (!(SOURCE_TYPES as readonly string[]).includes(sourceType)) {
      problem(`unknown source type "${String(sourceType)}"`);
    } else {
      switch (sourceType) {
        case 'msg':
          if (source.trim() === '') problem('source property is empty');
          else {
            try {
              sourcePath = parsePath(source);
            } catch (err) {
              problem(`source: ${(err as Error).message}`);
            }
          }
          break;
        case 'jsonata':
          if (source.trim() === '') problem('JSONata expression is empty');
          else if (opts.parseJsonata) {
            try {
              opts.parseJsonata(source, index);
            } catch (err) {
              problem(`invalid JSONata: ${(err as Error).message}`);
            }
          }
          break;
        case 'env':
          if (source.trim() === '') problem('environment variable name is empty');
          break;
        case 'num':
          if (source.trim() === '' || !Number.isFinite(Number(source.trim()))) problem('constant is not a number');
          break;
        case 'bool':
          if (source !== 'true' && source !== 'false') problem('constant must be true or false');
          break;
        case 'json':
          try {
            JSON.parse(source);
          } catch (err) {
            problem(`constant is not valid JSON: ${(err as Error).message}`);
          }
          break;
        default:
          break;
      }
    }

    const type = (r.type === undefined || r.type === '' ? 'auto' : r.type) as ValueType;
    if (!(VALUE_TYPES as readonly string[]).includes(type)) problem(`unknown type "${String(type)}"`);
    const decimals = parseDecimals(r.decimals);
    if (type === 'minor' && decimals === undefined)
      problem(`decimals must be a whole number from 0 to ${MAX_DECIMALS}`);

    const def = r.default === undefined || r.default === null ? '' : String(r.default);
    if (def !== '' && problems.length === before) {
      const c = convertValue(def, type, decimals ?? DEFAULT_DECIMALS);
      if (!c.ok) problem(`default cannot be converted to ${type}: ${c.reason}`);
    }

    if (problems.length === before) {
      compiled.push({
        index,
        label,
        target,
        targetPath,
        sourceType,
        source,
        sourcePath,
        type,
        decimals: decimals ?? DEFAULT_DECIMALS,
        default: def,
        required: r.required === true || (r.required as unknown) === 'true',
        secret: looksSecret(target, sourceType === 'str' || sourceType === 'num' ? undefined : source),
      });
    }
  });
  return { compiled, problems };
}

/** Checks rules without a message: for the editor and at start-up. */
export function validateRules(rules: unknown, opts: ValidateOptions = {}): ErrorDetail[] {
  return compile(rules, opts).problems;
}

function safeDetailValue(value: unknown, secret: boolean): { include: boolean; value?: unknown } {
  if (secret) return { include: false };
  if (typeof value === 'string')
    return value.length <= MAX_DETAIL_VALUE_LENGTH ? { include: true, value } : { include: false };
  if (typeof value === 'number' || typeof value === 'boolean') return { include: true, value };
  return { include: false }; // objects, arrays, buffers: never copied into an error
}

/** the deepest payload keepUnmapped copies (deeper ones are refused with a problem, not a stack overflow) */
export const MAX_COPY_DEPTH = 1000;

/** A deep copy of plain objects and arrays; a cycle is copied as a cycle. Throws past MAX_COPY_DEPTH. */
function deepCopy(value: unknown, copies = new Map<object, unknown>(), depth = 0): unknown {
  if (value instanceof Date) return new Date(value.getTime());
  if (typeof Buffer !== 'undefined' && Buffer.isBuffer(value)) return Buffer.from(value);
  if (!value || typeof value !== 'object') return value;
  const done = copies.get(value);
  if (done !== undefined) return done;
  if (depth >= MAX_COPY_DEPTH) throw new Error(`the payload nests more than ${MAX_COPY_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    const list: unknown[] = [];
    copies.set(value, list);
    for (const entry of value) list.push(deepCopy(entry, copies, depth + 1));
    return list;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  copies.set(value, out);
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, {
      value: deepCopy((value as Record<string, unknown>)[key], copies, depth + 1),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}

function lookupEnv(env: Resolver['env'], name: string): unknown {
  if (typeof env === 'function') return env(name);
  if (env && Object.prototype.hasOwnProperty.call(env, name)) return env[name];
  return undefined;
}

/** "field (rule n): reason; …" — names fields and reasons, never values (lib/rules/problems.ts). */
export function listProblems(problems: ErrorDetail[]): string {
  return formatProblems(problems, 'field');
}

/** The summary that goes in `msg.error.message` for a message that failed. */
export function summarise(problems: ErrorDetail[]): string {
  const n = problems.length;
  return `${n} field${n === 1 ? '' : 's'} failed validation: ${listProblems(problems)}`;
}

/** The summary for rules that are themselves invalid. */
export function summariseRules(problems: ErrorDetail[]): string {
  const n = problems.length;
  return `${n} problem${n === 1 ? '' : 's'} in the mapping rules: ${listProblems(problems)}`;
}

export interface Mapper {
  /** problems found in the rules themselves; when not empty, map() reports them for every message */
  readonly problems: ErrorDetail[];
  map(msg: Record<string, unknown>, resolver?: Resolver, options?: MapOptions): Promise<MapResult>;
}

/** Compiles rules once; `map` then runs them against each message. */
export function createMapper(rules: unknown, opts: ValidateOptions = {}): Mapper {
  const { compiled, problems: ruleProblems } = compile(rules, opts);
  return {
    problems: ruleProblems,
    async map(msg, resolver = {}, options = {}) {
      if (ruleProblems.length > 0) return { ok: false, problems: ruleProblems.map((p) => ({ ...p })) };
      const payload = msg ? msg.payload : undefined;
      let out: Record<string, unknown> = {};
      if (options.keepUnmapped && isPlainObject(payload)) {
        try {
          out = deepCopy(payload) as Record<string, unknown>;
        } catch (err) {
          return { ok: false, problems: [{ field: 'payload', reason: `cannot be kept: ${(err as Error).message}` }] };
        }
      }
      const problems: ErrorDetail[] = [];

      for (const rule of compiled) {
        const report = (reason: string, value?: unknown, hasValue = false) => {
          const detail: ErrorDetail = { field: rule.target, rule: rule.label, reason };
          if (hasValue) {
            const safe = safeDetailValue(value, rule.secret);
            if (safe.include) detail.value = safe.value;
          }
          problems.push(detail);
        };

        let value: unknown;
        try {
          switch (rule.sourceType) {
            case 'msg':
              value = getPath(msg, rule.sourcePath as PathSegment[]);
              break;
            case 'jsonata':
              if (!resolver.evaluateJsonata) throw new Error('no JSONata evaluator available');
              value = await resolver.evaluateJsonata(rule.source, msg, rule.index);
              break;
            case 'str':
              value = rule.source;
              break;
            case 'num':
              value = Number(rule.source.trim());
              break;
            case 'bool':
              value = rule.source === 'true';
              break;
            case 'json':
              value = JSON.parse(rule.source);
              break;
            case 'env':
              value = lookupEnv(resolver.env, rule.source.trim());
              break;
          }
        } catch (err) {
          const what = rule.sourceType === 'jsonata' ? 'JSONata expression failed' : 'source could not be read';
          report(`${what}: ${(err as Error)?.message ?? String(err)}`);
          continue;
        }

        let fromDefault = false;
        if (isMissing(value)) {
          if (rule.default !== '') {
            value = rule.default;
            fromDefault = true;
          } else if (rule.required) {
            report('required value is missing');
            continue;
          } else {
            continue; // optional and empty: the target is left out
          }
        }

        const converted = convertValue(value, rule.type, rule.decimals);
        if (!converted.ok) {
          report(
            fromDefault ? `default cannot be converted to ${rule.type}: ${converted.reason}` : converted.reason,
            value,
            true,
          );
          continue;
        }
        try {
          setPath(out, rule.targetPath, converted.value);
        } catch (err) {
          report((err as Error).message);
        }
      }

      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: out };
    },
  };
}

/** One-shot form of createMapper(rules).map(msg, resolver, options). */
export function mapFields(
  rules: unknown,
  msg: Record<string, unknown>,
  resolver: Resolver = {},
  options: MapOptions = {},
): Promise<MapResult> {
  return createMapper(rules).map(msg, resolver, options);
}
