/**
 * "Test connection" for the endpoint dialog: checks, one step after the other,
 * that the endpoint's host is found (DNS), accepts a connection (TCP), speaks
 * TLS with a certificate this box trusts (https only), and accepts the
 * credentials (OAuth2: a token is fetched with the endpoint's own token code;
 * otherwise, when a probe path is given, a GET to it with the endpoint's
 * authentication). Each step says what happened in plain words.
 *
 * DNS, TCP and TLS use node:dns, node:net and node:tls directly (not the
 * delivery transport); the probe uses node:http/https. No Node-RED import.
 */
import * as dns from 'dns';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import { IntegrationError } from './errors';
import { resolveEnvRef } from './env';
import { Endpoint } from './http/endpoint';
import type { EndpointConfig, EndpointCredentials } from './http/endpoint-config';
import { resolveBaseUrl } from './http/base-url';
import { OAuth2TokenManager, type TokenAuth } from './http/oauth2';
import { Redactor } from './http/redact';
import { ENDPOINT_NUMBERS, numberOrDefault } from './rules';

export type StepName = 'settings' | 'dns' | 'tcp' | 'tls' | 'auth';

export interface StepResult {
  step: StepName;
  ok: boolean;
  /** plain words, never a secret */
  text: string;
  ms: number;
}

export interface ConnectionTestResult {
  ok: boolean;
  steps: StepResult[];
  /** one line for the dialog */
  summary: string;
}

export interface ConnectionTestInput {
  config: Record<string, unknown>;
  credentials?: Record<string, string | undefined>;
  /** optional path (relative to the base URL) to GET with the endpoint's authentication */
  path?: string;
}

export interface ConnectionTestOptions {
  env?: NodeJS.ProcessEnv;
  /** per step, ms (default: the endpoint's timeout, at most 10 s) */
  timeoutMs?: number;
  /** DNS look-up (tests) */
  lookup?: (host: string) => Promise<Array<{ address: string; family: number }>>;
  /** extra TLS options (e.g. a CA from a tls-config node) */
  tls?: tls.ConnectionOptions;
}

const TLS_WORDS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not trusted (unknown issuer)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate not trusted (unknown issuer)',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate not trusted (self-signed in chain)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate not trusted (self-signed)',
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is for another host name',
};

const NET_WORDS: Record<string, string> = {
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name server did not answer (no network or DNS down?)',
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ECONNRESET: 'connection reset by the other side',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'no answer (timed out)',
};

/** Plain words for a network or TLS error code. */
export function plainWords(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  return TLS_WORDS[code] ?? NET_WORDS[code] ?? (e?.message ? String(e.message) : String(err));
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}

async function step(steps: StepResult[], name: StepName, fn: () => Promise<string>): Promise<boolean> {
  const started = Date.now();
  try {
    const text = await fn();
    steps.push({ step: name, ok: true, text, ms: Date.now() - started });
    return true;
  } catch (err) {
    steps.push({
      step: name,
      ok: false,
      text: err instanceof IntegrationError ? err.message : plainWords(err),
      ms: Date.now() - started,
    });
    return false;
  }
}

function tcpConnect(host: string, port: number, ms: number): Promise<void> {
  const socket = net.connect({ host, port });
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    }),
    ms,
    () => socket.destroy(),
  );
}

function tlsConnect(
  address: string,
  port: number,
  servername: string,
  ms: number,
  extra: tls.ConnectionOptions = {},
): Promise<tls.TLSSocket> {
  const socket = tls.connect({
    ...extra,
    host: address,
    port,
    servername: net.isIP(servername) ? undefined : servername,
    rejectUnauthorized: false,
  });
  return withTimeout(
    new Promise<tls.TLSSocket>((resolve, reject) => {
      socket.once('secureConnect', () => resolve(socket));
      socket.once('error', reject);
    }),
    ms,
    () => socket.destroy(),
  ).catch((err) => {
    socket.destroy();
    throw err;
  });
}

