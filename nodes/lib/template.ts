/**
 * Path templates such as `/v1/customers/{{event.data.id}}/notes?lang={{lang}}`:
 * each `{{path}}` is read from the message with lib/path.ts (a leading `msg.`
 * is allowed and ignored) and URL-encoded (encodeURIComponent), so a value can
 * never add a path segment or a query parameter of its own.
 *
 * A value can never change WHICH path is called: `/` `\` `?` `#` are
 * encoded, and a path segment that a value turns into a dot segment (`.` or
 * `..`, also written `%2e`, which URL parsers resolve just the same) is
 * refused (TEMPLATE), since `/v1/customers/{{id}}/refunds` with id `..` would
 * otherwise call `/v1/refunds`. Dots inside a segment (`v1.2`, `...`) are
 * ordinary characters.
 *
 * A placeholder whose value is missing, null, empty, or not a plain value
 * (string, number, boolean) is an error that names the placeholder; every
 * such problem is reported at once (IntegrationError code TEMPLATE).
 */
import { IntegrationError, type ErrorDetail } from './errors';
import { getPath, parsePath, type PathSegment } from './path';

interface Part {
  literal?: string;
  /** the placeholder as written, e.g. "{{event.data.id}}" */
  raw?: string;
  /** the path inside the braces, trimmed */
  path?: string;
  segments?: PathSegment[];
}

export interface CompiledTemplate {
  readonly source: string;
  /** the placeholder paths, in order */
  readonly placeholders: string[];
  /** fills in the placeholders from `msg`; throws IntegrationError TEMPLATE */
  render(msg: unknown): string;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/** "." or "..", in any of the spellings a URL parser resolves (WHATWG URL: "%2e" counts as a dot). */
export function isDotSegment(segment: string): boolean {
  const s = segment.toLowerCase().replace(/%2e/g, '.');
  return s === '.' || s === '..';
}

/** The path part (before "?" or "#") of a URL path, split into segments. */
function pathSegments(text: string): string[] {
  const end = text.search(/[?#]/);
  return (end >= 0 ? text.slice(0, end) : text).split('/');
}

/** Marks a placeholder in the template's own segments: never equal to rendered text. */
const HOLE = '\u0000';

/** Parses a template once; throws IntegrationError TEMPLATE for a malformed one. */
export function compileTemplate(source: string | undefined | null): CompiledTemplate {
  const text = typeof source === 'string' ? source : '';
  const parts: Part[] = [];
  const problems: ErrorDetail[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const index = m.index ?? 0;
    if (index > last) parts.push({ literal: text.slice(last, index) });
    const raw = m[0];
    let path = m[1].trim();
    if (path.startsWith('msg.')) path = path.slice(4);
    try {
      parts.push({ raw, path, segments: parsePath(path) });
    } catch (err) {
      problems.push({ field: 'path', rule: raw, reason: (err as Error).message });
    }
    last = index + raw.length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  for (const p of parts) {
    if (p.literal !== undefined && (p.literal.includes('{{') || p.literal.includes('}}'))) {
      problems.push({
        field: 'path',
        reason: 'unbalanced "{{" or "}}": write placeholders as {{event.data.id}}',
        value: p.literal,
      });
    }
  }
  if (problems.length) {
    throw new IntegrationError('TEMPLATE', 'The path template is not valid', problems);
  }

  // the template's path segments, placeholders marked: a rendered segment may be a dot segment only where the template wrote one
  const shape = pathSegments(parts.map((p) => (p.literal !== undefined ? p.literal : HOLE)).join(''));
  const holesIn = shape.map((seg) => seg.includes(HOLE));
  const placeholdersIn: string[][] = [];
  {
    let seg = 0;
    let inPath = true;
    for (const p of parts) {
      if (p.literal !== undefined) {
        const cut = p.literal.search(/[?#]/);
        const pathText = cut >= 0 ? p.literal.slice(0, cut) : p.literal;
        if (inPath) seg += pathText.split('/').length - 1;
        if (cut >= 0) inPath = false;
      } else if (inPath) {
        (placeholdersIn[seg] ??= []).push(p.raw as string);
      }
    }
  }

  return {
    source: text,
    placeholders: parts.filter((p) => p.path !== undefined).map((p) => p.path as string),
    render(msg: unknown): string {
      let out = '';
      const missing: ErrorDetail[] = [];
      for (const p of parts) {
        if (p.literal !== undefined) {
          out += p.literal;
          continue;
        }
        const value = getPath(msg, p.segments as PathSegment[]);
        let reason: string | undefined;
        if (value === undefined || value === null) reason = `msg.${p.path} is not set`;
        else if (value === '') reason = `msg.${p.path} is empty`;
        else if (typeof value === 'number' && !Number.isFinite(value)) reason = `msg.${p.path} is not a finite number`;
        else if (!['string', 'number', 'boolean', 'bigint'].includes(typeof value)) {
          const kind = Array.isArray(value)
            ? 'an array'
            : typeof value === 'object'
              ? 'an object'
              : `a ${typeof value}`;
          reason = `msg.${p.path} is ${kind}, not a plain value`;
        }
        if (reason) {
          missing.push({ field: p.path, rule: p.raw, reason });
          continue;
        }
        try {
          out += encodeURIComponent(String(value));
        } catch {
          missing.push({
            field: p.path,
            rule: p.raw,
            reason: `msg.${p.path} holds a lone surrogate (broken UTF-16), which no URL can carry`,
          });
        }
      }
      if (missing.length) {
        const names = missing.map((d) => d.rule).join(', ');
        throw new IntegrationError('TEMPLATE', `The path template needs ${names}`, missing);
      }
      const segments = pathSegments(out);
      const dots: ErrorDetail[] = [];
      segments.forEach((seg, i) => {
        if (holesIn[i] && isDotSegment(seg)) {
          const names = (placeholdersIn[i] ?? []).join('');
          dots.push({
            field: 'path',
            rule: names,
            reason: `${names} gives the path segment "${seg}", which would change which path is called`,
            value: seg,
          });
        }
      });
      if (dots.length) {
        throw new IntegrationError(
          'TEMPLATE',
          'A value in the path template would change which path is called ("." or "..")',
          dots,
        );
      }
      return out;
    },
  };
}

/** One-shot convenience: compile and render. */
export function renderTemplate(source: string, msg: unknown): string {
  return compileTemplate(source).render(msg);
}
