'use strict';
/**
 * The group of a shared queue as one instance shows it: members and share
 * from the members' records (lib/shared-queue/group.ts), the monitor's group
 * part (lib/monitor.ts) and the saypro_shared_* gauges (lib/telemetry/metrics.ts).
 * Against real NATS: test/e2e/shared-queue.spec.js.
 */
const assert = require('node:assert');
const { groupView, memberKey, describeGroup, MEMBER_TTL_MS } = require('../../dist/nodes/lib/shared-queue/group');
const { monitorNode } = require('../../dist/nodes/lib/monitor');
const bus = require('../../dist/nodes/lib/telemetry/bus');
const { createMetrics } = require('../../dist/nodes/lib/telemetry/metrics');
const { havePromtool, checkMetrics, sample } = require('../support/promtool');

describe('shared queue: the group as one instance shows it', function () {
  afterEach(function () {
    bus.resetForTests();
  });

  it('counts the members that reported lately and this instance share of their deliveries', function () {
    const now = 1_000_000;
    const v = groupView(
      [
        { instance: 'a', delivered: 30, at: now - 1000 },
        { instance: 'b', delivered: 50, at: now - 2000 },
        { instance: 'c', delivered: 20, at: now - MEMBER_TTL_MS }, // just in time
        { instance: 'dead', delivered: 900, at: now - MEMBER_TTL_MS - 1 }, // stopped reporting
      ],
      'a',
      now,
    );
    assert.deepStrictEqual(v, { members: 3, groupDelivered: 100, share: 0.3, at: now });
    assert.deepStrictEqual(groupView([], 'a', now), { members: 0, groupDelivered: 0, share: 0, at: now });
    assert.strictEqual(groupView([{ instance: 'b', delivered: 5, at: now }], 'a', now).share, 0);
    assert.strictEqual(memberKey('box-1.local-123'), 'box-1_local-123');
    assert.strictEqual(memberKey(''), '_');
  });

  it('describes the group with the connection state in a word', function () {
    const g = describeGroup({
      link: { isConnected: () => false, state: () => 'reconnecting' },
      stream: 'SAYPRO_OUTBOX_n1',
      replicas: 3,
      instance: 'box-a-1',
      view: { members: 2, groupDelivered: 10, share: 0.4, at: 5 },
      delivered: 4,
      pacer: { granted: 7, missedSlots: 1, leadMs: 33.4 },
    });
    assert.deepStrictEqual(g, {
      connected: false,
      connection: 'reconnecting',
      stream: 'SAYPRO_OUTBOX_n1',
      replicas: 3,
      instance: 'box-a-1',
      members: 2,
      delivered: 4,
      groupDelivered: 10,
      share: 0.4,
      groupAt: 5,
      groupGrants: 7,
      missedSlots: 1,
      leadMs: 33,
    });
    const bare = describeGroup({
      link: { isConnected: () => true },
      stream: 's',
      replicas: 1,
      instance: 'i',
      view: undefined,
      delivered: 0,
      pacer: undefined,
    });
    assert.strictEqual(bare.connection, 'connected');
    assert.strictEqual(bare.members, 0);
  });

  it('the monitor shows a group part for a shared queue only', function () {
    const base = { id: 'n1', name: 'post', z: 't', endpoint: null, state: 'open', deliveries: [] };
    const shared = monitorNode({
      ...base,
      stats: {
        depth: 12,
        delivered: 4,
        shared: {
          connected: true,
          connection: 'connected',
          stream: 'SAYPRO_OUTBOX_n1',
          replicas: 3,
          instance: 'box-a-1',
          members: 3,
          delivered: 4,
          groupDelivered: 10,
          share: 0.4,
        },
      },
    });
    assert.deepStrictEqual(shared.group, {
      connection: 'connected',
      connected: true,
      stream: 'SAYPRO_OUTBOX_n1',
      replicas: 3,
      instance: 'box-a-1',
      members: 3,
      delivered: 4,
      groupDelivered: 10,
      share: 0.4,
      depth: 12,
    });
    assert.strictEqual(monitorNode({ ...base, stats: { depth: 1 } }).group, null);
  });

  it('saypro_shared_* gauges for shared queues only, bounded labels; promtool accepts them', async function () {
    const metrics = createMetrics({ processMetrics: false });
    try {
      const ids = { endpoint: 'partner', endpointId: 'ep1', node: 'post orders', nodeId: 'n1' };
      let connected = true;
      bus.registerQueue('n1', () => ({
        ...ids,
        depth: 7,
        oldestAgeSeconds: 1,
        deadLetters: 0,
        shared: { connected, members: 3, delivered: 40, groupDelivered: 100, share: 0.4 },
      }));
      bus.registerQueue('n2', () => ({
        ...ids,
        node: 'local',
        nodeId: 'n2',
        depth: 1,
        oldestAgeSeconds: 0,
        deadLetters: 0,
      }));
      const text = await metrics.text();
      const l = { node: 'post orders', endpoint: 'partner' };
      assert.strictEqual(sample(text, 'saypro_queue_depth', l), 7);
      assert.strictEqual(sample(text, 'saypro_shared_broker_connected', l), 1);
      assert.strictEqual(sample(text, 'saypro_shared_group_members', l), 3);
      assert.strictEqual(sample(text, 'saypro_shared_group_delivered', l), 100);
      assert.strictEqual(sample(text, 'saypro_shared_instance_share_ratio', l), 0.4);
      assert.strictEqual(sample(text, 'saypro_shared_group_members', { node: 'local' }), undefined);
      connected = false;
      assert.strictEqual(sample(await metrics.text(), 'saypro_shared_broker_connected', l), 0);
      if (!havePromtool()) {
        console.log('      promtool is not installed (Debian package prometheus): exposition check skipped');
        this.skip();
      }
      const check = await checkMetrics(text);
      assert.ok(check.ok, check.output);
    } finally {
      metrics.stop();
    }
  });
});
