/**
 * Live preview for the edit dialogs: what a field mapper, format encoder,
 * encrypt or HTTP POST node would make of one sample message, computed with the
 * same lib/ code the nodes run — without sending anything anywhere. The HTTP
 * POST preview is the exact request (method, full URL, headers, body) with
 * every secret masked; an OAuth2 endpoint's token is not fetched (its header
 * shows a placeholder).
 *
 * No Node-RED import: the admin route (common/preview-admin.ts) resolves stored
 * credentials and hands in JSONata, environment and AAD look-ups.
 */
import { IntegrationError, toErrorInfo, type ErrorDetail, type IntegrationErrorInfo } from './errors';
import { resolveEnvRef } from './env';
import { createMapper, summarise, summariseRules, type MappingRule } from './mapping';
import { checkConfig, configError, encode, readConfig } from './encoding';
import {
  ALGORITHMS,
  DEFAULT_KID,
  aadToBuffer,
  KID_PATTERN,
  encryptPlaintext,
  headerValue,
  plaintextFromPayload,
  prepareKey,
  type Algorithm,
} from './crypto';
import { compileTemplate } from './template';
import {
  DEFAULT_IDEMPOTENCY_HEADER,
  METHODS,
  buildSenderHeaders,
  encodeBody,
  idempotencyKeyFor,
  setHeader,
  type HeaderEntry,
} from './http/deliver';
import { Endpoint } from './http/endpoint';
import type { EndpointConfig, EndpointCredentials } from './http/endpoint-config';
import { Redactor, REDACTED } from './http/redact';
import { decodeWebhookSecret, webhookSignatureHeaders } from './webhook-signature';
import type { HttpMethod } from './http/types';

export const PREVIEW_TYPES = [
  'saypro-field-mapper',
  'saypro-format-encoder',
  'saypro-encrypt',
  'saypro-http-post',
] as const;
export type PreviewType = (typeof PREVIEW_TYPES)[number];

/** The most body text a preview returns (the rest is cut, and said so). */
export const MAX_PREVIEW_BODY = 64 * 1024;
/** What an OAuth2 endpoint's Authorization header shows: the token is never fetched for a preview. */
export const OAUTH2_PLACEHOLDER = 'oauth2-access-token';

export interface PreviewInput {
  type: string;
  /** the dialog's current settings */
  config: Record<string, unknown>;
  /** the node's credentials, stored ones already filled in by the caller */
  credentials?: Record<string, string | undefined>;
  /** HTTP POST: its endpoint's settings and credentials */
  endpoint?: { config: Record<string, unknown>; credentials?: Record<string, string | undefined> };
  /** the sample message */
  msg: Record<string, unknown>;
}

export interface PreviewHooks {
  /** checks a JSONata expression (throws on a syntax error) */
  parseJsonata?(expr: string): void;
  /** evaluates a JSONata expression against the message */
  evaluateJsonata?(expr: string, msg: unknown): Promise<unknown>;
  /** a Node-RED setting / environment variable (env rules) */
  env?(name: string): unknown;
  /** the encrypt node's AAD from its typed input */
  aad?(value: string, type: string, msg: unknown): unknown;
  /** environment for `${VAR}` references (default process.env) */
  envVars?: NodeJS.ProcessEnv;
}

export type PreviewResult =
  | { ok: true; kind: 'mapped'; value: Record<string, unknown> }
  | { ok: true; kind: 'encoded'; format: string; contentType: string; body: string; bytes: number; truncated: boolean }
  | { ok: true; kind: 'encrypted'; payload: string; headers: Record<string, string>; alg: string; kid: string }
  | {
      ok: true;
      kind: 'request';
      method: HttpMethod;
      url: string;
      headers: Record<string, string>;
      body: string | null;
      bodyEncoding: 'utf8' | 'base64';
      bytes: number;
      truncated: boolean;
    }
  | { ok: false; error: IntegrationErrorInfo };

