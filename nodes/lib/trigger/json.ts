/**
 * Parsing an event body as JSON, safely: the nesting depth is measured on the
 * raw text before JSON.parse runs, so a body of 100,000 nested brackets is
 * refused with a reason instead of exhausting the stack later (cloning,
 * debug, encoders all recurse).
 */
import { IntegrationError } from '../errors';

/** the deepest nesting of arrays and objects an event body may have */
export const MAX_JSON_DEPTH = 64;

/**
 * The nesting depth of a JSON text (brackets outside strings), counting no
 * further than `limit + 1`: linear, no recursion, never throws.
 */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return max;
}

/**
 * Parses a body as JSON (UTF-8, a leading BOM allowed). Throws an
 * IntegrationError: INVALID_JSON when it is empty or not JSON, JSON_TOO_DEEP
 * when it nests deeper than `maxDepth`.
 */
export function parseJsonBody(body: Buffer | string, maxDepth = MAX_JSON_DEPTH): unknown {
  let text = Buffer.isBuffer(body) ? body.toString('utf8') : String(body);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') {
    throw new IntegrationError('INVALID_JSON', 'the body is empty', [
      { field: 'body', reason: 'expected a JSON object' },
    ]);
  }
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new IntegrationError('JSON_TOO_DEEP', 'the body nests too deeply', [
      { field: 'body', reason: `arrays and objects nest more than ${maxDepth} levels deep` },
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new IntegrationError('INVALID_JSON', 'the body is not valid JSON', [
      { field: 'body', reason: reason.slice(0, 200) },
    ]);
  }
}
