/**
 * Turns a response body (the raw bytes) into what goes on msg.payload,
 * according to its Content-Type:
 *
 *   application/json, *+json                 → parsed JSON
 *   application/xml, text/xml, *+xml         → object via xml2js (explicitArray: false)
 *   application/x-www-form-urlencoded        → object (a repeated name gives an array)
 *   text/*, or any type with a charset       → string
 *   no Content-Type                          → string when the bytes are UTF-8 text, else Buffer
 *   anything else (octet-stream, image/* …)  → Buffer
 *
 * A body that does not parse as its type claims is returned as text, with
 * the reason in `parseError`: a successful delivery is never failed because
 * of a malformed answer. An empty body is "".
 */
import type * as Xml2js from 'xml2js';

let xml2jsModule: typeof Xml2js | undefined;
/** xml2js is loaded for the first XML answer: a flow whose partners answer JSON never pays its start time. */
function xml2js(): typeof Xml2js {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  xml2jsModule ??= require('xml2js') as typeof Xml2js;
  return xml2jsModule;
}

export type BodyFormat = 'json' | 'xml' | 'form' | 'text' | 'binary' | 'empty';

export interface ParsedBody {
  value: unknown;
  format: BodyFormat;
  /** set when the body did not parse as its Content-Type said */
  parseError?: string;
}

export interface MediaType {
  /** lower-case type/subtype without parameters, "" when absent */
  type: string;
  /** lower-case charset parameter, when given */
  charset?: string;
}

export function parseContentType(header: unknown): MediaType {
  const text = Array.isArray(header) ? String(header[0] ?? '') : typeof header === 'string' ? header : '';
  const [type, ...params] = text.split(';');
  const result: MediaType = { type: type.trim().toLowerCase() };
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() === 'charset') {
      result.charset = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
    }
  }
  return result;
}

export function formatOf(media: MediaType): BodyFormat {
  const t = media.type;
  if (t === 'application/json' || t.endsWith('+json') || t === 'text/json') return 'json';
  if (t === 'application/xml' || t === 'text/xml' || t.endsWith('+xml')) return 'xml';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  if (t.startsWith('text/') || media.charset) return 'text';
  if (t === 'application/javascript' || t === 'application/ecmascript') return 'text';
  return 'binary';
}

/** Decodes bytes in the given charset (UTF-8 when unknown), without a byte-order mark. */
export function decodeText(body: Buffer, charset?: string): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset || 'utf-8');
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  return decoder.decode(body); // TextDecoder drops a leading BOM by default
}

function looksLikeText(body: Buffer): boolean {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    // control characters other than tab, CR, LF mean binary
    return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
  } catch {
    return false;
  }
}

/** Form fields as a plain object; a name given more than once collects an array. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const existing = Object.prototype.hasOwnProperty.call(out, name) ? out[name] : undefined;
    const next = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    // defineProperty: a field called __proto__ is data, never a prototype
    Object.defineProperty(out, name, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export async function parseResponseBody(body: Buffer | undefined | null, contentType?: unknown): Promise<ParsedBody> {
  const bytes = body ?? Buffer.alloc(0);
  if (bytes.length === 0) return { value: '', format: 'empty' };
  const media = parseContentType(contentType);
  if (media.type === '') {
    return looksLikeText(bytes)
      ? { value: decodeText(bytes), format: 'text' }
      : { value: Buffer.from(bytes), format: 'binary' };
  }
  const format = formatOf(media);
  if (format === 'binary') return { value: Buffer.from(bytes), format };
  const text = decodeText(bytes, media.charset);
  switch (format) {
    case 'json':
      try {
        return { value: JSON.parse(text), format };
      } catch (err) {
        return { value: text, format: 'text', parseError: `not valid JSON: ${(err as Error).message}` };
      }
    case 'xml':
      try {
        return { value: await xml2js().parseStringPromise(text, { explicitArray: false }), format };
      } catch (err) {
        return {
          value: text,
          format: 'text',
          parseError: `not valid XML: ${String((err as Error).message).split('\n')[0]}`,
        };
      }
    case 'form':
      return { value: parseForm(text), format };
    default:
      return { value: text, format: 'text' };
  }
}

/** The start of a body as text, for error details (callers redact it). */
export function bodyExcerpt(body: Buffer | undefined | null, contentType?: unknown, max = 500): string {
  if (!body || body.length === 0) return '';
  const media = parseContentType(contentType);
  // decode a little more than needed: max characters can take up to 4 bytes each
  const text = decodeText(body.subarray(0, max * 4), media.charset);
  return Array.from(text).slice(0, max).join('');
}

/** Response headers as a plain object with lower-case names. */
export function plainHeaders(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!headers || typeof headers !== 'object') return out;
  const source =
    typeof (headers as { toJSON?: unknown }).toJSON === 'function'
      ? ((headers as { toJSON: () => Record<string, unknown> }).toJSON() as Record<string, unknown>)
      : (headers as Record<string, unknown>);
  for (const name of Object.keys(source)) {
    const v = source[name];
    if (v === undefined || v === null) continue;
    const value = Array.isArray(v) ? v.map(String) : String(v);
    Object.defineProperty(out, name.toLowerCase(), { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A transport's body as bytes. */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data === undefined || data === null) return Buffer.alloc(0);
  return Buffer.from(JSON.stringify(data), 'utf8');
}
