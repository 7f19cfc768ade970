/**
 * Response checks: rules about an HTTP response (its status code and values in
 * its parsed body) and extractions that copy values from the response to other
 * message properties. Pure: no Node-RED import, so it is tested on its own.
 *
 * Rules (as stored in the flow):
 *   { kind: "status", value: "2xx,304" }
 *   { kind: "body", path: "data.items[0].id", op: "eq", value: "42" }
 *
 * A status spec is a comma-separated list of entries, each one of
 *   Nxx        a class of codes, N from 1 to 5 (2xx = 200…299)
 *   NNN        one code from 100 to 599
 *   NNN-NNN    an inclusive range (400-499)
 * Spaces around entries and around "-" are ignored; "x" may be "X".
 *
 * Body ops compare the value found at `path` (read from the body with
 * getPath) with the rule's value, which is text:
 *   eq / neq   JSON-aware equality (see valueEquals)
 *   exists     present and not null
 *   missing    absent or null
 *   regex      the value (a string, number or boolean, as text) matches the
 *              JavaScript regular expression source in `value`
 *   in         equals (as eq) one of the comma-separated items of `value`
 * Every op except exists and missing fails when the value is absent.
 */
import type { ErrorDetail } from './errors';
import { getPath, parsePath, setPath, type PathSegment } from './path';
import { CHECK_MODES, listProblems as formatProblems, looksSecret, parseStatusSpec } from './rules';
import type { StatusSpec } from './rules';

export { parseStatusSpec, type StatusSpec, type StatusSpecResult } from './rules';

export const MODES = CHECK_MODES;
export type Mode = (typeof MODES)[number];
export const KINDS = ['status', 'body'] as const;
export const OPS = ['eq', 'neq', 'exists', 'missing', 'regex', 'in'] as const;
export type Op = (typeof OPS)[number];

/** Found values longer than this (strings, or objects as JSON) are cut in error details. */
export const MAX_VALUE_LENGTH = 200;

/** The status spec used when there are no rules at all. */
export const DEFAULT_STATUS_SPEC = '2xx';

/** Message properties an extraction may not write to (the node sets them itself). */
export const RESERVED_TARGETS = ['check', 'error', '_msgid'];

/** One rule as it is stored in the flow. */
export interface CheckRule {
  kind?: string;
  /** status spec for kind "status"; the compared value for kind "body" */
  value?: unknown;
  /** path inside the body for kind "body" */
  path?: string;
  op?: string;
}

/** One extraction: the value at `path` (relative to msg) is copied to msg property `target`. */
export interface Extraction {
  path?: string;
  target?: string;
}

export interface CheckConfig {
  rules?: unknown;
  mode?: unknown;
  extract?: unknown;
  /** msg property holding the status code (default "statusCode") */
  statusProperty?: unknown;
  /** msg property holding the parsed body (default "payload") */
  bodyProperty?: unknown;
}

// ---------------------------------------------------------------------------
// status specs

// status specs: lib/rules/status-codes.ts (shared with the HTTP POST node and the dialogs)

// ---------------------------------------------------------------------------
// comparisons

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

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

// ---------------------------------------------------------------------------
// compiled rules

type Evaluation = { passed: true } | { passed: false; reason: string };

interface CompiledRule {
  label: string;
  kind: 'status' | 'body';
  field: string;
  /** the path of the value that the rule reads (status: statusProperty; body: path in the body) */
  segments: PathSegment[];
  /** whether found values may appear in results/details */
  secret: boolean;
  evaluate(found: unknown): Evaluation;
}

/** One rule's outcome, as listed in `msg.check.results`. */
export interface RuleResult {
  rule: string;
  kind: 'status' | 'body';
  field: string;
  passed: boolean;
  /** why it failed (failed rules only) */
  reason?: string;
}

