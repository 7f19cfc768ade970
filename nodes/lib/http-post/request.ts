/**
 * The request the HTTP POST node sends for one message, built the same way
 * whether it is delivered from memory or written to the durable queue first:
 * the path template filled from the message, the node's headers merged with
 * msg.headers (when the node says so), and msg.payload encoded as the body.
 *
 * A message that cannot become a request (a placeholder without a value, a
 * header with a line break, a payload with no JSON form) fails at once with
 * the reason: it would fail the same way at every attempt. So does every
 * message of a node whose settings are not usable (`requestFor`).
 */
import { IntegrationError } from '../errors';
import { buildSenderHeaders, encodeBody, type DeliveryRequest, type HeaderEntry } from '../http/sender';
import type { CompiledTemplate } from '../template';
import type { HttpMethod } from '../http/types';
import { notConfigured } from './settings';

export interface RequestSettings {
  template: CompiledTemplate;
  /** the node's header table */
  headers: HeaderEntry[];
  /** merge msg.headers (they win over the node's) */
  msgHeaders: boolean;
  /** the node's method; undefined: the endpoint's default */
  method: HttpMethod | undefined;
}

export type BuiltRequest = { ok: true; request: DeliveryRequest } | { ok: false; error: IntegrationError };

/** the node's request settings as parsed: no template when its path was not valid */
export type NodeRequestSettings = Omit<RequestSettings, 'template'> & { template: CompiledTemplate | undefined };

/**
 * The request for `msg`, the one step both modes take before delivering or
 * queueing: a node with a settings problem (`setupError`, no endpoint, no
 * valid path) refuses the message with that problem. The endpoint comes back
 * with the request, for the delivery.
 */
export function requestFor<E extends { defaultMethod: HttpMethod }>(
  msg: Record<string, unknown>,
  s: NodeRequestSettings,
  endpoint: E | undefined,
  setupError: IntegrationError | undefined,
): { ok: true; request: DeliveryRequest; endpoint: E } | { ok: false; error: IntegrationError } {
  if (setupError || !endpoint || !s.template) return { ok: false, error: setupError ?? notConfigured() };
  // no copies made with spreads on a message's path: V8 keeps what they point at past the young generation
  const built = buildRequest(msg, s as RequestSettings, endpoint.defaultMethod);
  return built.ok ? { ok: true, request: built.request, endpoint } : built;
}

/** The request for `msg`; `defaultMethod` is the endpoint's, used when the node names none. */
export function buildRequest(
  msg: Record<string, unknown>,
  s: RequestSettings,
  defaultMethod: HttpMethod,
): BuiltRequest {
  try {
    const path = s.template.render(msg);
    const headers = requestHeaders(s, msg);
    const body = encodeBody(msg.payload, s.method ?? defaultMethod, headers);
    return { ok: true, request: { method: s.method, path, headers, body } };
  } catch (err) {
    return { ok: false, error: asIntegrationError(err) };
  }
}

/** The sender headers of `msg`; throws INVALID_HEADER with every problem. */
function requestHeaders(s: RequestSettings, msg: Record<string, unknown>): Record<string, string> {
  const built = buildSenderHeaders(s.headers, s.msgHeaders ? msg.headers : undefined);
  if (built.problems.length) throw new IntegrationError('INVALID_HEADER', 'Some headers are not valid', built.problems);
  return built.headers;
}

/**
 * The durable queue's ordering group of a message from the value at its
 * ordering key: text (not empty), a number or a boolean; anything else (no
 * value, an object) means no group.
 */
export function orderingGroup(value: unknown): string | undefined {
  if (typeof value === 'string') return value !== '' ? value : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function asIntegrationError(err: unknown): IntegrationError {
  if (err instanceof IntegrationError) return err;
  return new IntegrationError('INVALID_REQUEST', String((err as Error)?.message ?? err));
}
