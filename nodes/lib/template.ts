/**
 * Path templates such as `/v1/customers/{{event.data.id}}/notes?lang={{lang}}`:
 * each `{{path}}` is read from the message with lib/path.ts (a leading `msg.`
 * is allowed and ignored) and URL-encoded (encodeURIComponent), so a value can
 * never add a path segment or a query parameter of its own.
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
      problems.push({ field: 'path', reason: 'unbalanced "{{" or "}}": write placeholders as {{event.data.id}}', value: p.literal });
    }
  }
  if (problems.length) {
    throw new IntegrationError('TEMPLATE', 'The path template is not valid', problems);
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
          const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
          reason = `msg.${p.path} is ${kind}, not a plain value`;
        }
        if (reason) {
          missing.push({ field: p.path, rule: p.raw, reason });
          continue;
        }
        out += encodeURIComponent(String(value));
      }
      if (missing.length) {
        const names = missing.map((d) => d.rule).join(', ');
        throw new IntegrationError('TEMPLATE', `The path template needs ${names}`, missing);
      }
      return out;
    },
  };
}

/** One-shot convenience: compile and render. */
export function renderTemplate(source: string, msg: unknown): string {
  return compileTemplate(source).render(msg);
}
