/**
 * The endpoint's address: `${VAR}` / `${VAR:-default}` substitution anywhere
 * in the base URL, a port override, joining a sender's path onto the base,
 * appending a query parameter, and a label without credentials. Pure.
 *
 * Node-RED substitutes a property only when its whole value is `${VAR}`, and
 * never knows `${VAR:-default}`; this lets a flow say
 * `${STRIPE_API_URL:-https://api.stripe.com}/v1`.
 */
import { IntegrationError } from '../errors';
import { ENDPOINT_NUMBERS, ENV_PLACEHOLDER, hasEnvPlaceholder, httpUrlProblem, readNumber } from '../rules';

/** `${NAME}` or `${NAME:-default}` (the default may be empty and holds no `}`): lib/rules/env.ts */
const PLACEHOLDER = ENV_PLACEHOLDER;

export interface Substitution {
  value: string;
  /** variables named without a default that are unset or empty (replaced by "") */
  missing: string[];
  /** true when the text held at least one placeholder */
  substituted: boolean;
}

/**
 * Replaces every `${NAME}` and `${NAME:-default}` in `text`. As in the shell,
 * the default is used when the variable is unset or empty.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env): Substitution {
  const missing: string[] = [];
  let substituted = false;
  const value = String(text).replace(PLACEHOLDER, (_all, name: string, fallback: string | undefined) => {
    substituted = true;
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    if (!missing.includes(name)) missing.push(name);
    return '';
  });
  return { value, missing, substituted };
}

/** true when the text holds a `${NAME}` or `${NAME:-default}` placeholder. */
export function hasPlaceholder(text: string): boolean {
  return hasEnvPlaceholder(text);
}

/** A port setting: "" (or undefined) means "from the URL", else an integer 1–65535. */
export function parsePort(port: unknown): number | undefined {
  if (port === undefined || port === null || (typeof port === 'string' && port.trim() === '')) return undefined;
  const text = String(port).trim();
  const r = readNumber(port, ENDPOINT_NUMBERS.port);
  const n = r.ok && r.value !== undefined ? r.value : NaN;
  if (!r.ok) {
    throw new IntegrationError('INVALID_CONFIG', 'The port must be empty or a whole number from 1 to 65535', [
      { field: 'port', reason: 'expected empty or 1–65535', value: text },
    ]);
  }
  return n;
}

export interface BaseUrl {
  /** the resolved, validated base URL (port override applied; userinfo and fragment removed) */
  url: URL;
  /** `user:password@` taken out of the base URL (decoded), if it had one */
  userinfo?: { username: string; password: string };
}

/**
 * Resolves placeholders, checks the scheme (http/https), applies the port
 * override. Errors name the variable, never show a value.
 */
export function resolveBaseUrl(raw: unknown, port?: unknown, env: NodeJS.ProcessEnv = process.env): BaseUrl {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new IntegrationError('INVALID_CONFIG', 'The base URL is required', [
      { field: 'baseUrl', reason: 'required' },
    ]);
  }
  const sub = substituteEnv(raw.trim(), env);
  if (sub.missing.length) {
    throw new IntegrationError(
      'INVALID_CONFIG',
      `The base URL refers to environment variable ${sub.missing.join(', ')}, which is not set`,
      sub.missing.map((name) => ({ field: 'baseUrl', reason: `environment variable ${name} is not set` })),
    );
  }
  const text = sub.value.trim();
  // the same rule as the dialog's (lib/rules/urls.ts), on the substituted text
  const problem = httpUrlProblem(text);
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url && problem && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new IntegrationError('INVALID_CONFIG', 'The base URL must start with http:// or https://', [
      { field: 'baseUrl', reason: 'expected http or https', value: url.protocol.replace(/:$/, '') },
    ]);
  }
  if (!url || problem) {
    throw new IntegrationError('INVALID_CONFIG', 'The base URL is not a valid URL', [
      { field: 'baseUrl', reason: 'expected an absolute http:// or https:// URL' },
    ]);
  }
  const p = parsePort(port);
  if (p !== undefined) url.port = String(p);
  url.hash = '';
  let userinfo: BaseUrl['userinfo'];
  if (url.username || url.password) {
    userinfo = { username: safeDecode(url.username), password: safeDecode(url.password) };
    url.username = '';
    url.password = '';
  }
  return { url, userinfo };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A label safe to log: scheme, host, port and path of the base URL, without
 * userinfo, query or fragment (a query may hold a key), no trailing "/".
 */
