/**
 * One dead letter as the integration monitor opens it: the request as it was
 * sent (method, full URL, headers, body) and every attempt in plain words.
 *
 * The request comes from what the queue journaled for the item (durable.ts
 * `StoredItem`): the method, the filled path, the headers the message
 * brought and the body bytes. The node's configured headers are as they are
 * now, the idempotency key as sent; the endpoint's own default headers and
 * its authentication are added at each attempt and are not shown. Everything
 * passes the endpoint's redactor: no credential, token or signing secret
 * reaches the editor. No Node-RED import.
 */
import { REDACTED, type Redactor } from '../http/redact';
import { plainWords } from '../connection-test';
import type { AttemptRecord, DeadLetterEntry, DeadLetterSummary } from './dead-letter-entry';
import { attemptHeaders, isSecretHeader } from './secret-headers';
import { isRecord } from '../rules';

/** Body bytes shown at most. */
export const MAX_BODY_SHOWN = 64 * 1024;

export interface RequestAsSent {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** the body as text (UTF-8), or base64 when it is not text; null when there was none */
  body: string | null;
  bodyEncoding: 'utf8' | 'base64';
  bodyBytes: number;
  /** the body shown is cut at MAX_BODY_SHOWN bytes */
  truncated: boolean;
}

export interface AttemptView extends AttemptRecord {
  /** e.g. "HTTP 500", "host not found (ENOTFOUND)" */
  outcome: string;
}

export interface DeadLetterView extends DeadLetterSummary {
  /** null when the entry's data is not a request this queue journaled */
  request: RequestAsSent | null;
  attemptsShown: AttemptView[];
}

export interface ViewContext {
  /** the endpoint's base URL without credentials (EndpointHandle.label) */
  base: string;
  defaultMethod: string;
  /** the node's configured headers as they are now */
  configHeaders: Record<string, string>;
  idempotencyHeader: string;
  redactor: Redactor;
}

/** a non-null, non-array object (lib/rules/objects.ts) */
const isObj = isRecord;

function stringHeaders(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

export function joinUrl(base: string, path: string): string {
  if (/^https?:\/\//i.test(path)) return path;
  return base.replace(/\/+$/, '') + (path.startsWith('/') ? path : '/' + path);
}

/** The body for showing: text when it is valid UTF-8 without control characters, else base64; cut at `max` bytes. */
export function bodyForShowing(
  raw: Buffer,
  redactor: Redactor,
  max = MAX_BODY_SHOWN,
): Pick<RequestAsSent, 'body' | 'bodyEncoding' | 'truncated'> {
  const truncated = raw.length > max;
  const shown = truncated ? raw.subarray(0, max) : raw;
  const text = shown.toString('utf8');
  const binary = text.includes('\uFFFD') || /[\u0000-\u0008\u000E-\u001F]/.test(text);
  if (binary) return { body: shown.toString('base64'), bodyEncoding: 'base64', truncated };
  return { body: redactor.text(text), bodyEncoding: 'utf8', truncated };
}

/** The request a journaled item was sent as (see the header comment); null when `data` is not one. */
export function requestAsSent(data: unknown, ctx: ViewContext): RequestAsSent | null {
  if (!isObj(data) || !isObj(data.request)) return null;
  const req = data.request;
  if (typeof req.path !== 'string') return null;
  const headers = attemptHeaders(ctx.configHeaders, stringHeaders(req.headers));
  if (typeof data.idempotencyKey === 'string' && ctx.idempotencyHeader)
    headers[ctx.idempotencyHeader] = data.idempotencyKey;
  const raw = typeof req.bodyBase64 === 'string' ? Buffer.from(req.bodyBase64, 'base64') : null;
  const body = raw
    ? bodyForShowing(raw, ctx.redactor)
    : { body: null, bodyEncoding: 'utf8' as const, truncated: false };
  const shown = ctx.redactor.headers(headers);
  for (const k of Object.keys(shown)) if (isSecretHeader(k)) shown[k] = REDACTED;
  return {
    method: typeof req.method === 'string' && req.method ? req.method : ctx.defaultMethod,
    url: ctx.redactor.url(joinUrl(ctx.base, req.path)),
    headers: shown,
    bodyBytes: raw ? raw.length : 0,
    ...body,
  };
}

function codeWords(code: string): string {
  const words = plainWords({ code, message: code });
  return words === code ? code : `${words} (${code})`;
}

/** One attempt in plain words. */
export function attemptOutcome(a: AttemptRecord): string {
  if (a.errorCode && a.statusCode) return `HTTP ${a.statusCode}: ${codeWords(a.errorCode)}`;
  if (a.errorCode) return codeWords(a.errorCode);
  if (a.statusCode) return `HTTP ${a.statusCode}`;
  return 'no answer recorded';
}

export function deadLetterView(entry: DeadLetterEntry, ctx: ViewContext): DeadLetterView {
  const { data, ...summary } = entry;
  return {
    ...summary,
    request: requestAsSent(data, ctx),
    attemptsShown: (entry.history ?? []).map((a) => ({ ...a, outcome: attemptOutcome(a) })),
  };
}
