'use strict';
/**
 * Monitoring outside the editor in a real Node-RED process:
 *   event trigger (shared secret, durable replies) → http post (durable,
 *   API key in the query, Standard Webhooks signing) → a stand-in on
 *   127.0.0.1 that answers 200, 503 then 200, 400, 500 echoing the API key,
 *   and 200 with Deprecation / Sunset / Link headers.
 * Then: the Prometheus metrics on the node HTTP server (bearer token) are
 * scraped and checked value by value and with `promtool check metrics`;
 * they survive a full redeploy; the audit log file (ECS JSON lines) holds an
 * attempt per request and no configured secret anywhere (file and Node-RED
 * log); the deprecation reaches msg.delivery.deprecation and the log once.
 */
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { startNodeRed, debugPane, tmpDir } = require('../support/nodered');
const { havePromtool, checkMetrics, sample } = require('../support/promtool');

const API_KEY = 'sk_mon_' + crypto.randomBytes(12).toString('hex');
const TRIGGER_SECRET = 'trg_mon_' + crypto.randomBytes(12).toString('hex');
const SIGNING_SECRET = 'whsec_' + crypto.randomBytes(24).toString('base64');
const METRICS_TOKEN = 'mt_' + crypto.randomBytes(12).toString('hex');
const SECRETS = [
  API_KEY,
  TRIGGER_SECRET,
  SIGNING_SECRET,
  SIGNING_SECRET.slice(6),
  METRICS_TOKEN,
  encodeURIComponent(SIGNING_SECRET.slice(6)),
];
const SUNSET = 'Wed, 11 Nov 2099 23:59:59 GMT';
const DEPRECATED_AT = 1688169599; // RFC 9745 example: @1688169599

/** The third party: answers by the body's `kind`; counts requests per idempotency key. */
function startStandIn() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        /* answered 400 below */
      }
      const key = req.headers['idempotency-key'];
      seen.push({ url: req.url, key, kind: body.kind });
      const tries = seen.filter((s) => s.key === key).length;
      const json = (status, obj, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      if (!req.url.includes('api_key=' + API_KEY)) return json(401, { error: 'no key' });
      switch (body.kind) {
        case 'ok':
          return json(200, { id: 'r_' + key });
        case 'retry':
          return tries === 1 ? json(503, { error: 'busy' }) : json(200, { id: 'r_' + key });
        case 'bad':
          return json(400, { error: { message: 'amount must be positive' } });
        // a careless partner echoes what it got, the key included
        case 'echo':
          return json(500, { error: `upstream failed for ${req.url}`, key: API_KEY });
        case 'deprecated':
          return json(
            200,
            { id: 'r_' + key },
            {
              deprecation: '@' + DEPRECATED_AT,
              sunset: SUNSET,
              link: '<https://partner.example/docs/v1-deprecation>; rel="deprecation"; type="text/html"',
            },
          );
        default:
          return json(400, { error: 'unknown kind' });
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port })),
  );
}

