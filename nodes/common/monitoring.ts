/**
 * Monitoring outside the editor, Node-RED side: starts (once per process)
 * the Prometheus metrics route on Node-RED's node HTTP server and the audit
 * log, and gives the nodes one-line hooks that report to the telemetry bus
 * (lib/telemetry/bus.ts):
 *
 *   installMonitoring(RED)                    every node module, at load
 *   triggerTelemetry(RED, node)  .received()  event trigger: each event's outcome
 *   postTelemetry(RED, node, endpoint)        http post: .attempt(), .finished(),
 *                                             .queue() (depth, age, dead letters)
 *   endpointTelemetry(RED, node, endpoint)    endpoint: its pacing state, and its
 *                                             status shows API deprecation notices
 *
 * Settings: lib/telemetry/settings.ts (settings.js `sayproIntegrationKit`, env).
 * Texts reported are scrubbed of the node's and endpoint's secrets first.
 */
import { timingSafeEqual, createHash } from 'crypto';
import type { Node, NodeAPI } from 'node-red';
import * as bus from '../lib/telemetry/bus';
// prom-client (through metrics.ts) is loaded only when metrics are switched on (see startMonitoring)
import type { Metrics } from '../lib/telemetry/metrics';
import { readMonitoringSettings, type MonitoringSettings } from '../lib/telemetry/settings';
import { RotatingFile } from '../lib/telemetry/rotating-file';
import { deprecationText, toEcs } from '../lib/telemetry/ecs';
import { DeprecationWatch, readDeprecation, type DeprecationInfo } from '../lib/telemetry/deprecation';
import { Redactor } from '../lib/http/redact';
import { redactorFor } from '../lib/http/deliver';
import { resolveEnvRef } from '../lib/env';
import type { AttemptLog } from '../lib/http/deliver';
import type { EndpointHandle, PacerState } from '../lib/http/types';

interface Runtime {
  settings: MonitoringSettings;
  /** the metrics, created on first use (metricsNow); undefined while nothing was reported or scraped */
  metrics?: Metrics;
  /** the metrics, created now if needed; undefined when metrics are off */
  metricsNow(): Metrics | undefined;
  audit?: RotatingFile;
  watch: DeprecationWatch;
  /** express apps that have the metrics route */
  routed: WeakSet<object>;
  /** what an endpoint's status shows of a deprecation, by endpoint id */
  endpointViews: Map<string, { name: string; show(info: DeprecationInfo | undefined): void }>;
  /** endpoint names by id (for the deprecation gauges) */
  names: Map<string, string>;
}

const KEY = Symbol.for('saypro.integration-kit.monitoring');

function runtime(): Runtime | undefined {
  return (globalThis as unknown as Record<symbol, Runtime | undefined>)[KEY];
}

type Log = { info(t: string): void; warn(t: string): void };

function logOf(RED: NodeAPI): Log {
  const l = (RED as unknown as { log?: Partial<Log> }).log;
  return { info: (t) => l?.info?.(t), warn: (t) => l?.warn?.(t) };
}