function fail(err: unknown, fallback = 'PREVIEW_FAILED'): PreviewResult {
  return { ok: false, error: toErrorInfo(err, fallback) };
}

/** Text of bytes for display: UTF-8 when they are, else base64; cut at MAX_PREVIEW_BODY. */
export function bodyText(bytes: Buffer): { body: string; bodyEncoding: 'utf8' | 'base64'; truncated: boolean } {
  const text = bytes.toString('utf8');
  const utf8 = Buffer.from(text, 'utf8').equals(bytes);
  const body = utf8 ? text : bytes.toString('base64');
  return {
    body: body.length > MAX_PREVIEW_BODY ? body.slice(0, MAX_PREVIEW_BODY) : body,
    bodyEncoding: utf8 ? 'utf8' : 'base64',
    truncated: body.length > MAX_PREVIEW_BODY,
  };
}

/** A sample message's payload as the nodes get it: `{type:'Buffer', data:[…]}` (a Buffer sent as JSON) back to a Buffer. */
export function reviveMessage(msg: unknown): Record<string, unknown> {
  const m =
    msg && typeof msg === 'object' && !Array.isArray(msg) ? { ...(msg as Record<string, unknown>) } : { payload: msg };
  const p = m.payload as { type?: unknown; data?: unknown } | undefined;
  if (p && typeof p === 'object' && p.type === 'Buffer' && Array.isArray(p.data))
    m.payload = Buffer.from(p.data as number[]);
  return m;
}

async function previewMapper(input: PreviewInput, hooks: PreviewHooks): Promise<PreviewResult> {
  const rules = (Array.isArray(input.config.rules) ? input.config.rules : []) as MappingRule[];
  const mapper = createMapper(rules, {
    parseJsonata: hooks.parseJsonata ? (expr) => hooks.parseJsonata!(expr) : undefined,
  });
  const result = await mapper.map(
    input.msg,
    {
      evaluateJsonata: hooks.evaluateJsonata ? (expr, msg) => hooks.evaluateJsonata!(expr, msg) : undefined,
      env: hooks.env ? (name) => hooks.env!(name) : (hooks.envVars ?? process.env),
    },
    { keepUnmapped: input.config.keepUnmapped === true || input.config.keepUnmapped === 'true' },
  );
  if (result.ok) return { ok: true, kind: 'mapped', value: result.value };
  const code = mapper.problems.length ? 'MAPPING_RULES_INVALID' : 'MAPPING_INVALID';
  const message = mapper.problems.length ? summariseRules(result.problems) : summarise(result.problems);
  return fail(new IntegrationError(code, message, result.problems));
}

function previewEncoder(input: PreviewInput): PreviewResult {
  const config = readConfig(input.config);
  const problems = checkConfig(config);
  if (problems.length) return fail(configError(problems));
  try {
    const r = encode(input.msg.payload, config);
    const bytes = Buffer.byteLength(r.body, 'utf8');
    const cut = r.body.length > MAX_PREVIEW_BODY;
    return {
      ok: true,
      kind: 'encoded',
      format: r.format,
      contentType: r.contentType,
      body: cut ? r.body.slice(0, MAX_PREVIEW_BODY) : r.body,
      bytes,
      truncated: cut,
    };
  } catch (err) {
    return fail(err, 'ENCODE_' + String(config.format).toUpperCase());
  }
}

