'use strict';
/**
 * nodes/lib/http-post/status.ts: the HTTP POST node's status — the last
 * outcome and the queue shown at rest, the cause of a failure in plain words,
 * the worst current state's colour, and every text within 28 characters in
 * English (rendered with the package's own en-US catalogue).
 */
const assert = require('node:assert');
const path = require('node:path');
const fs = require('node:fs');
const st = require('../../dist/nodes/lib/http-post/status.js');

const { composeStatus, renderStatus, causeOf, pacingCause, outcomeOf, compact, cut, MAX_STATUS_CHARS } = st;

const CATALOGUE = JSON.parse(fs.readFileSync(path.join(__dirname, '../../locales/en-US/http-post.json'), 'utf8'));

/** what Node-RED's RED._ does with this catalogue: the text at the key, __name__ replaced */
function translate(key, vars) {
  const text = key
    .split('.')
    .reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), CATALOGUE);
  assert.strictEqual(typeof text, 'string', `no text for ${key}`);
  return text.replace(/__(\w+)__/g, (_, name) => {
    assert.ok(vars && name in vars, `${key} needs ${name}`);
    return String(vars[name]);
  });
}

const show = (facts) => renderStatus(composeStatus(facts), translate);

const OPEN = { state: 'open', depth: 0, oldestAgeMs: 0, sending: 0, deadLetters: 0, lost: 0 };
const queue = (q) => ({ queue: { ...OPEN, ...q } });
const NO_PACING = { offline: false, offlineCode: null, circuitOpen: false, paused: false };

