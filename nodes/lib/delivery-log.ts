/**
 * The last deliveries of each HTTP POST node, in memory, for the editor's
 * integration monitor: time, event id, outcome, attempts, duration — never a
 * header, a body or a URL with its query (no secret can enter). Bounded per node.
 */
export const MAX_DELIVERIES = 20;

export interface DeliveryRecord {
  /** epoch ms when the delivery ended */
  at: number;
  eventId: string;
  ok: boolean;
  /** HTTP status of the last answer, null when there was none */
  statusCode: number | null;
  /** error code when it failed */
  code?: string;
  attempts: number;
  durationMs: number;
}

const KEY = Symbol.for('saypro.integration-kit.delivery-log');
type Store = Map<string, DeliveryRecord[]>;
const store: Store =
  ((globalThis as Record<symbol, unknown>)[KEY] as Store | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = new Map() as Store);

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Records what msg.delivery (and msg.error) say of a finished delivery. */
export function recordDelivery(nodeId: string, msg: unknown, now: number = Date.now()): void {
  const m = (msg && typeof msg === 'object' ? msg : {}) as Record<string, unknown>;
  const d = (m.delivery && typeof m.delivery === 'object' ? m.delivery : {}) as Record<string, unknown>;
  const err = (m.error && typeof m.error === 'object' ? m.error : undefined) as Record<string, unknown> | undefined;
  const rec: DeliveryRecord = {
    at: now,
    eventId: typeof d.idempotencyKey === 'string' ? d.idempotencyKey.slice(0, 200) : '',
    ok: !err,
    statusCode: num(d.statusCode) ?? num(m.statusCode),
    attempts: num(d.attempts) ?? 0,
    durationMs: num(d.durationMs) ?? 0,
  };
  if (err && typeof err.code === 'string') rec.code = err.code;
  const list = store.get(nodeId) ?? [];
  list.unshift(rec);
  if (list.length > MAX_DELIVERIES) list.length = MAX_DELIVERIES;
  store.set(nodeId, list);
}

export function deliveries(nodeId: string): DeliveryRecord[] {
  return (store.get(nodeId) ?? []).map((r) => ({ ...r }));
}

export function forgetDeliveries(nodeId: string): void {
  store.delete(nodeId);
}
