/**
 * Response checks: extractions, which copy values from the response to other
 * message properties (e.g. payload.id → orderId). Compiled once from the
 * flow's list; applied per message by reading every value first, then
 * writing them all, so that one extraction never reads what another wrote.
 * Pure: no Node-RED import.
 *
 * Not here: the rules that pass or fail a response (response-rules.ts).
 */
import type { ErrorDetail } from '../errors';
import { getPath, setPath, type PathSegment } from '../path';
import { parsePathProblem } from './response-rules';

/** Message properties an extraction may not write to (the node sets them itself). */
export const RESERVED_TARGETS = ['check', 'error', '_msgid'];

/** One extraction: the value at `path` (relative to msg) is copied to msg property `target`. */
export interface Extraction {
  path?: string;
  target?: string;
}

export interface CompiledExtraction {
  label: string;
  path: string;
  target: string;
  from: PathSegment[];
  to: PathSegment[];
}

export interface ExtractOutcome {
  /** paths (as written) whose value was missing, so their target was not set */
  missing: string[];
  /** targets that could not be written (something in the way is not an object) */
  unwritable: ErrorDetail[];
}

/** The usable extractions of the configuration; the problems of the others are added to `problems`. */
export function compileExtractions(extract: unknown, problems: ErrorDetail[]): CompiledExtraction[] {
  const out: CompiledExtraction[] = [];
  const list = extract === undefined || extract === null ? [] : extract;
  if (!Array.isArray(list)) {
    problems.push({ rule: 'extract', reason: 'extractions must be a list' });
    return out;
  }
  list.forEach((raw: unknown, index: number) => {
    const c = compileExtraction(raw, `extraction ${index + 1}`, problems);
    if (c) out.push(c);
  });
  return out;
}

function compileExtraction(raw: unknown, label: string, problems: ErrorDetail[]): CompiledExtraction | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ rule: label, reason: 'extraction must be an object' });
    return undefined;
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
  const reserved = to.segments !== undefined && RESERVED_TARGETS.includes(String(to.segments[0]));
  if (to.reason) {
    problems.push({
      rule: label,
      field: typeof e.target === 'string' && e.target ? e.target : undefined,
      reason: to.reason,
    });
  } else if (to.segments && reserved) {
    problems.push({
      rule: label,
      field: e.target,
      reason: `msg.${String(to.segments[0])} is set by this node and cannot be a target`,
    });
  }
  if (!from.segments || !to.segments || to.reason || reserved) return undefined;
  return { label, path: e.path as string, target: e.target as string, from: from.segments, to: to.segments };
}

/** Copies the values into the message: reads all, then writes all. */
export function applyExtractions(msg: Record<string, unknown>, extractions: CompiledExtraction[]): ExtractOutcome {
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
}
