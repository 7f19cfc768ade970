'use strict';
const assert = require('node:assert');
const helper = require('node-red-node-test-helper');
const mapperNode = require('../../dist/nodes/field-mapper.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

const TYPE = 'saypro-field-mapper';

/** status calls made by one node (the helper spies on Node.prototype.status for all nodes) */
function statuses(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

function flow(nodeProps, extra = []) {
  return [
    { id: 'f1', type: 'tab', label: 'Test' },
    Object.assign({ id: 'n1', z: 'f1', type: TYPE, name: 'mapper', wires: [['ok'], ['bad']] }, nodeProps),
    { id: 'ok', z: 'f1', type: 'helper' },
    { id: 'bad', z: 'f1', type: 'helper' },
    ...extra,
  ];
}

/**
 * Sends msgs into n1 and resolves once `expect` messages have reached the two
 * outputs (plus the Catch node's helper when withCatch is set).
 */
function run(msgs, { expect = msgs.length, withCatch = false } = {}) {
  return new Promise((resolve) => {
    const got = { ok: [], bad: [], caught: [] };
    const check = () => {
      if (got.ok.length + got.bad.length + got.caught.length >= expect) setImmediate(() => resolve(got));
    };
    helper.getNode('ok').on('input', (m) => {
      got.ok.push(m);
      check();
    });
    helper.getNode('bad').on('input', (m) => {
      got.bad.push(m);
      check();
    });
    if (withCatch)
      helper.getNode('caught').on('input', (m) => {
        got.caught.push(m);
        check();
      });
    const n1 = helper.getNode('n1');
    for (const m of msgs) n1.receive(m);
  });
}

describe('saypro-field-mapper node', function () {
  afterEach(function () {
    delete process.env.FM_TEST_SHOP;
    return helper.unload();
  });

  it('loads with defaults', function (done) {
    helper.load(mapperNode, [{ id: 'n1', type: TYPE, name: 'mapper' }], function () {
      try {
        const n1 = helper.getNode('n1');
        assert.ok(n1, 'node created');
        assert.strictEqual(n1.name, 'mapper');
        assert.strictEqual(n1.type, TYPE);
        assert.ok(!statuses(n1).some((s) => s.fill === 'red'), 'no red status with default (empty) rules');
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('sends a valid message to output 1 only, with the mapped object as payload', function (done) {
    const rules = [
      { target: 'name', sourceType: 'msg', source: 'payload.first', type: 'string', default: '', required: true },
      { target: 'Name', sourceType: 'msg', source: 'payload.display', type: 'auto', default: '', required: false },
      { target: 'person_name', sourceType: 'msg', source: 'payload.full', type: 'auto', default: '', required: false },
      {
        target: 'customer.email',
        sourceType: 'msg',
        source: 'payload.user.email',
        type: 'string',
        default: '',
        required: true,
      },
      {
        target: 'items[0].price',
        sourceType: 'msg',
        source: 'payload.amount',
        type: 'minor',
        default: '',
        required: true,
        decimals: 2,
      },
      { target: 'eventId', sourceType: 'msg', source: 'event.id', type: 'auto', default: '', required: true },
      {
        target: 'country',
        sourceType: 'msg',
        source: 'payload.country',
        type: 'string',
        default: 'NL',
        required: false,
      },
    ];
    helper.load(mapperNode, flow({ rules, keepUnmapped: false }), async function () {
      try {
        const n1 = helper.getNode('n1');
        const got = await run([
          {
            _msgid: 'm1',
            topic: 't',
            payload: {
              first: 'Ann',
              display: 'ANN',
              full: 'Ann Lee',
              user: { email: 'a@b.c' },
              amount: '19.99',
              extra: 1,
            },
            event: { id: 'evt_1' },
          },
        ]);
        assert.strictEqual(got.bad.length, 0);
        assert.strictEqual(got.ok.length, 1);
        const m = got.ok[0];
        assert.deepStrictEqual(m.payload, {
          name: 'Ann',
          Name: 'ANN',
          person_name: 'Ann Lee',
          customer: { email: 'a@b.c' },
          items: [{ price: 1999 }],
          eventId: 'evt_1',
          country: 'NL',
        });
        assert.strictEqual(m.topic, 't', 'other properties pass through');
        assert.deepStrictEqual(m.event, { id: 'evt_1' });
        assert.strictEqual(m.error, undefined);
        const last = statuses(n1).pop();
        assert.deepStrictEqual(last, { fill: 'green', shape: 'dot', text: 'field-mapper.status.mapped' });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('sends an invalid message to output 2 only with every problem, and a Catch node receives it', function (done) {
    const rules = [
      { target: 'email', sourceType: 'msg', source: 'payload.email', type: 'string', default: '', required: true },
      { target: 'qty', sourceType: 'msg', source: 'payload.qty', type: 'integer', default: '', required: false },
      {
        target: 'amount',
        sourceType: 'msg',
        source: 'payload.amount',
        type: 'minor',
        default: '',
        required: false,
        decimals: 2,
      },
      { target: 'password', sourceType: 'msg', source: 'payload.pw', type: 'number', default: '', required: false },
      { target: 'ok', sourceType: 'msg', source: 'payload.ok', type: 'boolean', default: '', required: false },
    ];
    const extra = [
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    helper.load([mapperNode, catchNode], flow({ rules }, extra), async function () {
      try {
        const n1 = helper.getNode('n1');
        const got = await run([{ payload: { qty: 12.5, amount: 'abc', pw: 'hunter2', ok: 'yes' } }], {
          expect: 2,
          withCatch: true,
        });
        assert.strictEqual(got.ok.length, 0, 'nothing on output 1');
        assert.strictEqual(got.bad.length, 1, 'one message on output 2');
        const err = got.bad[0].error;
        assert.strictEqual(err.code, 'MAPPING_INVALID');
        assert.match(
          err.message,
          /^4 fields failed validation: email \(rule 1\): required value is missing; qty \(rule 2\): not a whole number; amount \(rule 3\): not an amount; password \(rule 4\): not a number$/,
        );
        assert.deepStrictEqual(err.details, [
          { field: 'email', rule: 'rule 1', reason: 'required value is missing' },
          { field: 'qty', rule: 'rule 2', reason: 'not a whole number', value: 12.5 },
          { field: 'amount', rule: 'rule 3', reason: 'not an amount', value: 'abc' },
          { field: 'password', rule: 'rule 4', reason: 'not a number' },
        ]);
        assert.deepStrictEqual(
          got.bad[0].payload,
          { qty: 12.5, amount: 'abc', pw: 'hunter2', ok: 'yes' },
          'payload left as it arrived',
        );
        assert.ok(!JSON.stringify(got.bad[0].error).includes('hunter2'));

        assert.strictEqual(got.caught.length, 1, 'the Catch node fired');
        const c = got.caught[0];
        assert.strictEqual(c.error.source.id, 'n1');
        assert.match(c.error.message, /4 fields failed validation/);
        assert.strictEqual(c._error.code, 'MAPPING_INVALID');
        assert.strictEqual(c._error.details.length, 4);

        const last = statuses(n1).pop();
        assert.deepStrictEqual(last, { fill: 'red', shape: 'ring', text: 'field-mapper.status.invalid' });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('evaluates JSONata and env sources', function (done) {
    process.env.FM_TEST_SHOP = 'shop-42';
    const rules = [
      {
        target: 'total',
        sourceType: 'jsonata',
        source: '$sum(payload.lines.(qty * price))',
        type: 'minor',
        default: '',
        required: true,
        decimals: 2,
      },
      {
        target: 'upper',
        sourceType: 'jsonata',
        source: '$uppercase(msg.payload.name)',
        type: 'string',
        default: '',
        required: true,
      },
      { target: 'shop', sourceType: 'env', source: 'FM_TEST_SHOP', type: 'string', default: '', required: true },
      {
        target: 'missingEnv',
        sourceType: 'env',
        source: 'FM_TEST_NOT_SET',
        type: 'string',
        default: 'none',
        required: false,
      },
      { target: 'flags.live', sourceType: 'bool', source: 'true', type: 'auto', default: '', required: false },
      { target: 'tags', sourceType: 'json', source: '["a",1]', type: 'auto', default: '', required: false },
      { target: 'count', sourceType: 'num', source: '3', type: 'integer', default: '', required: false },
      { target: 'kind', sourceType: 'str', source: 'order', type: 'auto', default: '', required: false },
    ];
    helper.load(mapperNode, flow({ rules }), async function () {
      try {
        const got = await run([
          {
            payload: {
              name: 'ann',
              lines: [
                { qty: 3, price: 0.1 },
                { qty: 1, price: 0.2 },
              ],
            },
          },
        ]);
        assert.strictEqual(got.bad.length, 0, JSON.stringify(got.bad[0] && got.bad[0].error));
        assert.deepStrictEqual(got.ok[0].payload, {
          total: 50,
          upper: 'ANN',
          shop: 'shop-42',
          missingEnv: 'none',
          flags: { live: true },
          tags: ['a', 1],
          count: 3,
          kind: 'order',
        });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('reports a JSONata evaluation error as a problem on output 2', function (done) {
    const rules = [
      { target: 'x', sourceType: 'jsonata', source: '$number("abc")', type: 'auto', default: '', required: false },
    ];
    helper.load(mapperNode, flow({ rules }), async function () {
      try {
        const got = await run([{ payload: {} }]);
        assert.strictEqual(got.ok.length, 0);
        assert.strictEqual(got.bad[0].error.code, 'MAPPING_INVALID');
        assert.match(got.bad[0].error.details[0].reason, /^JSONata expression failed/);
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('keepUnmapped on starts from a copy of the payload; off starts from {}', function (done) {
    const rules = [
      {
        target: 'customer.name',
        sourceType: 'msg',
        source: 'payload.customer.first',
        type: 'auto',
        default: '',
        required: false,
      },
      {
        target: 'total',
        sourceType: 'msg',
        source: 'payload.total',
        type: 'minor',
        default: '',
        required: false,
        decimals: 0,
      },
    ];
    const extra = [
      { id: 'n2', z: 'f1', type: TYPE, name: 'plain', rules, keepUnmapped: false, wires: [['ok2'], ['bad']] },
      { id: 'ok2', z: 'f1', type: 'helper' },
    ];
    helper.load(mapperNode, flow({ rules, keepUnmapped: true }, extra), async function () {
      try {
        const payload = { customer: { first: 'Ann', id: 7 }, total: 1050, note: 'x' };
        const kept = await run([{ payload: JSON.parse(JSON.stringify(payload)) }]);
        assert.deepStrictEqual(kept.ok[0].payload, {
          customer: { first: 'Ann', id: 7, name: 'Ann' },
          total: 1050,
          note: 'x',
        });

        const plain = await new Promise((resolve) => {
          helper.getNode('ok2').on('input', resolve);
          helper.getNode('n2').receive({ payload: JSON.parse(JSON.stringify(payload)) });
        });
        assert.deepStrictEqual(plain.payload, { customer: { name: 'Ann' }, total: 1050 });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('shows "invalid rules" at start and routes every message to output 2 without crashing', function (done) {
    const rules = [
      { target: '', sourceType: 'msg', source: 'payload.a', type: 'auto', default: '', required: false },
      { target: 'b', sourceType: 'jsonata', source: 'payload.(', type: 'auto', default: '', required: false },
      { target: 'c.__proto__.x', sourceType: 'msg', source: 'payload.c', type: 'auto', default: '', required: false },
    ];
    helper.load(mapperNode, flow({ rules }), async function () {
      try {
        const n1 = helper.getNode('n1');
        assert.deepStrictEqual(statuses(n1)[0], {
          fill: 'red',
          shape: 'ring',
          text: 'field-mapper.status.invalidRules',
        });
        const got = await run([{ payload: { a: 1 } }, { payload: { a: 2 } }]);
        assert.strictEqual(got.ok.length, 0);
        assert.strictEqual(got.bad.length, 2);
        const err = got.bad[0].error;
        assert.strictEqual(err.code, 'MAPPING_RULES_INVALID');
        assert.strictEqual(err.details.length, 3);
        assert.deepStrictEqual(
          err.details.map((d) => d.rule),
          ['rule 1', 'rule 2', 'rule 3'],
        );
        assert.match(err.details[1].reason, /invalid JSONata/);
        assert.match(err.details[2].reason, /not allowed/);
        assert.match(
          err.message,
          /^3 problems in the mapping rules: rule 1: target is empty; b \(rule 2\): invalid JSONata/,
        );
        assert.deepStrictEqual(got.bad[1].payload, { a: 2 });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('counts mapped and invalid messages in the status', function (done) {
    const rules = [{ target: 'n', sourceType: 'msg', source: 'payload', type: 'number', default: '', required: true }];
    helper.load(mapperNode, flow({ rules }), async function () {
      try {
        const n1 = helper.getNode('n1');
        const got = await run([{ payload: 1 }, { payload: 'x' }, { payload: 2 }]);
        assert.deepStrictEqual(
          got.ok.map((m) => m.payload),
          [{ n: 1 }, { n: 2 }],
        );
        assert.strictEqual(got.bad.length, 1);
        const calls = n1.status.getCalls().filter((c) => c.thisValue === n1);
        // the RED._ stub of the helper returns the key; the counts are passed as placeholders
        const texts = calls.map((c) => c.args[0].text);
        assert.deepStrictEqual(texts, [
          'field-mapper.status.mapped',
          'field-mapper.status.invalid',
          'field-mapper.status.mapped',
        ]);
        done();
      } catch (err) {
        done(err);
      }
    });
  });
});
