'use strict';
/**
 * What a user gets from the palette manager, on the Node-RED this project is
 * developed against (the devDependency): see test/support/installed-package.js.
 */
const { installedPackageSuite } = require('../support/installed-package');

describe('npm pack → npm install <tgz> → Node-RED (real process)', function () {
  this.timeout(180000);
  installedPackageSuite();
});
