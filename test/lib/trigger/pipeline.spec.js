'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const { PassThrough } = require('node:stream');
const { TriggerPipeline } = require('../../../dist/nodes/lib/trigger/pipeline');
const { EventIntake } = require('../../../dist/nodes/lib/trigger/intake');
const { createCallerAuth } = require('../../../dist/nodes/lib/trigger/auth');
const { ReplayMemory } = require('../../../dist/nodes/lib/trigger/replay');
const { webhookSignatureHeaders } = require('../../../dist/nodes/lib/webhook-signature');
const acks = require('../../../dist/nodes/lib/acks');

const SECRET = 'whsec_' + crypto.randomBytes(24).toString('base64');

/** A request stream with headers, its body written at once. */
function req(body, headers = {}) {
  const r = new PassThrough();
  r.headers = { 'content-type': 'application/json', ...headers };
  r.end(body);
  return r;
}

/** Just enough of a ServerResponse to read what was answered. */
function res() {
  const r = {
    statusCode: 200,
    headers: {},
    headersSent: false,
    writableEnded: false,
    setHeader(k, v) {
      this.headers[k.toLowerCase()] = v;
    },
    end(text) {
      this.headersSent = this.writableEnded = true;
      this.body = JSON.parse(text);
    },
  };
  return r;
}

function pipeline(props = {}) {
  const emitted = [];
  const counts = [];
  const p = new TriggerPipeline({
    auth: createCallerAuth(props.auth || 'none', { credential: SECRET }),
    intake: new EventIntake({ dedupeWindowSeconds: props.dedupe ?? 600 }),
    maxBytes: 1000,
    bodyTimeoutMs: 1000,
    replyMode: props.replyMode || 'durable',
    ackTimeoutSeconds: 5,
    replays: new ReplayMemory(),
    hooks: {
      emit: (event, data, token) => emitted.push({ event, data, _sayproAck: token }),
      reject: () => {},
      count: (c) => counts.push(c),
      changed: () => {},
      ackTimedOut: () => {},
    },
  });
  return { p, emitted, counts };
}

async function until(pred) {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(pred());
}

describe('trigger pipeline', function () {
  it('a signed request replayed while the first still waits joins it: one event, the same reply', async function () {
    const { p, emitted, counts } = pipeline({ auth: 'webhook', dedupe: 0 });
    const body = '{"type":"order.paid"}';
    const headers = webhookSignatureHeaders(SECRET, 'msg_join', body);
    const a = res();
    const b = res();
    const first = p.handle(req(body, headers), a);
    await until(() => emitted.length === 1);
    const second = p.handle(req(body, headers), b);
    await new Promise((r) => setTimeout(r, 20));
    assert.strictEqual(b.writableEnded, false, 'the replay waits for the first');
    acks.settle(emitted[0], { ok: true });
    await Promise.all([first, second]);
    assert.deepStrictEqual([a.statusCode, a.body], [202, { id: 'msg_join', status: 'accepted' }]);
    assert.deepStrictEqual([b.statusCode, b.body], [202, { id: 'msg_join', status: 'accepted' }]);
    assert.strictEqual(emitted.length, 1);
    assert.ok(counts.includes('duplicate'));
    // and later: acknowledged as a duplicate, not emitted
    const c = res();
    await p.handle(req(body, headers), c);
    assert.deepStrictEqual([c.statusCode, c.body], [202, { id: 'msg_join', status: 'duplicate' }]);
    assert.strictEqual(emitted.length, 1);
  });

  it('a replay after a refusal (not 2xx) is heard again', async function () {
    const { p, emitted } = pipeline({ auth: 'webhook', dedupe: 0 });
    const body = '{"type":"order.paid"}';
    const headers = webhookSignatureHeaders(SECRET, 'msg_retry', body);
    const a = res();
    const first = p.handle(req(body, headers), a);
    await until(() => emitted.length === 1);
    acks.settle(emitted[0], { ok: false, status: 503, retryAfterSeconds: 1 });
    await first;
    assert.strictEqual(a.statusCode, 503);
    const b = res();
    const second = p.handle(req(body, headers), b);
    await until(() => emitted.length === 2);
    acks.settle(emitted[1], { ok: true });
    await second;
    assert.strictEqual(b.statusCode, 202);
  });

  it('closing: an event settled while closing is answered 202, one never settled 503 SHUTTING_DOWN at its ack timeout, and new ones 503', async function () {
    const { p, emitted } = pipeline();
    const a = res();
    const b = res();
    const first = p.handle(req('{"type":"t","id":"e1"}'), a);
    const second = p.handle(req('{"type":"t","id":"e2"}'), b);
    await until(() => emitted.length === 2);
    const closing = p.close(200);
    await closing;
    // settled after close() returned (a journal write finishing late): still 202
    acks.settle(emitted[0], { ok: true });
    await Promise.all([first, second]);
    assert.deepStrictEqual([a.statusCode, a.body.status], [202, 'accepted']);
    assert.deepStrictEqual([b.statusCode, b.body.error.code, b.headers['retry-after']], [503, 'SHUTTING_DOWN', '5']);
    const c = res();
    await p.handle(req('{"type":"t","id":"e3"}'), c);
    assert.deepStrictEqual([c.statusCode, c.body.error.code], [503, 'SHUTTING_DOWN']);
    assert.strictEqual(emitted.length, 2);
  });
});
