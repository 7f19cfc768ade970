/**
 * The process-wide telemetry bus: what the nodes report (events received,
 * delivery attempts, deliveries finished, API deprecation notices) and the
 * gauges that queues and endpoints offer (read when metrics are scraped).
 *
 * No Node-RED import. Node-RED loads each node type's module once per process
 * and keeps it across redeploys, so module-level state lives as long as the
 * runtime; it is kept on globalThis under a registered symbol so that two
 * copies of this file (two builds on the require path) still share one bus.
 * Listeners must be quick and must not throw (a throw is swallowed: reporting
 * never stops a delivery).
 */

/** An event came in at an event trigger (HTTP or wire). */
export interface EventReceived {
  kind: 'event-received';
  /** node name, else id */
  trigger: string;
  triggerId: string;
  /** the event's type when it was read (absent for a request refused before) */
  type?: string;
  /** the event's id when it was read (audit log only, never a metric label) */
  eventId?: string;
  /** accepted, ignored, duplicate, rejected; durable replies: refused, busy, unconfirmed, failed */
  outcome: string;
  errorCode?: string;
  errorMessage?: string;
  at: number;
}

/** One request made to a third party (already redacted). */
export interface Attempt {
  kind: 'attempt';
  /** endpoint name, else its label (base URL without credentials) */
  endpoint: string;
  endpointId: string;
  /** http post node name, else id */
  node: string;
  nodeId: string;
  method: string;
  /** redacted URL */
  url: string;
  /** HTTP status when an answer came */
  status?: number;
  /** failure code (HTTP_503, TIMEOUT, ECONNREFUSED …) */
  errorCode?: string;
  durationMs: number;
  /** success, retry, auth-retry, offline, failed, cancelled */
  result: string;
  attempt: number;
  maxAttempts: number;
  /** the idempotency key (audit log only) */
  eventId?: string;
  at: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'dead_lettered' | 'refused';

/** A message left an http post node for good. */
export interface DeliveryFinished {
  kind: 'delivery-finished';
  endpoint: string;
  endpointId: string;
  node: string;
  nodeId: string;
  outcome: DeliveryOutcome;
  statusCode?: number;
  /** from queueing (or the start of the first attempt) to the end */
  durationMs: number;
  attempts: number;
  eventId?: string;
  errorCode?: string;
  errorMessage?: string;
  at: number;
}

/** A response said that the API (version) in use is deprecated or will be withdrawn. */
export interface DeprecationNotice {
  kind: 'deprecation';
  endpoint: string;
  endpointId: string;
  node: string;
  nodeId: string;
  /** ISO date, or "true" when the header gives no date */
  deprecation?: string;
  /** ISO date */
  sunset?: string;
  link?: string;
  /** a vendor's own words (Stripe-Notice, Warning: 299 …), bounded */
  warning?: string;
  /** true when this notice is also warned about in the log (once per endpoint per day) */
  logged: boolean;
  at: number;
}

export type TelemetryEvent = EventReceived | Attempt | DeliveryFinished | DeprecationNotice;
export type Listener = (e: TelemetryEvent) => void;

/** A durable queue's figures, read at scrape time. */
export interface QueueGauge {
  node: string;
  nodeId: string;
  endpoint: string;
  depth: number;
  oldestAgeSeconds: number;
  deadLetters: number;
  /** shared mode only: the group (depth and dead letters above are then the group's) */
  shared?: SharedGauge;
}

/** A shared queue's group as one instance sees it. */
export interface SharedGauge {
  /** connected to a NATS server */
  connected: boolean;
  /** instances of the group that reported lately */
  members: number;
  /** deliveries by this instance, by the group (each member since its deploy) */
  delivered: number;
  groupDelivered: number;
  /** delivered / groupDelivered */
  share: number;
}

/** An endpoint's pacing state, read at scrape time. */
export interface EndpointGauge {
  endpoint: string;
  endpointId: string;
  paused: boolean;
  circuitOpen: boolean;
  halfOpen: boolean;
  offline: boolean;
}

interface BusState {
  listeners: Set<Listener>;
  queues: Map<string, () => QueueGauge | undefined>;
  endpoints: Map<string, () => EndpointGauge | undefined>;
}

const KEY = Symbol.for('saypro.integration-kit.telemetry');

function state(): BusState {
  const g = globalThis as unknown as Record<symbol, BusState | undefined>;
  let s = g[KEY];
  if (!s) {
    s = { listeners: new Set(), queues: new Map(), endpoints: new Map() };
    g[KEY] = s;
  }
  return s;
}

/** Hands an event to every listener. Never throws. */
export function emit(e: TelemetryEvent): void {
  for (const l of state().listeners) {
    try {
      l(e);
    } catch {
      // a listener's bug must not reach the node that reported
    }
  }
}

/** true when someone listens (callers may skip building an event otherwise) */
export function listening(): boolean {
  return state().listeners.size > 0;
}

export function subscribe(listener: Listener): () => void {
  const s = state();
  s.listeners.add(listener);
  return () => {
    s.listeners.delete(listener);
  };
}

function register<T>(map: Map<string, () => T | undefined>, id: string, provider: () => T | undefined): () => void {
  map.set(id, provider);
  // a redeployed node registers its new provider before the old one's close: only remove our own
  return () => {
    if (map.get(id) === provider) map.delete(id);
  };
}

/** A queue offers its figures; returns the function that withdraws them. */
export function registerQueue(nodeId: string, provider: () => QueueGauge | undefined): () => void {
  return register(state().queues, nodeId, provider);
}

/** An endpoint offers its state; returns the function that withdraws it. */
export function registerEndpoint(endpointId: string, provider: () => EndpointGauge | undefined): () => void {
  return register(state().endpoints, endpointId, provider);
}

function read<T>(map: Map<string, () => T | undefined>): T[] {
  const out: T[] = [];
  for (const p of map.values()) {
    try {
      const v = p();
      if (v) out.push(v);
    } catch {
      // a provider that fails (a queue closing) is left out of this scrape
    }
  }
  return out;
}

export function queues(): QueueGauge[] {
  return read(state().queues);
}

export function endpoints(): EndpointGauge[] {
  return read(state().endpoints);
}

/** Tests only: forgets listeners and providers. */
export function resetForTests(): void {
  const s = state();
  s.listeners.clear();
  s.queues.clear();
  s.endpoints.clear();
}
