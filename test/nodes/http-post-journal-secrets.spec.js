'use strict';
/**
 * What the HTTP POST node's durable queue writes to disk: no configured
 * secret (endpoint credentials, the node's own headers, values from
 * environment variables, the signing secret) and no secret-looking message
 * header, on the success, retry, dead-letter and restart paths; with
 * "Encrypt queue" on, not even the body.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const helper = require('node-red-node-test-helper');
const postNode = require('../../dist/nodes/http-post.js');
const endpointNode = require('../../dist/nodes/endpoint.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const harness = require('../support/http-post-harness');

helper.init(require.resolve('node-red'));

const NODES = [postNode, endpointNode, catchNode];
const { startServer, answer, until, waitFor, statusCalls } = harness;

const API_KEY = 'ak_live_JournalSecret_1';
const NODE_HEADER = 'nodeheader_Secret_2';
const PLAIN_NAMED = 'acct_Secret_3';
const INBOUND_AUTH = 'Bearer inbound_Secret_4';
const INBOUND_COOKIE = 'sid=cookie_Secret_5';
const SIGNING = 'whsec_' + Buffer.from('signing-secret-32-bytes-long!!!!').toString('base64');
const BODY = 'BODY_TEXT_7c1f0e_visible_only_when_not_encrypted';
const SECRETS = [
  API_KEY,
  NODE_HEADER,
  PLAIN_NAMED,
  INBOUND_AUTH,
  'inbound_Secret_4',
  'cookie_Secret_5',
  SIGNING,
  SIGNING.slice(6),
];

/** every file under dir, as bytes */
function allFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allFiles(p));
    else out.push({ file: p, bytes: fs.readFileSync(p) });
  }
  return out;
}

function variants(text) {
  return [
    text,
    Buffer.from(text).toString('base64'),
    Buffer.from(text).toString('base64').slice(0, -4),
    JSON.stringify(text).slice(1, -1),
  ];
}

/** fails when any file under dir holds any of the texts (also base64- or JSON-encoded) */
function assertNotOnDisk(dir, texts, when) {
  const files = allFiles(dir);
  assert.ok(
    files.some((f) => /seg-\d+\.log$/.test(f.file)),
    `${when}: journal files exist`,
  );
  for (const { file, bytes } of files) {
    for (const t of texts) {
      for (const v of variants(t)) {
        if (v.length >= 8)
          assert.strictEqual(
            bytes.indexOf(v),
            -1,
            `${when}: ${JSON.stringify(t)} found in ${path.relative(dir, file)}`,
          );
      }
    }
  }
}

function onDisk(dir, text) {
  return allFiles(dir).some(({ bytes }) => variants(text).some((v) => bytes.indexOf(v) >= 0));
}

function flow(server, props = {}) {
  return harness.flow(
    server,
    {
      durable: true,
      sign: true,
      headers: [
        { name: 'X-Partner-Token', value: NODE_HEADER },
        { name: 'X-Account', value: PLAIN_NAMED },
      ],
      msgHeaders: true,
      maxAttempts: 3,
      ...props,
    },
    { authType: 'apikey', apiKeyIn: 'header', apiKeyName: 'X-Api-Key' },
    { label: 'journal secrets', timeout: 5000 },
  );
}

async function load(server, credentials = {}, props = {}) {
  await helper.load(NODES, flow(server, props), {
    ep: { apiKey: API_KEY },
    n1: { signingSecret: SIGNING, ...credentials },
  });
  const got = { ok: [], failed: [] };
  for (const id of Object.keys(got)) helper.getNode(id).on('input', (msg) => got[id].push(msg));
  const n1 = helper.getNode('n1');
  await until(() => statusCalls(n1).some((s) => s.text !== 'http-post.status.opening'));
  return { n1, got };
}

const message = (id) => ({
  payload: BODY,
  event: { id },
  headers: {
    Authorization: INBOUND_AUTH,
    Cookie: INBOUND_COOKIE,
    'X-Trace': 'trace-visible',
    'content-type': 'text/plain',
  },
});

