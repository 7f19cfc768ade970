'use strict';
/**
 * Queues left behind by deleted HTTP POST nodes, in a real Node-RED process
 * with default settings: after a redeploy that replaces a node holding pending
 * messages, the orphaned queue is listed with what it holds; handing it over
 * to the new node delivers every message once, with its idempotency key; an
 * empty orphan is deleted; a live queue is never touched.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const { startNodeRed, freePort } = require('../support/nodered');
const { endpointNode } = require('../support/flows');

const Z = 'orphtab000000001';

function flow(postId, baseUrl) {
  return [
    { id: Z, type: 'tab', label: 'orphans' },
    endpointNode('orphep', baseUrl, { name: 'partner', timeout: 1000 }),
    {
      id: 'orphtrig',
      z: Z,
      type: 'saypro-event-trigger',
      name: 'events',
      url: '/orph/events',
      method: 'post',
      maxBytes: 1048576,
      filter: '',
      dedupeWindow: 0,
      auth: 'none',
      authHeader: 'x-webhook-secret',
      reply: 'durable',
      ackTimeout: 10,
      wires: [[postId], []],
    },
    {
      id: postId,
      z: Z,
      type: 'saypro-http-post',
      name: `post ${postId}`,
      endpoint: 'orphep',
      method: '',
      path: '/orders',
      headers: [],
      maxAttempts: 3,
      initialDelay: 50,
      maxDelay: 200,
      idempotencyHeader: 'Idempotency-Key',
      durable: true,
      wires: [[], []],
    },
  ];
}

async function waitUntil(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for ' + what);
}

describe('queues left by deleted HTTP POST nodes (real Node-RED): listed, handed over, deleted', function () {
  this.timeout(90000);
  let nr;
  let partner;
  let partnerUrl;
  const seen = [];

  before(async function () {
    partner = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.headers['idempotency-key']);
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise((r) => partner.listen(0, '127.0.0.1', r));
    partnerUrl = `http://127.0.0.1:${partner.address().port}`;
    // first the node posts to an address where nothing listens: its messages stay queued
    nr = await startNodeRed({ flow: flow('orphpostA', `http://127.0.0.1:${await freePort()}`) });
  });

  after(async function () {
    if (nr) await nr.stop();
    if (partner) await new Promise((r) => partner.close(r));
  });

  const api = (p, opts = {}) =>
    fetch(nr.base + p, { ...opts, headers: { 'content-type': 'application/json', ...(opts.headers || {}) } });
  const orphans = async () => (await (await api('/saypro-integration-kit/orphans')).json()).queues;
  async function deploy(flows) {
    const starts = (nr.output.match(/Started flows/g) || []).length;
    const res = await api('/flows', {
      method: 'POST',
      headers: { 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.strictEqual(res.status, 204, await res.text());
    await waitUntil(() => (nr.output.match(/Started flows/g) || []).length > starts, 20000, 'the deploy');
  }

  it('lists the queue of a replaced node with its pending messages, and hands them over to the new node', async function () {
    const ids = ['evt_orph_1', 'evt_orph_2', 'evt_orph_3'];
    for (const id of ids) {
      const res = await api('/orph/events', {
        method: 'POST',
        body: JSON.stringify({ id, type: 'order.created', data: { n: 1 } }),
      });
      assert.strictEqual(res.status, 202, await res.text());
    }
    assert.deepStrictEqual(await orphans(), [], 'nothing is orphaned while the node exists');

    await deploy(flow('orphpostB', partnerUrl));
    const listed = await waitUntil(
      async () => (await orphans()).find((q) => q.name === 'orphpostA'),
      20000,
      'the orphan',
    );
    assert.strictEqual(listed.pending, 3);
    assert.strictEqual(listed.deadLetters, 0);
    assert.ok(listed.bytes > 0 && listed.modifiedAt > 0, JSON.stringify(listed));
    assert.strictEqual(seen.length, 0, 'nothing was delivered from the orphan on its own');

    // a live queue cannot be deleted, nor handed over to a node that does not exist
    const live = await api('/saypro-integration-kit/orphans/orphpostB/delete', { method: 'POST', body: '{}' });
    assert.strictEqual(live.status, 409);
    const noTarget = await api('/saypro-integration-kit/orphans/orphpostA/hand-over', {
      method: 'POST',
      body: JSON.stringify({ to: 'no-such-node' }),
    });
    assert.strictEqual(noTarget.status, 409);

    const moved = await api('/saypro-integration-kit/orphans/orphpostA/hand-over', {
      method: 'POST',
      body: JSON.stringify({ to: 'orphpostB' }),
    });
    assert.strictEqual(moved.status, 200);
    assert.deepStrictEqual(await moved.json(), { moved: 3, duplicates: 0, deadLetters: 0 });
    await waitUntil(() => seen.length >= 3, 30000, 'the three deliveries');
    assert.deepStrictEqual([...seen].sort(), ids, 'each once, with its own idempotency key');
    assert.deepStrictEqual(await orphans(), []);
    assert.ok(!fs.existsSync(path.join(nr.userDir, 'saypro-outbox', 'orphpostA')), 'the orphan directory is gone');
  });

  it('deletes an orphaned queue; refuses names that are not queues', async function () {
    await waitUntil(
      async () => {
        const r = await (await api('/saypro-integration-kit/outbox/orphpostB')).json();
        return r.depth === 0;
      },
      20000,
      'an empty queue',
    );
    await deploy(flow('orphpostC', partnerUrl));
    await waitUntil(async () => (await orphans()).find((q) => q.name === 'orphpostB'), 20000, 'the orphan');
    for (const bad of ['..', 'a%2Fb', 'no-such-queue']) {
      const r = await api(`/saypro-integration-kit/orphans/${bad}/delete`, { method: 'POST', body: '{}' });
      assert.ok([400, 404].includes(r.status), `${bad}: ${r.status}`);
    }
    const del = await api('/saypro-integration-kit/orphans/orphpostB/delete', { method: 'POST', body: '{}' });
    assert.strictEqual(del.status, 200, await del.clone().text());
    assert.deepStrictEqual(await orphans(), []);
    assert.ok(!fs.existsSync(path.join(nr.userDir, 'saypro-outbox', 'orphpostB')));
    assert.ok(fs.existsSync(path.join(nr.userDir, 'saypro-outbox', 'orphpostC')), 'the live queue stays');
  });
});
