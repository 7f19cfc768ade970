'use strict';
/**
 * lib/preview.ts: what each node would make of a sample message, with the
 * nodes' own code; the HTTP POST preview is the exact request with secrets
 * masked, and nothing is sent (a real server on 127.0.0.1 counts requests).
 */
const assert = require('node:assert');
const http = require('node:http');
const crypto = require('node:crypto');
const { preview, OAUTH2_PLACEHOLDER } = require('../../dist/nodes/lib/preview');
const { gcmDecrypt } = require('../../dist/nodes/lib/crypto');
const { lastInput, rememberInput, forgetInput } = require('../../dist/nodes/lib/last-input');

const event = { id: 'evt_1', type: 'listing.created' };
const listing = { listingId: 'L-1', title: 'Red bicycle', price: '149.90', currency: 'usd' };

describe('lib/preview', function () {
  let server;
  let hits = 0;
  let base;
  before(async function () {
    server = http.createServer((req, res) => {
      hits++;
      res.end('{}');
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((r) => server.close(r)));

  it('field mapper: the mapped object, or every problem', async function () {
    const rules = [
      { target: 'id', sourceType: 'msg', source: 'payload.listingId', type: 'string', required: true },
      { target: 'amount', sourceType: 'msg', source: 'payload.price', type: 'minor', decimals: 2, required: true },
    ];
    const ok = await preview({ type: 'saypro-field-mapper', config: { rules }, msg: { event, payload: listing } });
    assert.deepStrictEqual(ok, { ok: true, kind: 'mapped', value: { id: 'L-1', amount: 14990 } });
    const bad = await preview({
      type: 'saypro-field-mapper',
      config: { rules },
      msg: { event, payload: { price: 'cheap' } },
    });
    assert.strictEqual(bad.ok, false);
    assert.strictEqual(bad.error.code, 'MAPPING_INVALID');
    assert.deepStrictEqual(bad.error.details.map((d) => d.field).sort(), ['amount', 'id']);
  });

  it('format encoder: the bytes and the Content-Type', async function () {
    const r = await preview({
      type: 'saypro-format-encoder',
      config: { format: 'csv', csvHeader: true },
      msg: { payload: [{ a: 1, b: 'x' }] },
    });
    assert.strictEqual(r.ok, true, JSON.stringify(r));
    assert.strictEqual(r.kind, 'encoded');
    assert.match(r.contentType, /^text\/csv/);
    assert.strictEqual(r.body, 'a,b\r\n1,x\r\n');
    assert.strictEqual(r.bytes, Buffer.byteLength(r.body));
  });

  it('encrypt: an envelope the key opens; a short key and a missing variable are refused with the reason', async function () {
    const key = crypto.randomBytes(32);
    const r = await preview({
      type: 'saypro-encrypt',
      config: { algorithm: 'aes-256-gcm', kid: 'k9' },
      credentials: { key: key.toString('hex') },
      msg: { payload: { a: 1 } },
    });
    assert.strictEqual(r.ok, true, JSON.stringify(r));
    const env = JSON.parse(r.payload);
    assert.strictEqual(env.kid, 'k9');
    const plain = gcmDecrypt(key, {
      iv: Buffer.from(env.iv, 'base64'),
      tag: Buffer.from(env.tag, 'base64'),
      ct: Buffer.from(env.ct, 'base64'),
    });
    assert.deepStrictEqual(JSON.parse(plain.toString()), { a: 1 });
    assert.strictEqual(r.headers['x-encryption-alg'], 'A256GCM');

    const short = await preview({
      type: 'saypro-encrypt',
      config: {},
      credentials: { key: 'abcdef' },
      msg: { payload: 'x' },
    });
    assert.strictEqual(short.ok, false);
    assert.strictEqual(short.error.code, 'INVALID_KEY');
    const missing = await preview(
      { type: 'saypro-encrypt', config: {}, credentials: { key: '${NO_SUCH_PREVIEW_KEY}' }, msg: { payload: 'x' } },
      { envVars: {} },
    );
    assert.match(missing.error.message, /NO_SUCH_PREVIEW_KEY/);
  });

  it('http post: method, full URL with the path template filled, headers with secrets masked, body — and no request sent', async function () {
    const secret = 'sk_test_' + 'x'.repeat(24);
    const r = await preview(
      {
        type: 'saypro-http-post',
        config: {
          path: '/v1/listings/{{event.id}}',
          headers: [{ name: 'X-Trace', value: 'on' }],
          idempotencyHeader: 'Idempotency-Key',
        },
        endpoint: {
          config: {
            baseUrl: '${PREVIEW_BASE}/api',
            authType: 'bearer',
            headers: [{ name: 'Stripe-Version', value: '2024-06-20' }],
          },
          credentials: { token: '${PREVIEW_TOKEN}' },
        },
        msg: {
          event,
          payload: 'amount=100&currency=usd',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
      },
      { envVars: { PREVIEW_BASE: base, PREVIEW_TOKEN: secret } },
    );
    assert.strictEqual(r.ok, true, JSON.stringify(r));
    assert.strictEqual(r.method, 'POST');
    assert.strictEqual(r.url, `${base}/api/v1/listings/evt_1`);
    const h = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.strictEqual(h.authorization, 'Bearer [redacted]');
    assert.strictEqual(h['stripe-version'], '2024-06-20');
    assert.strictEqual(h['x-trace'], 'on');
    assert.strictEqual(h['idempotency-key'], 'evt_1');
    assert.strictEqual(r.body, 'amount=100&currency=usd');
    assert.ok(!JSON.stringify(r).includes(secret), 'the token never appears');
    assert.strictEqual(hits, 0, 'nothing reached the partner');
  });

  it('http post: an API key in the query is masked; OAuth2 fetches no token; a missing key variable is named', async function () {
    const q = await preview({
      type: 'saypro-http-post',
      config: { path: '/x' },
      endpoint: {
        config: { baseUrl: base, authType: 'apikey', apiKeyIn: 'query', apiKeyName: 'api_key' },
        credentials: { apiKey: 'k_very_secret_123' },
      },
      msg: { payload: { a: 1 } },
    });
    assert.strictEqual(q.ok, true, JSON.stringify(q));
    assert.strictEqual(q.url, `${base}/x?api_key=[redacted]`);
    assert.strictEqual(q.body, '{"a":1}');

    const o = await preview({
      type: 'saypro-http-post',
      config: {},
      endpoint: {
        config: { baseUrl: base, authType: 'oauth2', tokenUrl: `${base}/token` },
        credentials: { clientId: 'id', clientSecret: 'cs_secret_value' },
      },
      msg: { payload: 'x' },
    });
    assert.strictEqual(o.ok, true, JSON.stringify(o));
    assert.strictEqual(o.headers.Authorization || o.headers.authorization, `Bearer <${OAUTH2_PLACEHOLDER}>`);

    const m = await preview(
      {
        type: 'saypro-http-post',
        config: {},
        endpoint: {
          config: { baseUrl: base, authType: 'apikey' },
          credentials: { apiKey: '${PARTNER_API_KEY_UNSET}' },
        },
        msg: { payload: 'x' },
      },
      { envVars: {} },
    );
    assert.strictEqual(m.ok, false);
    assert.match(m.error.message, /PARTNER_API_KEY_UNSET is not set/);
    assert.strictEqual(hits, 0, 'nothing reached the partner or its token server');
  });

  it('last input: a shallow copy at input time, secrets masked when read, forgotten on close', function () {
    const msg = {
      _msgid: 'm1',
      payload: { a: 1, password: 'hunter2' },
      headers: { authorization: 'Bearer t', 'x-a': '1' },
      req: { socket: {} },
    };
    rememberInput('n1', msg);
    msg.headers['x-late'] = 'added downstream';
    msg.payload = 'replaced downstream';
    assert.deepStrictEqual(lastInput('n1'), {
      payload: { a: 1, password: '[redacted]' },
      headers: { authorization: '[redacted]', 'x-a': '1' },
    });
    forgetInput('n1');
    assert.strictEqual(lastInput('n1'), undefined);
  });
});
