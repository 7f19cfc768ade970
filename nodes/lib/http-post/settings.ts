/**
 * The HTTP POST node's settings, read from its flow config and credentials.
 *
 * `parseHttpPostSettings(config, context)` returns the settings the node runs
 * with and two lists, each entry naming the field it is about:
 *
 * - `problems`: a setting the node cannot work with (an unknown method, a bad
 *   path template, success statuses such as `599-100`, a signing secret that
 *   is missing …). The node refuses every message with the first problem's
 *   error, so nothing is sent with settings nobody meant.
 * - `adjusted`: a number the node does not use as written: not a (whole)
 *   number, so the default is used, or outside its range, so the nearest
 *   bound is used. The node runs; the editor refuses such values.
 *
 * Fields read through Node-RED (the endpoint config node, the NATS config
 * node of the shared queue) are checked by the glue; `endpointProblem` phrases
 * the endpoint's. No Node-RED import here.
 */
import { IntegrationError, type ErrorDetail } from '../errors';
import { HTTP_POST_NUMBERS, isHeaderName, numberOf } from '../rules';
import { resolveEnvRef } from '../env';
import { compileTemplate, type CompiledTemplate } from '../template';
import { decodeWebhookSecret } from '../webhook-signature';
import { parseStatusSpec } from '../checks';
import { readDeadlineSetting } from '../deadline';
import { formatDuration, readKeyLifetime, scheduleOutlivesKey } from '../idempotency-window';
import { parsePath } from '../path';
import { buildSenderHeaders, type HeaderEntry } from '../http/sender';
import { DEFAULT_IDEMPOTENCY_HEADER, METHODS, type DeliverySettings } from '../http/deliver';
import { configuredHeaderSecrets } from '../http/redact';
import type { HttpMethod } from '../http/types';

export { METHODS, DEFAULT_IDEMPOTENCY_HEADER };

export const DEFAULTS = {
  maxAttempts: 5,
  initialDelay: 1000,
  maxDelay: 30000,
  maxRetryAfter: 120,
  maxQueued: 10000,
  maxQueuedMB: 100,
  fullPolicy: 'refuse' as const,
  maxDeadLetters: 10000,
  writeBehind: 100,
};

/** the bounds the node clamps its numbers to */
/** (lib/rules/settings.ts HTTP_POST_NUMBERS: the dialog's validators use the same table) */
export const LIMITS = {
  maxAttempts: HTTP_POST_NUMBERS.maxAttempts,
  initialDelay: HTTP_POST_NUMBERS.initialDelay,
  maxDelay: HTTP_POST_NUMBERS.maxDelay,
  maxRetryAfter: HTTP_POST_NUMBERS.maxRetryAfter,
  maxQueued: HTTP_POST_NUMBERS.maxQueued,
  maxQueuedMB: HTTP_POST_NUMBERS.maxQueuedMB,
  maxDeadLetters: HTTP_POST_NUMBERS.maxDeadLetters,
  writeBehind: HTTP_POST_NUMBERS.writeBehind,
};

type NumberField = keyof typeof LIMITS;

/** the node's properties as the editor saves them (every one may be missing or of any type in a hand-made flow) */
export interface HttpPostConfig {
  method?: unknown;
  path?: unknown;
  headers?: unknown;
  msgHeaders?: unknown;
  maxAttempts?: unknown;
  initialDelay?: unknown;
  maxDelay?: unknown;
  maxRetryAfter?: unknown;
  writeBehind?: unknown;
  idempotencyHeader?: unknown;
  successStatuses?: unknown;
  sign?: unknown;
  durable?: unknown;
  maxQueued?: unknown;
  maxQueuedMB?: unknown;
  fullPolicy?: unknown;
  orderingKey?: unknown;
  maxDeadLetters?: unknown;
  deadline?: unknown;
  keyLifetime?: unknown;
}

export interface HttpPostCredentials {
  signingSecret?: string;
  outboxKey?: string;
}

export type FullPolicy = 'refuse' | 'dead-letter-oldest';

export interface HttpPostSettings {
  /** undefined: the endpoint's default method */
  method: HttpMethod | undefined;
  /** undefined only when `problems` holds the path's */
  template: CompiledTemplate | undefined;
  headers: HeaderEntry[];
  msgHeaders: boolean;
  maxAttempts: number;
  initialDelay: number;
  maxDelay: number;
  maxRetryAfter: number;
  /** '' = no idempotency header */
  idempotencyHeader: string;
  /** statuses besides 2xx that count as success (undefined: none) */
  alsoSuccess: ((status: number) => boolean) | undefined;
  /** seconds (0 = none) */
  deadlineS: number;
  /** 0 = none (also when no idempotency header is sent) */
  keyLifetimeMs: number;
  signingSecret: string | undefined;
  durable: boolean;
  maxQueued: number;
  maxQueuedMB: number;
  maxDeadLetters: number;
  fullPolicy: FullPolicy;
  /** ms a message at its first attempt may go unwritten (durable queue's write-behind; 0: written first) */
  writeBehindMs: number;
  /** a message property path without `msg.` ('' = none) */
  orderingKey: string;
  /** encrypts the durable queue on disk (undefined: not encrypted) */
  outboxKey: string | undefined;
}

