/**
 * The headers of one attempt: the sender's headers (lib/http/sender.ts) plus
 * the idempotency key (the same on every attempt) and, when signing, fresh
 * Standard Webhooks headers over the exact body, made at the time of the
 * attempt (lib/webhook-signature.ts). Not the endpoint's default and auth
 * headers: the endpoint adds those when it prepares the request. Pure.
 */
import { webhookSignatureHeaders } from '../webhook-signature';
import type { DeliverySettings } from './delivery-state';
import { setHeader, type DeliveryRequest } from './sender';

/** A copy of the sender's headers with the idempotency key and, when signing, the signature headers set. */
export function attemptHeaders(
  request: DeliveryRequest,
  settings: Pick<DeliverySettings, 'idempotencyHeader' | 'signingKey'>,
  idempotencyKey: string,
  now: () => number,
): Record<string, string> {
  // Object.assign, not a spread: a spread's copy outlives the young generation (lib/http/delivery.ts)
  const headers: Record<string, string> = Object.assign({}, request.headers);
  if (settings.idempotencyHeader) setHeader(headers, settings.idempotencyHeader, idempotencyKey);
  if (settings.signingKey !== undefined) {
    const signed = webhookSignatureHeaders(
      settings.signingKey,
      idempotencyKey,
      request.body ?? Buffer.alloc(0),
      Math.floor(now() / 1000),
    );
    for (const name of Object.keys(signed)) setHeader(headers, name, signed[name]);
  }
  return headers;
}
