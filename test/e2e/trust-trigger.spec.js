'use strict';
/**
 * The event trigger under attack, in real Node-RED processes: once with the
 * default settings (httpAdminRoot and httpNodeRoot both "/", so the editor's
 * JSON body parser sits in front of every node route) and once with
 * httpAdminRoot "/admin". Each hostile body goes to a trigger of each caller
 * check (none, shared secret, Standard Webhooks). The flow is trigger (durable reply) → HTTP POST
 * (durable queue) → a partner on 127.0.0.1 that records every request.
 *
 * Signed JSON and text requests (signed with the standardwebhooks package),
 * malformed JSON, a declared 500 MB body, an endless chunked body, 100,000
 * levels of nesting, a body that never completes, ids that differ only in a
 * non-Latin-1 character, ids with NUL or CR/LF, a replayed signed request,
 * and requests posted while the flow is redeployed. The figures are printed.
 */
const assert = require('assert');
const crypto = require('crypto');
const http = require('http');
const { Webhook } = require('standardwebhooks');
const { startNodeRed } = require('../support/nodered');
const { durableTriggerNode } = require('../support/flows');

const SECRET = 'whsec_' + crypto.randomBytes(24).toString('base64');
const SHARED = 'shared-' + crypto.randomBytes(12).toString('hex');
const summary = [];

/** The partner: answers 200 to every POST and keeps what it got. */
function startPartner() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        url: req.url,
        key: req.headers['idempotency-key'],
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"success"}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port })),
  );
}

function flow(partnerPort) {
  const z = 'trust00000000001';
  const trigger = (id, url, props) =>
    durableTriggerNode(id, z, url, [['trustpost0000001'], []], { name: 'events ' + url, bodyTimeout: 1, ...props });
  return [
    { id: z, type: 'tab', label: 'trust' },
    {
      id: 'trustendpoint001',
      type: 'saypro-endpoint',
      name: 'partner',
      baseUrl: `http://127.0.0.1:${partnerPort}`,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 5000,
      keepAlive: true,
      tls: '',
      authType: 'none',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
    },
    trigger('trustsigned00001', '/hooks/signed', {
      auth: 'webhook',
      dedupeWindow: 0,
      credentials: { webhookSecret: SECRET },
    }),
    trigger('trustopen0000001', '/hooks/open', {}),
    trigger('trustsecret00001', '/hooks/secret', {
      auth: 'secret',
      authHeader: 'X-Hook-Token',
      credentials: { secret: SHARED },
    }),
    {
      id: 'trustpost0000001',
      z,
      type: 'saypro-http-post',
      name: 'to the partner',
      endpoint: 'trustendpoint001',
      method: '',
      path: '/partner',
      headers: [],
      msgHeaders: true,
      maxAttempts: 3,
      initialDelay: 100,
      maxDelay: 1000,
      maxRetryAfter: 10,
      idempotencyHeader: 'Idempotency-Key',
      sign: false,
      wires: [[], []],
    },
  ];
}

/**
 * A raw request. `body`: string/Buffer sent whole; `chunks`: a generator of
 * chunks written until the answer comes; `hold`: headers only, the body never
 * follows. Resolves with {status, headers, text, json, ms}.
 */
function send(base, path, { headers = {}, body, chunks, hold = false, partial } = {}) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(base + path, { method: 'POST', headers, agent: false }, (res) => {
      answered = true;
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        req.destroy();
        resolve({ status: res.statusCode, headers: res.headers, text, json, ms: Date.now() - started });
      });
    });
    req.on('error', (err) => {
      // a server that answers early and closes may reset the rest of an upload
      if (!req.res) reject(err);
    });
    if (hold) return req.flushHeaders();
    if (partial !== undefined) return req.write(partial);
    if (chunks) {
      const pump = () => {
        while (!answered && !req.destroyed) {
          const next = chunks.next();
          if (next.done) return req.end();
          if (!req.write(next.value)) return req.once('drain', pump);
        }
      };
      return pump();
    }
    req.end(body);
  });
}

function signedHeaders(body, { id = 'msg_' + crypto.randomUUID(), contentType = 'application/json' } = {}) {
  const now = new Date();
  return {
    'content-type': contentType,
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(SECRET).sign(id, now, body),
  };
}

/** Resolves once `pred()` holds, polling; fails after `ms`. */
async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail('timed out waiting for ' + what);
}

/** the node's caller checks: the path of a trigger set up with each, and the headers a sender adds */
const MODES = [
  { auth: 'none', path: '/hooks/open', headers: () => ({}) },
  { auth: 'secret', path: '/hooks/secret', headers: () => ({ 'x-hook-token': SHARED }) },
  {
    auth: 'webhook',
    path: '/hooks/signed',
    headers: (body) => {
      const { 'content-type': _ignored, ...rest } = signedHeaders(body);
      return rest;
    },
  },
];

const VALID_HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

