/**
 * The endpoint behind the saypro-endpoint config node, without Node-RED: it
 * checks the settings once, resolves `${VAR}` credentials and placeholders in
 * the base URL, owns the keep-alive agents and the OAuth2 token manager, and
 * turns a sender's RequestIntent into a PreparedRequest. Users (the nodes that
 * send through it) register to receive its status.
 *
 * It also owns the endpoint's Pacer (lib/http/pacing.ts): the concurrency
 * cap, the rate limit, the Retry-After pause, the circuit breaker and the
 * "network down" probing, shared by every node that sends through it. While
 * the pacer holds requests back, users see that instead of the last status:
 * offline (yellow ring), circuit open (red ring), circuit half-open or paused
 * (yellow ring); when it clears they see the last status again.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import { resolveEnvRef } from '../env';
import {
  AUTH_TYPES,
  applyAuth,
  basicAuthorization,
  checkAuthSettings,
  isValidHeaderName,
  mergeHeaderLayers,
  type AuthSettings,
  type AuthType,
} from './auth';
import { createDispatchers, type Dispatchers, type TlsOptions } from './agent';
import type { ProxyNodeSettings } from './proxy';
import { TargetGuard, parseAllowHosts } from './target-guard';
import { DEFAULT_MAX_RESPONSE_BYTES } from './transport';
import { joinUrl, parsePort, resolveBaseUrl, safeLabel, substituteEnv, urlLabel } from './base-url';
import { OAuth2TokenManager, type TokenAuth } from './oauth2';
import { configuredHeaderSecrets } from './redact';
import { Pacer, type PacerOptions } from './pacing';
import { STATUS_KEYS, pacingSettings, pacingStatus } from './endpoint-pacing';
import type { EndpointHandle, EndpointStatus, HttpMethod, PacerState, PreparedRequest, RequestIntent } from './types';
import { AUTH_CREDENTIALS, ENDPOINT_NUMBERS, envRefName, invalidAllowHosts, listProblems, readNumber } from '../rules';

export const METHODS: HttpMethod[] = ['POST', 'PUT', 'PATCH', 'GET'];
export const DEFAULT_TIMEOUT_MS = 10000;
export const DEFAULT_API_KEY_NAME = 'X-API-Key';
/** the largest answer read, in MB (10 MB) */
export const DEFAULT_MAX_RESPONSE_MB = DEFAULT_MAX_RESPONSE_BYTES / (1024 * 1024);

export interface EndpointCredentials {
  apiKey?: string;
  username?: string;
  password?: string;
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

/** The config node's properties, as the editor saves them. */
export interface EndpointConfig {
  name?: string;
  baseUrl?: string;
  port?: string | number;
  method?: string;
  headers?: Array<{ name?: string; value?: string }>;
  timeout?: string | number;
  keepAlive?: boolean | string;
  authType?: string;
  apiKeyIn?: string;
  apiKeyName?: string;
  tokenUrl?: string;
  scope?: string;
  audience?: string;
  tokenAuth?: string;
  /** requests at once; 0: no limit (default 4) */
  maxConcurrent?: string | number;
  /** requests per rateInterval seconds; 0: no rate limit (default) */
  rateCount?: string | number;
  /** seconds (default 1) */
  rateInterval?: string | number;
  /** failures in a row that open the circuit; 0: off (default 5) */
  breakerFailures?: string | number;
  /** failure percentage that opens the circuit; 0: off (default) */
  breakerRate?: string | number;
  /** requests in the window before the failure rate counts (default 10) */
  breakerMinRequests?: string | number;
  /** seconds of the failure-rate window (default 60) */
  breakerWindow?: string | number;
  /** seconds the circuit stays open at first (default 30; doubles per failed probe up to 5 minutes) */
  breakerOpen?: string | number;
  /** the largest answer read into memory, in MB (default 10); larger: RESPONSE_TOO_LARGE */
  maxResponseMB?: string | number;
  /** host names requests may go to (comma or space separated; "*.domain" for subdomains); empty: any */
  allowHosts?: string;
  /** refuse private, loopback and link-local targets, checked after DNS resolution (default off) */
  blockPrivate?: boolean | string;
  /** id of a Node-RED `http proxy` config node (the glue resolves it into EndpointOptions.proxy) */
  proxy?: string;
}

export interface EndpointOptions {
  id: string;
  config: EndpointConfig;
  credentials?: EndpointCredentials;
  /** from a tls-config node's addTLSOptions({}), when one is chosen */
  tls?: TlsOptions;
  /** a Node-RED `http proxy` config node's settings; without one, the environment's HTTP(S)_PROXY / NO_PROXY apply */
  proxy?: ProxyNodeSettings;
  /** a problem found by the glue (e.g. the tls-config node is missing) */
  extraProblem?: IntegrationError;
  env?: NodeJS.ProcessEnv;
  /** translates status keys (RED._); identity by default */
  translate?: (key: string, substitutions?: Record<string, unknown>) => string;
  /** clock for the token manager and the pacer (tests) */
  now?: () => number;
  /** overrides for the pacer (timers, offline probe timing …), applied over the settings */
  pacer?: Omit<PacerOptions, 'onChange'>;
}

export interface EndpointUser {
  id: string;
  status(s: EndpointStatus): void;
}

export { PACING_DEFAULTS, STATUS_KEYS, pacingSettings, pacingStatus } from './endpoint-pacing';

const CREDENTIAL_FIELDS: Array<keyof EndpointCredentials> = [
  'apiKey',
  'username',
  'password',
  'token',
  'clientId',
  'clientSecret',
];

function toBool(v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null || v === '') return dflt;
  return v === true || v === 'true';
}

