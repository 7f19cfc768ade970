'use strict';
const assert = require('node:assert');
const { PassThrough } = require('node:stream');
const { readBody } = require('../../../dist/nodes/lib/trigger/body');

function stream(headers) {
  const s = new PassThrough();
  s.headers = headers || {};
  return s;
}

describe('trigger body reading', function () {
  it('gives up on a body that does not arrive in time: REQUEST_TIMEOUT with what was read', async function () {
    const s = stream();
    const p = readBody(s, 1000, { timeoutMs: 50 });
    s.write('{"type":');
    await assert.rejects(
      p,
      (e) =>
        e.code === 'REQUEST_TIMEOUT' && e.partial.toString() === '{"type":' && /after 0.05 s/.test(e.details[0].reason),
    );
  });

  it('a body that completes in time is read whole', async function () {
    const s = stream();
    const p = readBody(s, 1000, { timeoutMs: 5000 });
    s.end('{"type":"x"}');
    assert.strictEqual((await p).toString(), '{"type":"x"}');
  });
});
