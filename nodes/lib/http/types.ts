/**
 * The contract between the endpoint config node (saypro-endpoint), which owns
 * everything about a third party's address and credentials, and the nodes that
 * send to it (saypro-http-post). Pure types: no Node-RED import.
 */
import type { Dispatcher } from 'undici';
import type { StopSignal } from './abort';

export type HttpMethod = 'POST' | 'PUT' | 'PATCH' | 'GET';

/** What a sender asks for; the endpoint turns it into a full request. */
export interface RequestIntent {
  /** overrides the endpoint's default method */
  method?: HttpMethod;
  /** path (and optional query) relative to the endpoint's base URL, already templated */
  path: string;
  /** headers from the sender (merged node/msg headers); the endpoint adds defaults and auth */
  headers: Record<string, string>;
}

/** One attempt's request, ready for the transport (lib/http/transport.ts). */
export interface PreparedRequest {
  method: HttpMethod;
  /** absolute URL including any API-key query parameter */
  url: string;
  /** final headers: endpoint defaults < sender headers < auth */
  headers: Record<string, string>;
  timeoutMs: number;
  /** the endpoint's undici dispatcher for this URL (direct or through a proxy) */
  dispatcher: Dispatcher;
  /** false: the connection is closed after the exchange */
  keepAlive: boolean;
  /** the most bytes of an answer read (RESPONSE_TOO_LARGE beyond) */
  maxResponseBytes: number;
}

export interface EndpointStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  /** an i18n key of the endpoint catalogue, or plain text */
  text?: string;
}

/** What the endpoint config node offers the nodes that use it. */
export interface EndpointHandle {
  readonly id: string;
  /** a label safe to log and to put in msg.delivery.endpoint (base URL without credentials) */
  readonly label: string;
  readonly defaultMethod: HttpMethod;
  /** builds the request for one attempt; may fetch or refresh an OAuth2 token (rejects with a clear error) */
  prepare(intent: RequestIntent): Promise<PreparedRequest>;
  /**
   * Called after a 401. Drops a cached OAuth2 token and returns true when a
   * single retry with a fresh token makes sense; false for other auth types.
   */
  invalidateAuth(): boolean;
  /** resolved secret values (keys, passwords, tokens) that must never be logged */
  secrets(): string[];
  /** header and query-parameter names whose values must be redacted in logs */
  sensitiveNames(): string[];
  /** a user node registers to receive the endpoint's status (token ok, auth failed …) */
  register(user: { id: string; status(s: EndpointStatus): void }): void;
  deregister(user: { id: string }): void;
  /**
   * The endpoint's pacer (lib/http/pacing.ts), shared by every node that sends
   * through it: each attempt is made between `acquire()` and `permit.release()`.
   * Optional so that a handle without pacing (a test double) still works:
   * deliver() then sends at once and counts network errors as attempts.
   */
  readonly pacer?: PacerLike;
  /** the pacer's state now (circuit, pause, offline, counts) */
  pacing?(): PacerState;
}

// ------------------------------------------------------------------ pacing

/** What became of the request made under a permit (tells the pacer how the endpoint is doing). */
export type PacerOutcome =
  /** an HTTP answer, whatever its status; retryAfterMs: the (capped) Retry-After of a 429 or 503 */
  | { kind: 'response'; status: number; retryAfterMs?: number }
  /** no answer: the connection failed with this code (ECONNREFUSED, ECONNRESET …) */
  | { kind: 'network'; code: string }
  /** no answer within the request timeout */
  | { kind: 'timeout' }
  /** no request was made, or it was aborted: says nothing about the endpoint */
  | { kind: 'cancelled' };

export type CircuitState = 'closed' | 'open' | 'half-open';

/** A snapshot of a pacer. Times are epoch ms. */
export interface PacerState {
  circuit: CircuitState;
  /** when the pause (Retry-After of a 429 or 503) ends, null when not paused */
  pausedUntil: number | null;
  /** true while the endpoint cannot be reached (network down): only probes go out */
  offline: boolean;
  /** permits out (requests being made) */
  inFlight: number;
  /** acquire() calls waiting */
  waiting: number;
  /** failures in a row (5xx, timeout, connection failure other than network down) */
  consecutiveFailures: number;
  /** when an open circuit lets a probe through, else null */
  openUntil: number | null;
  /** while offline: when the next probe may go, else null */
  nextProbeAt: number | null;
  /** while offline: the network error code that took the endpoint offline */
  offlineCode: string | null;
}

/** Leave to make one request; release it exactly once, saying what happened. */
export interface PacerPermit {
  /** true when this request is the single probe of a half-open circuit or of an offline endpoint */
  readonly probe: boolean;
  /** releases the slot; a second call does nothing. No outcome: as `cancelled`. */
  release(outcome?: PacerOutcome): void;
}

/** What deliver() needs of a pacer. */
export interface PacerLike {
  /**
   * Resolves with a permit once a concurrency slot, a rate token, no pause, a
   * closed circuit (or the half-open probe) and a reachable network (or the
   * offline probe) allow a request. Rejects with an AbortError (name
   * "AbortError", code "ABORT_ERR") when `signal` aborts, and with code
   * ENDPOINT_CLOSED once the pacer is closed.
   */
  acquire(signal?: StopSignal): Promise<PacerPermit>;
  /** a permit now, or undefined when acquire() would have to wait (or the pacer is closed) */
  tryAcquire(): PacerPermit | undefined;
  /** pauses every request until epoch ms `t` (never shortens a pause) */
  pauseUntil(t: number): void;
  state(): PacerState;
  /** the limits it applies (maxConcurrent 0: no limit on requests at once) */
  readonly settings?: Readonly<{ maxConcurrent: number }>;
}