function start(RED: NodeAPI): Runtime {
  const existing = runtime();
  if (existing) return existing;
  const s = RED.settings as unknown as Record<string, unknown>;
  const userDir = typeof s.userDir === 'string' ? s.userDir : undefined;
  let kit: unknown;
  try {
    kit = s.sayproIntegrationKit;
  } catch {
    kit = undefined; // RED.settings throws for unknown keys in some versions
  }
  const settings = readMonitoringSettings(kit, process.env, userDir);
  const log = logOf(RED);
  const rt: Runtime = {
    settings,
    metricsNow: () => undefined,
    watch: new DeprecationWatch(Math.max(1, settings.apiVersionWatch.warnEveryHours * 3600 * 1000)),
    routed: new WeakSet(),
    endpointViews: new Map(),
    names: new Map(),
  };
  (globalThis as unknown as Record<symbol, Runtime>)[KEY] = rt;
  for (const p of settings.problems) log.warn(`[saypro] ${p}`);

  if (settings.metrics.enabled) {
    // prom-client is loaded by the first event reported or the first scrape, not at start: a Node-RED
    // whose flows do nothing yet pays neither its start time nor its memory
    let stopWaiting = (): void => undefined;
    rt.metricsNow = () => {
      if (!rt.metrics) {
        stopWaiting();
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createMetrics } = require('../lib/telemetry/metrics') as typeof import('../lib/telemetry/metrics');
        rt.metrics = createMetrics({
          processMetrics: settings.metrics.processMetrics,
          maxEventTypes: settings.metrics.maxEventTypes,
          deprecations: () =>
            rt.watch.entries().map(([id, st]) => ({ endpoint: rt.names.get(id) ?? id, sunset: st.info.sunset })),
        });
      }
      return rt.metrics;
    };
    // the metrics subscribe to the bus while it delivers this first event: a listener added during
    // an emit receives that same event (a Set's iteration visits what is added to it), so it is counted
    stopWaiting = bus.subscribe(() => void rt.metricsNow());
  }

  const a = settings.auditLog;
  if (a.file || a.nodeRedLog) {
    if (a.file) {
      rt.audit = new RotatingFile({
        file: a.file,
        maxBytes: Math.floor(a.maxFileMB * 1024 * 1024),
        maxFiles: a.maxFiles,
        onError: (err) => log.warn(`[saypro] the audit log ${a.file} cannot be written: ${err.message}`),
      });
      log.info(`[saypro] audit log: ${a.file} (${a.maxFileMB} MB × ${a.maxFiles + 1} files at most)`);
    }
    bus.subscribe((e) => {
      if (e.kind === 'event-received' && !a.events) return;
      if ((e.kind === 'attempt' || e.kind === 'delivery-finished') && !a.attempts) return;
      const rec = toEcs(e);
      if (!rec) return;
      const line = JSON.stringify(rec);
      rt.audit?.write(line);
      if (a.nodeRedLog) log.info(line);
    });
  }
  return rt;
}

function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

type Req = { headers: Record<string, string | string[] | undefined> };
type Res = { statusCode: number; setHeader(n: string, v: string): void; end(b?: string): void };

/**
 * Starts monitoring (once per process) and adds the metrics route to
 * Node-RED's node HTTP server (once per server; it stays across redeploys).
 */
export function installMonitoring(RED: NodeAPI): void {
  let rt: Runtime;
  try {
    rt = start(RED);
  } catch (err) {
    logOf(RED).warn(`[saypro] monitoring could not start: ${(err as Error)?.message ?? err}`);
    return;
  }
  if (!rt.settings.metrics.enabled) return;
  const s = RED.settings as unknown as Record<string, unknown>;
  if (s.httpNodeRoot === false) return;
  const app = (RED as unknown as { httpNode?: { get?: (path: string, h: (req: Req, res: Res) => void) => void } })
    .httpNode;
  if (!app || typeof app.get !== 'function' || rt.routed.has(app)) return;
  rt.routed.add(app);
  const { path, token } = rt.settings.metrics;
  app.get(path, (req, res) => {
    if (token) {
      const auth = req.headers.authorization;
      const m = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
      if (!m || !sameToken(m[1], token)) {
        res.statusCode = 401;
        res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('unauthorized\n');
        return;
      }
    }
    let metrics: Metrics | undefined;
    try {
      metrics = rt.metricsNow();
    } catch (err) {
      metrics = undefined;
      logOf(RED).warn(`[saypro] metrics could not start: ${(err as Error)?.message ?? err}`);
    }
    if (!metrics) {
      res.statusCode = 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('metrics failed: not available\n');
      return;
    }
    const m = metrics;
    m.text().then(
      (text) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', m.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(text);
      },
      (err: unknown) => {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(`metrics failed: ${(err as Error)?.message ?? err}\n`);
      },
    );
  });
  logOf(RED).info(
    `[saypro] Prometheus metrics at ${String(s.httpNodeRoot ?? '/').replace(/\/$/, '')}${path}${token ? ' (bearer token)' : ''}`,
  );
}

function nameOf(node: { name?: unknown; id: string }): string {
  return typeof node.name === 'string' && node.name.trim() !== '' ? node.name.trim() : node.id;
}

/** A redactor for a node's own credentials (resolved ${ENV} references too). */
function credentialRedactor(node: Node): Redactor {
  const secrets: string[] = [];
  const creds = (node as unknown as { credentials?: Record<string, unknown> }).credentials ?? {};
  for (const v of Object.values(creds)) {
    if (typeof v !== 'string' || v === '') continue;
    secrets.push(v);
    const r = resolveEnvRef(v);
    if (r.value) secrets.push(r.value);
  }
  return new Redactor({ secrets });
}