for (const variant of [
  { title: 'default settings (httpAdminRoot and httpNodeRoot "/")', settings: {}, admin: '' },
  { title: 'httpAdminRoot "/admin"', settings: { httpAdminRoot: '/admin' }, admin: '/admin' },
]) {
  describe(`event trigger under attack, real Node-RED, ${variant.title}`, function () {
    this.timeout(60000);
    let nr;
    let partner;
    const figures = { variant: variant.title };

    before(async function () {
      partner = await startPartner();
      nr = await startNodeRed({ flow: flow(partner.port), settings: variant.settings });
    });

    after(async function () {
      if (nr) await nr.stop();
      if (partner) partner.server.close();
      summary.push(figures);
    });

    const deliveredWith = (marker) => partner.seen.filter((r) => r.body.includes(marker));

    it('verifies signed JSON and text/plain requests over the exact bytes and delivers them', async function () {
      for (const contentType of ['application/json', 'text/plain; charset=utf-8', 'application/cloudevents+json']) {
        const marker = crypto.randomUUID();
        const body = `{ "type": "order.paid",\n  "data": { "marker": "${marker}" } }`;
        const res = await send(nr.base, '/hooks/signed', { headers: signedHeaders(body, { contentType }), body });
        assert.strictEqual(res.status, 202, `${contentType}: ${res.text}`);
        assert.strictEqual(res.json.status, 'accepted');
        await until(() => deliveredWith(marker).length === 1, 10000, 'the delivery of ' + contentType);
      }
      const tampered = '{"type":"order.paid"}';
      const res = await send(nr.base, '/hooks/signed', {
        headers: signedHeaders(tampered.replace('paid', 'void')),
        body: tampered,
      });
      assert.strictEqual(res.status, 401);
      assert.strictEqual(res.json.error.code, 'UNAUTHORIZED');
    });

    // the same hostile bodies for every caller check the node has
    for (const mode of MODES) {
      const auth = (body) => mode.headers(body === undefined ? '' : body);
      const note = (name, value) => {
        figures[name] = { ...(figures[name] || {}), [mode.auth]: value };
      };

      it(`${mode.auth}: answers malformed JSON with its own JSON 400, never an HTML page`, async function () {
        const body = '{"type": "x",';
        const res = await send(nr.base, mode.path, {
          headers: { 'content-type': 'application/json', ...auth(body) },
          body,
        });
        assert.strictEqual(res.status, 400, res.text.slice(0, 300));
        assert.match(res.headers['content-type'], /^application\/json/);
        assert.strictEqual(res.json.error.code, 'INVALID_JSON');
        assert.doesNotMatch(res.text, /<html|<pre|at JSON\.parse/i);
        note('malformedJson', res.status);
      });

      it(`${mode.auth}: answers a declared 500 MB body 413 at once, before any of it is sent`, async function () {
        const res = await send(nr.base, mode.path, {
          headers: { 'content-type': 'application/json', 'content-length': String(500 * 1024 * 1024), ...auth('x') },
          hold: true,
        });
        assert.strictEqual(res.status, 413, res.text.slice(0, 300));
        assert.strictEqual(res.json.error.code, 'PAYLOAD_TOO_LARGE');
        note('declared500MB', `${res.status} in ${res.ms} ms`);
      });

      it(`${mode.auth}: answers an endless chunked body 413 once it passes the limit`, async function () {
        let written = 0;
        function* endless() {
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          for (;;) {
            written += chunk.length;
            yield chunk;
          }
        }
        const res = await send(nr.base, mode.path, {
          headers: { 'content-type': 'application/json', ...auth('x') },
          chunks: endless(),
        });
        assert.strictEqual(res.status, 413, res.text.slice(0, 300));
        assert.strictEqual(res.json.error.code, 'PAYLOAD_TOO_LARGE');
        note('chunkedBody', `${res.status} after ${(written / 1048576).toFixed(1)} MB written`);
      });

      it(`${mode.auth}: answers 100,000 levels of nesting 400 JSON_TOO_DEEP, for JSON and text/plain`, async function () {
        const body = '{"type":"x","data":' + '['.repeat(100000) + ']'.repeat(100000) + '}';
        for (const contentType of ['application/json', 'text/plain']) {
          const res = await send(nr.base, mode.path, { headers: { 'content-type': contentType, ...auth(body) }, body });
          assert.strictEqual(res.status, 400, res.text.slice(0, 300));
          assert.strictEqual(res.json.error.code, 'JSON_TOO_DEEP');
        }
        note('nested100k', 400);
      });

      it(`${mode.auth}: answers a body that never completes 408 after bodyTimeout`, async function () {
        const res = await send(nr.base, mode.path, {
          headers: { 'content-type': 'application/json', 'content-length': '100', ...auth('x') },
          partial: '{"type":',
        });
        assert.strictEqual(res.status, 408, res.text.slice(0, 300));
        assert.strictEqual(res.json.error.code, 'REQUEST_TIMEOUT');
        note('slowBody', `${res.status} after ${res.ms} ms`);
      });
    }

    it('sends ids that differ only in a non-Latin-1 character with distinct, valid idempotency keys', async function () {
      const ids = ['order-€-1', 'order-😀-1', 'order-%E2%82%AC-1'];
      for (const id of ids) {
        const res = await send(nr.base, '/hooks/open', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, type: 'order.paid', data: { id } }),
        });
        assert.deepStrictEqual([res.status, res.json], [202, { id, status: 'accepted' }]);
      }
      await until(
        () => ids.every((id) => partner.seen.some((r) => JSON.parse(r.body).id === id)),
        10000,
        'three deliveries',
      );
      const keys = ids.map((id) => partner.seen.find((r) => JSON.parse(r.body).id === id).key);
      assert.strictEqual(new Set(keys).size, ids.length, 'distinct keys: ' + keys.join(' '));
      for (const k of keys) assert.match(k, VALID_HEADER_VALUE);
      figures.keys = keys;
    });

    it('refuses ids with NUL or CR/LF with 400, before anything is queued', async function () {
      const statuses = [];
      for (const id of ['nul\u0000id', 'crlf\r\nX-Injected: 1', 'lf\nid']) {
        const res = await send(nr.base, '/hooks/open', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, type: 'order.paid' }),
        });
        assert.strictEqual(res.status, 400);
        assert.strictEqual(res.json.error.details[0].field, 'id');
        statuses.push(res.status);
      }
      figures.controlCharIds = statuses;
    });

    it('delivers a replayed signed request once (dedupe window 0)', async function () {
      const marker = crypto.randomUUID();
      const body = JSON.stringify({ type: 'order.paid', data: { marker } });
      const headers = signedHeaders(body);
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        const res = await send(nr.base, '/hooks/signed', { headers, body });
        statuses.push(`${res.status} ${res.json.status}`);
      }
      assert.deepStrictEqual(statuses, ['202 accepted', '202 duplicate', '202 duplicate']);
      await until(() => deliveredWith(marker).length >= 1, 10000, 'the delivery');
      await new Promise((r) => setTimeout(r, 300));
      assert.strictEqual(deliveredWith(marker).length, 1);
      figures.replayed = { sent: 3, delivered: deliveredWith(marker).length };
    });

    it('while the flow is redeployed the path answers only 202 or 503 + Retry-After in JSON, never 404; every 202 is delivered', async function () {
      const adminHeaders = { 'Node-RED-API-Version': 'v2', 'content-type': 'application/json' };
      const current = await (await fetch(nr.base + variant.admin + '/flows', { headers: adminHeaders })).json();
      const answers = [];
      let posting = true;
      let seq = 0;
      // four senders at once, each posting events without an id (a retry of theirs would get a new one)
      const poster = Promise.all(
        [0, 1, 2, 3].map(async () => {
          while (posting) {
            const n = seq++;
            const res = await send(nr.base, '/hooks/open', {
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ type: 'order.paid', data: { seq: `redeploy-${n}-end` } }),
            });
            answers.push({ n, res });
          }
        }),
      );
      await until(() => answers.length >= 3, 10000, 'requests before the deploy');
      for (let i = 0; i < 2; i++) {
        const deploy = await fetch(nr.base + variant.admin + '/flows', {
          method: 'POST',
          headers: { ...adminHeaders, 'Node-RED-Deployment-Type': 'full' },
          body: JSON.stringify({
            flows: current.flows,
            rev: (await (await fetch(nr.base + variant.admin + '/flows', { headers: adminHeaders })).json()).rev,
          }),
        });
        assert.strictEqual(deploy.status, 200, await deploy.text());
        const count = answers.length;
        await until(() => answers.length >= count + 12, 15000, 'requests after the deploy');
      }
      posting = false;
      await poster;
      const statuses = {};
      for (const { res } of answers) {
        const what = `${res.status} ${(res.json && (res.json.error ? res.json.error.code : res.json.status)) || 'not JSON'}`;
        statuses[what] = (statuses[what] || 0) + 1;
      }
      for (const { res } of answers) {
        assert.ok(res.status === 202 || res.status === 503, `status ${res.status}: ${res.text.slice(0, 200)}`);
        assert.ok(res.json, 'a JSON body: ' + res.text.slice(0, 200));
        if (res.status === 503) assert.ok(Number(res.headers['retry-after']) > 0);
      }
      const accepted = answers.filter(({ res }) => res.status === 202).map(({ n }) => n);
      const refused = answers.filter(({ res }) => res.status === 503).map(({ n }) => n);
      await until(
        () => accepted.every((n) => deliveredWith(`redeploy-${n}-end`).length >= 1),
        20000,
        'every accepted event delivered',
      );
      // an event answered 503 must not have been queued: the sender sends it again, under a new id
      await new Promise((r) => setTimeout(r, 500));
      const refusedButDelivered = refused.filter((n) => deliveredWith(`redeploy-${n}-end`).length > 0);
      figures.redeploy = { requests: answers.length, statuses, refusedButDelivered: refusedButDelivered.length };
      assert.deepStrictEqual(refusedButDelivered, []);
    });
  });
}

describe('event trigger under attack: figures', function () {
  it('prints what was measured', function () {
    console.log('      trust-trigger figures:');
    for (const f of summary) console.log('       ', JSON.stringify(f));
    assert.ok(summary.length > 0);
  });
});
