'use strict';
/**
 * In a real Node-RED process with default settings: a durable HTTP POST node
 * whose message is delivered at its first attempt sends it on as it came (as
 * an in-memory node does); one that waited for a retry is restored from the
 * journal. Both are acknowledged to the sender (202) once they are safe, and
 * neither carries the event trigger's reply token on.
 */
const assert = require('assert');
const http = require('http');
const { startNodeRed, debugPane } = require('../support/nodered');
const { endpointNode, debugNode, durableTriggerNode, durablePostNode } = require('../support/flows');

const TAB = 'fa00000000000tab';

/** A partner on 127.0.0.1: 503 for the first request of a body that asks for it, 200 otherwise. */
function startPartner() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push(body);
      const first = seen.filter((b) => b === body).length === 1;
      res.writeHead(first && body.includes('retry-me') ? 503 : 200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, base: `http://127.0.0.1:${server.address().port}` })),
  );
}

function flow(partnerBase) {
  return [
    { id: TAB, type: 'tab', label: 'durable first attempt' },
    { ...endpointNode('ep', partnerBase), z: undefined },
    durableTriggerNode('trig', TAB, '/fa/events', [['fn'], []]),
    {
      id: 'fn',
      z: TAB,
      type: 'function',
      name: 'adds a function',
      func: 'msg.shape = function () { return 1; };\nreturn msg;',
      outputs: 1,
      wires: [['post']],
    },
    durablePostNode('post', TAB, [['dbg-delivered'], ['dbg-failed']]),
    debugNode('dbg-delivered', 'delivered', TAB),
    debugNode('dbg-failed', 'failed', TAB),
  ];
}

async function postEvent(base, event) {
  const res = await fetch(base + '/fa/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(30000),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('durable HTTP POST: the message that goes on after a delivery (real Node-RED process)', function () {
  this.timeout(60000);
  let partner;
  let nr;
  let pane;

  before(async function () {
    partner = await startPartner();
    nr = await startNodeRed({ flow: flow(partner.base) });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    if (partner) partner.server.close();
  });

  it('delivered at its first attempt: the message as it came; after a retry: restored from the journal', async function () {
    assert.strictEqual(await postEvent(nr.base, { id: 'evt_first', type: 'listing.sold', data: { n: 1 } }), 202);
    const first = JSON.parse(
      (await pane.waitFor((d) => d.name === 'delivered' && d.msg.includes('evt_first'), 20000)).msg,
    );
    assert.strictEqual(first.statusCode, 200);
    assert.strictEqual(first.delivery.attempts, 1);
    assert.deepStrictEqual(first.shape, { __enc__: true, type: 'function' }, 'the function is still on the message');
    assert.strictEqual(first._sayproAck, undefined, 'no reply token goes on');

    assert.strictEqual(await postEvent(nr.base, { id: 'evt_retry', type: 'listing.sold', data: 'retry-me' }), 202);
    const second = JSON.parse(
      (await pane.waitFor((d) => d.name === 'delivered' && d.msg.includes('evt_retry'), 20000)).msg,
    );
    assert.strictEqual(second.delivery.attempts, 2);
    assert.strictEqual(second.shape, undefined, 'restored from its snapshot: functions are not kept');
    assert.strictEqual(second._sayproAck, undefined);
    assert.strictEqual(partner.seen.length, 3);
    assert.strictEqual(pane.messages.filter((d) => d.name === 'failed').length, 0);
  });
});