// ------------------------------------------------------------------ trigger

export interface TriggerTelemetry {
  /** an event's outcome: the event when it was read, the error when refused */
  received(
    outcome: string,
    event?: { id?: unknown; type?: unknown },
    error?: { code?: string; message?: string },
  ): void;
}

export function triggerTelemetry(RED: NodeAPI, node: Node): TriggerTelemetry {
  const redactor = credentialRedactor(node);
  return {
    received(outcome, event, error) {
      if (!bus.listening()) return;
      bus.emit({
        kind: 'event-received',
        trigger: nameOf(node as unknown as { name?: unknown; id: string }),
        triggerId: node.id,
        type: event && event.type !== undefined && event.type !== null ? redactor.text(String(event.type)) : undefined,
        eventId: event && event.id !== undefined && event.id !== null ? redactor.text(String(event.id)) : undefined,
        outcome,
        errorCode: error?.code,
        errorMessage: error?.message !== undefined ? redactor.text(error.message) : undefined,
        at: Date.now(),
      });
    },
  };
}

// ------------------------------------------------------------------ http post

export interface PostTelemetry {
  /** one request (from the engine's onAttempt) */
  attempt(log: AttemptLog): void;
  /**
   * The message leaves for good: reports it, and reads the answer's headers
   * for API deprecation notices (msg.delivery.deprecation, a log warning
   * once per endpoint per day, the endpoint's status, a metric).
   */
  finished(
    msg: Record<string, unknown>,
    outcome: bus.DeliveryOutcome,
    error?: { code?: string; message?: string },
  ): void;
  /** a durable queue offers its figures (withdrawn when the node closes) */
  queue(q: {
    stats(): { depth: number; oldestAgeMs: number; shared?: bus.SharedGauge };
    deadLetter: { counts(): { total: number } };
  }): void;
}

export function postTelemetry(
  RED: NodeAPI,
  node: Node,
  endpoint: EndpointHandle | undefined,
  signingKey?: string,
): PostTelemetry {
  const rt = runtime();
  const redactor = endpoint ? redactorFor(endpoint, signingKey) : credentialRedactor(node);
  const endpointId = endpoint?.id ?? '';
  const endpointName = endpoint
    ? nameOf({ name: (endpoint as unknown as { name?: unknown }).name, id: endpoint.label || endpoint.id })
    : 'none';
  const nodeName = nameOf(node as unknown as { name?: unknown; id: string });
  let withdraw: (() => void) | undefined;
  node.on('close', () => withdraw?.());
  const ids = () => ({ endpoint: endpointName, endpointId, node: nodeName, nodeId: node.id });

  function watchDeprecation(msg: Record<string, unknown>): void {
    if (!rt || !rt.settings.apiVersionWatch.enabled || !endpoint) return;
    const headers = msg.responseHeaders as Record<string, unknown> | undefined;
    if (!headers || typeof headers !== 'object') return;
    const info = readDeprecation(headers);
    if (!info) {
      // a 2xx without any notice: the endpoint is no longer marked
      const status = msg.statusCode;
      if (typeof status === 'number' && status >= 200 && status < 300 && rt.watch.clear(endpointId))
        rt.endpointViews.get(endpointId)?.show(undefined);
      return;
    }
    if (info.link) info.link = redactor.url(info.link);
    if (info.warning) info.warning = redactor.text(info.warning);
    const delivery =
      msg.delivery && typeof msg.delivery === 'object'
        ? (msg.delivery as Record<string, unknown>)
        : (msg.delivery = {} as Record<string, unknown>);
    delivery.deprecation = {
      deprecation: info.deprecation ?? null,
      sunset: info.sunset ?? null,
      link: info.link ?? null,
      ...(info.warning ? { warning: info.warning } : {}),
    };
    rt.names.set(endpointId, endpointName);
    const warn = rt.watch.observe(endpointId, info);
    if (warn) {
      node.warn(deprecationText(endpointName, info));
      rt.endpointViews.get(endpointId)?.show(info);
    }
    bus.emit({ kind: 'deprecation', ...ids(), ...info, logged: warn, at: Date.now() });
  }

  return {
    attempt(log) {
      const eventId = log.idempotencyKey;
      if (!bus.listening()) return;
      bus.emit({
        kind: 'attempt',
        ...ids(),
        method: log.method,
        url: redactor.url(log.url),
        status: log.statusCode,
        // an answer that is not a success carries no code of its own: HTTP_<status>, as in msg.error
        errorCode:
          log.errorCode ??
          (log.statusCode !== undefined && log.result !== 'success' ? `HTTP_${log.statusCode}` : undefined),
        durationMs: log.durationMs,
        result: log.result,
        attempt: log.attempt,
        maxAttempts: log.maxAttempts,
        eventId: eventId !== undefined ? redactor.text(eventId) : undefined,
        at: Date.now(),
      });
    },
    finished(msg, outcome, error) {
      try {
        watchDeprecation(msg);
        if (!bus.listening()) return;
        const d = (msg.delivery && typeof msg.delivery === 'object' ? msg.delivery : {}) as Record<string, unknown>;
        const key = typeof d.idempotencyKey === 'string' ? d.idempotencyKey : undefined;
        bus.emit({
          kind: 'delivery-finished',
          ...ids(),
          outcome,
          statusCode: typeof d.statusCode === 'number' ? d.statusCode : undefined,
          durationMs: typeof d.durationMs === 'number' ? d.durationMs : 0,
          attempts: typeof d.attempts === 'number' ? d.attempts : 0,
          eventId: key !== undefined ? redactor.text(key) : undefined,
          errorCode: error?.code,
          errorMessage: error?.message !== undefined ? redactor.text(error.message) : undefined,
          at: Date.now(),
        });
      } catch (err) {
        node.debug(`monitoring: ${(err as Error)?.message ?? err}`);
      }
    },
    queue(q) {
      withdraw?.();
      withdraw = bus.registerQueue(node.id, () => {
        const st = q.stats();
        return {
          ...ids(),
          depth: st.depth,
          oldestAgeSeconds: Math.max(0, st.oldestAgeMs) / 1000,
          deadLetters: q.deadLetter.counts().total,
          ...(st.shared ? { shared: st.shared } : {}),
        };
      });
    },
  };
}

