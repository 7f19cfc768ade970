/**
 * The HTTP POST node's status: what the node shows under itself, composed
 * from what it knows now (its settings problem, the queue, the messages in
 * flight, the endpoint's pacing, the last outcome).
 *
 * - It tells the story and stays: at rest the node shows its last outcome
 *   and its queue ("200 · 0 queued", "401 from partner"), not a blank.
 * - A failure names its cause in a few plain words ("host not found",
 *   "TLS: not trusted", "no API key: PARTNER_API_KEY").
 * - The dot's colour is the worst current state: a settings problem, a
 *   failure, dead letters or lost journal records (red) outrank a paused or
 *   offline endpoint and a retry wait (yellow), which outrank sending (blue)
 *   and a last success (green).
 * - Every text fits in 28 characters in English: values that can grow
 *   (codes, names, counts) are cut or written compactly ("12k").
 *
 * A status is a view: an i18n key under http-post.status with values, where a
 * value may itself be a view (the cause); `renderStatus` translates it.
 */
import { formatAge } from '../outbox/age';

export type Fill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export type Shape = 'ring' | 'dot';

/** a text to translate: key and values (a value may be a part itself) */
export interface Part {
  key: string;
  vars?: Record<string, string | number | Part>;
}

export interface StatusView extends Part {
  fill: Fill;
  shape: Shape;
  /** shown instead when the text would be longer than MAX_STATUS_CHARS in the user's language */
  short?: Part;
}

/** what the node shows: a view, a status the endpoint pushed (already translated), or nothing */
export type Shown = StatusView | { fill?: Fill; shape?: Shape; text?: string } | null;

/** what a delivery ended with */
export type Outcome = { ok: true; status: number } | { ok: false; code: string; message?: string; statusCode?: number };

export interface PacingFacts {
  offline: boolean;
  /** the network error that took the endpoint offline (ENOTFOUND …) */
  offlineCode?: string | null;
  circuitOpen: boolean;
  paused: boolean;
}

export interface QueueFacts {
  state: 'opening' | 'open' | 'unavailable' | 'locked';
  depth: number;
  oldestAgeMs: number;
  /** attempts being made now */
  sending: number;
  deadLetters: number;
  /** journal records found lost at open (shown until a delivery succeeds) */
  lost: number;
}

export interface StatusFacts {
  /** a settings problem: every message is refused */
  problem?: { status: 'noEndpoint' | 'invalidConfig' | 'invalidSecret'; field: string };
  /** durable mode: the queue (undefined in memory mode) */
  queue?: QueueFacts;
  /** in-memory mode: messages being delivered, and the retry a waiting one is at when all wait */
  inFlight?: { count: number; retry?: { n: number; m: number } };
  pacing?: PacingFacts;
  /** the endpoint's own status (a failed token …), translated by the endpoint */
  endpoint?: { fill?: Fill; shape?: Shape; text?: string };
  last?: Outcome;
}

/** the longest status text (in English) that does not run into the next node */
export const MAX_STATUS_CHARS = 28;

const K = 'http-post.status.';
const RANK: Record<Fill, number> = { grey: 0, green: 1, blue: 2, yellow: 3, red: 4 };

// ---------------------------------------------------------------------------
// composition

export function composeStatus(f: StatusFacts): Shown {
  if (f.problem) return problemView(f.problem);
  if (f.queue) return queueView(f.queue, f);
  return memoryView(f);
}

function problemView(p: NonNullable<StatusFacts['problem']>): StatusView {
  if (p.status === 'noEndpoint') return red(K + 'noEndpoint');
  return red(K + p.status, { field: cut(p.field, 16) });
}

