'use strict';
/**
 * The records the peer benchmark sends. An event as the event trigger hands it
 * on (msg.event + msg.payload), and the object every pipeline sends: the
 * field mapper's output (ours), the change node's (core), the plain loops'
 * body. Its JSON is about 299 bytes (printed by the bench).
 */

/** msg.payload as the event trigger leaves it (the platform's event data). */
function eventData(i) {
  return {
    listingId: 'L-' + (100000 + i),
    title: 'Red bicycle, barely used',
    description: 'Aluminium frame, 21 gears',
    price: '149.90',
    currency: 'usd',
    quantity: 1,
    seller: { id: 'S-' + (5000 + (i % 1000)), name: 'Ada Lovelace', email: 'ada@example.com' },
  };
}

/** msg.event, the id becomes the idempotency key (unique per message in a run). */
function eventMeta(i) {
  return {
    id: 'evt_' + String(i).padStart(8, '0'),
    type: 'listing.created',
    occurredAt: '2026-01-15T10:20:30.000Z',
    source: 'bench',
  };
}

/**
 * The mapping every pipeline applies: target ← source path, with our field
 * mapper's value type. The core change node copies the same paths (it has no
 * types: the price stays a string).
 */
const FIELDS = [
  { target: 'event_id', source: 'event.id', type: 'string' },
  { target: 'listing_id', source: 'payload.listingId', type: 'string' },
  { target: 'title', source: 'payload.title', type: 'string' },
  { target: 'description', source: 'payload.description', type: 'string' },
  { target: 'amount', source: 'payload.price', type: 'minor' },
  { target: 'currency', source: 'payload.currency', type: 'string' },
  { target: 'quantity', source: 'payload.quantity', type: 'integer' },
  { target: 'seller_id', source: 'payload.seller.id', type: 'string' },
  { target: 'seller_name', source: 'payload.seller.name', type: 'string' },
  { target: 'seller_email', source: 'payload.seller.email', type: 'string' },
  { target: 'occurred_at', source: 'event.occurredAt', type: 'date' },
];

/** What the plain client loops send (what the mapper makes of message i). */
function mapped(i) {
  const d = eventData(i);
  const e = eventMeta(i);
  return {
    event_id: e.id,
    listing_id: d.listingId,
    title: d.title,
    description: d.description,
    amount: 14990,
    currency: d.currency,
    quantity: d.quantity,
    seller_id: d.seller.id,
    seller_name: d.seller.name,
    seller_email: d.seller.email,
    occurred_at: e.occurredAt,
  };
}

module.exports = { eventData, eventMeta, mapped, FIELDS };
