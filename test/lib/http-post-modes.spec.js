'use strict';
/**
 * The HTTP POST node's two modes, as pure steps: the dead-letter commands
 * (lib/http-post/commands.ts), the durable intake (lib/http-post/durable-intake.ts)
 * and the bounded in-memory delivery (lib/http-post/memory-delivery.ts).
 */
const assert = require('node:assert');
const path = require('node:path');
const http = require('node:http');
const commands = require('../../dist/nodes/lib/http-post/commands.js');
const intake = require('../../dist/nodes/lib/http-post/durable-intake.js');
const memory = require('../../dist/nodes/lib/http-post/memory-delivery.js');
const { newDeliveryState } = require('../../dist/nodes/lib/http/deliver.js');
const { IntegrationError } = require('../../dist/nodes/lib/errors.js');

const SETTINGS = {
  maxAttempts: 3,
  initialDelay: 10,
  maxDelay: 20,
  maxRetryAfter: 1,
  idempotencyHeader: 'Idempotency-Key',
};

/** an endpoint double that answers with `statuses` in turn (no pacer: sends at once) */
function endpointAnswering(statuses) {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    const status = statuses[Math.min(seen.length - 1, statuses.length - 1)];
    // a 503 asks for a wait (capped by maxRetryAfter), so that no backoff jitter decides the test
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '5' } : {}) });
    res.end(JSON.stringify({ n: seen.length }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        seen,
        close: () => new Promise((r) => server.close(r)),
        endpoint: {
          label: base,
          defaultMethod: 'POST',
          register() {},
          deregister() {},
          async prepare(intent) {
            return {
              method: intent.method || 'POST',
              url: base + intent.path,
              headers: intent.headers,
              timeoutMs: 2000,
            };
          },
        },
      });
    }),
  );
}

