'use strict';
/* One dead letter as the monitor opens it (nodes/lib/outbox/dead-letter-view.ts). */
const assert = require('node:assert');

const v = require('../../dist/nodes/lib/outbox/dead-letter-view');
const { Redactor } = require('../../dist/nodes/lib/http/redact');

const SECRET = 'sk_live_0123456789abcdef';
const ctx = (extra = {}) => ({
  base: 'https://api.partner.example/v2/',
  defaultMethod: 'POST',
  configHeaders: { 'X-Source': 'saypro' },
  idempotencyHeader: 'Idempotency-Key',
  redactor: new Redactor({ secrets: [SECRET], sensitiveNames: ['x-partner-key'] }),
  ...extra,
});
const item = (request, key = 'evt_1') => ({ idempotencyKey: key, request, msg: {}, createdAt: 1 });

describe('lib/outbox/dead-letter-view', function () {
  it('shows the request as sent: method, full URL, config + message headers, the idempotency key, the body', function () {
    const body = Buffer.from('{"amount":1050,"currency":"USD"}');
    const r = v.requestAsSent(
      item({
        method: 'PUT',
        path: '/orders/42?expand=items',
        headers: { 'content-type': 'application/json', 'X-Trace': 't-1' },
        bodyBase64: body.toString('base64'),
      }),
      ctx(),
    );
    assert.deepStrictEqual(r, {
      method: 'PUT',
      url: 'https://api.partner.example/v2/orders/42?expand=items',
      headers: {
        'X-Source': 'saypro',
        'content-type': 'application/json',
        'X-Trace': 't-1',
        'Idempotency-Key': 'evt_1',
      },
      body: '{"amount":1050,"currency":"USD"}',
      bodyEncoding: 'utf8',
      bodyBytes: body.length,
      truncated: false,
    });
  });

  it('never shows a secret: credential headers, secret-looking header names, known secrets in the URL and body', function () {
    const r = v.requestAsSent(
      item({
        method: null,
        path: `/hook?api_key=abc123456&token=${SECRET}&page=2`,
        headers: {
          Authorization: 'Bearer xyz-very-secret-token',
          'X-Api-Key': 'k-1234567890',
          'X-Partner-Key': 'pk-1234567890',
          'X-Note': `echo ${SECRET}`,
        },
        bodyBase64: Buffer.from(`{"card":"${SECRET}"}`).toString('base64'),
      }),
      ctx(),
    );
    assert.strictEqual(r.method, 'POST', 'the endpoint default when the message set none');
    const all = JSON.stringify(r);
    for (const s of [SECRET, 'xyz-very-secret-token', 'k-1234567890', 'pk-1234567890', 'abc123456'])
      assert.ok(!all.includes(s), `${s} is not shown: ${all}`);
    assert.match(r.url, /page=2$/);
    assert.strictEqual(r.headers.Authorization, '[redacted]');
    assert.strictEqual(r.headers['X-Api-Key'], '[redacted]');
    assert.strictEqual(r.headers['X-Note'], 'echo [redacted]');
    assert.strictEqual(r.body, '{"card":"[redacted]"}');
  });

  it('a binary body is shown as base64; a long one is cut and says so; no body is null', function () {
    const bin = Buffer.from([0, 1, 2, 0xff, 0xfe, 3]);
    const b = v.requestAsSent(
      item({ method: 'POST', path: '/x', headers: {}, bodyBase64: bin.toString('base64') }),
      ctx(),
    );
    assert.deepStrictEqual([b.body, b.bodyEncoding, b.bodyBytes], [bin.toString('base64'), 'base64', 6]);
    const long = Buffer.alloc(v.MAX_BODY_SHOWN + 10, 'a');
    const l = v.requestAsSent(
      item({ method: 'POST', path: '/x', headers: {}, bodyBase64: long.toString('base64') }),
      ctx(),
    );
    assert.strictEqual(l.truncated, true);
    assert.strictEqual(l.body.length, v.MAX_BODY_SHOWN);
    assert.strictEqual(l.bodyBytes, v.MAX_BODY_SHOWN + 10);
    const n = v.requestAsSent(item({ method: 'GET', path: 'x', headers: {}, bodyBase64: null }), ctx());
    assert.deepStrictEqual([n.url, n.body, n.bodyBytes], ['https://api.partner.example/v2/x', null, 0]);
  });

  it('data that is not a journaled request gives null, never a throw', function () {
    for (const data of [null, 'x', [], {}, { request: null }, { request: { path: 5 } }])
      assert.strictEqual(v.requestAsSent(data, ctx()), null, JSON.stringify(data));
  });

  it('attempts in plain words', function () {
    assert.strictEqual(v.attemptOutcome({ at: 1, statusCode: 500 }), 'HTTP 500');
    assert.match(v.attemptOutcome({ at: 1, errorCode: 'ENOTFOUND' }), /\(ENOTFOUND\)$/);
    assert.doesNotMatch(v.attemptOutcome({ at: 1, errorCode: 'ENOTFOUND' }), /^ENOTFOUND/);
    assert.strictEqual(v.attemptOutcome({ at: 1, errorCode: 'HTTP_ERROR', statusCode: 422 }), 'HTTP 422: HTTP_ERROR');
    assert.strictEqual(v.attemptOutcome({ at: 1 }), 'no answer recorded');
    const view = v.deadLetterView(
      {
        id: 'evt_1',
        error: { code: 'HTTP_ERROR', message: 'HTTP 400', details: [] },
        attempts: 1,
        history: [{ at: 5, statusCode: 400 }],
        deadAt: 6,
        bytes: 10,
        data: item({ method: 'POST', path: '/x', headers: {}, bodyBase64: null }),
      },
      ctx(),
    );
    assert.strictEqual(view.data, undefined, 'the raw data is not passed on');
    assert.deepStrictEqual(view.attemptsShown, [{ at: 5, statusCode: 400, outcome: 'HTTP 400' }]);
    assert.strictEqual(view.request.url, 'https://api.partner.example/v2/x');
  });
});
