/**
 * Property paths such as `customer.email`, `items[0].price` or
 * `["first name"]`: parse them once, then read or write them on plain
 * objects. Keys are kept exactly as written (case-sensitive, no trimming).
 *
 * Grammar:
 *   path     := segment ( "." key | "[" index "]" | "[" quoted "]" )*
 *   segment  := key | "[" index "]" | "[" quoted "]"
 *   key      := one or more characters other than . [ ] " ' and whitespace
 *   index    := decimal digits (0 … MAX_INDEX), an array position
 *   quoted   := "…" or '…'; a backslash escapes the quote or a backslash
 *
 * `__proto__`, `prototype` and `constructor` are refused as segments (bare or
 * quoted), so no rule can reach or pollute an object prototype.
 */

export type PathSegment = string | number;

/** The largest array index a path may name (keeps a typo from allocating a huge array). */
export const MAX_INDEX = 100000;

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** Thrown by parsePath/setPath; the message is meant for people. */
export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

function isKeyChar(ch: string): boolean {
  return ch !== '.' && ch !== '[' && ch !== ']' && ch !== '"' && ch !== "'" && !/\s/.test(ch);
}

function checkKey(key: string, path: string): string {
  if (FORBIDDEN.has(key)) {
    throw new PathError(
      `"${key}" is not allowed in a path (${JSON.stringify(path)}): it could change object prototypes`,
    );
  }
  return key;
}

/** Splits a path into keys (strings) and array indexes (numbers). Throws PathError. */
export function parsePath(path: string): PathSegment[] {
  if (typeof path !== 'string') throw new PathError('path must be a string');
  if (path.length === 0) throw new PathError('path is empty');
  const segments: PathSegment[] = [];
  const n = path.length;
  let i = 0;
  let expectKey = true; // at the start or right after a dot

  while (i < n) {
    const ch = path[i];
    if (ch === '[') {
      i++;
      const q = path[i];
      if (q === '"' || q === "'") {
        i++;
        let key = '';
        let closed = false;
        while (i < n) {
          const c = path[i];
          if (c === '\\' && i + 1 < n) {
            key += path[i + 1];
            i += 2;
            continue;
          }
          if (c === q) {
            closed = true;
            i++;
            break;
          }
          key += c;
          i++;
        }
        if (!closed) throw new PathError(`unterminated quoted key in ${JSON.stringify(path)}`);
        if (path[i] !== ']')
          throw new PathError(`expected "]" after the quoted key at position ${i} in ${JSON.stringify(path)}`);
        i++;
        segments.push(checkKey(key, path));
      } else {
        let digits = '';
        while (i < n && path[i] >= '0' && path[i] <= '9') digits += path[i++];
        if (digits === '' || path[i] !== ']') {
          throw new PathError(
            `"[" must hold an array index like [0] or a quoted key like ["a b"] (position ${i} in ${JSON.stringify(path)})`,
          );
        }
        i++;
        const index = Number(digits);
        if (index > MAX_INDEX)
          throw new PathError(`array index ${digits} is larger than ${MAX_INDEX} in ${JSON.stringify(path)}`);
        segments.push(index);
      }
      expectKey = false;
    } else if (ch === '.') {
      if (expectKey) throw new PathError(`empty key before "." at position ${i} in ${JSON.stringify(path)}`);
      i++;
      expectKey = true;
      if (i === n) throw new PathError(`path ends with "." in ${JSON.stringify(path)}`);
      if (path[i] === '[') {
        throw new PathError(
          `"." cannot be followed by "[" at position ${i} in ${JSON.stringify(path)} (write a[0], not a.[0])`,
        );
      }
    } else {
      if (!expectKey) throw new PathError(`expected "." or "[" at position ${i} in ${JSON.stringify(path)}`);
      if (!isKeyChar(ch)) {
        const what = /\s/.test(ch) ? 'a space' : JSON.stringify(ch);
        throw new PathError(
          `${what} at position ${i} in ${JSON.stringify(path)}: quote keys with spaces or special characters, e.g. ["first name"]`,
        );
      }
      let key = '';
      while (i < n && isKeyChar(path[i])) key += path[i++];
      segments.push(checkKey(key, path));
      expectKey = false;
      if (i < n && path[i] !== '.' && path[i] !== '[') {
        const c = path[i];
        const what = /\s/.test(c) ? 'a space' : JSON.stringify(c);
        throw new PathError(
          `${what} at position ${i} in ${JSON.stringify(path)}: quote keys with spaces or special characters, e.g. ["first name"]`,
        );
      }
    }
  }
  return segments;
}

