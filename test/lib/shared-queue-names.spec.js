'use strict';
const assert = require('assert');
const {
  queueNames,
  messageId,
  bucketOf,
  token,
  paceBucket,
  workSubject,
  ORDERING_BUCKETS,
} = require('../../dist/nodes/lib/shared-queue/names');
const { connectionOptions, parseServers } = require('../../dist/nodes/lib/shared-queue/connection');

describe('shared queue: names and connection options', function () {
  it('names streams, subjects and consumers after the node id, safe for JetStream', function () {
    const n = queueNames('ab12.cd*>ef');
    assert.strictEqual(n.stream, 'SAYPRO_OUTBOX_ab12_cd__ef');
    assert.strictEqual(n.unkeyed, 'saypro.outbox.ab12_cd__ef.u');
    assert.strictEqual(n.keyed(3), 'saypro.outbox.ab12_cd__ef.k.3');
    assert.match(n.deadSubject('evt 1.2'), /^saypro\.dead\.ab12_cd__ef\.[0-9a-f]{32}$/);
    assert.strictEqual(token(''), '_');
    assert.strictEqual(paceBucket('e.1'), 'SAYPRO_PAUSE_e_1');
  });

  it('derives the message id from the event id and the route: same event and route → same id, another route → another id', function () {
    assert.strictEqual(messageId('evt_1', 'POST', '/a'), messageId('evt_1', 'POST', '/a'));
    assert.notStrictEqual(messageId('evt_1', 'POST', '/a'), messageId('evt_1', 'POST', '/b'));
    assert.match(messageId('evt_1', null, '/a'), /^evt_1#[0-9a-f]{12}$/);
  });

  it('puts an ordering key in the same bucket every time, spread over all buckets', function () {
    assert.strictEqual(bucketOf('listing-42'), bucketOf('listing-42'));
    const seen = new Set();
    for (let i = 0; i < 200; i++) seen.add(bucketOf(`k${i}`));
    assert.strictEqual(seen.size, ORDERING_BUCKETS);
  });

  it("publishes a message with an ordering key on its bucket's subject, one without on the unkeyed subject", function () {
    const n = queueNames('n1');
    assert.strictEqual(workSubject(n, 'listing-42'), n.keyed(bucketOf('listing-42')));
    assert.strictEqual(workSubject(n, ''), 'saypro.outbox.n1.u');
    assert.strictEqual(workSubject(n, undefined), 'saypro.outbox.n1.u');
  });

  it('checks the server list and signs in one way only', function () {
    const problems = [];
    assert.deepStrictEqual(parseServers('nats://a:4222, b:4223 tls://c', problems), [
      'nats://a:4222',
      'b:4223',
      'tls://c',
    ]);
    assert.deepStrictEqual(problems, []);
    parseServers('http://x/y', problems);
    assert.strictEqual(problems[0].field, 'servers');

    const p2 = [];
    const o = connectionOptions({ servers: 'nats://127.0.0.1:4222' }, { user: 'u', password: 'p' }, undefined, p2);
    assert.deepStrictEqual([o.user, o.pass, p2.length], ['u', 'p', 0]);
    assert.strictEqual(o.waitOnFirstConnect, true);
    assert.strictEqual(o.maxReconnectAttempts, -1);

    const p3 = [];
    connectionOptions({ servers: 'nats://127.0.0.1:4222' }, { token: 't', seed: 'SUxyz' }, undefined, p3);
    assert.ok(p3.some((p) => p.field === 'auth'));
    const p4 = [];
    connectionOptions({ servers: 'a:1' }, { seed: 'not-a-seed' }, undefined, p4);
    assert.ok(p4.some((p) => p.field === 'seed'));
    const p5 = [];
    const t = connectionOptions({ servers: 'a:1' }, { token: 'secret' }, { ca: 'CA', rejectUnauthorized: false }, p5);
    assert.strictEqual(t.token, 'secret');
    assert.deepStrictEqual(t.tls, { ca: 'CA', rejectUnauthorized: false });
  });
});
