'use strict';
const assert = require('node:assert');
const helper = require('node-red-node-test-helper');
const encoderNode = require('../../dist/nodes/format-encoder.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

/** status calls made by one node (the helper spies on Node.prototype.status for all nodes) */
function statuses(node) {
  return node.status
    .getCalls()
    .filter((c) => c.thisValue === node)
    .map((c) => c.args[0]);
}

/** encoder n1 → ok (output 1) / err (output 2), on tab f1 */
function flow(config, extra) {
  return [
    { id: 'f1', type: 'tab', label: 'encoder' },
    Object.assign({ id: 'n1', z: 'f1', type: 'saypro-format-encoder', name: 'enc', wires: [['ok'], ['err']] }, config),
    { id: 'ok', z: 'f1', type: 'helper' },
    { id: 'err', z: 'f1', type: 'helper' },
  ].concat(extra || []);
}

/** Loads the flow, sends msg to n1, resolves with the first message on `nodeId`. */
function encodeVia(config, msg, nodeId) {
  return new Promise((resolve, reject) => {
    helper.load(encoderNode, flow(config), function () {
      try {
        const n1 = helper.getNode('n1');
        const target = helper.getNode(nodeId);
        const other = helper.getNode(nodeId === 'ok' ? 'err' : 'ok');
        other.on('input', (m) =>
          reject(new Error(`unexpected message on ${other.id}: ${JSON.stringify(m.error || m.payload)}`)),
        );
        target.on('input', (m) => resolve({ msg: m, n1 }));
        n1.receive(msg);
      } catch (err) {
        reject(err);
      }
    });
  });
}

describe('saypro-format-encoder node', function () {
  afterEach(function () {
    return helper.unload();
  });

  it('loads with defaults and encodes compact JSON', function (done) {
    helper.load(
      encoderNode,
      [
        { id: 'n1', type: 'saypro-format-encoder', name: 'enc', wires: [['ok'], []] },
        { id: 'ok', type: 'helper' },
      ],
      function () {
        const n1 = helper.getNode('n1');
        const ok = helper.getNode('ok');
        try {
          assert.strictEqual(n1.name, 'enc');
          assert.strictEqual(n1.type, 'saypro-format-encoder');
          assert.ok(!statuses(n1).some((s) => s.fill === 'red'), 'no red status with defaults');
        } catch (err) {
          return done(err);
        }
        ok.on('input', (msg) => {
          try {
            assert.strictEqual(msg.payload, '{"a":1,"b":[true]}');
            assert.strictEqual(msg.headers['content-type'], 'application/json; charset=utf-8');
            assert.strictEqual(msg.format, 'json');
            done();
          } catch (err) {
            done(err);
          }
        });
        n1.receive({ payload: { a: 1, b: [true] } });
      },
    );
  });

  const cases = [
    {
      format: 'json',
      config: { pretty: true },
      payload: { a: 1 },
      body: '{\n  "a": 1\n}',
      type: 'application/json; charset=utf-8',
    },
    {
      format: 'csv',
      config: {},
      payload: [{ a: 1, b: '=x' }],
      body: "a,b\r\n1,'=x\r\n",
      type: 'text/csv; charset=utf-8; header=present',
    },
    {
      format: 'csv',
      config: { csvHeader: false, csvDelimiter: ';' },
      payload: { a: 1, b: 2 },
      body: '1;2\r\n',
      type: 'text/csv; charset=utf-8; header=absent',
    },
    {
      format: 'xml',
      config: { xmlRoot: 'order', xmlDeclaration: false },
      payload: { id: 7 },
      body: '<order><id>7</id></order>',
      type: 'application/xml; charset=utf-8',
    },
    {
      format: 'form',
      config: {},
      payload: { amount: 1000, metadata: { order_id: '6735' }, expand: ['customer'] },
      body: 'amount=1000&metadata[order_id]=6735&expand[]=customer',
      type: 'application/x-www-form-urlencoded; charset=utf-8',
    },
  ];
  for (const c of cases) {
    it(`${c.format} ${JSON.stringify(c.config)}: sets the body, msg.format and content-type, keeps other headers`, async function () {
      const headers = { Authorization: 'Bearer t', 'Content-Type': 'text/plain', 'x-trace': '1' };
      const { msg, n1 } = await encodeVia(
        Object.assign({ format: c.format }, c.config),
        { payload: c.payload, headers },
        'ok',
      );
      assert.strictEqual(msg.payload, c.body);
      assert.strictEqual(msg.format, c.format);
      assert.deepStrictEqual(msg.headers, { Authorization: 'Bearer t', 'x-trace': '1', 'content-type': c.type });
      assert.deepStrictEqual(statuses(n1).pop(), {
        fill: 'green',
        shape: 'dot',
        text: 'format-encoder.status.encoded',
      });
    });
  }

  it('passes the format and the byte count (UTF-8 bytes, not characters) to the status text', function (done) {
    // the helper's RED._ returns the key; watch what the node hands it
    const texts = [];
    const watched = function (RED) {
      const red = Object.create(RED);
      red._ = (key, subs) => {
        texts.push([key, subs]);
        return RED._(key, subs);
      };
      return encoderNode(red);
    };
    helper.load(watched, flow({ format: 'json' }), function () {
      const n1 = helper.getNode('n1');
      helper.getNode('ok').on('input', () => {
        try {
          assert.deepStrictEqual(texts.pop(), ['format-encoder.status.encoded', { format: 'json', bytes: '10' }]);
          done();
        } catch (err) {
          done(err);
        }
      });
      n1.receive({ payload: { s: 'é' } }); // {"s":"é"} is 9 characters, 10 bytes
    });
  });

  it('sends a Buffer when outputType is "buffer"', async function () {
    const { msg } = await encodeVia({ format: 'form', outputType: 'buffer' }, { payload: { name: 'Zoë' } }, 'ok');
    assert.ok(Buffer.isBuffer(msg.payload), 'payload is a Buffer');
    assert.strictEqual(msg.payload.toString('utf8'), 'name=Zo%C3%AB');
    assert.strictEqual(msg.headers['content-type'], 'application/x-www-form-urlencoded; charset=utf-8');
  });

  it('routes an encoding error to output 2 and to a Catch node, leaving payload and headers alone', function (done) {
    const extra = [
      { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'f1', type: 'helper' },
    ];
    helper.load([encoderNode, catchNode], flow({ format: 'csv' }, extra), function () {
      const n1 = helper.getNode('n1');
      const ok = helper.getNode('ok');
      const err = helper.getNode('err');
      const caught = helper.getNode('caught');
      const payload = [{ id: 1, address: { city: 'X' } }];
      let seen = 0;
      const finish = () => {
        if (++seen === 2) {
          try {
            assert.deepStrictEqual(statuses(n1).pop(), {
              fill: 'red',
              shape: 'ring',
              text: 'format-encoder.status.error',
            });
            done();
          } catch (e) {
            done(e);
          }
        }
      };
      ok.on('input', () => done(new Error('nothing should reach output 1')));
      err.on('input', (msg) => {
        try {
          assert.strictEqual(msg.error.code, 'ENCODE_CSV');
          assert.match(msg.error.message, /record 0, column "address" holds a nested object/);
          assert.deepStrictEqual(
            msg.error.details.map((d) => d.field),
            ['payload[0].address'],
          );
          assert.strictEqual(msg.payload, payload, 'payload left as it was');
          assert.deepStrictEqual(msg.headers, { 'x-a': '1' });
          assert.strictEqual(msg.format, undefined);
          finish();
        } catch (e) {
          done(e);
        }
      });
      caught.on('input', (msg) => {
        try {
          assert.strictEqual(msg.error.source.id, 'n1');
          assert.match(msg.error.message, /record 0, column "address"/);
          finish();
        } catch (e) {
          done(e);
        }
      });
      n1.receive({ payload, headers: { 'x-a': '1' } });
    });
  });

  it('reports a JSON cycle with its path on output 2', async function () {
    const payload = { a: { b: {} } };
    payload.a.b.loop = payload.a;
    const { msg } = await encodeVia({ format: 'json' }, { payload }, 'err');
    assert.strictEqual(msg.error.code, 'ENCODE_JSON');
    assert.strictEqual(msg.error.message, 'payload contains a circular reference at payload.a.b.loop');
  });

  it('rejects a non-object payload for xml, naming the error code', async function () {
    const { msg, n1 } = await encodeVia({ format: 'xml' }, { payload: 'text' }, 'err');
    assert.strictEqual(msg.error.code, 'ENCODE_XML');
    assert.strictEqual(msg.payload, 'text');
    const red = n1.status
      .getCalls()
      .filter((c) => c.thisValue === n1 && c.args[0].fill === 'red')
      .pop();
    assert.ok(red, 'red status');
  });

  it('flags an invalid configuration at start and sends each message to output 2 with ENCODE_CONFIG', async function () {
    const { msg, n1 } = await encodeVia({ format: 'csv', csvDelimiter: '"' }, { payload: { a: 1 } }, 'err');
    assert.strictEqual(msg.error.code, 'ENCODE_CONFIG');
    assert.strictEqual(msg.error.details[0].field, 'csvDelimiter');
    assert.deepStrictEqual(statuses(n1)[0], { fill: 'red', shape: 'ring', text: 'format-encoder.status.error' });
  });

  it('clears its status on close', function (done) {
    helper.load(encoderNode, flow({}), function () {
      const n1 = helper.getNode('n1');
      // unload restores the helper's prototype spies first: watch this node itself
      const seen = [];
      const status = n1.status;
      n1.status = function (s) {
        seen.push(s);
        return status.call(this, s);
      };
      helper.unload().then(() => {
        try {
          assert.deepStrictEqual(seen, [{}]);
          done();
        } catch (err) {
          done(err);
        }
      }, done);
    });
  });
});