export class Endpoint implements EndpointHandle {
  readonly id: string;
  /** pacing shared by every node that sends through this endpoint */
  readonly pacer: Pacer;
  readonly label: string;
  readonly defaultMethod: HttpMethod;
  /** the reason every prepare() rejects, when the settings do not work */
  readonly setupError: IntegrationError | undefined;
  /** things worth a warning that do not stop the endpoint (never secrets) */
  readonly warnings: string[] = [];
  readonly timeoutMs: number;
  readonly authType: AuthType;
  readonly apiKeyName: string;
  /** the largest answer read, in bytes */
  readonly maxResponseBytes: number;
  /** the SSRF guard (allow-list, private addresses) */
  readonly guard: TargetGuard;

  private readonly translate: (key: string, substitutions?: Record<string, unknown>) => string;
  private readonly clock: () => number;
  private base: URL | undefined;
  private defaultHeaders: Record<string, string> = {};
  private auth: AuthSettings = { type: 'none' };
  private secretValues: string[] = [];
  private agents: Dispatchers | undefined;
  private tokenUrl: string | undefined;
  private tokens: OAuth2TokenManager | undefined;
  private users = new Map<string, EndpointUser>();
  /** the last status set (token, invalid config …) */
  private baseStatus: EndpointStatus | undefined;
  /** what users see: the pacing status while there is one, else base */
  private current: EndpointStatus | undefined;
  private currentKey = '';
  private closed = false;

