'use strict';
const assert = require('node:assert');
const qs = require('qs');
const enc = require('../../dist/nodes/lib/encoding');

const defaults = () => enc.readConfig({});
const run = (payload, overrides) => enc.encode(payload, Object.assign(defaults(), overrides || {}));

/** Asserts that fn throws an IntegrationError with this code; returns it. */
function throwsCode(fn, code) {
  let caught;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected ${code} to be thrown`);
  assert.strictEqual(caught.code, code, caught.message);
  assert.ok(Array.isArray(caught.details) && caught.details.length > 0, 'details listed');
  return caught;
}

describe('format encoder: configuration', function () {
  it('has the editor defaults', function () {
    assert.deepStrictEqual(defaults(), {
      format: 'json',
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
    });
  });

  it('reads "true"/"false" strings as booleans', function () {
    const c = enc.readConfig({ pretty: 'true', csvHeader: 'false' });
    assert.strictEqual(c.pretty, true);
    assert.strictEqual(c.csvHeader, false);
  });

  it('reports an unknown format', function () {
    const err = throwsCode(() => run({}, { format: 'yaml' }), 'ENCODE_CONFIG');
    assert.strictEqual(err.details[0].field, 'format');
  });

  it('checks the delimiter, columns and XML names for the chosen format only', function () {
    assert.deepStrictEqual(enc.checkConfig({ ...defaults(), csvDelimiter: ';;', xmlRoot: '1x' }), []);
    const csv = enc.checkConfig({ ...defaults(), format: 'csv', csvDelimiter: ';;', csvColumns: 'a,,a' });
    assert.deepStrictEqual(
      csv.map((d) => d.field),
      ['csvDelimiter', 'csvColumns', 'csvColumns'],
    );
    for (const bad of ['"', '\r', '\n', '', 'ab']) {
      assert.strictEqual(
        enc.checkConfig({ ...defaults(), format: 'csv', csvDelimiter: bad }).length,
        1,
        JSON.stringify(bad),
      );
    }
    assert.deepStrictEqual(enc.checkConfig({ ...defaults(), format: 'csv', csvDelimiter: '\\t' }), []);
    const xml = enc.checkConfig({ ...defaults(), format: 'xml', xmlRoot: '1x', xmlItem: 'an item' });
    assert.deepStrictEqual(
      xml.map((d) => d.field),
      ['xmlRoot', 'xmlItem'],
    );
  });

  it('parses column lists', function () {
    assert.deepStrictEqual(enc.parseColumns(' id , name,email '), { columns: ['id', 'name', 'email'], problems: [] });
    assert.deepStrictEqual(enc.parseColumns('   '), { columns: [], problems: [] });
    assert.strictEqual(enc.parseColumns(',a').problems.length, 1);
    assert.strictEqual(enc.parseColumns('a,').problems.length, 1);
    assert.strictEqual(enc.parseColumns('a,b,a').problems.length, 1);
  });
});

describe('format encoder: JSON', function () {
  it('encodes compact by default', function () {
    const r = run({ a: 1, b: [true, null], c: 'x' });
    assert.strictEqual(r.body, '{"a":1,"b":[true,null],"c":"x"}');
    assert.strictEqual(r.contentType, 'application/json; charset=utf-8');
    assert.strictEqual(r.format, 'json');
  });

  it('indents with two spaces when pretty', function () {
    assert.strictEqual(run({ a: 1, b: [2] }, { pretty: true }).body, '{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
  });

  it('takes any JSON value', function () {
    assert.strictEqual(run('text').body, '"text"');
    assert.strictEqual(run(42).body, '42');
    assert.strictEqual(run(null).body, 'null');
    assert.strictEqual(run([1, 'a']).body, '[1,"a"]');
  });

  it('names the path of a circular reference', function () {
    const p = { a: { b: {} } };
    p.a.b.self = p;
    const err = throwsCode(() => run(p), 'ENCODE_JSON');
    assert.strictEqual(err.message, 'payload contains a circular reference at payload.a.b.self');
    assert.strictEqual(err.details[0].field, 'payload.a.b.self');
  });

  it('does not mistake a shared (non-circular) reference for a cycle', function () {
    const shared = { x: 1 };
    assert.strictEqual(run({ a: shared, b: shared }).body, '{"a":{"x":1},"b":{"x":1}}');
  });

  it('names the path of a BigInt, and lists every problem', function () {
    const list = [1];
    list.push(list);
    const err = throwsCode(() => run({ items: [{ n: 1n }], list }), 'ENCODE_JSON');
    assert.match(err.message, /BigInt at payload\.items\[0\]\.n/);
    assert.match(err.message, /and 1 more problem/);
    assert.deepStrictEqual(
      err.details.map((d) => d.field),
      ['payload.items[0].n', 'payload.list[1]'],
    );
  });

  it('rejects undefined and functions, which have no JSON form', function () {
    throwsCode(() => run(undefined), 'ENCODE_JSON');
    throwsCode(() => run(() => 1), 'ENCODE_JSON');
  });
});

describe('format encoder: CSV', function () {
  const csv = (payload, o) => run(payload, Object.assign({ format: 'csv' }, o || {})).body;

  it('writes a header row and CRLF after every record', function () {
    assert.strictEqual(
      csv([
        { id: 1, name: 'Ann' },
        { id: 2, name: 'Bo' },
      ]),
      'id,name\r\n1,Ann\r\n2,Bo\r\n',
    );
  });

  it('takes one object as one record', function () {
    assert.strictEqual(csv({ id: 1, name: 'Ann' }), 'id,name\r\n1,Ann\r\n');
  });

  it('leaves the header out when asked, and says so in the Content-Type', function () {
    const r = run([{ id: 1 }], { format: 'csv', csvHeader: false });
    assert.strictEqual(r.body, '1\r\n');
    assert.strictEqual(r.contentType, 'text/csv; charset=utf-8; header=absent');
    assert.strictEqual(run([{ id: 1 }], { format: 'csv' }).contentType, 'text/csv; charset=utf-8; header=present');
  });

  it('quotes a field with the delimiter, a quote, CR or LF (RFC 4180)', function () {
    const out = csv([{ a: 'x,y', b: 'say "hi"', c: 'l1\r\nl2', d: 'cr\ronly', e: 'lf\nonly', f: 'plain' }]);
    assert.strictEqual(out, 'a,b,c,d,e,f\r\n"x,y","say ""hi""","l1\r\nl2","cr\ronly","lf\nonly",plain\r\n');
  });

  it('uses another delimiter and quotes by it, not by commas', function () {
    assert.strictEqual(csv([{ a: 'x;y', b: 'p,q' }], { csvDelimiter: ';' }), 'a;b\r\n"x;y";p,q\r\n');
    assert.strictEqual(csv([{ a: 1, b: 2 }], { csvDelimiter: '\\t' }), 'a\tb\r\n1\t2\r\n');
  });

  it('follows the configured column order; missing values are empty', function () {
    const out = csv([{ name: 'Ann', id: 1, extra: 'x' }, { id: 2 }], { csvColumns: 'id, name ,email' });
    assert.strictEqual(out, 'id,name,email\r\n1,Ann,\r\n2,,\r\n');
  });

  it('takes the columns from the first record when none are configured', function () {
    assert.strictEqual(
      csv([
        { b: 1, a: 2 },
        { a: 3, b: 4, c: 5 },
      ]),
      'b,a\r\n1,2\r\n4,3\r\n',
    );
  });

  it('writes booleans, null, undefined and dates as documented', function () {
    const out = csv([
      { t: true, f: false, n: null, u: undefined, d: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), big: 12n },
    ]);
    assert.strictEqual(out, 't,f,n,u,d,big\r\ntrue,false,,,2024-01-02T03:04:05.000Z,12\r\n');
  });

  it('gives an empty body for no records and no columns, a header only with columns', function () {
    assert.strictEqual(csv([]), '');
    assert.strictEqual(csv([], { csvColumns: 'a,b' }), 'a,b\r\n');
  });

  describe('formula-injection guard', function () {
    const cases = { '=': '=1+2', '+': '+1', '-': '-1', '@': '@SUM(A1)', tab: '\tx', cr: '\rx' };
    for (const [label, value] of Object.entries(cases)) {
      it(`prefixes a cell starting with ${label} with ' when on, not when off`, function () {
        const guarded = csv([{ v: value }])
          .split('\r\n')
          .slice(1)
          .join('\r\n');
        const plain = csv([{ v: value }], { csvGuard: false })
          .split('\r\n')
          .slice(1)
          .join('\r\n');
        const quote = (s) => (/[",\r\n]/.test(s) ? `"${s}"` : s);
        assert.strictEqual(guarded, quote("'" + value) + '\r\n');
        assert.strictEqual(plain, quote(value) + '\r\n');
      });
    }

    it('leaves numbers alone (-5 stays -5), but guards the string "-5"', function () {
      assert.strictEqual(csv([{ n: -5, s: '-5' }]), "n,s\r\n-5,'-5\r\n");
    });

    it('leaves cells that only contain such characters later alone', function () {
      assert.strictEqual(csv([{ v: 'a=b', w: 'x-y' }]), 'v,w\r\na=b,x-y\r\n');
    });
  });

  it('rejects a nested object or array, naming the record index and the column', function () {
    const err = throwsCode(
      () =>
        csv(
          [
            { id: 1, ok: 'x' },
            { id: 2, address: { city: 'X' } },
          ],
          { csvColumns: 'id,address' },
        ),
      'ENCODE_CSV',
    );
    assert.match(err.message, /^record 1, column "address" holds a nested object/);
    assert.strictEqual(err.details[0].field, 'payload[1].address');
    const arr = throwsCode(() => csv({ tags: ['a'] }), 'ENCODE_CSV');
    assert.match(arr.message, /record 0, column "tags" holds an array/);
  });

  it('rejects records that are not objects, and a payload that is neither', function () {
    const err = throwsCode(() => csv([{ a: 1 }, 'text', null]), 'ENCODE_CSV');
    assert.deepStrictEqual(
      err.details.map((d) => d.field),
      ['payload[1]', 'payload[2]'],
    );
    assert.match(err.message, /record 1 is a string/);
    throwsCode(() => csv('a,b'), 'ENCODE_CSV');
    throwsCode(() => csv(5), 'ENCODE_CSV');
  });
});