/** Writes a path back in its canonical form (for messages). */
export function formatPath(segments: PathSegment[]): string {
  let out = '';
  segments.forEach((seg, idx) => {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (seg.length > 0 && [...seg].every(isKeyChar)) out += (idx === 0 ? '' : '.') + seg;
    else out += `[${JSON.stringify(seg)}]`;
  });
  return out;
}

function toSegments(path: string | PathSegment[]): PathSegment[] {
  if (Array.isArray(path)) {
    for (const seg of path) {
      if (typeof seg === 'string' && FORBIDDEN.has(seg)) checkKey(seg, formatPath(path));
    }
    return path;
  }
  return parsePath(path);
}

function hasOwn(obj: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * Reads a path; `undefined` when any part is missing. Only own properties are
 * read, so `toString` and friends are never picked up from prototypes.
 */
export function getPath(obj: unknown, path: string | PathSegment[]): unknown {
  const segments = toSegments(path);
  let cur: unknown = obj;
  for (const seg of segments) {
    if (cur === null || (typeof cur !== 'object' && typeof cur !== 'function')) return undefined;
    const key = typeof seg === 'number' ? String(seg) : seg;
    if (!hasOwn(cur as object, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function defineValue(target: Record<string, unknown> | unknown[], key: PathSegment, value: unknown): void {
  // defineProperty never invokes setters (and cannot reach a prototype)
  Object.defineProperty(target, typeof key === 'number' ? String(key) : key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/**
 * Writes a path, creating objects (for keys) and arrays (for [n]) on the way.
 * Throws PathError when an existing value in the way is not an object/array.
 */
export function setPath(obj: Record<string, unknown> | unknown[], path: string | PathSegment[], value: unknown): void {
  const segments = toSegments(path);
  if (segments.length === 0) throw new PathError('path is empty');
  if (obj === null || typeof obj !== 'object') throw new PathError('can only set a path on an object or array');
  let cur: Record<string, unknown> | unknown[] = obj;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i];
    const key = typeof seg === 'number' ? String(seg) : seg;
    let next: unknown = hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : undefined;
    if (next === undefined || next === null) {
      next = typeof segments[i + 1] === 'number' ? [] : {};
      defineValue(cur, seg, next);
    } else if (typeof next !== 'object') {
      throw new PathError(
        `cannot set ${formatPath(segments)}: ${formatPath(segments.slice(0, i + 1))} already holds a ${typeof next}`,
      );
    }
    cur = next as Record<string, unknown> | unknown[];
  }
  defineValue(cur, segments[segments.length - 1], value);
}

export type PathProblem =
  | { problem: 'empty'; reason: string }
  | { problem: 'forbidden'; key: string; reason: string }
  | { problem: 'syntax'; reason: string };

/** Why `path` is not a usable property path (what parsePath would throw), or undefined. */
export function pathProblem(path: unknown): PathProblem | undefined {
  if (typeof path !== 'string' || path.trim() === '') return { problem: 'empty', reason: 'path is empty' };
  try {
    const segments = parsePath(path);
    void segments;
    return undefined;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const forbidden = /^"([^"]+)" is not allowed in a path/.exec(reason);
    if (forbidden && FORBIDDEN.has(forbidden[1])) return { problem: 'forbidden', key: forbidden[1], reason };
    return { problem: 'syntax', reason };
  }
}