// ------------------------------------------------------------------ endpoint

/**
 * The endpoint's pacing state for the metrics, and its status line for API
 * deprecation notices. Withdrawn when the node closes.
 */
export function endpointTelemetry(
  RED: NodeAPI,
  node: Node,
  endpoint: {
    label: string;
    pacing(): PacerState;
    setStatus(s: { fill?: 'yellow'; shape?: 'ring'; text?: string }): void;
  },
): void {
  const rt = runtime();
  const name = nameOf({ name: (node as unknown as { name?: unknown }).name, id: endpoint.label || node.id });
  const withdraw = bus.registerEndpoint(node.id, () => {
    const p = endpoint.pacing();
    return {
      endpoint: name,
      endpointId: node.id,
      paused: p.pausedUntil !== null && p.pausedUntil > Date.now(),
      circuitOpen: p.circuit === 'open',
      halfOpen: p.circuit === 'half-open',
      offline: p.offline,
    };
  });
  const view = {
    name,
    show(info: DeprecationInfo | undefined) {
      try {
        if (!info) endpoint.setStatus({});
        else if (info.sunset)
          endpoint.setStatus({
            fill: 'yellow',
            shape: 'ring',
            text: RED._('endpoint.status.sunset', { date: info.sunset.slice(0, 10) }),
          });
        else endpoint.setStatus({ fill: 'yellow', shape: 'ring', text: RED._('endpoint.status.deprecated') });
      } catch {
        // a closed endpoint shows nothing
      }
    },
  };
  rt?.names.set(node.id, name);
  rt?.endpointViews.set(node.id, view);
  // a redeployed endpoint with a notice still in force shows it again
  const known = rt?.watch.get(node.id);
  if (known) view.show(known.info);
  node.on('close', () => {
    withdraw();
    if (rt?.endpointViews.get(node.id) === view) rt.endpointViews.delete(node.id);
  });
}

/** What the API version watch knows, by endpoint (for the editor's monitor). */
export function deprecationStates(): Array<
  { endpointId: string; endpoint: string; since: number; lastSeen: number } & DeprecationInfo
> {
  const rt = runtime();
  if (!rt) return [];
  return rt.watch.entries().map(([id, st]) => ({
    endpointId: id,
    endpoint: rt.names.get(id) ?? id,
    since: st.since,
    lastSeen: st.lastSeen,
    ...st.info,
  }));
}
