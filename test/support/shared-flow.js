'use strict';
/**
 * The flow of the shared-mode tests: event trigger (reply "durable": 202 once
 * queued) → http post (queue "shared" through a saypro-nats config node) to a
 * partner at <partner>/i/${INSTANCE}/events, so that the partner sees which
 * Node-RED instance delivered. The same flow (same node ids) on every
 * instance makes them one group.
 */
const { durableTriggerNode } = require('./flows');

const IDS = {
  tab: 'sq00000000000tab',
  trigger: 'sq000000trigger1',
  post: 'sq00000000post01',
  endpoint: 'sq0000endpoint01',
  nats: 'sq000000000nats1',
  failed: 'sq0000000failed1',
};
const PATH = '/shared/events';

function sharedFlow(o) {
  return [
    { id: IDS.tab, type: 'tab', label: 'shared queue' },
    {
      id: IDS.nats,
      type: 'saypro-nats',
      name: 'cluster',
      servers: o.natsUrls.join(', '),
      replicas: o.replicas || 1,
      tls: '',
      credentials: o.natsCredentials || {},
    },
    {
      id: IDS.endpoint,
      type: 'saypro-endpoint',
      name: 'partner',
      baseUrl: `${o.partnerUrl}/i/\${INSTANCE}`,
      port: '',
      method: 'POST',
      headers: [],
      timeout: o.timeout || 3000,
      keepAlive: true,
      tls: '',
      authType: 'none',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
      maxConcurrent: o.maxConcurrent || 0,
      rateCount: o.rateCount || 0,
      rateInterval: 1,
      breakerFailures: 0,
      breakerRate: 0,
    },
    durableTriggerNode(IDS.trigger, IDS.tab, PATH, [[IDS.post], []], { name: 'platform events', ackTimeout: 20 }),
    {
      id: IDS.post,
      type: 'saypro-http-post',
      z: IDS.tab,
      name: 'to the partner',
      endpoint: IDS.endpoint,
      method: '',
      path: '/events',
      headers: [],
      msgHeaders: false,
      maxAttempts: o.maxAttempts || 20,
      initialDelay: 100,
      maxDelay: 1000,
      maxRetryAfter: 2,
      idempotencyHeader: 'Idempotency-Key',
      successStatuses: '',
      sign: false,
      durable: true,
      queue: 'shared',
      nats: IDS.nats,
      maxQueued: o.maxQueued || 100000,
      maxQueuedMB: 256,
      fullPolicy: o.fullPolicy || 'refuse',
      orderingKey: o.orderingKey || '',
      maxDeadLetters: 10000,
      wires: [[], [IDS.failed]],
    },
    {
      id: IDS.failed,
      type: 'debug',
      z: IDS.tab,
      name: 'failed',
      active: true,
      tosidebar: false,
      console: false,
      complete: 'true',
      wires: [],
    },
  ];
}

/** Posts one event; resolves with the status (or 'conn'). */
async function postEvent(base, id, data, timeoutMs = 30000) {
  try {
    const res = await fetch(base + PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, type: 'listing.updated', data: { event_id: id, ...data } }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, retryAfter: Number(res.headers.get('retry-after')), text };
  } catch (err) {
    return { status: 'conn', text: String(err && err.message) };
  }
}

async function outboxStats(base) {
  try {
    const res = await fetch(`${base}/saypro-integration-kit/outbox/${IDS.post}`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return { httpStatus: res.status };
    return await res.json();
  } catch (err) {
    return { error: String(err && err.message) };
  }
}

module.exports = { IDS, PATH, sharedFlow, postEvent, outboxStats };