/** which status the node shows while a problem stands (an i18n key under http-post.status) */
export type ProblemStatus = 'noEndpoint' | 'invalidConfig' | 'invalidSecret';

export interface SettingProblem {
  field: string;
  /** the reason in plain words */
  message: string;
  /** what every message fails with while the problem stands (msg.error) */
  error: IntegrationError;
  status: ProblemStatus;
}

export interface SettingAdjustment {
  field: string;
  message: string;
  value: string;
  /** the value the node uses instead */
  used: number;
}

/** something to tell the user once at start (an i18n key under http-post.errors) */
export interface SettingWarning {
  field: string;
  key: string;
  vars?: Record<string, string>;
}

export interface ParsedHttpPostSettings {
  settings: HttpPostSettings;
  problems: SettingProblem[];
  adjusted: SettingAdjustment[];
  warnings: SettingWarning[];
}

export interface SettingsContext {
  credentials?: HttpPostCredentials;
  env?: NodeJS.ProcessEnv;
  /** the reason a message property path is not valid, undefined when it is (the glue passes Node-RED's own rule) */
  propertyPathProblem?: (path: string) => string | undefined;
}

export function parseHttpPostSettings(config: HttpPostConfig, context: SettingsContext = {}): ParsedHttpPostSettings {
  const problems: SettingProblem[] = [];
  const adjusted: SettingAdjustment[] = [];
  const warnings: SettingWarning[] = [];
  const refuse = (error: IntegrationError, field: string, status: ProblemStatus = 'invalidConfig') =>
    problems.push({ field, message: firstReason(error), error: withReason(error), status });
  const number = (field: NumberField) => readNumber(field, config[field], adjusted);

  const method = readMethod(config.method, refuse);
  const template = readTemplate(config.path, refuse);
  const headers = readHeaders(config.headers, refuse);
  const maxAttempts = number('maxAttempts');
  const initialDelay = number('initialDelay');
  const maxDelay = number('maxDelay');
  const maxRetryAfter = number('maxRetryAfter');
  const idempotencyHeader = readIdempotencyHeader(config.idempotencyHeader, refuse);
  const alsoSuccess = readSuccessStatuses(config.successStatuses, refuse);
  const deadlineS = readDeadline(config.deadline, refuse);
  const lifetimeH = readLifetime(config.keyLifetime, refuse);
  const keyLifetimeMs = idempotencyHeader !== '' ? Math.round(lifetimeH * 3600_000) : 0;
  if (keyLifetimeMs > 0 && scheduleOutlivesKey({ maxAttempts, maxDelay, maxRetryAfter }, keyLifetimeMs))
    warnings.push({
      field: 'keyLifetime',
      key: 'http-post.errors.keyLifetimeShort',
      vars: { lifetime: formatDuration(keyLifetimeMs) },
    });
  const env = context.env ?? process.env;
  const signingSecret =
    config.sign === true ? readSigningSecret(context.credentials?.signingSecret, env, refuse) : undefined;

  const durable = config.durable !== false && config.durable !== 'false';
  if (durable && deadlineS > 0) warnings.push({ field: 'deadline', key: 'http-post.errors.deadlineDurable' });
  const maxQueued = number('maxQueued');
  const maxQueuedMB = number('maxQueuedMB');
  const maxDeadLetters = number('maxDeadLetters');
  const writeBehindMs = number('writeBehind');
  const fullPolicy = readFullPolicy(config.fullPolicy, refuse);
  const orderingKey = readOrderingKey(config.orderingKey, context.propertyPathProblem ?? pathProblem, refuse);
  const outboxKey = readOutboxKey(context.credentials?.outboxKey, env, refuse);

  return {
    settings: {
      method,
      template,
      headers,
      msgHeaders: config.msgHeaders === true,
      maxAttempts,
      initialDelay,
      maxDelay,
      maxRetryAfter,
      idempotencyHeader,
      alsoSuccess,
      deadlineS,
      keyLifetimeMs,
      signingSecret,
      durable,
      maxQueued,
      maxQueuedMB,
      maxDeadLetters,
      fullPolicy,
      writeBehindMs,
      orderingKey,
      outboxKey,
    },
    problems,
    adjusted,
    warnings,
  };
}

