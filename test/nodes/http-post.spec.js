'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const helper = require('node-red-node-test-helper');
const { Webhook } = require('standardwebhooks');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

const NODES = [postNode, endpointNode, catchNode];
const harness = require('../support/http-post-harness');
const { EDITOR_DEFAULTS, startServer, answer, reset, never, until, waitFor, statusCalls } = harness;

/** The editor defaults of saypro-http-post, exactly as in nodes/http-post.html. */
const flow = (server, props, endpointProps) => harness.flow(server, props, endpointProps);

async function load(server, props, endpointProps, credentials) {
  await helper.load(NODES, flow(server, props, endpointProps), credentials || {});
  const got = { ok: [], failed: [], caught: [] };
  for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
  return { n1: helper.getNode('n1'), got };
}

function newSecret() {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

describe('saypro-http-post node', function () {
  let server;
  let outboxDir;

  beforeEach(function () {
    // durable nodes keep their queue here (one directory per test)
    outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-post-spec-'));
    // the tests below read the debug line per attempt: the node builds it only when Node-RED logs debug lines
    helper.settings({ sayproOutboxDir: outboxDir, logging: { console: { level: 'debug' } } });
  });

  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
    delete process.env.SAYPRO_TEST_SIGNING_SECRET;
    fs.rmSync(outboxDir, { recursive: true, force: true });
  });

  it('loads with defaults', async function () {
    const f = [
      { id: 'ep', type: 'saypro-endpoint', baseUrl: 'http://127.0.0.1:9' },
      { id: 'n1', type: 'saypro-http-post', ...EDITOR_DEFAULTS, name: 'post', endpoint: 'ep', wires: [[], []] },
    ];
    await helper.load(NODES, f);
    const n1 = helper.getNode('n1');
    assert.strictEqual(n1.name, 'post');
    assert.strictEqual(n1.type, 'saypro-http-post');
    // durable by default: "opening queue" until the journal is open, then idle
    await until(() => JSON.stringify(statusCalls(n1).pop()) === '{}');
    assert.ok(fs.existsSync(path.join(outboxDir, 'n1', 'dead-letter')), 'the queue lives in sayproOutboxDir/<node id>');
  });

  it('without an endpoint: red status, and every message goes to output 2 and Catch', async function () {
    const f = flow(null, { endpoint: '' });
    await helper.load(NODES, f);
    const n1 = helper.getNode('n1');
    const failed = [];
    const caught = [];
    helper.getNode('failed').on('input', (m) => failed.push(m));
    helper.getNode('caught').on('input', (m) => caught.push(m));
    assert.deepStrictEqual(statusCalls(n1).pop(), { fill: 'red', shape: 'ring', text: 'http-post.status.noEndpoint' });
    n1.receive({ payload: 'x' });
    await waitFor(failed);
    await waitFor(caught);
    assert.strictEqual(failed[0].error.code, 'INVALID_CONFIG');
    assert.strictEqual(failed[0].payload, 'x');
  });

  it('503, 503, 200: success on attempt 3, one idempotency key, Retry-After respected, parsed answer', async function () {
    server = await startServer([
      answer(503, { error: 'busy' }, { 'retry-after': '1' }),
      answer(503, { error: 'busy' }),
      answer(200, { id: 'cus_1', ok: true }, { 'x-request-id': 'req_7' }),
    ]);
    // (in memory; test/nodes/http-post-durable.spec.js has the durable version)
    const { n1, got } = await load(server, { path: '/v1/customers/{{event.data.id}}', durable: false });
    const msg = { payload: { name: 'Ada' }, event: { id: 'evt_123', data: { id: 'cus 1' } } };
    n1.receive(msg);
    const [m] = await waitFor(got.ok);
    assert.strictEqual(got.failed.length, 0);
    assert.strictEqual(server.requests.length, 3);
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    assert.deepStrictEqual(keys, ['evt_123', 'evt_123', 'evt_123']);
    assert.ok(server.requests[1].at - server.requests[0].at >= 1000, 'waited at least the Retry-After second');
    for (const r of server.requests) {
      assert.strictEqual(r.method, 'POST');
      assert.strictEqual(r.url, '/v1/customers/cus%201');
      assert.strictEqual(r.headers['content-type'], 'application/json');
      assert.strictEqual(r.body.toString(), '{"name":"Ada"}');
    }
    assert.strictEqual(m.statusCode, 200);
    assert.deepStrictEqual(m.payload, { id: 'cus_1', ok: true });
    assert.strictEqual(m.responseHeaders['x-request-id'], 'req_7');
    assert.deepStrictEqual(Object.keys(m.delivery), [
      'attempts',
      'idempotencyKey',
      'statusCode',
      'durationMs',
      'endpoint',
    ]);
    assert.strictEqual(m.delivery.attempts, 3);
    assert.strictEqual(m.delivery.idempotencyKey, 'evt_123');
    assert.strictEqual(m.delivery.statusCode, 200);
    assert.ok(m.delivery.durationMs >= 1000);
    assert.strictEqual(m.delivery.endpoint, server.base);
    const st = statusCalls(n1);
    assert.ok(st.some((s) => s.fill === 'blue' && s.shape === 'dot' && s.text === 'http-post.status.sending'));
    assert.ok(st.some((s) => s.fill === 'yellow' && s.shape === 'ring' && s.text === 'http-post.status.retry'));
    assert.deepStrictEqual(st.pop(), { fill: 'green', shape: 'dot', text: 'http-post.status.success' });
  });

  it('a message without msg.event.id gets one UUID for all its attempts, kept on msg.delivery for a re-send', async function () {
    server = await startServer([answer(500), answer(201, 'created', { 'content-type': 'text/plain' })]);
    const { n1, got } = await load(server, { path: '/things' });
    n1.receive({ payload: 'raw text' });
    const [m] = await waitFor(got.ok);
    const [a, b] = server.requests.map((r) => r.headers['idempotency-key']);
    assert.match(a, /^[0-9a-f-]{36}$/);
    assert.strictEqual(a, b);
    assert.strictEqual(m.delivery.idempotencyKey, a);
    assert.strictEqual(m.payload, 'created');
    assert.strictEqual(
      server.requests[0].headers['content-type'],
      undefined,
      'a string is sent without an invented Content-Type',
    );
    assert.strictEqual(server.requests[0].body.toString(), 'raw text');
    // sent again (e.g. replayed from output 2): the same key
    n1.receive({ payload: 'raw text', delivery: m.delivery });
    await waitFor(got.ok, 2);
    assert.strictEqual(server.requests[2].headers['idempotency-key'], a);
  });

  it('400 goes to output 2 after one attempt, payload kept as sent, error details, Catch fires', async function () {
    server = await startServer([answer(400, { error: { message: 'amount is required' } })]);
    const { n1, got } = await load(server, { path: '/v1/charges' });
    const body = Buffer.from('amount=&currency=usd');
    n1.receive({
      payload: body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      event: { id: 'evt_4' },
    });
    const [m] = await waitFor(got.failed);
    await waitFor(got.caught);
    assert.strictEqual(server.requests.length, 1);
    assert.strictEqual(got.ok.length, 0);
    assert.ok(Buffer.isBuffer(m.payload) && m.payload.equals(body), 'payload is the body that was sent');
    assert.strictEqual(server.requests[0].headers['content-type'], 'application/x-www-form-urlencoded');
    assert.strictEqual(m.statusCode, 400);
    assert.strictEqual(m.error.code, 'HTTP_400');
    const d = m.error.details[0];
    assert.strictEqual(d.statusCode, 400);
    assert.strictEqual(d.attempts, 1);
    assert.strictEqual(d.bodyExcerpt, '{"error":{"message":"amount is required"}}');
    assert.deepStrictEqual(m.responseBody, { error: { message: 'amount is required' } }, 'the parsed answer, whole');
    assert.deepStrictEqual(m.delivery, {
      attempts: 1,
      idempotencyKey: 'evt_4',
      statusCode: 400,
      durationMs: m.delivery.durationMs,
      endpoint: server.base,
    });
    assert.strictEqual(got.caught[0].error.code, 'HTTP_400');
    assert.deepStrictEqual(statusCalls(n1).pop(), { fill: 'red', shape: 'ring', text: 'http-post.status.failed' });
  });

  it('"also success" statuses (409) leave on output 1 with the parsed answer; a bad list stops the node', async function () {
    const conflict = { status: 'error', message: 'Contact already exists. Existing ID: 512', category: 'CONFLICT' };
    server = await startServer([answer(409, conflict), answer(409, conflict)]);
    let { n1, got } = await load(server, { path: '/crm/v3/objects/contacts', successStatuses: '409' });
    n1.receive({ payload: { properties: { email: 'a@example.com' } } });
    const [m] = await waitFor(got.ok);
    assert.strictEqual(got.failed.length, 0);
    assert.strictEqual(m.statusCode, 409);
    assert.deepStrictEqual(m.payload, conflict);
    assert.strictEqual(m.delivery.attempts, 1);
    await helper.unload();

    // without the setting the same answer is a failure, after one attempt
    ({ n1, got } = await load(server, { path: '/crm/v3/objects/contacts' }));
    n1.receive({ payload: { properties: { email: 'a@example.com' } } });
    const [f] = await waitFor(got.failed);
    assert.strictEqual(f.error.code, 'HTTP_409');
    assert.strictEqual(server.requests.length, 2);
    await helper.unload();

    ({ n1, got } = await load(server, { path: '/x', successStatuses: '409, 6xx' }));
    n1.receive({ payload: 'x' });
    const [bad] = await waitFor(got.failed);
    assert.strictEqual(bad.error.code, 'INVALID_CONFIG');
    assert.strictEqual(bad.error.details[0].field, 'successStatuses');
    assert.strictEqual(server.requests.length, 2, 'nothing was sent');
  });

  it('a server that never answers: each attempt times out and is retried, finally TIMEOUT on output 2', async function () {
    server = await startServer([never()]);
    const { n1, got } = await load(server, { maxAttempts: 2 }, { timeout: 150 });
    n1.receive({ payload: 'x' });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(server.requests.length, 2);
    assert.strictEqual(m.error.code, 'TIMEOUT');
    assert.strictEqual(m.error.details[0].attempts, 2);
    assert.strictEqual(m.statusCode, undefined);
    assert.strictEqual(m.delivery.statusCode, null);
    assert.strictEqual(m.payload, 'x');
  });

  it('a connection reset is retried and then succeeds', async function () {
    server = await startServer([reset(), answer(200, { ok: 1 })]);
    const { n1, got } = await load(server, {});
    n1.receive({ payload: { a: 1 } });
    const [m] = await waitFor(got.ok);
    assert.strictEqual(server.requests.length, 2);
    assert.strictEqual(m.delivery.attempts, 2);
    const debug = n1.debug.getCalls().map((c) => String(c.args[0]));
    assert.ok(
      debug.some((l) => /→ ECONNRESET in \d+ ms \(attempt 1\/5\); retry in \d+ ms/.test(l)),
      debug.join('\n'),
    );
  });

  it('connection refused uses up no attempt: the message waits for the endpoint, and leaves as CANCELLED when the node stops', async function () {
    // (before per-endpoint pacing, this ended as ECONNREFUSED after maxAttempts)
    const probe = await startServer([answer(200)]);
    const base = probe.base;
    await probe.close();
    await helper.load(NODES, flow({ base }, { maxAttempts: 2, durable: false }));
    const n1 = helper.getNode('n1');
    const ep = helper.getNode('ep');
    n1.receive({ payload: 'x' });
    await until(() => ep.pacing().offline);
    assert.strictEqual(ep.pacing().offlineCode, 'ECONNREFUSED');
    await n1.close(false);
    const sent = n1.send
      .getCalls()
      .map((c) => c.args[0])
      .filter((a) => Array.isArray(a) && a[1]);
    assert.strictEqual(sent.length, 1);
    const m = sent[0][1];
    assert.strictEqual(m.error.code, 'CANCELLED');
    assert.strictEqual(m.delivery.attempts, 0, 'a connection that could not be made is no attempt');
    const debug = n1.debug.getCalls().map((c) => String(c.args[0]));
    assert.ok(
      debug.some((l) =>
        /→ ECONNREFUSED in \d+ ms \(attempt 1\/2\); endpoint unreachable, waiting for it \(not counted\)$/.test(l),
      ),
      debug.join('\n'),
    );
  });

  it('Retry-After as an HTTP date is honoured', async function () {
    server = await startServer([
      (req, res) => answer(429, '', { 'retry-after': new Date(Date.now() + 2000).toUTCString() })(req, res),
      answer(200, {}),
    ]);
    const { n1, got } = await load(server, {});
    n1.receive({ payload: 'x' });
    await waitFor(got.ok);
    assert.ok(server.requests[1].at - server.requests[0].at >= 1000, 'waited until the date (at least a second)');
  });

  it('a Retry-After beyond maxRetryAfter waits the cap', async function () {
    server = await startServer([answer(503, '', { 'retry-after': '3600' }), answer(200, {})]);
    const { n1, got } = await load(server, { maxRetryAfter: 1 });
    n1.receive({ payload: 'x' });
    await waitFor(got.ok);
    assert.ok(server.requests[1].at - server.requests[0].at >= 1000);
    const debug = n1.debug.getCalls().map((c) => String(c.args[0]));
    assert.ok(
      debug.some((l) => /→ 503 .*\(attempt 1\/5\); retry in 1000 ms$/.test(l)),
      debug.join('\n'),
    );
  });

  it('headers: node headers < msg.headers (when merged); GET sends no body; the method setting wins', async function () {
    server = await startServer([answer(200, '<r><a>1</a></r>', { 'content-type': 'application/xml' })]);
    const headers = [
      { name: 'X-Source', value: 'node' },
      { name: 'X-Node-Only', value: 'n' },
    ];
    let r = await load(
      server,
      { headers, method: 'GET', path: '/q?x={{topic}}' },
      { headers: [{ name: 'X-Default', value: 'd' }] },
    );
    r.n1.receive({ topic: 'a&b', payload: { ignored: true }, headers: { 'x-source': 'msg', 'Content-Length': '999' } });
    let [m] = await waitFor(r.got.ok);
    let req = server.requests[0];
    assert.strictEqual(req.method, 'GET');
    assert.strictEqual(req.url, '/q?x=a%26b');
    assert.strictEqual(req.body.length, 0);
    assert.strictEqual(req.headers['x-source'], 'msg');
    assert.strictEqual(req.headers['x-node-only'], 'n');
    assert.strictEqual(req.headers['x-default'], 'd');
    assert.deepStrictEqual(m.payload, { r: { a: '1' } });
    await helper.unload();
    r = await load(server, { headers, msgHeaders: false, method: 'PUT' });
    r.n1.receive({ payload: 'x', headers: { 'x-source': 'msg' } });
    [m] = await waitFor(r.got.ok);
    req = server.requests[1];
    assert.strictEqual(req.method, 'PUT');
    assert.strictEqual(req.headers['x-source'], 'node');
  });

  it('a path template value that is missing goes to output 2 as TEMPLATE, naming the placeholder, without a request', async function () {
    server = await startServer([answer(200)]);
    const { n1, got } = await load(server, { path: '/v1/customers/{{event.data.id}}' });
    n1.receive({ payload: 'x', event: { id: 'e' } });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(m.error.code, 'TEMPLATE');
    assert.match(m.error.message, /\{\{event\.data\.id\}\}/);
    assert.strictEqual(server.requests.length, 0);
  });

  it(
    'signs what it sends with Standard Webhooks; standardwebhooks verifies it ($' + '{VAR} secret)',
    async function () {
      const secret = newSecret();
      process.env.SAYPRO_TEST_SIGNING_SECRET = secret;
      server = await startServer([answer(502), answer(200, {})]);
      const { n1, got } = await load(
        server,
        { sign: true },
        {},
        { n1: { signingSecret: '${SAYPRO_TEST_SIGNING_SECRET}' } },
      );
      n1.receive({ payload: { amount: 1250, note: 'café' }, event: { id: 'evt_sig' } });
      await waitFor(got.ok);
      const wh = new Webhook(secret);
      for (const r of server.requests) {
        assert.strictEqual(r.headers['webhook-id'], 'evt_sig');
        assert.deepStrictEqual(wh.verify(r.body.toString('utf8'), r.headers), { amount: 1250, note: 'café' });
        assert.throws(() => new Webhook(newSecret()).verify(r.body.toString('utf8'), r.headers));
      }
    },
  );

  it('signing without a usable secret: red status and output 2, no request', async function () {
    server = await startServer([answer(200)]);
    const { n1, got } = await load(server, { sign: true }, {}, { n1: { signingSecret: 'not-a-secret' } });
    assert.deepStrictEqual(statusCalls(n1).pop(), {
      fill: 'red',
      shape: 'ring',
      text: 'http-post.status.invalidSecret',
    });
    n1.receive({ payload: 'x' });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(m.error.code, 'INVALID_SECRET');
    assert.ok(!JSON.stringify(m.error).includes('not-a-secret'));
    assert.strictEqual(server.requests.length, 0);
  });

  it('no credential ever reaches a log, a status or msg.error (API key in the query, Basic auth, signing secret)', async function () {
    const apiKey = 'ak_live_Q1w2E3r4T5y6';
    const password = 'pw-Zx9-Secret-Cv8';
    const signing = newSecret();
    const basic = Buffer.from(`bob:${password}`).toString('base64');
    const echo = (req, res, body) =>
      answer(400, {
        url: req.url,
        auth: req.headers.authorization || null,
        sig: req.headers['webhook-signature'],
        echo: body.toString(),
      })(req, res);
    server = await startServer([answer(503, '', { 'retry-after': '0' }), echo]);
    const seen = [];
    const runs = [
      [{ authType: 'apikey', apiKeyIn: 'query', apiKeyName: 'api_key' }, { apiKey }],
      [{ authType: 'basic' }, { username: 'bob', password }],
    ];
    for (const [ep, creds] of runs) {
      server.requests.length = 0;
      const { n1, got } = await load(server, { sign: true, path: '/v1/x?mode=test' }, ep, {
        ep: creds,
        n1: { signingSecret: signing },
      });
      n1.receive({ payload: 'a body', event: { id: 'evt_r' } });
      const [m] = await waitFor(got.failed);
      await waitFor(got.caught);
      assert.strictEqual(m.error.code, 'HTTP_400');
      // the server really got the credentials (so there was something to leak)
      const r = server.requests[0];
      assert.ok(r.url.includes(encodeURIComponent(apiKey)) || r.headers.authorization === `Basic ${basic}`);
      // and echoed them back in the answer, which the error excerpt shows redacted
      assert.match(
        m.error.details[0].bodyExcerpt,
        /"url":"\/v1\/x\?mode=test(&api_key=\[redacted\])?","auth":("Basic \[redacted\]"|null)/,
      );
      const debug = n1.debug.getCalls().map((c) => c.args[0]);
      assert.strictEqual(debug.length, 2, 'one debug line per attempt');
      assert.match(
        String(debug[0]),
        /^POST http:\/\/127\.0\.0\.1:\d+\/v1\/x\?mode=test(&api_key=\[redacted\])? → 503 in \d+ ms \(attempt 1\/5\); retry in 0 ms$/,
      );
      seen.push({
        logs: helper.log().args,
        node: ['debug', 'log', 'warn', 'error', 'trace'].map((k) => n1[k].getCalls().map((c) => c.args)),
        status: statusCalls(n1),
        error: m.error,
        caughtError: got.caught[0].error,
        delivery: m.delivery,
        responseBody: m.responseBody,
      });
      await helper.unload();
    }
    const text = JSON.stringify(seen);
    assert.ok(text.includes('[redacted]'), 'something was redacted');
    assert.ok(text.includes('attempt 2/5'), 'the attempt logs were captured');
    for (const secret of [apiKey, encodeURIComponent(apiKey), password, basic, signing, signing.slice(6)]) {
      assert.ok(!text.includes(secret), `found a secret in the logs: ${secret.slice(0, 4)}…`);
    }
  });

  it('status texts carry the in-flight count, the next attempt, the status code and the failure code', async function () {
    // the helper's RED._ returns the key only; this wrapper shows the substitutions too
    const withArgs = (RED) => {
      RED._ = (key, subs) => (subs ? `${key} ${JSON.stringify(subs)}` : key);
      return postNode(RED);
    };
    const held = [];
    server = await startServer([
      (req, res) => {
        held.push(res);
        if (held.length === 3) held.forEach((r) => answer(200, {})(req, r));
      },
      (req, res) => {
        held.push(res);
        if (held.length === 3) held.forEach((r) => answer(200, {})(req, r));
      },
      (req, res) => {
        held.push(res);
        if (held.length === 3) held.forEach((r) => answer(200, {})(req, r));
      },
      answer(503, '', { 'retry-after': '1' }),
      answer(422, {}),
    ]);
    await helper.load([withArgs, endpointNode, catchNode], flow(server, { maxAttempts: 2, durable: false }));
    const n1 = helper.getNode('n1');
    const ok = [];
    const failed = [];
    helper.getNode('ok').on('input', (m) => ok.push(m));
    helper.getNode('failed').on('input', (m) => failed.push(m));
    for (let i = 0; i < 3; i++) n1.receive({ payload: String(i) });
    await waitFor(ok, 3);
    let st = statusCalls(n1);
    assert.ok(
      st.some((x) => x.fill === 'blue' && x.text === 'http-post.status.sending {"count":3}'),
      JSON.stringify(st),
    );
    assert.deepStrictEqual(st.pop(), { fill: 'green', shape: 'dot', text: 'http-post.status.success {"status":200}' });
    n1.receive({ payload: 'x' });
    await waitFor(failed);
    st = statusCalls(n1);
    assert.ok(
      st.some((x) => x.fill === 'yellow' && x.shape === 'ring' && x.text === 'http-post.status.retry {"n":2,"m":2}'),
      JSON.stringify(st),
    );
    assert.deepStrictEqual(st.pop(), {
      fill: 'red',
      shape: 'ring',
      // the cause in plain words ("422 from partner"), no longer the bare code
      text: 'http-post.status.failed {"cause":"http-post.status.cause.http {\\"status\\":422}"}',
    });
  });

  it('401 with OAuth2: one immediate retry with a fresh token, then success', async function () {
    let issued = 0;
    server = await startServer([
      (req, res) => {
        if (req.url === '/oauth/token') {
          issued++;
          return answer(200, { access_token: `tok_${issued}_abcdefgh`, token_type: 'Bearer', expires_in: 3600 })(
            req,
            res,
          );
        }
        const fresh = req.headers.authorization === 'Bearer tok_2_abcdefgh';
        return answer(fresh ? 200 : 401, { fresh })(req, res);
      },
    ]);
    const ep = { authType: 'oauth2', tokenUrl: `${server.base}/oauth/token` };
    const { n1, got } = await load(server, { path: '/api', maxAttempts: 1 }, ep, {
      ep: { clientId: 'client', clientSecret: 'cs_verysecret' },
    });
    n1.receive({ payload: { a: 1 } });
    const [m] = await waitFor(got.ok);
    assert.deepStrictEqual(m.payload, { fresh: true });
    assert.strictEqual(issued, 2);
    assert.strictEqual(m.delivery.attempts, 2, 'two requests, although maxAttempts is 1');
    const api = server.requests.filter((r) => r.url === '/api');
    assert.strictEqual(api[0].headers['idempotency-key'], api[1].headers['idempotency-key']);
  });

  it('an endpoint that cannot prepare the request (token refused) gives PREPARE_FAILED without leaking the secret', async function () {
    server = await startServer([answer(401, { error: 'invalid_client', error_description: 'bad secret' })]);
    const ep = { authType: 'oauth2', tokenUrl: `${server.base}/oauth/token` };
    const { n1, got } = await load(server, { path: '/api' }, ep, {
      ep: { clientId: 'client', clientSecret: 'cs_verysecret' },
    });
    n1.receive({ payload: 'x' });
    const [m] = await waitFor(got.failed);
    assert.strictEqual(m.error.code, 'PREPARE_FAILED');
    assert.match(m.error.details[0].reason, /invalid_client/);
    assert.strictEqual(server.requests.length, 1, 'only the token request');
    assert.ok(!JSON.stringify(m).includes('cs_verysecret'));
  });

  for (const durable of [false, true]) {
    it(`a missing API key (${durable ? 'durable' : 'in memory'}): the status names it, msg.error.message states it, Catch gets it without a stack`, async function () {
      const withArgs = (RED) => {
        RED._ = (key, subs) => (subs ? `${key} ${JSON.stringify(subs)}` : key);
        return postNode(RED);
      };
      delete process.env.SAYPRO_NO_KEY;
      server = await startServer([answer(200)]);
      await helper.load(
        [withArgs, endpointNode, catchNode],
        flow(server, { durable, maxAttempts: 1 }, { authType: 'apikey' }),
        { ep: { apiKey: '${SAYPRO_NO_KEY}' } },
      );
      const n1 = helper.getNode('n1');
      const got = { failed: [], caught: [] };
      for (const id of Object.keys(got)) helper.getNode(id).on('input', (m) => got[id].push(m));
      n1.receive({ payload: 'x' });
      const [m] = await waitFor(got.failed);
      const [c] = await waitFor(got.caught);
      assert.strictEqual(m.error.code, 'PREPARE_FAILED');
      assert.match(m.error.message, /^apiKey: environment variable SAYPRO_NO_KEY is not set/);
      assert.strictEqual(c.error.code, 'PREPARE_FAILED', 'Catch nodes still learn of it, with the code');
      assert.match(c.error.message, /SAYPRO_NO_KEY is not set/);
      assert.strictEqual(c.error.stack, undefined, 'no JavaScript stack reaches the Catch node');
      await until(() =>
        statusCalls(n1).some(
          (x) =>
            x.fill === 'red' &&
            x.text ===
              'http-post.status.failed {"cause":"http-post.status.cause.noKey {\\"variable\\":\\"SAYPRO_NO_KEY\\"}"}',
        ),
      );
      assert.strictEqual(server.requests.length, 0);
    });
  }

  it('without a Catch node a failure is logged once, as its message, without a stack', async function () {
    server = await startServer([answer(422, { error: 'bad' })]);
    const f = flow(server, { durable: false, maxAttempts: 1 }).filter((n) => n.type !== 'catch');
    await helper.load(NODES, f);
    const failed = [];
    helper.getNode('failed').on('input', (m) => failed.push(m));
    helper.getNode('n1').receive({ payload: 'x' });
    await waitFor(failed);
    const errors = () =>
      helper
        .log()
        .args.map((a) => a[0])
        .filter((e) => e.level === 20 && e.id === 'n1');
    await until(() => errors().length > 0);
    const [entry] = errors();
    assert.strictEqual(errors().length, 1, 'one entry for the debug pane');
    assert.ok(entry.msg instanceof Error);
    assert.strictEqual(entry.msg.code, 'HTTP_422');
    assert.strictEqual(entry.msg.stack, undefined, 'the debug pane shows no stack');
  });

  it('shows the endpoint status (e.g. a failed token) when idle', async function () {
    server = await startServer([answer(200)]);
    const { n1 } = await load(server, {});
    const ep = helper.getNode('ep');
    ep.setStatus({ fill: 'red', shape: 'ring', text: 'endpoint.status.tokenFailed' });
    // (durable: shown once the queue is open and empty)
    await until(
      () =>
        JSON.stringify(statusCalls(n1).pop()) ===
        JSON.stringify({ fill: 'red', shape: 'ring', text: 'endpoint.status.tokenFailed' }),
    );
  });

  it('on redeploy: a message waiting for a retry leaves on output 2 as CANCELLED and reaches Catch', async function () {
    server = await startServer([answer(503, '', { 'retry-after': '60' })]);
    // in memory (durable: the message stays queued, see http-post-durable.spec.js)
    const { n1, got } = await load(server, { durable: false });
    n1.receive({ payload: 'keep me', event: { id: 'evt_c' } });
    await until(() => statusCalls(n1).some((s) => s.fill === 'yellow'));
    assert.strictEqual(server.requests.length, 1);
    const sent = () =>
      n1.send
        .getCalls()
        .map((c) => c.args[0])
        .filter((a) => Array.isArray(a) && a[1]);
    assert.strictEqual(sent().length, 0);
    // the runtime's redeploy: only this node changes, so the wired nodes stay and receive it
    const changed = flow(server, { name: 'post v2', durable: false });
    await helper.setFlows(changed, 'nodes');
    assert.strictEqual(sent().length, 1, 'reported before the old node finished closing');
    const [m] = await waitFor(got.failed);
    await waitFor(got.caught);
    assert.strictEqual(m.error.code, 'CANCELLED');
    assert.strictEqual(m.error.message, 'the flow was redeployed while this message was waiting to be retried');
    assert.strictEqual(m.payload, 'keep me');
    assert.strictEqual(m.delivery.attempts, 1);
    assert.strictEqual(m.statusCode, 503);
    assert.strictEqual(got.caught[0].error.code, 'CANCELLED');
    assert.strictEqual(server.requests.length, 1, 'no further attempt');
  });

  it('close() calls done only after the in-flight message was reported CANCELLED', async function () {
    server = await startServer([never()]);
    const { n1 } = await load(server, { durable: false }, { timeout: 60000 });
    n1.receive({ payload: 'x' });
    await until(() => server.requests.length === 1);
    let sentBeforeDone;
    await n1.close(false).then(() => {
      sentBeforeDone = n1.send
        .getCalls()
        .map((c) => c.args[0])
        .filter((a) => Array.isArray(a) && a[1]);
    });
    assert.strictEqual(sentBeforeDone.length, 1);
    assert.strictEqual(sentBeforeDone[0][1].error.code, 'CANCELLED');
    assert.strictEqual(sentBeforeDone[0][1].error.message, 'the flow was redeployed while this message was being sent');
  });
});
