/**
 * The integration monitor's picture of one HTTP POST node, from what its
 * outbox admin handle and the delivery log say: queue, counts, the endpoint's
 * pause / circuit / offline state with a reason in plain words, the last
 * deliveries. Pure: the plugin (nodes/monitor.ts) gathers the inputs.
 */
import type { DeliveryRecord } from './delivery-log';
import type { PacerState } from './http/types';
import { plainWords } from './connection-test';
import type { DeprecationInfo } from './telemetry/deprecation';

export interface MonitorNodeInput {
  id: string;
  name: string;
  /** the flow (tab) it is on */
  z: string;
  endpoint: { id: string; name: string; label: string } | null;
  /** the admin handle's state; 'none' when the node has no handle (not deployed or failed to start) */
  state: 'open' | 'opening' | 'unavailable' | 'memory' | 'none';
  stats: Record<string, unknown> | null;
  deliveries: DeliveryRecord[];
  /** what the API version watch noticed on the node's endpoint (Deprecation / Sunset headers), if anything */
  deprecation?: DeprecationInfo | null;
}

export interface MonitorNode {
  id: string;
  name: string;
  z: string;
  endpoint: { id: string; name: string; label: string } | null;
  durable: boolean;
  queueState: MonitorNodeInput['state'];
  depth: number;
  oldestAgeMs: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  refused: number;
  /** dead letters kept now */
  deadLetters: number;
  /** 'ok' | 'offline' | 'circuit-open' | 'half-open' | 'paused' | 'unavailable' */
  health: string;
  /** why, in plain words ('' when ok) */
  reason: string;
  deliveries: DeliveryRecord[];
  /** the endpoint's API is deprecated or has a sunset date: since when, until when, where to read */
  deprecation: DeprecationInfo | null;
  /** when the counts began (ms since the epoch): they are kept with the queue on disk, across deploys and restarts; null when there are none */
  countsSince: number | null;
  /** shared queue (NATS JetStream) only: the group, as this instance sees it; depth above is then the group's stream depth */
  group: MonitorGroup | null;
}

export interface MonitorGroup {
  /** the NATS connection: connecting, connected, reconnecting, closed, invalid */
  connection: string;
  connected: boolean;
  stream: string;
  replicas: number;
  /** this instance's name in the group */
  instance: string;
  /** instances that reported in the last 30 s */
  members: number;
  /** deliveries by this instance and by the group (each member since its deploy) */
  delivered: number;
  groupDelivered: number;
  /** delivered / groupDelivered, 0 … 1 */
  share: number;
  /** messages in the group's stream */
  depth: number;
}

export interface MonitorSnapshot {
  at: number;
  nodes: MonitorNode[];
}

function n(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** the group part of a shared queue's stats, else null */
export function monitorGroup(stats: Record<string, unknown>): MonitorGroup | null {
  const g = stats.shared;
  if (!g || typeof g !== 'object') return null;
  const o = g as Record<string, unknown>;
  return {
    connection: typeof o.connection === 'string' ? o.connection : o.connected === true ? 'connected' : 'disconnected',
    connected: o.connected === true,
    stream: typeof o.stream === 'string' ? o.stream : '',
    replicas: n(o.replicas),
    instance: typeof o.instance === 'string' ? o.instance : '',
    members: n(o.members),
    delivered: n(o.delivered),
    groupDelivered: n(o.groupDelivered),
    share: n(o.share),
    depth: n(stats.depth),
  };
}

/** health and reason from the pacer's state */
export function pacingHealth(p: PacerState | null | undefined, now: number): { health: string; reason: string } {
  if (!p) return { health: 'ok', reason: '' };
  if (p.offline) {
    const code = p.offlineCode ?? '';
    return { health: 'offline', reason: code ? `${plainWords({ code })} (${code})` : 'the endpoint cannot be reached' };
  }
  if (p.circuit === 'open')
    return {
      health: 'circuit-open',
      reason: `${p.consecutiveFailures} failures in a row: sending stopped for a while`,
    };
  if (p.circuit === 'half-open')
    return { health: 'half-open', reason: 'trying one request to see whether the endpoint is back' };
  if (p.pausedUntil !== null && p.pausedUntil > now) {
    return {
      health: 'paused',
      reason: `the partner asked to wait (Retry-After): ${Math.ceil((p.pausedUntil - now) / 1000)} s left`,
    };
  }
  return { health: 'ok', reason: '' };
}

export function monitorNode(i: MonitorNodeInput, now: number = Date.now()): MonitorNode {
  const s = i.stats ?? {};
  let { health, reason } = pacingHealth(s.circuit as PacerState | null, now);
  if (i.state === 'unavailable') {
    health = 'unavailable';
    reason = 'the delivery queue could not be opened (see the node status and the Node-RED log)';
  } else if (i.state === 'none') {
    health = 'unavailable';
    reason = 'not running: deploy the flow';
  }
  return {
    id: i.id,
    name: i.name,
    z: i.z,
    endpoint: i.endpoint,
    durable: i.state !== 'memory',
    queueState: i.state,
    depth: n(s.depth),
    oldestAgeMs: n(s.oldestAgeMs),
    delivered: n(s.delivered),
    retried: n(s.retried),
    deadLettered: n(s.deadLettered),
    refused: n(s.refused),
    deadLetters: n(s.deadLetters),
    health,
    reason,
    deliveries: i.deliveries,
    deprecation: i.deprecation ?? null,
    countsSince: n(s.countsSince) > 0 ? n(s.countsSince) : null,
    group: monitorGroup(s),
  };
}
