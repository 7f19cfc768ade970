'use strict';
const assert = require('node:assert');

const ev = require('../../dist/nodes/lib/event');

describe('event validation', function () {
  const now = new Date('2024-05-01T12:00:00.000Z');

  it('fills in id, occurredAt, source and data', function () {
    const r = ev.validateEvent({ type: 'listing.created' }, { source: 'wire', now, newId: () => 'fresh' });
    assert.strictEqual(r.ok, true);
    assert.deepStrictEqual(r.event, {
      id: 'fresh',
      type: 'listing.created',
      occurredAt: '2024-05-01T12:00:00.000Z',
      source: 'wire',
      receivedAt: '2024-05-01T12:00:00.000Z',
    });
    assert.deepStrictEqual(r.data, {});
  });

  it('generates a UUID by default, or uses the fallback id', function () {
    const r = ev.validateEvent({ type: 't' }, { source: 'http' });
    assert.match(r.event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.strictEqual(ev.validateEvent({ type: 't' }, { source: 'http', fallbackId: 'msg_9' }).event.id, 'msg_9');
    assert.strictEqual(
      ev.validateEvent({ type: 't', id: 'own' }, { source: 'http', fallbackId: 'msg_9' }).event.id,
      'own',
    );
  });

  it('keeps the given fields, normalising id and occurredAt', function () {
    const r = ev.validateEvent(
      { id: 42, type: 'payment.completed', occurredAt: '2024-04-30T10:00:00+02:00', source: 'billing', data: [1, 2] },
      { source: 'http', now },
    );
    assert.strictEqual(r.ok, true);
    assert.strictEqual(r.event.id, '42');
    assert.strictEqual(r.event.occurredAt, '2024-04-30T08:00:00.000Z');
    assert.strictEqual(r.event.source, 'billing');
    assert.deepStrictEqual(r.data, [1, 2]);
    assert.strictEqual(ev.validateEvent({ type: 't', data: null }, { source: 'wire' }).data, null);
  });

  it('reads times: ISO with or without offset, date only, epoch seconds and milliseconds', function () {
    assert.strictEqual(ev.normaliseTime('2024-01-02T03:04:05Z'), '2024-01-02T03:04:05.000Z');
    assert.strictEqual(ev.normaliseTime('2024-01-02T03:04:05.123456+0100'), '2024-01-02T02:04:05.123Z');
    assert.strictEqual(ev.normaliseTime('2024-01-02T03:04'), '2024-01-02T03:04:00.000Z');
    assert.strictEqual(ev.normaliseTime('2024-01-02'), '2024-01-02T00:00:00.000Z');
    assert.strictEqual(ev.normaliseTime(1700000000), '2023-11-14T22:13:20.000Z');
    assert.strictEqual(ev.normaliseTime(1700000000123), '2023-11-14T22:13:20.123Z');
    for (const bad of ['yesterday', '2024-13-45T00:00:00Z', '1700000000', -1, NaN, Infinity, true]) {
      assert.strictEqual(ev.normaliseTime(bad), undefined, String(bad));
    }
  });

  it('refuses a payload that is not an object', function () {
    for (const p of [null, 'text', 3, [1], undefined]) {
      const r = ev.validateEvent(p, { source: 'wire' });
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.error.code, 'INVALID_EVENT');
      assert.strictEqual(r.error.details[0].field, 'event');
    }
  });

  it('reports every problem at once', function () {
    const r = ev.validateEvent({ id: '', occurredAt: 'soon', source: 5, data: 1 }, { source: 'wire' });
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.error.code, 'INVALID_EVENT');
    assert.deepStrictEqual(
      r.error.details.map((d) => d.field),
      ['type', 'id', 'occurredAt', 'source'],
    );
    assert.match(r.error.message, /4 problems/);
  });

  it('checks type, id and source shapes', function () {
    const bad = (p) => ev.validateEvent(p, { source: 'wire' }).error.details.map((d) => `${d.field}: ${d.reason}`);
    assert.deepStrictEqual(bad({ type: '' }), ['type: must not be empty']);
    assert.match(bad({ type: 7 })[0], /type: must be a string/);
    assert.match(bad({ type: 'has space' })[0], /type: may only contain/);
    assert.match(bad({ type: 'x'.repeat(201) })[0], /at most 200/);
    assert.match(bad({ type: 't', id: 'i'.repeat(201) })[0], /id: must be at most 200/);
    assert.match(bad({ type: 't', id: {} })[0], /id: must be a string or a number/);
    assert.match(bad({ type: 't', id: Infinity })[0], /id: must be a finite number/);
    assert.match(bad({ type: 't', occurredAt: {} })[0], /occurredAt: must be an ISO-8601/);
    assert.ok(ev.validateEvent({ type: 'a_b.c:d-e', id: 'i'.repeat(200) }, { source: 'wire' }).ok);
  });
});
