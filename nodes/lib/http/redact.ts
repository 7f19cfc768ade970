/**
 * Keeps credentials out of logs, statuses and error messages.
 *
 * A Redactor knows the secret values in play (API keys, passwords, tokens,
 * the signing secret) and the header / query-parameter names that carry
 * them. It replaces each secret with "[redacted]" wherever it appears in a
 * string (also URL- and form-encoded), blanks the values of sensitive
 * headers and query parameters, and the user information of a URL.
 */

import type { EndpointHandle } from './types';

export const REDACTED = '[redacted]';

/** Headers whose values are always credentials. */
export const SENSITIVE_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/** Query parameters whose values are credentials in every API we know. */
export const SENSITIVE_PARAMS: readonly string[] = [
  'access_token',
  'id_token',
  'refresh_token',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'token',
  'secret',
  'client_secret',
  'password',
  'passwd',
  'signature',
  'sig',
];

/**
 * Headers whose configured values are not secret. Every other header value
 * configured on an endpoint or a node is treated as a secret: Node-RED
 * substitutes `${ENV}` references before a node sees its configuration, so
 * a value that came from the environment cannot be told from a literal.
 */
export const NON_SECRET_HEADERS: readonly string[] = [
  'content-type',
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'content-language',
  'content-encoding',
  'user-agent',
  'cache-control',
  'pragma',
  'prefer',
  'idempotency-key',
];

/** Configured header values shorter than this are not treated as secrets (too short to be a credential, too common to redact). */
export const MIN_HEADER_SECRET = 6;

/** True when a header's configured value is not a secret (Content-Type, Accept, *-Version …). */
export function isNonSecretHeader(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return NON_SECRET_HEADERS.includes(lower) || /(^|-)version$/.test(lower);
}

/**
 * The values of configured headers to treat as secrets: every value except
 * those of non-secret headers and very short ones; a value from an
 * explicit `${VAR}` (`fromEnv`) counts whatever its length.
 */
export function configuredHeaderSecrets(
  entries: Iterable<{ name?: unknown; value?: unknown; fromEnv?: boolean }>,
): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const name = typeof e?.name === 'string' ? e.name : '';
    const value = e?.value === undefined || e?.value === null ? '' : String(e.value).trim();
    if (!name || value === '') continue;
    if (e.fromEnv || (!isNonSecretHeader(name) && value.length >= MIN_HEADER_SECRET)) out.push(value);
  }
  return out;
}

/** Secrets shorter than this are still redacted, but only as whole words (so "[redacted]" stays readable). */
const SHORT_SECRET = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function variants(secret: string): string[] {
  const out = new Set<string>([secret]);
  try {
    const uri = encodeURIComponent(secret);
    out.add(uri);
    out.add(uri.replace(/%20/g, '+'));
  } catch {
    // a lone surrogate cannot be URI-encoded; the raw value is still covered
  }
  const trimmed = secret.trim();
  if (trimmed) out.add(trimmed);
  // a Standard Webhooks secret: the key itself is the base64 after the prefix
  if (trimmed.startsWith('whsec_') && trimmed.length > 6 + SHORT_SECRET) out.add(trimmed.slice(6));
  return [...out].filter((v) => v.length > 0);
}

export interface RedactorOptions {
  /** secret values that must never appear */
  secrets?: Iterable<string | undefined | null>;
  /** extra header and query-parameter names whose values are secret (case-insensitive) */
  sensitiveNames?: Iterable<string | undefined | null>;
}

export class Redactor {
  private readonly pattern: RegExp | undefined;
  private readonly names: Set<string>;

  constructor(options: RedactorOptions = {}) {
    const values = new Set<string>();
    for (const s of options.secrets ?? []) {
      if (typeof s === 'string' && s.length > 0) for (const v of variants(s)) values.add(v);
    }
    const sorted = [...values].sort((a, b) => b.length - a.length);
    const parts = sorted.map((v) =>
      v.length < SHORT_SECRET ? `(?<![A-Za-z0-9])${escapeRegExp(v)}(?![A-Za-z0-9])` : escapeRegExp(v),
    );
    this.pattern = parts.length ? new RegExp(parts.join('|'), 'g') : undefined;
    this.names = new Set<string>();
    for (const n of options.sensitiveNames ?? []) {
      if (typeof n === 'string' && n.trim() !== '') this.names.add(n.trim().toLowerCase());
    }
  }

  /** True for a header name whose value must never be shown. */
  isSensitiveHeader(name: string): boolean {
    const lower = name.toLowerCase();
    return SENSITIVE_HEADERS.includes(lower) || this.names.has(lower);
  }

