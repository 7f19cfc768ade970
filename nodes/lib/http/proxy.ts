/**
 * Which proxy a request goes through, decided as Node-RED's core
 * `http request` node decides it (@node-red/nodes/core/network/lib/proxyHelper.js,
 * "strict" mode, itself based on Rob Wu's proxy-from-env, MIT licence:
 * Copyright (C) 2016-2018 Rob Wu <rob@robwu.nl>):
 *
 *  - with an `http proxy` config node: its URL for http and https, its
 *    "no proxy" list, and its user name and password (sent as
 *    Proxy-Authorization, never part of a URL we log);
 *  - else the environment: npm_config_<scheme>_proxy, <scheme>_proxy
 *    (lower case first, then UPPER), npm_config_proxy, all_proxy; a proxy
 *    without a scheme takes the request's; NO_PROXY / no_proxy ("*", names,
 *    ".domain" or "*.domain" suffixes, optional ":port") skips it.
 *
 * Pure: the environment is passed in.
 */
import { basicAuthorization } from './auth';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ws: 80, wss: 443 };

/** What a Node-RED `http proxy` config node holds. */
export interface ProxyNodeSettings {
  url?: string;
  noproxy?: string[];
  username?: string;
  password?: string;
}

export interface ProxyChoice {
  /** the proxy URL without user information */
  url: string;
  /** "Basic …" for Proxy-Authorization, when the proxy wants credentials */
  authorization?: string;
  /** secret values to redact (password, the Basic token) */
  secrets: string[];
}

function getEnv(env: NodeJS.ProcessEnv, key: string): string {
  return env[key.toLowerCase()] || env[key.toUpperCase()] || '';
}

/** True unless NO_PROXY names the host (and port). */
export function shouldProxy(hostname: string, port: number, noProxy: string): boolean {
  const list = noProxy.toLowerCase();
  if (!list) return true;
  if (list === '*') return false;
  return list.split(/[,\s]/).every((entry) => {
    if (!entry) return true;
    const m = entry.match(/^(.+):(\d+)$/);
    let name = m ? m[1] : entry;
    const entryPort = m ? parseInt(m[2], 10) : 0;
    if (entryPort && entryPort !== port) return true;
    if (!/^[.*]/.test(name)) return hostname !== name;
    if (name.charAt(0) === '*') name = name.slice(1);
    return !hostname.endsWith(name);
  });
}

/** The proxy URL (as configured, possibly with user information) for a target, or "" for none. */
export function proxyUrlFor(target: string | URL, env: NodeJS.ProcessEnv): string {
  let u: URL;
  try {
    u = typeof target === 'string' ? new URL(target) : target;
  } catch {
    return '';
  }
  const proto = u.protocol.replace(/:$/, '');
  const hostname = u.host.replace(/:\d*$/, '').toLowerCase();
  if (!hostname) return '';
  const port = parseInt(u.port, 10) || DEFAULT_PORTS[proto] || 0;
  const noProxy = getEnv(env, 'npm_config_no_proxy') || getEnv(env, 'no_proxy');
  if (!shouldProxy(hostname, port, noProxy)) return '';
  let proxy =
    getEnv(env, `npm_config_${proto}_proxy`) ||
    getEnv(env, `${proto}_proxy`) ||
    getEnv(env, 'npm_config_proxy') ||
    getEnv(env, 'all_proxy');
  if (proxy && !proxy.includes('://')) proxy = `${proto}://${proxy}`;
  return proxy;
}

/**
 * The proxy for a target: from the config node when given (the environment
 * is then ignored, as in the core node), else from the environment.
 * Undefined: connect directly. Throws on a proxy URL that cannot be parsed.
 */
export function chooseProxy(
  target: string | URL,
  env: NodeJS.ProcessEnv,
  node?: ProxyNodeSettings,
): ProxyChoice | undefined {
  const source: NodeJS.ProcessEnv = node
    ? { no_proxy: (node.noproxy || []).join(','), http_proxy: node.url || '', https_proxy: node.url || '' }
    : env;
  const raw = proxyUrlFor(target, source);
  if (!raw) return undefined;
  let p: URL;
  try {
    p = new URL(raw);
  } catch {
    throw new Error('the proxy URL is not valid');
  }
  if (p.protocol !== 'http:' && p.protocol !== 'https:')
    throw new Error(`the proxy URL must start with http:// or https://, not ${p.protocol}`);
  let username = node && (node.username || node.password) ? node.username || '' : decodeURIComponent(p.username);
  let password = node && (node.username || node.password) ? node.password || '' : decodeURIComponent(p.password);
  if (!username && !password) {
    username = '';
    password = '';
  }
  p.username = '';
  p.password = '';
  const choice: ProxyChoice = { url: p.toString().replace(/\/$/, ''), secrets: [] };
  if (username || password) {
    choice.authorization = basicAuthorization(username, password);
    choice.secrets.push(choice.authorization.slice(6));
    if (password) choice.secrets.push(password);
  }
  return choice;
}
