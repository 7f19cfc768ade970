'use strict';
/**
 * Property-based tests (fast-check) of the path templates and the response
 * parser, with random and adversarial input: dot segments in every spelling,
 * slashes, backslashes, query and fragment characters, unicode, lone
 * surrogates; random bytes under random content types, deep nesting,
 * `__proto__` keys.
 */
const assert = require('node:assert');
const fc = require('fast-check');
const { compileTemplate, isDotSegment } = require('../../dist/nodes/lib/template');
const { joinUrl } = require('../../dist/nodes/lib/http/base-url');
const response = require('../../dist/nodes/lib/http/response');

const RUNS = 500;
const literal = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
const nasty = fc.constantFrom(
  '.',
  '..',
  '%2e',
  '%2E%2e',
  '.%2e',
  '%2e.',
  '/',
  '\\',
  '../..',
  '..\\..',
  '?',
  '#',
  '%2F',
  '%00',
  '..%2F',
  ' ',
  '~',
  '\uD800',
  '\u202E',
  '😀',
  'a/../b',
);
const value = fc.oneof(
  nasty,
  fc.string(),
  fc.fullUnicodeString({ maxLength: 8 }),
  fc.array(nasty, { minLength: 1, maxLength: 3 }).map((a) => a.join('')),
);

/** A template of 1–5 segments: literals, or a placeholder with an optional literal prefix/suffix. */
const segment = fc.oneof(
  literal.map((l) => ({ kind: 'literal', text: l })),
  fc
    .record({ prefix: fc.option(literal, { nil: '' }), suffix: fc.option(literal, { nil: '' }) })
    .map((r) => ({ kind: 'hole', ...r })),
);

