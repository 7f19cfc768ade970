/**
 * The endpoint's settings, read once: the saypro-endpoint config node's
 * properties and credentials, as the editor saves them, turned into what a
 * live endpoint needs, with every problem collected (field, reason, value)
 * in the order the dialog shows the fields. Named steps, top-down:
 *
 *   readEndpointSettings()
 *     readCredentials()      only those the chosen authentication uses; `${VAR}` resolved
 *     readLimits()           method, timeout, largest answer
 *     readTargetGuard()      allowed hosts, private targets
 *     readBaseUrl()          port and base URL; user:password@ kept aside
 *     readDefaultHeaders()   names checked, `${VAR}` resolved, secret values noted
 *     readAuth()             API key, Basic, Bearer
 *     readOAuth2()           token URL, client, how the client is sent
 *     baseUrlLogin()         user:password@ becomes Basic (or a warning)
 *     pacingSettings()       lib/http/endpoint-pacing.ts
 *     secretsOf()            every value to redact
 *
 * Not the live endpoint (lib/http/endpoint.ts: the agents, the token manager,
 * the pacer, the status its users see, prepare()). Pure: no Node-RED, no
 * connection, no token request.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import { resolveEnvRef } from '../env';
import {
  AUTH_TYPES,
  basicAuthorization,
  checkAuthSettings,
  isValidHeaderName,
  mergeHeaderLayers,
  type AuthSettings,
  type AuthType,
} from './auth';
import { TargetGuard, parseAllowHosts } from './target-guard';
import { parsePort, resolveBaseUrl, safeLabel, substituteEnv } from './base-url';
import type { TokenAuth } from './oauth2';
import { configuredHeaderSecrets } from './redact';
import type { PacerOptions } from './pacer-settings';
import { pacingSettings } from './endpoint-pacing';
import type { HttpMethod } from './types';
import {
  DEFAULT_API_KEY_NAME,
  DEFAULT_MAX_RESPONSE_MB,
  DEFAULT_TIMEOUT_MS,
  METHODS,
  type EndpointConfig,
  type EndpointCredentials,
} from './endpoint-config';
import { AUTH_CREDENTIALS, ENDPOINT_NUMBERS, envRefName, invalidAllowHosts, readNumber } from '../rules';

/** What the settings are read from (a subset of EndpointOptions, lib/http/endpoint.ts). */
export interface EndpointSource {
  config: EndpointConfig;
  credentials?: EndpointCredentials;
  /** from a tls-config node; only its passphrase is read here (a secret) */
  tls?: { passphrase?: string };
  /** a problem found by the glue (e.g. the tls-config node is missing) */
  extraProblem?: IntegrationError;
  env?: NodeJS.ProcessEnv;
}

/** OAuth2 client credentials: the token manager's settings. */
export interface OAuth2Settings {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string | undefined;
  audience: string | undefined;
  tokenAuth: TokenAuth;
}

/** The endpoint's settings, checked. When `problems` is not empty the endpoint does not work. */
export interface EndpointSettings {
  /** the base URL without credentials, for status and logs */
  label: string;
  /** the chosen authentication (an unknown one: 'none') */
  authType: AuthType;
  defaultMethod: HttpMethod;
  timeoutMs: number;
  /** the largest answer read, in bytes */
  maxResponseBytes: number;
  guard: TargetGuard;
  base: URL | undefined;
  defaultHeaders: Record<string, string>;
  auth: AuthSettings;
  /** the API key's header name (X-API-Key when none is given) */
  apiKeyName: string;
  /** the token URL of an oauth2 endpoint */
  tokenUrl: string | undefined;
  /** set for an oauth2 endpoint whose token URL works */
  oauth2: OAuth2Settings | undefined;
  keepAlive: boolean;
  pacing: Partial<PacerOptions>;
  /** values to redact wherever they might appear (never empty strings) */
  secretValues: string[];
  /** things worth a warning that do not stop the endpoint (never secrets) */
  warnings: string[];
  problems: ErrorDetail[];
}

