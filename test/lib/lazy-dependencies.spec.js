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

describe('dependencies loaded on first use', function () {
  this.timeout(90000);

  it('loading every node and plugin file loads none of undici, xml2js, prom-client, @nats-io/jetstream, @nats-io/kv, @nats-io/transport-node', function () {
    const loaded = packagesLoadedBy('');
    for (const name of [
      'undici',
      'xml2js',
      'prom-client',
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
});
