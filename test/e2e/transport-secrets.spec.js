'use strict';
/**
 * No configured secret leaves through a partner that echoes it. In a real
 * Node-RED process (default settings, log level debug) an endpoint with a
 * bearer token, a default header from `${TENANT_SECRET}` and an HTTP POST node
 * with headers from `${NODE_TOKEN}` / `${API_KEY_ENV}` and a signing secret
 * send to a partner on 127.0.0.1 that echoes every request header (as
 * response headers and in its JSON body) and the body back — on a 200, on a
 * 500 (output 2 with msg.responseBody) and on a 400 in durable mode (a dead
 * letter). The debug pane, the Node-RED log, the dead-letter files and the
 * admin route's dead-letter list are searched for every secret.
 */
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { startNodeRed, debugPane } = require('../support/nodered');

const rnd = (p) => p + crypto.randomBytes(12).toString('hex');
const BEARER = rnd('tok_');
const TENANT_SECRET = rnd('tenant_');
const NODE_TOKEN = rnd('node_');
const API_KEY = rnd('key_');
const SIGNING = 'whsec_' + crypto.randomBytes(24).toString('base64');
const SECRETS = { BEARER, TENANT_SECRET, NODE_TOKEN, API_KEY, SIGNING, SIGNING_KEY: SIGNING.slice(6) };

