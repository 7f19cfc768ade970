'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const bus = require('../../dist/nodes/lib/telemetry/bus');
const { createMetrics } = require('../../dist/nodes/lib/telemetry/metrics');
const { BoundedLabel, statusClass, cleanLabel } = require('../../dist/nodes/lib/telemetry/labels');
const {
  readDeprecation,
  parseDeprecation,
  parseHttpDate,
  linkWithRel,
  DeprecationWatch,
  DAY_MS,
} = require('../../dist/nodes/lib/telemetry/deprecation');
const { toEcs, deprecationText } = require('../../dist/nodes/lib/telemetry/ecs');
const { RotatingFile } = require('../../dist/nodes/lib/telemetry/rotating-file');
const { readMonitoringSettings } = require('../../dist/nodes/lib/telemetry/settings');
const { havePromtool, checkMetrics, sample } = require('../support/promtool');

const ids = { endpoint: 'partner', endpointId: 'ep1', node: 'post orders', nodeId: 'n1' };

describe('telemetry: API version watch (Deprecation, Sunset, Link, vendor notices)', function () {
  it('reads RFC 9745 structured dates, RFC 8594 HTTP dates and the links', function () {
    assert.strictEqual(parseDeprecation('@1688169599'), '2023-06-30T23:59:59.000Z');
    assert.strictEqual(parseDeprecation('true'), 'true');
    assert.strictEqual(parseDeprecation('Sun, 11 Nov 2018 23:59:59 GMT'), '2018-11-11T23:59:59.000Z');
    assert.strictEqual(parseDeprecation('soon'), undefined);
    assert.strictEqual(parseHttpDate('Wed, 11 Nov 2026 23:59:59 GMT'), '2026-11-11T23:59:59.000Z');
    assert.strictEqual(parseHttpDate('12345'), undefined);
    const link =
      '<https://api.example.com/v2>; rel="successor-version", <https://developer.example.com/deprecation>; rel="deprecation"; type="text/html"';
    assert.strictEqual(linkWithRel(link, 'deprecation'), 'https://developer.example.com/deprecation');
    assert.strictEqual(linkWithRel(link, 'sunset'), undefined);
    assert.deepStrictEqual(
      readDeprecation({ Deprecation: '@1688169599', Sunset: 'Wed, 11 Nov 2026 23:59:59 GMT', link }),
      {
        deprecation: '2023-06-30T23:59:59.000Z',
        sunset: '2026-11-11T23:59:59.000Z',
        link: 'https://developer.example.com/deprecation',
      },
    );
  });

  it('reads Stripe-Notice and a Warning 299 about deprecation; ignores unrelated headers', function () {
    assert.deepStrictEqual(readDeprecation({ 'stripe-notice': 'Your API version 2023-08-16 is outdated.' }), {
      warning: 'Your API version 2023-08-16 is outdated.',
    });
    assert.deepStrictEqual(
      readDeprecation({ warning: '299 - "This API is deprecated and will be removed by Summer \'22."' }),
      { warning: "This API is deprecated and will be removed by Summer '22." },
    );
    assert.strictEqual(readDeprecation({ warning: '299 - "Response is stale"' }), undefined);
    assert.strictEqual(readDeprecation({ 'content-type': 'application/json' }), undefined);
    assert.strictEqual(readDeprecation(undefined), undefined);
    // a Link alone is no notice
    assert.strictEqual(readDeprecation({ link: '<https://x.example/d>; rel="deprecation"' }), undefined);
  });

  it('warns once per endpoint per day, again when the notice changes', function () {
    const w = new DeprecationWatch();
    const t0 = Date.UTC(2026, 0, 1);
    const info = { sunset: '2026-11-11T23:59:59.000Z' };
    assert.strictEqual(w.observe('ep1', info, t0), true);
    assert.strictEqual(w.observe('ep1', { ...info }, t0 + 1000), false);
    assert.strictEqual(w.observe('ep2', info, t0 + 1000), true);
    assert.strictEqual(w.observe('ep1', info, t0 + DAY_MS - 1), false);
    assert.strictEqual(w.observe('ep1', info, t0 + DAY_MS), true);
    assert.strictEqual(w.observe('ep1', { sunset: '2026-12-01T00:00:00.000Z' }, t0 + DAY_MS + 1), true);
    assert.strictEqual(w.clear('ep1'), true);
    assert.strictEqual(w.get('ep1'), undefined);
    assert.strictEqual(w.observe('ep1', undefined, t0), false);
  });
});

