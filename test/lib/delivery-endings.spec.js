'use strict';
/**
 * lib/http/delivery-endings: how a delivery ends (success, failed or
 * cancelled, a retry due) and the texts it says then.
 */
const assert = require('node:assert');
const e = require('../../dist/nodes/lib/http/delivery-endings');
const { newDeliveryState } = require('../../dist/nodes/lib/http/delivery-state');
const { Redactor } = require('../../dist/nodes/lib/http/redact');
const { IntegrationError } = require('../../dist/nodes/lib/errors');

const T0 = 1700000000000;
const redactor = () => new Redactor({ secrets: ['s3cret-key'] });

describe('lib/http/delivery-endings', function () {
  describe('endings', function () {
    it('succeeded: phase, finish time, the answer parsed and redacted', async function () {
      const state = newDeliveryState('k', 3, T0);
      state.lastErrorCode = 'HTTP_503';
      const out = await e.succeeded(
        state,
        redactor(),
        () => T0 + 250,
        201,
        { 'content-type': 'application/json', 'x-echo': 's3cret-key' },
        Buffer.from('{"token":"s3cret-key","id":7}'),
      );
      assert.strictEqual(out.ok, true);
      assert.strictEqual(out.statusCode, 201);
      assert.strictEqual(out.durationMs, 250);
      assert.strictEqual(state.phase, 'succeeded');
      assert.strictEqual(state.lastErrorCode, null);
      assert.strictEqual(state.finishedAt, T0 + 250);
      assert.strictEqual(out.body.format, 'json');
      assert.strictEqual(out.body.value.id, 7);
      assert.ok(!JSON.stringify(out.body).includes('s3cret-key'));
      assert.ok(!JSON.stringify(out.headers).includes('s3cret-key'));
    });

    it('ended: failed keeps its code as the last error, no retry is due; cancelled keeps the last error', function () {
      const state = newDeliveryState('k', 3, T0);
      state.nextAttemptAt = T0 + 5000;
      state.attempts = 2;
      const last = { statusCode: 500, headers: { 'content-type': 'text/plain' }, raw: Buffer.from('boom s3cret-key') };
      const out = e.ended(
        { state, last, redactor: redactor(), method: 'POST', url: 'https://x/c' },
        () => T0 + 90,
        'failed',
        'HTTP_500',
        'The server answered 500 (2 attempts)',
        'why s3cret-key',
      );
      assert.strictEqual(out.ok, false);
      assert.strictEqual(state.phase, 'failed');
      assert.strictEqual(state.nextAttemptAt, null);
      assert.strictEqual(state.finishedAt, T0 + 90);
      assert.strictEqual(state.lastErrorCode, 'HTTP_500');
      assert.strictEqual(out.durationMs, 90);
      assert.ok(out.error instanceof IntegrationError);
      assert.strictEqual(out.error.code, 'HTTP_500');
      assert.strictEqual(out.error.details[0].attempts, 2);
      assert.strictEqual(out.error.details[0].method, 'POST');
      assert.ok(!out.error.details[0].reason.includes('s3cret-key'));
      assert.ok(!out.raw.toString().includes('s3cret-key'), 'the body is handed on, redacted');
      assert.strictEqual(out.retryAt, undefined);

      const s2 = newDeliveryState('k', 3, T0);
      s2.lastErrorCode = 'TIMEOUT';
      const c = e.ended({ state: s2, redactor: redactor() }, () => T0 + 1, 'cancelled', 'CANCELLED', 'stop', 'stop');
      assert.strictEqual(s2.phase, 'cancelled');
      assert.strictEqual(s2.lastErrorCode, 'TIMEOUT');
      assert.strictEqual(c.error.code, 'CANCELLED');
    });

    it('retryDue: waiting, the retry time from the state (or now), no body handed on', function () {
      const state = newDeliveryState('k', 3, T0);
      state.nextAttemptAt = T0 + 4000;
      const last = { statusCode: 503, headers: {}, raw: Buffer.from('busy') };
      const out = e.retryDue({ state, last, redactor: redactor() }, () => T0 + 100, 'HTTP_503', 'm', 'r');
      assert.strictEqual(state.phase, 'waiting');
      assert.strictEqual(out.retryAt, T0 + 4000);
      assert.strictEqual(out.durationMs, 100);
      assert.strictEqual(out.raw, undefined);
      assert.strictEqual(state.finishedAt, null);
      const s2 = newDeliveryState('k', 3, T0);
      assert.strictEqual(e.retryDue({ state: s2, redactor: redactor() }, () => T0 + 7, 'X', 'm', 'r').retryAt, T0 + 7);
    });
  });

  describe('texts', function () {
    it('plural and attemptOf', function () {
      assert.strictEqual(e.plural(1, 'attempt'), '1 attempt');
      assert.strictEqual(e.plural(3, 'attempt'), '3 attempts');
      assert.strictEqual(e.attemptOf(2, 5), '(attempt 2 of 5)');
    });

    it('cancelledText: the caller’s own, else where the delivery stood', function () {
      assert.strictEqual(
        e.cancelledText('waiting', undefined),
        'the delivery was cancelled while waiting to be retried',
      );
      assert.strictEqual(
        e.cancelledText('sending', undefined),
        'the delivery was cancelled while the request was in flight',
      );
      assert.strictEqual(e.cancelledText('sending', 'queue closed'), 'queue closed');
    });

    it('firstReason: the first field of settings that do not work, else the message', function () {
      const bad = new IntegrationError('INVALID_CONFIG', 'The endpoint settings do not work: …', [
        { field: 'apiKey', reason: 'environment variable X is not set' },
        { field: 'timeout', reason: 'nope' },
      ]);
      assert.strictEqual(e.firstReason(bad), 'apiKey: environment variable X is not set');
      assert.strictEqual(
        e.firstReason(new IntegrationError('INVALID_CONFIG', 'm', [{ reason: 'no field' }])),
        'no field',
      );
      assert.strictEqual(e.firstReason(new Error('token server down')), 'token server down');
      assert.strictEqual(e.firstReason(new Error('')), 'the endpoint could not prepare the request');
    });

    it('prepareFailureReason: the message, with the error’s own code unless PREPARE_FAILED', function () {
      const err = Object.assign(new Error('no token'), { code: 'TOKEN_FAILED' });
      assert.strictEqual(
        e.prepareFailureReason(err),
        'the endpoint could not prepare the request: no token (TOKEN_FAILED)',
      );
      const plain = Object.assign(new Error('x'), { code: 'PREPARE_FAILED' });
      assert.strictEqual(e.prepareFailureReason(plain), 'the endpoint could not prepare the request: x');
    });

    it('no answer, too large, answered', function () {
      assert.strictEqual(e.noAnswerText('TIMEOUT', 2000), 'No answer within 2000 ms');
      assert.strictEqual(e.noAnswerText('ECONNRESET', 2000), 'The request failed with ECONNRESET');
      assert.strictEqual(e.noAnswerReason('TIMEOUT', 2000, new Error('x')), 'no answer within 2000 ms');
      assert.strictEqual(e.noAnswerReason('ECONNRESET', 2000, new Error('socket hang up')), 'socket hang up');
      assert.strictEqual(
        e.tooLargeText(200, 1024),
        "The answer (HTTP 200) is larger than the endpoint's limit of 1024 bytes; it was not read",
      );
      assert.strictEqual(e.answeredText(503, ' Service Unavailable'), 'The server answered 503 Service Unavailable');
    });

    it('notRetriedReason: no attempts left, a redirect (with or without where to), a status not retried', function () {
      assert.strictEqual(
        e.notRetriedReason(503, ' Busy', true, undefined),
        'the server answered 503 Busy; no attempts left',
      );
      assert.strictEqual(
        e.notRetriedReason(302, ' Found', false, 'https://x/next'),
        'the server redirected to https://x/next; redirects are not followed',
      );
      assert.strictEqual(
        e.notRetriedReason(301, '', false, undefined),
        'the server redirected; redirects are not followed',
      );
      assert.strictEqual(
        e.notRetriedReason(404, ' Not Found', false, undefined),
        'the server answered 404 Not Found, which is not retried',
      );
    });
  });
});
