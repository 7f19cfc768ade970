'use strict';
/** Flow nodes shared by the end-to-end tests. */

/** A saypro-endpoint config node with every setting at the editor's default; `extra` overrides. */
function endpointNode(id, baseUrl, extra = {}) {
  return {
    id,
    type: 'saypro-endpoint',
    name: `node ${id}`,
    baseUrl,
    port: '',
    method: 'POST',
    headers: [],
    timeout: 2000,
    keepAlive: true,
    tls: '',
    authType: 'none',
    apiKeyIn: 'header',
    apiKeyName: 'X-API-Key',
    tokenUrl: '',
    scope: '',
    audience: '',
    tokenAuth: 'body',
    maxConcurrent: 8,
    rateCount: 0,
    rateInterval: 1,
    breakerFailures: 0,
    breakerRate: 0,
    ...extra,
  };
}

/** A debug node on tab `z` showing the whole message in the sidebar; `extra` overrides. */
function debugNode(id, name, z, extra = {}) {
  return {
    id,
    z,
    type: 'debug',
    name,
    active: true,
    tosidebar: true,
    console: false,
    tostatus: false,
    complete: 'true',
    targetType: 'full',
    wires: [],
    ...extra,
  };
}

/** An event trigger on tab `z` at POST `url`, no auth, replying 202 once the event is durable; `extra` overrides. */
function durableTriggerNode(id, z, url, wires, extra = {}) {
  return {
    id,
    z,
    type: 'saypro-event-trigger',
    name: 'events',
    url,
    method: 'post',
    maxBytes: 1048576,
    filter: '',
    dedupeWindow: 600,
    auth: 'none',
    authHeader: 'x-webhook-secret',
    reply: 'durable',
    ackTimeout: 10,
    wires,
    ...extra,
  };
}

/**
 * A durable HTTP POST node on tab `z` sending to `/in` of endpoint `ep`, with short retries; no
 * writeBehind property (a flow saved before the option existed: the default applies). `extra` overrides.
 */
function durablePostNode(id, z, wires, extra = {}) {
  return {
    id,
    z,
    type: 'saypro-http-post',
    name: 'durable post',
    endpoint: 'ep',
    method: '',
    path: '/in',
    headers: [],
    msgHeaders: false,
    maxAttempts: 5,
    initialDelay: 200,
    maxDelay: 400,
    maxRetryAfter: 2,
    idempotencyHeader: 'Idempotency-Key',
    successStatuses: '',
    sign: false,
    durable: true,
    maxQueued: 1000,
    maxQueuedMB: 16,
    fullPolicy: 'refuse',
    orderingKey: '',
    wires,
    ...extra,
  };
}

module.exports = { endpointNode, debugNode, durableTriggerNode, durablePostNode };
