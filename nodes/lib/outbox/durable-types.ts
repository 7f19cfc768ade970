/**
 * The durable queue's public shapes (durable.ts) and the item it stores: the
 * request as built (minus what must not be on disk, see secret-headers.ts)
 * and a snapshot of the message.
 */
import { IntegrationError } from '../errors';
import type { DeadLetterCounts, DeadLetterSummary } from './dead-letter';
import { METHODS, type AttemptLog, type DeliverySettings } from '../http/deliver';
import type { EndpointHandle, HttpMethod, PacerState } from '../http/types';
import { isRecord } from '../rules';

/** The request as stored: exactly what was built from the message. */
export interface StoredRequest {
  method: HttpMethod | null;
  path: string;
  headers: Record<string, string>;
  bodyBase64: string | null;
}

/** An outbox item's data. */
export interface StoredItem {
  /** the key sent with every attempt (the item id, unless one event became several requests, see enqueue) */
  idempotencyKey: string;
  request: StoredRequest;
  /** the message without req, res, _msgid and _sayproAck (see snapshot.ts) */
  msg: Record<string, unknown>;
  /** epoch ms when the message was first queued */
  createdAt: number;
}

export interface DurableQueueOptions {
  dir: string;
  endpoint: EndpointHandle;
  settings: DeliverySettings;
  /** most pending items */
  maxItems: number;
  /** most bytes of pending data */
  maxBytes: number;
  fullPolicy: 'refuse' | 'dead-letter-oldest';
  /** most dead letters kept (the oldest are dropped with a warning); 0: no limit */
  maxDeadLetters: number;
  /** most items worked on at once (default: the endpoint's maxConcurrent, or 32 when it sets no limit); the pacer limits further */
  maxInFlight?: number;
  warn?: (text: string) => void;
  /** each request made (already redacted) */
  onAttempt?: (log: AttemptLog) => void;
  /** delivered: the restored message with the answer, for output 1 */
  onDelivered?: (msg: Record<string, unknown>) => void;
  /** moved to the dead letters: the restored message with msg.error, for output 2 */
  onFailed?: (msg: Record<string, unknown>, error: IntegrationError) => void;
  /** something the status shows changed */
  onChange?: () => void;
  now?: () => number;
  /** the vendor's idempotency key lifetime in ms (0 / absent: none): an attempt after it is dead-lettered (IDEMPOTENCY_WINDOW_PASSED) */
  keyLifetimeMs?: number;
  /**
   * The headers the node's configuration supplies (auth headers, API keys,
   * values from environment variables), resolved again for every attempt: they
   * are never written to the journal.
   */
  configHeaders?: () => Record<string, string>;
  /**
   * Encrypts the journal and the dead letters at rest (AES-256-GCM per record,
   * cipher.ts): a 32-byte key as 64 hex digits or base64, or a passphrase.
   * With it, secret-looking headers of the message (Authorization …) are
   * journaled too (encrypted); without it they are kept in memory only.
   */
  encryptionKey?: string;
  /**
   * Write-behind (fast-lane.ts), in ms: a message that finds a slot free goes
   * straight to its first attempt and is written to the journal only if it
   * is not delivered within this time. 0 / absent: every message is written
   * before its first attempt.
   */
  writeBehindMs?: number;
}

export interface DurableEnqueueInput {
  /** the idempotency key (also the item id, see enqueue) */
  id: string;
  orderingKey?: string;
  /** the request as built; method resolved (null: the endpoint's default) */
  method: HttpMethod | null;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
  msg: unknown;
  /** properties the snapshot cannot keep (req, res, _msgid), put back on the message when it leaves this process */
  live?: Record<string, unknown>;
}

export type DurableEnqueueResult =
  | { status: 'accepted'; id: string; evicted: string[] }
  | { status: 'duplicate'; id: string }
  | { status: 'full'; id: string; error: IntegrationError };

export interface DurableCounters {
  delivered: number;
  retried: number;
  deadLettered: number;
  refused: number;
}

export interface DurableStats extends DurableCounters {
  /** when the counts began (ms since the epoch): they survive redeploys and restarts */
  countsSince?: number;
  /** pending items */
  depth: number;
  /** bytes of pending data */
  bytes: number;
  /** age of the oldest pending item (0 when none) */
  oldestAgeMs: number;
  /** items being worked on (an attempt made, or waiting for the endpoint's pacer) */
  inFlight: number;
  /** of those, requests on the wire */
  sending: number;
  /** the endpoint's pacing state (circuit, pause, offline …), null when it has no pacer */
  circuit: PacerState | null;
  /** found when the journals (queue and dead letters) were opened: records lost to damage or missing segments */
  lostRecords: number;
  /** missing segment files, e.g. "queue/3", "dead-letter/1" */
  missingSegments: string[];
  /** records cut off the end of a journal: what a crash in the middle of a write leaves */
  tornRecords: number;
}

/** Dead-letter list entries as the admin API shows them. */
export interface DeadLetterListing {
  counts: DeadLetterCounts;
  items: DeadLetterSummary[];
}

/** a non-null, non-array object (lib/rules/objects.ts) */
export const isObj = isRecord;

/** The stored data, checked; undefined when it is not what enqueue wrote. */
export function parseStoredItem(data: unknown): StoredItem | undefined {
  if (!isObj(data) || !isObj(data.request) || !isObj(data.msg)) return undefined;
  const r = data.request;
  if (typeof r.path !== 'string' || !isObj(r.headers)) return undefined;
  if (r.bodyBase64 !== null && typeof r.bodyBase64 !== 'string') return undefined;
  const method =
    typeof r.method === 'string' && METHODS.includes(r.method as HttpMethod) ? (r.method as HttpMethod) : null;
  const headers: Record<string, string> = {};
  for (const k of Object.keys(r.headers)) {
    const v = r.headers[k];
    if (typeof v === 'string') headers[k] = v;
  }
  return {
    idempotencyKey: typeof data.idempotencyKey === 'string' && data.idempotencyKey !== '' ? data.idempotencyKey : '',
    request: { method, path: r.path, headers, bodyBase64: r.bodyBase64 as string | null },
    msg: data.msg,
    createdAt: typeof data.createdAt === 'number' ? data.createdAt : 0,
  };
}
