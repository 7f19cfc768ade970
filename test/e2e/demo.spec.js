'use strict';
/**
 * `npm start` as a newcomer runs it: scripts/start.js starts Node-RED with the
 * demo flow; the README's curl line posts an event; the debug pane (read over
 * the editor's own /comms websocket) shows the encrypted envelope and the
 * receiving flow's decrypted copy. The envelope is also decrypted here with
 * plain node:crypto to check the bytes round-trip.
 */
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { debugPane, freePort, tmpDir, root } = require('../support/nodered');

function post(url, body, headers = {}) {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('npm start: the demo flow (real Node-RED process)', function () {
  this.timeout(60000);
  let child;
  let base;
  let pane;
  let output = '';
  let userDir;

  before(async function () {
    const port = await freePort();
    userDir = tmpDir('saypro-start-');
    child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
      env: { ...process.env, PORT: String(port), NODE_RED_USER_DIR: userDir, SAYPRO_DEMO_KEY: '', SAYPRO_DEMO_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const deadline = Date.now() + 40000;
    while (!/Started flows/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error('npm start did not start:\n' + output);
      await new Promise((r) => setTimeout(r, 100));
    }
    base = `http://127.0.0.1:${port}`;
    pane = debugPane(base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
  });

  it('listens on 127.0.0.1 only, with the demo flow deployed and no load errors', async function () {
    assert.match(output, new RegExp(`Server now running at http://127.0.0.1:${base.split(':')[2]}/`));
    assert.doesNotMatch(output, /\[error\]|\[warn\].*(missing|failed)/i, output);
    const flows = await (await fetch(base + '/flows', { headers: { 'Node-RED-API-Version': 'v2' } })).json();
    const types = flows.flows.map((n) => n.type);
    for (const t of [
      'saypro-event-trigger',
      'saypro-field-mapper',
      'saypro-format-encoder',
      'saypro-encrypt',
      'saypro-decrypt',
    ]) {
      assert.ok(types.includes(t), `demo flow has a ${t}`);
    }
    // The demo key was generated into the user directory, not shipped.
    assert.match(fs.readFileSync(path.join(userDir, 'demo.key'), 'utf8').trim(), /^[0-9a-f]{64}$/);
    assert.doesNotMatch(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8'), /[0-9a-f]{64}/);
  });

  it('the README curl line: event → mapper → JSON → AES-256-GCM → decrypted in the debug pane', async function () {
    const event = {
      type: 'listing.created',
      data: {
        listingId: 'L-1001',
        title: 'Red bicycle',
        price: '149.90',
        currency: 'usd',
        seller: { name: 'Ada', email: 'ada@example.com' },
      },
    };
    // the very body the README's curl line sends
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const curl = /curl -s -X POST http:\/\/127\.0\.0\.1:1880\/demo\/events [^\n]*\\\n\s*-d '([^']+)'/.exec(readme);
    assert.ok(curl, 'the README shows the curl line');
    assert.deepStrictEqual(JSON.parse(curl[1]), event);
    const res = await post(base + '/demo/events', curl[1]);
    assert.strictEqual(res.status, 202);
    const reply = await res.json();
    assert.strictEqual(reply.status, 'accepted');
    assert.match(reply.id, /^[0-9a-f-]{36}$/);

    const expected = {
      listing_id: 'L-1001',
      title: 'Red bicycle',
      amount: 14990,
      currency: 'USD',
      seller: { name: 'Ada', email: 'ada@example.com' },
      event_id: reply.id,
    };
    const decrypted = await pane.waitFor(
      (d) => d.name === 'decrypted by the receiver' && String(d.msg).includes(reply.id),
    );
    const shown = JSON.parse(decrypted.msg);
    assert.ok(typeof shown.occurred_at === 'string' && !Number.isNaN(Date.parse(shown.occurred_at)));
    delete shown.occurred_at;
    assert.deepStrictEqual(shown, expected);

    // The envelope the partner receives, decrypted here with plain node:crypto.
    const enc = await pane.waitFor((d) => d.name === 'what the partner receives');
    const envelope = JSON.parse(enc.msg);
    assert.strictEqual(envelope.alg, 'A256GCM');
    assert.strictEqual(envelope.kid, 'demo');
    const key = Buffer.from(fs.readFileSync(path.join(userDir, 'demo.key'), 'utf8').trim(), 'hex');
    const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'), { authTagLength: 16 });
    d.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    const plain = Buffer.concat([d.update(Buffer.from(envelope.ct, 'base64')), d.final()]).toString('utf8');
    const parsed = JSON.parse(plain);
    delete parsed.occurred_at;
    assert.deepStrictEqual(parsed, expected);
  });

  it('delivers over HTTP to the receiving flow, retries its 503, and shows the verdict with the transaction id', async function () {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const res = await post(
        base + '/demo/events',
        JSON.stringify({
          type: 'listing.created',
          data: { listingId: 'R-' + i, title: 'Lamp', price: 12, seller: { email: 's@example.com' } },
        }),
      );
      assert.strictEqual(res.status, 202);
      ids.push((await res.json()).id);
    }
    // every third request to the partner flow is answered 503 + Retry-After: 1: all three still get through
    for (let i = 0; i < 3; i++) {
      const verdict = await pane.waitFor(
        (d) => d.name === 'delivered: transaction id' && String(d.msg).startsWith(`txn_R-${i}_`),
        15000,
      );
      assert.match(String(verdict.msg), new RegExp(`^txn_R-${i}_\\d+$`));
    }
    // txn_<listing>_<n>: n counts the requests the partner flow answered, 503s included,
    // so a counter missing from the delivered ones was a 503 that the POST node retried
    const counters = pane.messages
      .filter((d) => d.name === 'delivered: transaction id')
      .map((d) => Number(/_(\d+)$/.exec(String(d.msg))[1]));
    assert.strictEqual(counters.length, 4, 'the README event and these three were delivered once each');
    assert.ok(Math.max(...counters) > counters.length, `a request was answered 503 and retried: ${counters}`);
  });

  it('an event with bad fields gets a 422 with every problem, shown in the debug pane too; bad JSON gets a 400', async function () {
    const res = await post(
      base + '/demo/events',
      JSON.stringify({ type: 'listing.created', data: { listingId: 'L-2', price: 'free', seller: {} } }),
    );
    // durable replies: the platform learns at once that this event cannot be mapped, and why
    assert.strictEqual(res.status, 422);
    const reply = await res.json();
    assert.strictEqual(reply.status, 'rejected');
    assert.deepStrictEqual(reply.error.details.map((x) => x.field).sort(), ['amount', 'seller.email', 'title']);
    const shown = await pane.waitFor((d) => d.name === 'invalid or failed');
    const error = JSON.parse(shown.msg);
    const fields = error.details.map((x) => x.field).sort();
    assert.deepStrictEqual(fields, ['amount', 'seller.email', 'title']);

    const bad = await post(base + '/demo/events', '{"type": "listing.created",');
    assert.strictEqual(bad.status, 400);
    const ignored = await post(base + '/demo/events', JSON.stringify({ type: 'user.registered', data: {} }));
    assert.strictEqual(ignored.status, 202);
    assert.strictEqual((await ignored.json()).status, 'ignored');
  });
});