/** The authorization check: an OAuth2 token, or a GET to the probe path. */
async function authStep(
  config: EndpointConfig,
  creds: EndpointCredentials,
  path: string | undefined,
  env: NodeJS.ProcessEnv,
  ms: number,
  tlsOptions: tls.ConnectionOptions = {},
): Promise<string> {
  const endpoint = new Endpoint({
    id: 'connection-test',
    config: config.authType === 'oauth2' ? { ...config, authType: 'none' } : config,
    credentials: creds,
    env,
  });
  try {
    if (config.authType === 'oauth2') {
      const tokenUrl = resolveBaseUrl(config.tokenUrl, undefined, env).url.toString();
      const secret = (v: string | undefined) => resolveEnvRef(v, env).value ?? '';
      const tokens = new OAuth2TokenManager({
        tokenUrl,
        clientId: secret(creds.clientId),
        clientSecret: secret(creds.clientSecret),
        scope: config.scope ? String(config.scope).trim() : undefined,
        audience: config.audience ? String(config.audience).trim() : undefined,
        tokenAuth: (config.tokenAuth || 'body') as TokenAuth,
        timeoutMs: ms,
      });
      try {
        await tokens.getToken();
        return 'OAuth2: the token server gave an access token';
      } finally {
        tokens.close();
      }
    }
    if (path === undefined || path.trim() === '') {
      return config.authType && config.authType !== 'none'
        ? 'credentials not checked: give a probe path (e.g. one that lists something) to try them'
        : 'no authentication configured';
    }
    const prepared = await endpoint.prepare({ method: 'GET', path: path.trim(), headers: {} });
    const redactor = new Redactor({ secrets: endpoint.secrets(), sensitiveNames: endpoint.sensitiveNames() });
    const status = await new Promise<number>((resolve, reject) => {
      const mod = prepared.url.startsWith('https:') ? https : http;
      const req = mod.request(
        prepared.url,
        {
          ...(prepared.url.startsWith('https:') ? tlsOptions : {}),
          method: 'GET',
          headers: prepared.headers,
          timeout: ms,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end();
    });
    const where = `GET ${redactor.url(prepared.url)}`;
    if (status === 401 || status === 403)
      throw new IntegrationError('AUTH_REFUSED', `${status} from the partner: the credentials were refused (${where})`);
    if (status >= 200 && status < 400) return `${where} answered ${status}: the credentials were accepted`;
    return `${where} answered ${status} (not a refusal of the credentials)`;
  } finally {
    endpoint.close();
  }
}

/** Runs the steps until one fails. Never throws. */
export async function testConnection(
  input: ConnectionTestInput,
  options: ConnectionTestOptions = {},
): Promise<ConnectionTestResult> {
  const env = options.env ?? process.env;
  const steps: StepResult[] = [];
  const config = (input.config ?? {}) as EndpointConfig;
  const creds = (input.credentials ?? {}) as EndpointCredentials;
  // the endpoint's own timeout (the rule of lib/rules/settings.ts), at most 10 s for a test
  const ms = options.timeoutMs ?? Math.min(10000, numberOrDefault(config.timeout, ENDPOINT_NUMBERS.timeout, 10000));

  let url: URL | undefined;
  const settingsOk = await step(steps, 'settings', async () => {
    const e = new Endpoint({ id: 'connection-test', config, credentials: creds, env });
    e.close();
    if (e.setupError) throw e.setupError;
    url = resolveBaseUrl(config.baseUrl, config.port, env).url;
    return `the settings work: ${url.protocol}//${url.host}`;
  });
  const done = (): ConnectionTestResult => {
    const failed = steps.find((s) => !s.ok);
    return { ok: !failed, steps, summary: failed ? `${failed.step}: ${failed.text}` : 'connection works' };
  };
  if (!settingsOk || !url) return done();

  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  let address = host;
  const lookup = options.lookup ?? ((h: string) => dns.promises.lookup(h, { all: true }));
  if (
    !(await step(steps, 'dns', async () => {
      if (net.isIP(host)) return `${host} is an IP address: no look-up needed`;
      const found = await withTimeout(lookup(host), ms, () => undefined);
      if (!found.length) throw Object.assign(new Error('host not found'), { code: 'ENOTFOUND' });
      address = found[0].address;
      return `${host} is ${found
        .map((a) => a.address)
        .slice(0, 3)
        .join(', ')}`;
    }))
  )
    return done();

  if (
    !(await step(steps, 'tcp', async () => {
      await tcpConnect(address, port, ms);
      return `connected to ${address} port ${port}`;
    }))
  )
    return done();

  if (url.protocol === 'https:') {
    if (
      !(await step(steps, 'tls', async () => {
        const socket = await tlsConnect(address, port, host, ms, options.tls);
        try {
          const cert = socket.getPeerCertificate();
          if (!socket.authorized) {
            const code = String(socket.authorizationError ?? '');
            throw new IntegrationError('TLS', `TLS: ${TLS_WORDS[code] ?? code}`);
          }
          const check = net.isIP(host) ? undefined : tls.checkServerIdentity(host, cert);
          if (check) throw new IntegrationError('TLS', `TLS: ${TLS_WORDS.ERR_TLS_CERT_ALTNAME_INVALID}`);
          return `TLS ${socket.getProtocol() ?? ''}: certificate trusted, valid until ${cert.valid_to}`;
        } finally {
          socket.destroy();
        }
      }))
    )
      return done();
  }

  await step(steps, 'auth', () => authStep(config, creds, input.path, env, ms, options.tls));
  return done();
}