const CREDENTIAL_FIELDS: Array<keyof EndpointCredentials> = [
  'apiKey',
  'username',
  'password',
  'token',
  'clientId',
  'clientSecret',
];

export function toBool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  return v === true || v === 'true';
}

/** Adds an error's details (or its message) to the problems. */
function collect(problems: ErrorDetail[], err: unknown): void {
  if (err instanceof IntegrationError) problems.push(...(err.details.length ? err.details : [{ reason: err.message }]));
  else problems.push({ reason: String(err) });
}

/** Reads the endpoint's settings; never throws: what does not work is in `problems`. */
export function readEndpointSettings(o: EndpointSource): EndpointSettings {
  const c = o.config || {};
  const env = o.env ?? process.env;
  const problems: ErrorDetail[] = [];
  const warnings: string[] = [];

  const authType = (c.authType || 'none') as AuthType;
  const knownAuthType = AUTH_TYPES.includes(authType) ? authType : 'none';
  const { creds, unusedLiterals } = readCredentials(o.credentials, knownAuthType, env, problems);
  const label = safeLabel(c.baseUrl, c.port, env);
  const limits = readLimits(c, problems);
  const guard = readTargetGuard(c, problems);
  const { base, userinfo } = readBaseUrl(c, env, problems);
  const headers = readDefaultHeaders(c, env, problems);
  const { auth: keyAuth, apiKeyName } = readAuth(c, authType, creds, problems);
  const oauth2 = readOAuth2(c, authType, creds, env, problems);
  const auth = baseUrlLogin(keyAuth, authType, userinfo, warnings);
  const pacing = pacingSettings(c, problems);
  if (o.extraProblem) collect(problems, o.extraProblem);

  const secretValues = [
    ...headers.secrets,
    ...secretsOf(auth, [
      creds.apiKey,
      creds.password,
      creds.token,
      creds.clientSecret,
      userinfo?.password,
      o.tls?.passphrase,
      ...unusedLiterals,
    ]),
  ];
  return {
    label,
    authType: knownAuthType,
    ...limits,
    guard,
    base,
    defaultHeaders: headers.merged,
    auth,
    apiKeyName,
    tokenUrl: oauth2.tokenUrl,
    oauth2: oauth2.settings,
    keepAlive: toBool(c.keepAlive, true),
    pacing,
    secretValues,
    warnings,
    problems,
  };
}

/**
 * Credentials: only those the chosen authentication uses are read (a whole `${VAR}` from the
 * environment, now); a field the dialog hides keeps its value but is neither checked nor sent.
 * Unused literal values are still returned, to be redacted should they ever appear in an answer.
 */
function readCredentials(
  given: EndpointCredentials | undefined,
  authType: AuthType,
  env: NodeJS.ProcessEnv,
  problems: ErrorDetail[],
): { creds: EndpointCredentials; unusedLiterals: string[] } {
  const used = AUTH_CREDENTIALS[authType] as ReadonlyArray<keyof EndpointCredentials>;
  const creds: EndpointCredentials = {};
  const unusedLiterals: string[] = [];
  for (const field of CREDENTIAL_FIELDS) {
    const raw = given?.[field];
    if (!used.includes(field)) {
      if (typeof raw === 'string' && raw !== '' && envRefName(raw) === undefined) unusedLiterals.push(raw);
      continue;
    }
    const r = resolveEnvRef(raw, env);
    if (r.missing) problems.push({ field, reason: `environment variable ${r.variable} is not set` });
    creds[field] = r.value;
  }
  return { creds, unusedLiterals };
}

