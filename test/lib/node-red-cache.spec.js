'use strict';
/**
 * The cache of a Node-RED release and its Node binary (scripts/node-red-cache.js),
 * shared by scripts/newest-node-red.js and scripts/oldest-node-red.js: which
 * Node release runs a range, and when a cache folder counts as complete. The
 * downloads themselves: test/e2e/newest-node-red.spec.js, oldest-node-red.spec.js.
 */
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pickNode, readCache, NODE_PACKAGE } = require('../../scripts/node-red-cache');

describe('scripts/node-red-cache', function () {
  it('picks the lowest Node major that satisfies the range, at its newest release, never a pre-release', function () {
    const versions = ['18.17.0', '18.20.8', '20.1.0', '20.19.5', '22.0.0', '23.0.0-rc.1', 'junk'];
    assert.strictEqual(pickNode(versions, '>=18.17'), '18.20.8');
    assert.strictEqual(pickNode(versions, '>=20'), '20.19.5');
    assert.strictEqual(pickNode(versions, '>=22.9'), undefined);
    assert.strictEqual(pickNode(versions, '>=22'), '22.0.0');
  });

  describe('a cache folder', function () {
    let dir;
    beforeEach(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-red-cache-'));
    });
    afterEach(function () {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function write(file, text) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    function complete(marker = {}) {
      write('node_modules/node-red/package.json', JSON.stringify({ version: '4.1.0' }));
      write('node_modules/node-red/red.js', '');
      write(`node_modules/${NODE_PACKAGE}/package.json`, JSON.stringify({ version: 'v20.19.5' }));
      write(`node_modules/${NODE_PACKAGE}/bin/node`, '');
      write(
        'installed.json',
        JSON.stringify({
          nodeRedVersion: '4.1.0',
          engines: '>=18.5',
          nodePackageVersion: '20.19.5',
          nodeVersion: '20.19.5',
          ...marker,
        }),
      );
    }

    it('is used when its marker matches the packages on disk, with the marker fields asked for', function () {
      complete();
      assert.deepStrictEqual(readCache(dir, ['engines']), {
        redJs: path.join(dir, 'node_modules', 'node-red', 'red.js'),
        nodePath: path.join(dir, 'node_modules', NODE_PACKAGE, 'bin', 'node'),
        nodeRedVersion: '4.1.0',
        nodeVersion: '20.19.5',
        engines: '>=18.5',
        cacheDir: dir,
      });
      assert.deepStrictEqual(Object.keys(readCache(dir, ['nodePackageVersion'])), [
        'redJs',
        'nodePath',
        'nodeRedVersion',
        'nodeVersion',
        'nodePackageVersion',
        'cacheDir',
      ]);
    });

    it('is not used without a marker (an interrupted install), or when a package differs from it', function () {
      assert.strictEqual(readCache(dir), undefined);
      complete({ nodeRedVersion: '4.0.0' });
      assert.strictEqual(readCache(dir), undefined);
      complete({ nodePackageVersion: '20.19.4' });
      assert.strictEqual(readCache(dir), undefined);
      complete();
      fs.rmSync(path.join(dir, 'node_modules', NODE_PACKAGE, 'bin', 'node'));
      assert.strictEqual(readCache(dir), undefined);
    });
  });
});