/** failures as the delivery engine reports them, the longest values first */
const FAILURES = [
  { ok: false, code: 'HTTP_401', message: 'HTTP 401 (1 attempt)', statusCode: 401 },
  { ok: false, code: 'HTTP_599' },
  { ok: false, code: 'ENOTFOUND' },
  { ok: false, code: 'EAI_AGAIN' },
  { ok: false, code: 'ECONNREFUSED' },
  { ok: false, code: 'ECONNRESET' },
  { ok: false, code: 'EHOSTUNREACH' },
  { ok: false, code: 'TIMEOUT' },
  { ok: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
  { ok: false, code: 'SELF_SIGNED_CERT_IN_CHAIN' },
  { ok: false, code: 'CERT_HAS_EXPIRED' },
  { ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
  { ok: false, code: 'ERR_SSL_WRONG_VERSION_NUMBER' },
  { ok: false, code: 'PROXY_AUTH_REQUIRED' },
  { ok: false, code: 'PROXY_ERROR' },
  { ok: false, code: 'TARGET_BLOCKED' },
  { ok: false, code: 'RESPONSE_TOO_LARGE' },
  { ok: false, code: 'DEADLINE_EXCEEDED' },
  { ok: false, code: 'IDEMPOTENCY_WINDOW_PASSED' },
  { ok: false, code: 'CANCELLED' },
  { ok: false, code: 'OUTBOX_FULL' },
  { ok: false, code: 'OUTBOX_UNAVAILABLE' },
  { ok: false, code: 'OUTBOX_LOCKED' },
  { ok: false, code: 'TEMPLATE' },
  { ok: false, code: 'INVALID_HEADER' },
  { ok: false, code: 'INVALID_PAYLOAD' },
  { ok: false, code: 'INVALID_DEADLINE' },
  { ok: false, code: 'INVALID_CONFIG' },
  { ok: false, code: 'INVALID_SECRET' },
  { ok: false, code: 'OAUTH2_TOKEN' },
  { ok: false, code: 'INTERNAL_ERROR' },
  { ok: false, code: 'NETWORK_ERROR' },
  { ok: false, code: 'SOME_VERY_LONG_UNKNOWN_ERROR_CODE_FROM_A_LIBRARY' },
  {
    ok: false,
    code: 'PREPARE_FAILED',
    message: 'apiKey: environment variable PARTNER_API_KEY_FOR_THE_EU_REGION_PRODUCTION is not set (1 attempt)',
  },
  { ok: false, code: 'PREPARE_FAILED', message: 'password: environment variable P is not set (1 attempt)' },
  { ok: false, code: 'PREPARE_FAILED', message: 'baseUrl: environment variable SOME_BASE_URL_VARIABLE is not set' },
  {
    ok: false,
    code: 'PREPARE_FAILED',
    message: 'The token request to https://auth.example.com failed with HTTP 401: invalid_client (1 attempt)',
  },
  { ok: false, code: 'PREPARE_FAILED', message: 'baseUrl: expected an absolute http:// or https:// URL (1 attempt)' },
  { ok: false, code: 'PREPARE_FAILED', message: '' },
];

const PACINGS = [
  NO_PACING,
  ...['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', null].map(
    (offlineCode) => ({ ...NO_PACING, offline: true, offlineCode }),
  ),
  { ...NO_PACING, circuitOpen: true },
  { ...NO_PACING, paused: true },
];

const COUNTS = [0, 1, 999, 1234, 123_456, 10_000_000, 9e12];
const AGES = [0, 59_000, 3_600_000 * 5, 86_400_000 * 3, 86_400_000 * 99_999];
const ENDPOINT_STATUSES = [
  undefined,
  { fill: 'red', shape: 'ring', text: 'token failed' },
  { fill: 'green', shape: 'dot', text: 'token ok' },
];

/** every combination the node can show (some thousands), with what it shows */
let cached;
function everyFacts() {
  if (!cached) cached = [...combinations()].map((facts) => ({ facts, view: composeStatus(facts), shown: show(facts) }));
  return cached;
}

function* combinations() {
  for (const status of ['noEndpoint', 'invalidConfig', 'invalidSecret'])
    for (const field of ['endpoint', 'idempotencyHeader', 'aVeryLongFieldNameNobodyWouldUse', 'outboxKey'])
      yield { problem: { status, field } };
  for (const state of ['opening', 'unavailable', 'locked']) yield { queue: { ...OPEN, state } };
  const lasts = [undefined, { ok: true, status: 200 }, { ok: true, status: 599 }, ...FAILURES];
  // every outcome with every queue depth and dead-letter count (the pacing and the endpoint status taking turns) …
  let turn = 0;
  for (const last of lasts)
    for (const depth of COUNTS)
      for (const deadLetters of [0, 1, 123_456]) {
        turn++;
        const pacing = PACINGS[turn % PACINGS.length];
        const endpoint = ENDPOINT_STATUSES[turn % ENDPOINT_STATUSES.length];
        const oldestAgeMs = AGES[turn % AGES.length];
        yield { ...queue({ depth, deadLetters, sending: turn % 2, oldestAgeMs }), pacing, endpoint, last };
      }
  // … every pacing state with every depth and age, and every endpoint status at rest
  for (const pacing of PACINGS)
    for (const depth of COUNTS)
      for (const oldestAgeMs of AGES) yield { ...queue({ depth, oldestAgeMs, sending: depth % 2 }), pacing };
  for (const last of lasts) for (const endpoint of ENDPOINT_STATUSES) yield { ...queue({}), last, endpoint };
  for (const depth of COUNTS)
    for (const lost of [1, 9e9]) yield { ...queue({ depth, lost }), last: { ok: true, status: 200 } };
  for (const last of lasts)
    for (const count of COUNTS)
      for (const retry of [undefined, { n: 2, m: 3 }, { n: 20, m: 20 }])
        for (const endpoint of ENDPOINT_STATUSES) yield { inFlight: { count, retry }, last, endpoint };
}

describe('http post status (lib/http-post/status)', function () {
  it(`every status text fits in ${MAX_STATUS_CHARS} characters (long codes, variable names, counts, ages)`, function () {
    let n = 0;
    const seen = new Set();
    for (const { facts, shown: s } of everyFacts()) {
      n++;
      if (s.text === undefined) continue;
      seen.add(s.text);
      assert.ok(s.text.length <= MAX_STATUS_CHARS, `"${s.text}" (${s.text.length}) for ${JSON.stringify(facts)}`);
    }
    assert.ok(n > 2000, `${n} combinations`);
    assert.ok(seen.size > 100, `${seen.size} texts`);
  });

  it('every cause has a text in the catalogue, and every status key the function uses exists', function () {
    for (const f of FAILURES) assert.ok(translate(causeOf(f).key, causeOf(f).vars).length > 0);
    for (const { view } of everyFacts()) {
      if (view && view.short)
        assert.ok(renderStatus({ ...view, ...view.short }, translate).text.length <= MAX_STATUS_CHARS);
    }
  });

  describe('causes in plain words', function () {
    const cause = (o) => show({ last: o }).text;
    it('an HTTP status: "401 from partner"', function () {
      assert.strictEqual(cause({ ok: false, code: 'HTTP_401' }), '401 from partner');
    });
    it('network and TLS failures', function () {
      assert.strictEqual(cause({ ok: false, code: 'ENOTFOUND' }), 'host not found');
      assert.strictEqual(cause({ ok: false, code: 'ECONNREFUSED' }), 'conn. refused');
      assert.strictEqual(cause({ ok: false, code: 'TIMEOUT' }), 'timed out');
      assert.strictEqual(cause({ ok: false, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'TLS: not trusted');
      assert.strictEqual(cause({ ok: false, code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'TLS: not trusted');
      assert.strictEqual(cause({ ok: false, code: 'CERT_HAS_EXPIRED' }), 'TLS: cert expired');
      assert.strictEqual(cause({ ok: false, code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'TLS: wrong host');
    });
    it('a request the endpoint could not prepare: the missing key by its variable, a refused token', function () {
      const prepare = (message) => cause({ ok: false, code: 'PREPARE_FAILED', message });
      assert.strictEqual(
        prepare('apiKey: environment variable PARTNER_API_KEY is not set (1 attempt)'),
        'no API key: PARTNER_API_KEY',
      );
      assert.strictEqual(prepare('token: environment variable T is not set (1 attempt)'), 'no API key: T');
      assert.strictEqual(prepare('baseUrl: environment variable BASE is not set'), 'not set: BASE');
      assert.strictEqual(
        prepare('The token request to https://a.example failed with HTTP 401: invalid_client (1 attempt)'),
        'token refused',
      );
      assert.strictEqual(prepare('baseUrl: expected an absolute http:// or https:// URL'), 'endpoint settings');
      assert.strictEqual(
        prepare('apiKey: environment variable A_VERY_LONG_VARIABLE_NAME_INDEED is not set'),
        'no API key: A_VERY_LONG_VAR…',
      );
    });
    it('an unknown code is shown, cut to fit', function () {
      assert.strictEqual(cause({ ok: false, code: 'EWHATEVER' }), 'EWHATEVER');
      assert.strictEqual(cause({ ok: false, code: 'X'.repeat(40) }), 'X'.repeat(15) + '…');
    });
    it('why the endpoint is offline while messages wait', function () {
      const paced = (p) => show({ ...queue({ depth: 2 }), pacing: { ...NO_PACING, ...p } }).text;
      assert.strictEqual(paced({ offline: true, offlineCode: 'ENOTFOUND' }), '2 queued · host not found');
      assert.strictEqual(paced({ offline: true, offlineCode: null }), '2 queued · offline');
      assert.strictEqual(paced({ circuitOpen: true }), '2 queued · circuit open');
      assert.strictEqual(paced({ paused: true }), '2 queued · paused');
      assert.strictEqual(pacingCause(NO_PACING), undefined);
    });
  });

  describe('the last outcome and the queue stay shown at rest', function () {
    it('durable: "200 · 0 queued" in green after a delivery (no timer clears it)', function () {
      assert.deepStrictEqual(show({ ...queue({}), last: { ok: true, status: 200 } }), {
        fill: 'green',
        shape: 'dot',
        text: '200 · 0 queued',
      });
    });
    it('in memory: "delivered (201)" after a delivery, the cause after a failure', function () {
      assert.deepStrictEqual(show({ inFlight: { count: 0 }, last: { ok: true, status: 201 } }), {
        fill: 'green',
        shape: 'dot',
        text: 'delivered (201)',
      });
      assert.deepStrictEqual(show({ inFlight: { count: 0 }, last: { ok: false, code: 'HTTP_422' } }), {
        fill: 'red',
        shape: 'ring',
        text: '422 from partner',
      });
    });
    it('nothing happened yet: blank, or the endpoint status', function () {
      assert.deepStrictEqual(show({ ...queue({}) }), {});
      assert.deepStrictEqual(show({ inFlight: { count: 0 } }), {});
      const ep = { fill: 'red', shape: 'ring', text: 'token failed' };
      assert.deepStrictEqual(show({ ...queue({}), endpoint: ep }), ep);
    });
    it('queued: depth and the oldest age; blue while sending, yellow while waiting', function () {
      assert.deepStrictEqual(show(queue({ depth: 3, oldestAgeMs: 120_000, sending: 1 })), {
        fill: 'blue',
        shape: 'dot',
        text: '3 queued · oldest 2m',
      });
      assert.strictEqual(show(queue({ depth: 1234, oldestAgeMs: 0 })).fill, 'yellow');
      assert.strictEqual(show(queue({ depth: 1234, oldestAgeMs: 0 })).text, '1.2k queued · oldest <1m');
    });
    it('a failure with messages queued names both; a long cause drops the queue to fit', function () {
      assert.strictEqual(
        show({ ...queue({ depth: 3 }), last: { ok: false, code: 'ENOTFOUND' } }).text,
        'host not found · 3 queued',
      );
      const long = {
        ok: false,
        code: 'PREPARE_FAILED',
        message: 'apiKey: environment variable PARTNER_API_KEY is not set',
      };
      assert.strictEqual(show({ ...queue({ depth: 3 }), last: long }).text, 'no API key: PARTNER_API_KEY');
    });
    it('in flight in memory: sending N, or the retry a waiting message is at', function () {
      assert.strictEqual(show({ inFlight: { count: 3 } }).text, 'sending 3');
      assert.deepStrictEqual(show({ inFlight: { count: 1, retry: { n: 2, m: 5 } } }), {
        fill: 'yellow',
        shape: 'ring',
        text: 'retry 2/5',
      });
    });
  });

  describe("the dot's colour is the worst current state", function () {
    const fill = (facts) => show(facts).fill;
    it('dead letters outrank a last success', function () {
      const s = show({ ...queue({ deadLetters: 4 }), last: { ok: true, status: 200 } });
      assert.deepStrictEqual(s, { fill: 'red', shape: 'ring', text: '200 · dead letters: 4' });
      assert.strictEqual(show({ ...queue({ depth: 2, deadLetters: 4 }) }).text, '4 dead · 2 queued');
      assert.strictEqual(show({ ...queue({ deadLetters: 1 }) }).text, 'dead letters: 1');
    });
    it('a paused or offline endpoint outranks sending', function () {
      assert.strictEqual(
        fill({ ...queue({ depth: 2, sending: 1 }), pacing: { ...NO_PACING, paused: true } }),
        'yellow',
      );
    });
    it("an endpoint's red status outranks a last success; a green one does not replace it", function () {
      const ok = { ok: true, status: 200 };
      assert.strictEqual(
        show({ ...queue({}), last: ok, endpoint: { fill: 'red', shape: 'ring', text: 'token failed' } }).text,
        'token failed',
      );
      assert.strictEqual(
        show({ ...queue({}), last: ok, endpoint: { fill: 'green', shape: 'dot', text: 'token ok' } }).text,
        '200 · 0 queued',
      );
      assert.strictEqual(
        show({ inFlight: { count: 0 }, last: ok, endpoint: { fill: 'yellow', shape: 'ring', text: 'paused' } }).text,
        'paused',
      );
    });
    it('a settings problem, an unavailable queue and lost records are red; opening is grey', function () {
      assert.deepStrictEqual(show({ problem: { status: 'invalidConfig', field: 'successStatuses' } }), {
        fill: 'red',
        shape: 'ring',
        text: 'invalid: successStatuses',
      });
      assert.strictEqual(show({ problem: { status: 'noEndpoint', field: 'endpoint' } }).text, 'no endpoint');
      assert.strictEqual(
        show({ problem: { status: 'invalidSecret', field: 'signingSecret' } }).text,
        'bad secret: signingSecret',
      );
      assert.strictEqual(fill({ queue: { ...OPEN, state: 'unavailable' } }), 'red');
      assert.strictEqual(show({ queue: { ...OPEN, state: 'locked' } }).text, 'queue in use elsewhere');
      assert.strictEqual(fill({ queue: { ...OPEN, state: 'opening' } }), 'grey');
      assert.strictEqual(
        show({ ...queue({ depth: 5, lost: 2 }), last: { ok: false, code: 'HTTP_500' } }).text,
        '2 lost · 5 queued',
      );
    });
    it('a ranking over every combination: red whenever a failure, dead letters or a problem stands', function () {
      for (const { facts, shown: s } of everyFacts()) {
        const bad =
          facts.problem ||
          (facts.last && !facts.last.ok) ||
          (facts.queue &&
            (facts.queue.deadLetters > 0 ||
              facts.queue.lost > 0 ||
              ['unavailable', 'locked'].includes(facts.queue.state)));
        const inFlight = facts.inFlight && facts.inFlight.count > 0;
        if (bad && !inFlight) assert.strictEqual(s.fill, 'red', JSON.stringify(facts));
        if (!bad && s.fill === 'green') {
          assert.ok(!facts.pacing || facts.queue?.depth === 0 || !pacingCause(facts.pacing), JSON.stringify(facts));
        }
      }
    });
  });

  describe('StatusBoard: what the node remembers between events', function () {
    const next = (d) => d.attempts + 1;
    it('durable: the queue state, lost records until a success, dead letters up to the kept maximum', function () {
      const b = new st.StatusBoard({ durable: true, problem: undefined, maxDeadLetters: 2, nextAttempt: next });
      assert.strictEqual(show(b.facts({ inFlight: [], pacing: undefined })).text, 'opening queue');
      const live = { queue: { depth: 0, oldestAgeMs: 0, sending: 0 }, inFlight: [], pacing: undefined };
      b.lost = 3;
      assert.strictEqual(show(b.facts(live)).text, '3 lost · 0 queued');
      b.ended({ ok: true, status: 200 });
      assert.strictEqual(show(b.facts(live)).text, '200 · 0 queued');
      for (let i = 0; i < 5; i++) b.deadLettered();
      assert.strictEqual(b.deadLetters, 2);
      assert.strictEqual(show(b.facts(live)).fill, 'red');
      b.ended(undefined);
      assert.deepStrictEqual(b.last, { ok: true, status: 200 }, 'nothing left the node: the last outcome stays');
    });
    it('in memory: the retry of the delivery that last began waiting; a fresh endpoint status replaces a stale failure', function () {
      const b = new st.StatusBoard({ durable: false, problem: undefined, maxDeadLetters: 0, nextAttempt: next });
      const a = { phase: 'waiting', attempts: 1, maxAttempts: 3 };
      const c = { phase: 'waiting', attempts: 2, maxAttempts: 3 };
      b.phase(a);
      assert.strictEqual(show(b.facts({ inFlight: [a, c], pacing: undefined })).text, 'retry 2/3');
      b.ended({ ok: false, code: 'HTTP_500' });
      b.endpointSaid({ fill: 'yellow', shape: 'ring', text: 'paused' }, false);
      assert.strictEqual(b.last.ok, false, 'not while busy');
      b.endpointSaid({ fill: 'green', shape: 'dot', text: 'token ok' }, true);
      assert.strictEqual(b.last, undefined);
      assert.strictEqual(show(b.facts({ inFlight: [], pacing: undefined })).text, 'token ok');
      b.endpointSaid({}, true);
      assert.deepStrictEqual(show(b.facts({ inFlight: [], pacing: undefined })), {});
    });
  });

  it('outcomeOf: what left the node (output 1 or output 2 with msg.error)', function () {
    assert.deepStrictEqual(outcomeOf([{ statusCode: 201 }, null]), { ok: true, status: 201 });
    assert.deepStrictEqual(outcomeOf([null, { error: { code: 'HTTP_500', message: 'm' } }]), {
      ok: false,
      code: 'HTTP_500',
      message: 'm',
    });
    assert.strictEqual(outcomeOf([null, null]), undefined);
    assert.strictEqual(outcomeOf([null, { payload: 1 }]), undefined);
  });

  it('compact counts and cut text', function () {
    assert.deepStrictEqual(
      [0, 7, 999, 1000, 1250, 9999, 12_345, 999_999, 1_000_000, 12_000_000, 4e9, 9e12, -1, NaN].map(compact),
      [0, 7, 999, '1k', '1.2k', '9.9k', '12k', '999k', '1M', '12M', '4G', '9T', 0, 0],
    );
    for (const n of COUNTS) assert.ok(String(compact(n)).length <= 4, String(compact(n)));
    assert.strictEqual(cut('abcdef', 4), 'abc…');
    assert.strictEqual(cut('abcd', 4), 'abcd');
  });
});