export function urlLabel(url: URL): string {
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * The same for a raw setting that may not resolve: placeholders with a default
 * or a set variable are resolved; the rest are left as they are; userinfo goes.
 */
export function safeLabel(raw: unknown, port?: unknown, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return urlLabel(resolveBaseUrl(raw, port, env).url);
  } catch {
    if (typeof raw !== 'string') return '';
    const text = raw.trim().replace(PLACEHOLDER, (all, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      return fallback !== undefined ? fallback : all;
    });
    // scheme://user:pass@host → scheme://host; then drop query and fragment
    return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#@]*@/, '$1').replace(/[?#].*$/, '');
  }
}

/** true for "http://…", "https://…", "//host…" and any other "scheme:" prefix. */
function isAbsolute(path: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:/.test(path) || path.startsWith('//') || path.startsWith('\\\\');
}

/**
 * base "https://x/v1" + "/customers" → "https://x/v1/customers"; the base's
 * query (if any) comes first, then the path's. An absolute URL as the path is
 * rejected (the endpoint decides the host), and so is a path that climbs out
 * of the base path with "..".
 */
export function joinUrl(base: URL, path: unknown): string {
  if (path === undefined || path === null) path = '';
  if (typeof path !== 'string') {
    throw new IntegrationError('INVALID_PATH', 'The request path must be a string', [
      { field: 'path', reason: `got ${typeof path}` },
    ]);
  }
  const p = path.trim();
  if (isAbsolute(p)) {
    throw new IntegrationError(
      'INVALID_PATH',
      'The request path must be relative to the endpoint base URL, not an absolute URL',
      [{ field: 'path', reason: 'absolute URLs are not allowed; the endpoint sets scheme, host and port' }],
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(p)) {
    throw new IntegrationError('INVALID_PATH', 'The request path contains control characters', [
      { field: 'path', reason: 'control characters are not allowed' },
    ]);
  }
  const hashAt = p.indexOf('#');
  const noHash = hashAt >= 0 ? p.slice(0, hashAt) : p;
  const qAt = noHash.indexOf('?');
  const pathPart = qAt >= 0 ? noHash.slice(0, qAt) : noHash;
  const queryPart = qAt >= 0 ? noHash.slice(qAt + 1) : '';

  const basePath = base.pathname.replace(/\/+$/, '');
  let joinedPath: string;
  if (pathPart === '') joinedPath = base.pathname;
  else joinedPath = basePath + '/' + pathPart.replace(/^\/+/, '');

  const queries = [base.search.replace(/^\?/, ''), queryPart].filter((q) => q !== '');
  const text = `${base.protocol}//${base.host}` + joinedPath + (queries.length ? '?' + queries.join('&') : '');

  const result = new URL(text);
  const baseDir = basePath + '/';
  if (result.host !== base.host || !(result.pathname === base.pathname || result.pathname.startsWith(baseDir))) {
    throw new IntegrationError('INVALID_PATH', 'The request path leaves the endpoint base path', [
      { field: 'path', reason: `the path must stay under ${basePath || '/'}` },
    ]);
  }
  return result.toString();
}

/**
 * Appends `name=value` (both URL-encoded) to the query, replacing any
 * parameter of the same name already there.
 */
export function setQueryParam(url: string, name: string, value: string): string {
  const hashAt = url.indexOf('#');
  const noHash = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const qAt = noHash.indexOf('?');
  const head = qAt >= 0 ? noHash.slice(0, qAt) : noHash;
  const query = qAt >= 0 ? noHash.slice(qAt + 1) : '';
  const kept = query.split('&').filter((part) => {
    if (part === '') return false;
    const eq = part.indexOf('=');
    const rawName = eq >= 0 ? part.slice(0, eq) : part;
    return decodeQueryComponent(rawName) !== name;
  });
  kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  return `${head}?${kept.join('&')}`;
}

function decodeQueryComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
