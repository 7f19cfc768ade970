/**
 * Response checks: one rule as stored in the flow, compiled once into an
 * evaluator that says whether a found value passes, and why not. Pure: no
 * Node-RED import.
 *
 *   compileStatusRule()  a parsed status spec (lib/rules/status-codes.ts)
 *                        against the status code found in the message
 *   compileBodyRule()    path + op + value; its problems (bad path, unknown
 *                        op, empty or invalid regex, empty list) are added to
 *                        the caller's list and nothing is compiled
 *   one named function per body op: equalsRule, notEqualsRule, existsRule,
 *   missingRule, regexRule, inRule
 *
 * Every op except exists and missing fails when the value is absent.
 * Not here: reading the configuration and running the rules against a
 * message (checker.ts), comparing values (values.ts).
 */
import type { ErrorDetail } from '../errors';
import { parsePath, type PathSegment } from '../path';
import { looksSecret, type StatusSpec } from '../rules';
import { describeType, ruleText, splitList, valueEquals } from './values';

export const KINDS = ['status', 'body'] as const;
export const OPS = ['eq', 'neq', 'exists', 'missing', 'regex', 'in'] as const;
export type Op = (typeof OPS)[number];

/** One rule as it is stored in the flow. */
export interface CheckRule {
  kind?: string;
  /** status spec for kind "status"; the compared value for kind "body" */
  value?: unknown;
  /** path inside the body for kind "body" */
  path?: string;
  op?: string;
}

export type Evaluation = { passed: true } | { passed: false; reason: string };
type Evaluate = (found: unknown) => Evaluation;
/** an op's evaluator, or why the rule cannot be used */
type OpBuild = { evaluate: Evaluate } | { problem: string };

export interface CompiledRule {
  label: string;
  kind: 'status' | 'body';
  field: string;
  /** the path of the value that the rule reads (status: statusProperty; body: path in the body) */
  segments: PathSegment[];
  /** whether found values may appear in results/details */
  secret: boolean;
  evaluate(found: unknown): Evaluation;
}

export function ruleLabel(index: number): string {
  return `rule ${index + 1}`;
}

/** A path from the configuration, or why it cannot be used ("<what> is empty", "<what>: <parse error>"). */
export function parsePathProblem(path: unknown, what: string): { segments?: PathSegment[]; reason?: string } {
  if (typeof path !== 'string' || path.trim() === '') return { reason: `${what} is empty` };
  try {
    return { segments: parsePath(path) };
  } catch (err) {
    return { reason: `${what}: ${(err as Error).message}` };
  }
}

export function compileStatusRule(
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

const MISSING_REASON = 'is missing';

function equalsRule(text: string): Evaluate {
  return (found) =>
    found === undefined
      ? { passed: false, reason: MISSING_REASON }
      : valueEquals(found, text)
        ? { passed: true }
        : { passed: false, reason: `is not ${JSON.stringify(text)}` };
}

function notEqualsRule(text: string): Evaluate {
  return (found) =>
    found === undefined
      ? { passed: false, reason: MISSING_REASON }
      : valueEquals(found, text)
        ? { passed: false, reason: `is ${JSON.stringify(text)}` }
        : { passed: true };
}

function existsRule(): Evaluate {
  return (found) =>
    found === undefined || found === null
      ? { passed: false, reason: found === null ? 'is null' : MISSING_REASON }
      : { passed: true };
}

function missingRule(): Evaluate {
  return (found) =>
    found === undefined || found === null
      ? { passed: true }
      : { passed: false, reason: 'is present (expected missing)' };
}

/** the value (a string, number or boolean, as text) matches the JavaScript regular expression source in `text` */
function regexRule(text: string): OpBuild {
  if (text === '') return { problem: 'the regular expression is empty' };
  let re: RegExp;
  try {
    re = new RegExp(text);
  } catch (err) {
    return { problem: `invalid regular expression: ${(err as Error).message}` };
  }
  return {
    evaluate: (found) => {
      if (found === undefined) return { passed: false, reason: MISSING_REASON };
      if (typeof found !== 'string' && typeof found !== 'number' && typeof found !== 'boolean') {
        return { passed: false, reason: `is ${describeType(found)}, not text, so it cannot match /${text}/` };
      }
      re.lastIndex = 0;
      return re.test(String(found)) ? { passed: true } : { passed: false, reason: `does not match /${text}/` };
    },
  };
}

/** equals (as eq) one of the comma-separated items of `value` */
function inRule(value: unknown): OpBuild {
  const items = splitList(value);
  if (items.length === 0) return { problem: 'the list of values is empty (write e.g. COMPLETED,APPROVED)' };
  return {
    evaluate: (found) => {
      if (found === undefined) return { passed: false, reason: MISSING_REASON };
      return items.some((item) => valueEquals(found, item))
        ? { passed: true }
        : { passed: false, reason: `is not one of ${items.map((i) => JSON.stringify(i)).join(', ')}` };
    },
  };
}

function buildOp(op: Op, value: unknown): OpBuild {
  const text = ruleText(value);
  switch (op) {
    case 'eq':
      return { evaluate: equalsRule(text) };
    case 'neq':
      return { evaluate: notEqualsRule(text) };
    case 'exists':
      return { evaluate: existsRule() };
    case 'missing':
      return { evaluate: missingRule() };
    case 'regex':
      return regexRule(text);
    case 'in':
      return inRule(value);
  }
}

/** A body rule, or undefined when it has problems (added to `problems`). An empty op is "eq". */
export function compileBodyRule(raw: CheckRule, label: string, problems: ErrorDetail[]): CompiledRule | undefined {
  const path = typeof raw.path === 'string' ? raw.path : '';
  const field = path || undefined;
  const { segments, reason } = parsePathProblem(raw.path, 'path');
  if (reason) problems.push({ rule: label, field, reason });
  const op = raw.op === undefined || raw.op === '' ? 'eq' : raw.op;
  if (!(OPS as readonly string[]).includes(op)) {
    problems.push({ rule: label, field, reason: `unknown op "${String(op)}" (use ${OPS.join(', ')})` });
    return undefined;
  }
  const built = buildOp(op as Op, raw.value);
  if ('problem' in built) problems.push({ rule: label, field, reason: built.problem });
  if (reason || !segments || 'problem' in built) return undefined;
  return { label, kind: 'body', field: path, segments, secret: looksSecret(path), evaluate: built.evaluate };
}
