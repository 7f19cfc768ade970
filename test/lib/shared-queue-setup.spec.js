'use strict';
/**
 * The work stream a shared queue asks JetStream for (lib/shared-queue/setup.ts):
 * the node's limits (0: none), the duplicate window in nanoseconds, refusing
 * new messages when full. Created against a real nats-server:
 * test/e2e/shared-queue-lib.spec.js.
 */
const assert = require('assert');
const { workStreamConfig } = require('../../dist/nodes/lib/shared-queue/setup');
const { queueNames } = require('../../dist/nodes/lib/shared-queue/names');

describe('shared queue: the work stream it sets up', function () {
  const names = queueNames('node.1');

  it("holds the node's subjects as a work queue with its limits and replicas", function () {
    const cfg = workStreamConfig(names, { maxItems: 100, maxBytes: 2048, maxDeadLetters: 0 }, 3);
    assert.strictEqual(cfg.name, 'SAYPRO_OUTBOX_node_1');
    assert.deepStrictEqual(cfg.subjects, ['saypro.outbox.node_1.>']);
    assert.strictEqual(cfg.retention, 'workqueue');
    assert.strictEqual(cfg.discard, 'new');
    assert.strictEqual(cfg.storage, 'file');
    assert.strictEqual(cfg.num_replicas, 3);
    assert.strictEqual(cfg.max_msgs, 100);
    assert.strictEqual(cfg.max_bytes, 2048);
    assert.strictEqual(cfg.duplicate_window, 600 * 1e9);
  });

  it('has no limit where the node sets 0, and a duplicate window of at least a second', function () {
    const cfg = workStreamConfig(names, { maxItems: 0, maxBytes: 0, maxDeadLetters: 0, duplicateWindowMs: 10 }, 1);
    assert.strictEqual(cfg.max_msgs, -1);
    assert.strictEqual(cfg.max_bytes, -1);
    assert.strictEqual(cfg.duplicate_window, 1e9);
  });
});
