'use strict';
/**
 * The whole path in a real Node-RED process:
 *   event trigger → field mapper → format encoder → encrypt → http post → response check
 * against a local server on 127.0.0.1 that plays the third party: it decrypts
 * what it gets with plain node:crypto, answers 503 + Retry-After: 1 twice and
 * then 200 {"status":"success","transaction_id":"txn_12345"}. What the flow
 * decides is read from the debug pane over the editor's /comms websocket, and
 * the Node-RED log (at debug level, one line per attempt) is searched for
 * every secret.
 */
const assert = require('assert');
const crypto = require('crypto');
const http = require('http');
const { startNodeRed, debugPane } = require('../support/nodered');

const KEY_HEX = crypto.randomBytes(32).toString('hex');
const API_KEY = 'sk_e2e_' + crypto.randomBytes(12).toString('hex');
const CLIENT_SECRET = 'cs_e2e_' + crypto.randomBytes(12).toString('hex');
const ACCESS_TOKEN = 'at_e2e_' + crypto.randomBytes(12).toString('hex');

function decryptEnvelope(body) {
  const env = JSON.parse(body);
  const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(KEY_HEX, 'hex'), Buffer.from(env.iv, 'base64'), {
    authTagLength: 16,
  });
  d.setAuthTag(Buffer.from(env.tag, 'base64'));
  return JSON.parse(Buffer.concat([d.update(Buffer.from(env.ct, 'base64')), d.final()]).toString('utf8'));
}

/** The third party: records every request, decrypts, and answers per listing id. */
function startPartner() {
  const seen = { orders: [], oauthOrders: [], tokenRequests: 0 };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const reply = (status, obj, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      if (req.url === '/oauth/token') {
        seen.tokenRequests++;
        const form = new URLSearchParams(body);
        if (form.get('grant_type') !== 'client_credentials' || form.get('client_secret') !== CLIENT_SECRET) {
          return reply(401, { error: 'invalid_client' });
        }
        // answer slowly so that all 20 requests are waiting for the same token
        return setTimeout(
          () => reply(200, { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600 }),
          200,
        );
      }
      let order;
      try {
        order = decryptEnvelope(body);
      } catch (err) {
        return reply(400, { error: { message: 'cannot decrypt: ' + err.message } });
      }
      const record = { at: Date.now(), url: req.url, headers: req.headers, order };
      if (req.url === '/v2/orders') {
        seen.oauthOrders.push(record);
        if (req.headers.authorization !== `Bearer ${ACCESS_TOKEN}`) return reply(401, { error: 'invalid_token' });
        return reply(201, { status: 'success', transaction_id: 'txn_' + order.listing_id });
      }
      seen.orders.push(record);
      if (req.headers['x-api-key'] !== API_KEY) return reply(401, { error: { message: 'bad api key' } });
      if (order.listing_id === 'L-400') return reply(400, { error: { message: 'listing_id is not for sale' } });
      const tries = seen.orders.filter((o) => o.headers['idempotency-key'] === req.headers['idempotency-key']).length;
      if (tries <= 2) return reply(503, { error: { message: 'busy' } }, { 'retry-after': '1' });
      return reply(200, { status: 'success', transaction_id: 'txn_12345' });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port })),
  );
}

function flow(partnerPort) {
  const z = 'e2e0000000000001';
  const base = `http://127.0.0.1:${partnerPort}`;
  const chain = (prefix, url, endpoint, path) => [
    {
      id: prefix + '1',
      z,
      type: 'saypro-event-trigger',
      name: 'events ' + prefix,
      url,
      method: 'post',
      maxBytes: 1048576,
      filter: 'listing.*',
      dedupeWindow: 600,
      auth: 'none',
      authHeader: 'x-webhook-secret',
      wires: [[prefix + '2'], []],
    },
    {
      id: prefix + '2',
      z,
      type: 'saypro-field-mapper',
      name: '',
      keepUnmapped: false,
      rules: [
        {
          target: 'listing_id',
          sourceType: 'msg',
          source: 'payload.listingId',
          type: 'string',
          default: '',
          required: true,
        },
        {
          target: 'amount',
          sourceType: 'msg',
          source: 'payload.price',
          type: 'minor',
          decimals: 2,
          default: '',
          required: true,
        },
        { target: 'event_id', sourceType: 'msg', source: 'event.id', type: 'string', default: '', required: true },
      ],
      wires: [[prefix + '3'], ['dbgfail']],
    },
    {
      id: prefix + '3',
      z,
      type: 'saypro-format-encoder',
      name: '',
      format: 'json',
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
      outputType: 'string',
      wires: [[prefix + '4'], ['dbgfail']],
    },
    {
      id: prefix + '4',
      z,
      type: 'saypro-encrypt',
      name: '',
      algorithm: 'aes-256-gcm',
      kid: 'k1',
      aad: '',
      aadType: 'none',
      credentials: { key: KEY_HEX },
      wires: [[prefix + '5'], ['dbgfail']],
    },
    {
      id: prefix + '5',
      z,
      type: 'saypro-http-post',
      name: 'post ' + prefix,
      endpoint,
      method: '',
      path,
      headers: [],
      msgHeaders: true,
      maxAttempts: 5,
      initialDelay: 100,
      maxDelay: 2000,
      maxRetryAfter: 120,
      idempotencyHeader: 'Idempotency-Key',
      sign: false,
      wires: [[prefix + '6'], ['dbgfail']],
    },
    {
      id: prefix + '6',
      z,
      type: 'saypro-response-check',
      name: '',
      mode: 'all',
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
      rules: [
        { kind: 'status', value: '2xx' },
        { kind: 'body', path: 'status', op: 'eq', value: 'success' },
      ],
      extract: [{ path: 'payload.transaction_id', target: 'transactionId' }],
      wires: [['dbgpass'], ['dbgfail']],
    },
  ];
  return [
    { id: z, type: 'tab', label: 'delivery e2e' },
    {
      id: 'ep1',
      type: 'saypro-endpoint',
      name: 'partner',
      baseUrl: base,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 5000,
      keepAlive: true,
      tls: '',
      authType: 'apikey',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
      credentials: { apiKey: API_KEY },
    },
    {
      id: 'ep2',
      type: 'saypro-endpoint',
      name: 'partner oauth',
      baseUrl: base,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 5000,
      keepAlive: true,
      tls: '',
      authType: 'oauth2',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: base + '/oauth/token',
      scope: 'orders.write',
      audience: '',
      tokenAuth: 'body',
      credentials: { clientId: 'kit-e2e', clientSecret: CLIENT_SECRET },
    },
    ...chain('a', '/e2e/events', 'ep1', '/v1/orders'),
    ...chain('b', '/e2e/oauth-events', 'ep2', '/v2/orders'),
    {
      id: 'dbgpass',
      z,
      type: 'debug',
      name: 'passed',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'true',
      targetType: 'full',
      wires: [],
    },
    {
      id: 'dbgfail',
      z,
      type: 'debug',
      name: 'failed',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'true',
      targetType: 'full',
      wires: [],
    },
  ];
}