export interface CheckOutcome {
  passed: boolean;
  mode: Mode;
  results: RuleResult[];
  /** one entry per failed rule, with the value found (clipped) unless the path looks secret */
  details: ErrorDetail[];
  /** "2 of 3 rules failed: …" when the check failed */
  message?: string;
}

export interface ExtractOutcome {
  /** paths (as written) whose value was missing, so their target was not set */
  missing: string[];
  /** targets that could not be written (something in the way is not an object) */
  unwritable: ErrorDetail[];
}

export interface Checker {
  /** problems in the configuration; when not empty, no message can pass */
  readonly problems: ErrorDetail[];
  readonly mode: Mode;
  /** evaluates the rules against a message (does not change it) */
  check(msg: Record<string, unknown>): CheckOutcome;
  /** copies the extraction values into the message (reads all, then writes all) */
  extract(msg: Record<string, unknown>): ExtractOutcome;
}

export function ruleLabel(index: number): string {
  return `rule ${index + 1}`;
}

function parsePathProblem(path: unknown, what: string): { segments?: PathSegment[]; reason?: string } {
  if (typeof path !== 'string' || path.trim() === '') return { reason: `${what} is empty` };
  try {
    return { segments: parsePath(path) };
  } catch (err) {
    return { reason: `${what}: ${(err as Error).message}` };
  }
}

function compileStatusRule(
  spec: StatusSpec,
  label: string,
  statusProperty: string,
  statusSegments: PathSegment[],
): CompiledRule {
  return {
    label,
    kind: 'status',
    field: 'status',
    segments: statusSegments,
    secret: false,
    evaluate(found) {
      if (found === undefined || found === null) {
        return { passed: false, reason: `expected ${spec.text}, but there is no status code in msg.${statusProperty}` };
      }
      let code: number | undefined;
      if (typeof found === 'number' && Number.isInteger(found)) code = found;
      else if (typeof found === 'string' && /^\s*\d{3}\s*$/.test(found)) code = Number(found);
      if (code === undefined) {
        return { passed: false, reason: `expected ${spec.text}, but msg.${statusProperty} is not a status code` };
      }
      return spec.matches(code) ? { passed: true } : { passed: false, reason: `expected ${spec.text}, got ${code}` };
    },
  };
}

function compileBodyRule(raw: CheckRule, label: string, problems: ErrorDetail[]): CompiledRule | undefined {
  const before = problems.length;
  const path = typeof raw.path === 'string' ? raw.path : '';
  const { segments, reason } = parsePathProblem(raw.path, 'path');
  if (reason) problems.push({ rule: label, field: path || undefined, reason });
  const op = raw.op === undefined || raw.op === '' ? 'eq' : raw.op;
  if (!(OPS as readonly string[]).includes(op)) {
    problems.push({
      rule: label,
      field: path || undefined,
      reason: `unknown op "${String(op)}" (use ${OPS.join(', ')})`,
    });
    return undefined;
  }
  const text = ruleText(raw.value);
  let evaluate: ((found: unknown) => Evaluation) | undefined;
  const absent = (found: unknown) => found === undefined;
  const missingReason = 'is missing';

  switch (op as Op) {
    case 'eq':
      evaluate = (found) =>
        absent(found)
          ? { passed: false, reason: missingReason }
          : valueEquals(found, text)
            ? { passed: true }
            : { passed: false, reason: `is not ${JSON.stringify(text)}` };
      break;
    case 'neq':
      evaluate = (found) =>
        absent(found)
          ? { passed: false, reason: missingReason }
          : valueEquals(found, text)
            ? { passed: false, reason: `is ${JSON.stringify(text)}` }
            : { passed: true };
      break;
    case 'exists':
      evaluate = (found) =>
        found === undefined || found === null
          ? { passed: false, reason: found === null ? 'is null' : missingReason }
          : { passed: true };
      break;
    case 'missing':
      evaluate = (found) =>
        found === undefined || found === null
          ? { passed: true }
          : { passed: false, reason: 'is present (expected missing)' };
      break;
    case 'regex': {
      if (text === '') {
        problems.push({ rule: label, field: path || undefined, reason: 'the regular expression is empty' });
        break;
      }
      let re: RegExp;
      try {
        re = new RegExp(text);
      } catch (err) {
        problems.push({
          rule: label,
          field: path || undefined,
          reason: `invalid regular expression: ${(err as Error).message}`,
        });
        break;
      }
      evaluate = (found) => {
        if (absent(found)) return { passed: false, reason: missingReason };
        if (typeof found !== 'string' && typeof found !== 'number' && typeof found !== 'boolean') {
          return { passed: false, reason: `is ${describeType(found)}, not text, so it cannot match /${text}/` };
        }
        re.lastIndex = 0;
        return re.test(String(found)) ? { passed: true } : { passed: false, reason: `does not match /${text}/` };
      };
      break;
    }
    case 'in': {
      const items = splitList(raw.value);
      if (items.length === 0) {
        problems.push({
          rule: label,
          field: path || undefined,
          reason: 'the list of values is empty (write e.g. COMPLETED,APPROVED)',
        });
        break;
      }
      evaluate = (found) => {
        if (absent(found)) return { passed: false, reason: missingReason };
        return items.some((item) => valueEquals(found, item))
          ? { passed: true }
          : { passed: false, reason: `is not one of ${items.map((i) => JSON.stringify(i)).join(', ')}` };
      };
      break;
    }
  }
  if (problems.length > before || !segments || !evaluate) return undefined;
  return { label, kind: 'body', field: path, segments, secret: looksSecret(path), evaluate };
}