  /** True for a query-parameter name whose value must never be shown. */
  isSensitiveParam(name: string): boolean {
    const lower = name.toLowerCase();
    return SENSITIVE_PARAMS.includes(lower) || this.names.has(lower);
  }

  /** Replaces every secret value in a string. */
  text(value: unknown): string {
    const s = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
    return this.pattern ? s.replace(this.pattern, REDACTED) : s;
  }

  /** A URL fit for a log: no user information, no sensitive query values, no secret anywhere. */
  url(value: string): string {
    let text = String(value);
    // user information: scheme://user:password@host
    text = text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#@]*)@/, (_m, scheme: string) => `${scheme}${REDACTED}@`);
    const q = text.indexOf('?');
    if (q >= 0) {
      const hash = text.indexOf('#', q);
      const query = hash >= 0 ? text.slice(q + 1, hash) : text.slice(q + 1);
      const rest = hash >= 0 ? text.slice(hash) : '';
      const redactedQuery = query
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          if (eq < 0) return pair;
          let name = pair.slice(0, eq);
          try {
            name = decodeURIComponent(name.replace(/\+/g, ' '));
          } catch {
            // keep the raw name
          }
          return this.isSensitiveParam(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
        })
        .join('&');
      text = text.slice(0, q + 1) + redactedQuery + rest;
    }
    return this.text(text);
  }

  /**
   * A third party's response headers fit for a message: the values of
   * credential headers (Authorization, the API-key header …) blanked, every
   * known secret replaced elsewhere; lists stay lists.
   */
  responseHeaders(headers: Record<string, string | string[]> | undefined | null): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    if (!headers || typeof headers !== 'object') return out;
    for (const name of Object.keys(headers)) {
      const v = headers[name];
      if (v === undefined || v === null) continue;
      const lower = name.toLowerCase();
      const blank = lower !== 'set-cookie' && lower !== 'cookie' && this.isSensitiveHeader(name);
      const value = blank ? REDACTED : Array.isArray(v) ? v.map((x) => this.text(x)) : this.text(v);
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  /** The bytes with every secret replaced (as UTF-8 text); the same Buffer when none occurs. */
  bytes(raw: Buffer): Buffer {
    if (!this.pattern || raw.length === 0) return raw;
    const text = raw.toString('utf8');
    const clean = this.text(text);
    return clean === text ? raw : Buffer.from(clean, 'utf8');
  }

  /** A copy of the headers with sensitive values blanked and secrets replaced elsewhere. */
  headers(headers: Record<string, unknown> | undefined | null): Record<string, string> {
    const out: Record<string, string> = {};
    if (!headers || typeof headers !== 'object') return out;
    for (const name of Object.keys(headers)) {
      const v = headers[name];
      if (v === undefined || v === null) continue;
      out[name] = this.isSensitiveHeader(name) ? REDACTED : this.text(Array.isArray(v) ? v.join(', ') : v);
    }
    return out;
  }
}

/**
 * Builds the default redactor for an endpoint (and the signing key, the
 * sender's configured secrets, and credential headers of the request).
 */
export function redactorFor(
  endpoint: EndpointHandle,
  signingKey?: string | Buffer,
  extra: string[] = [],
  requestHeaders?: Record<string, string>,
): Redactor {
  const secrets: string[] = [...extra];
  try {
    secrets.push(...(endpoint.secrets?.() ?? []));
  } catch {
    // an endpoint that cannot list its secrets still gets header redaction
  }
  if (typeof signingKey === 'string') secrets.push(signingKey);
  else if (Buffer.isBuffer(signingKey)) secrets.push(signingKey.toString('base64'));
  let names: string[] = [];
  try {
    names = endpoint.sensitiveNames?.() ?? [];
  } catch {
    names = [];
  }
  if (requestHeaders) {
    // a credential that came with the message (msg.headers.Authorization …) is a secret too
    const probe = new Redactor({ sensitiveNames: names });
    for (const [name, value] of Object.entries(requestHeaders)) {
      if (probe.isSensitiveHeader(name) && value) {
        secrets.push(value);
        const space = value.indexOf(' ');
        if (space > 0 && value.length - space > MIN_HEADER_SECRET) secrets.push(value.slice(space + 1)); // the token after "Bearer "
      }
    }
  }
  return new Redactor({ secrets, sensitiveNames: names });
}

/** The endpoint's secrets as one string, to notice when they change (a new token). */
export function secretsKey(endpoint: EndpointHandle): string {
  try {
    return (endpoint.secrets?.() ?? []).join('\u0000');
  } catch {
    return '';
  }
}
