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

import { DEFAULT_DECIMALS, MAX_DECIMALS, convertValue } from './convert';
export { DEFAULT_DECIMALS, MAX_DECIMALS, convertValue, toEpochMs, toMinorUnits, type Conversion } from './convert';

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
