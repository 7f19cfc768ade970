'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const { PassThrough } = require('node:stream');
const { Webhook } = require('standardwebhooks');

const { compileFilter, splitFilter, patternToRegExp } = require('../../dist/nodes/lib/patterns');
const { DedupeCache } = require('../../dist/nodes/lib/dedupe');
const sig = require('../../dist/nodes/lib/webhook-signature');
// the event module and the trigger modules split out of it
const ev = {
  ...require('../../dist/nodes/lib/event'),
  ...require('../../dist/nodes/lib/trigger/intake'),
  ...require('../../dist/nodes/lib/trigger/durable-reply'),
  ...require('../../dist/nodes/lib/trigger/body'),
  ...require('../../dist/nodes/lib/trigger/json'),
  ...require('../../dist/nodes/lib/trigger/reply'),
};

function newSecret() {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

describe('event trigger lib', function () {
  describe('patterns', function () {
    it('splits on commas and new lines, trimming blanks', function () {
      assert.deepStrictEqual(splitFilter(' a.b, c.*\n\n d ,'), ['a.b', 'c.*', 'd']);
      assert.deepStrictEqual(splitFilter(''), []);
      assert.deepStrictEqual(splitFilter(undefined), []);
    });

    it('an empty filter matches every type', function () {
      const f = compileFilter('  ');
      assert.strictEqual(f.matches('anything.at.all'), true);
    });

    it('matches exact types only exactly (case-sensitive)', function () {
      const f = compileFilter('listing.created');
      assert.strictEqual(f.matches('listing.created'), true);
      assert.strictEqual(f.matches('listing.updated'), false);
      assert.strictEqual(f.matches('Listing.created'), false);
      assert.strictEqual(f.matches('listing.created.extra'), false);
    });

    it('* matches one or more characters, dots included', function () {
      const f = compileFilter('payment.*');
      assert.strictEqual(f.matches('payment.completed'), true);
      assert.strictEqual(f.matches('payment.refund.created'), true);
      assert.strictEqual(f.matches('payment.'), false);
      assert.strictEqual(f.matches('payment'), false);
      assert.strictEqual(f.matches('paymentXcompleted'), false, 'the dot is literal');
      assert.strictEqual(f.matches('listing.created'), false);
    });

    it('* works at the start and in the middle', function () {
      const f = compileFilter('*.created\norder.*.paid');
      assert.strictEqual(f.matches('listing.created'), true);
      assert.strictEqual(f.matches('a.b.created'), true);
      assert.strictEqual(f.matches('order.eu.paid'), true);
      assert.strictEqual(f.matches('order.paid'), false);
      assert.strictEqual(f.matches('listing.updated'), false);
      assert.strictEqual(patternToRegExp('a**b').source, '^a.+b$');
    });

    it('several patterns: any match lets the type through', function () {
      const f = compileFilter('listing.created, listing.*, payment.*');
      assert.deepStrictEqual(f.patterns, ['listing.created', 'listing.*', 'payment.*']);
      assert.strictEqual(f.matches('listing.deleted'), true);
      assert.strictEqual(f.matches('payment.failed'), true);
      assert.strictEqual(f.matches('user.created'), false);
    });

    it('invalid entries never match, and a filter of only invalid entries matches nothing', function () {
      const f = compileFilter('bad entry, ok.type');
      assert.deepStrictEqual(f.invalid, ['bad entry']);
      assert.strictEqual(f.matches('ok.type'), true);
      assert.strictEqual(f.matches('bad entry'), false);
      const g = compileFilter('a;b');
      assert.deepStrictEqual(g.patterns, []);
      assert.strictEqual(g.matches('a'), false);
      assert.strictEqual(g.matches('anything'), false);
    });
  });

  describe('dedupe', function () {
    it('reports a repeated id within the window and forgets it after the window', function () {
      let now = 1000;
      const d = new DedupeCache({ windowMs: 1000, now: () => now });
      assert.strictEqual(d.check('a'), false);
      now += 999;
      assert.strictEqual(d.check('a'), true);
      now += 1; // 1000 ms after first sight
      assert.strictEqual(d.check('a'), false, 'expired, so seen afresh');
      assert.strictEqual(d.check('a'), true);
    });

    it('a duplicate does not extend the window', function () {
      let now = 0;
      const d = new DedupeCache({ windowMs: 1000, now: () => now });
      d.check('x');
      now = 900;
      assert.strictEqual(d.check('x'), true);
      now = 1000;
      assert.strictEqual(d.check('x'), false);
    });

    it('expires old ids by time so memory shrinks', function () {
      let now = 0;
      const d = new DedupeCache({ windowMs: 1000, now: () => now });
      for (let i = 0; i < 50; i++) d.check('id' + i);
      assert.strictEqual(d.size, 50);
      now = 5000;
      assert.strictEqual(d.size, 0);
    });

    it('keeps at most maxEntries ids, evicting the oldest', function () {
      let now = 0;
      const d = new DedupeCache({ windowMs: 60000, maxEntries: 3, now: () => now++ });
      ['a', 'b', 'c', 'd'].forEach((id) => d.check(id));
      assert.strictEqual(d.size, 3);
      assert.strictEqual(d.has('a'), false);
      assert.strictEqual(d.has('d'), true);
      assert.strictEqual(d.check('a'), false, 'evicted id counts as new');
    });

    it('defaults to 10000 ids', function () {
      const d = new DedupeCache({ windowMs: 60000 });
      for (let i = 0; i < 10005; i++) d.check('id' + i);
      assert.strictEqual(d.size, 10000);
      assert.strictEqual(d.has('id0'), false);
      assert.strictEqual(d.has('id10004'), true);
    });

    it('window 0 turns it off', function () {
      const d = new DedupeCache({ windowMs: 0 });
      assert.strictEqual(d.enabled, false);
      assert.strictEqual(d.check('a'), false);
      assert.strictEqual(d.check('a'), false);
    });
  });

  describe('webhook signature', function () {
    const body = '{"type":"payment.completed","data":{"amount":12.5}}';

    it('accepts signatures made by the standardwebhooks package', function () {
      const secret = newSecret();
      const date = new Date();
      const signature = new Webhook(secret).sign('msg_1', date, body);
      const headers = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
        'webhook-signature': signature,
      };
      assert.deepStrictEqual(sig.verifyWebhook(sig.decodeWebhookSecret(secret), headers, Buffer.from(body)), { ok: true });
    });

    it('produces the same signature as the standardwebhooks package', function () {
      const secret = newSecret();
      const date = new Date(1700000000000);
      const theirs = new Webhook(secret).sign('msg_2', date, body);
      assert.strictEqual(sig.signWebhook(sig.decodeWebhookSecret(secret), 'msg_2', 1700000000, body), theirs);
    });

    it('any matching entry in a space-separated list accepts', function () {
      const secret = newSecret();
      const key = sig.decodeWebhookSecret(secret);
      const now = 1700000000;
      const good = sig.signWebhook(key, 'm', now, body);
      const headers = { 'webhook-id': 'm', 'webhook-timestamp': String(now), 'webhook-signature': `v1,AAAA v2,xyz ${good}` };
      assert.strictEqual(sig.verifyWebhook(key, headers, body, { nowSeconds: now }).ok, true);
      headers['webhook-signature'] = 'v1,AAAA v1a,' + good.slice(3);
      assert.strictEqual(sig.verifyWebhook(key, headers, body, { nowSeconds: now }).ok, false);
    });

    it('refuses a wrong secret, a tampered body and a changed id', function () {
      const secret = newSecret();
      const date = new Date();
      const ts = String(Math.floor(date.getTime() / 1000));
      const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': ts, 'webhook-signature': new Webhook(secret).sign('msg_1', date, body) };
      const key = sig.decodeWebhookSecret(secret);
      assert.strictEqual(sig.verifyWebhook(sig.decodeWebhookSecret(newSecret()), headers, body).ok, false);
      assert.strictEqual(sig.verifyWebhook(key, headers, body.replace('12.5', '125')).ok, false);
      assert.strictEqual(sig.verifyWebhook(key, headers, body + ' ').ok, false, 'exact bytes, whitespace counts');
      assert.strictEqual(sig.verifyWebhook(key, { ...headers, 'webhook-id': 'msg_2' }, body).ok, false);
    });

    it('refuses timestamps more than 5 minutes away either way', function () {
      const secret = newSecret();
      const key = sig.decodeWebhookSecret(secret);
      const now = 1700000000;
      const at = (ts) => ({ 'webhook-id': 'm', 'webhook-timestamp': String(ts), 'webhook-signature': sig.signWebhook(key, 'm', ts, body) });
      assert.strictEqual(sig.verifyWebhook(key, at(now - 300), body, { nowSeconds: now }).ok, true);
      assert.strictEqual(sig.verifyWebhook(key, at(now + 300), body, { nowSeconds: now }).ok, true);
      const old = sig.verifyWebhook(key, at(now - 301), body, { nowSeconds: now });
      assert.deepStrictEqual(old, { ok: false, reason: 'webhook-timestamp is too old' });
      assert.strictEqual(sig.verifyWebhook(key, at(now + 301), body, { nowSeconds: now }).ok, false);
    });

    it('names missing headers and refuses a timestamp that is not seconds', function () {
      const key = sig.decodeWebhookSecret(newSecret());
      const r = sig.checkWebhookHeaders({ 'webhook-id': 'm' });
      assert.strictEqual(r.ok, false);
      assert.match(r.reason, /webhook-timestamp, webhook-signature/);
      const bad = sig.verifyWebhook(key, { 'webhook-id': 'm', 'webhook-timestamp': '2024-01-01', 'webhook-signature': 'v1,x' }, body);
      assert.strictEqual(bad.ok, false);
    });

    it('decodes whsec_ secrets and refuses bad ones without echoing them', function () {
      const raw = crypto.randomBytes(24);
      assert.ok(sig.decodeWebhookSecret('whsec_' + raw.toString('base64')).equals(raw));
      assert.ok(sig.decodeWebhookSecret(raw.toString('base64')).equals(raw));
      for (const bad of ['', 'whsec_', 'whsec_not base64!']) {
        assert.throws(() => sig.decodeWebhookSecret(bad), (err) => err.code === 'INVALID_SECRET' && !err.message.includes('not base64!'));
      }
    });

    it('compares shared secrets exactly', function () {
      assert.strictEqual(sig.safeEqualSecret('s3cret', 's3cret'), true);
      assert.strictEqual(sig.safeEqualSecret('s3cre', 's3cret'), false);
      assert.strictEqual(sig.safeEqualSecret('s3cret ', 's3cret'), false);
      assert.strictEqual(sig.safeEqualSecret(undefined, 's3cret'), false);
      assert.strictEqual(sig.safeEqualSecret('', ''), false, 'an empty configured secret never matches');
    });
  });

  describe('event validation', function () {
    const now = new Date('2024-05-01T12:00:00.000Z');

    it('fills in id, occurredAt, source and data', function () {
      const r = ev.validateEvent({ type: 'listing.created' }, { source: 'wire', now, newId: () => 'fresh' });
      assert.strictEqual(r.ok, true);
      assert.deepStrictEqual(r.event, {
        id: 'fresh',
        type: 'listing.created',
        occurredAt: '2024-05-01T12:00:00.000Z',
        source: 'wire',
        receivedAt: '2024-05-01T12:00:00.000Z',
      });
      assert.deepStrictEqual(r.data, {});
    });

    it('generates a UUID by default, or uses the fallback id', function () {
      const r = ev.validateEvent({ type: 't' }, { source: 'http' });
      assert.match(r.event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.strictEqual(ev.validateEvent({ type: 't' }, { source: 'http', fallbackId: 'msg_9' }).event.id, 'msg_9');
      assert.strictEqual(ev.validateEvent({ type: 't', id: 'own' }, { source: 'http', fallbackId: 'msg_9' }).event.id, 'own');
    });

    it('keeps the given fields, normalising id and occurredAt', function () {
      const r = ev.validateEvent(
        { id: 42, type: 'payment.completed', occurredAt: '2024-04-30T10:00:00+02:00', source: 'billing', data: [1, 2] },
        { source: 'http', now },
      );
      assert.strictEqual(r.ok, true);
      assert.strictEqual(r.event.id, '42');
      assert.strictEqual(r.event.occurredAt, '2024-04-30T08:00:00.000Z');
      assert.strictEqual(r.event.source, 'billing');
      assert.deepStrictEqual(r.data, [1, 2]);
      assert.strictEqual(ev.validateEvent({ type: 't', data: null }, { source: 'wire' }).data, null);
    });

    it('reads times: ISO with or without offset, date only, epoch seconds and milliseconds', function () {
      assert.strictEqual(ev.normaliseTime('2024-01-02T03:04:05Z'), '2024-01-02T03:04:05.000Z');
      assert.strictEqual(ev.normaliseTime('2024-01-02T03:04:05.123456+0100'), '2024-01-02T02:04:05.123Z');
      assert.strictEqual(ev.normaliseTime('2024-01-02T03:04'), '2024-01-02T03:04:00.000Z');
      assert.strictEqual(ev.normaliseTime('2024-01-02'), '2024-01-02T00:00:00.000Z');
      assert.strictEqual(ev.normaliseTime(1700000000), '2023-11-14T22:13:20.000Z');
      assert.strictEqual(ev.normaliseTime(1700000000123), '2023-11-14T22:13:20.123Z');
      for (const bad of ['yesterday', '2024-13-45T00:00:00Z', '1700000000', -1, NaN, Infinity, true]) {
        assert.strictEqual(ev.normaliseTime(bad), undefined, String(bad));
      }
    });

    it('refuses a payload that is not an object', function () {
      for (const p of [null, 'text', 3, [1], undefined]) {
        const r = ev.validateEvent(p, { source: 'wire' });
        assert.strictEqual(r.ok, false);
        assert.strictEqual(r.error.code, 'INVALID_EVENT');
        assert.strictEqual(r.error.details[0].field, 'event');
      }
    });

    it('reports every problem at once', function () {
      const r = ev.validateEvent({ id: '', occurredAt: 'soon', source: 5, data: 1 }, { source: 'wire' });
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.error.code, 'INVALID_EVENT');
      assert.deepStrictEqual(r.error.details.map((d) => d.field), ['type', 'id', 'occurredAt', 'source']);
      assert.match(r.error.message, /4 problems/);
    });

    it('checks type, id and source shapes', function () {
      const bad = (p) => ev.validateEvent(p, { source: 'wire' }).error.details.map((d) => `${d.field}: ${d.reason}`);
      assert.deepStrictEqual(bad({ type: '' }), ['type: must not be empty']);
      assert.match(bad({ type: 7 })[0], /type: must be a string/);
      assert.match(bad({ type: 'has space' })[0], /type: may only contain/);
      assert.match(bad({ type: 'x'.repeat(201) })[0], /at most 200/);
      assert.match(bad({ type: 't', id: 'i'.repeat(201) })[0], /id: must be at most 200/);
      assert.match(bad({ type: 't', id: {} })[0], /id: must be a string or a number/);
      assert.match(bad({ type: 't', id: Infinity })[0], /id: must be a finite number/);
      assert.match(bad({ type: 't', occurredAt: {} })[0], /occurredAt: must be an ISO-8601/);
      assert.ok(ev.validateEvent({ type: 'a_b.c:d-e', id: 'i'.repeat(200) }, { source: 'wire' }).ok);
    });
  });

  describe('intake (validate → filter → dedupe)', function () {
    it('accepts, ignores, drops duplicates and rejects', function () {
      let now = 0;
      const intake = new ev.EventIntake({ filter: 'payment.*', dedupeWindowSeconds: 1, now: () => now });
      assert.strictEqual(intake.process({ id: 'a', type: 'payment.completed' }, { source: 'wire' }).status, 'accepted');
      assert.strictEqual(intake.process({ id: 'a', type: 'payment.completed' }, { source: 'wire' }).status, 'duplicate');
      assert.strictEqual(intake.process({ id: 'b', type: 'listing.created' }, { source: 'wire' }).status, 'ignored');
      assert.strictEqual(intake.process({ id: 'b', type: 'payment.failed' }, { source: 'wire' }).status, 'accepted', 'ignored ids are not remembered');
      assert.strictEqual(intake.process({ id: 'c' }, { source: 'wire' }).status, 'rejected');
      now = 1000;
      assert.strictEqual(intake.process({ id: 'a', type: 'payment.completed' }, { source: 'wire' }).status, 'accepted', 'window passed');
    });

    it('uses the injected clock for receivedAt', function () {
      const intake = new ev.EventIntake({ now: () => Date.UTC(2024, 0, 1) });
      const out = intake.process({ type: 't' }, { source: 'wire' });
      assert.strictEqual(out.event.receivedAt, '2024-01-01T00:00:00.000Z');
    });
  });

  describe('durable replies', function () {
    it('reply mode: absent means immediate (older flows), anything but "immediate" means durable', function () {
      assert.strictEqual(ev.replyModeOf(undefined), 'immediate');
      assert.strictEqual(ev.replyModeOf(null), 'immediate');
      assert.strictEqual(ev.replyModeOf(''), 'immediate');
      assert.strictEqual(ev.replyModeOf('immediate'), 'immediate');
      assert.strictEqual(ev.replyModeOf('durable'), 'durable');
      assert.strictEqual(ev.replyModeOf('something else'), 'durable', 'an unknown value takes the safe mode');
    });

    it('ack timeout: seconds above 0, fractions allowed, at most an hour, else 10', function () {
      assert.strictEqual(ev.ackTimeoutOf(undefined), 10);
      assert.strictEqual(ev.ackTimeoutOf(0.2), 0.2);
      assert.strictEqual(ev.ackTimeoutOf('0.2'), 0.2);
      assert.strictEqual(ev.ackTimeoutOf('30'), 30);
      assert.strictEqual(ev.ackTimeoutOf(3600), 3600);
      for (const bad of [0, -1, 3601, 'x', '', NaN, Infinity, null]) assert.strictEqual(ev.ackTimeoutOf(bad), 10, String(bad));
    });

    it('settled ok → 202 accepted', function () {
      assert.deepStrictEqual(ev.durableReply('e1', { ok: true }, { timeoutSeconds: 10 }), {
        status: 202, outcome: 'accepted', body: { id: 'e1', status: 'accepted' },
      });
    });

    it('settled 422 → 422 rejected with the error the node reported', function () {
      const error = { code: 'MAPPING_INVALID', message: 'email is required', details: [{ field: 'email', reason: 'is required' }] };
      const r = ev.durableReply('e1', { ok: false, status: 422, error }, { timeoutSeconds: 10 });
      assert.deepStrictEqual(r, { status: 422, outcome: 'refused', body: { id: 'e1', status: 'rejected', error } });
      const bare = ev.durableReply('e1', { ok: false, status: 422 }, { timeoutSeconds: 10 });
      assert.strictEqual(bare.body.error.code, 'REJECTED');
    });

    it('settled 503 → 503 busy with Retry-After (its own, rounded up, else 5)', function () {
      const error = { code: 'QUEUE_FULL', message: 'the queue is full', details: [] };
      const r = ev.durableReply('e1', { ok: false, status: 503, retryAfterSeconds: 2.5, error }, { timeoutSeconds: 10 });
      assert.deepStrictEqual(r, { status: 503, retryAfter: 3, outcome: 'busy', body: { id: 'e1', status: 'busy', error } });
      assert.strictEqual(ev.durableReply('e1', { ok: false, status: 503 }, { timeoutSeconds: 10 }).retryAfter, 5);
      assert.strictEqual(ev.durableReply('e1', { ok: false, status: 503, retryAfterSeconds: -1 }, { timeoutSeconds: 10 }).retryAfter, 5);
    });

    it('other statuses pass through; a missing or impossible one is 500', function () {
      const r429 = ev.durableReply('e1', { ok: false, status: 429, retryAfterSeconds: 7 }, { timeoutSeconds: 10 });
      assert.strictEqual(r429.status, 429);
      assert.strictEqual(r429.retryAfter, 7);
      assert.strictEqual(r429.body.status, 'rejected');
      assert.strictEqual(r429.outcome, 'failed');
      const r500 = ev.durableReply('e1', { ok: false, status: 502 }, { timeoutSeconds: 10 });
      assert.deepStrictEqual([r500.status, r500.body.status, r500.retryAfter], [502, 'failed', undefined]);
      for (const status of [undefined, 200, 302, 600, 422.5, '422']) {
        assert.strictEqual(ev.durableReply('e1', { ok: false, status }, { timeoutSeconds: 10 }).status, 500, String(status));
      }
    });

    it('nothing settled → 503 pending ACK_TIMEOUT with Retry-After 5; closing → 503 SHUTTING_DOWN', function () {
      const t = ev.durableReply('e1', undefined, { timeoutSeconds: 0.2 });
      assert.strictEqual(t.status, 503);
      assert.strictEqual(t.retryAfter, 5);
      assert.strictEqual(t.outcome, 'unconfirmed');
      assert.deepStrictEqual(t.body, {
        id: 'e1', status: 'pending',
        error: { code: 'ACK_TIMEOUT', message: 'the event was not confirmed durable within 0.2 s', details: [] },
      });
      const c = ev.durableReply('e1', { ok: true }, { timeoutSeconds: 10, closing: true });
      assert.strictEqual(c.status, 503);
      assert.strictEqual(c.retryAfter, 5);
      assert.strictEqual(c.body.error.code, 'SHUTTING_DOWN');
    });

    it('intake with record: false looks an id up without remembering it until remember()', function () {
      const intake = new ev.EventIntake({ dedupeWindowSeconds: 60 });
      const e = { id: 'a', type: 't' };
      assert.strictEqual(intake.process(e, { source: 'http', record: false }).status, 'accepted');
      assert.strictEqual(intake.process(e, { source: 'http', record: false }).status, 'accepted', 'not remembered yet');
      intake.remember('a');
      assert.strictEqual(intake.process(e, { source: 'http', record: false }).status, 'duplicate');
      assert.strictEqual(intake.process(e, { source: 'http' }).status, 'duplicate');
    });
  });

  describe('HTTP pieces', function () {
    it('accepts JSON-ish content types only', function () {
      for (const ok of [undefined, '', 'application/json', 'Application/JSON; charset=utf-8', 'application/cloudevents+json', 'text/plain', 'text/json']) {
        assert.strictEqual(ev.isAcceptableContentType(ok), true, String(ok));
      }
      for (const bad of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/html', 'application/jsonp']) {
        assert.strictEqual(ev.isAcceptableContentType(bad), false, bad);
      }
    });

    it('parses JSON, with a BOM, and explains failures', function () {
      assert.deepStrictEqual(ev.parseJsonBody(Buffer.from('\uFEFF{"a":1}')), { a: 1 });
      assert.throws(() => ev.parseJsonBody('{"a":'), (e) => e.code === 'INVALID_JSON' && e.details[0].field === 'body');
      assert.throws(() => ev.parseJsonBody('  '), (e) => e.code === 'INVALID_JSON' && /empty/.test(e.message));
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
      await assert.rejects(ev.readBody(s, 10), (e) => e.code === 'PAYLOAD_TOO_LARGE' && /Content-Length 11/.test(e.details[0].reason));
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
});