function startPartner() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ url: req.url, headers: req.headers });
      const status = req.url.startsWith('/ok') ? 200 : req.url.startsWith('/fail') ? 500 : 400;
      const headers = { 'content-type': 'application/json' };
      for (const [k, v] of Object.entries(req.headers)) {
        if (['content-length', 'host', 'connection', 'transfer-encoding'].includes(k)) continue;
        headers[`x-echo-${k}`] = v;
      }
      headers.authorization = req.headers.authorization || '';
      res.writeHead(status, headers);
      res.end(
        JSON.stringify({
          youSent: { headers: req.headers, body, url: req.url },
          text: `auth was ${req.headers.authorization}`,
        }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        seen,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}

function flow(port) {
  const z = 'tab1';
  const post = (id, durable) => ({
    id,
    z,
    type: 'saypro-http-post',
    name: `post ${id}`,
    endpoint: 'ep',
    method: '',
    path: '/{{payload.route}}',
    headers: [
      { name: 'X-Node-Token', value: '${NODE_TOKEN}' },
      { name: 'X-Api-Key', value: '${API_KEY_ENV}' },
      { name: 'Content-Type', value: 'application/json' },
    ],
    msgHeaders: true,
    maxAttempts: 2,
    initialDelay: 20,
    maxDelay: 50,
    maxRetryAfter: 1,
    idempotencyHeader: 'Idempotency-Key',
    successStatuses: '',
    sign: true,
    durable,
    maxQueued: 100,
    maxQueuedMB: 10,
    fullPolicy: 'refuse',
    orderingKey: '',
    maxDeadLetters: 100,
    credentials: { signingSecret: SIGNING },
    wires: [['dbg'], ['dbg']],
  });
  const inject = (id, target, route) => ({
    id,
    z,
    type: 'inject',
    name: route,
    props: [{ p: 'payload' }],
    repeat: '',
    once: false,
    topic: '',
    payload: JSON.stringify({ route, note: 'hello' }),
    payloadType: 'json',
    wires: [[target]],
  });
  return [
    { id: z, type: 'tab', label: 'secrets' },
    {
      id: 'ep',
      type: 'saypro-endpoint',
      name: 'partner',
      baseUrl: `http://127.0.0.1:${port}`,
      method: 'POST',
      timeout: 5000,
      keepAlive: true,
      headers: [{ name: 'X-Tenant-Secret', value: '${TENANT_SECRET}' }],
      authType: 'bearer',
      credentials: { token: BEARER },
    },
    post('hpmem', false),
    post('hpdur', true),
    {
      id: 'dbg',
      z,
      type: 'debug',
      name: 'out',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'true',
      targetType: 'full',
      wires: [],
    },
    inject('inj_ok', 'hpmem', 'ok'),
    inject('inj_fail', 'hpmem', 'fail'),
    inject('inj_dead', 'hpdur', 'dead'),
  ];
}

function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function leaks(text) {
  return Object.entries(SECRETS)
    .filter(([, v]) => text.includes(v))
    .map(([k]) => k);
}

describe('e2e: configured secrets never leave through an echoing partner (real Node-RED)', function () {
  this.timeout(120000);
  let partner;
  let nr;
  let pane;

  before(async function () {
    partner = await startPartner();
    nr = await startNodeRed({
      flow: flow(partner.port),
      logLevel: 'debug',
      env: { TENANT_SECRET, NODE_TOKEN, API_KEY_ENV: API_KEY },
    });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    if (partner) await partner.close();
  });

  it('200, 500 and a dead letter: no secret in the debug pane, the log, the dead letters or the admin route', async function () {
    for (const id of ['inj_ok', 'inj_fail', 'inj_dead']) {
      const res = await fetch(`${nr.base}/inject/${id}`, { method: 'POST' });
      assert.strictEqual(res.status, 200);
    }
    const ok = JSON.parse(
      (await pane.waitFor((m) => typeof m.msg === 'string' && m.msg.includes('"statusCode":200'), 30000)).msg,
    );
    const fail = JSON.parse(
      (
        await pane.waitFor(
          (m) => typeof m.msg === 'string' && m.msg.includes('"HTTP_500"') && m.msg.includes('"responseBody"'),
          30000,
        )
      ).msg,
    );
    const dead = JSON.parse(
      (
        await pane.waitFor(
          (m) => typeof m.msg === 'string' && m.msg.includes('"HTTP_400"') && m.msg.includes('"delivery"'),
          30000,
        )
      ).msg,
    );

    // the partner did get every secret (so the search below can find them)
    const all = JSON.stringify(partner.seen);
    assert.deepStrictEqual(leaks(all).sort(), ['API_KEY', 'BEARER', 'NODE_TOKEN', 'TENANT_SECRET'].sort());

    // the echoes arrived, redacted
    assert.strictEqual(ok.responseHeaders.authorization, '[redacted]');
    assert.strictEqual(ok.responseHeaders['x-echo-x-tenant-secret'], '[redacted]');
    assert.strictEqual(ok.payload.youSent.headers['x-node-token'], '[redacted]');
    assert.strictEqual(ok.payload.text, 'auth was Bearer [redacted]');
    assert.strictEqual(ok.responseHeaders['x-echo-content-type'], 'application/json', 'harmless headers are kept');
    assert.ok(fail.responseBody, JSON.stringify(fail).slice(0, 3000));
    assert.strictEqual(fail.responseBody.youSent.headers['x-api-key'], '[redacted]');
    assert.ok(fail.error.details[0].bodyExcerpt.length > 0);

    const listRes = await fetch(`${nr.base}/saypro-integration-kit/outbox/hpdur/dead-letters`, {
      headers: { accept: 'application/json' },
    });
    assert.strictEqual(listRes.status, 200, await listRes.clone().text());
    const list = await listRes.text();
    assert.match(list, /HTTP_400/);

    // dead-letter files: wait until the entry is on disk
    const dlDir = path.join(nr.userDir, 'saypro-outbox', 'hpdur', 'dead-letter');
    const deadline = Date.now() + 10000;
    let files = [];
    while (Date.now() < deadline) {
      files = filesUnder(dlDir);
      if (files.some((f) => fs.readFileSync(f, 'latin1').includes('HTTP_400'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const dlText = files.map((f) => fs.readFileSync(f, 'latin1')).join('\n');
    assert.match(dlText, /HTTP_400/, 'the dead letter is on disk');
    assert.match(dlText, /bodyExcerpt/);

    const debugText = JSON.stringify(pane.messages);
    assert.deepStrictEqual(leaks(debugText), [], 'debug pane');
    assert.deepStrictEqual(leaks(nr.output), [], 'Node-RED log');
    assert.match(nr.output, /attempt 1\/2/, 'the log has the attempt lines');
    assert.deepStrictEqual(leaks(list), [], 'admin route answer');
    // the monitor opens the entry: the request as sent and its attempts, with no secret either
    const entryId = JSON.parse(list).items.find((i) => i.error.code === 'HTTP_400').id;
    const openRes = await fetch(
      `${nr.base}/saypro-integration-kit/outbox/hpdur/dead-letters/${encodeURIComponent(entryId)}`,
    );
    assert.strictEqual(openRes.status, 200);
    const opened = await openRes.text();
    const view = JSON.parse(opened);
    assert.match(view.request.url, /^http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(view.attemptsShown[view.attemptsShown.length - 1].outcome, /^HTTP 400/);
    assert.deepStrictEqual(leaks(opened), [], 'the opened dead letter');
    const missing = await fetch(`${nr.base}/saypro-integration-kit/outbox/hpdur/dead-letters/no-such-entry`);
    assert.strictEqual(missing.status, 404);
    await missing.arrayBuffer();
    // neither the endpoint's secrets nor the node's configured header values are ever on disk
    assert.deepStrictEqual(leaks(dlText), [], 'dead-letter files');
    // and what the delivery wrote into the dead letter (error message, reason, body excerpt) is clean
    const errorParts = [...dlText.matchAll(/"(?:bodyExcerpt|message|reason)":"((?:[^"\\]|\\.)*)"/g)]
      .map((m) => m[1])
      .join('\n');
    assert.match(errorParts, /youSent/, 'the excerpt of the echo is there');
    assert.deepStrictEqual(leaks(errorParts), [], 'dead-letter error and body excerpt');
    assert.deepStrictEqual(leaks(JSON.stringify([ok, fail, dead])), []);
  });
});
