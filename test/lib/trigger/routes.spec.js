'use strict';
const assert = require('node:assert');
const { joinPath, rootOf } = require('../../../dist/nodes/lib/trigger/routes');

describe('trigger routes', function () {
  it('joins httpNodeRoot and the node path with one slash', function () {
    assert.strictEqual(joinPath('/', '/events'), '/events');
    assert.strictEqual(joinPath('/api/', '/events'), '/api/events');
    assert.strictEqual(joinPath('/api', 'events'), '/api/events');
    assert.strictEqual(joinPath(undefined, '/events'), '/events');
  });

  it('finds the root app through parents, and stops on a loop', function () {
    const root = {};
    const mid = { parent: root };
    assert.strictEqual(rootOf({ parent: mid }), root);
    const loop = {};
    loop.parent = loop;
    assert.strictEqual(rootOf(loop), loop);
  });
});
