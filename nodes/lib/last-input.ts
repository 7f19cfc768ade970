/**
 * The last message each node received, kept in memory for the editor's
 * preview ("the node's last input"). Recording is cheap — a shallow copy of the
 * message's top level (and of msg.headers, which later nodes extend in place) —
 * and the copy is made safe only when the editor asks: JSON-able, bounded, no
 * request/response objects, secret-looking values masked.
 */
const KEY = Symbol.for('saypro.integration-kit.last-input');
type Store = Map<string, Record<string, unknown>>;
const store: Store =
  ((globalThis as Record<symbol, unknown>)[KEY] as Store | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = new Map() as Store);

/** Never shown: Node-RED internals and the http in node's live objects. */
const DROPPED = new Set(['_msgid', 'req', 'res', '_event', '_linkSource', '_error']);
/** Values under these names are masked in what the editor gets. */
export const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|cookie|credential|private/i;
export const MASK = '[redacted]';
/** the largest sample handed to the editor (JSON characters) */
export const MAX_SAMPLE_CHARS = 256 * 1024;

export function rememberInput(id: string, msg: unknown): void {
  if (!msg || typeof msg !== 'object') return;
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(msg as Record<string, unknown>)) {
    if (DROPPED.has(k)) continue;
    const v = (msg as Record<string, unknown>)[k];
    copy[k] =
      k === 'headers' && v && typeof v === 'object' && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : v;
  }
  store.set(id, copy);
}

export function forgetInput(id: string): void {
  store.delete(id);
}

/** A copy fit for the editor: plain JSON, secrets masked; undefined when nothing was received (or it is too big). */
export function lastInput(id: string): Record<string, unknown> | undefined {
  const msg = store.get(id);
  if (!msg) return undefined;
  const seen = new WeakSet<object>();
  let text: string | undefined;
  try {
    text = JSON.stringify(msg, function (this: unknown, k: string, v: unknown) {
      if (k !== '' && SECRET_KEY.test(k) && v !== null && typeof v !== 'object') return MASK;
      if (typeof v === 'bigint') return String(v);
      if (v && typeof v === 'object') {
        if (seen.has(v as object)) return undefined;
        seen.add(v as object);
      }
      return v;
    });
  } catch {
    return undefined;
  }
  if (text === undefined || text.length > MAX_SAMPLE_CHARS) return undefined;
  return JSON.parse(text) as Record<string, unknown>;
}
