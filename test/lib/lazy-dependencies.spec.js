'use strict';
/**
 * The package's cost at rest: loading its node and plugin files (what Node-RED does at start,
 * whatever the flows) does not load the dependencies that only some flows need — undici (the
 * first endpoint loads it), xml2js (XML bodies and answers), prom-client (metrics switched on),
 * the NATS clients (a shared queue or a NATS connection). Checked in a fresh process.
 */
const assert = require('node:assert');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '../..');

function packagesLoadedBy(script) {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `
      const path = require('path');
      const pkg = require('./package.json');
      for (const f of [...Object.values(pkg['node-red'].nodes), ...Object.values(pkg['node-red'].plugins)]) require(path.resolve(f));
      ${script}
      const names = new Set();
      for (const k of Object.keys(require.cache)) {
        const m = k.match(/node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)/);
        if (m) names.add(m[1].replace(/\\\\/g, '/'));
      }
      Promise.resolve().then(() => process.stdout.write(JSON.stringify([...names])));
      `,
    ],
    { cwd: root, encoding: 'utf8', timeout: 60000 },
  );
  return JSON.parse(out);
}

/** the package's own outbox files (dist/nodes/lib/outbox/*.js) loaded after `script` */
function outboxFilesLoadedBy(script) {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `
      const path = require('path');
      const pkg = require('./package.json');
      for (const f of [...Object.values(pkg['node-red'].nodes), ...Object.values(pkg['node-red'].plugins)]) require(path.resolve(f));
      ${script}
      const files = Object.keys(require.cache)
        .map((k) => k.split(path.sep).join('/'))
        .filter((k) => k.includes('/dist/nodes/lib/outbox/'))
        .map((k) => k.replace(/.*\\/dist\\/nodes\\/lib\\/outbox\\//, ''));
      process.stdout.write(JSON.stringify(files.sort()), () => process.exit(0));
      `,
    ],
    { cwd: root, encoding: 'utf8', timeout: 60000 },
  );
  return JSON.parse(out);
}