/** What the delivery engine (lib/http/deliver.ts) needs of the settings, in both modes. */
export function deliverySettingsOf(s: HttpPostSettings): DeliverySettings {
  return {
    maxAttempts: s.maxAttempts,
    initialDelay: s.initialDelay,
    maxDelay: s.maxDelay,
    maxRetryAfter: s.maxRetryAfter,
    idempotencyHeader: s.idempotencyHeader,
    signingKey: s.signingSecret,
    alsoSuccess: s.alsoSuccess,
    // the node's own header values (possibly from ${ENV}) never reach a message, log or dead letter
    secrets: configuredHeaderSecrets(s.headers),
  };
}

/** The problem of a node without a usable endpoint config node (`found`: it exists and is deployed). */
export function endpointProblem(configured: unknown, found: boolean): SettingProblem | undefined {
  if (found) return undefined;
  const reason = configured
    ? 'the chosen endpoint config node does not exist or is not deployed'
    : 'choose an endpoint';
  const error = new IntegrationError('INVALID_CONFIG', `No endpoint is configured: ${reason}`, [
    { field: 'endpoint', reason },
  ]);
  return { field: 'endpoint', message: reason, error, status: 'noEndpoint' };
}

/** The error of a message reaching a node whose settings were never read (a safeguard). */
export function notConfigured(): IntegrationError {
  return new IntegrationError('INVALID_CONFIG', 'The node is not configured');
}

/** A problem found by the glue (e.g. the shared queue's NATS node), as one of the list. */
export function problemOf(error: IntegrationError, status: ProblemStatus = 'invalidConfig'): SettingProblem {
  return { field: error.details[0]?.field ?? '', message: firstReason(error), error: withReason(error), status };
}

// ---------------------------------------------------------------------------
// one reader per field

type Refuse = (error: IntegrationError, field: string, status?: ProblemStatus) => void;

function firstReason(error: IntegrationError): string {
  return error.details[0]?.reason ?? error.message;
}

/** msg.error.message states the first reason itself, not only that something is wrong */
function withReason(error: IntegrationError): IntegrationError {
  const reason = error.details[0]?.reason;
  if (!reason || error.message.includes(reason)) return error;
  return new IntegrationError(error.code, `${error.message}: ${reason}`, error.details);
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

function readMethod(value: unknown, refuse: Refuse): HttpMethod | undefined {
  if (METHODS.includes(value as HttpMethod)) return value as HttpMethod;
  if (value)
    refuse(
      new IntegrationError('INVALID_CONFIG', 'Unknown method', [
        { field: 'method', reason: 'expected POST, PUT, PATCH or GET', value: String(value) },
      ]),
      'method',
    );
  return undefined;
}

function readTemplate(value: unknown, refuse: Refuse): CompiledTemplate | undefined {
  try {
    return compileTemplate((value ?? '') as string);
  } catch (err) {
    refuse(asIntegrationError(err, 'path'), 'path');
    return undefined;
  }
}

function readHeaders(value: unknown, refuse: Refuse): HeaderEntry[] {
  const headers = Array.isArray(value) ? (value as HeaderEntry[]) : [];
  const check = buildSenderHeaders(headers, undefined);
  if (check.problems.length)
    refuse(new IntegrationError('INVALID_HEADER', 'Some headers are not valid', check.problems), 'headers');
  return headers;
}

/** A number setting: the default when it is not a (whole) number, clamped to its bounds. */
function readNumber(field: NumberField, value: unknown, adjusted: SettingAdjustment[]): number {
  const { min, max, integer } = LIMITS[field];
  const fallback = DEFAULTS[field];
  if (isBlank(value)) return fallback;
  // plain decimal text only, as the dialog reads it (lib/rules/numbers.ts): "1e3" or "0x10" is not a number here
  const n = numberOf(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    const kind = integer ? 'a whole number' : 'a number';
    adjusted.push({
      field,
      message: `not ${kind}: the default ${fallback} is used`,
      value: String(value),
      used: fallback,
    });
    return fallback;
  }
  const used = Math.min(max, Math.max(min, n));
  if (used !== n)
    adjusted.push({
      field,
      message: `${n < min ? 'below' : 'above'} the ${n < min ? 'least' : 'largest'} value ${used}, which is used`,
      value: String(value),
      used,
    });
  return used;
}

function readIdempotencyHeader(value: unknown, refuse: Refuse): string {
  const name = value === undefined ? DEFAULT_IDEMPOTENCY_HEADER : String(value).trim();
  if (name !== '' && !isHeaderName(name)) {
    refuse(
      new IntegrationError('INVALID_CONFIG', 'The idempotency header name is not valid', [
        { field: 'idempotencyHeader', reason: 'use letters, digits and - only', value: name },
      ]),
      'idempotencyHeader',
    );
  }
  return name;
}

/** e.g. "409": HubSpot's "already exists" is as good as a 201 for a flow */
function readSuccessStatuses(value: unknown, refuse: Refuse): ((status: number) => boolean) | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const parsed = parseStatusSpec(value);
  if (parsed.ok) return (status) => parsed.spec.matches(status);
  refuse(
    new IntegrationError('INVALID_CONFIG', 'The extra success statuses are not valid', [
      { field: 'successStatuses', reason: parsed.reason, value },
    ]),
    'successStatuses',
  );
  return undefined;
}

