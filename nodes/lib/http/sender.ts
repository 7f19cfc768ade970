/**
 * What a sending node hands the delivery: its headers (node headers, then
 * msg.headers, names compared without case, problems collected) and the
 * exact body bytes for msg.payload. Pure; no I/O.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import type { HttpMethod } from './types';
import { isHeaderName, isHeaderValue } from '../rules';

/** What to send; `body` is the exact bytes (null: none). */
export interface DeliveryRequest {
  /** undefined: the endpoint's default method */
  method?: HttpMethod;
  /** path (and query) relative to the endpoint, already templated */
  path: string;
  /** sender headers: node headers < msg headers, content type included */
  headers: Record<string, string>;
  body: Buffer | null;
}

export interface HeaderEntry {
  name?: unknown;
  value?: unknown;
}

/** Set by the HTTP client from the request itself; a stale copy from msg.headers would break it. */
export const DROPPED_HEADERS: readonly string[] = [
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
];

/** Looks a header up regardless of case; returns the name as stored. */
export function findHeader(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((k) => k.toLowerCase() === lower);
}

/** Sets a header, replacing any spelling of the same name. */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const existing = findHeader(headers, name);
  if (existing !== undefined) delete headers[existing];
  headers[name] = value;
}

function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v)))
    return value.join(', ');
  return undefined;
}

/**
 * Merges the node's header table and (optionally) msg.headers, the latter
 * winning, names compared without case. Problems (bad names, values that are
 * objects or hold line breaks) are collected; the caller fails the message
 * with all of them (code INVALID_HEADER).
 */
export function buildSenderHeaders(
  nodeHeaders: HeaderEntry[] | undefined,
  msgHeaders: unknown,
): { headers: Record<string, string>; problems: ErrorDetail[] } {
  const headers: Record<string, string> = {};
  const problems: ErrorDetail[] = [];
  const add = (name: string, value: unknown, where: string) => {
    if (!isHeaderName(name)) {
      problems.push({ field: name, rule: where, reason: 'is not a valid header name' });
      return;
    }
    if (DROPPED_HEADERS.includes(name.toLowerCase())) return;
    const text = headerText(value);
    if (text === undefined) {
      if (value !== undefined && value !== null)
        problems.push({ field: name, rule: where, reason: 'the value must be text, a number or a boolean' });
      return;
    }
    if (!isHeaderValue(text)) {
      problems.push({
        field: name,
        rule: where,
        reason: 'the value holds a line break or a character HTTP headers cannot carry',
      });
      return;
    }
    setHeader(headers, name, text);
  };
  (Array.isArray(nodeHeaders) ? nodeHeaders : []).forEach((h, i) => {
    const name = typeof h?.name === 'string' ? h.name.trim() : '';
    if (name === '') return;
    add(name, h.value ?? '', `header ${i + 1}`);
  });
  if (msgHeaders && typeof msgHeaders === 'object' && !Array.isArray(msgHeaders)) {
    for (const name of Object.keys(msgHeaders)) add(name, (msgHeaders as Record<string, unknown>)[name], 'msg.headers');
  }
  return { headers, problems };
}

/**
 * The bytes to send for msg.payload: a string as UTF-8, a Buffer as it is,
 * anything else as JSON (content-type application/json unless one is given).
 * GET, and a payload of undefined or null, send no body.
 */
export function encodeBody(payload: unknown, method: HttpMethod, headers: Record<string, string>): Buffer | null {
  if (method === 'GET' || payload === undefined || payload === null) return null;
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new IntegrationError('INVALID_PAYLOAD', 'msg.payload cannot be sent as JSON', [
      { field: 'payload', reason: (err as Error).message },
    ]);
  }
  if (json === undefined) {
    throw new IntegrationError('INVALID_PAYLOAD', 'msg.payload cannot be sent as JSON', [
      { field: 'payload', reason: `a ${typeof payload} has no JSON form` },
    ]);
  }
  if (findHeader(headers, 'content-type') === undefined) headers['content-type'] = 'application/json';
  return Buffer.from(json, 'utf8');
}