function flow(port) {
  const z = 'mon0000000000001';
  return [
    { id: z, type: 'tab', label: 'monitoring e2e' },
    {
      id: 'monep',
      type: 'saypro-endpoint',
      name: 'partner',
      baseUrl: `http://127.0.0.1:${port}`,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 5000,
      keepAlive: true,
      tls: '',
      authType: 'apikey',
      apiKeyIn: 'query',
      apiKeyName: 'api_key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
      credentials: { apiKey: API_KEY },
    },
    {
      id: 'montrig',
      z,
      type: 'saypro-event-trigger',
      name: 'orders in',
      url: '/mon/events',
      method: 'post',
      maxBytes: 1048576,
      filter: '',
      dedupeWindow: 600,
      auth: 'secret',
      authHeader: 'x-webhook-secret',
      reply: 'durable',
      ackTimeout: 10,
      credentials: { secret: TRIGGER_SECRET },
      wires: [['monpost'], []],
    },
    {
      id: 'monpost',
      z,
      type: 'saypro-http-post',
      name: 'post orders',
      endpoint: 'monep',
      method: '',
      path: '/orders',
      headers: [],
      msgHeaders: false,
      maxAttempts: 3,
      initialDelay: 50,
      maxDelay: 200,
      maxRetryAfter: 120,
      idempotencyHeader: 'Idempotency-Key',
      successStatuses: '',
      sign: true,
      durable: true,
      maxQueued: 10000,
      maxQueuedMB: 100,
      fullPolicy: 'refuse',
      orderingKey: '',
      maxDeadLetters: 10000,
      credentials: { signingSecret: SIGNING_SECRET },
      wires: [['mondbgok'], ['mondbgfail']],
    },
    {
      id: 'mondbgok',
      z,
      type: 'debug',
      name: 'delivered',
      active: true,
      tosidebar: true,
      console: false,
      complete: 'true',
      targetType: 'full',
      wires: [],
    },
    {
      id: 'mondbgfail',
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

async function waitUntil(fn, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what);
}

describe('monitoring outside the editor (real Node-RED process): metrics, audit log, API version watch', function () {
  this.timeout(90000);
  let standIn;
  let nr;
  let pane;
  let auditDir;
  const ids = {};

  async function send(kind, headers = { 'x-webhook-secret': TRIGGER_SECRET }) {
    const id = `evt_${kind}_${crypto.randomBytes(4).toString('hex')}`;
    const res = await fetch(nr.base + '/mon/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ id, type: 'order.created', data: { kind, amount: 5 } }),
    });
    await res.arrayBuffer();
    return { id, status: res.status };
  }

  const scrape = (token = METRICS_TOKEN) =>
    fetch(nr.base + '/metrics', token ? { headers: { authorization: 'Bearer ' + token } } : {});

  before(async function () {
    standIn = await startStandIn();
    auditDir = tmpDir('saypro-audit-');
    nr = await startNodeRed({
      flow: flow(standIn.port),
      logLevel: 'debug',
      settings: {
        sayproIntegrationKit: {
          metrics: { token: METRICS_TOKEN },
          auditLog: { file: path.join(auditDir, 'audit.log'), maxFileMB: 1, maxFiles: 2, nodeRedLog: true },
        },
      },
    });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    if (standIn) standIn.server.close();
    if (auditDir) fs.rmSync(auditDir, { recursive: true, force: true });
  });

  it('delivers, retries, dead-letters and refuses as the stand-in says', async function () {
    for (const kind of ['ok', 'retry', 'bad', 'echo']) {
      const r = await send(kind);
      assert.strictEqual(r.status, 202, kind);
      ids[kind] = r.id;
      const name = kind === 'ok' || kind === 'retry' ? 'delivered' : 'failed';
      await pane.waitFor((d) => d.name === name && d.msg.includes(r.id), 20000);
    }
    const refused = await send('ok', { 'x-webhook-secret': 'wrong' });
    assert.strictEqual(refused.status, 401);
  });

  it('notices Deprecation, Sunset and Link: msg.delivery.deprecation, a log warning once, a metric', async function () {
    for (const n of [1, 2]) {
      const r = await send('deprecated');
      ids['deprecated' + n] = r.id;
      const shown = await pane.waitFor((d) => d.name === 'delivered' && d.msg.includes(r.id), 20000);
      const msg = JSON.parse(shown.msg);
      assert.deepStrictEqual(msg.delivery.deprecation, {
        deprecation: new Date(DEPRECATED_AT * 1000).toISOString(),
        sunset: new Date(SUNSET).toISOString(),
        link: 'https://partner.example/docs/v1-deprecation',
      });
    }
    const warnings = nr.output
      .split('\n')
      .filter((l) =>
        /\[warn\].*API of endpoint "partner" is deprecated since 2023-06-30 and will be withdrawn on 2099-11-11/.test(
          l,
        ),
      );
    assert.strictEqual(warnings.length, 1, nr.output.slice(-3000));
    assert.match(warnings[0], /see https:\/\/partner\.example\/docs\/v1-deprecation/);
    // the editor's integration monitor shows it on every HTTP POST node of that endpoint
    const monitor = await (await fetch(`${nr.base}/saypro-integration-kit/monitor`)).json();
    const shown = monitor.nodes.filter((n) => n.deprecation);
    assert.ok(shown.length >= 1, JSON.stringify(monitor).slice(0, 2000));
    for (const n of shown) {
      assert.deepStrictEqual(n.deprecation, {
        deprecation: new Date(DEPRECATED_AT * 1000).toISOString(),
        sunset: new Date(SUNSET).toISOString(),
        link: 'https://partner.example/docs/v1-deprecation',
      });
    }
  });

  it('serves Prometheus metrics behind the bearer token with the right values; promtool accepts them', async function () {
    assert.strictEqual((await scrape(null)).status, 401);
    assert.strictEqual((await scrape('wrong')).status, 401);
    const res = await scrape();
    assert.strictEqual(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const ep = { endpoint: 'partner' };
    const node = { endpoint: 'partner', node: 'post orders' };
    assert.strictEqual(
      sample(text, 'saypro_events_received_total', {
        trigger: 'orders in',
        type: 'order.created',
        outcome: 'accepted',
      }),
      6,
    );
    assert.strictEqual(
      sample(text, 'saypro_events_received_total', { trigger: 'orders in', type: 'none', outcome: 'rejected' }),
      1,
    );
    assert.strictEqual(sample(text, 'saypro_deliveries_total', { ...node, outcome: 'delivered' }), 4);
    assert.strictEqual(sample(text, 'saypro_deliveries_total', { ...node, outcome: 'dead_lettered' }), 2);
    assert.strictEqual(sample(text, 'saypro_delivery_attempts_total', { ...ep, status_class: '2xx' }), 4);
    assert.strictEqual(sample(text, 'saypro_delivery_attempts_total', { ...ep, status_class: '4xx' }), 1);
    assert.strictEqual(sample(text, 'saypro_delivery_attempts_total', { ...ep, status_class: '5xx' }), 4);
    assert.strictEqual(sample(text, 'saypro_delivery_attempt_errors_total', { ...ep, code: 'HTTP_500' }), 3);
    assert.strictEqual(sample(text, 'saypro_delivery_attempt_duration_seconds_count', ep), 9);
    assert.strictEqual(sample(text, 'saypro_delivery_duration_seconds_count', { ...ep, outcome: 'delivered' }), 4);
    assert.strictEqual(sample(text, 'saypro_queue_depth', node), 0);
    assert.strictEqual(sample(text, 'saypro_queue_oldest_age_seconds', node), 0);
    assert.strictEqual(sample(text, 'saypro_dead_letters', node), 2);
    for (const state of ['paused', 'circuit_open', 'offline'])
      assert.strictEqual(sample(text, 'saypro_endpoint_state', { ...ep, state }), 0, state);
    assert.strictEqual(sample(text, 'saypro_api_deprecated', ep), 1);
    assert.strictEqual(sample(text, 'saypro_api_deprecation_notices_total', ep), 2);
    assert.strictEqual(sample(text, 'saypro_api_sunset_timestamp_seconds', ep), Date.parse(SUNSET) / 1000);
    assert.ok(sample(text, 'process_resident_memory_bytes') > 0);
    for (const s of SECRETS) assert.ok(!text.includes(s), 'a secret is in the metrics');
    for (const id of Object.values(ids)) assert.ok(!text.includes(id), 'an event id is a label');
    assert.ok(!text.includes('127.0.0.1'), 'a URL is a label');

    if (!havePromtool()) {
      console.log(
        '      promtool is not installed (Debian package prometheus; .ci/run installs it): exposition check skipped',
      );
      this.skip();
    }
    const check = await checkMetrics(text);
    assert.ok(check.ok, check.output);
  });

  it('keeps its counters and its route across a full redeploy', async function () {
    const before = await (await scrape()).text();
    const flows = await (await fetch(nr.base + '/flows', { headers: { 'Node-RED-API-Version': 'v2' } })).json();
    const dep = await fetch(nr.base + '/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows: flows.flows, rev: flows.rev }),
    });
    assert.strictEqual(dep.status, 200, await dep.text());
    await waitUntil(() => /Started flows[\s\S]*Started flows/.test(nr.output), 20000, 'the redeploy');
    const r = await send('ok');
    assert.strictEqual(r.status, 202);
    await pane.waitFor((d) => d.name === 'delivered' && d.msg.includes(r.id), 20000);
    const after = await (await scrape()).text();
    const key = { endpoint: 'partner', node: 'post orders', outcome: 'delivered' };
    assert.strictEqual(
      sample(after, 'saypro_deliveries_total', key),
      sample(before, 'saypro_deliveries_total', key) + 1,
    );
    assert.strictEqual(sample(after, 'saypro_dead_letters', { endpoint: 'partner', node: 'post orders' }), 2);
    // one route: the metrics answer once, not from a second registration
    assert.strictEqual((nr.output.match(/Prometheus metrics at \/metrics/g) || []).length, 1);
  });

  it('writes ECS JSON lines to the audit file, with no configured secret in it or in the Node-RED log', async function () {
    const file = path.join(auditDir, 'audit.log');
    const read = () =>
      fs
        .readdirSync(auditDir)
        .map((n) => fs.readFileSync(path.join(auditDir, n), 'utf8'))
        .join('');
    const records = await waitUntil(
      () => {
        const lines = read()
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
        return lines.filter((r) => r.event.action === 'delivery-finished').length >= 7 ? lines : undefined;
      },
      10000,
      'the audit lines',
    );
    assert.ok(fs.existsSync(file));
    const attempts = records.filter((r) => r.event.action === 'delivery-attempt');
    assert.strictEqual(attempts.length, 10);
    const retry = attempts.find((r) => r.event.id === ids.retry && r.event.reason === 'retry');
    assert.ok(retry, 'the retried attempt');
    assert.strictEqual(retry.http.request.method, 'POST');
    assert.strictEqual(retry.http.response.status_code, 503);
    assert.strictEqual(retry.error.code, 'HTTP_503');
    assert.strictEqual(retry.event.outcome, 'failure');
    assert.strictEqual(retry.labels.endpoint, 'partner');
    assert.ok(Number.isInteger(retry.event.duration) && retry.event.duration > 0);
    assert.ok(!Number.isNaN(Date.parse(retry['@timestamp'])));
    assert.match(retry.url.full, /^http:\/\/127\.0\.0\.1:\d+\/orders\?api_key=(\[redacted\]|%5Bredacted%5D)$/);
    const dead = records.find((r) => r.event.action === 'delivery-finished' && r.event.id === ids.echo);
    assert.strictEqual(dead.event.reason, 'dead_lettered');
    assert.strictEqual(dead.error.code, 'HTTP_500');
    const received = records.filter((r) => r.event.action === 'event-received');
    assert.strictEqual(received.filter((r) => r.event.outcome === 'success').length, 7);
    assert.strictEqual(received.filter((r) => r.event.reason === 'rejected').length, 1);
    assert.strictEqual(records.filter((r) => r.event.action === 'api-deprecation').length, 1);

    const all = read();
    for (const s of SECRETS) {
      assert.ok(!all.includes(s), 'a secret is in the audit file');
      assert.ok(!nr.output.includes(s), 'a secret is in the Node-RED log');
    }
    // the audit lines also went to the Node-RED log
    assert.ok(nr.output.includes('"action":"delivery-attempt"'));
  });

  it("keeps the integration monitor's counts across a restart of Node-RED (kept with the queue on disk)", async function () {
    const node = async () => {
      const snap = await (await fetch(`${nr.base}/saypro-integration-kit/monitor`)).json();
      return snap.nodes.find((n) => n.name === 'post orders');
    };
    // nothing pending, so that nothing changes the counts across the restart
    const before = await waitUntil(
      async () => {
        const n = await node();
        return n && n.depth === 0 ? n : null;
      },
      30000,
      'an empty queue',
    );
    assert.ok(before.delivered > 0 && before.deadLettered > 0, JSON.stringify(before));
    assert.ok(before.countsSince > 0 && before.countsSince <= Date.now(), 'the counts say since when');
    pane.close();
    pane = undefined;
    const { userDir } = nr;
    await nr.stop();
    nr = await startNodeRed({
      userDir,
      settings: {
        sayproIntegrationKit: {
          metrics: { token: METRICS_TOKEN },
          auditLog: { file: path.join(auditDir, 'audit.log'), maxFileMB: 1, maxFiles: 2, nodeRedLog: true },
        },
      },
    });
    const after = await waitUntil(
      async () => {
        const n = await node();
        return n && n.queueState === 'open' ? n : null;
      },
      30000,
      'the queue open again',
    );
    for (const k of ['delivered', 'retried', 'deadLettered', 'refused', 'deadLetters', 'countsSince'])
      assert.strictEqual(after[k], before[k], `${k} after the restart`);
  });
});

describe('monitoring settings from the environment (real Node-RED process)', function () {
  this.timeout(60000);
  let nr;
  after(async function () {
    if (nr) await nr.stop();
  });

  it('SAYPRO_METRICS=off: no /metrics route; SAYPRO_AUDIT_LOG=userdir: the audit file in the user directory', async function () {
    const z = 'mon0000000000002';
    nr = await startNodeRed({
      env: { SAYPRO_METRICS: 'off', SAYPRO_AUDIT_LOG: 'userdir' },
      flow: [
        { id: z, type: 'tab', label: 'env' },
        {
          id: 'montrig2',
          z,
          type: 'saypro-event-trigger',
          name: 'env events',
          url: '/mon/env',
          method: 'post',
          maxBytes: 1048576,
          filter: 'order.*',
          dedupeWindow: 600,
          auth: 'none',
          authHeader: 'x-webhook-secret',
          reply: 'immediate',
          ackTimeout: 10,
          wires: [[], []],
        },
      ],
    });
    const res = await fetch(nr.base + '/metrics');
    assert.strictEqual(res.status, 404);
    await res.arrayBuffer();
    const sent = await fetch(nr.base + '/mon/env', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'evt_env_1', type: 'user.created', data: {} }),
    });
    assert.strictEqual(sent.status, 202);
    await sent.arrayBuffer();
    const file = path.join(nr.userDir, 'saypro-audit', 'audit.log');
    const rec = await waitUntil(
      () =>
        fs.existsSync(file) &&
        fs.readFileSync(file, 'utf8').trim() !== '' &&
        JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n')[0]),
      10000,
      'the audit file',
    );
    assert.strictEqual(rec.event.action, 'event-received');
    assert.strictEqual(rec.event.id, 'evt_env_1');
    assert.strictEqual(rec.event.reason, 'ignored');
    assert.strictEqual(rec.labels.trigger, 'env events');
    assert.strictEqual(rec.labels.event_type, 'user.created');
  });
});
