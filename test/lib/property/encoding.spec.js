'use strict';
const assert = require('node:assert');
const { fc, NUM_RUNS, adversarial, nastyString, assertNoPollution } = require('./arbitraries');
const { encode, readConfig, FORMATS } = require('../../../dist/nodes/lib/encoding');
const { IntegrationError } = require('../../../dist/nodes/lib/errors');

const config = fc.record({
  format: fc.constantFrom(...FORMATS),
  pretty: fc.boolean(),
  csvHeader: fc.boolean(),
  csvDelimiter: fc.oneof(fc.constantFrom(',', ';', '\\t', '|'), nastyString),
  csvColumns: fc.oneof(fc.constant(''), fc.constantFrom('a,b', 'a, b ,c', '__proto__'), nastyString),
  csvGuard: fc.boolean(),
  xmlRoot: fc.oneof(fc.constantFrom('root', 'order', 'a:b'), nastyString),
  xmlItem: fc.oneof(fc.constant('item'), nastyString),
  xmlDeclaration: fc.boolean(),
});

const records = fc.array(
  fc.dictionary(
    fc.constantFrom('a', 'b', 'c', '__proto__', 'constructor'),
    fc.oneof(nastyString, fc.double(), fc.boolean(), fc.constant(null)),
    { maxKeys: 3 },
  ),
  { maxLength: 5 },
);

describe('property: format encoders', function () {
  for (const format of FORMATS) {
    it(`${format}: any payload gives a string body or an ENCODE_* error, nothing else`, function () {
      fc.assert(
        fc.property(config, fc.oneof(adversarial, records), (cfg, payload) => {
          let result;
          try {
            result = encode(payload, readConfig({ ...cfg, format }));
          } catch (err) {
            assert.ok(err instanceof IntegrationError, String(err && err.stack));
            assert.match(err.code, /^ENCODE_(CONFIG|JSON|CSV|XML|FORM)$/);
            return;
          }
          assert.strictEqual(typeof result.body, 'string');
          assert.strictEqual(result.format, format);
          assertNoPollution();
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }

  it('json: any JSON value round-trips exactly', function () {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        let result;
        try {
          result = encode(value, readConfig({ format: 'json', pretty }));
        } catch (err) {
          // -0 and the like may be refused with a reason; never another kind of error
          assert.ok(err instanceof IntegrationError && err.code === 'ENCODE_JSON', String(err));
          return;
        }
        assert.deepStrictEqual(JSON.parse(result.body), JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('form: flat string records round-trip through URLSearchParams', function () {
    const flat = fc.dictionary(
      fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 10 })
        .filter((k) => !/[[\].]/.test(k) && k !== '__proto__'),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      { maxKeys: 5 },
    );
    fc.assert(
      fc.property(flat, (obj) => {
        const result = encode(obj, readConfig({ format: 'form' }));
        const back = Object.fromEntries(new URLSearchParams(result.body));
        assert.deepStrictEqual(back, { ...obj });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
