'use strict';
/**
 * nodes/lib/http-post/settings.ts: every field of the HTTP POST node, read
 * from its flow config and credentials — what is accepted, what is refused
 * (a problem naming the field: the node refuses every message), what falls
 * back to the default or is clamped (an adjustment naming the field), and the
 * defaults of a node saved before a field existed.
 */
const assert = require('node:assert');
const {
  parseHttpPostSettings,
  endpointProblem,
  problemOf,
  DEFAULTS,
} = require('../../dist/nodes/lib/http-post/settings.js');
const { IntegrationError } = require('../../dist/nodes/lib/errors.js');

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');

/** the editor defaults of saypro-http-post (nodes/http-post.html) */
const EDITOR_DEFAULTS = {
  method: '',
  path: '',
  headers: [],
  msgHeaders: true,
  maxAttempts: 5,
  initialDelay: 1000,
  maxDelay: 30000,
  maxRetryAfter: 120,
  idempotencyHeader: 'Idempotency-Key',
  successStatuses: '',
  sign: false,
  durable: true,
  queue: 'local',
  maxQueued: 10000,
  maxQueuedMB: 100,
  fullPolicy: 'refuse',
  orderingKey: '',
  maxDeadLetters: 10000,
  writeBehind: 100,
  deadline: '',
  keyLifetime: '',
};

function parse(props, context) {
  return parseHttpPostSettings({ ...EDITOR_DEFAULTS, ...props }, context);
}

/** the one problem the settings have, asserted to name `field` */
function onlyProblem(r, field) {
  assert.deepStrictEqual(
    r.problems.map((p) => p.field),
    [field],
    JSON.stringify(r.problems.map((p) => [p.field, p.message])),
  );
  const p = r.problems[0];
  assert.ok(p.error instanceof IntegrationError);
  assert.ok(p.message.length > 0);
  return p;
}

function accepts(props, context) {
  const r = parse(props, context);
  assert.deepStrictEqual(r.problems, [], JSON.stringify(r.problems.map((p) => p.message)));
  assert.deepStrictEqual(r.adjusted, []);
  return r.settings;
}