  constructor(o: EndpointOptions) {
    const c = o.config || {};
    const env = o.env ?? process.env;
    this.id = o.id;
    this.translate = o.translate ?? ((k) => k);
    this.clock = o.now ?? Date.now;
    const problems: ErrorDetail[] = [];
    const collect = (err: unknown) => {
      if (err instanceof IntegrationError)
        problems.push(...(err.details.length ? err.details : [{ reason: err.message }]));
      else problems.push({ reason: String(err) });
    };

    // credentials: only those the chosen authentication uses are read (a whole `${VAR}` from the
    // environment, now); a field the dialog hides keeps its value but is neither checked nor sent
    const authType = (c.authType || 'none') as AuthType;
    this.authType = AUTH_TYPES.includes(authType) ? authType : 'none';
    const used = AUTH_CREDENTIALS[this.authType] as ReadonlyArray<keyof EndpointCredentials>;
    const creds: EndpointCredentials = {};
    const unusedLiterals: string[] = [];
    for (const field of CREDENTIAL_FIELDS) {
      const raw = o.credentials?.[field];
      if (!used.includes(field)) {
        // never used; still redacted should it ever appear in an answer
        if (typeof raw === 'string' && raw !== '' && envRefName(raw) === undefined) unusedLiterals.push(raw);
        continue;
      }
      const r = resolveEnvRef(raw, env);
      if (r.missing) problems.push({ field, reason: `environment variable ${r.variable} is not set` });
      creds[field] = r.value;
    }

    this.label = safeLabel(c.baseUrl, c.port, env);
    const method = String(c.method || 'POST').toUpperCase() as HttpMethod;
    if (!METHODS.includes(method))
      problems.push({ field: 'method', reason: 'expected POST, PUT, PATCH or GET', value: String(c.method) });
    this.defaultMethod = METHODS.includes(method) ? method : 'POST';

    const timeout = readNumber(c.timeout, ENDPOINT_NUMBERS.timeout);
    if (!timeout.ok)
      problems.push({
        field: 'timeout',
        reason: 'expected a whole number of milliseconds from 1 to 86400000 (a day)',
        value: String(c.timeout),
      });
    this.timeoutMs = timeout.ok && timeout.value !== undefined ? timeout.value : DEFAULT_TIMEOUT_MS;

    const maxMB = readNumber(c.maxResponseMB, ENDPOINT_NUMBERS.maxResponseMB);
    if (!maxMB.ok) {
      problems.push({
        field: 'maxResponseMB',
        reason: 'expected a number of megabytes above 0, at most 1024',
        value: String(c.maxResponseMB),
      });
    }
    this.maxResponseBytes = Math.max(
      1,
      Math.round((maxMB.ok && maxMB.value !== undefined ? maxMB.value : DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024),
    );
    const badHosts = invalidAllowHosts(c.allowHosts);
    if (badHosts.length) problems.push({ field: 'allowHosts', reason: `not a host name: ${badHosts.join(', ')}` });
    this.guard = new TargetGuard({
      allowHosts: parseAllowHosts(c.allowHosts),
      blockPrivate: toBool(c.blockPrivate, false),
    });

    let userinfo: { username: string; password: string } | undefined;
    let portOk = true;
    try {
      parsePort(c.port);
    } catch (err) {
      collect(err);
      portOk = false;
    }
    try {
      const b = resolveBaseUrl(c.baseUrl, portOk ? c.port : undefined, env);
      this.base = b.url;
      userinfo = b.userinfo;
    } catch (err) {
      collect(err);
    }

    // default headers; `${VAR}` / `${VAR:-default}` in a value are resolved now
    const headerList = Array.isArray(c.headers) ? c.headers : [];
    const defaults: Record<string, string> = {};
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
      this.secretValues.push(...configuredHeaderSecrets([{ name, value: sub.value, fromEnv: sub.substituted }]));
      defaults[name] = sub.value;
    });
    try {
      this.defaultHeaders = mergeHeaderLayers(defaults);
    } catch (err) {
      collect(err);
    }

    const apiKeyIn = (c.apiKeyIn || 'header') as 'header' | 'query';
    const keyName = c.apiKeyName === undefined || c.apiKeyName === null ? '' : String(c.apiKeyName).trim();
    this.apiKeyName = keyName === '' ? DEFAULT_API_KEY_NAME : keyName;
    this.auth = {
      type: authType,
      apiKeyIn,
      // an empty header name means X-API-Key; a query parameter needs its name (as the dialog says)
      apiKeyName: apiKeyIn === 'query' ? keyName : this.apiKeyName,
      apiKey: creds.apiKey,
      username: creds.username,
      password: creds.password,
      token: creds.token,
    };
    const authProblem = checkAuthSettings(this.auth);
    if (authProblem) collect(authProblem);

    let tokenUrl: string | undefined;
    const tokenAuth = (c.tokenAuth || 'body') as TokenAuth;
    if (authType === 'oauth2') {
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
    }

    if (userinfo) {
      if (authType === 'none') {
        // user:password@ in the base URL becomes HTTP Basic, never part of the URL we hand out
        this.auth = { type: 'basic', username: userinfo.username, password: userinfo.password };
      } else {
        this.warnings.push(
          'The user name and password in the base URL are ignored because another authentication is chosen',
        );
      }
    }