describe('http post modes (lib/http-post: commands, durable intake, in-memory delivery)', function () {
  describe('dead-letter commands', function () {
    it('recognises list, replay and purge only', function () {
      assert.deepStrictEqual(
        ['list', 'replay', 'purge', 'LIST', 'delete', undefined, 1].map((command) => commands.isCommand({ command })),
        [true, true, true, false, false, false, false],
      );
    });
    it('list: limit (at most 10000) and offset, defaults for anything else', function () {
      assert.deepStrictEqual(commands.readCommand({ command: 'list' }), { name: 'list', limit: 100, offset: 0 });
      assert.deepStrictEqual(commands.readCommand({ command: 'list', limit: '20', offset: 5 }), {
        name: 'list',
        limit: 20,
        offset: 5,
      });
      assert.deepStrictEqual(commands.readCommand({ command: 'list', limit: 1e9, offset: -3 }), {
        name: 'list',
        limit: 10000,
        offset: 0,
      });
    });
    it('replay / purge: absent ids is all, one id, a list; anything else is refused, never "all"', function () {
      assert.deepStrictEqual(commands.readCommand({ command: 'replay' }), { name: 'replay', ids: 'all' });
      assert.deepStrictEqual(commands.readCommand({ command: 'purge', ids: 7 }), { name: 'purge', ids: ['7'] });
      assert.deepStrictEqual(commands.readCommand({ command: 'purge', ids: ['a', 2] }), {
        name: 'purge',
        ids: ['a', '2'],
      });
      for (const ids of [{}, [{}], true, ['a', null]]) {
        const r = commands.readCommand({ command: 'purge', ids });
        assert.strictEqual(r.error.code, 'INVALID_COMMAND', JSON.stringify(ids));
      }
    });
    it('runs against the store and reports counts', async function () {
      const calls = [];
      const store = {
        listDeadLetters: async (o) => (calls.push(['list', o]), { items: [] }),
        replay: async (ids) => (calls.push(['replay', ids]), { requeued: [1, 2], duplicate: [3], full: [] }),
        purge: async (ids) => (calls.push(['purge', ids]), 4),
      };
      assert.deepStrictEqual(await commands.runCommand(store, { name: 'list', limit: 3, offset: 1 }), {
        name: 'list',
        payload: { items: [] },
      });
      assert.deepStrictEqual(await commands.runCommand(store, { name: 'replay', ids: 'all' }), {
        name: 'replay',
        requeued: 2,
        duplicate: 1,
        full: 0,
      });
      assert.deepStrictEqual(await commands.runCommand(store, { name: 'purge', ids: ['x'] }), {
        name: 'purge',
        purged: 4,
      });
      assert.deepStrictEqual(calls, [
        ['list', { limit: 3, offset: 1 }],
        ['replay', 'all'],
        ['purge', ['x']],
      ]);
      assert.strictEqual(commands.notDurable('replay').code, 'NOT_DURABLE');
    });
  });

  describe('durable intake', function () {
    const request = { method: undefined, path: '/x', headers: { a: '1' }, body: Buffer.from('b') };
    it('queued, duplicate: safe; full: refused with the queue error; a bad argument: invalid; a failing disk: refused', async function () {
      const seen = [];
      const q = (result) => ({
        enqueue: async (input) => (seen.push(input), typeof result === 'function' ? result() : result),
      });
      const msg = { payload: 'b', req: { r: 1 }, res: { s: 1 }, _msgid: 'm1', other: 1 };
      assert.deepStrictEqual(await intake.enqueueMessage(q({ status: 'accepted' }), msg, request, 'k1', 'g'), {
        kind: 'queued',
      });
      assert.deepStrictEqual(seen[0], {
        id: 'k1',
        orderingKey: 'g',
        method: null,
        path: '/x',
        headers: { a: '1' },
        body: request.body,
        msg,
        live: { req: { r: 1 }, res: { s: 1 }, _msgid: 'm1' },
      });
      assert.deepStrictEqual(await intake.enqueueMessage(q({ status: 'duplicate' }), msg, request, 'k1'), {
        kind: 'queued',
      });
      const full = new IntegrationError('OUTBOX_FULL', 'full');
      assert.deepStrictEqual(await intake.enqueueMessage(q({ status: 'full', error: full }), msg, request, 'k1'), {
        kind: 'refused',
        error: full,
      });
      const bad = Object.assign(new IntegrationError('OUTBOX_BAD_ARGUMENT', 'bad id'), {});
      const r1 = await intake.enqueueMessage(
        q(() => Promise.reject(bad)),
        msg,
        request,
        'k1',
      );
      assert.deepStrictEqual(r1, { kind: 'invalid', error: bad });
      const r2 = await intake.enqueueMessage(
        q(() => Promise.reject(new Error('ENOSPC: no space'))),
        msg,
        request,
        'k1',
      );
      assert.strictEqual(r2.kind, 'refused');
      assert.strictEqual(r2.error.code, 'OUTBOX_UNAVAILABLE');
      assert.match(r2.error.details[0].reason, /ENOSPC/);
    });
    it('queue directory: sayproOutboxDir, else the user directory, else the temporary one (said so)', function () {
      assert.deepStrictEqual(intake.queueDir({ sayproOutboxDir: '/q', userDir: '/u' }, 'ab.c', '/tmp'), {
        dir: path.join('/q', 'ab.c'),
        temporary: false,
      });
      assert.deepStrictEqual(intake.queueDir({ userDir: '/u' }, 'a/b:c', '/tmp'), {
        dir: path.join('/u', 'saypro-outbox', 'a_b_c'),
        temporary: false,
      });
      assert.deepStrictEqual(intake.queueDir({ sayproOutboxDir: ' ' }, 'n', '/tmp'), {
        dir: path.join('/tmp', 'saypro-outbox', 'n'),
        temporary: true,
      });
    });
    it('limits from the settings, the admin state, a refusal for a waiting trigger', function () {
      const limits = intake.queueLimits({
        maxQueued: 10,
        maxQueuedMB: 0.5,
        fullPolicy: 'refuse',
        maxDeadLetters: 0,
        keyLifetimeMs: 0,
        outboxKey: undefined,
        writeBehindMs: 250,
      });
      assert.deepStrictEqual(limits, {
        maxItems: 10,
        maxBytes: 524288,
        fullPolicy: 'refuse',
        maxDeadLetters: 0,
        keyLifetimeMs: 0,
        encryptionKey: undefined,
        writeBehindMs: 250,
      });
      assert.strictEqual(intake.queueLimits({ ...limits, maxQueued: 1, maxQueuedMB: 1e-9 }).maxBytes, 1);
      assert.deepStrictEqual(
        [
          [false, false, 'opening', false],
          [true, true, 'opening', false],
          [true, false, 'opening', false],
          [true, false, 'opening', true],
          [true, false, 'locked', false],
        ].map((a) => intake.adminState(...a)),
        ['memory', 'open', 'opening', 'unavailable', 'unavailable'],
      );
      const e = new IntegrationError('OUTBOX_FULL', 'full');
      assert.deepStrictEqual(intake.refusal(e, 'n1'), {
        ok: false,
        status: 503,
        retryAfterSeconds: 30,
        error: { code: 'OUTBOX_FULL', message: 'full', details: [] },
        by: 'n1',
      });
    });
    it('an opening that failed: locked by another process, or unavailable; lost records counted', function () {
      const locked = intake.openFailure(Object.assign(new Error('in use by pid 7'), { code: 'EOUTBOXLOCKED' }), '/q');
      assert.strictEqual(locked.state, 'locked');
      assert.strictEqual(locked.error.code, 'OUTBOX_LOCKED');
      assert.deepStrictEqual(locked.error.details, [{ field: 'outbox', reason: 'in use by pid 7', value: '/q' }]);
      assert.strictEqual(intake.openFailure(new Error('EACCES'), '/q').error.code, 'OUTBOX_UNAVAILABLE');
      assert.strictEqual(intake.lostRecords({ lostRecords: 0, missingSegments: [] }), 0);
      assert.strictEqual(intake.lostRecords({ lostRecords: 0, missingSegments: ['3'] }), 1);
      assert.strictEqual(intake.lostRecords({ lostRecords: 5, missingSegments: [] }), 5);
    });
  });

  describe('in-memory delivery', function () {
    let partner;
    afterEach(async () => partner && (await partner.close()));

    const run = (o) =>
      memory.deliverInMemory({
        request: { path: '/p', headers: {}, body: Buffer.from('{}') },
        settings: SETTINGS,
        state: newDeliveryState('k', SETTINGS.maxAttempts),
        deadlineMs: undefined,
        keyLifetimeMs: 0,
        closed: new AbortController().signal,
        ...o,
      });

    it('retries, then writes the answer onto the message', async function () {
      partner = await endpointAnswering([503, 200]);
      const phases = [];
      const out = await run({ endpoint: partner.endpoint, onPhase: (s) => phases.push(s.phase) });
      assert.strictEqual(out.ok, true);
      assert.ok(phases.includes('waiting'));
      const msg = { payload: 'sent' };
      await memory.applyOutcome(msg, out, 'k', 'label');
      assert.deepStrictEqual(
        { ...msg.delivery, durationMs: 0 },
        {
          attempts: 2,
          idempotencyKey: 'k',
          statusCode: 200,
          durationMs: 0,
          endpoint: 'label',
        },
      );
      assert.deepStrictEqual(msg.payload, { n: 2 });
    });

    it('a failure keeps the body that was sent and parses the answer into msg.responseBody', async function () {
      partner = await endpointAnswering([422]);
      const out = await run({ endpoint: partner.endpoint });
      const msg = { payload: 'sent' };
      await memory.applyOutcome(msg, out, 'k', 'label');
      assert.strictEqual(out.error.code, 'HTTP_422');
      assert.strictEqual(msg.payload, 'sent');
      assert.strictEqual(msg.statusCode, 422);
      assert.deepStrictEqual(msg.responseBody, { n: 1 });
    });

    it('the deadline stops a retry wait: DEADLINE_EXCEEDED', async function () {
      partner = await endpointAnswering([503]);
      // the partner asks for 5 s; the deadline (with room for the first request on a busy machine) ends the wait
      const settings = { ...SETTINGS, maxRetryAfter: 60 };
      const out = await run({ endpoint: partner.endpoint, settings, deadlineMs: 1500 });
      assert.strictEqual(out.error.code, 'DEADLINE_EXCEEDED');
      assert.strictEqual(partner.seen.length, 1);
    });

    it('a redeploy cancels: CANCELLED, said as such', async function () {
      partner = await endpointAnswering([503]);
      const closed = new AbortController();
      const settings = { ...SETTINGS, initialDelay: 5000, maxDelay: 5000 };
      const pending = run({
        endpoint: partner.endpoint,
        settings,
        closed: closed.signal,
        onPhase: (s) => s.phase === 'waiting' && closed.abort(),
      });
      const out = await pending;
      assert.strictEqual(out.error.code, 'CANCELLED');
      assert.match(out.error.message, /redeployed while this message was waiting/);
    });

    it('no attempt after the key lifetime: IDEMPOTENCY_WINDOW_PASSED', async function () {
      partner = await endpointAnswering([503]);
      let t = Date.now();
      const settings = { ...SETTINGS, initialDelay: 60_000, maxDelay: 60_000 };
      const out = await run({
        endpoint: partner.endpoint,
        settings,
        keyLifetimeMs: 1000,
        // the clock the window is judged by: an hour later at the first wait
        now: () => (t += 3_600_000),
      });
      assert.strictEqual(out.error.code, 'IDEMPOTENCY_WINDOW_PASSED');
      assert.strictEqual(partner.seen.length, 1);
    });

    it('a retry due after the key lifetime is not waited for: IDEMPOTENCY_WINDOW_PASSED at the first wait', async function () {
      // the partner asks to come back in 5 s; the vendor keeps keys 3 s
      partner = await endpointAnswering([503]);
      const state = newDeliveryState('k', SETTINGS.maxAttempts);
      const out = await run({
        endpoint: partner.endpoint,
        settings: { ...SETTINGS, maxRetryAfter: 3600 },
        state,
        keyLifetimeMs: 3000,
        // the window's clock stands still: only the retry's own start can close it
        now: () => state.createdAt,
      });
      assert.strictEqual(out.error.code, 'IDEMPOTENCY_WINDOW_PASSED');
      assert.strictEqual(partner.seen.length, 1);
    });

    it('notSent: msg.delivery of a message that never went out', function () {
      assert.deepStrictEqual(memory.notSent('k', 'ep'), {
        attempts: 0,
        idempotencyKey: 'k',
        statusCode: null,
        durationMs: 0,
        endpoint: 'ep',
      });
    });
  });
});
