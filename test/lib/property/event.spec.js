'use strict';
const assert = require('node:assert');
const {
  fc,
  NUM_RUNS,
  nastyValue,
  adversarial,
  nastyString,
  deeplyNested,
  assertNoPollution,
} = require('./arbitraries');
const { validateEvent } = require('../../../dist/nodes/lib/event');
const { EventIntake } = require('../../../dist/nodes/lib/trigger/intake');
const { parseJsonBody } = require('../../../dist/nodes/lib/trigger/json');
const { IntegrationError } = require('../../../dist/nodes/lib/errors');
const { idempotencyKeyProblem } = require('../../../dist/nodes/lib/idempotency-key');

const eventLike = fc.record(
  {
    id: fc.oneof(nastyString, fc.integer(), fc.double(), nastyValue),
    type: fc.oneof(fc.constantFrom('order.paid', 'a', 'x:y-z_1'), nastyString, nastyValue),
    occurredAt: fc.oneof(
      fc.date().map((d) => (isNaN(d) ? 'x' : d.toISOString())),
      fc.double(),
      nastyString,
    ),
    source: nastyString,
    data: adversarial,
  },
  { requiredKeys: [] },
);

describe('property: event parser', function () {
  it('validateEvent returns an event or an INVALID_EVENT error for anything, and an accepted id is always key-able', function () {
    fc.assert(
      fc.property(fc.oneof(eventLike, adversarial), (payload) => {
        const r = validateEvent(payload, { source: 'http' });
        if (r.ok) {
          assert.strictEqual(typeof r.event.id, 'string');
          assert.strictEqual(idempotencyKeyProblem(r.event.id), undefined);
          assert.ok(!Number.isNaN(Date.parse(r.event.occurredAt)));
        } else {
          assert.ok(r.error instanceof IntegrationError);
          assert.strictEqual(r.error.code, 'INVALID_EVENT');
          assert.ok(r.error.details.length > 0);
        }
        assertNoPollution();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('the intake decides for anything without throwing', function () {
    const intake = new EventIntake({ filter: 'order.*', dedupeWindowSeconds: 60 });
    fc.assert(
      fc.property(fc.oneof(eventLike, adversarial), (payload) => {
        const outcome = intake.process(payload, { source: 'wire' });
        assert.ok(['accepted', 'ignored', 'duplicate', 'rejected'].includes(outcome.status));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseJsonBody round-trips any JSON text, or throws INVALID_JSON / JSON_TOO_DEEP', function () {
    const text = fc.oneof(
      fc.json({ depthSize: 'medium' }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.integer({ min: 1, max: 200000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
      fc.integer({ min: 1, max: 200000 }).map((n) => '{"a":'.repeat(n)),
      fc.json().map((j) => '\uFEFF' + j),
    );
    fc.assert(
      fc.property(text, (t) => {
        let value;
        try {
          value = parseJsonBody(Buffer.from(t, 'utf8'));
        } catch (err) {
          assert.ok(err instanceof IntegrationError, String(err));
          assert.ok(['INVALID_JSON', 'JSON_TOO_DEEP'].includes(err.code), err.code);
          return;
        }
        const again = parseJsonBody(JSON.stringify(value));
        assert.deepStrictEqual(again, value);
        assertNoPollution();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a deeply nested object on the wire is taken as data without recursion', function () {
    const r = validateEvent({ type: 'x', data: deeplyNested(100000) }, { source: 'wire' });
    assert.strictEqual(r.ok, true);
  });
});
