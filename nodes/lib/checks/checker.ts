/**
 * Response checks: the checker. Reads a Response Check node's configuration
 * once — mode, the message properties holding the status code and the body,
 * the rules, the extractions — and collects every problem in it; then, per
 * message, runs the rules (check) and copies the extractions (extract). Pure:
 * no Node-RED import.
 *
 *   createChecker()
 *     readMode()            "all" (default) or "any"
 *     readProperty()        statusProperty (default statusCode), bodyProperty
 *                           (default payload)
 *     compileRules()        no rules at all: the default status rule (2xx)
 *     compileExtractions()  (extractions.ts)
 *   check(msg)              every rule's result; failed ones as details with
 *                           the value found, clipped, unless the path looks secret
 *   extract(msg)            (extractions.ts)
 *
 * Not here: what each rule does (response-rules.ts), value comparisons
 * (values.ts), the node's status and outputs (nodes/response-check.ts).
 */
import type { ErrorDetail } from '../errors';
import { getPath, type PathSegment } from '../path';
import { CHECK_MODES, listProblems as formatProblems, parseStatusSpec } from '../rules';
import { clipValue } from './values';
import {
  compileBodyRule,
  compileStatusRule,
  parsePathProblem,
  ruleLabel,
  type CheckRule,
  type CompiledRule,
} from './response-rules';
import { applyExtractions, compileExtractions, type ExtractOutcome } from './extractions';

export const MODES = CHECK_MODES;
export type Mode = (typeof MODES)[number];

/** The status spec used when there are no rules at all. */
export const DEFAULT_STATUS_SPEC = '2xx';

export interface CheckConfig {
  rules?: unknown;
  mode?: unknown;
  extract?: unknown;
  /** msg property holding the status code (default "statusCode") */
  statusProperty?: unknown;
  /** msg property holding the parsed body (default "payload") */
  bodyProperty?: unknown;
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

export interface Checker {
  /** problems in the configuration; when not empty, no message can pass */
  readonly problems: ErrorDetail[];
  readonly mode: Mode;
  /** evaluates the rules against a message (does not change it) */
  check(msg: Record<string, unknown>): CheckOutcome;
  /** copies the extraction values into the message (reads all, then writes all) */
  extract(msg: Record<string, unknown>): ExtractOutcome;
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

/** the configured mode ("all" when it is not one: a problem is listed) */
function readMode(value: unknown, problems: ErrorDetail[]): Mode {
  const mode: Mode = value === undefined || value === '' ? 'all' : (value as Mode);
  if (!(MODES as readonly string[]).includes(mode)) {
    problems.push({ rule: 'mode', reason: `mode must be "all" or "any", not ${JSON.stringify(value)}` });
    return 'all';
  }
  return mode;
}

/** a message property named by the configuration (statusProperty, bodyProperty) */
function readProperty(
  value: unknown,
  fallback: string,
  rule: 'statusProperty' | 'bodyProperty',
  what: string,
  problems: ErrorDetail[],
): { name: string; segments: PathSegment[] } {
  const name = value === undefined || value === null || value === '' ? fallback : String(value);
  const parsed = parsePathProblem(name, what);
  if (parsed.reason) problems.push({ rule, field: name, reason: parsed.reason });
  return { name, segments: parsed.segments ?? [] };
}

/** the rules as compiled; their problems are added to `problems` */
function compileRules(
  value: unknown,
  status: { name: string; segments: PathSegment[] },
  problems: ErrorDetail[],
): CompiledRule[] {
  const compiled: CompiledRule[] = [];
  const rules = value === undefined || value === null ? [] : value;
  if (!Array.isArray(rules)) {
    problems.push({ rule: 'rules', reason: 'rules must be a list' });
  } else if (rules.length === 0) {
    const def = parseStatusSpec(DEFAULT_STATUS_SPEC);
    if (def.ok) compiled.push(compileStatusRule(def.spec, 'default rule', status.name, status.segments));
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
        else compiled.push(compileStatusRule(parsed.spec, label, status.name, status.segments));
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
  return compiled;
}

/** Runs the rules against a message: each rule's result, the failed ones' details, passed as the mode says. */
function runRules(
  msg: Record<string, unknown>,
  compiled: CompiledRule[],
  bodySegments: PathSegment[],
  mode: Mode,
  configured: boolean,
): CheckOutcome {
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
  const passed = configured && (mode === 'any' ? failed < total : failed === 0);
  const outcome: CheckOutcome = { passed, mode, results, details };
  if (!passed) {
    outcome.message = `${failed} of ${total} rule${total === 1 ? '' : 's'} failed: ${listProblems(details)}`;
  }
  return outcome;
}

/** Compiles the configuration once; `check` and `extract` then run per message. */
export function createChecker(config: CheckConfig = {}): Checker {
  const problems: ErrorDetail[] = [];
  const mode = readMode(config.mode, problems);
  const status = readProperty(config.statusProperty, 'statusCode', 'statusProperty', 'status code property', problems);
  const body = readProperty(config.bodyProperty, 'payload', 'bodyProperty', 'body property', problems);
  const compiled = compileRules(config.rules, status, problems);
  const extractions = compileExtractions(config.extract, problems);
  return {
    problems,
    mode,
    check: (msg) => runRules(msg, compiled, body.segments, mode, problems.length === 0),
    extract: (msg) => applyExtractions(msg, extractions),
  };
}
