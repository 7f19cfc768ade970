'use strict';
const assert = require('node:assert');
const { ReplayMemory, replayWindowSeconds } = require('../../../dist/nodes/lib/trigger/replay');

describe('webhook replay memory', function () {
  it('remembers a webhook-id for twice the signature tolerance plus a minute', function () {
    let now = 0;
    const memory = new ReplayMemory({ now: () => now });
    assert.strictEqual(replayWindowSeconds(), 660);
    assert.strictEqual(memory.seen('msg_1'), false);
    memory.remember('msg_1');
    now = 659 * 1000;
    assert.strictEqual(memory.seen('msg_1'), true);
    now = 661 * 1000;
    assert.strictEqual(memory.seen('msg_1'), false);
  });
});