function previewEncrypt(input: PreviewInput, hooks: PreviewHooks): PreviewResult {
  const c = input.config;
  const algorithm = String(c.algorithm || 'aes-256-gcm') as Algorithm;
  const kid = c.kid === undefined || c.kid === '' ? DEFAULT_KID : String(c.kid);
  const aadType = String(c.aadType || 'none');
  try {
    if (!ALGORITHMS.includes(algorithm)) {
      throw new IntegrationError('INVALID_CONFIG', 'Unknown algorithm', [
        { field: 'algorithm', reason: 'expected aes-256-gcm, aes-256-cbc-hmac or cryptojs', value: algorithm },
      ]);
    }
    if (!KID_PATTERN.test(kid))
      throw new IntegrationError('INVALID_CONFIG', 'Invalid key id', [
        { field: 'kid', reason: 'use 1 to 64 letters, digits, ".", "_", ":" or "-"' },
      ]);
    const resolved = resolveEnvRef(input.credentials?.key, hooks.envVars ?? process.env);
    if (resolved.missing) {
      throw new IntegrationError(
        'INVALID_KEY',
        `The key refers to environment variable ${resolved.variable}, which is not set`,
        [{ field: 'key', reason: `environment variable ${resolved.variable} is not set` }],
      );
    }
    const key = prepareKey(algorithm, resolved.value, kid);
    let aad: Buffer | undefined;
    if (aadType !== 'none' && algorithm !== 'cryptojs') {
      aad = aadToBuffer(hooks.aad ? hooks.aad(String(c.aad ?? ''), aadType, input.msg) : c.aad, 'ENCRYPT_AAD');
    }
    const plaintext = plaintextFromPayload(input.msg.payload, headerValue(input.msg.headers, 'content-type'));
    const r = encryptPlaintext(algorithm, key, plaintext, aad);
    const payload = typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload);
    return { ok: true, kind: 'encrypted', payload, headers: { ...r.headers }, alg: r.alg, kid: r.kid };
  } catch (err) {
    return fail(err, 'ENCRYPT_FAILED');
  }
}

/** A header value fit to show: sensitive ones keep their scheme word ("Bearer [redacted]"). */
function maskHeader(redactor: Redactor, name: string, value: string): string {
  if (!redactor.isSensitiveHeader(name)) return redactor.text(value);
  const scheme = /^(Basic|Bearer|Token|Digest)\s+/i.exec(value);
  return scheme ? `${scheme[1]} ${REDACTED}` : REDACTED;
}

