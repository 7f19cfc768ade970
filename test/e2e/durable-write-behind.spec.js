'use strict';
/**
 * Write-behind of the durable HTTP POST queue, in a real Node-RED process
 * with default settings and a node with the default "Write to disk" (a flow
 * saved before the option existed: 100 ms). An event the partner accepts at
 * once is answered 202 once delivered and never reaches the journal; one
 * whose answer is held is written once its window passed, answered 202 then,
 * and survives a SIGKILL: after the restart it is delivered under the same
 * idempotency key.
 */
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { startNodeRed, debugPane } = require('../support/nodered');
const { endpointNode, debugNode, durableTriggerNode, durablePostNode } = require('../support/flows');

const TAB = 'fb00000000000tab';

/** A partner on 127.0.0.1 that answers 200 at once, except while `hold` is set: then it keeps the answer. */
function startPartner() {
  const partner = { seen: [], hold: false, held: [] };
  partner.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      partner.seen.push({ key: req.headers['idempotency-key'], body: Buffer.concat(chunks).toString('utf8') });
      if (partner.hold) return partner.held.push(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) =>
    partner.server.listen(0, '127.0.0.1', () => {
      partner.base = `http://127.0.0.1:${partner.server.address().port}`;
      resolve(partner);
    }),
  );
}

function flow(partnerBase) {
  return [
    { id: TAB, type: 'tab', label: 'write-behind' },
    { ...endpointNode('ep', partnerBase), z: undefined },
    durableTriggerNode('trig', TAB, '/wb/events', [['post'], []], { ackTimeout: 20 }),
    // no writeBehind property: as saved before the option existed, the default applies
    durablePostNode('post', TAB, [['dbg-delivered'], ['dbg-failed']]),
    debugNode('dbg-delivered', 'delivered', TAB),
    debugNode('dbg-failed', 'failed', TAB),
  ];
}

async function postEvent(base, event) {
  const started = Date.now();
  const res = await fetch(base + '/wb/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(30000),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - started };
}

/** Everything in the node's journal segments, as text. */
function journalText(userDir) {
  const dir = path.join(userDir, 'saypro-outbox', 'post');
  if (!fs.existsSync(dir)) return '';
  return fs
    .readdirSync(dir)
    .filter((f) => /^seg-\d+\.log$/.test(f))
    .map((f) => fs.readFileSync(path.join(dir, f), 'latin1'))
    .join('');
}

async function until(predicate, ms, what) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('durable HTTP POST write-behind (real Node-RED process, default settings)', function () {
  this.timeout(120000);
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
    if (partner) {
      for (const res of partner.held) res.destroy();
      partner.server.close();
    }
  });

  it('accepted at once by the partner: 202 after delivery, and the event never reaches the journal', async function () {
    const r = await postEvent(nr.base, { id: 'evt_wb_fast', type: 'listing.sold', data: { marker: 'fast-body' } });
    assert.strictEqual(r.status, 202);
    const seen = partner.seen.filter((s) => s.key === 'evt_wb_fast');
    assert.strictEqual(seen.length, 1, 'delivered before the 202');
    const d = JSON.parse(
      (await pane.waitFor((m) => m.name === 'delivered' && m.msg.includes('evt_wb_fast'), 20000)).msg,
    );
    assert.strictEqual(d.statusCode, 200);
    assert.strictEqual(d.delivery.attempts, 1);
    assert.ok(!journalText(nr.userDir).includes('evt_wb_fast'), 'nothing of it was written');
  });

  it('held past its window: written, then 202; a SIGKILL later it is delivered after the restart under the same key', async function () {
    partner.hold = true;
    const r = await postEvent(nr.base, { id: 'evt_wb_held', type: 'listing.sold', data: { marker: 'held-body' } });
    assert.strictEqual(r.status, 202);
    assert.ok(r.ms >= 90, `answered after its window (${r.ms} ms)`);
    assert.strictEqual(partner.held.length, 1, 'the request went out before the 202, and is still waiting');
    assert.ok(journalText(nr.userDir).includes('evt_wb_held'), 'on disk when the 202 came');

    const { userDir, port } = nr;
    process.kill(nr.child.pid, 'SIGKILL');
    await until(() => nr.child.exitCode !== null || nr.child.signalCode !== null, 20000, 'Node-RED killed');
    pane.close();
    for (const res of partner.held.splice(0)) res.destroy();
    partner.hold = false;

    nr = await startNodeRed({ userDir, settings: { uiPort: port } });
    pane = debugPane(nr.base);
    await pane.open;
    await until(
      () => partner.seen.filter((s) => s.key === 'evt_wb_held').length >= 2,
      60000,
      'sent again after the restart',
    );
    const keys = partner.seen.filter((s) => s.body.includes('held-body')).map((s) => s.key);
    assert.ok(keys.length >= 2 && keys.every((k) => k === 'evt_wb_held'), JSON.stringify(keys));
  });
});