/** durable mode: the queue's story, the worst condition first */
function queueView(q: QueueFacts, f: StatusFacts): Shown {
  if (q.state === 'opening') return { fill: 'grey', shape: 'ring', key: K + 'opening' };
  if (q.state === 'unavailable') return red(K + 'outboxUnavailable');
  if (q.state === 'locked') return red(K + 'outboxLocked');
  const depth = compact(q.depth);
  const last = f.last;
  if (q.lost > 0) return red(K + 'journalLoss', { count: compact(q.lost), depth });
  if (last && !last.ok) {
    const failed = { key: K + 'failed', vars: { cause: causeOf(last) } };
    if (q.depth === 0) return red(failed.key, failed.vars);
    return { ...red(K + 'failedQueued', { cause: causeOf(last), depth }), short: failed };
  }
  if (q.deadLetters > 0) {
    const dead = compact(q.deadLetters);
    if (q.depth > 0) return red(K + 'deadQueued', { dead, depth });
    return last?.ok ? red(K + 'deliveredDead', { status: last.status, dead }) : red(K + 'dead', { dead });
  }
  const paced = f.pacing ? pacingCause(f.pacing) : undefined;
  if (q.depth > 0 && paced) return yellow(K + 'queuedPaced', { depth, state: paced });
  if (q.depth > 0) {
    const view = { key: K + 'queued', vars: { depth, age: formatAge(q.oldestAgeMs) } };
    return q.sending > 0 ? { fill: 'blue', shape: 'dot', ...view } : { fill: 'yellow', shape: 'ring', ...view };
  }
  const rest: Shown = last?.ok ? green(K + 'delivered', { status: last.status, depth }) : null;
  return worst(rest, f.endpoint);
}

/** in-memory mode: what is in flight, else the last outcome */
function memoryView(f: StatusFacts): Shown {
  const flight = f.inFlight;
  if (flight && flight.count > 0) {
    if (flight.retry) return yellow(K + 'retry', { n: flight.retry.n, m: flight.retry.m });
    return { fill: 'blue', shape: 'dot', key: K + 'sending', vars: { count: compact(flight.count) } };
  }
  const last = f.last;
  if (last && !last.ok) return red(K + 'failed', { cause: causeOf(last) });
  const rest: Shown = last?.ok ? green(K + 'success', { status: last.status }) : null;
  return worst(rest, f.endpoint);
}

/** the worse of two statuses at rest; the node's own on a tie */
function worst(own: Shown, endpoint: StatusFacts['endpoint']): Shown {
  const ep = endpoint && (endpoint.text || endpoint.fill) ? endpoint : undefined;
  if (!ep) return own;
  if (!own) return ep;
  return RANK[ep.fill ?? 'grey'] > RANK[own.fill ?? 'grey'] ? ep : own;
}

function red(key: string, vars?: Part['vars']): StatusView {
  return { fill: 'red', shape: 'ring', key, ...(vars ? { vars } : {}) };
}
function yellow(key: string, vars?: Part['vars']): StatusView {
  return { fill: 'yellow', shape: 'ring', key, ...(vars ? { vars } : {}) };
}
function green(key: string, vars?: Part['vars']): StatusView {
  return { fill: 'green', shape: 'dot', key, ...(vars ? { vars } : {}) };
}

/**
 * What a message leaving the node says of its delivery: output 1 is a
 * success (with its status), output 2 a failure (with msg.error); undefined
 * when nothing left.
 */
export function outcomeOf(out: unknown): Outcome | undefined {
  const arr = Array.isArray(out) ? out : [out];
  const ok = arr[0] as { statusCode?: unknown } | null | undefined;
  if (ok) return { ok: true, status: Number(ok.statusCode) };
  const failed = arr[1] as { error?: { code?: unknown; message?: unknown } } | null | undefined;
  const code = failed?.error?.code;
  if (typeof code !== 'string') return undefined;
  const message = failed?.error?.message;
  return { ok: false, code, ...(typeof message === 'string' ? { message } : {}) };
}

/** The pacing facts from an endpoint pacer's state (lib/http/types.ts PacerState). */
export function pacingFactsOf(
  p: { offline: boolean; offlineCode: string | null; circuit: string; pausedUntil: number | null } | undefined,
  now: number,
): PacingFacts | undefined {
  if (!p) return undefined;
  const paused = p.pausedUntil !== null && p.pausedUntil > now;
  return { offline: p.offline, offlineCode: p.offlineCode, circuitOpen: p.circuit === 'open', paused };
}

/**
 * In memory: the messages in flight, and when every one waits for a retry the
 * attempt `shown` is at (the one that last began waiting, else the newest).
 */
export function flightFactsOf<S extends { phase: string; attempts: number; maxAttempts: number }>(
  states: S[],
  shown: S | undefined,
  nextAttempt: (s: S) => number,
): StatusFacts['inFlight'] {
  if (states.length === 0 || !states.every((s) => s.phase === 'waiting')) return { count: states.length };
  const s = shown && states.includes(shown) ? shown : states[states.length - 1];
  return { count: states.length, retry: { n: nextAttempt(s), m: s.maxAttempts } };
}

