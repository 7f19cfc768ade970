/**
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4): fetches an access token
 * from the token endpoint, caches it, refreshes it shortly before it expires,
 * and never runs two token requests at once (single flight). Pure apart from
 * the HTTP request, which goes through the endpoint's undici dispatcher
 * (lib/http/transport.ts: no redirects, the answer read under the endpoint's
 * size limit, the timeout bounding the whole exchange).
 */
import type { Dispatcher } from 'undici';
import { isResponseTooLarge, undiciTransport, type Transport, type TransportResponse } from './transport';
import { IntegrationError, type ErrorDetail } from '../errors';
import { basicAuthorization } from './auth';

export type TokenAuth = 'body' | 'basic';

/** Seconds assumed when the token response has no expires_in. */
export const DEFAULT_EXPIRES_IN = 3600;
/** The most we refresh early, in seconds (less for short-lived tokens: 10 %). */
export const MAX_SKEW = 60;

export interface OAuth2Options {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  audience?: string;
  /** "body" (default): client_id/client_secret in the form; "basic": HTTP Basic to the token endpoint */
  tokenAuth?: TokenAuth;
  timeoutMs?: number;
  /** the endpoint's dispatcher for the token URL (undici's global one when absent) */
  dispatcher?: Dispatcher;
  keepAlive?: boolean;
  /** the largest token answer read (default 10 MB) */
  maxResponseBytes?: number;
  /** called before each token request; throwing refuses it (the SSRF guard) */
  beforeRequest?: () => void;
  /** the HTTP client (tests) */
  transport?: Transport;
  /** clock in ms (tests) */
  now?: () => number;
  /** told after every token request: ok, or failed with the error */
  onResult?: (ok: boolean, err?: IntegrationError) => void;
}

export interface TokenState {
  accessToken: string;
  tokenType: string;
  /** ms timestamp after which a new token is fetched */
  refreshAt: number;
  /** ms timestamp the server gave (obtained + expires_in) */
  expiresAt: number;
}

/** When to refresh: expires_in minus min(60 s, 10 %); no expires_in → 1 hour. */
export function refreshDelayMs(expiresIn: unknown): number {
  const seconds = expiresInSeconds(expiresIn);
  if (seconds <= 0) return 0;
  const skew = Math.min(MAX_SKEW, seconds * 0.1);
  return Math.max(0, Math.round((seconds - skew) * 1000));
}

/** expires_in as seconds (a number or a numeric string); anything else → 1 hour. */
export function expiresInSeconds(expiresIn: unknown): number {
  const n =
    typeof expiresIn === 'number'
      ? expiresIn
      : typeof expiresIn === 'string' && expiresIn.trim() !== ''
        ? Number(expiresIn)
        : NaN;
  return Number.isFinite(n) ? n : DEFAULT_EXPIRES_IN;
}

/** The token URL without userinfo, query or fragment, for messages. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return 'the token URL';
  }
}

/** Replaces every secret in text by "***" (longest first). */
export function redact(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  const list = secrets
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .sort((a, b) => b.length - a.length);
  for (const s of list) out = out.split(s).join('***');
  return out;
}

/** application/x-www-form-urlencoded as RFC 6749 Appendix B wants it (space as "+"). */
function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

function parseBody(data: unknown, contentType: string): Record<string, unknown> | undefined {
  if (data && typeof data === 'object' && !Buffer.isBuffer(data)) return data as Record<string, unknown>;
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : typeof data === 'string' ? data : '';
  if (text.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? parsed : undefined;
  } catch {
    if (
      /application\/x-www-form-urlencoded/i.test(contentType) ||
      /^[^=&\s]+=[^&]*(&[^=&\s]+=[^&]*)*$/.test(text.trim())
    ) {
      const out: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(text.trim())) out[k] = v;
      return out;
    }
    return undefined;
  }
}

export class OAuth2TokenManager {
  private readonly opts: OAuth2Options;
  private readonly now: () => number;
  private state: TokenState | undefined;
  private inflight: Promise<TokenState> | undefined;
  private controller: AbortController | undefined;
  private closed = false;
  /** token requests made (for status and tests) */
  requests = 0;
  /** the last token request's outcome: undefined before the first */
  lastOk: boolean | undefined;

  constructor(opts: OAuth2Options) {
    this.opts = { tokenAuth: 'body', timeoutMs: 10000, ...opts };
    this.now = opts.now ?? Date.now;
  }

  /** The cached access token, if any (whether or not it is due for refresh). */
  get currentToken(): string | undefined {
    return this.state?.accessToken;
  }

  /** A valid access token: the cached one, or one from the (single) token request. */
  async getToken(): Promise<string> {
    if (this.closed) throw new IntegrationError('ENDPOINT_CLOSED', 'The endpoint has been stopped');
    const s = this.state;
    if (s && this.now() < s.refreshAt) return s.accessToken;
    if (!this.inflight) {
      const flight = this.fetchToken();
      this.inflight = flight;
      const clear = () => {
        if (this.inflight === flight) this.inflight = undefined;
      };
      flight.then(clear, clear);
    }
    return (await this.inflight).accessToken;
  }

  /** Drops the cached token: the next getToken() fetches a new one. */
  invalidate(): void {
    this.state = undefined;
  }