/** a synchronous flow (http in … http response) bounds how long a caller waits */
function readDeadline(value: unknown, refuse: Refuse): number {
  const setting = readDeadlineSetting(value);
  if (setting.ok) return setting.seconds;
  refuse(
    new IntegrationError('INVALID_CONFIG', 'The deadline is not valid', [
      { field: 'deadline', reason: setting.reason, value: String(value) },
    ]),
    'deadline',
  );
  return 0;
}

/** the vendor's idempotency key lifetime in hours: no attempt after it */
function readLifetime(value: unknown, refuse: Refuse): number {
  const setting = readKeyLifetime(value);
  if (setting.ok) return setting.hours;
  refuse(
    new IntegrationError('INVALID_CONFIG', 'The key lifetime is not valid', [
      { field: 'keyLifetime', reason: setting.reason, value: String(value) },
    ]),
    'keyLifetime',
  );
  return 0;
}

function readSigningSecret(value: string | undefined, env: NodeJS.ProcessEnv, refuse: Refuse): string | undefined {
  const secretProblem = (message: string, reason: string) =>
    refuse(
      new IntegrationError('INVALID_SECRET', message, [{ field: 'signingSecret', reason }]),
      'signingSecret',
      'invalidSecret',
    );
  const resolved = resolveEnvRef(value, env);
  if (resolved.missing) {
    secretProblem(
      `The signing secret refers to environment variable ${resolved.variable}, which is not set`,
      `environment variable ${resolved.variable} is not set`,
    );
    return undefined;
  }
  if (!resolved.value) {
    secretProblem('Signing is on but no signing secret is set', 'enter the whsec_… secret');
    return undefined;
  }
  try {
    decodeWebhookSecret(resolved.value);
    return resolved.value.trim();
  } catch (err) {
    const message = String((err as Error)?.message ?? err);
    secretProblem(message, message);
    return undefined;
  }
}

function readFullPolicy(value: unknown, refuse: Refuse): FullPolicy {
  if (value === 'dead-letter-oldest' || value === 'refuse') return value;
  if (value !== undefined && value !== '')
    refuse(
      new IntegrationError('INVALID_CONFIG', 'Unknown policy for a full queue', [
        { field: 'fullPolicy', reason: "expected 'refuse' or 'dead-letter-oldest'", value: String(value) },
      ]),
      'fullPolicy',
    );
  return DEFAULTS.fullPolicy;
}

/** messages with the same value go out one at a time, in order */
function readOrderingKey(value: unknown, problemOfPath: (path: string) => string | undefined, refuse: Refuse): string {
  const key = typeof value === 'string' ? value.trim().replace(/^msg\./, '') : '';
  if (key === '') return '';
  const reason = problemOfPath(key);
  if (reason !== undefined)
    refuse(
      new IntegrationError('INVALID_CONFIG', 'The ordering key is not a message property path', [
        { field: 'orderingKey', reason, value: key },
      ]),
      'orderingKey',
    );
  return key;
}

/** the key that encrypts the queue on disk: a credential, or ${VAR} naming an environment variable */
function readOutboxKey(value: string | undefined, env: NodeJS.ProcessEnv, refuse: Refuse): string | undefined {
  const resolved = resolveEnvRef(value, env);
  if (resolved.missing) {
    refuse(
      new IntegrationError(
        'INVALID_SECRET',
        `The queue encryption key refers to environment variable ${resolved.variable}, which is not set`,
        [{ field: 'outboxKey', reason: `environment variable ${resolved.variable} is not set` }],
      ),
      'outboxKey',
      'invalidSecret',
    );
    return undefined;
  }
  return resolved.value && resolved.value.trim() !== '' ? resolved.value : undefined;
}

/** the package's own property path rule (the glue passes Node-RED's, which the editor uses too) */
function pathProblem(path: string): string | undefined {
  try {
    parsePath(path);
    return undefined;
  } catch (err) {
    return String((err as Error)?.message ?? err);
  }
}

function asIntegrationError(err: unknown, field: string): IntegrationError {
  if (err instanceof IntegrationError) return err;
  const reason = String((err as Error)?.message ?? err);
  return new IntegrationError('INVALID_CONFIG', reason, [{ field, reason } satisfies ErrorDetail]);
}