// ---------------------------------------------------------------------------
// causes: a few plain words for a failure

const C = K + 'cause.';

const NETWORK_CAUSES: Record<string, string> = {
  ENOTFOUND: 'hostNotFound',
  EAI_AGAIN: 'dnsFailed',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'dropped',
  EPIPE: 'dropped',
  UND_ERR_SOCKET: 'dropped',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENETDOWN: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ETIMEDOUT: 'timeout',
  TIMEOUT: 'timeout',
  CERT_HAS_EXPIRED: 'tlsExpired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tlsWrongHost',
  PROXY_AUTH_REQUIRED: 'proxyAuth',
  PROXY_ERROR: 'proxy',
  TARGET_BLOCKED: 'blocked',
  RESPONSE_TOO_LARGE: 'tooLarge',
  DEADLINE_EXCEEDED: 'deadline',
  IDEMPOTENCY_WINDOW_PASSED: 'keyExpired',
  CANCELLED: 'cancelled',
  OUTBOX_FULL: 'queueFull',
  OUTBOX_UNAVAILABLE: 'queueUnavailable',
  OUTBOX_LOCKED: 'queueUnavailable',
  TEMPLATE: 'template',
  INVALID_HEADER: 'header',
  INVALID_PAYLOAD: 'payload',
  INVALID_DEADLINE: 'msgDeadline',
  INVALID_CONFIG: 'config',
  INVALID_SECRET: 'secret',
  OAUTH2_TOKEN: 'token',
  INTERNAL_ERROR: 'internal',
};

/** certificate problems of the kind "the chain does not lead to a CA we trust" */
const TLS_UNTRUSTED =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/;
const TLS_OTHER = /^(ERR_SSL_|ERR_TLS_|EPROTO$|CERT_)/;
/** what endpoint.prepare() says of a credential read from an unset variable */
const UNSET_VARIABLE = /^(\w+): environment variable ([A-Za-z_][A-Za-z0-9_]*) is not set/;

/**
 * The cause of a failed delivery in a few plain words; `room` is the most
 * characters a value inside it may take (a code, a variable name).
 */
export function causeOf(o: Extract<Outcome, { ok: false }>, room = 16): Part {
  const code = o.code;
  const http = /^HTTP_(\d{3})$/.exec(code);
  if (http) return { key: C + 'http', vars: { status: Number(http[1]) } };
  if (code === 'PREPARE_FAILED') return prepareCause(o.message ?? '', room);
  const known = NETWORK_CAUSES[code];
  if (known) return { key: C + known };
  if (TLS_UNTRUSTED.test(code)) return { key: C + 'tlsUntrusted' };
  if (TLS_OTHER.test(code)) return { key: C + 'tls' };
  return { key: C + 'code', vars: { code: cut(code, Math.max(room, 8)) } };
}

/** the endpoint could not prepare the request: a missing key, a refused token, bad settings */
function prepareCause(message: string, room: number): Part {
  const unset = UNSET_VARIABLE.exec(message);
  if (unset) {
    const variable = cut(unset[2], room);
    return /^(apiKey|token|password|clientSecret)$/.test(unset[1])
      ? { key: C + 'noKey', vars: { variable } }
      : { key: C + 'unset', vars: { variable } };
  }
  if (/token/i.test(message)) return { key: C + 'token' };
  if (/^\w+: /.test(message)) return { key: C + 'endpointConfig' };
  return { key: C + 'prepare' };
}

/** the endpoint's pacing problem while messages wait, as a cause */
export function pacingCause(p: PacingFacts): Part | undefined {
  if (p.offline) {
    const code = p.offlineCode ?? '';
    return NETWORK_CAUSES[code] ? { key: C + NETWORK_CAUSES[code] } : { key: K + 'offline' };
  }
  if (p.circuitOpen) return { key: K + 'circuitOpen' };
  if (p.paused) return { key: K + 'paused' };
  return undefined;
}

// ---------------------------------------------------------------------------
// values that fit

