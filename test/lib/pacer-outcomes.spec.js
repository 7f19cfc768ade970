'use strict';
/**
 * lib/http/pacer-outcomes: which network errors prove the endpoint is down
 * (the connection was never made), and what each outcome tells the circuit
 * breaker.
 */
const assert = require('node:assert');
const {
  OFFLINE_CODES,
  isOfflineCode,
  offlineCodeOf,
  breakerVerdict,
} = require('../../dist/nodes/lib/http/pacer-outcomes');

const ok = { kind: 'response', status: 200 };
const e500 = { kind: 'response', status: 500 };
const refused = { kind: 'network', code: 'ECONNREFUSED' };

describe('lib/http/pacer-outcomes', function () {
  it('which errors mean "network down", and what each outcome tells the breaker', function () {
    assert.deepStrictEqual(OFFLINE_CODES, [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ENETDOWN',
      'EHOSTDOWN',
    ]);
    assert.strictEqual(isOfflineCode('ECONNRESET'), false);
    assert.strictEqual(isOfflineCode('ETIMEDOUT'), false);
    const e = (code, extra) => Object.assign(new Error(code || 'x'), { code }, extra);
    assert.strictEqual(offlineCodeOf(e('ECONNREFUSED')), 'ECONNREFUSED');
    assert.strictEqual(offlineCodeOf(e('ERR_NETWORK', { cause: e('EHOSTUNREACH') })), 'EHOSTUNREACH');
    assert.strictEqual(offlineCodeOf(e('ECONNRESET')), undefined);
    assert.strictEqual(
      offlineCodeOf(Object.assign(new AggregateError([e('ECONNREFUSED'), e('ENETUNREACH')]), { code: undefined })),
      'ECONNREFUSED',
    );
    assert.strictEqual(offlineCodeOf(new AggregateError([e('ECONNREFUSED'), e('ECONNRESET')])), undefined);
    assert.strictEqual(offlineCodeOf('ECONNREFUSED'), undefined);
    const verdicts = [
      ok,
      { kind: 'response', status: 404 },
      { kind: 'response', status: 429 },
      e500,
      { kind: 'response', status: 503 },
      { kind: 'timeout' },
      refused,
      { kind: 'network', code: 'ECONNRESET' },
      { kind: 'cancelled' },
    ].map(breakerVerdict);
    assert.deepStrictEqual(verdicts, [
      'success',
      'success',
      'neutral',
      'failure',
      'failure',
      'failure',
      'neutral',
      'failure',
      'neutral',
    ]);
  });
});