    const pacing = pacingSettings(c, problems);
    this.pacer = new Pacer({ now: o.now, ...pacing, ...(o.pacer || {}), onChange: () => this.refresh() });

    if (o.extraProblem) collect(o.extraProblem);

    for (const v of [
      creds.apiKey,
      creds.password,
      creds.token,
      creds.clientSecret,
      userinfo?.password,
      o.tls?.passphrase,
      ...unusedLiterals,
    ]) {
      if (v) this.secretValues.push(v);
    }
    if (this.auth.type === 'basic' && this.auth.username !== undefined) {
      this.secretValues.push(basicAuthorization(this.auth.username, this.auth.password || '').slice(6));
    }

    if (problems.length) {
      const summary = listProblems(problems);
      this.setupError = new IntegrationError(
        'INVALID_CONFIG',
        `The endpoint settings do not work: ${summary}`,
        problems,
      );
      this.baseStatus = { fill: 'red', shape: 'ring', text: this.translate(STATUS_KEYS.invalidConfig) };
      this.current = this.baseStatus;
      this.currentKey = JSON.stringify(this.baseStatus);
      return;
    }

    if (o.proxy?.password) this.secretValues.push(o.proxy.password);
    try {
      this.agents = createDispatchers({
        keepAlive: toBool(c.keepAlive, true),
        tls: o.tls,
        connections: pacing.maxConcurrent,
        guard: this.guard,
        env,
        proxyNode: o.proxy,
      });
      // decide the routes now: a bad proxy URL is a settings problem, not a failed request
      if (this.base) this.agents.forUrl(this.base);
      if (tokenUrl) this.agents.forUrl(tokenUrl);
      this.secretValues.push(...this.agents.secrets());
    } catch (err) {
      this.agents?.destroy();
      this.agents = undefined;
      const reason = String((err as Error)?.message ?? err);
      this.setupError = new IntegrationError('INVALID_CONFIG', `The endpoint settings do not work: proxy: ${reason}`, [
        { field: 'proxy', reason },
      ]);
      this.baseStatus = { fill: 'red', shape: 'ring', text: this.translate(STATUS_KEYS.invalidConfig) };
      this.current = this.baseStatus;
      this.currentKey = JSON.stringify(this.baseStatus);
      return;
    }
    this.tokenUrl = tokenUrl;
    if (authType === 'oauth2' && tokenUrl) {
      this.tokens = new OAuth2TokenManager({
        tokenUrl,
        clientId: creds.clientId || '',
        clientSecret: creds.clientSecret || '',
        scope: c.scope ? String(c.scope).trim() : undefined,
        audience: c.audience ? String(c.audience).trim() : undefined,
        tokenAuth,
        timeoutMs: this.timeoutMs,
        dispatcher: this.agents.forUrl(tokenUrl).dispatcher,
        keepAlive: this.agents.keepAlive,
        maxResponseBytes: this.maxResponseBytes,
        beforeRequest: () => this.guard.checkUrl(tokenUrl as string),
        now: o.now,
        onResult: (ok) => this.tokenResult(ok),
      });
    }
  }

  /** the base URL label (same as `label`), recomputed from a URL */
  get baseUrl(): string {
    return this.base ? urlLabel(this.base) : this.label;
  }

  /** the undici dispatchers (undefined when the settings do not work or after close) */
  get httpAgents(): Dispatchers | undefined {
    return this.agents;
  }

  /** the pacer's state now */
  pacing(): PacerState {
    return this.pacer.state();
  }

  /** the OAuth2 token manager, for oauth2 endpoints */
  get tokenManager(): OAuth2TokenManager | undefined {
    return this.tokens;
  }

  async prepare(intent: RequestIntent): Promise<PreparedRequest> {
    if (this.closed) throw new IntegrationError('ENDPOINT_CLOSED', 'The endpoint has been stopped');
    if (this.setupError) throw this.setupError;
    if (!intent || typeof intent !== 'object') {
      throw new IntegrationError('INVALID_REQUEST', 'The request intent must be an object');
    }
    const method = (intent.method ? String(intent.method).toUpperCase() : this.defaultMethod) as HttpMethod;
    if (!METHODS.includes(method)) {
      throw new IntegrationError('INVALID_METHOD', `The method ${String(intent.method)} is not supported`, [
        { field: 'method', reason: 'expected POST, PUT, PATCH or GET', value: String(intent.method) },
      ]);
    }
    const base = this.base as URL;
    const url = joinUrl(base, intent.path);
    this.guard.checkUrl(url);
    const accessToken = this.tokens ? await this.tokens.getToken() : undefined;
    if (this.closed) throw new IntegrationError('ENDPOINT_CLOSED', 'The endpoint has been stopped');
    const authed = applyAuth(this.auth, url, accessToken);
    const headers = mergeHeaderLayers(this.defaultHeaders, intent.headers, authed.headers);
    const agents = this.agents as Dispatchers;
    return {
      method,
      url: authed.url,
      headers,
      timeoutMs: this.timeoutMs,
      dispatcher: agents.forUrl(base).dispatcher,
      keepAlive: agents.keepAlive,
      maxResponseBytes: this.maxResponseBytes,
    };
  }

  invalidateAuth(): boolean {
    if (!this.tokens) return false;
    this.tokens.invalidate();
    return true;
  }

  secrets(): string[] {
    const all = [...this.secretValues];
    const token = this.tokens?.currentToken;
    if (token) all.push(token);
    return [...new Set(all.filter((s) => typeof s === 'string' && s !== ''))];
  }

  sensitiveNames(): string[] {
    const names = [
      'authorization',
      'proxy-authorization',
      this.apiKeyName.toLowerCase(),
      'x-api-key',
      'api_key',
      'apikey',
      'access_token',
      'client_secret',
      'password',
      'token',
    ];
    return [...new Set(names)];
  }

  register(user: EndpointUser): void {
    if (!user || typeof user.id !== 'string') return;
    this.users.set(user.id, user);
    if (this.current) this.push(user, this.current);
  }

  deregister(user: { id: string }): void {
    if (user) this.users.delete(user.id);
  }

  /** how many users are registered */
  get userCount(): number {
    return this.users.size;
  }

  /** the status last pushed (or undefined) */
  get currentStatus(): EndpointStatus | undefined {
    return this.current ? { ...this.current } : undefined;
  }

  /**
   * Pushes a status to every registered user (and to users that register
   * later). While the pacer holds requests back, its status is shown instead
   * and this one comes back when it clears.
   */
  setStatus(s: EndpointStatus): void {
    this.baseStatus = { ...s };
    this.refresh(true);
  }

  /** Destroys the agents, stops the token manager and the pacer (waiters get ENDPOINT_CLOSED), forgets the users. */
  close(): void {
    this.closed = true;
    this.pacer.close();
    this.tokens?.close();
    this.agents?.destroy();
    this.agents = undefined;
    this.users.clear();
  }

  /** Shows the pacing status, or the base status when pacing holds nothing back; {} clears a pacing status without base. */
  private refresh(force = false): void {
    if (this.closed) return;
    const next = pacingStatus(this.pacer.state(), this.clock(), this.translate) ?? this.baseStatus;
    const key = next ? JSON.stringify(next) : '';
    if (!force && key === this.currentKey) return;
    const hadOne = this.current !== undefined;
    this.current = next ? { ...next } : undefined;
    this.currentKey = key;
    if (!next && !hadOne) return;
    for (const user of this.users.values()) this.push(user, next ?? {});
  }

  private push(user: EndpointUser, s: EndpointStatus): void {
    try {
      user.status({ ...s });
    } catch {
      // a user's status handler must not break the others
    }
  }

  private tokenResult(ok: boolean): void {
    if (this.closed) return;
    const key = ok ? STATUS_KEYS.tokenOk : STATUS_KEYS.tokenFailed;
    const text = this.translate(key);
    if (this.baseStatus && this.baseStatus.text === text) return;
    this.setStatus(ok ? { fill: 'green', shape: 'dot', text } : { fill: 'red', shape: 'ring', text });
  }
}