async function previewRequest(input: PreviewInput, hooks: PreviewHooks): Promise<PreviewResult> {
  const c = input.config;
  const env = hooks.envVars ?? process.env;
  if (!input.endpoint) {
    return fail(
      new IntegrationError('INVALID_CONFIG', 'No endpoint is configured', [
        { field: 'endpoint', reason: 'choose an endpoint' },
      ]),
    );
  }
  const problems: ErrorDetail[] = [];
  const method = c.method ? (String(c.method).toUpperCase() as HttpMethod) : undefined;
  if (method && !METHODS.includes(method))
    problems.push({ field: 'method', reason: 'expected POST, PUT, PATCH or GET', value: String(c.method) });

  const epConfig = input.endpoint.config as EndpointConfig;
  const epCreds = (input.endpoint.credentials ?? {}) as EndpointCredentials;
  // the real settings are checked as the endpoint checks them at deploy…
  const real = new Endpoint({ id: 'preview', config: epConfig, credentials: epCreds, env });
  real.close();
  if (real.setupError) return fail(real.setupError);
  // …and an OAuth2 endpoint's request is shown with a placeholder: no token request for a preview
  const oauth2 = real.authType === 'oauth2';
  const endpoint = oauth2
    ? new Endpoint({
        id: 'preview',
        config: { ...epConfig, authType: 'bearer' },
        credentials: { token: OAUTH2_PLACEHOLDER },
        env,
      })
    : new Endpoint({ id: 'preview', config: epConfig, credentials: epCreds, env });
  try {
    if (endpoint.setupError) return fail(endpoint.setupError);
    const resolvedMethod = method && METHODS.includes(method) ? method : endpoint.defaultMethod;
    let path = '';
    try {
      path = compileTemplate(String(c.path ?? '')).render(input.msg);
    } catch (err) {
      problems.push(
        ...(err instanceof IntegrationError && err.details.length
          ? err.details
          : [{ field: 'path', reason: (err as Error).message }]),
      );
    }
    const msgHeaders = c.msgHeaders === true || c.msgHeaders === 'true';
    const built = buildSenderHeaders(
      (Array.isArray(c.headers) ? c.headers : []) as HeaderEntry[],
      msgHeaders ? input.msg.headers : undefined,
    );
    problems.push(...built.problems);
    const idempotencyHeader =
      c.idempotencyHeader === undefined ? DEFAULT_IDEMPOTENCY_HEADER : String(c.idempotencyHeader).trim();
    let signingSecret: string | undefined;
    if (c.sign === true || c.sign === 'true') {
      const r = resolveEnvRef(input.credentials?.signingSecret, env);
      if (r.missing) problems.push({ field: 'signingSecret', reason: `environment variable ${r.variable} is not set` });
      else if (!r.value)
        problems.push({ field: 'signingSecret', reason: 'signing is on but no signing secret is set' });
      else {
        try {
          decodeWebhookSecret(r.value);
          signingSecret = r.value.trim();
        } catch (err) {
          problems.push({ field: 'signingSecret', reason: (err as Error).message });
        }
      }
    }
    if (problems.length) {
      const summary = problems.map((p) => (p.field ? `${p.field}: ${p.reason}` : p.reason)).join('; ');
      return fail(new IntegrationError('INVALID_CONFIG', `The request cannot be built: ${summary}`, problems));
    }
    const headers = built.headers;
    const body = encodeBody(input.msg.payload, resolvedMethod, headers);
    // as lib/http/deliver.ts does for each attempt
    const key = idempotencyKeyFor(input.msg);
    if (idempotencyHeader) setHeader(headers, idempotencyHeader, key);
    if (signingSecret) {
      const signed = webhookSignatureHeaders(signingSecret, key, body ?? Buffer.alloc(0));
      for (const name of Object.keys(signed)) setHeader(headers, name, signed[name as keyof typeof signed]);
    }
    const prepared = await endpoint.prepare({ method: resolvedMethod, path, headers });
    const redactor = new Redactor({
      secrets: [...real.secrets(), ...endpoint.secrets().filter((s) => s !== OAUTH2_PLACEHOLDER), signingSecret],
      sensitiveNames: real.sensitiveNames(),
    });
    const shown: Record<string, string> = {};
    for (const name of Object.keys(prepared.headers)) {
      const v = prepared.headers[name];
      shown[name] =
        oauth2 && /^authorization$/i.test(name) ? `Bearer <${OAUTH2_PLACEHOLDER}>` : maskHeader(redactor, name, v);
    }
    const text = body ? bodyText(body) : undefined;
    return {
      ok: true,
      kind: 'request',
      method: prepared.method,
      url: redactor.url(prepared.url),
      headers: shown,
      body: text ? redactor.text(text.body) : null,
      bodyEncoding: text ? text.bodyEncoding : 'utf8',
      bytes: body ? body.length : 0,
      truncated: text ? text.truncated : false,
    };
  } catch (err) {
    return fail(err, 'PREPARE_FAILED');
  } finally {
    endpoint.close();
  }
}

/** What `input.type` would make of `input.msg`. Never throws; never sends anything. */
export async function preview(input: PreviewInput, hooks: PreviewHooks = {}): Promise<PreviewResult> {
  try {
    if (!input || typeof input !== 'object')
      throw new IntegrationError('BAD_REQUEST', 'The preview request must be an object');
    const msg = reviveMessage(input.msg);
    const full: PreviewInput = {
      ...input,
      config: input.config && typeof input.config === 'object' ? input.config : {},
      msg,
    };
    switch (input.type) {
      case 'saypro-field-mapper':
        return await previewMapper(full, hooks);
      case 'saypro-format-encoder':
        return previewEncoder(full);
      case 'saypro-encrypt':
        return previewEncrypt(full, hooks);
      case 'saypro-http-post':
        return await previewRequest(full, hooks);
      default:
        throw new IntegrationError('BAD_REQUEST', `No preview for node type ${String(input.type)}`, [
          { field: 'type', reason: `expected one of ${PREVIEW_TYPES.join(', ')}` },
        ]);
    }
  } catch (err) {
    return fail(err);
  }
}