/** a count in at most 4 characters: 999, 1.2k, 12k, 123k, 1.2M … (a number below 1000) */
export function compact(n: number): string | number {
  if (!Number.isFinite(n) || n < 0) return 0;
  if (n < 1000) return Math.floor(n);
  const units: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      const v = n / size;
      if (v >= 1000) return `${Math.floor(v / 1000)}${unit === 'G' ? 'T' : unit}`.slice(0, 4);
      return v < 10 ? `${Math.floor(v * 10) / 10}${unit}` : `${Math.floor(v)}${unit}`;
    }
  }
  return Math.floor(n);
}

/** text cut to `max` characters, the last one an ellipsis when it was longer */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

// ---------------------------------------------------------------------------
// translation

/** The text of a part: its values translated first (a cause inside a status). */
export function renderPart(
  p: Part,
  translate: (key: string, vars?: Record<string, string | number>) => string,
): string {
  if (!p.vars) return translate(p.key);
  const vars: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(p.vars)) vars[k] = typeof v === 'object' ? renderPart(v, translate) : v;
  return translate(p.key, vars);
}

/** The Node-RED status object for what `composeStatus` returned. */
export function renderStatus(
  shown: Shown,
  translate: (key: string, vars?: Record<string, string | number>) => string,
): { fill?: Fill; shape?: Shape; text?: string } {
  if (!shown) return {};
  if (!('key' in shown)) return { fill: shown.fill, shape: shown.shape, text: shown.text };
  let text = renderPart(shown, translate);
  if (text.length > MAX_STATUS_CHARS && shown.short) text = renderPart(shown.short, translate);
  return { fill: shown.fill, shape: shown.shape, text };
}

// ---------------------------------------------------------------------------
// the node's memory of what happened

type DeliveryLike = { phase: string; attempts: number; maxAttempts: number };

/**
 * What the node remembers for its status between events: the last outcome,
 * the endpoint's pushed status, the queue's state, lost records, dead letters
 * and the delivery that last began waiting. `facts()` joins it with what is
 * live (the queue's depth, the deliveries in flight, the endpoint's pacing).
 */
export class StatusBoard<S extends DeliveryLike = DeliveryLike> {
  last: Outcome | undefined;
  endpoint: StatusFacts['endpoint'];
  queueState: QueueFacts['state'] = 'opening';
  lost = 0;
  deadLetters = 0;
  private waiting: S | undefined;

  constructor(
    private readonly o: {
      durable: boolean;
      problem: StatusFacts['problem'];
      /** 0 = no limit */
      maxDeadLetters: number;
      nextAttempt: (s: S) => number;
    },
  ) {}

  /** a delivery changed phase */
  phase(s: S): void {
    if (s.phase === 'waiting') this.waiting = s;
  }

  /** a delivery ended with `outcome` (undefined: nothing left the node) */
  ended(outcome: Outcome | undefined): void {
    if (outcome) this.last = outcome;
    if (outcome?.ok) this.lost = 0;
  }

  /** an item became a dead letter (the count is read again after a replay or purge) */
  deadLettered(): void {
    this.deadLetters = Math.min(this.deadLetters + 1, this.o.maxDeadLetters > 0 ? this.o.maxDeadLetters : Infinity);
  }

  /** the endpoint pushed a status; in memory, a fresh one replaces a stale failure while idle */
  endpointSaid(e: { fill?: Fill; shape?: Shape; text?: string } | undefined, idle: boolean): void {
    this.endpoint = e && (e.text || e.fill) ? { fill: e.fill, shape: e.shape, text: e.text } : undefined;
    if (!this.o.durable && this.endpoint && idle && this.last && !this.last.ok) this.last = undefined;
  }

  facts(live: {
    queue?: { depth: number; oldestAgeMs: number; sending: number };
    inFlight: S[];
    pacing: PacingFacts | undefined;
  }): StatusFacts {
    const queue = live.queue ?? { depth: 0, oldestAgeMs: 0, sending: 0 };
    const state = live.queue ? 'open' : this.queueState;
    return {
      problem: this.o.problem,
      queue: this.o.durable ? { state, ...queue, deadLetters: this.deadLetters, lost: this.lost } : undefined,
      inFlight: this.o.durable ? undefined : flightFactsOf(live.inFlight, this.waiting, this.o.nextAttempt),
      pacing: live.pacing,
      endpoint: this.endpoint,
      last: this.last,
    };
  }
}
