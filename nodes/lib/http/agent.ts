/**
 * The endpoint's connections, through undici: one Agent per endpoint config
 * node (a Pool per origin inside it, keep-alive by default, at most
 * `connections` sockets per origin), carrying the TLS options (CA, client
 * certificate and key, server certificate check) of a Node-RED tls-config
 * node as undici `connect` options, the SSRF guard's DNS lookup, and — when a
 * proxy applies to an origin (lib/http/proxy.ts) — a ProxyAgent for it
 * (HTTPS through CONNECT, plain HTTP as absolute-URI requests like Node-RED's
 * core node). Redirects are never followed (undici does not unless asked).
 */
import * as net from 'node:net';
import type { Agent, ProxyAgent, buildConnector, Dispatcher } from 'undici';
import { undici } from './undici';
import { chooseProxy, type ProxyChoice, type ProxyNodeSettings } from './proxy';
import type { TargetGuard } from './target-guard';

/** What a tls-config node's addTLSOptions({}) fills in. */
export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  servername?: string;
  ALPNProtocols?: string[];
  /** undefined means true (verify), as in Node.js */
  rejectUnauthorized?: boolean;
}

export interface DispatcherOptions {
  /** false: every request closes its connection (default true) */
  keepAlive?: boolean;
  tls?: TlsOptions;
  /** sockets per origin; 0 or undefined: no limit */
  connections?: number;
  /** the SSRF guard (its lookup runs inside every direct connection) */
  guard?: TargetGuard;
  /** the environment for HTTP_PROXY / HTTPS_PROXY / NO_PROXY (default: none) */
  env?: NodeJS.ProcessEnv;
  /** a Node-RED `http proxy` config node's settings: used instead of the environment */
  proxyNode?: ProxyNodeSettings;
}

export interface Route {
  dispatcher: Dispatcher;
  /** the proxy in use (URL without credentials), undefined when direct */
  proxy?: string;
}

export interface Dispatchers {
  readonly keepAlive: boolean;
  /** the TLS options handed to undici's connect (for checks) */
  readonly connectOptions: Readonly<Record<string, unknown>>;
  /** the direct Agent */
  readonly direct: Agent;
  /** the dispatcher (direct or through a proxy) for a URL */
  forUrl(url: string | URL): Route;
  /** the proxy credentials in use (to redact) */
  secrets(): string[];
  /** closes every pooled connection at once; the dispatchers must not be used afterwards */
  destroy(): void;
}

const KEEP_ALIVE_MS = 4000;

/** undici connect options from a tls-config node's options. */
export function connectOptions(t: TlsOptions = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (t.ca !== undefined) o.ca = t.ca;
  if (t.cert !== undefined) o.cert = t.cert;
  if (t.key !== undefined) o.key = t.key;
  if (t.passphrase !== undefined) o.passphrase = t.passphrase;
  if (t.servername) o.servername = t.servername;
  if (t.ALPNProtocols) o.ALPNProtocols = t.ALPNProtocols;
  o.rejectUnauthorized = t.rejectUnauthorized !== false;
  return o;
}

/** A connector that applies the guard: IP literals before connecting, names inside the DNS lookup. */
function guardedConnector(options: Record<string, unknown>, guard?: TargetGuard): buildConnector.connector {
  if (!guard?.blockPrivate) return undici().buildConnector(options as buildConnector.BuildOptions);
  const base = undici().buildConnector({ ...options, lookup: guard.lookup() } as buildConnector.BuildOptions);
  return (opts, callback) => {
    const host = String(opts.hostname || '').replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(host)) {
      try {
        guard.checkAddress(host, host);
      } catch (err) {
        callback(err as Error, null);
        return;
      }
    }
    return base(opts, callback);
  };
}

export function createDispatchers(opts: DispatcherOptions = {}): Dispatchers {
  const keepAlive = opts.keepAlive !== false;
  const tls = connectOptions(opts.tls);
  const connections = opts.connections && opts.connections > 0 ? Math.floor(opts.connections) : null;
  const common = { connections, pipelining: 1, keepAliveTimeout: KEEP_ALIVE_MS };
  const direct = new (undici().Agent)({ ...common, connect: guardedConnector(tls, opts.guard) });
  const env = opts.env ?? {};
  const proxies = new Map<string, ProxyAgent>();
  const routes = new Map<string, Route>();
  const proxySecrets = new Set<string>();

  function proxyAgent(choice: ProxyChoice): ProxyAgent {
    const key = `${choice.url} ${choice.authorization ?? ''}`;
    let agent = proxies.get(key);
    if (!agent) {
      agent = new (undici().ProxyAgent)({
        ...common,
        uri: choice.url,
        token: choice.authorization,
        requestTls: tls as ProxyAgent.Options['requestTls'],
        proxyTunnel: false,
      });
      proxies.set(key, agent);
    }
    for (const s of choice.secrets) proxySecrets.add(s);
    return agent;
  }

  return {
    keepAlive,
    connectOptions: tls,
    direct,
    forUrl(url) {
      const u = typeof url === 'string' ? new URL(url) : url;
      const origin = u.origin;
      let route = routes.get(origin);
      if (!route) {
        const choice = chooseProxy(u, env, opts.proxyNode);
        route = choice ? { dispatcher: proxyAgent(choice), proxy: choice.url } : { dispatcher: direct };
        routes.set(origin, route);
      }
      return route;
    },
    secrets: () => [...proxySecrets],
    destroy() {
      direct.destroy().catch(() => undefined);
      for (const p of proxies.values()) p.destroy().catch(() => undefined);
      proxies.clear();
      routes.clear();
    },
  };
}