describe('http post settings (lib/http-post/settings)', function () {
  it('the editor defaults: no problem, the documented values', function () {
    const s = accepts({});
    assert.strictEqual(s.method, undefined);
    assert.strictEqual(s.template.render({}), '');
    assert.deepStrictEqual(s.headers, []);
    assert.strictEqual(s.msgHeaders, true);
    assert.strictEqual(s.maxAttempts, 5);
    assert.strictEqual(s.initialDelay, 1000);
    assert.strictEqual(s.maxDelay, 30000);
    assert.strictEqual(s.maxRetryAfter, 120);
    assert.strictEqual(s.idempotencyHeader, 'Idempotency-Key');
    assert.strictEqual(s.alsoSuccess, undefined);
    assert.strictEqual(s.deadlineS, 0);
    assert.strictEqual(s.keyLifetimeMs, 0);
    assert.strictEqual(s.signingSecret, undefined);
    assert.strictEqual(s.durable, true);
    assert.strictEqual(s.maxQueued, 10000);
    assert.strictEqual(s.maxQueuedMB, 100);
    assert.strictEqual(s.maxDeadLetters, 10000);
    assert.strictEqual(s.fullPolicy, 'refuse');
    assert.strictEqual(s.orderingKey, '');
    assert.strictEqual(s.outboxKey, undefined);
    assert.strictEqual(s.writeBehindMs, 100);
  });

  it('writeBehind (ms): 0 to 60000, 100 when blank or missing; clamped outside, the default for text', function () {
    for (const v of [0, 1, 250, '500', 60000]) assert.strictEqual(accepts({ writeBehind: v }).writeBehindMs, Number(v));
    for (const v of [undefined, '', '  ']) assert.strictEqual(accepts({ writeBehind: v }).writeBehindMs, 100);
    assert.strictEqual(parseHttpPostSettings({}).settings.writeBehindMs, 100, 'a node saved before the option');
    for (const [v, used] of [
      [-1, 0],
      [60001, 60000],
      ['abc', 100],
      [2.5, 100],
    ]) {
      const r = parse({ writeBehind: v });
      assert.deepStrictEqual(r.problems, []);
      assert.strictEqual(r.settings.writeBehindMs, used, String(v));
      assert.deepStrictEqual(
        r.adjusted.map((a) => a.field),
        ['writeBehind'],
      );
    }
  });

  it('a node saved before any option existed ({}): the same defaults, durable, msg.headers not merged', function () {
    const r = parseHttpPostSettings({});
    assert.deepStrictEqual(r.problems, []);
    assert.deepStrictEqual(r.adjusted, []);
    assert.deepStrictEqual(r.warnings, []);
    const s = r.settings;
    assert.strictEqual(s.msgHeaders, false, 'only true merges');
    assert.strictEqual(s.durable, true);
    for (const k of ['maxAttempts', 'initialDelay', 'maxDelay', 'maxRetryAfter', 'maxQueued', 'maxQueuedMB'])
      assert.strictEqual(s[k], DEFAULTS[k], k);
    assert.strictEqual(s.idempotencyHeader, 'Idempotency-Key');
  });

  describe('method', function () {
    it('accepts POST, PUT, PATCH, GET; empty is the endpoint default', function () {
      for (const m of ['POST', 'PUT', 'PATCH', 'GET']) assert.strictEqual(accepts({ method: m }).method, m);
      assert.strictEqual(accepts({ method: '' }).method, undefined);
      assert.strictEqual(accepts({ method: undefined }).method, undefined);
    });
    it('refuses anything else, naming the field', function () {
      for (const m of ['DELETE', 'post', 'X']) {
        const p = onlyProblem(parse({ method: m }), 'method');
        assert.strictEqual(p.error.code, 'INVALID_CONFIG');
        assert.strictEqual(p.status, 'invalidConfig');
        assert.match(p.message, /POST, PUT, PATCH or GET/);
      }
    });
  });

  describe('path', function () {
    it('accepts a template and renders it (URL-encoded)', function () {
      const s = accepts({ path: '/v1/customers/{{event.data.id}}' });
      assert.strictEqual(s.template.render({ event: { data: { id: 'a b' } } }), '/v1/customers/a%20b');
    });
    it('refuses unbalanced braces', function () {
      const p = onlyProblem(parse({ path: '/x/{{event.id' }), 'path');
      assert.strictEqual(p.error.code, 'TEMPLATE');
      assert.strictEqual(parse({ path: '/x/{{event.id' }).settings.template, undefined);
    });
  });

  describe('headers', function () {
    it('accepts a table of names and values; empty names are skipped', function () {
      const headers = [
        { name: 'X-Api-Version', value: '2' },
        { name: '', value: 'ignored' },
      ];
      assert.deepStrictEqual(accepts({ headers }).headers, headers);
      assert.deepStrictEqual(accepts({ headers: 'not a list' }).headers, []);
    });
    it('refuses a bad name or a value with a line break, listing every header', function () {
      const p = onlyProblem(
        parse({
          headers: [
            { name: 'Bad Name', value: 'x' },
            { name: 'X-Ok', value: 'a\r\nInjected: 1' },
          ],
        }),
        'headers',
      );
      assert.strictEqual(p.error.code, 'INVALID_HEADER');
      assert.strictEqual(p.error.details.length, 2);
      assert.match(p.message, /not a valid header name/);
    });
  });

  it('msgHeaders: only true merges msg.headers', function () {
    assert.strictEqual(accepts({ msgHeaders: true }).msgHeaders, true);
    assert.strictEqual(accepts({ msgHeaders: false }).msgHeaders, false);
    assert.strictEqual(accepts({ msgHeaders: 'true' }).msgHeaders, false);
  });

  describe('numbers (attempts, delays, queue sizes)', function () {
    const CASES = [
      // field, accepted, below (→ min), above (→ max), fraction refused?
      ['maxAttempts', [1, 20, '3'], [0, 1], [21, 20], true],
      ['initialDelay', [0, 86400000, '250'], [-1, 0], [86400001, 86400000], true],
      ['maxDelay', [0, 86400000], [-5, 0], [1e12, 86400000], true],
      ['maxRetryAfter', [0, 86400], [-1, 0], [86401, 86400], true],
      ['maxQueued', [1, 10000000], [0, 1], [10000001, 10000000], true],
      ['maxQueuedMB', [0.5, 1048576, '2.5'], [0, 0.001], [1048577, 1048576], false],
      ['maxDeadLetters', [0, 10000000], [-1, 0], [10000001, 10000000], true],
    ];
    for (const [field, ok, [below, min], [above, max], wholeOnly] of CASES) {
      it(`${field}: accepts ${ok.join(', ')}; clamps ${below} and ${above}; the default for text or blanks`, function () {
        for (const v of ok) assert.strictEqual(accepts({ [field]: v })[field], Number(v));
        for (const [v, used] of [
          [below, min],
          [above, max],
        ]) {
          const r = parse({ [field]: v });
          assert.deepStrictEqual(r.problems, [], 'a number out of range does not stop the node');
          assert.strictEqual(r.settings[field], used);
          assert.deepStrictEqual(
            r.adjusted.map((a) => [a.field, a.used]),
            [[field, used]],
          );
        }
        for (const v of ['abc', NaN, Infinity, {}, true, ...(wholeOnly ? [1.5, '2.5'] : [])]) {
          const r = parse({ [field]: v });
          assert.strictEqual(r.settings[field], DEFAULTS[field], `${field} = ${String(v)}`);
          assert.deepStrictEqual(
            r.adjusted.map((a) => a.field),
            [field],
          );
          assert.match(r.adjusted[0].message, /default/);
        }
        for (const v of [undefined, '', '  ', null]) {
          const r = parse({ [field]: v });
          assert.strictEqual(r.settings[field], DEFAULTS[field]);
          assert.deepStrictEqual(r.adjusted, []);
        }
      });
    }
  });

  describe('idempotency header', function () {
    it('accepts a header name (trimmed), empty for none; missing is Idempotency-Key', function () {
      assert.strictEqual(accepts({ idempotencyHeader: ' X-Request-Id ' }).idempotencyHeader, 'X-Request-Id');
      assert.strictEqual(accepts({ idempotencyHeader: '' }).idempotencyHeader, '');
      assert.strictEqual(accepts({ idempotencyHeader: undefined }).idempotencyHeader, 'Idempotency-Key');
    });
    it('refuses a name with spaces or a colon', function () {
      for (const v of ['Idem Key', 'Key:']) onlyProblem(parse({ idempotencyHeader: v }), 'idempotencyHeader');
    });
  });

  describe('success statuses', function () {
    it('accepts codes, classes and ranges besides 2xx', function () {
      const s = accepts({ successStatuses: '409, 3xx, 400-404' });
      assert.deepStrictEqual(
        [409, 301, 402, 405, 500].map((c) => s.alsoSuccess(c)),
        [true, true, true, false, false],
      );
      assert.strictEqual(accepts({ successStatuses: '  ' }).alsoSuccess, undefined);
      assert.strictEqual(accepts({ successStatuses: undefined }).alsoSuccess, undefined);
    });
    it('refuses 599-100 (an empty range), 6xx, 600, a stray comma and words', function () {
      for (const v of ['599-100', '409, 6xx', '600', '409,', 'conflict']) {
        const p = onlyProblem(parse({ successStatuses: v }), 'successStatuses');
        assert.strictEqual(p.error.code, 'INVALID_CONFIG');
        assert.strictEqual(p.error.details[0].value, v);
      }
      const p = parse({ successStatuses: '599-100' }).problems[0];
      assert.match(p.message, /empty range/);
      // msg.error.message states the reason itself, not only that something is wrong
      assert.match(p.error.message, /^The extra success statuses are not valid: 599-100 is an empty range/);
    });
  });

  describe('deadline', function () {
    it('accepts 0 to 3600 seconds; blank is none', function () {
      assert.strictEqual(accepts({ deadline: '2.5', durable: false }).deadlineS, 2.5);
      assert.strictEqual(accepts({ deadline: 3600, durable: false }).deadlineS, 3600);
      assert.strictEqual(accepts({ deadline: '' }).deadlineS, 0);
    });
    it('refuses negative, too long or text', function () {
      for (const v of ['-1', '3601', 'soon']) onlyProblem(parse({ deadline: v, durable: false }), 'deadline');
    });
    it('warns that it does not apply to the durable queue', function () {
      const r = parse({ deadline: '5', durable: true });
      assert.deepStrictEqual(r.problems, []);
      assert.deepStrictEqual(r.warnings, [{ field: 'deadline', key: 'http-post.errors.deadlineDurable' }]);
    });
  });

  describe('key lifetime', function () {
    it('accepts hours, none when blank or without an idempotency header', function () {
      assert.strictEqual(accepts({ keyLifetime: '24' }).keyLifetimeMs, 24 * 3600_000);
      assert.strictEqual(accepts({ keyLifetime: '' }).keyLifetimeMs, 0);
      assert.strictEqual(accepts({ keyLifetime: '24', idempotencyHeader: '' }).keyLifetimeMs, 0);
    });
    it('refuses negative, more than a year, text', function () {
      for (const v of ['-1', '9000', 'a day']) onlyProblem(parse({ keyLifetime: v }), 'keyLifetime');
    });
    it('warns when the retries could outlast the key', function () {
      const r = parse({ keyLifetime: '0.01', maxAttempts: 20, maxDelay: 3600000 });
      assert.deepStrictEqual(r.problems, []);
      assert.deepStrictEqual(
        r.warnings.map((w) => [w.field, w.key]),
        [['keyLifetime', 'http-post.errors.keyLifetimeShort']],
      );
      assert.ok(r.warnings[0].vars.lifetime);
    });
  });

  describe('signing secret (credential)', function () {
    it('not read unless signing is on', function () {
      assert.strictEqual(accepts({ sign: false }, { credentials: { signingSecret: 'junk' } }).signingSecret, undefined);
    });
    it('accepts whsec_… directly or through ${VAR}', function () {
      assert.strictEqual(
        accepts({ sign: true }, { credentials: { signingSecret: ` ${SECRET} ` } }).signingSecret,
        SECRET,
      );
      const s = accepts({ sign: true }, { credentials: { signingSecret: '${HOOK}' }, env: { HOOK: SECRET } });
      assert.strictEqual(s.signingSecret, SECRET);
    });
    it('refuses a missing, unset or malformed secret without showing it', function () {
      const cases = [
        [undefined, {}, /no signing secret/i],
        ['${HOOK}', {}, /variable HOOK, which is not set/],
        ['not-a-secret', {}, /whsec_/],
      ];
      for (const [value, env, re] of cases) {
        const p = onlyProblem(parse({ sign: true }, { credentials: { signingSecret: value }, env }), 'signingSecret');
        assert.strictEqual(p.error.code, 'INVALID_SECRET');
        assert.strictEqual(p.status, 'invalidSecret');
        assert.match(p.error.message, re);
        assert.ok(!JSON.stringify(p.error.toJSON()).includes('not-a-secret'));
      }
    });
  });

  describe('durable', function () {
    it('on unless false or "false"', function () {
      assert.strictEqual(accepts({ durable: undefined }).durable, true);
      assert.strictEqual(accepts({ durable: 'true' }).durable, true);
      assert.strictEqual(accepts({ durable: false }).durable, false);
      assert.strictEqual(accepts({ durable: 'false' }).durable, false);
    });
  });

  describe('full policy', function () {
    it('accepts refuse and dead-letter-oldest; blank is refuse', function () {
      assert.strictEqual(accepts({ fullPolicy: 'dead-letter-oldest' }).fullPolicy, 'dead-letter-oldest');
      assert.strictEqual(accepts({ fullPolicy: '' }).fullPolicy, 'refuse');
      assert.strictEqual(accepts({ fullPolicy: undefined }).fullPolicy, 'refuse');
    });
    it('refuses anything else', function () {
      onlyProblem(parse({ fullPolicy: 'drop' }), 'fullPolicy');
    });
  });

  describe('ordering key', function () {
    it('accepts a property path, with or without msg.; blank is none', function () {
      assert.strictEqual(accepts({ orderingKey: ' msg.event.data.listingId ' }).orderingKey, 'event.data.listingId');
      assert.strictEqual(accepts({ orderingKey: 'items[0].id' }).orderingKey, 'items[0].id');
      assert.strictEqual(accepts({ orderingKey: '' }).orderingKey, '');
    });
    it('refuses what is not a path (by the rule the glue hands in, else the package rule)', function () {
      onlyProblem(parse({ orderingKey: 'a..b' }), 'orderingKey');
      const p = onlyProblem(
        parse({ orderingKey: 'ok.path' }, { propertyPathProblem: (path) => `rejected ${path}` }),
        'orderingKey',
      );
      assert.strictEqual(p.message, 'rejected ok.path');
    });
  });

  describe('queue encryption key (credential)', function () {
    it('accepts a passphrase or ${VAR}; blank is no encryption', function () {
      assert.strictEqual(accepts({}, { credentials: { outboxKey: 'pass phrase' } }).outboxKey, 'pass phrase');
      assert.strictEqual(accepts({}, { credentials: { outboxKey: '${K}' }, env: { K: 'k1' } }).outboxKey, 'k1');
      assert.strictEqual(accepts({}, { credentials: { outboxKey: '  ' } }).outboxKey, undefined);
    });
    it('refuses a ${VAR} that is not set', function () {
      const p = onlyProblem(parse({}, { credentials: { outboxKey: '${NOPE_KEY}' }, env: {} }), 'outboxKey');
      assert.strictEqual(p.error.code, 'INVALID_SECRET');
      assert.match(p.message, /NOPE_KEY is not set/);
    });
  });

  it('several problems at once: each listed, in the order of the dialog', function () {
    const r = parse({ method: 'DELETE', successStatuses: '599-100', fullPolicy: 'drop' });
    assert.deepStrictEqual(
      r.problems.map((p) => p.field),
      ['method', 'successStatuses', 'fullPolicy'],
    );
  });

  it('endpoint: a problem when none is chosen or it is not deployed', function () {
    assert.strictEqual(endpointProblem('ep', true), undefined);
    const none = endpointProblem('', false);
    assert.strictEqual(none.field, 'endpoint');
    assert.strictEqual(none.status, 'noEndpoint');
    assert.strictEqual(none.message, 'choose an endpoint');
    assert.strictEqual(none.error.code, 'INVALID_CONFIG');
    assert.strictEqual(none.error.message, 'No endpoint is configured: choose an endpoint');
    assert.match(endpointProblem('gone', false).message, /does not exist/);
  });

  it('problemOf: an error found by the glue, named by its first detail', function () {
    const e = new IntegrationError('INVALID_CONFIG', 'The shared queue needs a NATS connection', [
      { field: 'nats', reason: 'choose a NATS connection' },
    ]);
    assert.deepStrictEqual((({ field, message, status }) => ({ field, message, status }))(problemOf(e)), {
      field: 'nats',
      message: 'choose a NATS connection',
      status: 'invalidConfig',
    });
  });
});
