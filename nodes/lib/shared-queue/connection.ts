/**
 * Connection options of the saypro-nats config node, from its settings and
 * credentials (pure: no Node-RED import). Problems are collected, never
 * thrown, so that a bad setting shows as a status instead of a crash.
 */
import type * as NatsCore from '@nats-io/nats-core';
import type { ConnectionOptions } from '@nats-io/nats-core';
import type { ErrorDetail } from '../errors';
import { NATS_SEED, NATS_SERVER } from '../rules';

/** the NATS client, loaded only when a credentials file or a seed is used: reading settings never pays its start time */
function natsCore(): typeof NatsCore {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@nats-io/nats-core') as typeof NatsCore;
}

export interface NatsSettings {
  /** comma- or space-separated: nats://host:4222, host:4222, tls://host:4222 */
  servers?: string;
  name?: string;
}

export interface NatsCredentials {
  user?: string;
  password?: string;
  token?: string;
  /** an NKey user seed (SU…) */
  seed?: string;
  /** the content of a .creds file (JWT + seed) */
  creds?: string;
}

export interface TlsFiles {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

const SERVER = NATS_SERVER;

/** The server list, each checked. */
export function parseServers(text: string | undefined, problems: ErrorDetail[]): string[] {
  const list = String(text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0)
    problems.push({ field: 'servers', reason: 'enter at least one server, e.g. nats://127.0.0.1:4222' });
  for (const s of list)
    if (!SERVER.test(s))
      problems.push({ field: 'servers', reason: 'not a NATS server address (nats://host:port)', value: s });
  return list;
}

/** A host:port list safe to show (no credentials are ever part of it). */
export function serversLabel(servers: string[]): string {
  return servers.join(', ');
}

export function connectionOptions(
  settings: NatsSettings,
  credentials: NatsCredentials | undefined,
  tls: TlsFiles | undefined,
  problems: ErrorDetail[],
): ConnectionOptions {
  const servers = parseServers(settings.servers, problems);
  const opts: ConnectionOptions = {
    servers,
    name: settings.name || 'saypro-integration-kit',
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    waitOnFirstConnect: true,
    timeout: 5000,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
  const c = credentials ?? {};
  const used = [
    c.user || c.password ? 'user' : '',
    c.token ? 'token' : '',
    c.seed ? 'seed' : '',
    c.creds ? 'creds' : '',
  ].filter((x) => x);
  if (used.length > 1) problems.push({ field: 'auth', reason: `use one way to sign in (found: ${used.join(', ')})` });
  if (c.creds) {
    opts.authenticator = natsCore().credsAuthenticator(new TextEncoder().encode(c.creds));
  } else if (c.seed) {
    const seed = c.seed.trim();
    if (!NATS_SEED.test(seed)) problems.push({ field: 'seed', reason: 'an NKey user seed starts with SU' });
    else opts.authenticator = natsCore().nkeyAuthenticator(new TextEncoder().encode(seed));
  } else if (c.token) {
    opts.token = c.token;
  } else if (c.user || c.password) {
    opts.user = c.user ?? '';
    opts.pass = c.password ?? '';
  }
  if (tls) {
    const t: Record<string, unknown> = {};
    if (tls.ca) t.ca = String(tls.ca);
    if (tls.cert) t.cert = String(tls.cert);
    if (tls.key) t.key = String(tls.key);
    if (tls.rejectUnauthorized === false) t.rejectUnauthorized = false;
    opts.tls = t as ConnectionOptions['tls'];
  }
  return opts;
}