async function postEvent(base, url, listingId, price = '10.50') {
  const res = await fetch(base + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'listing.sold', data: { listingId, price } }),
  });
  assert.strictEqual(res.status, 202);
  return (await res.json()).id;
}

describe('delivery end to end: trigger → mapper → encoder → encrypt → http post → response check (real Node-RED process)', function () {
  this.timeout(60000);
  let partner;
  let nr;
  let pane;

  before(async function () {
    partner = await startPartner();
    nr = await startNodeRed({ flow: flow(partner.port), logLevel: 'debug' });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    if (partner) partner.server.close();
  });

  it('retries two 503s with Retry-After: 1 under one idempotency key, then extracts the transaction id', async function () {
    const id = await postEvent(nr.base, '/e2e/events', 'L-1');
    const shown = await pane.waitFor((d) => d.name === 'passed' && d.msg.includes(id), 15000);
    const msg = JSON.parse(shown.msg);
    assert.strictEqual(msg.transactionId, 'txn_12345');
    assert.strictEqual(msg.statusCode, 200);
    assert.strictEqual(msg.delivery.attempts, 3);
    assert.strictEqual(msg.delivery.idempotencyKey, id);

    const attempts = partner.seen.orders.filter((o) => o.order.event_id === id);
    assert.strictEqual(attempts.length, 3);
    assert.deepStrictEqual(
      attempts.map((a) => a.headers['idempotency-key']),
      [id, id, id],
    );
    // what arrived decrypts to exactly the mapped fields
    assert.deepStrictEqual(attempts[2].order, { listing_id: 'L-1', amount: 1050, event_id: id });
    // each retry waited at least the Retry-After second
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(attempts[i].at - attempts[i - 1].at >= 950, `gap ${i}: ${attempts[i].at - attempts[i - 1].at} ms`);
    }
  });

  it('sends a 400 straight to the failed output after one attempt, with the reason', async function () {
    const id = await postEvent(nr.base, '/e2e/events', 'L-400');
    const shown = await pane.waitFor((d) => d.name === 'failed' && d.msg.includes(id), 15000);
    const msg = JSON.parse(shown.msg);
    assert.strictEqual(msg.error.code, 'HTTP_400');
    assert.strictEqual(msg.delivery.attempts, 1);
    assert.match(JSON.stringify(msg.error.details), /listing_id is not for sale/);
    assert.strictEqual(partner.seen.orders.filter((o) => o.order.event_id === id).length, 1);
  });

  it('fetches one OAuth2 token for 20 concurrent messages', async function () {
    const before = partner.seen.tokenRequests;
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => postEvent(nr.base, '/e2e/oauth-events', 'O-' + i)),
    );
    for (const id of ids) await pane.waitFor((d) => d.name === 'passed' && d.msg.includes(id), 15000);
    assert.strictEqual(partner.seen.tokenRequests - before, 1);
    const sent = partner.seen.oauthOrders.filter((o) => ids.includes(o.order.event_id));
    assert.strictEqual(sent.length, 20);
    assert.ok(sent.every((o) => o.headers.authorization === `Bearer ${ACCESS_TOKEN}`));
  });

  it('logs every attempt at debug level with no secret in the log', function () {
    const lines = nr.output
      .split('\n')
      .filter((l) => /\[debug\].*(post a|post b)/i.test(l) || /\[debug\].*\/v[12]\/orders/.test(l));
    assert.ok(lines.length >= 3 + 1 + 20, `attempt lines:\n${lines.join('\n')}`);
    for (const secret of [API_KEY, CLIENT_SECRET, ACCESS_TOKEN, KEY_HEX]) {
      assert.ok(!nr.output.includes(secret), 'a secret is in the Node-RED log');
    }
  });
});
