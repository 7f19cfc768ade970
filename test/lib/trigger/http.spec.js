'use strict';
const assert = require('node:assert');
const { PassThrough } = require('node:stream');

const ev = {
  ...require('../../../dist/nodes/lib/trigger/body'),
  ...require('../../../dist/nodes/lib/trigger/json'),
  ...require('../../../dist/nodes/lib/trigger/reply'),
};

describe('HTTP pieces', function () {
  it('accepts JSON-ish content types only', function () {
    for (const ok of [
      undefined,
      '',
      'application/json',
      'Application/JSON; charset=utf-8',
      'application/cloudevents+json',
      'text/plain',
      'text/json',
    ]) {
      assert.strictEqual(ev.isAcceptableContentType(ok), true, String(ok));
    }
    for (const bad of [
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/html',
      'application/jsonp',
    ]) {
      assert.strictEqual(ev.isAcceptableContentType(bad), false, bad);
    }
  });

  it('parses JSON, with a BOM, and explains failures', function () {
    assert.deepStrictEqual(ev.parseJsonBody(Buffer.from('\uFEFF{"a":1}')), { a: 1 });
    assert.throws(
      () => ev.parseJsonBody('{"a":'),
      (e) => e.code === 'INVALID_JSON' && e.details[0].field === 'body',
    );
    assert.throws(
      () => ev.parseJsonBody('  '),
      (e) => e.code === 'INVALID_JSON' && /empty/.test(e.message),
    );
  });

  it('maps codes to HTTP statuses', function () {
    assert.strictEqual(ev.statusFor('INVALID_JSON'), 400);
    assert.strictEqual(ev.statusFor('INVALID_EVENT'), 400);
    assert.strictEqual(ev.statusFor('UNAUTHORIZED'), 401);
    assert.strictEqual(ev.statusFor('PAYLOAD_TOO_LARGE'), 413);
    assert.strictEqual(ev.statusFor('UNSUPPORTED_MEDIA_TYPE'), 415);
    assert.strictEqual(ev.statusFor('SOMETHING_ELSE'), 500);
  });

  it('previews at most 1 KB of a body', function () {
    assert.strictEqual(ev.previewBody(Buffer.alloc(5000, 'x')).length, 1024);
    assert.strictEqual(ev.previewBody(undefined), '');
    assert.strictEqual(ev.previewBody('abc'), 'abc');
  });

  function stream(headers) {
    const s = new PassThrough();
    s.headers = headers || {};
    return s;
  }

  it('reads a body up to the limit', async function () {
    const s = stream();
    const p = ev.readBody(s, 10);
    s.write('12345');
    s.end('67890');
    assert.strictEqual((await p).toString(), '1234567890');
  });

  it('refuses a declared Content-Length above the limit before reading', async function () {
    const s = stream({ 'content-length': '11' });
    await assert.rejects(
      ev.readBody(s, 10),
      (e) => e.code === 'PAYLOAD_TOO_LARGE' && /Content-Length 11/.test(e.details[0].reason),
    );
  });

  it('refuses a streamed body that grows past the limit, keeping what was read', async function () {
    const s = stream();
    const p = ev.readBody(s, 10);
    s.write('123456');
    s.write('789012');
    await assert.rejects(p, (e) => e.code === 'PAYLOAD_TOO_LARGE' && e.partial.toString() === '1234567890');
  });

  it('reports a stream error as BODY_READ_FAILED', async function () {
    const s = stream();
    const p = ev.readBody(s, 10);
    s.destroy(new Error('socket hang up'));
    await assert.rejects(p, (e) => e.code === 'BODY_READ_FAILED');
  });
});