describe('format encoder: XML', function () {
  const xml = (payload, o) => run(payload, Object.assign({ format: 'xml' }, o || {})).body;
  const DECL = '<?xml version="1.0" encoding="UTF-8"?>';

  it('puts the keys inside the root element, with the declaration', function () {
    const r = run({ id: 1, name: 'Ann & <Bo>', paid: true, none: null }, { format: 'xml' });
    assert.strictEqual(
      r.body,
      `${DECL}<root><id>1</id><name>Ann &amp; &lt;Bo&gt;</name><paid>true</paid><none/></root>`,
    );
    assert.strictEqual(r.contentType, 'application/xml; charset=utf-8');
  });

  it('uses the configured root name even when the payload has one key', function () {
    assert.strictEqual(xml({ order: { id: 1 } }), `${DECL}<root><order><id>1</id></order></root>`);
    assert.strictEqual(
      xml({ order: { id: 1 } }, { xmlRoot: 'orders' }),
      `${DECL}<orders><order><id>1</id></order></orders>`,
    );
  });

  it('leaves the declaration out when asked', function () {
    assert.strictEqual(xml({ a: 1 }, { xmlDeclaration: false }), '<root><a>1</a></root>');
  });

  it('turns a top-level array into repeated item elements', function () {
    assert.strictEqual(
      xml([{ sku: 'A' }, 'B', 3], { xmlRoot: 'orders', xmlItem: 'order', xmlDeclaration: false }),
      '<orders><order><sku>A</sku></order><order>B</order><order>3</order></orders>',
    );
  });

  it('repeats the key element for a nested array', function () {
    assert.strictEqual(
      xml({ line: [{ sku: 'A' }, { sku: 'B' }], tag: ['x', 'y'] }, { xmlDeclaration: false }),
      '<root><line><sku>A</sku></line><line><sku>B</sku></line><tag>x</tag><tag>y</tag></root>',
    );
  });

  it('writes attributes from $ and text from _', function () {
    assert.strictEqual(
      xml(
        { $: { version: 2 }, price: { $: { currency: 'EUR', note: 'a "b" & c' }, _: '9.50' } },
        { xmlDeclaration: false },
      ),
      '<root version="2"><price currency="EUR" note="a &quot;b&quot; &amp; c">9.50</price></root>',
    );
  });

  it('indents with two spaces when pretty', function () {
    assert.strictEqual(xml({ a: { b: 1 } }, { pretty: true }), `${DECL}\n<root>\n  <a>\n    <b>1</b>\n  </a>\n</root>`);
  });

  it('writes dates as ISO strings and leaves undefined out', function () {
    assert.strictEqual(
      xml({ at: new Date(Date.UTC(2024, 0, 2)), u: undefined }, { xmlDeclaration: false }),
      '<root><at>2024-01-02T00:00:00.000Z</at></root>',
    );
  });

  it('rejects characters XML 1.0 forbids, naming the field', function () {
    const bad = [
      '\u0000',
      '\u0001',
      '\u0008',
      '\u000B',
      '\u000C',
      '\u000E',
      '\u001F',
      '\uFFFE',
      '\uFFFF',
      '\uD800',
      'x\uDC00',
    ];
    for (const s of bad) {
      const err = throwsCode(() => xml({ order: { note: `a${s}b` } }), 'ENCODE_XML');
      assert.strictEqual(err.details[0].field, 'payload.order.note', JSON.stringify(s));
      assert.match(err.message, /^payload\.order\.note contains U\+[0-9A-F]{4}.* not allowed in XML 1\.0/);
    }
    const attr = throwsCode(() => xml({ a: { $: { id: 'x\u0002' } } }), 'ENCODE_XML');
    assert.strictEqual(attr.details[0].field, 'payload.a.$.id');
    const inArray = throwsCode(() => xml([{ ok: 'y' }, { n: '\u0003' }]), 'ENCODE_XML');
    assert.strictEqual(inArray.details[0].field, 'payload[1].n');
  });

  it('accepts tab, CR, LF, astral characters and a valid surrogate pair', function () {
    assert.strictEqual(xml({ a: 'x\ty\nz😀' }, { xmlDeclaration: false }), '<root><a>x\ty\nz😀</a></root>');
  });

  it('rejects invalid element and attribute names, naming each', function () {
    const err = throwsCode(() => xml({ '1st': 1, 'first name': 2, ok: { $: { 'a b': 1 } } }), 'ENCODE_XML');
    assert.deepStrictEqual(
      err.details.map((d) => d.field),
      ['payload["1st"]', 'payload["first name"]', 'payload.ok.$["a b"]'],
    );
    assert.match(err.details[0].reason, /cannot start with "1"/);
    assert.match(err.details[1].reason, /contains a space/);
    assert.ok(enc.isXmlName('ns:order-line_2.x'));
    assert.ok(enc.isXmlName('überweisung'));
    assert.ok(!enc.isXmlName('-a'));
    assert.ok(!enc.isXmlName(''));
  });

  it('rejects an array inside an array, cycles and non-object payloads', function () {
    throwsCode(() => xml({ a: [[1]] }), 'ENCODE_XML');
    throwsCode(() => xml([[1]]), 'ENCODE_XML');
    const p = { a: {} };
    p.a.back = p;
    const err = throwsCode(() => xml(p), 'ENCODE_XML');
    assert.strictEqual(err.details[0].field, 'payload.a.back');
    throwsCode(() => xml('<a/>'), 'ENCODE_XML');
    throwsCode(() => xml(null), 'ENCODE_XML');
  });
});