describe('dependencies loaded on first use', function () {
  this.timeout(90000);

  it("the durable queue's journal is loaded by the first durable node, not at start (an in-memory flow never loads it)", function () {
    const atStart = outboxFilesLoadedBy('');
    assert.deepStrictEqual(atStart, ['age.js', 'queue-dir.js'], `loaded at start: ${atStart.join(', ')}`);
    const opened = outboxFilesLoadedBy(`
      // a local queue asked for (in a directory that cannot be made: nothing is written)
      const { openDeliveryQueue } = require('./dist/nodes/common/queue-factory.js');
      openDeliveryQueue({ kind: 'local' }, { dir: '/proc/no-such-place/q' }, 'n1', {}).catch(() => undefined);
    `);
    for (const f of ['journal.js', 'outbox.js', 'durable.js'])
      assert.ok(opened.includes(f), `${f} once a durable queue is used: ${opened.join(', ')}`);
  });

  it('loading every node and plugin file loads none of undici, xml2js, prom-client, @nats-io/nats-core, @nats-io/jetstream, @nats-io/kv, @nats-io/transport-node', function () {
    const loaded = packagesLoadedBy('');
    for (const name of [
      'undici',
      'xml2js',
      'prom-client',
      '@nats-io/nats-core',
      '@nats-io/jetstream',
      '@nats-io/kv',
      '@nats-io/transport-node',
    ])
      assert.ok(!loaded.includes(name), `${name} is loaded at start: ${loaded.join(', ')}`);
  });

  it('each is loaded when it is needed: an endpoint builds its connections, an XML answer is parsed, metrics are created', function () {
    const loaded = packagesLoadedBy(`
      require('./dist/nodes/lib/http/agent.js').createDispatchers({ keepAlive: true, connections: 4 }).destroy();
      require('./dist/nodes/lib/http/response.js').parseResponseBody(Buffer.from('<a>1</a>'), 'application/xml');
      require('./dist/nodes/lib/telemetry/metrics.js').createMetrics().stop();
    `);
    for (const name of ['undici', 'xml2js', 'prom-client'])
      assert.ok(loaded.includes(name), `${name} was not loaded: ${loaded.join(', ')}`);
  });

  it('a delivery loads only the parts of undici the package uses (Agent, ProxyAgent, connector, request), not its index (fetch, WebSocket, cache, mocks)', function () {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `
        const http = require('http');
        const path = require('path');
        const undiciFiles = () => Object.keys(require.cache)
          .map((k) => k.split(path.sep).join('/'))
          .filter((k) => k.includes('/node_modules/undici/'))
          .map((k) => k.replace(/.*\\/node_modules\\/undici\\//, ''));
        const server = http.createServer((req, res) => {
          let n = 0;
          req.on('data', (c) => (n += c.length));
          req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, n })));
        });
        server.listen(0, '127.0.0.1', async () => {
          const { createDispatchers } = require('./dist/nodes/lib/http/agent.js');
          const { undiciTransport } = require('./dist/nodes/lib/http/transport.js');
          const { undici } = require('./dist/nodes/lib/http/undici.js');
          const d = createDispatchers({ keepAlive: true, connections: 2 });
          const url = 'http://127.0.0.1:' + server.address().port + '/in?x=1';
          const res = await undiciTransport({ method: 'POST', url, headers: { 'content-type': 'application/json' },
            data: Buffer.from('{"a":1}'), timeout: 5000, signal: new AbortController().signal, dispatcher: d.forUrl(url).dispatcher });
          const files = undiciFiles();
          d.destroy();
          server.close();
          process.stdout.write(JSON.stringify({ status: res.status, data: String(res.data), files, loaded: undici().loaded }));
        });
        `,
      ],
      { cwd: root, encoding: 'utf8', timeout: 60000 },
    );
    const r = JSON.parse(out);
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(JSON.parse(r.data), { method: 'POST', url: '/in?x=1', n: 7 });
    assert.strictEqual(r.loaded, 'parts');
    assert.ok(!r.files.includes('index.js'), `undici's index was loaded`);
    for (const f of ['lib/dispatcher/agent.js', 'lib/api/api-request.js', 'lib/core/connect.js'])
      assert.ok(r.files.includes(f), `${f} not loaded: ${r.files.join(', ')}`);
    assert.ok(!r.files.some((f) => f.startsWith('lib/web/')), `undici's fetch/WebSocket loaded: ${r.files.join(', ')}`);
  });

  it('metrics switched on (the default): prom-client waits for the first event, which is counted, or the first scrape', async function () {
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `
        const loaded = () => Object.keys(require.cache).some((k) => /node_modules[\\\\/]prom-client[\\\\/]/.test(k));
        const { installMonitoring } = require('./dist/nodes/common/monitoring.js');
        const bus = require('./dist/nodes/lib/telemetry/bus.js');
        const routes = {};
        const RED = { settings: {}, log: { info() {}, warn() {} }, httpNode: { get: (p, h) => (routes[p] = h) } };
        installMonitoring(RED);
        const atStart = loaded();
        bus.emit({ kind: 'attempt', endpoint: 'api', endpointId: 'ep', node: 'post', nodeId: 'n1', method: 'POST',
          url: 'http://127.0.0.1/x', status: 200, durationMs: 5, result: 'success', attempt: 1 });
        const afterEvent = loaded();
        const res = { headers: {}, statusCode: 0, setHeader(n, v) { this.headers[n] = v; },
          end(b) { process.stdout.write(JSON.stringify({ atStart, afterEvent, route: Object.keys(routes), status: this.statusCode, body: b })); } };
        routes['/metrics']({ headers: {} }, res);
        `,
      ],
      { cwd: root, encoding: 'utf8', timeout: 60000 },
    );
    const r = JSON.parse(out);
    assert.deepStrictEqual(r.route, ['/metrics']);
    assert.strictEqual(r.atStart, false, 'prom-client loaded at start');
    assert.strictEqual(r.afterEvent, true, 'prom-client not loaded by the first event');
    assert.strictEqual(r.status, 200);
    assert.match(r.body, /^saypro_delivery_attempts_total\{endpoint="api",status_class="2xx"\} 1$/m);
  });
});
