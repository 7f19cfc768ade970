'use strict';
const assert = require('node:assert');
const helper = require('node-red-node-test-helper');
const checkNode = require('../../dist/nodes/response-check.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

const TYPE = 'saypro-response-check';

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
    Object.assign({ id: 'n1', z: 'f1', type: TYPE, name: 'check', wires: [['ok'], ['bad']] }, nodeProps),
    { id: 'ok', z: 'f1', type: 'helper' },
    { id: 'bad', z: 'f1', type: 'helper' },
    ...extra,
  ];
}

const CATCH = [
  { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', z: 'f1', type: 'helper' },
];

/** Sends msgs into n1 and resolves once `expect` messages have arrived at the helpers. */
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

/** the properties as the editor's defaults store them */
const EDITOR_DEFAULTS = {
  rules: [{ kind: 'status', value: '2xx' }],
  mode: 'all',
  extract: [],
  statusProperty: 'statusCode',
  bodyProperty: 'payload',
};

describe('saypro-response-check node', function () {
  afterEach(function () {
    return helper.unload();
  });

  it('loads with defaults', function (done) {
    helper.load(checkNode, [Object.assign({ id: 'n1', type: TYPE, name: 'check' }, EDITOR_DEFAULTS)], function () {
      try {
        const n1 = helper.getNode('n1');
        assert.ok(n1, 'node created');
        assert.strictEqual(n1.name, 'check');
        assert.strictEqual(n1.type, TYPE);
        assert.ok(!statuses(n1).some((s) => s.fill === 'red'), 'no red status with the default rules');
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('with the editor defaults passes a 2xx response and fails a 500', function (done) {
    helper.load(checkNode, flow(EDITOR_DEFAULTS), async function () {
      try {
        const got = await run([
          { statusCode: 201, payload: {} },
          { statusCode: 500, payload: 'oops' },
        ]);
        assert.strictEqual(got.ok.length, 1);
        assert.strictEqual(got.ok[0].statusCode, 201);
        assert.strictEqual(got.bad.length, 1);
        assert.strictEqual(got.bad[0].error.code, 'CHECK_FAILED');
        assert.deepStrictEqual(got.bad[0].error.details, [
          { rule: 'rule 1', field: 'status', reason: 'expected 2xx, got 500', value: 500 },
        ]);
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('sends a passing response to output 1 only, with the extracted value and msg.check', function (done) {
    const props = {
      rules: [
        { kind: 'status', value: '2xx' },
        { kind: 'body', path: 'status', op: 'eq', value: 'succeeded' },
      ],
      mode: 'all',
      extract: [
        { path: 'payload.transaction_id', target: 'transactionId' },
        { path: 'responseHeaders.location', target: 'payment.location' },
        { path: 'payload.receipt_url', target: 'receiptUrl' },
      ],
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
    };
    helper.load(checkNode, flow(props), async function () {
      try {
        const n1 = helper.getNode('n1');
        const got = await run([
          {
            _msgid: 'm1',
            topic: 't',
            statusCode: 200,
            responseHeaders: { location: '/v1/charges/ch_1' },
            payload: { transaction_id: 'ch_1', status: 'succeeded' },
            delivery: { attempts: 1 },
          },
        ]);
        assert.strictEqual(got.bad.length, 0, 'nothing on output 2');
        assert.strictEqual(got.ok.length, 1);
        const m = got.ok[0];
        assert.strictEqual(m.transactionId, 'ch_1');
        assert.deepStrictEqual(m.payment, { location: '/v1/charges/ch_1' });
        assert.ok(!('receiptUrl' in m), 'a missing value sets nothing');
        assert.deepStrictEqual(m.check, {
          passed: true,
          mode: 'all',
          results: [
            { rule: 'rule 1', kind: 'status', field: 'status', passed: true },
            { rule: 'rule 2', kind: 'body', field: 'status', passed: true },
          ],
          missing: ['payload.receipt_url'],
        });
        assert.strictEqual(m.error, undefined);
        assert.strictEqual(m.topic, 't', 'other properties pass through');
        assert.deepStrictEqual(m.delivery, { attempts: 1 });
        assert.deepStrictEqual(statuses(n1).pop(), {
          fill: 'green',
          shape: 'dot',
          text: 'response-check.status.passed',
        });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('sends a failing response to output 2 only with every failed rule and its value, and a Catch node receives it', function (done) {
    const props = {
      rules: [
        { kind: 'status', value: '2xx' },
        { kind: 'body', path: 'status', op: 'eq', value: 'COMPLETED' },
        { kind: 'body', path: 'error.code', op: 'missing' },
        { kind: 'body', path: 'id', op: 'exists' },
      ],
      mode: 'all',
      extract: [
        { path: 'payload.error.message', target: 'reason' },
        { path: 'payload.transaction_id', target: 'transactionId' },
      ],
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
    };
    helper.load([checkNode, catchNode], flow(props, CATCH), async function () {
      try {
        const n1 = helper.getNode('n1');
        const payload = {
          status: 'PENDING',
          id: 'PAY-1',
          error: { code: 'card_declined', message: 'Your card was declined.' },
        };
        const got = await run([{ statusCode: 402, payload }], { expect: 2, withCatch: true });
        assert.strictEqual(got.ok.length, 0, 'nothing on output 1');
        assert.strictEqual(got.bad.length, 1, 'one message on output 2');
        const m = got.bad[0];
        assert.strictEqual(m.error.code, 'CHECK_FAILED');
        assert.strictEqual(
          m.error.message,
          '3 of 4 rules failed: rule 1 (status): expected 2xx, got 402; rule 2 (status): is not "COMPLETED"; rule 3 (error.code): is present (expected missing)',
        );
        assert.deepStrictEqual(m.error.details, [
          { rule: 'rule 1', field: 'status', reason: 'expected 2xx, got 402', value: 402 },
          { rule: 'rule 2', field: 'status', reason: 'is not "COMPLETED"', value: 'PENDING' },
          { rule: 'rule 3', field: 'error.code', reason: 'is present (expected missing)', value: 'card_declined' },
        ]);
        assert.strictEqual(m.reason, 'Your card was declined.', 'extraction applies on the fail path');
        assert.strictEqual(m.check.passed, false);
        assert.deepStrictEqual(m.check.missing, ['payload.transaction_id']);
        assert.strictEqual(m.check.results.length, 4);
        assert.deepStrictEqual(m.payload, payload, 'payload left as it arrived');

        assert.strictEqual(got.caught.length, 1, 'the Catch node fired');
        const c = got.caught[0];
        assert.strictEqual(c.error.source.id, 'n1');
        assert.match(c.error.message, /3 of 4 rules failed: rule 1 \(status\)/);
        assert.strictEqual(c._error.code, 'CHECK_FAILED');
        assert.strictEqual(c._error.details.length, 3);

        assert.deepStrictEqual(statuses(n1).pop(), {
          fill: 'red',
          shape: 'ring',
          text: 'response-check.status.failed',
        });
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('fails a message without msg.statusCode with a clear reason', function (done) {
    helper.load(checkNode, flow(EDITOR_DEFAULTS), async function () {
      try {
        const got = await run([{ payload: { id: 1 } }]);
        assert.strictEqual(got.ok.length, 0);
        assert.deepStrictEqual(got.bad[0].error.details, [
          { rule: 'rule 1', field: 'status', reason: 'expected 2xx, but there is no status code in msg.statusCode' },
        ]);
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('mode any passes when one rule passes', function (done) {
    const props = Object.assign({}, EDITOR_DEFAULTS, {
      rules: [
        { kind: 'status', value: '200' },
        { kind: 'status', value: '409' },
      ],
      mode: 'any',
    });
    helper.load(checkNode, flow(props), async function () {
      try {
        const got = await run([{ statusCode: 409 }, { statusCode: 500 }]);
        assert.strictEqual(got.ok.length, 1);
        assert.strictEqual(got.ok[0].statusCode, 409);
        assert.strictEqual(got.ok[0].check.mode, 'any');
        assert.strictEqual(got.bad.length, 1);
        assert.match(got.bad[0].error.message, /^2 of 2 rules failed/);
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('checks XML-shaped bodies (xml2js shape)', function (done) {
    const props = Object.assign({}, EDITOR_DEFAULTS, {
      rules: [
        { kind: 'body', path: 'response.$.code', op: 'eq', value: '0' },
        { kind: 'body', path: 'response.status', op: 'in', value: 'OK,ACCEPTED' },
      ],
      extract: [{ path: 'payload.response.txn.$.id', target: 'transactionId' }],
    });
    helper.load(checkNode, flow(props), async function () {
      try {
        const got = await run([
          {
            statusCode: 200,
            payload: { response: { $: { code: '0' }, status: 'ACCEPTED', txn: { _: 'x', $: { id: 'T-9' } } } },
          },
        ]);
        assert.strictEqual(got.bad.length, 0, JSON.stringify(got.bad[0] && got.bad[0].error));
        assert.strictEqual(got.ok[0].transactionId, 'T-9');
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('shows "invalid rules" at start and routes every message to output 2 with CHECK_RULES_INVALID, without crashing', function (done) {
    const props = Object.assign({}, EDITOR_DEFAULTS, {
      rules: [
        { kind: 'status', value: '2xx,99' },
        { kind: 'body', path: 'status', op: 'regex', value: '([a-z' },
        { kind: 'body', path: '', op: 'exists' },
      ],
    });
    helper.load([checkNode, catchNode], flow(props, CATCH), async function () {
      try {
        const n1 = helper.getNode('n1');
        assert.deepStrictEqual(statuses(n1)[0], {
          fill: 'red',
          shape: 'ring',
          text: 'response-check.status.invalidRules',
        });
        const got = await run(
          [
            { statusCode: 200, payload: {} },
            { statusCode: 200, payload: { a: 2 } },
          ],
          { expect: 4, withCatch: true },
        );
        assert.strictEqual(got.ok.length, 0);
        assert.strictEqual(got.bad.length, 2);
        assert.strictEqual(got.caught.length, 2);
        const err = got.bad[0].error;
        assert.strictEqual(err.code, 'CHECK_RULES_INVALID');
        assert.deepStrictEqual(
          err.details.map((d) => d.rule),
          ['rule 1', 'rule 2', 'rule 3'],
        );
        assert.match(err.details[0].reason, /"99" is not a status code/);
        assert.match(err.details[1].reason, /invalid regular expression/);
        assert.match(err.details[2].reason, /path is empty/);
        assert.match(err.message, /^3 problems in the response check configuration: rule 1 \(status\): /);
        assert.deepStrictEqual(got.bad[1].payload, { a: 2 });
        assert.strictEqual(got.bad[1].check, undefined);
        assert.ok(!statuses(n1).some((s) => s.fill === 'green'));
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('counts passed and failed messages in the status', function (done) {
    helper.load(checkNode, flow(EDITOR_DEFAULTS), async function () {
      try {
        const n1 = helper.getNode('n1');
        await run([{ statusCode: 200 }, { statusCode: 404 }, { statusCode: 204 }]);
        const calls = n1.status.getCalls().filter((c) => c.thisValue === n1);
        // the RED._ stub of the helper returns the key; the counts are passed as placeholders
        assert.deepStrictEqual(
          calls.map((c) => c.args[0].text),
          ['response-check.status.passed', 'response-check.status.failed', 'response-check.status.passed'],
        );
        done();
      } catch (err) {
        done(err);
      }
    });
  });

  it('clears the status on close', function (done) {
    helper.load(checkNode, flow(EDITOR_DEFAULTS), async function () {
      try {
        const n1 = helper.getNode('n1');
        await run([{ statusCode: 200 }]);
        const seen = [];
        n1.status = (st) => {
          seen.push(st);
        }; // the helper restores its spies before close handlers run
        await helper.unload();
        assert.deepStrictEqual(seen, [{}]);
        done();
      } catch (err) {
        done(err);
      }
    });
  });
});
