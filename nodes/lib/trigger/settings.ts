/**
 * The trigger node's configuration, read once when it starts: every value
 * checked against the rules the dialog applies too (lib/rules), a safe
 * default for anything missing or out of range, and each such value listed in
 * `problems` (field, reason) so that the node can say so.
 */
import type { ErrorDetail } from '../errors';
import {
  TRIGGER_NUMBERS,
  TRIGGER_PATH,
  TRIGGER_REPLIES,
  invalidFilterEntries,
  isHeaderName,
  isEmptySetting,
  numberOrDefault,
  readNumber,
} from '../rules';
import { DEFAULT_BODY_TIMEOUT_SECONDS, DEFAULT_MAX_BYTES } from './body';
import { DEFAULT_DEDUPE_WINDOW_SECONDS } from './intake';
import { DEFAULT_ACK_TIMEOUT_SECONDS, replyModeOf, type ReplyMode } from './durable-reply';
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
  /** settings that were not valid (their defaults are used) */
  problems: ErrorDetail[];
}

const REASONS: Record<keyof typeof TRIGGER_NUMBERS, string> = {
  maxBytes: 'expected a whole number of bytes from 1 to 1073741824',
  bodyTimeout: 'expected a number of seconds above 0, at most 600',
  dedupeWindow: 'expected a number of seconds from 0 to 2592000 (30 days)',
  ackTimeout: 'expected a number of seconds above 0, at most 3600',
};

/** Every setting the dialog would refuse, as the runtime sees it. */
export function triggerProblems(config: TriggerConfig): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const url = typeof config.url === 'string' ? config.url.trim() : config.url;
  if (!isEmptySetting(url) && !(typeof url === 'string' && TRIGGER_PATH.test(url)))
    problems.push({ field: 'url', reason: 'a path such as /hooks/orders: no blanks, ? or #', value: String(url) });
  for (const field of Object.keys(TRIGGER_NUMBERS) as Array<keyof typeof TRIGGER_NUMBERS>) {
    if (!readNumber(config[field], TRIGGER_NUMBERS[field]).ok)
      problems.push({ field, reason: REASONS[field], value: String(config[field]) });
  }
  const bad = invalidFilterEntries(config.filter ?? '');
  if (bad.length) problems.push({ field: 'filter', reason: `not a type pattern: ${bad.join(', ')}` });
  if (!isEmptySetting(config.authHeader) && !isHeaderName(String(config.authHeader).trim()))
    problems.push({ field: 'authHeader', reason: 'not a valid header name', value: String(config.authHeader) });
  if (!isEmptySetting(config.reply) && !(TRIGGER_REPLIES as readonly unknown[]).includes(config.reply))
    problems.push({ field: 'reply', reason: 'expected durable or immediate', value: String(config.reply) });
  return problems;
}

export function triggerSettings(config: TriggerConfig): TriggerSettings {
  let url = (config.url ?? '').trim();
  if (url && url[0] !== '/') url = '/' + url;
  return {
    problems: triggerProblems(config),
    url,
    method: config.method === 'put' ? 'put' : 'post',
    maxBytes: numberOrDefault(config.maxBytes, TRIGGER_NUMBERS.maxBytes, DEFAULT_MAX_BYTES),
    bodyTimeoutSeconds: numberOrDefault(config.bodyTimeout, TRIGGER_NUMBERS.bodyTimeout, DEFAULT_BODY_TIMEOUT_SECONDS),
    filter: config.filter ?? '',
    dedupeWindowSeconds: numberOrDefault(
      config.dedupeWindow,
      TRIGGER_NUMBERS.dedupeWindow,
      DEFAULT_DEDUPE_WINDOW_SECONDS,
    ),
    auth: authModeOf(config.auth),
    authHeader: authHeaderOf(config.authHeader),
    replyMode: replyModeOf(config.reply),
    ackTimeoutSeconds: numberOrDefault(config.ackTimeout, TRIGGER_NUMBERS.ackTimeout, DEFAULT_ACK_TIMEOUT_SECONDS),
  };
}