describe('telemetry: labels', function () {
  it('keeps the first N values per scope, then "other"; cleans and cuts values', function () {
    const b = new BoundedLabel(2);
    assert.strictEqual(b.value('t1', 'a'), 'a');
    assert.strictEqual(b.value('t1', 'b'), 'b');
    assert.strictEqual(b.value('t1', 'c'), 'other');
    assert.strictEqual(b.value('t1', 'a'), 'a');
    assert.strictEqual(b.value('t2', 'c'), 'c');
    assert.strictEqual(cleanLabel('x\n'.repeat(100)).length, 64);
    assert.strictEqual(cleanLabel(''), 'unknown');
    assert.deepStrictEqual([200, 302, 404, 503, undefined].map(statusClass), ['2xx', '3xx', '4xx', '5xx', 'error']);
  });
});

describe('telemetry: ECS audit records', function () {
  it('an attempt: ECS names, duration in ns, URL and texts scrubbed', function () {
    const scrub = (t) => t.split('sk_live_1').join('[redacted]');
    const rec = toEcs(
      {
        kind: 'attempt',
        ...ids,
        method: 'POST',
        url: 'http://127.0.0.1/v1?key=sk_live_1',
        status: 503,
        errorCode: 'HTTP_503',
        durationMs: 12.5,
        result: 'retry',
        attempt: 1,
        maxAttempts: 5,
        eventId: 'evt_1',
        at: Date.UTC(2026, 0, 1),
      },
      scrub,
    );
    assert.strictEqual(rec['@timestamp'], '2026-01-01T00:00:00.000Z');
    assert.strictEqual(rec.event.action, 'delivery-attempt');
    assert.strictEqual(rec.event.outcome, 'failure');
    assert.strictEqual(rec.event.reason, 'retry');
    assert.strictEqual(rec.event.id, 'evt_1');
    assert.strictEqual(rec.event.duration, 12500000);
    assert.strictEqual(rec.http.request.method, 'POST');
    assert.strictEqual(rec.http.response.status_code, 503);
    assert.strictEqual(rec.url.full, 'http://127.0.0.1/v1?key=[redacted]');
    assert.strictEqual(rec.error.code, 'HTTP_503');
    assert.strictEqual(rec.labels.endpoint, 'partner');
    assert.ok(!JSON.stringify(rec).includes('sk_live_1'));
  });

  it('events received, deliveries finished, deprecations (only the logged ones)', function () {
    const r = toEcs({
      kind: 'event-received',
      trigger: 'orders',
      triggerId: 't1',
      type: 'order.created',
      eventId: 'e1',
      outcome: 'accepted',
      at: 0,
    });
    assert.strictEqual(r.event.action, 'event-received');
    assert.strictEqual(r.event.outcome, 'success');
    assert.strictEqual(r.labels.event_type, 'order.created');
    const f = toEcs({
      kind: 'delivery-finished',
      ...ids,
      outcome: 'dead_lettered',
      statusCode: 400,
      durationMs: 3,
      attempts: 1,
      eventId: 'e1',
      errorCode: 'HTTP_400',
      errorMessage: 'The server answered 400',
      at: 0,
    });
    assert.strictEqual(f.event.outcome, 'failure');
    assert.strictEqual(f.event.reason, 'dead_lettered');
    assert.strictEqual(f.error.message, 'The server answered 400');
    assert.strictEqual(
      toEcs({ kind: 'deprecation', ...ids, sunset: '2026-11-11T00:00:00.000Z', logged: false, at: 0 }),
      undefined,
    );
    const d = toEcs({ kind: 'deprecation', ...ids, sunset: '2026-11-11T00:00:00.000Z', logged: true, at: 0 });
    assert.strictEqual(d.event.action, 'api-deprecation');
    assert.match(d.message, /withdrawn on 2026-11-11/);
    assert.match(
      deprecationText('stripe', { deprecation: 'true', warning: 'use v2' }),
      /"stripe" is deprecated: use v2/,
    );
  });
});

