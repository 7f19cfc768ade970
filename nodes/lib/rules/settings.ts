/**
 * The numeric and enumerated settings of each node: one table that the
 * runtime's settings readers and the edit dialogs' validators both use.
 * "optional": an empty field takes the node's default.
 */
import type { NumberRule } from './numbers';

const whole = (min: number, max: number): NumberRule => ({ min, max, integer: true, optional: true });
/** seconds above 0 (fractions allowed), at most `max` */
const seconds = (max: number): NumberRule => ({ min: 0, aboveMin: true, max, optional: true });

export const ENDPOINT_NUMBERS = {
  port: whole(1, 65535),
  /** milliseconds; at most a day */
  timeout: whole(1, 86400000),
  maxResponseMB: { min: 0, aboveMin: true, max: 1024, optional: true },
  maxConcurrent: whole(0, 1000),
  rateCount: whole(0, 1000000),
  rateInterval: seconds(86400),
  breakerFailures: whole(0, 1000),
  breakerRate: whole(0, 100),
  breakerMinRequests: whole(1, 1000000),
  breakerWindow: seconds(86400),
  breakerOpen: seconds(86400),
} satisfies Record<string, NumberRule>;

export const ENDPOINT_METHODS = ['POST', 'PUT', 'PATCH', 'GET'] as const;
export const AUTH_TYPES = ['none', 'apikey', 'basic', 'bearer', 'oauth2'] as const;
/** The credentials each authentication type uses; the others are neither checked nor read. */
export const AUTH_CREDENTIALS: Readonly<Record<(typeof AUTH_TYPES)[number], readonly string[]>> = {
  none: [],
  apikey: ['apiKey'],
  basic: ['username', 'password'],
  bearer: ['token'],
  oauth2: ['clientId', 'clientSecret'],
};

export const TRIGGER_NUMBERS = {
  /** bytes; at most 1 GB */
  maxBytes: whole(1, 1073741824),
  bodyTimeout: seconds(600),
  /** seconds; 0 turns de-duplication off; at most 30 days */
  dedupeWindow: { min: 0, max: 2592000, optional: true },
  ackTimeout: seconds(3600),
} satisfies Record<string, NumberRule>;

/** a trigger's URL path ("/" is added when missing): no blanks, query or fragment */
export const TRIGGER_PATH = /^\/?[^\s?#]*$/;
export const TRIGGER_REPLIES = ['durable', 'immediate'] as const;

export const HTTP_POST_NUMBERS = {
  maxAttempts: whole(1, 20),
  /** milliseconds; at most a day */
  initialDelay: whole(0, 86400000),
  maxDelay: whole(0, 86400000),
  /** seconds; at most a day */
  maxRetryAfter: whole(0, 86400),
  maxQueued: whole(1, 10000000),
  maxQueuedMB: { min: 0.001, max: 1048576, integer: false, optional: true },
  /** 0: no limit */
  maxDeadLetters: whole(0, 10000000),
  /** seconds; 0 or empty: none */
  deadline: { min: 0, max: 3600, optional: true },
  /** hours; 0 or empty: none */
  keyLifetime: { min: 0, max: 8784, optional: true },
  /** milliseconds; 0: every message is written before its first attempt */
  writeBehind: whole(0, 60000),
} satisfies Record<string, NumberRule>;

export const NATS_NUMBERS = {
  replicas: whole(1, 5),
} satisfies Record<string, NumberRule>;

/** a NATS server address: [nats:// | tls://]host[:port] */
export const NATS_SERVER = /^((nats|tls):\/\/)?[^\s/:]+(:\d{1,5})?$/i;

/** an NKey user seed */
export const NATS_SEED = /^SU[A-Z2-7]{50,}$/;

/**
 * Why a credential will not do for the chosen authentication, or undefined.
 * A credential the authentication type does not use is never a problem: the
 * dialog hides it and the runtime neither reads nor checks it.
 */
export function authCredentialProblem(
  authType: unknown,
  field: string,
  value: unknown,
): 'required' | 'lineBreak' | 'colon' | undefined {
  const type = (AUTH_TYPES as readonly unknown[]).includes(authType)
    ? (authType as keyof typeof AUTH_CREDENTIALS)
    : 'none';
  if (!AUTH_CREDENTIALS[type].includes(field)) return undefined;
  const text = typeof value === 'string' ? value : '';
  if (field === 'password') return undefined; // an empty Basic password is allowed
  if (text === '') return 'required';
  if (field === 'username') return text.includes(':') ? 'colon' : undefined;
  if ((field === 'apiKey' || field === 'token') && /[\r\n\0]/.test(text)) return 'lineBreak';
  return undefined;
}

/** one entry of an endpoint's allowed hosts: a host name, "*.domain", an IP or [IPv6] */
export const ALLOW_HOST_ENTRY = /^[A-Za-z0-9.*:[\]_-]+$/;

/** The entries of an allowed-hosts text that are not host names. */
export function invalidAllowHosts(text: unknown): string[] {
  const list = typeof text === 'string' ? text.split(/[\s,]+/).filter((h) => h !== '') : [];
  return list.filter((h) => !ALLOW_HOST_ENTRY.test(h));
}

export const MAPPING_SOURCE_TYPES = ['msg', 'jsonata', 'str', 'num', 'bool', 'json', 'env'] as const;
export const MAPPING_VALUE_TYPES = ['auto', 'string', 'number', 'integer', 'boolean', 'date', 'unix', 'minor'] as const;
export const MAPPING_NUMBERS = {
  /** decimals of a "minor units" rule (default 2) */
  decimals: whole(0, 8),
} satisfies Record<string, NumberRule>;

export const CHECK_MODES = ['all', 'any'] as const;

export const ENCRYPT_ALGORITHMS = ['aes-256-gcm', 'aes-256-cbc-hmac', 'cryptojs'] as const;
export const DECRYPT_ALGORITHMS = ['auto', ...ENCRYPT_ALGORITHMS] as const;
export const DECRYPT_OUTPUTS = ['auto', 'string', 'buffer', 'json'] as const;
export const AAD_TYPES = ['none', 'str', 'msg', 'env'] as const;
