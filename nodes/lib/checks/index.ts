/**
 * Response checks: rules about an HTTP response (its status code and values in
 * its parsed body) and extractions that copy values from the response to other
 * message properties. Pure: no Node-RED import, so it is tested on its own.
 * This file is the entry point (what nodes/response-check.ts and the tests
 * import); the parts:
 *
 *   checker.ts         reads the configuration, runs the rules per message
 *   response-rules.ts  one rule compiled into an evaluator, one function per op
 *   extractions.ts     copying response values to message properties
 *   values.ts          comparing a found value with a rule's text; clipping it
 *
 * Rules (as stored in the flow):
 *   { kind: "status", value: "2xx,304" }
 *   { kind: "body", path: "data.items[0].id", op: "eq", value: "42" }
 *
 * A status spec is a comma-separated list of entries, each one of
 *   Nxx        a class of codes, N from 1 to 5 (2xx = 200…299)
 *   NNN        one code from 100 to 599
 *   NNN-NNN    an inclusive range (400-499)
 * Spaces around entries and around "-" are ignored; "x" may be "X"
 * (lib/rules/status-codes.ts, shared with the HTTP POST node and the dialogs).
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
export { parseStatusSpec, type StatusSpec, type StatusSpecResult } from '../rules';
export {
  DEFAULT_STATUS_SPEC,
  MODES,
  createChecker,
  listProblems,
  summariseProblems,
  type CheckConfig,
  type CheckOutcome,
  type Checker,
  type Mode,
  type RuleResult,
} from './checker';
export { KINDS, OPS, ruleLabel, type CheckRule, type Op } from './response-rules';
export { RESERVED_TARGETS, type ExtractOutcome, type Extraction } from './extractions';
export { MAX_VALUE_LENGTH, clipValue, ruleText, splitList, valueEquals } from './values';