describe("property: path templates keep the template's literal segments in place", function () {
  this.timeout(60000);
  const base = new URL('https://api.example.com/base');

  it("a filled template either calls exactly the template's path (values inside their own segment) or is refused", function () {
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        fc.array(value, { minLength: 5, maxLength: 5 }),
        (segs, values) => {
          let n = 0;
          const source =
            '/' +
            segs.map((s) => (s.kind === 'literal' ? s.text : `${s.prefix}{{payload.v${n++}}}${s.suffix}`)).join('/') +
            '?q=1';
          const msg = { payload: Object.fromEntries(values.map((v, i) => [`v${i}`, v])) };
          let rendered;
          try {
            rendered = compileTemplate(source).render(msg);
          } catch (err) {
            assert.strictEqual(err.code, 'TEMPLATE', String(err && err.stack));
            // refused only for a reason: an empty value, a lone surrogate, or a dot segment
            let k = 0;
            const expected = segs.map((s) => (s.kind === 'literal' ? s.text : `${s.prefix}${values[k++]}${s.suffix}`));
            const reasonable =
              values.some((v) => v === '' || /[\uD800-\uDFFF]/.test(v)) ||
              expected.some((e) => isDotSegment(e) || isDotSegment(encodeURIComponent(e)));
            assert.ok(reasonable, `refused without reason: ${source} ${JSON.stringify(values)}: ${err.message}`);
            return;
          }
          const url = new URL(joinUrl(base, rendered));
          assert.strictEqual(url.host, 'api.example.com');
          assert.ok(url.pathname.startsWith('/base/'), url.pathname);
          const got = url.pathname.slice('/base/'.length).split('/');
          assert.strictEqual(got.length, segs.length, `${source} ${JSON.stringify(values)} → ${url.pathname}`);
          let k = 0;
          segs.forEach((s, i) => {
            if (s.kind === 'literal') assert.strictEqual(got[i], s.text);
            else assert.strictEqual(decodeURIComponent(got[i]), `${s.prefix}${values[k++]}${s.suffix}`);
          });
          assert.strictEqual(url.search, '?q=1');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('the reported case: ".." and "." in /v1/customers/{{payload.x}}/refunds are refused', function () {
    const t = compileTemplate('/v1/customers/{{payload.x}}/refunds');
    for (const x of ['..', '.']) {
      assert.throws(
        () => t.render({ payload: { x } }),
        (err) => err.code === 'TEMPLATE' && /change which path is called/.test(err.message),
        x,
      );
    }
    assert.strictEqual(t.render({ payload: { x: '...' } }), '/v1/customers/.../refunds');
    // an encoded dot in a value is encoded again: the server sees the characters %2e, never a dot segment
    assert.strictEqual(t.render({ payload: { x: '%2e%2e' } }), '/v1/customers/%252e%252e/refunds');
    assert.strictEqual(
      compileTemplate('/v1/customers/x{{payload.x}}/refunds').render({ payload: { x: '.' } }),
      '/v1/customers/x./refunds',
    );
    assert.strictEqual(t.render({ payload: { x: 'a/../b' } }), '/v1/customers/a%2F..%2Fb/refunds');
    assert.strictEqual(t.render({ payload: { x: '..\\' } }), '/v1/customers/..%5C/refunds');
    // two placeholders that together make ".."
    assert.throws(() => compileTemplate('/v1/{{a}}{{b}}/x').render({ a: '.', b: '.' }), /change which path is called/);
    // in the query a dot is just a value
    assert.strictEqual(compileTemplate('/v1/x?id={{a}}').render({ a: '..' }), '/v1/x?id=..');
  });
});

describe('property: the response parser', function () {
  this.timeout(60000);
  const contentTypes = fc.oneof(
    fc.constantFrom(
      undefined,
      '',
      'application/json',
      'application/problem+json',
      'text/xml',
      'application/xml',
      'application/x-www-form-urlencoded',
      'text/plain; charset=utf-8',
      'text/plain; charset=latin1',
      'text/plain; charset=nonsense',
      'application/octet-stream',
      'image/png',
      ';;;',
      'json',
    ),
    fc.string(),
    fc.array(fc.string(), { maxLength: 2 }),
  );

  it('any bytes under any Content-Type: resolves (never rejects) with a known format; a parse error only with text', async function () {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), contentTypes, async (bytes, ct) => {
        const r = await response.parseResponseBody(Buffer.from(bytes), ct);
        assert.ok(['json', 'xml', 'form', 'text', 'binary', 'empty'].includes(r.format));
        if (r.parseError !== undefined) assert.strictEqual(r.format, 'text');
        if (bytes.length === 0) assert.strictEqual(r.format, 'empty');
        const ex = response.bodyExcerpt(Buffer.from(bytes), ct, 20);
        assert.ok(Array.from(ex).length <= 20);
      }),
      { numRuns: RUNS },
    );
  });

  it('JSON round-trips', async function () {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (v) => {
        const text = JSON.stringify(v);
        const r = await response.parseResponseBody(Buffer.from(text, 'utf8'), 'application/json; charset=utf-8');
        if (text === '""') return;
        assert.strictEqual(r.format, 'json');
        assert.deepStrictEqual(r.value, JSON.parse(text));
      }),
      { numRuns: RUNS },
    );
  });

  it('form bodies round-trip; __proto__ and constructor are plain fields', async function () {
    const key = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString'),
      fc.string({ minLength: 1 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, fc.string()), { minLength: 1, maxLength: 6 }), async (pairs) => {
        const text = new URLSearchParams(pairs).toString();
        const r = await response.parseResponseBody(Buffer.from(text), 'application/x-www-form-urlencoded');
        assert.strictEqual(r.format, 'form');
        assert.strictEqual(Object.getPrototypeOf(r.value), Object.prototype);
        for (const [k] of pairs) assert.ok(Object.prototype.hasOwnProperty.call(r.value, k), k);
        assert.strictEqual({}.polluted, undefined);
      }),
      { numRuns: RUNS },
    );
  });

  it('deep nesting (100,000 levels) and a huge string end with a result, not a crash', async function () {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    let r = await response.parseResponseBody(Buffer.from(deep), 'application/json');
    assert.ok(r.format === 'json' || (r.format === 'text' && r.parseError));
    const deepXml = '<a>'.repeat(20000) + '</a>'.repeat(20000);
    r = await response.parseResponseBody(Buffer.from(deepXml), 'application/xml');
    assert.ok(['xml', 'text'].includes(r.format));
    r = await response.parseResponseBody(Buffer.from(JSON.stringify('x'.repeat(5 * 1024 * 1024))), 'application/json');
    assert.strictEqual(r.value.length, 5 * 1024 * 1024);
  });
});