describe('format encoder: form-urlencoded (Stripe style)', function () {
  const form = (payload) => run(payload, { format: 'form' }).body;

  it('nests objects with brackets: metadata[order_id]', function () {
    const r = run({ amount: 1000, currency: 'usd', metadata: { order_id: '6735' } }, { format: 'form' });
    assert.strictEqual(r.body, 'amount=1000&currency=usd&metadata[order_id]=6735');
    assert.strictEqual(r.contentType, 'application/x-www-form-urlencoded; charset=utf-8');
  });

  it('indexes arrays of objects: line_items[0][price]', function () {
    assert.strictEqual(
      form({
        line_items: [
          { price: 'p_1', quantity: 2 },
          { price: 'p_2', quantity: 1 },
        ],
        mode: 'payment',
      }),
      'line_items[0][price]=p_1&line_items[0][quantity]=2&line_items[1][price]=p_2&line_items[1][quantity]=1&mode=payment',
    );
  });

  it('uses empty brackets for arrays of plain values: expand[]', function () {
    assert.strictEqual(form({ expand: ['customer', 'invoice'] }), 'expand[]=customer&expand[]=invoice');
  });

  it('nests deeper: items[0][tax_rates][] and items[0][price_data][product_data][name]', function () {
    assert.strictEqual(
      form({ items: [{ tax_rates: ['txr_1', 'txr_2'], price_data: { product_data: { name: 'T-shirt' } } }] }),
      'items[0][tax_rates][]=txr_1&items[0][tax_rates][]=txr_2&items[0][price_data][product_data][name]=T-shirt',
    );
  });

  it('writes booleans, leaves null and undefined out, keeps empty strings', function () {
    assert.strictEqual(form({ a: true, b: false, c: null, d: undefined, e: '', f: 0 }), 'a=true&b=false&e=&f=0');
  });

  it('encodes spaces as + and the rest as UTF-8 percent-escapes, like URLSearchParams', function () {
    const value = "Ann & Bo = 100% [ok]? a+b/c ~!'()*-._ é € 😀";
    const expected = new URLSearchParams({ v: value }).toString().slice(2);
    assert.strictEqual(form({ v: value }), `v=${expected}`);
    assert.strictEqual(form({ name: 'Zoë 😀', city: 'São Paulo' }), 'name=Zo%C3%AB+%F0%9F%98%80&city=S%C3%A3o+Paulo');
  });

  it('keeps structural brackets literal but encodes other characters in names', function () {
    assert.strictEqual(
      form({ metadata: { 'order id': 'x&y', café: 1 } }),
      'metadata[order+id]=x%26y&metadata[caf%C3%A9]=1',
    );
  });

  it('round-trips through qs.parse', function () {
    const payload = {
      amount: 1000,
      currency: 'usd',
      description: 'Ann & Bo: 10% off, "quoted" ☕',
      metadata: { order_id: '6735', note: 'a=b&c' },
      line_items: [
        { price: 'p_1', quantity: 2 },
        { price: 'p_2', quantity: 1, tax_rates: ['txr_1'] },
      ],
      expand: ['customer', 'invoice'],
      capture: false,
    };
    const parsed = qs.parse(form(payload));
    const asStrings = JSON.parse(
      JSON.stringify(payload, (k, v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v)),
    );
    assert.deepStrictEqual(parsed, asStrings);
  });

  it('rejects arrays inside arrays, bracketed or empty names, lone surrogates, non-finite numbers', function () {
    const err = throwsCode(() => form({ a: [[1, 2]], 'b[x]': 1, c: { '': 1 }, d: NaN, e: 'x\uD800' }), 'ENCODE_FORM');
    assert.deepStrictEqual(
      err.details.map((d) => d.field),
      ['payload.a[0]', 'payload["b[x]"]', 'payload.c[""]', 'payload.d', 'payload.e'],
    );
    assert.match(err.message, /payload\.a\[0\] is an array inside an array/);
    assert.match(err.message, /and 4 more problems/);
  });

  it('rejects cycles and a payload that is not an object', function () {
    const p = { a: {} };
    p.a.p = p;
    const err = throwsCode(() => form(p), 'ENCODE_FORM');
    assert.strictEqual(err.details[0].field, 'payload.a.p');
    throwsCode(() => form(['a']), 'ENCODE_FORM');
    throwsCode(() => form('a=b'), 'ENCODE_FORM');
    throwsCode(() => form(null), 'ENCODE_FORM');
  });
});
