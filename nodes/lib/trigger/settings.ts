/**
 * The trigger node's configuration, read once when it starts: every value
 * checked, a safe default for anything missing or out of range.
 */
import { DEFAULT_BODY_TIMEOUT_SECONDS, DEFAULT_MAX_BYTES, MAX_BODY_TIMEOUT_SECONDS } from './body';
import { DEFAULT_DEDUPE_WINDOW_SECONDS } from './intake';
import { ackTimeoutOf, replyModeOf, type ReplyMode } from './durable-reply';
import { authHeaderOf, authModeOf, type AuthMode } from './auth';

export interface TriggerConfig {
  url?: string;
  method?: string;
  maxBytes?: number | string;
  bodyTimeout?: number | string;
  filter?: string;
  dedupeWindow?: number | string;
  auth?: string;
  authHeader?: string;
  reply?: string;
  ackTimeout?: number | string;
}

export interface TriggerSettings {
  /** "" for the input wire only, else the path starting with "/" */
  url: string;
  method: 'post' | 'put';
  maxBytes: number;
  bodyTimeoutSeconds: number;
  filter: string;
  dedupeWindowSeconds: number;
  auth: AuthMode;
  authHeader: string;
  replyMode: ReplyMode;
  ackTimeoutSeconds: number;
}

function numberOf(value: unknown): unknown {
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
}

export function positiveInteger(value: unknown, fallback: number): number {
  const n = numberOf(value);
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : fallback;
}

export function nonNegative(value: unknown, fallback: number): number {
  const n = numberOf(value);
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Seconds above 0 and at most `max` (fractions allowed), else the fallback. */
export function secondsOf(value: unknown, fallback: number, max: number): number {
  const n = numberOf(value);
  return typeof n === 'number' && Number.isFinite(n) && n > 0 && n <= max ? n : fallback;
}

export function triggerSettings(config: TriggerConfig): TriggerSettings {
  let url = (config.url ?? '').trim();
  if (url && url[0] !== '/') url = '/' + url;
  return {
    url,
    method: config.method === 'put' ? 'put' : 'post',
    maxBytes: positiveInteger(config.maxBytes, DEFAULT_MAX_BYTES),
    bodyTimeoutSeconds: secondsOf(config.bodyTimeout, DEFAULT_BODY_TIMEOUT_SECONDS, MAX_BODY_TIMEOUT_SECONDS),
    filter: config.filter ?? '',
    dedupeWindowSeconds: nonNegative(config.dedupeWindow, DEFAULT_DEDUPE_WINDOW_SECONDS),
    auth: authModeOf(config.auth),
    authHeader: authHeaderOf(config.authHeader),
    replyMode: replyModeOf(config.reply),
    ackTimeoutSeconds: ackTimeoutOf(config.ackTimeout),
  };
}