  /** Aborts a token request in flight and forgets the token. */
  close(): void {
    this.closed = true;
    this.state = undefined;
    if (this.controller) this.controller.abort();
    this.controller = undefined;
  }

  private fail(err: IntegrationError): IntegrationError {
    this.lastOk = false;
    this.opts.onResult?.(false, err);
    return err;
  }

  private async fetchToken(): Promise<TokenState> {
    const o = this.opts;
    const where = safeUrl(o.tokenUrl);
    const secrets = [o.clientSecret, o.clientSecret ? formEncode(o.clientSecret) : undefined];
    const form: string[] = ['grant_type=client_credentials'];
    if (o.scope) form.push(`scope=${formEncode(o.scope)}`);
    if (o.audience) form.push(`audience=${formEncode(o.audience)}`);
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    if (o.tokenAuth === 'basic') {
      // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding
      const auth = basicAuthorization(formEncode(o.clientId), formEncode(o.clientSecret));
      headers.Authorization = auth;
      secrets.push(auth, auth.slice(6));
    } else {
      form.push(`client_id=${formEncode(o.clientId)}`, `client_secret=${formEncode(o.clientSecret)}`);
    }
    const controller = new AbortController();
    this.controller = controller;
    this.requests++;
    const started = this.now();
    let res: TransportResponse;
    let timedOut = false;
    const timer = o.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, o.timeoutMs)
      : undefined;
    try {
      o.beforeRequest?.();
      res = await (o.transport ?? undiciTransport)({
        method: 'POST',
        url: o.tokenUrl,
        headers,
        data: Buffer.from(form.join('&'), 'utf8'),
        timeout: o.timeoutMs ?? 0,
        signal: controller.signal,
        dispatcher: o.dispatcher,
        keepAlive: o.keepAlive,
        maxResponseBytes: o.maxResponseBytes,
      });
    } catch (err) {
      if (this.closed) throw new IntegrationError('ENDPOINT_CLOSED', 'The endpoint has been stopped');
      const e = err as { code?: string; message?: string };
      if (isResponseTooLarge(err)) {
        throw this.fail(
          new IntegrationError(
            'RESPONSE_TOO_LARGE',
            `The token answer from ${where} is larger than the endpoint's limit of ${err.limit} bytes`,
            [{ field: 'tokenUrl', reason: err.message }],
          ),
        );
      }
      if (e.code === 'TARGET_BLOCKED') throw this.fail(err as IntegrationError);
      const reason = timedOut
        ? `no answer within ${o.timeoutMs} ms`
        : (e.message || e.code || 'network error') +
          (e.code && !String(e.message).includes(e.code) ? ` (${e.code})` : '');
      throw this.fail(
        new IntegrationError(
          'OAUTH2_TOKEN',
          redact(`The token request to ${where} failed: ${reason}`, secrets),
          [{ field: 'tokenUrl', reason: redact(String(reason), secrets) }],
          { retryable: true },
        ),
      );
    } finally {
      if (timer) clearTimeout(timer);
      if (this.controller === controller) this.controller = undefined;
    }
    const resHeaders = (res.headers ?? {}) as Record<string, unknown>;
    const body = parseBody(res.data, String(resHeaders['content-type'] ?? ''));
    if (res.status < 200 || res.status >= 300) {
      const code = body && typeof body.error === 'string' ? body.error : undefined;
      const description = body && typeof body.error_description === 'string' ? body.error_description : undefined;
      const oauth = [code, description ? `(${description})` : undefined].filter(Boolean).join(' ');
      const message = `The token request to ${where} failed with HTTP ${res.status}${oauth ? `: ${oauth}` : ''}`;
      const details: ErrorDetail[] = [{ field: 'tokenUrl', reason: `HTTP ${res.status}`, value: res.status }];
      if (code) details.push({ field: 'error', reason: redact(code, secrets) });
      if (description) details.push({ field: 'error_description', reason: redact(description, secrets) });
      // the token server being busy or down is worth another attempt; a refused client is not
      const retryable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
      throw this.fail(new IntegrationError('OAUTH2_TOKEN', redact(message, secrets), details, { retryable }));
    }
    const accessToken = body && typeof body.access_token === 'string' ? body.access_token : '';
    if (!accessToken) {
      throw this.fail(
        new IntegrationError('OAUTH2_TOKEN', `The token response from ${where} has no access_token`, [
          { field: 'access_token', reason: 'missing in the token response' },
        ]),
      );
    }
    if (/[\r\n\0]/.test(accessToken)) {
      throw this.fail(
        new IntegrationError('OAUTH2_TOKEN', `The token response from ${where} has an access_token with a line break`, [
          { field: 'access_token', reason: 'contains a line break' },
        ]),
      );
    }
    const tokenType = body && typeof body.token_type === 'string' ? body.token_type : 'Bearer';
    const expiresIn = body ? body.expires_in : undefined;
    const seconds = expiresInSeconds(expiresIn);
    const state: TokenState = {
      accessToken,
      tokenType,
      refreshAt: started + refreshDelayMs(expiresIn),
      expiresAt: started + seconds * 1000,
    };
    if (this.closed) throw new IntegrationError('ENDPOINT_CLOSED', 'The endpoint has been stopped');
    this.state = state;
    this.lastOk = true;
    o.onResult?.(true);
    return state;
  }
}
