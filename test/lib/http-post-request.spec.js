'use strict';
/**
 * nodes/lib/http-post/request.ts: the one request builder of the HTTP POST
 * node (in-memory and durable mode alike).
 */
const assert = require('node:assert');
const { buildRequest, orderingGroup, requestFor } = require('../../dist/nodes/lib/http-post/request.js');
const { IntegrationError } = require('../../dist/nodes/lib/errors.js');
const { compileTemplate } = require('../../dist/nodes/lib/template.js');

function settings(props = {}) {
  return {
    template: compileTemplate(props.path ?? '/v1/things'),
    headers: [],
    msgHeaders: true,
    method: undefined,
    ...props,
  };
}

describe('http post request builder (lib/http-post/request)', function () {
  it('an object payload: JSON body, content-type application/json, the path filled and URL-encoded', function () {
    const msg = { payload: { name: 'Ada', note: 'café' }, event: { data: { id: 'cus 1' } } };
    const r = buildRequest(msg, settings({ template: compileTemplate('/v1/customers/{{event.data.id}}') }), 'POST');
    assert.ok(r.ok);
    assert.deepStrictEqual(r.request, {
      method: undefined,
      path: '/v1/customers/cus%201',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"name":"Ada","note":"café"}', 'utf8'),
    });
  });

  it('a string as UTF-8 and a Buffer as it is, without a content type of our own', function () {
    const s = buildRequest({ payload: 'a=1&b=ü' }, settings(), 'POST');
    assert.deepStrictEqual(s.request.body, Buffer.from('a=1&b=ü', 'utf8'));
    assert.deepStrictEqual(s.request.headers, {});
    const bytes = Buffer.from([0, 1, 2, 255]);
    assert.strictEqual(buildRequest({ payload: bytes }, settings(), 'POST').request.body, bytes);
  });

  it("GET (the node's or the endpoint's) and a null payload send no body", function () {
    assert.strictEqual(buildRequest({ payload: { a: 1 } }, settings({ method: 'GET' }), 'POST').request.body, null);
    const viaEndpoint = buildRequest({ payload: { a: 1 } }, settings(), 'GET').request;
    assert.strictEqual(viaEndpoint.body, null);
    assert.strictEqual(viaEndpoint.method, undefined, 'the endpoint default stays implicit');
    assert.strictEqual(buildRequest({ payload: null }, settings(), 'POST').request.body, null);
  });

  it("the node's method is kept", function () {
    assert.strictEqual(buildRequest({ payload: 'x' }, settings({ method: 'PUT' }), 'POST').request.method, 'PUT');
  });

  it('node headers, then msg.headers winning (names without case); msg.headers ignored when the node says so', function () {
    const s = settings({
      headers: [
        { name: 'X-Api-Version', value: '1' },
        { name: 'Content-Type', value: 'text/csv' },
      ],
    });
    const msg = { payload: 'a,b', headers: { 'x-api-version': '2', 'X-Trace': 7 } };
    assert.deepStrictEqual(buildRequest(msg, s, 'POST').request.headers, {
      'Content-Type': 'text/csv',
      'x-api-version': '2',
      'X-Trace': '7',
    });
    const ignored = buildRequest(msg, { ...s, msgHeaders: false }, 'POST').request.headers;
    assert.deepStrictEqual(ignored, { 'X-Api-Version': '1', 'Content-Type': 'text/csv' });
  });

  it('a placeholder without a value: TEMPLATE, naming it', function () {
    const r = buildRequest({ payload: 1 }, settings({ template: compileTemplate('/x/{{event.id}}') }), 'POST');
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.error.code, 'TEMPLATE');
    assert.match(JSON.stringify(r.error.toJSON()), /event\.id/);
  });

  it('a header value with a line break or an object: INVALID_HEADER with every problem', function () {
    const msg = { payload: 'x', headers: { 'X-A': 'a\r\nInjected: 1', 'X-B': { nested: true } } };
    const r = buildRequest(msg, settings(), 'POST');
    assert.strictEqual(r.ok, false);
    assert.strictEqual(r.error.code, 'INVALID_HEADER');
    assert.deepStrictEqual(
      r.error.details.map((d) => d.field),
      ['X-A', 'X-B'],
    );
  });

  it('a payload with no JSON form: INVALID_PAYLOAD', function () {
    const loop = {};
    loop.self = loop;
    for (const payload of [loop, () => 1, 10n]) {
      const r = buildRequest({ payload }, settings(), 'POST');
      assert.strictEqual(r.ok, false);
      assert.strictEqual(r.error.code, 'INVALID_PAYLOAD');
    }
  });

  it('the same message gives the same request every time (what both modes send)', function () {
    const msg = { payload: { a: [1, 2] }, headers: { 'X-Id': 'k' }, event: { id: 'e1' } };
    const s = settings({ template: compileTemplate('/e/{{event.id}}') });
    assert.deepStrictEqual(buildRequest(msg, s, 'POST'), buildRequest(msg, s, 'POST'));
  });

  it('ordering group: text, numbers and booleans; nothing for empty text, objects or no value', function () {
    assert.deepStrictEqual(['L1', 7, 0, false, '', undefined, null, { a: 1 }, [1]].map(orderingGroup), [
      'L1',
      '7',
      '0',
      'false',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  describe('requestFor: the step both modes take', function () {
    const endpoint = { defaultMethod: 'PUT', label: 'partner' };

    it('a usable node: the request as buildRequest makes it, with the endpoint (its method the default)', function () {
      const msg = { payload: { a: 1 }, id: 'x' };
      const s = settings({ template: compileTemplate('/v1/{{id}}') });
      const r = requestFor(msg, s, endpoint, undefined);
      assert.ok(r.ok);
      assert.strictEqual(r.endpoint, endpoint);
      assert.deepStrictEqual(r.request, buildRequest(msg, s, 'PUT').request);
      assert.strictEqual(r.request.path, '/v1/x');
    });

    it('a settings problem refuses every message with that problem, before the message is looked at', function () {
      const problem = new IntegrationError('INVALID_CONFIG', 'Some settings are not valid', [{ field: 'path' }]);
      const msg = {
        get payload() {
          throw new Error('the message is not read');
        },
      };
      const r = requestFor(msg, settings(), endpoint, problem);
      assert.deepStrictEqual(r, { ok: false, error: problem });
    });

    it('no endpoint or no valid path (without a reported problem): INVALID_CONFIG "not configured"', function () {
      for (const [s, ep] of [
        [settings(), undefined],
        [settings({ template: undefined }), endpoint],
      ]) {
        const r = requestFor({ payload: 1 }, s, ep, undefined);
        assert.strictEqual(r.ok, false);
        assert.strictEqual(r.error.code, 'INVALID_CONFIG');
        assert.strictEqual(r.error.message, 'The node is not configured');
      }
    });

    it('a message that cannot become a request fails with the builder’s reason', function () {
      const s = settings({ template: compileTemplate('/v1/{{missing}}') });
      const r = requestFor({ payload: 1 }, s, endpoint, undefined);
      assert.strictEqual(r.ok, false);
      assert.deepStrictEqual(r, buildRequest({ payload: 1 }, s, 'PUT'));
    });
  });
});