describe('saypro-http-post durable queue: what is on disk', function () {
  this.timeout(30000);
  let server;
  let dir;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-journal-secrets-'));
    helper.settings({ sayproOutboxDir: dir });
  });

  afterEach(async function () {
    await helper.unload();
    if (server) await server.close();
    server = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('success, retry and dead letter: no configured secret and no secret message header in any journal or dead-letter file', async function () {
    server = await startServer([
      answer(503, '', { 'retry-after': '0' }),
      answer(200, { ok: true }),
      answer(400, { nope: true }),
    ]);
    const { got } = await load(server);
    const n1 = helper.getNode('n1');
    n1.receive(message('evt_ok'));
    const [ok] = await waitFor(got.ok);
    // the partner got everything: the configuration's headers, the credentials and the message's own
    const r = server.requests[1];
    assert.strictEqual(r.headers['x-api-key'], API_KEY);
    assert.strictEqual(r.headers['x-partner-token'], NODE_HEADER);
    assert.strictEqual(r.headers['x-account'], PLAIN_NAMED);
    assert.strictEqual(r.headers.authorization, INBOUND_AUTH);
    assert.strictEqual(r.headers.cookie, INBOUND_COOKIE);
    assert.strictEqual(r.headers['x-trace'], 'trace-visible');
    assert.ok(r.headers['webhook-signature']);
    // the message leaves with its headers as they came in
    assert.strictEqual(ok.headers.Authorization, INBOUND_AUTH);
    assertNotOnDisk(dir, SECRETS, 'after a retry and a success');
    assert.ok(onDisk(dir, 'trace-visible'), 'the rest of the message is journaled');
    assert.ok(onDisk(dir, BODY), 'the body is journaled (in the clear without encryption)');

    n1.receive(message('evt_dead'));
    const [dead] = await waitFor(got.failed);
    assert.strictEqual(dead.error.code, 'HTTP_400');
    assert.strictEqual(dead.headers.Authorization, INBOUND_AUTH);
    assert.ok(fs.readdirSync(path.join(dir, 'n1', 'dead-letter')).some((f) => /^seg-/.test(f)));
    assertNotOnDisk(dir, SECRETS, 'after a dead letter');
  });

  it("restart: the configuration's headers are resolved again for the attempt; the message's secret headers were never on disk", async function () {
    server = await startServer([answer(503, '', { 'retry-after': '3600' })]);
    const { n1 } = await load(server, {}, { maxRetryAfter: 7200 });
    n1.receive(message('evt_restart'));
    await until(() => server.requests.length === 1);
    await until(() => statusCalls(n1).some((s) => /queued/.test(s.text || '')));
    await helper.unload();
    await server.close();
    assertNotOnDisk(dir, SECRETS, 'while queued, after a stop');

    // the node comes back with a new API key in its endpoint and a new header value
    server = await startServer([answer(200, { ok: true })]);
    const f = flow(server, {
      maxRetryAfter: 7200,
      headers: [
        { name: 'X-Partner-Token', value: 'rotated-token' },
        { name: 'X-Account', value: PLAIN_NAMED },
      ],
    });
    const { Outbox } = require('../../dist/nodes/lib/outbox/index.js');
    // make the queued item due now (as if the hour had passed)
    const ob = await Outbox.open(path.join(dir, 'n1'), {
      deadLetter: { close: async () => {}, peek: () => undefined },
    });
    const [item] = ob.list();
    await ob.recordAttempt(item.id, { attempts: item.attempts, nextAttemptAt: Date.now() });
    await ob.close();
    await helper.load(NODES, f, { ep: { apiKey: 'ak_rotated_key_after_restart' }, n1: { signingSecret: SIGNING } });
    const got = [];
    helper.getNode('ok').on('input', (m) => got.push(m));
    await waitFor(got);
    const r = server.requests[0];
    assert.strictEqual(r.headers['x-api-key'], 'ak_rotated_key_after_restart');
    assert.strictEqual(r.headers['x-partner-token'], 'rotated-token');
    assert.strictEqual(r.headers['x-trace'], 'trace-visible');
    // documented: without encryption the message's Authorization lived in memory only
    assert.strictEqual(r.headers.authorization, undefined);
    assertNotOnDisk(dir, SECRETS.concat('rotated-token', 'ak_rotated_key_after_restart'), 'after the restart');
  });

  it('"Encrypt queue" on: neither the body nor any secret is readable on disk; after a restart even the message\'s Authorization goes out; a wrong key refuses to open', async function () {
    const KEY = 'correct horse battery staple';
    server = await startServer([answer(400, { nope: true }), answer(503, '', { 'retry-after': '3600' })]);
    const { n1, got } = await load(server, { outboxKey: KEY }, { maxRetryAfter: 7200 });
    n1.receive(message('evt_enc_dead'));
    await waitFor(got.failed);
    n1.receive(message('evt_enc_q'));
    await until(() => server.requests.length === 2);
    await until(() => statusCalls(n1).some((s) => /queued/.test(s.text || '')));
    assertNotOnDisk(
      dir,
      SECRETS.concat(BODY, 'trace-visible', 'evt_enc_q', 'evt_enc_dead', 'HTTP_400'),
      'encrypted, queued and dead-lettered',
    );
    await helper.unload();
    await server.close();

    // the wrong key: the queue refuses to open (nothing is thrown away)
    server = await startServer([answer(200, { ok: true })]);
    await helper.load(NODES, flow(server), {
      ep: { apiKey: API_KEY },
      n1: { signingSecret: SIGNING, outboxKey: 'another key' },
    });
    let n = helper.getNode('n1');
    await until(() => statusCalls(n).some((s) => s.fill === 'red' && s.text === 'http-post.status.outboxUnavailable'));
    assert.ok(n.error.args.some((a) => /encrypted with another key/.test(String(a[0]))));
    await helper.unload();

    // the right key, from an environment variable
    process.env.SAYPRO_TEST_OUTBOX_KEY = KEY;
    try {
      const { Outbox } = require('../../dist/nodes/lib/outbox/index.js');
      const { RecordCipher } = require('../../dist/nodes/lib/outbox/cipher.js');
      const ob = await Outbox.open(path.join(dir, 'n1'), {
        cipher: RecordCipher.fromSecret(KEY),
        deadLetter: { close: async () => {}, peek: () => undefined },
      });
      const [item] = ob.list();
      await ob.recordAttempt(item.id, { attempts: item.attempts, nextAttemptAt: Date.now() });
      await ob.close();
      await helper.load(NODES, flow(server, { maxRetryAfter: 7200 }), {
        ep: { apiKey: API_KEY },
        n1: { signingSecret: SIGNING, outboxKey: '${SAYPRO_TEST_OUTBOX_KEY}' },
      });
      const ok = [];
      helper.getNode('ok').on('input', (m) => ok.push(m));
      await waitFor(ok);
      n = helper.getNode('n1');
      const r = server.requests[0];
      assert.strictEqual(r.body.toString(), BODY);
      assert.strictEqual(r.headers.authorization, INBOUND_AUTH, 'kept (encrypted) across the restart');
      assertNotOnDisk(dir, SECRETS.concat(BODY, 'trace-visible'), 'encrypted, after the restart');
    } finally {
      delete process.env.SAYPRO_TEST_OUTBOX_KEY;
    }
  });
});