/** Lists problems as "rule n (field): reason; …". */
export function listProblems(problems: ErrorDetail[]): string {
  return formatProblems(problems, 'rule');
}

/** The message for a configuration that cannot be used. */
export function summariseProblems(problems: ErrorDetail[]): string {
  const n = problems.length;
  return `${n} problem${n === 1 ? '' : 's'} in the response check configuration: ${listProblems(problems)}`;
}

function msgPathOption(value: unknown, fallback: string): string {
  return value === undefined || value === null || value === '' ? fallback : String(value);
}

/** Compiles the configuration once; `check` and `extract` then run per message. */
export function createChecker(config: CheckConfig = {}): Checker {
  const problems: ErrorDetail[] = [];
  const compiled: CompiledRule[] = [];

  const mode: Mode = config.mode === undefined || config.mode === '' ? 'all' : (config.mode as Mode);
  if (!(MODES as readonly string[]).includes(mode)) {
    problems.push({ rule: 'mode', reason: `mode must be "all" or "any", not ${JSON.stringify(config.mode)}` });
  }

  const statusProperty = msgPathOption(config.statusProperty, 'statusCode');
  const status = parsePathProblem(statusProperty, 'status code property');
  if (status.reason) problems.push({ rule: 'statusProperty', field: statusProperty, reason: status.reason });
  const bodyProperty = msgPathOption(config.bodyProperty, 'payload');
  const body = parsePathProblem(bodyProperty, 'body property');
  if (body.reason) problems.push({ rule: 'bodyProperty', field: bodyProperty, reason: body.reason });
  const statusSegments = status.segments ?? [];
  const bodySegments = body.segments ?? [];

  const rules = config.rules === undefined || config.rules === null ? [] : config.rules;
  if (!Array.isArray(rules)) {
    problems.push({ rule: 'rules', reason: 'rules must be a list' });
  } else if (rules.length === 0) {
    const def = parseStatusSpec(DEFAULT_STATUS_SPEC);
    if (def.ok) compiled.push(compileStatusRule(def.spec, 'default rule', statusProperty, statusSegments));
  } else {
    rules.forEach((raw: unknown, index: number) => {
      const label = ruleLabel(index);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        problems.push({ rule: label, reason: 'rule must be an object' });
        return;
      }
      const rule = raw as CheckRule;
      if (rule.kind === 'status') {
        const parsed = parseStatusSpec(rule.value);
        if (!parsed.ok) problems.push({ rule: label, field: 'status', reason: parsed.reason });
        else compiled.push(compileStatusRule(parsed.spec, label, statusProperty, statusSegments));
      } else if (rule.kind === 'body') {
        const c = compileBodyRule(rule, label, problems);
        if (c) compiled.push(c);
      } else {
        problems.push({
          rule: label,
          reason: `kind must be "status" or "body", not ${JSON.stringify(rule.kind ?? null)}`,
        });
      }
    });
  }

  const extractions: Array<{ label: string; path: string; target: string; from: PathSegment[]; to: PathSegment[] }> =
    [];
  const extract = config.extract === undefined || config.extract === null ? [] : config.extract;
  if (!Array.isArray(extract)) {
    problems.push({ rule: 'extract', reason: 'extractions must be a list' });
  } else {
    extract.forEach((raw: unknown, index: number) => {
      const label = `extraction ${index + 1}`;
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        problems.push({ rule: label, reason: 'extraction must be an object' });
        return;
      }
      const e = raw as Extraction;
      const from = parsePathProblem(e.path, 'path');
      if (from.reason)
        problems.push({
          rule: label,
          field: typeof e.path === 'string' && e.path ? e.path : undefined,
          reason: from.reason,
        });
      const to = parsePathProblem(e.target, 'target');
      if (to.reason) {
        problems.push({
          rule: label,
          field: typeof e.target === 'string' && e.target ? e.target : undefined,
          reason: to.reason,
        });
      } else if (to.segments && RESERVED_TARGETS.includes(String(to.segments[0]))) {
        problems.push({
          rule: label,
          field: e.target,
          reason: `msg.${String(to.segments[0])} is set by this node and cannot be a target`,
        });
      }
      if (from.segments && to.segments && !to.reason && !RESERVED_TARGETS.includes(String(to.segments[0]))) {
        extractions.push({
          label,
          path: e.path as string,
          target: e.target as string,
          from: from.segments,
          to: to.segments,
        });
      }
    });
  }

  const effectiveMode: Mode = (MODES as readonly string[]).includes(mode) ? mode : 'all';

  return {
    problems,
    mode: effectiveMode,
    check(msg) {
      const results: RuleResult[] = [];
      const details: ErrorDetail[] = [];
      const bodyValue = getPath(msg, bodySegments);
      for (const rule of compiled) {
        const found = rule.kind === 'status' ? getPath(msg, rule.segments) : getPath(bodyValue, rule.segments);
        const ev = rule.evaluate(found);
        if (ev.passed) {
          results.push({ rule: rule.label, kind: rule.kind, field: rule.field, passed: true });
        } else {
          results.push({ rule: rule.label, kind: rule.kind, field: rule.field, passed: false, reason: ev.reason });
          const detail: ErrorDetail = { rule: rule.label, field: rule.field, reason: ev.reason };
          if (found !== undefined && !rule.secret) detail.value = clipValue(found);
          details.push(detail);
        }
      }
      const failed = details.length;
      const total = results.length;
      const passed = problems.length === 0 && (effectiveMode === 'any' ? failed < total : failed === 0);
      const outcome: CheckOutcome = { passed, mode: effectiveMode, results, details };
      if (!passed) {
        outcome.message = `${failed} of ${total} rule${total === 1 ? '' : 's'} failed: ${listProblems(details)}`;
      }
      return outcome;
    },
    extract(msg) {
      const missing: string[] = [];
      const unwritable: ErrorDetail[] = [];
      const values = extractions.map((e) => getPath(msg, e.from));
      extractions.forEach((e, i) => {
        const value = values[i];
        if (value === undefined) {
          missing.push(e.path);
          return;
        }
        try {
          setPath(msg, e.to, value);
        } catch (err) {
          unwritable.push({ rule: e.label, field: e.target, reason: (err as Error).message });
        }
      });
      return { missing, unwritable };
    },
  };
}
