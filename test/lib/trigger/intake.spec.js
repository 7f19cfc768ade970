'use strict';
const assert = require('node:assert');

const ev = require('../../../dist/nodes/lib/trigger/intake');

describe('intake (validate → filter → dedupe)', function () {
  it('accepts, ignores, drops duplicates and rejects', function () {
    let now = 0;
    const intake = new ev.EventIntake({ filter: 'payment.*', dedupeWindowSeconds: 1, now: () => now });
    assert.strictEqual(intake.process({ id: 'a', type: 'payment.completed' }, { source: 'wire' }).status, 'accepted');
    assert.strictEqual(intake.process({ id: 'a', type: 'payment.completed' }, { source: 'wire' }).status, 'duplicate');
    assert.strictEqual(intake.process({ id: 'b', type: 'listing.created' }, { source: 'wire' }).status, 'ignored');
    assert.strictEqual(
      intake.process({ id: 'b', type: 'payment.failed' }, { source: 'wire' }).status,
      'accepted',
      'ignored ids are not remembered',
    );
    assert.strictEqual(intake.process({ id: 'c' }, { source: 'wire' }).status, 'rejected');
    now = 1000;
    assert.strictEqual(
      intake.process({ id: 'a', type: 'payment.completed' }, { source: 'wire' }).status,
      'accepted',
      'window passed',
    );
  });

  it('uses the injected clock for receivedAt', function () {
    const intake = new ev.EventIntake({ now: () => Date.UTC(2024, 0, 1) });
    const out = intake.process({ type: 't' }, { source: 'wire' });
    assert.strictEqual(out.event.receivedAt, '2024-01-01T00:00:00.000Z');
  });

  it('intake with record: false looks an id up without remembering it until remember()', function () {
    const intake = new ev.EventIntake({ dedupeWindowSeconds: 60 });
    const e = { id: 'a', type: 't' };
    assert.strictEqual(intake.process(e, { source: 'http', record: false }).status, 'accepted');
    assert.strictEqual(intake.process(e, { source: 'http', record: false }).status, 'accepted', 'not remembered yet');
    intake.remember('a');
    assert.strictEqual(intake.process(e, { source: 'http', record: false }).status, 'duplicate');
    assert.strictEqual(intake.process(e, { source: 'http' }).status, 'duplicate');
  });
});
