/**
 * The data of a durable queue item (durable.ts), built in two parts: the
 * request, which every attempt needs, at once; the message snapshot and the
 * body as base64, which only the journal needs, when the item is written
 * (fast-lane.ts: a message delivered at once never is).
 */
import { snapshotMessage } from './snapshot';
import { journaledHeaders, splitSecretHeaders } from './secret-headers';
import { isObj, type DurableEnqueueInput, type StoredItem } from './durable-types';

/**
 * The item with its request (headers the configuration supplies left out,
 * secret-looking ones apart unless the journal is encrypted: `requestSecrets`,
 * kept in memory). Its message is empty until `completeItem`.
 */
export function startItem(
  input: DurableEnqueueInput,
  configHeaders: Record<string, string>,
  encrypted: boolean,
  now: number,
): { data: StoredItem; requestSecrets: Record<string, string> } {
  const request = journaledHeaders(input.headers, configHeaders, encrypted);
  const data: StoredItem = {
    idempotencyKey: input.id,
    request: { method: input.method, path: input.path, headers: request.kept, bodyBase64: null },
    msg: {},
    createdAt: now,
  };
  return { data, requestSecrets: request.secret };
}

/**
 * Completes the item for the journal: a JSON-safe snapshot of the message
 * (secret-looking `msg.headers` apart unless encrypted: returned, to be kept
 * in memory) and the body as base64.
 */
export function completeItem(
  data: StoredItem,
  input: DurableEnqueueInput,
  encrypted: boolean,
): Record<string, unknown> {
  const msg = snapshotMessage(input.msg, input.body);
  let msgSecrets: Record<string, unknown> = {};
  if (!encrypted && isObj(msg.headers)) {
    const split = splitSecretHeaders(msg.headers);
    msg.headers = split.kept as typeof msg.headers;
    msgSecrets = split.secret;
  }
  data.msg = msg;
  data.request.bodyBase64 = input.body ? input.body.toString('base64') : null;
  return msgSecrets;
}