/** The default method, the timeout and the largest answer read (defaults where a value does not work). */
function readLimits(
  c: EndpointConfig,
  problems: ErrorDetail[],
): { defaultMethod: HttpMethod; timeoutMs: number; maxResponseBytes: number } {
  const method = String(c.method || 'POST').toUpperCase() as HttpMethod;
  if (!METHODS.includes(method))
    problems.push({ field: 'method', reason: 'expected POST, PUT, PATCH or GET', value: String(c.method) });

  const timeout = readNumber(c.timeout, ENDPOINT_NUMBERS.timeout);
  if (!timeout.ok)
    problems.push({
      field: 'timeout',
      reason: 'expected a whole number of milliseconds from 1 to 86400000 (a day)',
      value: String(c.timeout),
    });

  const maxMB = readNumber(c.maxResponseMB, ENDPOINT_NUMBERS.maxResponseMB);
  if (!maxMB.ok) {
    problems.push({
      field: 'maxResponseMB',
      reason: 'expected a number of megabytes above 0, at most 1024',
      value: String(c.maxResponseMB),
    });
  }
  return {
    defaultMethod: METHODS.includes(method) ? method : 'POST',
    timeoutMs: timeout.ok && timeout.value !== undefined ? timeout.value : DEFAULT_TIMEOUT_MS,
    maxResponseBytes: Math.max(
      1,
      Math.round((maxMB.ok && maxMB.value !== undefined ? maxMB.value : DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024),
    ),
  };
}

/** The SSRF guard: the allowed hosts (a name that is not one is a problem) and private targets. */
function readTargetGuard(c: EndpointConfig, problems: ErrorDetail[]): TargetGuard {
  const badHosts = invalidAllowHosts(c.allowHosts);
  if (badHosts.length) problems.push({ field: 'allowHosts', reason: `not a host name: ${badHosts.join(', ')}` });
  return new TargetGuard({
    allowHosts: parseAllowHosts(c.allowHosts),
    blockPrivate: toBool(c.blockPrivate, false),
  });
}

/** The port, then the base URL (`${VAR}` resolved); user:password@ in it is returned apart. */
function readBaseUrl(
  c: EndpointConfig,
  env: NodeJS.ProcessEnv,
  problems: ErrorDetail[],
): { base: URL | undefined; userinfo: { username: string; password: string } | undefined } {
  let portOk = true;
  try {
    parsePort(c.port);
  } catch (err) {
    collect(problems, err);
    portOk = false;
  }
  try {
    const b = resolveBaseUrl(c.baseUrl, portOk ? c.port : undefined, env);
    return { base: b.url, userinfo: b.userinfo };
  } catch (err) {
    collect(problems, err);
    return { base: undefined, userinfo: undefined };
  }
}

/** The default headers; `${VAR}` / `${VAR:-default}` in a value are resolved now. */
function readDefaultHeaders(
  c: EndpointConfig,
  env: NodeJS.ProcessEnv,
  problems: ErrorDetail[],
): { merged: Record<string, string>; secrets: string[] } {
  const headerList = Array.isArray(c.headers) ? c.headers : [];
  const defaults: Record<string, string> = {};
  const secrets: string[] = [];
  headerList.forEach((h, i) => {
    const name = typeof h?.name === 'string' ? h.name.trim() : '';
    const raw = h?.value === undefined || h?.value === null ? '' : String(h.value);
    if (name === '' && raw === '') return; // an empty row
    if (!isValidHeaderName(name)) {
      problems.push({
        field: `headers[${i}]`,
        reason: name === '' ? 'a header name is required' : 'not a valid header name',
        value: name,
      });
      return;
    }
    const sub = substituteEnv(raw, env);
    if (sub.missing.length) {
      problems.push({ field: `headers[${i}]`, reason: `environment variable ${sub.missing.join(', ')} is not set` });
      return;
    }
    if (/[\r\n\0]/.test(sub.value)) {
      problems.push({ field: `headers[${i}]`, reason: 'the value contains a line break' });
      return;
    }
    // a value from the environment is a secret; so is any other value of a header that is not clearly harmless
    // (Node-RED substitutes a whole-value ${VAR} before we see it, so it cannot be told from a literal)
    secrets.push(...configuredHeaderSecrets([{ name, value: sub.value, fromEnv: sub.substituted }]));
    defaults[name] = sub.value;
  });
  let merged: Record<string, string> = {};
  try {
    merged = mergeHeaderLayers(defaults);
  } catch (err) {
    collect(problems, err);
  }
  return { merged, secrets };
}

/** The API key, Basic or Bearer authentication (as chosen; checked). */
function readAuth(
  c: EndpointConfig,
  authType: AuthType,
  creds: EndpointCredentials,
  problems: ErrorDetail[],
): { auth: AuthSettings; apiKeyName: string } {
  const apiKeyIn = (c.apiKeyIn || 'header') as 'header' | 'query';
  const keyName = c.apiKeyName === undefined || c.apiKeyName === null ? '' : String(c.apiKeyName).trim();
  const apiKeyName = keyName === '' ? DEFAULT_API_KEY_NAME : keyName;
  const auth: AuthSettings = {
    type: authType,
    apiKeyIn,
    // an empty header name means X-API-Key; a query parameter needs its name (as the dialog says)
    apiKeyName: apiKeyIn === 'query' ? keyName : apiKeyName,
    apiKey: creds.apiKey,
    username: creds.username,
    password: creds.password,
    token: creds.token,
  };
  const authProblem = checkAuthSettings(auth);
  if (authProblem) collect(problems, authProblem);
  return { auth, apiKeyName };
}

/** OAuth2 client credentials: the token URL (no credentials in it), the client, how it is sent. */
function readOAuth2(
  c: EndpointConfig,
  authType: AuthType,
  creds: EndpointCredentials,
  env: NodeJS.ProcessEnv,
  problems: ErrorDetail[],
): { tokenUrl: string | undefined; settings: OAuth2Settings | undefined } {
  if (authType !== 'oauth2') return { tokenUrl: undefined, settings: undefined };
  let tokenUrl: string | undefined;
  const tokenAuth = (c.tokenAuth || 'body') as TokenAuth;
  try {
    const t = resolveBaseUrl(c.tokenUrl, undefined, env);
    if (t.userinfo)
      problems.push({
        field: 'tokenUrl',
        reason: 'put the client id and secret in the credentials, not in the URL',
      });
    tokenUrl = t.url.toString();
  } catch (err) {
    problems.push({
      field: 'tokenUrl',
      reason: err instanceof IntegrationError ? err.message.replace(/^The base URL/, 'The token URL') : String(err),
    });
  }
  if (!creds.clientId) problems.push({ field: 'clientId', reason: 'the client id is required' });
  if (!creds.clientSecret) problems.push({ field: 'clientSecret', reason: 'the client secret is required' });
  if (tokenAuth !== 'body' && tokenAuth !== 'basic')
    problems.push({ field: 'tokenAuth', reason: 'expected body or basic', value: String(c.tokenAuth) });
  if (!tokenUrl) return { tokenUrl, settings: undefined };
  return {
    tokenUrl,
    settings: {
      tokenUrl,
      clientId: creds.clientId || '',
      clientSecret: creds.clientSecret || '',
      scope: c.scope ? String(c.scope).trim() : undefined,
      audience: c.audience ? String(c.audience).trim() : undefined,
      tokenAuth,
    },
  };
}

/**
 * user:password@ in the base URL becomes HTTP Basic, never part of the URL handed out, when no
 * authentication is chosen; with another one it is ignored, with a warning.
 */
function baseUrlLogin(
  auth: AuthSettings,
  authType: AuthType,
  userinfo: { username: string; password: string } | undefined,
  warnings: string[],
): AuthSettings {
  if (!userinfo) return auth;
  if (authType === 'none') return { type: 'basic', username: userinfo.username, password: userinfo.password };
  warnings.push('The user name and password in the base URL are ignored because another authentication is chosen');
  return auth;
}

/** The secret values given (the empty ones left out), then the Basic credentials as sent. */
function secretsOf(auth: AuthSettings, values: Array<string | undefined>): string[] {
  const secrets: string[] = [];
  for (const v of values) {
    if (v) secrets.push(v);
  }
  if (auth.type === 'basic' && auth.username !== undefined) {
    secrets.push(basicAuthorization(auth.username, auth.password || '').slice(6));
  }
  return secrets;
}