describe('telemetry: rotating audit file', function () {
  it('rotates by size and keeps the total bounded', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-rot-'));
    const file = path.join(dir, 'audit.log');
    const f = new RotatingFile({ file, maxBytes: 2048, maxFiles: 2 });
    const line = JSON.stringify({ n: 0, pad: 'x'.repeat(90) });
    for (let i = 0; i < 500; i++) f.write(line.replace('"n":0', `"n":${i}`));
    await f.flush();
    const names = fs.readdirSync(dir).sort();
    assert.deepStrictEqual(names, ['audit.log', 'audit.log.1', 'audit.log.2']);
    let total = 0;
    for (const n of names) {
      const size = fs.statSync(path.join(dir, n)).size;
      assert.ok(size <= 2048, `${n} is ${size} bytes`);
      total += size;
    }
    assert.ok(total <= 3 * 2048);
    // the newest line is in the current file; every line is whole JSON
    const current = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.strictEqual(JSON.parse(current[current.length - 1]).n, 499);
    for (const n of names) for (const l of fs.readFileSync(path.join(dir, n), 'utf8').trim().split('\n')) JSON.parse(l);
    assert.strictEqual(f.written, 500);
    assert.strictEqual(f.dropped, 0);
    await f.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most maxPendingBytes waiting: further lines are dropped, counted and told once', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-rot-'));
    const errors = [];
    const f = new RotatingFile({
      file: path.join(dir, 'audit.log'),
      maxBytes: 1024 * 1024,
      maxFiles: 1,
      maxPendingBytes: 64 * 1024,
      onError: (e) => errors.push(e),
    });
    const line = 'x'.repeat(1023);
    // written synchronously, before the writer gets a turn: 64 lines fit, the rest are dropped
    for (let i = 0; i < 100; i++) f.write(line);
    await f.flush();
    assert.strictEqual(f.written, 64);
    assert.strictEqual(f.dropped, 36);
    assert.strictEqual(errors.length, 1);
    assert.match(errors[0].message, /does not keep up/);
    assert.strictEqual(fs.statSync(path.join(dir, 'audit.log')).size, 64 * 1024);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drops (and counts) lines when the disk cannot take them, without throwing', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-rot-'));
    fs.writeFileSync(path.join(dir, 'blocker'), 'a file where a directory should be');
    const errors = [];
    const f = new RotatingFile({
      file: path.join(dir, 'blocker', 'audit.log'),
      maxBytes: 4096,
      maxFiles: 1,
      onError: (e) => errors.push(e),
    });
    f.write('{"a":1}');
    await f.flush();
    assert.strictEqual(f.dropped, 1);
    assert.strictEqual(errors.length, 1);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('telemetry: settings', function () {
  it('defaults: metrics on at /metrics, audit log off; env wins over settings.js', function () {
    const d = readMonitoringSettings(undefined, {}, '/data');
    assert.deepStrictEqual(d.metrics, {
      enabled: true,
      path: '/metrics',
      token: '',
      processMetrics: true,
      maxEventTypes: 20,
    });
    assert.strictEqual(d.auditLog.file, '');
    const s = readMonitoringSettings(
      { metrics: { path: 'prom', token: 'abc' }, auditLog: { file: true, maxFileMB: 2, maxFiles: 3 } },
      { SAYPRO_METRICS: 'off' },
      '/data',
    );
    assert.strictEqual(s.metrics.enabled, false);
    assert.strictEqual(s.metrics.path, '/prom');
    assert.strictEqual(s.metrics.token, 'abc');
    assert.strictEqual(s.auditLog.file, path.join('/data', 'saypro-audit', 'audit.log'));
    assert.strictEqual(s.auditLog.maxFiles, 3);
    const e = readMonitoringSettings({}, { SAYPRO_AUDIT_LOG: 'logs/a.log', SAYPRO_METRICS_PATH: '/x y' }, '/data');
    assert.strictEqual(e.auditLog.file, path.join('/data', 'logs', 'a.log'));
    assert.strictEqual(e.metrics.path, '/metrics');
    assert.strictEqual(e.problems.length, 1);
  });
});

