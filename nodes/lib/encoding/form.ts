/**
 * application/x-www-form-urlencoded with bracket nesting, exactly as Stripe
 * reads it:
 *
 *   {amount: 1000, metadata: {order_id: "6735"}}   → amount=1000&metadata[order_id]=6735
 *   {items: [{price: "p_1", quantity: 2}]}          → items[0][price]=p_1&items[0][quantity]=2
 *   {expand: ["customer", "invoice"]}               → expand[]=customer&expand[]=invoice
 *
 * Written by hand because qs cannot mix `[]` for arrays of scalars with
 * `[0]` for arrays of objects. Brackets that give the structure are written
 * literally (as Stripe's documentation shows them); everything else is
 * encoded per the WHATWG URL standard (space → "+", UTF-8 percent-encoding of
 * all but A–Z a–z 0–9 * - . _).
 */
import type { ErrorDetail } from '../errors';
import { childPath, describe, isPlainObject, problemsError, MAX_DETAILS } from './json';

/** the deepest nesting of objects and arrays form-encoded (deeper payloads are refused, not overflowing the stack) */
export const MAX_FORM_NESTING = 200;

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

const SAFE = /^[A-Za-z0-9*\-._]$/;

/** Form-encodes one key or value; `keepBrackets` leaves [ and ] as they are (for keys). */
export function formEscape(text: string, keepBrackets = false): string {
  let out = '';
  for (const ch of text) {
    if (SAFE.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else if (keepBrackets && (ch === '[' || ch === ']')) out += ch;
    else {
      for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Encodes a plain object. null and undefined values are left out; an empty
 * string is kept (`key=`, which is how Stripe unsets a field); empty arrays
 * and objects give no pairs. Throws an IntegrationError (code ENCODE_FORM)
 * naming the path of every problem.
 */
export function encodeForm(payload: unknown, root = 'payload'): string {
  if (!isPlainObject(payload)) {
    throw problemsError(
      'ENCODE_FORM',
      [{ field: root, reason: `is ${describe(payload)}; form encoding needs an object of name: value pairs` }],
      (d) => `${d.field} ${d.reason}`,
    );
  }
  const problems: ErrorDetail[] = [];
  const pairs: Array<[string, string]> = [];
  const ancestors: object[] = [];
  const problem = (field: string, reason: string): void => {
    if (problems.length < MAX_DETAILS) problems.push({ field, reason });
  };

  const checkText = (s: string, path: string, what: string): boolean => {
    if (LONE_SURROGATE.test(s)) {
      problem(path, `${what} contains a lone surrogate, which is not valid Unicode and cannot be UTF-8 encoded`);
      return false;
    }
    return true;
  };

  const scalar = (value: unknown, path: string): string | undefined => {
    switch (typeof value) {
      case 'string':
        return checkText(value, path, 'the value') ? value : undefined;
      case 'number':
        if (!Number.isFinite(value)) {
          problem(path, `is ${value}, which is not a finite number`);
          return undefined;
        }
        return String(value);
      case 'bigint':
        return String(value);
      case 'boolean':
        return value ? 'true' : 'false';
    }
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) {
        problem(path, 'is an invalid Date');
        return undefined;
      }
      return value.toISOString();
    }
    problem(path, `is ${describe(value)}, which cannot be form-encoded`);
    return undefined;
  };

  const isScalarLike = (v: unknown): boolean => !isPlainObject(v) && !Array.isArray(v);

  const visit = (key: string, value: unknown, path: string): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      if (ancestors.includes(value)) {
        problem(path, 'is a circular reference (it contains itself)');
        return;
      }
      if (ancestors.length > MAX_FORM_NESTING) {
        problem(path, `nests more than ${MAX_FORM_NESTING} levels deep`);
        return;
      }
      ancestors.push(value);
      const indexed = value.some((entry) => isPlainObject(entry));
      value.forEach((entry, i) => {
        const p = childPath(path, i);
        if (Array.isArray(entry)) {
          problem(p, 'is an array inside an array, which form encoding cannot express');
        } else if (indexed) {
          visit(`${key}[${i}]`, entry, p);
        } else if (entry !== null && entry !== undefined && isScalarLike(entry)) {
          const s = scalar(entry, p);
          if (s !== undefined) pairs.push([`${key}[]`, s]);
        }
      });
      ancestors.pop();
      return;
    }
    if (isPlainObject(value)) {
      if (ancestors.includes(value)) {
        problem(path, 'is a circular reference (it contains itself)');
        return;
      }
      if (ancestors.length > MAX_FORM_NESTING) {
        problem(path, `nests more than ${MAX_FORM_NESTING} levels deep`);
        return;
      }
      ancestors.push(value);
      for (const k of Object.keys(value)) visitKey(key, k, value[k], childPath(path, k));
      ancestors.pop();
      return;
    }
    const s = scalar(value, path);
    if (s !== undefined) pairs.push([key, s]);
  };

  const visitKey = (prefix: string | undefined, k: string, value: unknown, path: string): void => {
    if (k === '') {
      problem(path, 'has an empty name, which form encoding cannot express');
      return;
    }
    if (k.includes('[') || k.includes(']')) {
      problem(path, `has a name with square brackets (${JSON.stringify(k)}), which would be read as nesting`);
      return;
    }
    if (!checkText(k, path, 'the name')) return;
    visit(prefix === undefined ? k : `${prefix}[${k}]`, value, path);
  };

  ancestors.push(payload);
  for (const k of Object.keys(payload)) visitKey(undefined, k, payload[k], childPath(root, k));

  if (problems.length > 0) throw problemsError('ENCODE_FORM', problems, (d) => `${d.field} ${d.reason}`);
  return pairs.map(([k, v]) => `${formEscape(k, true)}=${formEscape(v)}`).join('&');
}
