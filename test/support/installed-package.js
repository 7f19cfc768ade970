'use strict';
/**
 * One suite for "the package as a user installs it": `npm pack` makes the
 * tarball, a fresh Node-RED user directory installs it with npm (as the
 * palette manager does), and a Node-RED started on it must list every node
 * type with no load error, serve each editor template, sidebar help, message
 * catalogue and editor script, offer every example under Import ▸ Examples,
 * and run the demo example. Run against the Node-RED devDependency and
 * against the newest Node-RED (test/e2e/*.spec.js).
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { startNodeRed, debugPane, tmpDir, root } = require('./nodered');

const pkg = require('../../package.json');
const TYPES = Object.keys(pkg['node-red'].nodes);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** `npm pack` of the project (dist/ is already built) → {tgz, files}. */
function packTarball(dir) {
  const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const info = JSON.parse(out.slice(out.indexOf('[')));
  return { tgz: path.join(dir, info[0].filename), files: info[0].files.map((f) => f.path) };
}

/** A fresh Node-RED user directory with the tarball installed by npm. */
function installIntoUserDir(tgz, userDir) {
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', private: true, version: '0.0.1' }),
  );
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tgz], { cwd: userDir, stdio: 'pipe' });
}

/** Waits for one more "Started flows" in the log than `before` (a deploy answers before its flows start). */
async function waitForStart(nr, before) {
  const deadline = Date.now() + 10000;
  while ((nr.output.match(/Started flows/g) || []).length === before) {
    assert.ok(Date.now() < deadline, 'the deployed flows did not start:\n' + nr.output);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Defines the suite's hooks and tests inside the current describe().
 * @param {() => Promise<{redJs?, nodePath?, startTimeout?}|undefined>} [runtime]
 *        which Node-RED and Node to start (default: the devDependency on this Node)
 * @param {(ctx) => void} [extra] more tests; ctx.nr is the running Node-RED
 */
function installedPackageSuite(runtime, extra) {
  const ctx = { nr: undefined, files: [] };
  const dirs = [];
  const key = '7f'.repeat(32);

  before(async function () {
    const options = (runtime && (await runtime.call(this))) || {};
    const packDir = tmpDir('saypro-pack-');
    const userDir = tmpDir('saypro-user-');
    dirs.push(packDir, userDir);
    const { tgz, files } = packTarball(packDir);
    ctx.files = files;
    installIntoUserDir(tgz, userDir);
    ctx.nr = await startNodeRed({ userDir, loadPackage: false, env: { SAYPRO_DEMO_KEY: key }, ...options });
  });

  after(async function () {
    if (ctx.nr) await ctx.nr.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('packs the built nodes with their catalogues and the editor script, and no sources or tests', function () {
    for (const f of [
      'dist/nodes/locales/en-US/event-trigger.json',
      'resources/editor-common.js',
      'resources/presets.js',
      'resources/editor-dialogs.js',
      'docs/nodes/http-post.md',
      'LICENSE',
      'README.md',
    ]) {
      assert.ok(ctx.files.includes(f), `${f} is packed`);
    }
    assert.ok(
      !ctx.files.some((f) => f.startsWith('test/') || f.startsWith('nodes/')),
      'sources and tests are not packed',
    );
  });

  it('lists every node type of the package in GET /nodes, loaded, with no error', async function () {
    const { nr } = ctx;
    const sets = await (await fetch(nr.base + '/nodes', { headers: { Accept: 'application/json' } })).json();
    const ours = sets.filter((s) => s.module === pkg.name);
    assert.deepStrictEqual(ours.flatMap((s) => s.types).sort(), TYPES.slice().sort(), JSON.stringify(ours, null, 1));
    for (const s of ours) {
      assert.strictEqual(s.err, undefined, `${s.id}: ${s.err}`);
      assert.strictEqual(s.enabled, true, s.id);
      assert.strictEqual(s.version, pkg.version);
    }
    assert.doesNotMatch(nr.output, /\[error\]|Failed to register/i, nr.output);
  });

  it("serves each node's editor template, sidebar help and message catalogue, and the editor script", async function () {
    const { nr } = ctx;
    const html = await (await fetch(nr.base + '/nodes', { headers: { Accept: 'text/html' } })).text();
    for (const t of TYPES) {
      assert.ok(html.includes(`data-template-name="${t}"`), `editor template for ${t}`);
      assert.ok(html.includes(`data-help-name="${t}"`), `help for ${t}`);
    }
    for (const script of ['editor-common.js', 'presets.js', 'editor-dialogs.js']) {
      const shared = await fetch(`${nr.base}/resources/${pkg.name}/${script}`);
      assert.strictEqual(shared.status, 200, `the editor script resources/${script} is served`);
      assert.match(await shared.text(), /SayProIntegrationKit/);
    }
    const catalogues = await (await fetch(nr.base + '/nodes/messages?lng=en-US')).json();
    for (const t of TYPES) {
      const file = path.basename(pkg['node-red'].nodes[t], '.js');
      const cat = catalogues[`${pkg.name}/${t}`];
      assert.ok(
        cat && cat[file] && cat[file].paletteLabel,
        `catalogue for ${t}: ${JSON.stringify(Object.keys(catalogues))}`,
      );
    }
  });

  it('offers every example under Import ▸ Examples, and the demo deploys and runs', async function () {
    const { nr } = ctx;
    const list = await (await fetch(`${nr.base}/library/examples/flows/${pkg.name}`)).json();
    const shipped = fs
      .readdirSync(path.join(root, 'examples'))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5));
    assert.deepStrictEqual(list.map((e) => e.fn).sort(), shipped.sort());

    // every node type of the package is shown in at least one example
    const used = new Set(
      shipped.flatMap((n) =>
        JSON.parse(fs.readFileSync(path.join(root, 'examples', n + '.json'), 'utf8')).map((x) => x.type),
      ),
    );
    assert.deepStrictEqual(
      TYPES.filter((t) => !used.has(t)),
      [],
      'node types missing from the examples',
    );

    const demoName = shipped.find((n) => /^01 Demo/.test(n));
    const flow = await (
      await fetch(`${nr.base}/library/examples/flows/${pkg.name}/${encodeURIComponent(demoName)}`)
    ).json();
    const startsBefore = (nr.output.match(/Started flows/g) || []).length;
    const res = await fetch(nr.base + '/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    assert.strictEqual(res.status, 204, await res.text());
    await waitForStart(nr, startsBefore);
    const pane = debugPane(nr.base);
    await pane.open;
    try {
      const inject = flow.find((n) => n.type === 'inject' && n.name === 'listing.created');
      assert.ok(inject, 'the demo has an inject node "listing.created"');
      const pressed = await fetch(`${nr.base}/inject/${inject.id}`, { method: 'POST' });
      assert.strictEqual(pressed.status, 200);
      const shown = await pane.waitFor((d) => d.name === 'decrypted by the receiver');
      const out = JSON.parse(shown.msg);
      assert.strictEqual(out.listing_id, 'L-1001');
      assert.strictEqual(out.amount, 14990);
      // and delivered over HTTP through the POST node to the demo's partner flow
      const verdict = await pane.waitFor((d) => d.name === 'delivered: transaction id', 15000);
      assert.match(String(verdict.msg), /^txn_L-1001_\d+$/);
    } finally {
      pane.close();
    }
  });

  if (extra) extra(ctx);
}

module.exports = { installedPackageSuite, packTarball, installIntoUserDir };
