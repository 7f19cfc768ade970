/**
 * The endpoint behind the saypro-endpoint config node, without Node-RED: the
 * live object every node sending through it shares. It owns the keep-alive
 * agents, the OAuth2 token manager and the pacer, turns a sender's
 * RequestIntent into a PreparedRequest, and pushes its status to its users
 * (the nodes that send through it, which register to receive it).
 *
 * Not the reading of the settings: the config node's properties and
 * credentials are checked once, `${VAR}` resolved, by lib/http/endpoint-settings.ts;
 * nor the pacing rules themselves (lib/http/pacing.ts, lib/http/endpoint-pacing.ts).
 *
 * Its Pacer holds the concurrency cap, the rate limit, the Retry-After pause,
 * the circuit breaker and the "network down" probing, shared by every node
 * that sends through it. While the pacer holds requests back, users see that
 * instead of the last status: offline (yellow ring), circuit open (red ring),
 * circuit half-open or paused (yellow ring); when it clears they see the last
 * status again.
 */
import { IntegrationError } from '../errors';
import { applyAuth, mergeHeaderLayers, type AuthSettings, type AuthType } from './auth';
import { createDispatchers, type Dispatchers, type TlsOptions } from './agent';
import type { ProxyNodeSettings } from './proxy';
import type { TargetGuard } from './target-guard';
import { joinUrl, urlLabel } from './base-url';
import { OAuth2TokenManager } from './oauth2';
import { Pacer } from './pacing';
import type { PacerOptions } from './pacer-settings';
import { STATUS_KEYS, pacingStatus } from './endpoint-pacing';
import { METHODS, type EndpointConfig, type EndpointCredentials } from './endpoint-config';
import { readEndpointSettings, type EndpointSettings, type OAuth2Settings } from './endpoint-settings';
import type { EndpointHandle, EndpointStatus, HttpMethod, PacerState, PreparedRequest, RequestIntent } from './types';
import { listProblems } from '../rules';

export {
  METHODS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_API_KEY_NAME,
  DEFAULT_MAX_RESPONSE_MB,
  type EndpointConfig,
  type EndpointCredentials,
} from './endpoint-config';

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

  /**
   * Reads the settings (lib/http/endpoint-settings.ts) and starts the pacer; when the settings
   * work, opens the agents (a bad proxy is a settings problem too) and, for OAuth2, the token manager.
   */
  constructor(o: EndpointOptions) {
    const s = readEndpointSettings(o);
    this.id = o.id;
    this.translate = o.translate ?? ((k) => k);
    this.clock = o.now ?? Date.now;
    this.label = s.label;
    this.authType = s.authType;
    this.defaultMethod = s.defaultMethod;
    this.timeoutMs = s.timeoutMs;
    this.maxResponseBytes = s.maxResponseBytes;
    this.guard = s.guard;
    this.base = s.base;
    this.defaultHeaders = s.defaultHeaders;
    this.auth = s.auth;
    this.apiKeyName = s.apiKeyName;
    this.warnings.push(...s.warnings);
    this.secretValues.push(...s.secretValues);
    this.pacer = new Pacer({ now: o.now, ...s.pacing, ...(o.pacer || {}), onChange: () => this.refresh() });

    if (s.problems.length) {
      this.setupError = new IntegrationError(
        'INVALID_CONFIG',
        `The endpoint settings do not work: ${listProblems(s.problems)}`,
        s.problems,
      );
      this.showInvalidConfig();
      return;
    }
    if (o.proxy?.password) this.secretValues.push(o.proxy.password);
    this.setupError = this.openAgents(o, s);
    if (this.setupError) {
      this.showInvalidConfig();
      return;
    }
    this.tokenUrl = s.tokenUrl;
    if (s.oauth2) this.tokens = this.startTokenManager(s.oauth2, o.now);
  }

  /** The undici dispatchers, routes decided now; a bad proxy URL is a settings problem, not a failed request. */
  private openAgents(o: EndpointOptions, s: EndpointSettings): IntegrationError | undefined {
    try {
      this.agents = createDispatchers({
        keepAlive: s.keepAlive,
        tls: o.tls,
        connections: s.pacing.maxConcurrent,
        guard: this.guard,
        env: o.env ?? process.env,
        proxyNode: o.proxy,
      });
      if (this.base) this.agents.forUrl(this.base);
      if (s.tokenUrl) this.agents.forUrl(s.tokenUrl);
      this.secretValues.push(...this.agents.secrets());
      return undefined;
    } catch (err) {
      this.agents?.destroy();
      this.agents = undefined;
      const reason = String((err as Error)?.message ?? err);
      return new IntegrationError('INVALID_CONFIG', `The endpoint settings do not work: proxy: ${reason}`, [
        { field: 'proxy', reason },
      ]);
    }
  }

  /** The OAuth2 token manager, through the agents (the token URL passes the SSRF guard too). */
  private startTokenManager(oauth2: OAuth2Settings, now: (() => number) | undefined): OAuth2TokenManager {
    const agents = this.agents as Dispatchers;
    return new OAuth2TokenManager({
      ...oauth2,
      timeoutMs: this.timeoutMs,
      dispatcher: agents.forUrl(oauth2.tokenUrl).dispatcher,
      keepAlive: agents.keepAlive,
      maxResponseBytes: this.maxResponseBytes,
      beforeRequest: () => this.guard.checkUrl(oauth2.tokenUrl),
      now,
      onResult: (ok) => this.tokenResult(ok),
    });
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

  /** The red ring of settings that do not work, shown to users from the start. */
  private showInvalidConfig(): void {
    this.baseStatus = { fill: 'red', shape: 'ring', text: this.translate(STATUS_KEYS.invalidConfig) };
    this.current = this.baseStatus;
    this.currentKey = JSON.stringify(this.baseStatus);
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
