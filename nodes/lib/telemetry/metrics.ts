/**
 * Prometheus metrics (prom-client) fed by the telemetry bus. Counters and
 * histograms count what the bus reports; gauges are read from the queues' and
 * endpoints' providers when scraped. One registry per process, created once,
 * so counters survive redeploys. Every label value is bounded: node and
 * endpoint names (from the flow), status classes, capped event types and
 * error codes; never URLs, never event ids. No Node-RED import.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import * as bus from './bus';
import { BoundedLabel, cleanLabel, statusClass } from './labels';

export interface MetricsOptions {
  /** process_* and nodejs_* metrics of prom-client (memory, CPU, event loop lag) */
  processMetrics?: boolean;
  /** distinct event types per trigger before "other" (default 20) */
  maxEventTypes?: number;
  /** what the API version watch knows, per endpoint */
  deprecations?: () => Array<{ endpoint: string; sunset?: string }>;
}

export interface Metrics {
  registry: Registry;
  /** the exposition text */
  text(): Promise<string>;
  contentType: string;
  stop(): void;
}

const ATTEMPT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const types = new BoundedLabel(options.maxEventTypes ?? 20);
  const codes = new BoundedLabel(30);

  const eventsReceived = new Counter({
    name: 'saypro_events_received_total',
    help: 'Events that reached an event trigger, by trigger, event type (capped, then "other") and outcome (accepted, ignored, duplicate, rejected; durable replies: refused, busy, unconfirmed, failed).',
    labelNames: ['trigger', 'type', 'outcome'],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'saypro_deliveries_total',
    help: 'Messages that left an http post node for good, by endpoint, node and outcome (delivered, failed, dead_lettered, refused).',
    labelNames: ['endpoint', 'node', 'outcome'],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'saypro_delivery_attempts_total',
    help: 'Requests made to third parties, by endpoint and status class (2xx, 4xx, 5xx …; "error" when no answer came).',
    labelNames: ['endpoint', 'status_class'],
    registers: [registry],
  });
  const attemptErrors = new Counter({
    name: 'saypro_delivery_attempt_errors_total',
    help: 'Requests that failed, by endpoint and error code (HTTP_503, TIMEOUT, ECONNREFUSED …; capped, then "other").',
    labelNames: ['endpoint', 'code'],
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: 'saypro_delivery_attempt_duration_seconds',
    help: 'Time of one request to a third party, from sending to the answer (or the failure).',
    labelNames: ['endpoint'],
    buckets: ATTEMPT_BUCKETS,
    registers: [registry],
  });
  const deliveryDuration = new Histogram({
    name: 'saypro_delivery_duration_seconds',
    help: 'Time of a whole delivery, from queueing to its end (retries and waits included), by endpoint and outcome.',
    labelNames: ['endpoint', 'outcome'],
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  });
  const deprecationNotices = new Counter({
    name: 'saypro_api_deprecation_notices_total',
    help: 'Responses that said the API (version) in use is deprecated or will be withdrawn (Deprecation, Sunset, vendor notices), by endpoint.',
    labelNames: ['endpoint'],
    registers: [registry],
  });

  new Gauge({
    name: 'saypro_queue_depth',
    help: "Messages waiting in an http post node's durable queue.",
    labelNames: ['node', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of bus.queues()) this.set({ node: cleanLabel(q.node), endpoint: cleanLabel(q.endpoint) }, q.depth);
    },
  });
  new Gauge({
    name: 'saypro_queue_oldest_age_seconds',
    help: "Age of the oldest message in an http post node's durable queue (0 when empty).",
    labelNames: ['node', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of bus.queues())
        this.set({ node: cleanLabel(q.node), endpoint: cleanLabel(q.endpoint) }, q.oldestAgeSeconds);
    },
  });
  new Gauge({
    name: 'saypro_dead_letters',
    help: "Messages kept in an http post node's dead letters.",
    labelNames: ['node', 'endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of bus.queues())
        this.set({ node: cleanLabel(q.node), endpoint: cleanLabel(q.endpoint) }, q.deadLetters);
    },
  });
  // shared mode (NATS JetStream): the group as this instance sees it; saypro_queue_depth is then the group's stream depth
  const sharedGauge = (name: string, help: string, value: (g: bus.SharedGauge) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['node', 'endpoint'],
      registers: [registry],
      collect() {
        this.reset();
        for (const q of bus.queues())
          if (q.shared) this.set({ node: cleanLabel(q.node), endpoint: cleanLabel(q.endpoint) }, value(q.shared));
      },
    });
  sharedGauge(
    'saypro_shared_broker_connected',
    'Shared queue: whether this instance is connected to a NATS server (1) or not (0: reconnecting, closed).',
    (g) => (g.connected ? 1 : 0),
  );
  sharedGauge(
    'saypro_shared_group_members',
    "Shared queue: the Node-RED instances of the node's group that reported in the last 30 s (this one included).",
    (g) => g.members,
  );
  sharedGauge(
    'saypro_shared_group_delivered',
    "Shared queue: messages the group's members delivered, each since its deploy (the same figure on every member).",
    (g) => g.groupDelivered,
  );
  sharedGauge(
    'saypro_shared_instance_share_ratio',
    "Shared queue: this instance's deliveries divided by the group's (0 to 1).",
    (g) => g.share,
  );
  new Gauge({
    name: 'saypro_endpoint_state',
    help: "An endpoint's pacing state: 1 while it is in the state (paused after a Retry-After, circuit_open, circuit_half_open, offline), else 0.",
    labelNames: ['endpoint', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of bus.endpoints()) {
        const endpoint = cleanLabel(e.endpoint);
        this.set({ endpoint, state: 'paused' }, e.paused ? 1 : 0);
        this.set({ endpoint, state: 'circuit_open' }, e.circuitOpen ? 1 : 0);
        this.set({ endpoint, state: 'circuit_half_open' }, e.halfOpen ? 1 : 0);
        this.set({ endpoint, state: 'offline' }, e.offline ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'saypro_api_deprecated',
    help: 'Whether the last answers of an endpoint carried a deprecation or sunset notice (1) or not (0).',
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      const marked = new Set((options.deprecations?.() ?? []).map((d) => cleanLabel(d.endpoint)));
      for (const e of bus.endpoints())
        this.set({ endpoint: cleanLabel(e.endpoint) }, marked.has(cleanLabel(e.endpoint)) ? 1 : 0);
      for (const m of marked) this.set({ endpoint: m }, 1);
    },
  });
  new Gauge({
    name: 'saypro_api_sunset_timestamp_seconds',
    help: "When an endpoint's API (version) will be withdrawn, from its Sunset header (Unix time).",
    labelNames: ['endpoint'],
    registers: [registry],
    collect() {
      this.reset();
      for (const d of options.deprecations?.() ?? []) {
        const t = d.sunset ? Date.parse(d.sunset) : NaN;
        if (Number.isFinite(t)) this.set({ endpoint: cleanLabel(d.endpoint) }, Math.floor(t / 1000));
      }
    },
  });

  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // gauges whose names end in _total: Prometheus' own linter (promtool check metrics) refuses them
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      registry.removeSingleMetric(name);
  }

  const unsubscribe = bus.subscribe((e) => {
    switch (e.kind) {
      case 'event-received': {
        const trigger = cleanLabel(e.trigger);
        const type = e.type === undefined ? 'none' : types.value(e.triggerId, e.type);
        eventsReceived.inc({ trigger, type, outcome: cleanLabel(e.outcome) });
        break;
      }
      case 'attempt': {
        // a connection that could not be made while the endpoint is offline, or a cancelled one, is no request
        if (e.result === 'offline' || e.result === 'cancelled') break;
        const endpoint = cleanLabel(e.endpoint);
        attempts.inc({ endpoint, status_class: statusClass(e.status) });
        if (e.errorCode) attemptErrors.inc({ endpoint, code: codes.value('codes', e.errorCode) });
        attemptDuration.observe({ endpoint }, Math.max(0, e.durationMs) / 1000);
        break;
      }
      case 'delivery-finished': {
        const endpoint = cleanLabel(e.endpoint);
        deliveries.inc({ endpoint, node: cleanLabel(e.node), outcome: e.outcome });
        if (e.outcome !== 'refused')
          deliveryDuration.observe({ endpoint, outcome: e.outcome }, Math.max(0, e.durationMs) / 1000);
        break;
      }
      case 'deprecation':
        deprecationNotices.inc({ endpoint: cleanLabel(e.endpoint) });
        break;
    }
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    stop: () => {
      unsubscribe();
      registry.clear();
    },
  };
}
