'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const retry = require('../../dist/nodes/lib/http/retry');
const { Redactor, REDACTED } = require('../../dist/nodes/lib/http/redact');
const response = require('../../dist/nodes/lib/http/response');
const { compileTemplate, renderTemplate } = require('../../dist/nodes/lib/template');
const sig = require('../../dist/nodes/lib/webhook-signature');
const d = require('../../dist/nodes/lib/http/deliver');
const { Stop } = require('../../dist/nodes/lib/http/abort');

function newSecret() {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

const TIMING = { initialDelay: 1000, maxDelay: 30000, maxRetryAfter: 120 };

describe('http post lib', function () {
  describe('retry: backoff with full jitter', function () {
    it('the ceiling doubles from the first delay and stops at the max delay', function () {
      const o = { initialDelay: 100, maxDelay: 1000 };
      assert.deepStrictEqual(
        [1, 2, 3, 4, 5, 6, 50, 5000].map((n) => retry.backoffCeiling(n, o)),
        [100, 200, 400, 800, 1000, 1000, 1000, 1000],
      );
    });

    it('the delay is random(0, ceiling): 0 for random 0, the ceiling for random → 1, in between otherwise', function () {
      const o = { initialDelay: 100, maxDelay: 1000 };
      assert.strictEqual(
        retry.backoffDelay(3, o, () => 0),
        0,
      );
      assert.strictEqual(
        retry.backoffDelay(3, o, () => 0.999999),
        400,
      );
      assert.strictEqual(
        retry.backoffDelay(3, o, () => 0.5),
        200,
      );
      assert.strictEqual(
        retry.backoffDelay(10, o, () => 0.25),
        250,
      );
      // nonsense from the random source never leaves the bounds
      assert.strictEqual(
        retry.backoffDelay(2, o, () => NaN),
        0,
      );
      assert.strictEqual(
        retry.backoffDelay(2, o, () => 7),
        200,
      );
      for (let i = 0; i < 200; i++) {
        const n = 1 + (i % 8);
        const v = retry.backoffDelay(n, o);
        assert.ok(v >= 0 && v <= retry.backoffCeiling(n, o), `${v} out of bounds for attempt ${n}`);
      }
    });

    it('parses Retry-After as seconds or as an HTTP date', function () {
      const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
      assert.strictEqual(retry.parseRetryAfter('120', now), 120000);
      assert.strictEqual(retry.parseRetryAfter(' 0 ', now), 0);
      assert.strictEqual(retry.parseRetryAfter(['3'], now), 3000);
      assert.strictEqual(retry.parseRetryAfter('Wed, 21 Oct 2015 07:28:07 GMT', now), 7000);
      assert.strictEqual(retry.parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0, 'a past date means now');
      for (const bad of [undefined, '', 'soon', '-5', '1.5', '2015-10-21', {}]) {
        assert.strictEqual(retry.parseRetryAfter(bad, now), undefined, JSON.stringify(bad));
      }
    });

    it('Retry-After replaces the backoff, capped at maxRetryAfter seconds', function () {
      assert.deepStrictEqual(
        retry.waitBeforeRetry(1, TIMING, 5000, () => 0.9),
        { delayMs: 5000, source: 'retry-after' },
      );
      assert.deepStrictEqual(
        retry.waitBeforeRetry(1, TIMING, 600000, () => 0.9),
        { delayMs: 120000, source: 'retry-after-capped' },
      );
      assert.deepStrictEqual(
        retry.waitBeforeRetry(2, TIMING, undefined, () => 0.5),
        { delayMs: 1000, source: 'backoff' },
      );
      assert.deepStrictEqual(retry.waitBeforeRetry(1, { ...TIMING, maxRetryAfter: 0 }, 3000), {
        delayMs: 0,
        source: 'retry-after-capped',
      });
    });

    it('retries 408, 425, 429, 500, 502, 503, 504 and no other status', function () {
      const yes = [408, 425, 429, 500, 502, 503, 504];
      for (let s = 100; s < 600; s++) assert.strictEqual(retry.isRetryableStatus(s), yes.includes(s), String(s));
    });

    it('classifies network errors and timeouts', function () {
      const e = (code, message = 'x') => Object.assign(new Error(message), { code });
      for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']) {
        assert.deepStrictEqual(retry.classifyError(e(code)), { code, retryable: true });
      }
      assert.deepStrictEqual(retry.classifyError(e('ECONNABORTED', 'timeout of 50ms exceeded')), {
        code: 'TIMEOUT',
        retryable: true,
      });
      assert.deepStrictEqual(retry.classifyError(e('ERR_CANCELED', 'canceled'), true), {
        code: 'TIMEOUT',
        retryable: true,
      });
      assert.deepStrictEqual(retry.classifyError(new Error('socket hang up')), { code: 'ECONNRESET', retryable: true });
      assert.deepStrictEqual(retry.classifyError(e('ERR_BAD_REQUEST', 'x', { cause: e('ECONNRESET') })), {
        code: 'NETWORK_ERROR',
        retryable: false,
      });
      assert.deepStrictEqual(retry.classifyError(Object.assign(e('ERR_NETWORK'), { cause: e('ECONNREFUSED') })), {
        code: 'ECONNREFUSED',
        retryable: true,
      });
      assert.deepStrictEqual(retry.classifyError(e('DEPTH_ZERO_SELF_SIGNED_CERT')), {
        code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
        retryable: false,
      });
      assert.deepStrictEqual(retry.classifyError('weird'), { code: 'NETWORK_ERROR', retryable: false });
    });
  });

  describe('redact', function () {
    it('blanks user information and sensitive query parameters of a URL, keeping the rest as written', function () {
      const r = new Redactor({ sensitiveNames: ['X-Custom-Key'] });
      assert.strictEqual(
        r.url('https://bob:hunter2@api.example.com/v1/x?a=1&api_key=k%20y&x-custom-key=zz&b=two+words#frag'),
        `https://${REDACTED}@api.example.com/v1/x?a=1&api_key=${REDACTED}&x-custom-key=${REDACTED}&b=two+words#frag`,
      );
      assert.strictEqual(r.url('http://h/p'), 'http://h/p');
    });

    it('replaces every secret value wherever it appears, also URL- and form-encoded', function () {
      const r = new Redactor({ secrets: ['s3cr et/+', 'tok_abcdef', '', null, undefined] });
      const out = r.text('a s3cr et/+ b s3cr%20et%2F%2B c s3cr+et%2F%2B d tok_abcdef tok_abcdef');
      assert.strictEqual(out, `a ${REDACTED} b ${REDACTED} c ${REDACTED} d ${REDACTED} ${REDACTED}`);
      // a secret in a query parameter with an ordinary name is still caught
      assert.strictEqual(r.url('http://h/p?q=tok_abcdef'), `http://h/p?q=${REDACTED}`);
    });

    it('a whsec_ secret is also redacted as its bare base64 key; short secrets only as whole words', function () {
      const secret = newSecret();
      const r = new Redactor({ secrets: [secret, 'ab'] });
      assert.strictEqual(r.text(`key=${secret.slice(6)}`), `key=${REDACTED}`);
      assert.strictEqual(r.text('ab cab ab'), `${REDACTED} cab ${REDACTED}`);
    });

    it('blanks Authorization, Proxy-Authorization, cookies and named headers', function () {
      const r = new Redactor({ secrets: ['hunter2'], sensitiveNames: ['X-API-Key'] });
      assert.deepStrictEqual(
        r.headers({
          Authorization: 'Basic Ym9iOmh1bnRlcjI=',
          'proxy-authorization': 'x',
          'x-api-key': 'k',
          Cookie: 'c',
          'X-Note': 'pw hunter2',
          Accept: 'a',
          skip: undefined,
        }),
        {
          Authorization: REDACTED,
          'proxy-authorization': REDACTED,
          'x-api-key': REDACTED,
          Cookie: REDACTED,
          'X-Note': `pw ${REDACTED}`,
          Accept: 'a',
        },
      );
    });
  });

  describe('response parsing', function () {
    const parse = (body, type) => response.parseResponseBody(Buffer.from(body), type);

    it('JSON (also +json and with a charset)', async function () {
      assert.deepStrictEqual(await parse('{"id":"cus_1","n":[1,2]}', 'application/json; charset=utf-8'), {
        value: { id: 'cus_1', n: [1, 2] },
        format: 'json',
      });
      assert.deepStrictEqual((await parse('{"type":"about:blank"}', 'application/problem+json')).value, {
        type: 'about:blank',
      });
    });

    it('XML via xml2js without single-element arrays', async function () {
      const r = await parse('<?xml version="1.0"?><result><id>42</id><tag>a</tag><tag>b</tag></result>', 'text/xml');
      assert.deepStrictEqual(r, { value: { result: { id: '42', tag: ['a', 'b'] } }, format: 'xml' });
      assert.deepStrictEqual((await parse('<a x="1">t</a>', 'application/soap+xml')).value, {
        a: { _: 't', $: { x: '1' } },
      });
    });

    it('form bodies to an object; repeated names collect an array; __proto__ is only data', async function () {
      const r = await parse('access_token=abc&scope=a+b&x=1&x=2&__proto__=p', 'application/x-www-form-urlencoded');
      assert.strictEqual(r.format, 'form');
      assert.deepStrictEqual({ ...r.value }, { access_token: 'abc', scope: 'a b', x: ['1', '2'], ['__proto__']: 'p' });
      assert.strictEqual(Object.getPrototypeOf(r.value), Object.prototype);
      assert.strictEqual(Object.prototype.hasOwnProperty.call(r.value, '__proto__'), true);
    });

    it('text, charsets, binary, empty bodies and bodies without a type', async function () {
      assert.deepStrictEqual(await parse('hello', 'text/plain'), { value: 'hello', format: 'text' });
      assert.deepStrictEqual(
        await response.parseResponseBody(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset=ISO-8859-1'),
        { value: 'café', format: 'text' },
      );
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
      const bin = await response.parseResponseBody(png, 'image/png');
      assert.ok(Buffer.isBuffer(bin.value) && bin.value.equals(png) && bin.format === 'binary');
      assert.ok(Buffer.isBuffer((await response.parseResponseBody(png, undefined)).value));
      assert.deepStrictEqual(await parse('plain words', undefined), { value: 'plain words', format: 'text' });
      assert.deepStrictEqual(await response.parseResponseBody(Buffer.alloc(0), 'application/json'), {
        value: '',
        format: 'empty',
      });
    });

    it('a body that does not parse as its type claims stays text, with the reason', async function () {
      const r = await parse('<html>oops</html>', 'application/json');
      assert.strictEqual(r.value, '<html>oops</html>');
      assert.strictEqual(r.format, 'text');
      assert.match(r.parseError, /not valid JSON/);
      assert.match((await parse('{"not":"xml"}', 'application/xml')).parseError, /not valid XML/);
    });

    it('bodyExcerpt keeps the first 500 characters', function () {
      assert.strictEqual(response.bodyExcerpt(Buffer.from('é'.repeat(600)), 'text/plain').length, 500);
      assert.strictEqual(response.bodyExcerpt(Buffer.from('short'), undefined), 'short');
      assert.strictEqual(response.bodyExcerpt(undefined), '');
    });
  });

  describe('path template', function () {
    const msg = { event: { id: 'evt_1', data: { id: 'cus/1 ?&', n: 7, ok: true, obj: {}, empty: '' } }, list: ['a'] };

    it('fills {{path}} from msg, URL-encoding each value', function () {
      assert.strictEqual(renderTemplate('/v1/customers/{{event.data.id}}', msg), '/v1/customers/cus%2F1%20%3F%26');
      assert.strictEqual(
        renderTemplate('/n/{{ event.data.n }}/{{msg.event.data.ok}}?e={{event.id}}&l={{list[0]}}', msg),
        '/n/7/true?e=evt_1&l=a',
      );
      assert.strictEqual(renderTemplate('', msg), '');
      assert.strictEqual(renderTemplate('/plain', msg), '/plain');
      assert.deepStrictEqual(compileTemplate('/a/{{x}}/{{y.z}}').placeholders, ['x', 'y.z']);
    });

    it('a missing, empty or non-plain value is a TEMPLATE error naming every placeholder at fault', function () {
      assert.throws(
        () => renderTemplate('/c/{{event.data.missing}}/{{event.data.obj}}/{{event.data.empty}}/{{event.data.n}}', msg),
        (err) => {
          assert.strictEqual(err.code, 'TEMPLATE');
          assert.match(
            err.message,
            /\{\{event\.data\.missing\}\}, \{\{event\.data\.obj\}\}, \{\{event\.data\.empty\}\}/,
          );
          assert.deepStrictEqual(
            err.details.map((x) => x.field),
            ['event.data.missing', 'event.data.obj', 'event.data.empty'],
          );
          assert.match(err.details[0].reason, /msg\.event\.data\.missing is not set/);
          assert.match(err.details[1].reason, /an object/);
          return true;
        },
      );
    });

    it('malformed templates are refused when compiled', function () {
      for (const bad of ['/a/{{event.id', '/a/}}', '/a/{{}}', '/a/{{__proto__.x}}', '/a/{{a b}}']) {
        assert.throws(
          () => compileTemplate(bad),
          (err) => err.code === 'TEMPLATE',
          bad,
        );
      }
    });
  });

  describe('Standard Webhooks signing', function () {
    it('signWebhook accepts the whsec_ secret itself and matches the reference library', function () {
      const secret = newSecret();
      const body = Buffer.from('{"a":1,"b":"é"}');
      const wh = new Webhook(secret);
      const date = new Date(1700000000 * 1000);
      assert.strictEqual(
        sig.signWebhook(secret, 'msg_1', 1700000000, body),
        wh.sign('msg_1', date, body.toString('utf8')),
      );
      assert.strictEqual(
        sig.signWebhook(secret, 'msg_1', 1700000000, body),
        sig.signWebhook(sig.decodeWebhookSecret(secret), 'msg_1', 1700000000, body),
      );
    });

    it('webhookSignatureHeaders verify with standardwebhooks', function () {
      const secret = newSecret();
      const body = Buffer.from(JSON.stringify({ id: 'evt_9', amount: 1250 }));
      const headers = sig.webhookSignatureHeaders(secret, 'evt_9', body);
      assert.deepStrictEqual(Object.keys(headers), ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
      assert.match(headers['webhook-timestamp'], /^\d{10}$/);
      assert.deepStrictEqual(new Webhook(secret).verify(body.toString('utf8'), headers), { id: 'evt_9', amount: 1250 });
      assert.throws(() => new Webhook(newSecret()).verify(body.toString('utf8'), headers));
      assert.throws(
        () => sig.webhookSignatureHeaders(secret, 'a\nb', body),
        (e) => e.code === 'INVALID_WEBHOOK_ID',
      );
      assert.throws(
        () => sig.webhookSignatureHeaders('whsec_!!', 'a', body),
        (e) => e.code === 'INVALID_SECRET' && !e.message.includes('!!'),
      );
    });
  });

  describe('request building', function () {
    it('node headers < msg.headers, names compared without case; hop-by-hop headers dropped', function () {
      const r = d.buildSenderHeaders(
        [
          { name: 'X-A', value: 'node' },
          { name: 'X-B', value: 'node' },
          { name: '', value: 'ignored' },
        ],
        { 'x-a': 'msg', 'X-C': 3, 'Content-Length': '99', Host: 'evil', skip: null },
      );
      assert.deepStrictEqual(r, { headers: { 'X-B': 'node', 'x-a': 'msg', 'X-C': '3' }, problems: [] });
      assert.deepStrictEqual(d.buildSenderHeaders([{ name: 'X-A', value: 'node' }], undefined).headers, {
        'X-A': 'node',
      });
    });

    it('reports bad header names and values all at once', function () {
      const r = d.buildSenderHeaders([{ name: 'bad name', value: 'x' }], { 'X-Obj': { a: 1 }, 'X-Nl': 'a\r\nb: c' });
      assert.deepStrictEqual(
        r.problems.map((p) => p.field),
        ['bad name', 'X-Obj', 'X-Nl'],
      );
    });

    it('encodes the body: strings and Buffers as they are, objects as JSON, GET without a body', function () {
      let h = {};
      assert.strictEqual(d.encodeBody('a=1&b=2', 'POST', h).toString(), 'a=1&b=2');
      assert.deepStrictEqual(h, {}, 'no content type invented for a string');
      const buf = Buffer.from([1, 2, 3]);
      assert.strictEqual(d.encodeBody(buf, 'PUT', h), buf);
      h = {};
      assert.strictEqual(d.encodeBody({ a: [1, 'é'] }, 'PATCH', h).toString(), '{"a":[1,"é"]}');
      assert.deepStrictEqual(h, { 'content-type': 'application/json' });
      h = { 'Content-Type': 'application/vnd.api+json' };
      d.encodeBody([1], 'POST', h);
      assert.deepStrictEqual(h, { 'Content-Type': 'application/vnd.api+json' });
      assert.strictEqual(d.encodeBody({ a: 1 }, 'GET', {}), null);
      assert.strictEqual(d.encodeBody(undefined, 'POST', {}), null);
      const loop = {};
      loop.self = loop;
      assert.throws(
        () => d.encodeBody(loop, 'POST', {}),
        (e) => e.code === 'INVALID_PAYLOAD',
      );
    });

    it('the idempotency key: msg.event.id, else a kept key, else a new UUID', function () {
      assert.strictEqual(d.idempotencyKeyFor({ event: { id: 'evt_1' }, delivery: { idempotencyKey: 'old' } }), 'evt_1');
      assert.strictEqual(d.idempotencyKeyFor({ delivery: { idempotencyKey: 'old' } }), 'old');
      assert.match(
        d.idempotencyKeyFor({ payload: 1 }),
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.notStrictEqual(d.idempotencyKeyFor({}), d.idempotencyKeyFor({}));
    });
  });

  describe('delivery engine', function () {
    /** A tiny real EndpointHandle in front of a fake (scripted) transport. */
    function endpoint(opts = {}) {
      const calls = { prepare: [], invalidate: 0 };
      const ep = {
        id: 'ep1',
        label: 'https://api.example.com',
        defaultMethod: 'POST',
        async prepare(intent) {
          calls.prepare.push(JSON.parse(JSON.stringify(intent)));
          if (opts.prepare) return opts.prepare(intent, calls.prepare.length);
          const q = opts.apiKey ? `?api_key=${opts.apiKey}` : '';
          return {
            method: intent.method || 'POST',
            url: `https://api.example.com${intent.path}${q}`,
            headers: { ...intent.headers, Authorization: 'Bearer tok_secret' },
            timeoutMs: opts.timeoutMs || 1000,
            dispatcher: undefined,
            keepAlive: true,
            maxResponseBytes: 1024,
          };
        },
        invalidateAuth() {
          calls.invalidate++;
          return opts.oauth === true;
        },
        secrets: () => ['tok_secret', ...(opts.apiKey ? [opts.apiKey] : [])],
        sensitiveNames: () => ['authorization'],
        register() {},
        deregister() {},
      };
      return { ep, calls };
    }

    /** A transport that answers from a script: numbers are statuses, objects responses, Errors are thrown. */
    function scripted(script) {
      const seen = [];
      const transport = async (config) => {
        seen.push(config);
        const step = script[Math.min(seen.length - 1, script.length - 1)];
        if (step instanceof Error) throw step;
        if (typeof step === 'function') return step(config);
        const s = typeof step === 'number' ? { status: step } : step;
        return {
          status: s.status,
          statusText: s.statusText || '',
          headers: s.headers || {},
          data: Buffer.from(s.body || ''),
        };
      };
      return { transport, seen };
    }

    const SETTINGS = {
      maxAttempts: 5,
      initialDelay: 20,
      maxDelay: 100,
      maxRetryAfter: 120,
      idempotencyHeader: 'Idempotency-Key',
    };
    const request = (extra) => ({
      path: '/v1/things',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
      ...extra,
    });

    it('503, 503, 200: success on attempt 3 with one idempotency key, Retry-After honoured, every attempt logged', async function () {
      const { ep } = endpoint();
      const { transport, seen } = scripted([
        { status: 503, headers: { 'retry-after': '0' } },
        503,
        { status: 200, headers: { 'content-type': 'application/json', 'x-req': 'r1' }, body: '{"ok":true}' },
      ]);
      const logs = [];
      const state = d.newDeliveryState('key-1', 5);
      const out = await d.deliver(ep, request(), state, SETTINGS, {
        transport,
        random: () => 0,
        onAttempt: (l) => logs.push(l),
      });
      assert.strictEqual(out.ok, true);
      assert.strictEqual(out.statusCode, 200);
      assert.deepStrictEqual(out.body, { value: { ok: true }, format: 'json' });
      assert.strictEqual(out.headers['x-req'], 'r1');
      assert.strictEqual(seen.length, 3);
      assert.deepStrictEqual(
        seen.map((c) => c.headers['Idempotency-Key']),
        ['key-1', 'key-1', 'key-1'],
      );
      assert.deepStrictEqual(
        logs.map((l) => [l.attempt, l.statusCode, l.result]),
        [
          [1, 503, 'retry'],
          [2, 503, 'retry'],
          [3, 200, 'success'],
        ],
      );
      assert.strictEqual(logs[0].delayMs, 0);
      assert.match(
        logs[0].text,
        /^POST https:\/\/api\.example\.com\/v1\/things → 503 in \d+ ms \(attempt 1\/5\); retry in 0 ms$/,
      );
      assert.deepStrictEqual(
        { ...state, createdAt: 0, finishedAt: 0 },
        {
          idempotencyKey: 'key-1',
          attempts: 3,
          maxAttempts: 5,
          authRetried: false,
          phase: 'succeeded',
          createdAt: 0,
          nextAttemptAt: null,
          lastStatusCode: 200,
          lastErrorCode: null,
          finishedAt: 0,
        },
      );
      // what the transport is handed: the exact bytes, the timeout, an abort signal, the endpoint's limits
      const c = seen[0];
      assert.strictEqual(c.method, 'POST');
      assert.strictEqual(c.url, 'https://api.example.com/v1/things');
      assert.strictEqual(c.timeout, 1000);
      // the attempt's own signal: a Stop (no AbortSignal per message, see lib/http/abort.ts), not yet aborted
      assert.ok(c.signal instanceof Stop && c.signal.aborted === false);
      assert.strictEqual(c.maxResponseBytes, 1024);
      assert.strictEqual(c.keepAlive, true);
      assert.ok(Buffer.isBuffer(c.data) && c.data.toString() === '{"a":1}');
    });

    it('a 2xx that echoes secrets: body and response headers redacted (credential headers blanked, lists kept)', async function () {
      const { ep } = endpoint({ apiKey: 'key_live_123' });
      const { transport } = scripted([
        {
          status: 200,
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer tok_secret',
            'x-echo': 'node_hdr_secret',
            'set-cookie': ['a=1', 'b=tok_secret'],
          },
          body: '{"echo":"Bearer tok_secret","k":"key_live_123","n":"node_hdr_secret","m":"msg_bearer_value"}',
        },
      ]);
      const out = await d.deliver(
        ep,
        request({ headers: { 'content-type': 'application/json', Authorization: 'Bearer msg_bearer_value' } }),
        d.newDeliveryState('k', 1),
        { ...SETTINGS, secrets: ['node_hdr_secret'] },
        { transport },
      );
      assert.strictEqual(out.ok, true);
      assert.deepStrictEqual(out.body.value, {
        echo: 'Bearer [redacted]',
        k: '[redacted]',
        n: '[redacted]',
        m: '[redacted]',
      });
      assert.deepStrictEqual(out.headers, {
        'content-type': 'application/json',
        authorization: '[redacted]',
        'x-echo': '[redacted]',
        'set-cookie': ['a=1', 'b=[redacted]'],
      });
    });

    it('configured header values count as secrets unless harmless (Content-Type, Accept, *-Version) or very short', function () {
      const { configuredHeaderSecrets } = require('../../dist/nodes/lib/http/redact');
      assert.deepStrictEqual(
        configuredHeaderSecrets([
          { name: 'X-Tenant', value: 'tenant-secret-1' },
          { name: 'Content-Type', value: 'application/json' },
          { name: 'Stripe-Version', value: '2023-08-16' },
          { name: 'X-Short', value: 'ab' },
          { name: 'X-Env', value: 'ab', fromEnv: true },
          { name: 'Accept', value: 'text/csv' },
        ]),
        ['tenant-secret-1', 'ab'],
      );
    });

    it('the waits come from the backoff (injected random) and from Retry-After, capped', async function () {
      const { ep } = endpoint();
      const { transport } = scripted([503, { status: 429, headers: { 'retry-after': '7' } }, 500, 200]);
      const logs = [];
      const out = await d.deliver(
        ep,
        request(),
        d.newDeliveryState('k', 5),
        { ...SETTINGS, initialDelay: 4, maxDelay: 6, maxRetryAfter: 0 },
        {
          transport,
          random: () => 0.5,
          onAttempt: (l) => logs.push(l),
        },
      );
      assert.strictEqual(out.ok, true);
      // attempt 1: random 0.5 × min(6, 4) = 2; attempt 2: Retry-After 7 s capped at 0 s; attempt 3: 0.5 × min(6, 16) = 3
      assert.deepStrictEqual(
        logs.map((l) => l.delayMs),
        [2, 0, 3, undefined],
      );
    });

    it('400 fails after one attempt with a redacted excerpt of the answer', async function () {
      const { ep } = endpoint({ apiKey: 'key_live_123' });
      const { transport, seen } = scripted([
        {
          status: 400,
          statusText: 'Bad Request',
          headers: { 'content-type': 'application/json' },
          body: '{"error":"bad","echo":"key_live_123 tok_secret"}',
        },
      ]);
      const out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, { transport, random: () => 0 });
      assert.strictEqual(out.ok, false);
      assert.strictEqual(seen.length, 1);
      assert.strictEqual(out.statusCode, 400);
      assert.strictEqual(out.error.code, 'HTTP_400');
      assert.match(out.error.message, /400 Bad Request \(1 attempt\)/);
      const detail = out.error.details[0];
      assert.strictEqual(detail.attempts, 1);
      assert.strictEqual(detail.statusCode, 400);
      assert.strictEqual(detail.bodyExcerpt, '{"error":"bad","echo":"[redacted] [redacted]"}');
      assert.strictEqual(detail.url, 'https://api.example.com/v1/things?api_key=[redacted]');
      assert.strictEqual(out.state.phase, 'failed');
      assert.strictEqual(out.state.lastErrorCode, 'HTTP_400');
    });

    it('runs out of attempts on a retryable status', async function () {
      const { ep } = endpoint();
      const { transport, seen } = scripted([502]);
      const out = await d.deliver(
        ep,
        request(),
        d.newDeliveryState('k', 3),
        { ...SETTINGS, maxAttempts: 3 },
        { transport, random: () => 0 },
      );
      assert.strictEqual(seen.length, 3);
      assert.strictEqual(out.error.code, 'HTTP_502');
      assert.strictEqual(out.error.details[0].attempts, 3);
      assert.match(out.error.details[0].reason, /no attempts left/);
    });

    it('network errors are retried; a redirect is not followed', async function () {
      const { ep } = endpoint();
      const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      let s = scripted([reset, reset, 201]);
      let out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
        transport: s.transport,
        random: () => 0,
      });
      assert.strictEqual(out.ok, true);
      assert.strictEqual(out.state.attempts, 3);
      s = scripted([{ status: 301, headers: { location: 'https://elsewhere/?token=tok_secret' } }]);
      out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, { transport: s.transport });
      assert.strictEqual(out.error.code, 'HTTP_301');
      assert.strictEqual(s.seen.length, 1);
      assert.match(
        out.error.details[0].reason,
        /redirected to https:\/\/elsewhere\/\?token=\[redacted\]; redirects are not followed/,
      );
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      s = scripted([refused]);
      out = await d.deliver(
        ep,
        request(),
        d.newDeliveryState('k', 2),
        { ...SETTINGS, maxAttempts: 2 },
        { transport: s.transport, random: () => 0 },
      );
      assert.strictEqual(out.error.code, 'ECONNREFUSED');
      assert.strictEqual(out.statusCode, undefined);
      assert.strictEqual(out.error.details[0].statusCode, null);
      assert.strictEqual(s.seen.length, 2);
    });

    it('a timeout aborts the attempt, is retried, and ends as TIMEOUT', async function () {
      const { ep } = endpoint({ timeoutMs: 30 });
      const hang = (config) =>
        new Promise((resolve, reject) => {
          config.signal.addEventListener('abort', () =>
            reject(Object.assign(new Error('canceled'), { code: 'ERR_CANCELED' })),
          );
        });
      const s = scripted([hang]);
      const out = await d.deliver(
        ep,
        request(),
        d.newDeliveryState('k', 2),
        { ...SETTINGS, maxAttempts: 2 },
        { transport: s.transport, random: () => 0 },
      );
      assert.strictEqual(s.seen.length, 2);
      assert.strictEqual(out.error.code, 'TIMEOUT');
      assert.match(out.error.message, /No answer within 30 ms \(2 attempts\)/);
    });

    it('401 with OAuth2: one immediate retry with a fresh token that does not count against maxAttempts', async function () {
      let { ep, calls } = endpoint({ oauth: true });
      let s = scripted([401, 200]);
      const logs = [];
      let out = await d.deliver(
        ep,
        request(),
        d.newDeliveryState('k', 1),
        { ...SETTINGS, maxAttempts: 1 },
        { transport: s.transport, onAttempt: (l) => logs.push(l) },
      );
      assert.strictEqual(out.ok, true);
      assert.strictEqual(calls.invalidate, 1);
      assert.strictEqual(out.state.attempts, 2);
      assert.strictEqual(out.state.authRetried, true);
      assert.deepStrictEqual(
        logs.map((l) => l.result),
        ['auth-retry', 'success'],
      );
      // a second 401 is final
      ({ ep, calls } = endpoint({ oauth: true }));
      s = scripted([401]);
      out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, { transport: s.transport });
      assert.strictEqual(out.error.code, 'HTTP_401');
      assert.strictEqual(s.seen.length, 2);
      assert.strictEqual(calls.invalidate, 1);
      // without OAuth2 a 401 is final at once
      ({ ep, calls } = endpoint({ oauth: false }));
      s = scripted([401]);
      out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, { transport: s.transport });
      assert.strictEqual(s.seen.length, 1);
      assert.strictEqual(calls.invalidate, 1);
    });

    it('PREPARE_FAILED: at once, or retried when the endpoint marks the error retryable', async function () {
      let { ep } = endpoint({
        prepare: () => {
          throw Object.assign(new Error('token request failed: tok_secret rejected'), { code: 'OAUTH2_TOKEN' });
        },
      });
      const s = scripted([200]);
      let out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, { transport: s.transport });
      assert.strictEqual(out.error.code, 'PREPARE_FAILED');
      assert.strictEqual(s.seen.length, 0);
      assert.strictEqual(out.state.attempts, 1);
      assert.ok(!JSON.stringify(out.error).includes('tok_secret'));
      assert.match(out.error.details[0].reason, /\(OAUTH2_TOKEN\)/);
      let n = 0;
      ({ ep } = endpoint({
        prepare: (intent) => {
          n++;
          if (n < 3) throw Object.assign(new Error('token server down'), { retryable: true });
          return { method: 'POST', url: 'http://127.0.0.1/x', headers: intent.headers, timeoutMs: 100 };
        },
      }));
      out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
        transport: s.transport,
        random: () => 0,
      });
      assert.strictEqual(out.ok, true);
      assert.strictEqual(out.state.attempts, 3);
    });

    it('signs each attempt with a fresh timestamp; the signature verifies with standardwebhooks', async function () {
      const secret = newSecret();
      const { ep } = endpoint();
      const { transport, seen } = scripted([503, 200]);
      let clock = 1700000000000;
      const out = await d.deliver(
        ep,
        request(),
        d.newDeliveryState('evt_1', 5),
        { ...SETTINGS, signingKey: secret },
        {
          transport,
          random: () => 0,
          now: () => (clock += 1000),
        },
      );
      assert.strictEqual(out.ok, true);
      const [a, b] = seen.map((c) => c.headers);
      assert.strictEqual(a['webhook-id'], 'evt_1');
      assert.notStrictEqual(a['webhook-timestamp'], b['webhook-timestamp']);
      const wh = new Webhook(secret);
      for (const h of [a, b]) {
        const ts = Number(h['webhook-timestamp']);
        assert.strictEqual(h['webhook-signature'], wh.sign('evt_1', new Date(ts * 1000), '{"a":1}'));
      }
    });

    it('the state is plain JSON and a stored state resumes where it stopped', async function () {
      const { ep } = endpoint();
      let s = scripted([503]);
      const state = d.newDeliveryState('k-9', 3);
      await d.deliver(
        ep,
        request(),
        state,
        { ...SETTINGS, maxAttempts: 3 },
        { transport: s.transport, random: () => 0, signal: AbortSignal.abort() },
      );
      assert.deepStrictEqual(JSON.parse(JSON.stringify(state)), state);
      const stored = JSON.parse(
        JSON.stringify({
          ...d.newDeliveryState('k-9', 3),
          attempts: 2,
          phase: 'waiting',
          nextAttemptAt: Date.now() + 10,
        }),
      );
      s = scripted([503]);
      const out = await d.deliver(
        ep,
        request(),
        stored,
        { ...SETTINGS, maxAttempts: 3 },
        { transport: s.transport, random: () => 0 },
      );
      assert.strictEqual(s.seen.length, 1, 'only the one attempt that was left');
      assert.strictEqual(out.state.attempts, 3);
      assert.strictEqual(out.error.code, 'HTTP_503');
      assert.strictEqual(s.seen[0].headers['Idempotency-Key'], 'k-9');
    });

    it('an abort during a retry wait ends at once as CANCELLED, with the phase in the message', async function () {
      const { ep } = endpoint();
      const s = scripted([{ status: 503, headers: { 'retry-after': '60' } }]);
      const ctl = new AbortController();
      const phases = [];
      const promise = d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
        transport: s.transport,
        signal: ctl.signal,
        onPhase: (st) => {
          phases.push(st.phase);
          if (st.phase === 'waiting') setImmediate(() => ctl.abort());
        },
        cancelMessage: (phase) => `stopped while ${phase}`,
      });
      const out = await promise;
      assert.deepStrictEqual(phases, ['sending', 'waiting']);
      assert.strictEqual(out.error.code, 'CANCELLED');
      assert.strictEqual(out.error.message, 'stopped while waiting');
      assert.strictEqual(out.state.phase, 'cancelled');
      assert.strictEqual(out.statusCode, 503);
      assert.strictEqual(s.seen.length, 1);
    });

    it('talks to a real server through axios: exact bytes, no invented Content-Type, compressed answers', async function () {
      const zlib = require('node:zlib');
      const got = [];
      const server = http.createServer((req, res) => {
        const parts = [];
        req.on('data', (c) => parts.push(c));
        req.on('end', () => {
          got.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(parts) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          res.end(zlib.gzipSync('{"zipped":true}'));
        });
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const agent = new http.Agent({ keepAlive: true });
      try {
        const port = server.address().port;
        const ep = {
          id: 'e',
          label: 'local',
          defaultMethod: 'POST',
          prepare: async (i) => ({
            method: i.method || 'POST',
            url: `http://127.0.0.1:${port}${i.path}`,
            headers: i.headers,
            timeoutMs: 2000,
            agent,
          }),
          invalidateAuth: () => false,
          secrets: () => [],
          sensitiveNames: () => [],
          register() {},
          deregister() {},
        };
        const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]);
        let out = await d.deliver(ep, { path: '/raw', headers: {}, body: bytes }, d.newDeliveryState('k', 1), {
          ...SETTINGS,
          idempotencyHeader: '',
        });
        assert.strictEqual(out.ok, true);
        assert.deepStrictEqual(out.body.value, { zipped: true });
        assert.ok(got[0].body.equals(bytes));
        assert.strictEqual(got[0].headers['content-type'], undefined);
        assert.strictEqual(got[0].headers['idempotency-key'], undefined);
        out = await d.deliver(
          ep,
          { method: 'GET', path: '/get?x=1', headers: {}, body: null },
          d.newDeliveryState('k', 1),
          SETTINGS,
        );
        assert.strictEqual(got[1].method, 'GET');
        assert.strictEqual(got[1].url, '/get?x=1');
        assert.strictEqual(got[1].body.length, 0);
        assert.strictEqual(got[1].headers['idempotency-key'], 'k');
      } finally {
        agent.destroy();
        server.close();
      }
    });

    describe('with the endpoint pacer', function () {
      const { Pacer } = require('../../dist/nodes/lib/http/pacing');
      const pacers = [];
      afterEach(function () {
        while (pacers.length) pacers.pop().close();
      });
      function pacerOf(options) {
        const p = new Pacer({ maxConcurrent: 0, breakerFailures: 0, ...options });
        pacers.push(p);
        return p;
      }
      /** The pacer as deliver() sees it, recording every permit and how it was released. */
      function recording(pacer) {
        const rec = { outcomes: [], acquired: 0 };
        const wrap = (p) =>
          p && {
            probe: p.probe,
            release: (o) => {
              rec.outcomes.push(o);
              p.release(o);
            },
          };
        rec.pacer = {
          acquire: async (signal) => {
            const p = await pacer.acquire(signal);
            rec.acquired++;
            return wrap(p);
          },
          tryAcquire: () => {
            const p = pacer.tryAcquire();
            if (p) rec.acquired++;
            return wrap(p);
          },
          pauseUntil: (t) => pacer.pauseUntil(t),
          state: () => pacer.state(),
        };
        return rec;
      }
      const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

      it('every attempt, the OAuth2 retry too, is made under a permit released with what happened', async function () {
        const rec = recording(pacerOf());
        const { ep } = endpoint({ oauth: true, timeoutMs: 30 });
        ep.pacer = rec.pacer;
        const hang = (config) =>
          new Promise((resolve, reject) => {
            config.signal.addEventListener('abort', () =>
              reject(Object.assign(new Error('canceled'), { code: 'ERR_CANCELED' })),
            );
          });
        const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        const s = scripted([401, reset, hang, 500, 200]);
        const out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
          transport: s.transport,
          random: () => 0,
        });
        assert.strictEqual(out.ok, true);
        assert.strictEqual(s.seen.length, 5);
        assert.strictEqual(rec.acquired, 5, 'one permit per request');
        assert.deepStrictEqual(rec.outcomes, [
          { kind: 'response', status: 401 },
          { kind: 'network', code: 'ECONNRESET' },
          { kind: 'timeout' },
          { kind: 'response', status: 500 },
          { kind: 'response', status: 200 },
        ]);
        // no request made (the endpoint could not prepare it): released as cancelled
        const rec2 = recording(pacerOf());
        const failing = endpoint({
          prepare: () => {
            throw new Error('no token');
          },
        }).ep;
        failing.pacer = rec2.pacer;
        await d.deliver(failing, request(), d.newDeliveryState('k', 5), SETTINGS, { transport: s.transport });
        assert.deepStrictEqual(rec2.outcomes, [{ kind: 'cancelled' }]);
      });

      it("a 429 or 503 with Retry-After pauses the whole endpoint, capped like the message's own wait", async function () {
        const pacer = pacerOf();
        const rec = recording(pacer);
        const { ep } = endpoint();
        ep.pacer = rec.pacer;
        const s = scripted([{ status: 429, headers: { 'retry-after': '7' } }]);
        const before = Date.now();
        const out = await d.deliver(
          ep,
          request(),
          d.newDeliveryState('k', 1),
          { ...SETTINGS, maxAttempts: 1, maxRetryAfter: 2 },
          { transport: s.transport },
        );
        assert.strictEqual(out.error.code, 'HTTP_429');
        assert.deepStrictEqual(rec.outcomes, [{ kind: 'response', status: 429, retryAfterMs: 2000 }]);
        const until = pacer.state().pausedUntil;
        assert.ok(until >= before + 2000 && until <= Date.now() + 2000, String(until - before));
        // a 500 with a Retry-After does not pause the endpoint
        const rec2 = recording(pacerOf());
        ep.pacer = rec2.pacer;
        await d.deliver(
          ep,
          request(),
          d.newDeliveryState('k', 1),
          { ...SETTINGS, maxAttempts: 1 },
          { transport: scripted([{ status: 500, headers: { 'retry-after': '7' } }]).transport },
        );
        assert.deepStrictEqual(rec2.outcomes, [{ kind: 'response', status: 500 }]);
      });

      it('a connection that cannot be made is no attempt: the delivery waits for the endpoint, then goes on', async function () {
        // the pacer's clock moves only when its timers fire: however busy the machine, the refused connection
        // is seen before the next probe is due, so the delivery waits for the endpoint every time
        let t = 1_000_000;
        const clock = {
          now: () => t,
          setTimer: (fn, ms) => {
            const at = t + ms;
            return setTimeout(() => {
              if (at > t) t = at;
              fn();
            }, 1);
          },
          clearTimer: (h) => clearTimeout(h),
        };
        const pacer = pacerOf({ offlineInitialMs: 10, offlineMaxMs: 40, ...clock });
        const { ep } = endpoint();
        ep.pacer = pacer;
        const s = scripted([refused(), refused(), refused(), { status: 200, body: 'ok' }]);
        const logs = [];
        const phases = [];
        const offline = [];
        const state = d.newDeliveryState('k', 1);
        const out = await d.deliver(
          ep,
          request(),
          state,
          { ...SETTINGS, maxAttempts: 1 },
          {
            transport: s.transport,
            onAttempt: (l) => logs.push(l),
            onPhase: (st) => {
              phases.push(st.phase);
              offline.push(pacer.state().offline);
            },
          },
        );
        assert.strictEqual(out.ok, true, JSON.stringify(out.error));
        assert.strictEqual(s.seen.length, 4);
        assert.strictEqual(state.attempts, 1, 'only the request that got an answer counts');
        assert.deepStrictEqual(
          logs.map((l) => [l.attempt, l.errorCode || l.statusCode, l.result]),
          [
            [1, 'ECONNREFUSED', 'offline'],
            [1, 'ECONNREFUSED', 'offline'],
            [1, 'ECONNREFUSED', 'offline'],
            [1, 200, 'success'],
          ],
        );
        assert.match(
          logs[0].text,
          /→ ECONNREFUSED in \d+ ms \(attempt 1\/1\); endpoint unreachable, waiting for it \(not counted\)$/,
        );
        assert.deepStrictEqual(phases, ['sending', 'paced', 'sending', 'paced', 'sending', 'paced', 'sending']);
        assert.deepStrictEqual(
          offline.filter((x, i) => phases[i] === 'paced'),
          [true, true, true],
        );
        assert.strictEqual(pacer.state().offline, false);
      });

      it('an open circuit makes the delivery wait, without using up attempts, until its probe', async function () {
        const pacer = pacerOf({ breakerFailures: 2, breakerOpenMs: 60 });
        const { ep } = endpoint();
        ep.pacer = pacer;
        const s = scripted([500, 500, 200]);
        const seenAt = [];
        const transport = (c) => {
          seenAt.push(Date.now());
          return s.transport(c);
        };
        let openUntil;
        const phases = [];
        const out = await d.deliver(
          ep,
          request(),
          d.newDeliveryState('k', 3),
          { ...SETTINGS, maxAttempts: 3 },
          {
            transport,
            random: () => 0,
            onPhase: (st) => {
              phases.push(st.phase);
              if (st.phase === 'paced') openUntil = pacer.state().openUntil;
            },
          },
        );
        assert.strictEqual(out.ok, true);
        assert.strictEqual(out.state.attempts, 3);
        assert.deepStrictEqual(phases, ['sending', 'sending', 'paced', 'sending']);
        assert.ok(openUntil, 'the circuit was open while the delivery waited');
        assert.ok(seenAt[2] >= openUntil, 'the third request went only when the circuit let a probe through');
        assert.strictEqual(pacer.state().circuit, 'closed');
      });

      it('an abort while waiting for a permit ends as CANCELLED; so does a pacer that is closed', async function () {
        const pacer = pacerOf({ maxConcurrent: 1 });
        const { ep } = endpoint();
        ep.pacer = pacer;
        const held = await pacer.acquire();
        const s = scripted([200]);
        const ctl = new AbortController();
        let out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
          transport: s.transport,
          signal: ctl.signal,
          onPhase: (st) => {
            if (st.phase === 'paced') setImmediate(() => ctl.abort());
          },
          cancelMessage: (phase) => `stopped while ${phase}`,
        });
        assert.strictEqual(out.error.code, 'CANCELLED');
        assert.strictEqual(out.error.message, 'stopped while sending');
        assert.strictEqual(out.state.attempts, 0);
        assert.strictEqual(pacer.state().waiting, 0);
        out = await d.deliver(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
          transport: s.transport,
          onPhase: (st) => {
            if (st.phase === 'paced') setImmediate(() => pacer.close());
          },
        });
        assert.strictEqual(out.error.code, 'CANCELLED');
        assert.strictEqual(out.error.message, 'the endpoint was stopped while this message was waiting for it');
        assert.strictEqual(out.state.phase, 'cancelled');
        assert.strictEqual(s.seen.length, 0);
        held.release();
      });
    });

    describe('one attempt at a time (deliverOnce), for the durable queue', function () {
      it('a retryable failure comes back at once with retryAt instead of being waited for; the stored state goes on from there', async function () {
        const { ep } = endpoint();
        let s = scripted([{ status: 503, headers: { 'retry-after': '30' } }]);
        const state = d.newDeliveryState('k-once', 3, Date.now() - 1000);
        const started = Date.now();
        const out = await d.deliverOnce(
          ep,
          request(),
          state,
          { ...SETTINGS, maxAttempts: 3 },
          { transport: s.transport, random: () => 0 },
        );
        assert.ok(Date.now() - started < 15000, 'did not wait for the 30 s Retry-After');
        assert.strictEqual(s.seen.length, 1);
        assert.strictEqual(out.ok, false);
        assert.strictEqual(out.error.code, 'HTTP_503');
        assert.match(out.error.message, /attempt 1 of 3/);
        assert.strictEqual(out.statusCode, 503);
        assert.ok(
          out.retryAt >= started + 29000 && out.retryAt <= Date.now() + 30000,
          'Retry-After honoured in retryAt',
        );
        assert.strictEqual(out.state.nextAttemptAt, out.retryAt);
        assert.strictEqual(out.state.attempts, 1);
        assert.strictEqual(out.state.phase, 'waiting');
        // what a queue would journal and hand back when the time has come
        const stored = JSON.parse(JSON.stringify({ ...state, nextAttemptAt: null }));
        s = scripted([{ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' }]);
        const next = await d.deliverOnce(
          ep,
          request(),
          stored,
          { ...SETTINGS, maxAttempts: 3 },
          { transport: s.transport },
        );
        assert.strictEqual(next.ok, true);
        assert.strictEqual(next.state.attempts, 2);
        assert.strictEqual(s.seen[0].headers['Idempotency-Key'], 'k-once');
        assert.ok(next.durationMs >= 1000, 'measured from the state creation');
      });

      it('network errors and retryable PREPARE_FAILED also come back with retryAt; a permanent failure or the last attempt without', async function () {
        const { ep } = endpoint();
        const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        let s = scripted([reset]);
        let out = await d.deliverOnce(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
          transport: s.transport,
          random: () => 0,
        });
        assert.strictEqual(out.error.code, 'ECONNRESET');
        assert.strictEqual(typeof out.retryAt, 'number');
        assert.strictEqual(out.statusCode, undefined);

        const flaky = endpoint({
          prepare: () => {
            throw Object.assign(new Error('token endpoint 502'), { retryable: true });
          },
        }).ep;
        out = await d.deliverOnce(flaky, request(), d.newDeliveryState('k', 5), SETTINGS, { random: () => 0 });
        assert.strictEqual(out.error.code, 'PREPARE_FAILED');
        assert.strictEqual(typeof out.retryAt, 'number');

        s = scripted([400]);
        out = await d.deliverOnce(ep, request(), d.newDeliveryState('k', 5), SETTINGS, { transport: s.transport });
        assert.strictEqual(out.error.code, 'HTTP_400');
        assert.strictEqual(out.retryAt, undefined);
        assert.strictEqual(out.state.phase, 'failed');

        const last = { ...d.newDeliveryState('k', 2), attempts: 1 };
        s = scripted([503]);
        out = await d.deliverOnce(ep, request(), last, { ...SETTINGS, maxAttempts: 2 }, { transport: s.transport });
        assert.strictEqual(out.retryAt, undefined);
        assert.match(out.error.details[0].reason, /no attempts left/);
        assert.strictEqual(out.state.attempts, 2);
      });

      it('the free OAuth2 retry happens inside the step and does not count', async function () {
        const { ep } = endpoint({ oauth: true });
        const s = scripted([401, 503]);
        const out = await d.deliverOnce(ep, request(), d.newDeliveryState('k', 5), SETTINGS, {
          transport: s.transport,
          random: () => 0,
        });
        assert.strictEqual(s.seen.length, 2);
        assert.strictEqual(out.error.code, 'HTTP_503');
        assert.strictEqual(typeof out.retryAt, 'number');
        assert.strictEqual(d.countedAttempts(out.state), 1);
      });
    });
  });

  describe('message snapshot (durable queue)', function () {
    const { snapshotMessage, restoreMessage } = require('../../dist/nodes/lib/outbox/snapshot');

    it('is plain JSON without req, res, _msgid, the settlement token, functions and cycles', function () {
      const msg = {
        _msgid: 'm1',
        _sayproAck: 'tok',
        req: { socket: {} },
        res: {},
        topic: 't',
        fn() {},
        u: undefined,
        n: NaN,
        nested: { a: [1, undefined, () => 1] },
      };
      msg.self = msg;
      msg.nested.back = msg.nested;
      const snap = snapshotMessage(msg);
      assert.deepStrictEqual(JSON.parse(JSON.stringify(snap)), snap, 'plain JSON');
      assert.deepStrictEqual(snap, { topic: 't', n: null, nested: { a: [1, null, null] } });
      assert.deepStrictEqual(restoreMessage(snap), { topic: 't', n: null, nested: { a: [1, null, null] } });
    });

    it('restores Buffers, Dates, Maps, Sets and BigInts; an own "$saypro" key stays data; "__proto__" stays data', function () {
      const msg = {
        payload: { bin: Buffer.from([0, 1, 255]), when: new Date('2024-01-02T03:04:05.006Z') },
        m: new Map([
          ['a', 1],
          ['b', Buffer.from('x')],
        ]),
        s: new Set(['x', 2]),
        big: 12345678901234567890n,
        tricky: { $saypro: 'buffer', base64: 'AAAA' },
        arr: [new Uint8Array([7, 8])],
      };
      const snap = JSON.parse(JSON.stringify(snapshotMessage(msg)));
      const back = restoreMessage(snap);
      assert.ok(Buffer.isBuffer(back.payload.bin) && back.payload.bin.equals(Buffer.from([0, 1, 255])));
      assert.ok(back.payload.when instanceof Date && back.payload.when.getTime() === msg.payload.when.getTime());
      assert.ok(back.m instanceof Map && back.m.get('a') === 1 && Buffer.isBuffer(back.m.get('b')));
      assert.deepStrictEqual([...back.s], ['x', 2]);
      assert.strictEqual(back.big, 12345678901234567890n);
      assert.deepStrictEqual(back.tricky, { $saypro: 'buffer', base64: 'AAAA' });
      assert.ok(Buffer.isBuffer(back.arr[0]) && back.arr[0].equals(Buffer.from([7, 8])));
      const proto = restoreMessage(JSON.parse('{"x":{"__proto__":{"polluted":true}}}'));
      assert.strictEqual({}.polluted, undefined);
      assert.deepStrictEqual(Object.keys(proto.x), ['__proto__']);
    });

    it('a payload that is exactly the request body is not stored twice', function () {
      const text = JSON.stringify({ ct: 'x'.repeat(1000) });
      const body = Buffer.from(text, 'utf8');
      const asString = snapshotMessage({ payload: text, topic: 't' }, body);
      assert.ok(JSON.stringify(asString).length < 200, 'a marker, not the text');
      assert.strictEqual(restoreMessage(asString, body).payload, text);
      const bin = Buffer.from([1, 2, 3]);
      const asBuffer = snapshotMessage({ payload: bin }, Buffer.from(bin));
      const back = restoreMessage(JSON.parse(JSON.stringify(asBuffer)), Buffer.from(bin));
      assert.ok(Buffer.isBuffer(back.payload) && back.payload.equals(bin));
      // an object payload (sent as JSON) and a payload unlike the body are kept as they are
      assert.deepStrictEqual(
        restoreMessage(snapshotMessage({ payload: { a: 1 } }, Buffer.from('{"a":1}')), Buffer.from('{"a":1}')).payload,
        { a: 1 },
      );
      assert.strictEqual(restoreMessage(snapshotMessage({ payload: 'other' }, body), body).payload, 'other');
    });
  });
});
