/**
 * JSON encoding, plus the small helpers the other encoders share: how a
 * field's path is written in error details, and how a value is described.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import { isPlainObject } from '../rules';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Most problems listed in one error; the message says how many more there were. */
export const MAX_DETAILS = 50;

export interface JsonOptions {
  /** indent with two spaces and line breaks */
  pretty?: boolean;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `payload` + `a` → `payload.a`; + 2 → `payload[2]`; + `first name` → `payload["first name"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** A short phrase for what a value is: "a string", "an array", "null", "a Buffer" … */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (ArrayBuffer.isView(value)) return 'a typed array';
  if (value instanceof Date) return 'a Date';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'bigint':
      return 'a BigInt';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      return 'an object';
  }
}

/** A plain record: `{...}` (including objects without a prototype), not an array, Date, Buffer, Map … */
export { isPlainObject };

/**
 * Joins problems into one error: the message is the first problem, plus how
 * many more there were; `details` lists them all (up to MAX_DETAILS).
 */
export function problemsError(
  code: string,
  problems: ErrorDetail[],
  messageOf: (d: ErrorDetail) => string,
): IntegrationError {
  const first = problems[0];
  const more = problems.length - 1;
  const message = messageOf(first) + (more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '');
  return new IntegrationError(code, message, problems.slice(0, MAX_DETAILS));
}

/**
 * Walks a value the way JSON.stringify does (toJSON first, own enumerable
 * keys) and lists what JSON cannot represent: circular references and BigInts.
 */
function findJsonProblems(value: unknown, root: string): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const ancestors: object[] = [];

  const visit = (input: unknown, key: string, path: string): void => {
    if (problems.length >= MAX_DETAILS) return;
    let v = input;
    if (v !== null && (typeof v === 'object' || typeof v === 'bigint')) {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') v = toJSON.call(v, key);
    }
    if (typeof v === 'bigint') {
      problems.push({
        field: path,
        reason: 'is a BigInt, which JSON cannot represent (convert it to a string or number first)',
      });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (ancestors.includes(v)) {
      problems.push({ field: path, reason: 'is a circular reference (it contains itself)' });
      return;
    }
    ancestors.push(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => visit(item, String(i), childPath(path, i)));
    } else {
      for (const k of Object.keys(v)) visit((v as Record<string, unknown>)[k], k, childPath(path, k));
    }
    ancestors.pop();
  };

  visit(value, '', root);
  return problems;
}

/**
 * Encodes any JSON value. Throws an IntegrationError (code ENCODE_JSON) that
 * names the path of a circular reference or a BigInt, or says that the value
 * has no JSON form at all (undefined, a function).
 */
export function encodeJson(payload: unknown, options: JsonOptions = {}, root = 'payload'): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(payload, null, options.pretty ? 2 : undefined);
  } catch (err) {
    let problems: ErrorDetail[] = [];
    try {
      problems = findJsonProblems(payload, root);
    } catch {
      // a toJSON that throws: fall through to the original error
    }
    if (problems.length === 0) {
      const reason = err instanceof Error ? err.message : String(err);
      problems = [{ field: root, reason: `could not be encoded as JSON: ${reason}` }];
      throw problemsError('ENCODE_JSON', problems, (d) => `${d.field} ${d.reason}`);
    }
    throw problemsError('ENCODE_JSON', problems, (d) =>
      d.reason.startsWith('is a circular')
        ? `${root} contains a circular reference at ${d.field}`
        : `${root} contains a BigInt at ${d.field}, which JSON cannot represent`,
    );
  }
  if (text === undefined) {
    throw new IntegrationError('ENCODE_JSON', `${root} is ${describe(payload)}, which has no JSON form`, [
      { field: root, reason: `is ${describe(payload)}, which has no JSON form` },
    ]);
  }
  return text;
}
