/**
 * A JSON-safe snapshot of a Node-RED message, kept in the durable outbox so
 * that the message can be restored (and sent on) after the delivery, even
 * after a restart.
 *
 * What is left out: `msg.req` and `msg.res` (live HTTP objects), `msg._msgid`
 * (the runtime gives the restored message a new one), `msg._sayproAck` (a
 * settlement token is only good for the request that is waiting on it; a
 * replayed message must not carry a stale one), functions, symbols, undefined
 * values and cycles. What is kept in a form JSON can carry and is restored as
 * it was: Buffers (and other byte arrays, as Buffers), Dates, Maps, Sets and
 * BigInts. Anything else is kept as JSON would keep it (own enumerable
 * properties, or what `toJSON()` returns).
 *
 * When `msg.payload` is exactly the request body (a string or a Buffer that
 * encodes to the same bytes), it is not stored twice: the snapshot holds a
 * marker and `restoreMessage` takes the payload from the body.
 *
 * Tagged values are objects with a `$saypro` property; an object of the
 * message that has such a property itself is wrapped, so nothing the
 * message holds is ever mistaken for a tag.
 */

/** Top-level message properties that are never stored. */
export const DROPPED_PROPERTIES: readonly string[] = ['req', 'res', '_msgid', '_sayproAck'];

const TAG = '$saypro';
const MAX_DEPTH = 100;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function encode(value: unknown, ancestors: Set<object>, depth: number): Json | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return { [TAG]: 'bigint', value: value.toString() };
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (depth > MAX_DEPTH || ancestors.has(obj)) return undefined; // a cycle (or absurd nesting): left out
  if (Buffer.isBuffer(obj)) return { [TAG]: 'buffer', base64: obj.toString('base64') };
  if (obj instanceof Uint8Array)
    return { [TAG]: 'buffer', base64: Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('base64') };
  if (obj instanceof ArrayBuffer) return { [TAG]: 'buffer', base64: Buffer.from(obj).toString('base64') };
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : { [TAG]: 'date', iso: obj.toISOString() };
  ancestors.add(obj);
  try {
    if (obj instanceof Map) {
      const entries: Json[] = [];
      for (const [k, v] of obj) {
        const ek = encode(k, ancestors, depth + 1);
        const ev = encode(v, ancestors, depth + 1);
        if (ek !== undefined) entries.push([ek, ev === undefined ? null : ev]);
      }
      return { [TAG]: 'map', entries };
    }
    if (obj instanceof Set) {
      const values: Json[] = [];
      for (const v of obj) {
        const ev = encode(v, ancestors, depth + 1);
        if (ev !== undefined) values.push(ev);
      }
      return { [TAG]: 'set', values };
    }
    if (Array.isArray(obj)) {
      return obj.map((v) => {
        const ev = encode(v, ancestors, depth + 1);
        return ev === undefined ? null : ev;
      });
    }
    if (obj instanceof Error) {
      const out: Record<string, Json> = { name: obj.name, message: obj.message };
      for (const k of Object.keys(obj)) {
        const ev = encode((obj as unknown as Record<string, unknown>)[k], ancestors, depth + 1);
        if (ev !== undefined) out[k] = ev;
      }
      return out;
    }
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let replaced: unknown;
      try {
        replaced = toJSON.call(obj);
      } catch {
        return undefined;
      }
      if (replaced === obj) return undefined;
      return encode(replaced, ancestors, depth + 1);
    }
    const out: Record<string, Json> = {};
    for (const k of Object.keys(obj)) {
      let v: unknown;
      try {
        v = (obj as Record<string, unknown>)[k];
      } catch {
        continue; // a getter that throws
      }
      const ev = encode(v, ancestors, depth + 1);
      if (ev !== undefined) out[k] = ev;
    }
    return Object.prototype.hasOwnProperty.call(out, TAG) ? { [TAG]: 'object', value: out } : out;
  } finally {
    ancestors.delete(obj);
  }
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (!isPlainRecord(value)) return value;
  if (Object.prototype.hasOwnProperty.call(value, TAG)) {
    switch (value[TAG]) {
      case 'buffer':
        return Buffer.from(String(value.base64 ?? ''), 'base64');
      case 'date':
        return new Date(String(value.iso));
      case 'bigint':
        try {
          return BigInt(String(value.value));
        } catch {
          return String(value.value);
        }
      case 'map':
        return new Map(
          (Array.isArray(value.entries) ? value.entries : []).map((e: unknown) =>
            Array.isArray(e) ? [decode(e[0]), decode(e[1])] : [e, undefined],
          ),
        );
      case 'set':
        return new Set((Array.isArray(value.values) ? value.values : []).map(decode));
      case 'object':
        return decodeObject(isPlainRecord(value.value) ? value.value : {});
      default:
        break;
    }
  }
  return decodeObject(value);
}

/** out[k] = v, where a "__proto__" key stays data, never a prototype */
function setData(out: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  else out[k] = v;
}

function decodeObject(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) setData(out, k, decode(value[k]));
  return out;
}

/** The marker that stands for "msg.payload is the request body". */
function bodyMarker(payload: unknown, body: Buffer | null): Json | undefined {
  if (!body) return undefined;
  if (Buffer.isBuffer(payload)) return payload.equals(body) ? { [TAG]: 'body', as: 'buffer' } : undefined;
  if (
    typeof payload === 'string' &&
    payload.length <= body.length &&
    Buffer.byteLength(payload, 'utf8') === body.length &&
    Buffer.from(payload, 'utf8').equals(body)
  ) {
    return { [TAG]: 'body', as: 'string' };
  }
  return undefined;
}

/**
 * The message as plain JSON data (see the file comment). `body`: the request
 * body that is stored next to it; a payload equal to it is stored as a marker.
 */
export function snapshotMessage(msg: unknown, body: Buffer | null = null): Record<string, Json> {
  const out: Record<string, Json> = {};
  if (!isPlainRecord(msg)) return out;
  const ancestors = new Set<object>([msg]);
  for (const k of Object.keys(msg)) {
    if (DROPPED_PROPERTIES.includes(k)) continue;
    let v: unknown;
    try {
      v = msg[k];
    } catch {
      continue;
    }
    const marker = k === 'payload' ? bodyMarker(v, body) : undefined;
    const ev = marker ?? encode(v, ancestors, 1);
    if (ev !== undefined) out[k] = ev;
  }
  return Object.prototype.hasOwnProperty.call(out, TAG) ? { [TAG]: 'object', value: out } : out;
}

/** The message again, from a snapshot; `body` fills a payload stored as a marker. */
export function restoreMessage(snapshot: unknown, body: Buffer | null = null): Record<string, unknown> {
  let top: unknown = snapshot;
  if (isPlainRecord(top) && top[TAG] === 'object' && isPlainRecord(top.value)) top = top.value;
  if (!isPlainRecord(top)) return {};
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(top)) {
    const v = top[k];
    let restored: unknown;
    if (k === 'payload' && isPlainRecord(v) && v[TAG] === 'body') {
      const bytes = body ?? Buffer.alloc(0);
      restored = v.as === 'string' ? bytes.toString('utf8') : Buffer.from(bytes);
    } else {
      restored = decode(v);
    }
    setData(out, k, restored);
  }
  return out;
}
