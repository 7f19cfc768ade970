'use strict';
/**
 * What a user gets from the palette manager: `npm pack` makes the tarball, a
 * fresh Node-RED user directory installs it with npm, and a Node-RED started
 * on it lists every node type with no load error, with its message catalogue,
 * editor template, sidebar help and examples. The demo example, fetched the
 * way Import ▸ Examples fetches it, deploys and runs.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { startNodeRed, debugPane, tmpDir, root } = require('../support/nodered');

const pkg = require('../../package.json');
const TYPES = Object.keys(pkg['node-red'].nodes);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('npm pack → npm install <tgz> → Node-RED (real process)', function () {
  this.timeout(180000);
  let nr; let tgz;
  const key = '7f'.repeat(32);

  before(async function () {
    const packDir = tmpDir('saypro-pack-');
    const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: root, encoding: 'utf8' });
    const info = JSON.parse(out.slice(out.indexOf('[')));
    tgz = path.join(packDir, info[0].filename);
    const files = info[0].files.map((f) => f.path);
    assert.ok(files.includes('dist/nodes/locales/en-US/event-trigger.json'), 'catalogue is packed beside the node');
    assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('nodes/')), 'sources and tests are not packed');

    const userDir = tmpDir('saypro-user-');
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, version: '0.0.1' }));
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tgz], { cwd: userDir, stdio: 'pipe' });
    nr = await startNodeRed({ userDir, loadPackage: false, env: { SAYPRO_DEMO_KEY: key } });
  });

  after(async function () {
    if (nr) await nr.stop();
  });

  it('lists every node type of the package in GET /nodes, loaded, with no error', async function () {
    const sets = await (await fetch(nr.base + '/nodes', { headers: { Accept: 'application/json' } })).json();
    const ours = sets.filter((s) => s.module === pkg.name);
    const types = ours.flatMap((s) => s.types);
    assert.deepStrictEqual(types.sort(), TYPES.slice().sort());
    for (const s of ours) {
      assert.strictEqual(s.err, undefined, `${s.id}: ${s.err}`);
      assert.strictEqual(s.enabled, true, s.id);
      assert.strictEqual(s.version, pkg.version);
    }
    assert.doesNotMatch(nr.output, /\[error\]|Failed to register/i, nr.output);
  });

  it('serves each node\'s editor template, sidebar help and message catalogue', async function () {
    const html = await (await fetch(nr.base + '/nodes', { headers: { Accept: 'text/html' } })).text();
    for (const t of TYPES) {
      assert.ok(html.includes(`data-template-name="${t}"`), `editor template for ${t}`);
      assert.ok(html.includes(`data-help-name="${t}"`), `help for ${t}`);
    }
    const shared = await fetch(`${nr.base}/resources/${pkg.name}/editor-common.js`);
    assert.strictEqual(shared.status, 200, 'the editor script in resources/ is served');
    assert.match(await shared.text(), /SayProIntegrationKit/);
    const catalogues = await (await fetch(nr.base + '/nodes/messages?lng=en-US')).json();
    for (const t of TYPES) {
      const file = path.basename(pkg['node-red'].nodes[t], '.js');
      const cat = catalogues[`${pkg.name}/${t}`];
      assert.ok(cat && cat[file] && cat[file].paletteLabel, `catalogue for ${t}: ${JSON.stringify(Object.keys(catalogues))}`);
    }
  });

  it('offers the examples under Import ▸ Examples, and the demo deploys and runs', async function () {
    const list = await (await fetch(`${nr.base}/library/examples/flows/${pkg.name}`)).json();
    const shipped = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    assert.deepStrictEqual(list.map((e) => e.fn).sort(), shipped.sort());

    const demoName = shipped.find((n) => /^01 Demo/.test(n));
    const flow = await (await fetch(`${nr.base}/library/examples/flows/${pkg.name}/${encodeURIComponent(demoName)}`)).json();
    const startsBefore = (nr.output.match(/Started flows/g) || []).length;
    const res = await fetch(nr.base + '/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    assert.strictEqual(res.status, 204, await res.text());
    // the deploy answers before the new flows have started
    const deadline = Date.now() + 10000;
    while ((nr.output.match(/Started flows/g) || []).length === startsBefore) {
      assert.ok(Date.now() < deadline, 'the deployed flows did not start:\n' + nr.output);
      await new Promise((r) => setTimeout(r, 50));
    }
    const pane = debugPane(nr.base);
    await pane.open;
    try {
      const inject = flow.find((n) => n.type === 'inject' && n.name === 'listing.created');
      const pressed = await fetch(`${nr.base}/inject/${inject.id}`, { method: 'POST' });
      assert.strictEqual(pressed.status, 200);
      const shown = await pane.waitFor((d) => d.name === 'decrypted by the receiver');
      const out = JSON.parse(shown.msg);
      assert.strictEqual(out.listing_id, 'L-1001');
      assert.strictEqual(out.amount, 14990);
    } finally {
      pane.close();
    }
  });
});