describe('telemetry: Prometheus metrics from the bus', function () {
  let metrics;
  afterEach(function () {
    if (metrics) metrics.stop();
    bus.resetForTests();
  });

  it('counts events, attempts and deliveries; reads gauges at scrape time; passes promtool', async function () {
    let sunset = [{ endpoint: 'partner', sunset: '2026-11-11T00:00:00.000Z' }];
    metrics = createMetrics({ processMetrics: false, maxEventTypes: 2, deprecations: () => sunset });
    let depth = 3;
    bus.registerQueue('n1', () => ({ ...ids, depth, oldestAgeSeconds: 12.5, deadLetters: 1 }));
    bus.registerEndpoint('ep1', () => ({
      endpoint: 'partner',
      endpointId: 'ep1',
      paused: false,
      circuitOpen: true,
      halfOpen: false,
      offline: false,
    }));
    for (const type of ['a', 'b', 'c', 'd'])
      bus.emit({
        kind: 'event-received',
        trigger: 'orders',
        triggerId: 't1',
        type,
        eventId: 'evt-' + type,
        outcome: 'accepted',
        at: Date.now(),
      });
    bus.emit({
      kind: 'event-received',
      trigger: 'orders',
      triggerId: 't1',
      outcome: 'rejected',
      errorCode: 'UNAUTHORIZED',
      at: Date.now(),
    });
    const attempt = {
      kind: 'attempt',
      ...ids,
      method: 'POST',
      url: 'http://127.0.0.1/x',
      attempt: 1,
      maxAttempts: 3,
      at: Date.now(),
    };
    bus.emit({ ...attempt, status: 503, errorCode: 'HTTP_503', durationMs: 30, result: 'retry' });
    bus.emit({ ...attempt, status: 200, durationMs: 70, result: 'success' });
    bus.emit({ ...attempt, errorCode: 'ECONNREFUSED', durationMs: 1, result: 'offline' });
    bus.emit({
      kind: 'delivery-finished',
      ...ids,
      outcome: 'delivered',
      statusCode: 200,
      durationMs: 1500,
      attempts: 2,
      eventId: 'evt-a',
      at: Date.now(),
    });
    bus.emit({
      kind: 'delivery-finished',
      ...ids,
      outcome: 'dead_lettered',
      statusCode: 400,
      durationMs: 10,
      attempts: 1,
      at: Date.now(),
    });
    bus.emit({ kind: 'deprecation', ...ids, sunset: sunset[0].sunset, logged: true, at: Date.now() });

    const text = await metrics.text();
    assert.strictEqual(
      sample(text, 'saypro_events_received_total', { trigger: 'orders', type: 'a', outcome: 'accepted' }),
      1,
    );
    assert.strictEqual(
      sample(text, 'saypro_events_received_total', { trigger: 'orders', type: 'other', outcome: 'accepted' }),
      2,
    );
    assert.strictEqual(
      sample(text, 'saypro_events_received_total', { trigger: 'orders', type: 'none', outcome: 'rejected' }),
      1,
    );
    assert.strictEqual(sample(text, 'saypro_delivery_attempts_total', { endpoint: 'partner', status_class: '5xx' }), 1);
    assert.strictEqual(sample(text, 'saypro_delivery_attempts_total', { endpoint: 'partner', status_class: '2xx' }), 1);
    assert.strictEqual(
      sample(text, 'saypro_delivery_attempts_total', { endpoint: 'partner', status_class: 'error' }),
      undefined,
      'an offline wait is no attempt',
    );
    assert.strictEqual(
      sample(text, 'saypro_delivery_attempt_errors_total', { endpoint: 'partner', code: 'HTTP_503' }),
      1,
    );
    assert.strictEqual(sample(text, 'saypro_delivery_attempt_duration_seconds_count', { endpoint: 'partner' }), 2);
    assert.strictEqual(sample(text, 'saypro_delivery_attempt_duration_seconds_sum', { endpoint: 'partner' }), 0.1);
    assert.strictEqual(
      sample(text, 'saypro_deliveries_total', { endpoint: 'partner', node: 'post orders', outcome: 'delivered' }),
      1,
    );
    assert.strictEqual(
      sample(text, 'saypro_deliveries_total', { endpoint: 'partner', node: 'post orders', outcome: 'dead_lettered' }),
      1,
    );
    assert.strictEqual(
      sample(text, 'saypro_delivery_duration_seconds_bucket', { endpoint: 'partner', outcome: 'delivered', le: '2.5' }),
      1,
    );
    assert.strictEqual(
      sample(text, 'saypro_delivery_duration_seconds_bucket', { endpoint: 'partner', outcome: 'delivered', le: '1' }),
      0,
    );
    assert.strictEqual(sample(text, 'saypro_queue_depth', { node: 'post orders', endpoint: 'partner' }), 3);
    assert.strictEqual(
      sample(text, 'saypro_queue_oldest_age_seconds', { node: 'post orders', endpoint: 'partner' }),
      12.5,
    );
    assert.strictEqual(sample(text, 'saypro_dead_letters', { node: 'post orders', endpoint: 'partner' }), 1);
    assert.strictEqual(sample(text, 'saypro_endpoint_state', { endpoint: 'partner', state: 'circuit_open' }), 1);
    assert.strictEqual(sample(text, 'saypro_endpoint_state', { endpoint: 'partner', state: 'paused' }), 0);
    assert.strictEqual(sample(text, 'saypro_api_deprecated', { endpoint: 'partner' }), 1);
    assert.strictEqual(
      sample(text, 'saypro_api_sunset_timestamp_seconds', { endpoint: 'partner' }),
      Date.UTC(2026, 10, 11) / 1000,
    );
    assert.strictEqual(sample(text, 'saypro_api_deprecation_notices_total', { endpoint: 'partner' }), 1);
    assert.ok(!text.includes('evt-'), 'event ids are no labels');
    assert.ok(!text.includes('127.0.0.1'), 'URLs are no labels');

    // gauges are read again at each scrape
    depth = 0;
    sunset = [];
    const again = await metrics.text();
    assert.strictEqual(sample(again, 'saypro_queue_depth', { node: 'post orders', endpoint: 'partner' }), 0);
    assert.strictEqual(sample(again, 'saypro_api_deprecated', { endpoint: 'partner' }), 0);

    if (!havePromtool()) {
      console.log(
        '      promtool is not installed (Debian package prometheus; .ci/run installs it): exposition check skipped',
      );
      this.skip();
    }
    const check = await checkMetrics(text);
    assert.ok(check.ok, check.output);
  });
});
