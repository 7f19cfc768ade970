'use strict';
/**
 * Trust, in real Node-RED processes started with default settings:
 *
 *  - a damaged journal (one flipped byte in one record, a deleted segment)
 *    costs exactly what was damaged, says so in the log and in the admin
 *    stats, and every other acknowledged event is still delivered;
 *  - the "Encrypt queue" key keeps event bodies off the disk in plaintext,
 *    and secrets from the endpoint configuration never reach the journal;
 *  - a value in a path template never changes which path is called;
 *  - the endpoint's "block private targets" option keeps requests off
 *    loopback addresses (by IP and by name), and with it off they arrive.
 */
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { startNodeRed, debugPane, freePort, tmpDir } = require('../support/nodered');
const { endpointNode, debugNode: sharedDebugNode, durableTriggerNode } = require('../support/flows');

const TAB = 'tp00000000000tab';
const MAGIC = Buffer.from([0xd5, 0x3a, 0x7e, 0xb1]); // framing.ts: the sync marker of every record
const HEADER_BYTES = 20;
const T_PUT = 1; // records.ts: a new item

function triggerNode(id, url, postId) {
  return durableTriggerNode(id, TAB, url, [[postId], []], { name: `node ${id}` });
}

function postNode(id, endpoint, extra = {}) {
  return {
    id,
    type: 'saypro-http-post',
    z: TAB,
    name: `node ${id}`,
    endpoint,
    method: '',
    path: '/v1/events',
    headers: [],
    msgHeaders: false,
    maxAttempts: 20,
    initialDelay: 2000,
    maxDelay: 4000,
    maxRetryAfter: 2,
    idempotencyHeader: 'Idempotency-Key',
    successStatuses: '',
    sign: false,
    durable: true,
    maxQueued: 100000,
    maxQueuedMB: 64,
    fullPolicy: 'refuse',
    orderingKey: '',
    wires: [[], []],
    ...extra,
  };
}

const debugNode = (id, name) => sharedDebugNode(id, name, TAB);

function injectNode(id, topic, payload, target) {
  return {
    id,
    z: TAB,
    type: 'inject',
    name: `node ${id}`,
    props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
    repeat: '',
    once: false,
    topic,
    payload: JSON.stringify(payload),
    payloadType: 'json',
    wires: [[target]],
  };
}

async function until(pred, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(typeof what === 'function' ? what() : what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function postEvent(base, url, event) {
  const res = await fetch(base + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(30000),
  });
  await res.arrayBuffer();
  return res.status;
}

async function stats(base, id) {
  const res = await fetch(`${base}/saypro-integration-kit/outbox/${id}`, { signal: AbortSignal.timeout(10000) });
  return res.json();
}

async function inject(nr, id) {
  const res = await fetch(`${nr.base}/inject/${id}`, { method: 'POST', signal: AbortSignal.timeout(10000) });
  assert.strictEqual(res.status, 200, `inject ${id}:\n${nr.output}`);
}

/** A 127.0.0.1 server that records every request (path, headers, body) and answers 200. */
async function recordingServer(port) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise((r) => server.listen(port || 0, '127.0.0.1', r));
  return { server, requests, port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

/** Every record of a format-2 segment file: offset, length, type, body (no checksum check: the files are whole). */
function records(buf) {
  const out = [];
  let pos = 0;
  while (pos + HEADER_BYTES <= buf.length && buf.subarray(pos, pos + 4).equals(MAGIC)) {
    const n = buf.readUInt32BE(pos + 4);
    out.push({
      offset: pos,
      length: HEADER_BYTES + n,
      type: buf[pos + 18],
      body: buf.subarray(pos + 20, pos + 20 + n),
    });
    pos += HEADER_BYTES + n;
  }
  assert.strictEqual(pos, buf.length, 'the segment parses as whole records');
  return out;
}

function segmentFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => /^seg-\d+\.log$/.test(f))
    .sort();
}

function filesUnder(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** the msg.topic of a debug pane message (debug nodes set to show the complete msg), or undefined */
function topicOf(d) {
  try {
    return typeof d.msg === 'string' ? JSON.parse(d.msg).topic : undefined;
  } catch {
    return undefined;
  }
}

const idOf = (body) => (/"(ev_\d{4})"/.exec(body.toString('utf8')) || [])[1];

describe('trust: a damaged journal, encryption at rest, path templates, the SSRF guard (real Node-RED)', function () {
  this.timeout(240000);
  const cleanup = [];

  afterEach(async function () {
    while (cleanup.length) await cleanup.pop()();
  });

  /**
   * trigger (durable) → http post (durable) → a partner that is down. N events
   * are acknowledged; Node-RED stops; `damage` harms the journal and says which
   * event ids it destroyed and how many records; Node-RED starts again and must
   * report exactly that loss, then deliver every other event once the partner is up.
   */
  async function damagedJournal(label, events, eventBytes, damage) {
    const TRIGGER = 'tp00000trigger01';
    const POST = 'tp000000000post1';
    const EP = 'tp0000endpoint01';
    const URL = '/trust/events';
    const userDir = tmpDir('saypro-trust-journal-');
    cleanup.push(async () => fs.rmSync(userDir, { recursive: true, force: true }));
    const partnerPort = await freePort(); // nothing listens there: the partner is down
    const flow = [
      { id: TAB, type: 'tab', label: 'damaged journal' },
      endpointNode(EP, `http://127.0.0.1:${partnerPort}`),
      triggerNode(TRIGGER, URL, POST),
      postNode(POST, EP),
    ];
    const first = await startNodeRed({ userDir, flow });
    cleanup.push(() => first.stop());
    const ids = [];
    for (let i = 0; i < events; i++) {
      const id = `ev_${String(i).padStart(4, '0')}`;
      const status = await postEvent(first.base, URL, {
        id,
        type: 'order.created',
        data: { i, filler: 'f'.repeat(eventBytes) },
      });
      assert.strictEqual(status, 202, `event ${id} is acknowledged`);
      ids.push(id);
    }
    await until(
      async () => (await stats(first.base, POST)).depth === events,
      30000,
      () => `the queue never held ${events}:\n${first.output}`,
    );
    await first.stop();

    const dir = path.join(userDir, 'saypro-outbox', POST);
    const { lostIds, lostRecords, logLine, missingSegments } = damage(dir);
    // the partner stays down until the figures after the restart are read
    const again = await startNodeRed({ userDir });
    cleanup.push(() => again.stop());
    let after;
    await until(
      async () => !(after = await stats(again.base, POST)).error,
      30000,
      () => `the queue never opened: ${JSON.stringify(after)}\n${again.output}`,
    );
    assert.strictEqual(after.lostRecords, lostRecords, `lostRecords: ${JSON.stringify(after)}`);
    assert.strictEqual(after.depth, events - lostIds.length, `depth: ${JSON.stringify(after)}`);
    assert.match(again.output, new RegExp(`${lostRecords} record\\(s\\) LOST`), 'the loss is logged');
    assert.match(again.output, logLine, 'the log says where the loss is');
    assert.deepStrictEqual(after.missingSegments, missingSegments, 'missing segments in the stats');

    // the partner comes up: every event that was not damaged arrives
    const up = await recordingServer(partnerPort);
    cleanup.push(() => up.close());
    const keys = () => new Set(up.requests.map((r) => String(r.headers['idempotency-key'])));
    const expected = ids.filter((id) => !lostIds.includes(id));
    await until(
      () => expected.every((id) => keys().has(id)),
      120000,
      () => `not delivered: ${expected.filter((id) => !keys().has(id)).join(', ')}\n${again.output}`,
    );
    await until(async () => (await stats(again.base, POST)).depth === 0, 30000, 'the queue empties');
    const delivered = ids.filter((id) => keys().has(id));
    for (const id of lostIds) assert.ok(!keys().has(id), `${id} was damaged and cannot be delivered`);
    console.log(
      `      ${label}: ${events} acknowledged, lostRecords ${after.lostRecords}, events lost ${lostIds.length} (${lostIds.join(', ')}), delivered ${delivered.length}`,
    );
    assert.strictEqual(delivered.length, events - lostIds.length);
  }

  it('one flipped byte in one record costs that event only: reported (log + stats) and the rest are delivered', async function () {
    await damagedJournal('flipped byte', 20, 100, (dir) => {
      // the segment holding the most events
      const segs = segmentFiles(dir)
        .map((name) => {
          const buf = fs.readFileSync(path.join(dir, name));
          return { name, buf, puts: records(buf).filter((r) => r.type === T_PUT) };
        })
        .sort((a, b) => b.puts.length - a.puts.length);
      assert.ok(segs.length >= 1, 'a segment exists');
      const { name, buf, puts } = segs[0];
      const file = path.join(dir, name);
      assert.ok(puts.length >= 10, `the segment holds the events (${puts.length} put records)`);
      const victim = puts[Math.floor(puts.length / 2)];
      const lostId = idOf(victim.body);
      assert.ok(lostId, 'the damaged record is one event');
      const at = victim.offset + HEADER_BYTES + Math.floor(victim.body.length / 2);
      buf[at] ^= 0x5a;
      fs.writeFileSync(file, buf);
      const seq = Number(/\d+/.exec(name)[0]);
      return {
        lostIds: [lostId],
        lostRecords: 1,
        logLine: new RegExp(
          `segment ${seq}: 1 damaged record\\(s\\) lost — checksum mismatch at offset ${victim.offset} `,
        ),
        missingSegments: [],
      };
    });
  });

  it('a deleted segment is detected from the manifest: its records are counted lost, the other segments are delivered', async function () {
    // ~600 kB events fill the 8 MB segments, so 24 events span several segment files
    await damagedJournal('deleted segment', 24, 600 * 1024, (dir) => {
      const segs = segmentFiles(dir);
      assert.ok(segs.length >= 2, `several segments (${segs.join(', ')})`);
      const manifest = fs.readFileSync(path.join(dir, 'MANIFEST'), 'utf8');
      const victim = segs[0];
      assert.ok(manifest.includes(String(Number(/\d+/.exec(victim)[0]))), 'the manifest lists the segment');
      const recs = records(fs.readFileSync(path.join(dir, victim)));
      const lostIds = recs.filter((r) => r.type === T_PUT).map((r) => idOf(r.body));
      assert.ok(lostIds.length >= 1 && lostIds.every(Boolean), 'the deleted segment held events');
      fs.unlinkSync(path.join(dir, victim));
      const seq = Number(/\d+/.exec(victim)[0]);
      return {
        lostIds,
        lostRecords: recs.length,
        logLine: new RegExp(`segment ${seq} is missing: ${recs.length} record\\(s\\) lost`),
        missingSegments: [`queue/${seq}`],
      };
    });
  });

  it('"Encrypt queue" keeps bodies off the disk; configured secrets never reach the journal either way', async function () {
    const KEY_ENV = 'TRUST_PARTNER_KEY';
    const API_KEY = 'k3y-from-env-QX7731-secret';
    const CRED_KEY = 'cred-apikey-ZP0042-secret';
    const BODY_TEXT = 'zebra-mango-body-text-55821';
    const partnerPort = await freePort(); // down
    const flow = [
      { id: TAB, type: 'tab', label: 'encryption at rest' },
      endpointNode('tp00000endpoint2', `http://127.0.0.1:${partnerPort}`, {
        headers: [{ name: 'X-Partner-Key', value: '${' + KEY_ENV + '}' }],
        authType: 'apikey',
        credentials: { apiKey: CRED_KEY },
      }),
      triggerNode('tp000trigger_enc', '/trust/enc', 'tp00000post_enc1'),
      triggerNode('tp00trigger_plain', '/trust/plain', 'tp0000post_plain'),
      postNode('tp00000post_enc1', 'tp00000endpoint2', { credentials: { outboxKey: 'ab'.repeat(32) } }),
      postNode('tp0000post_plain', 'tp00000endpoint2'),
    ];
    const nr = await startNodeRed({ flow, env: { [KEY_ENV]: API_KEY } });
    cleanup.push(async () => fs.rmSync(nr.userDir, { recursive: true, force: true }));
    cleanup.push(() => nr.stop());
    const N = 10;
    for (const url of ['/trust/enc', '/trust/plain']) {
      for (let i = 0; i < N; i++) {
        const status = await postEvent(nr.base, url, {
          id: `${url.slice(7)}_${i}`,
          type: 'note.created',
          data: { text: `${BODY_TEXT} #${i}` },
        });
        assert.strictEqual(status, 202);
      }
    }
    for (const id of ['tp00000post_enc1', 'tp0000post_plain'])
      await until(
        async () => (await stats(nr.base, id)).depth === N,
        30000,
        () => `${id} queue:\n${nr.output}`,
      );
    await nr.stop();

    const outbox = path.join(nr.userDir, 'saypro-outbox');
    const grep = (dir, text) => filesUnder(dir).filter((f) => fs.readFileSync(f).includes(text));
    const encDir = path.join(outbox, 'tp00000post_enc1');
    const plainDir = path.join(outbox, 'tp0000post_plain');
    const figures = {
      encryptedFiles: filesUnder(encDir).length,
      bodyInEncrypted: grep(encDir, BODY_TEXT).length,
      bodyInPlain: grep(plainDir, BODY_TEXT).length,
      envKeyAnywhere: grep(outbox, API_KEY).length,
      credentialKeyAnywhere: grep(outbox, CRED_KEY).length,
    };
    console.log(`      on disk: ${JSON.stringify(figures)}`);
    assert.ok(figures.encryptedFiles >= 1, 'the encrypted queue has files');
    assert.strictEqual(figures.bodyInEncrypted, 0, 'no body text in the encrypted queue');
    assert.ok(figures.bodyInPlain >= 1, 'without encryption the body text is on disk (the option is what hides it)');
    assert.strictEqual(figures.envKeyAnywhere, 0, 'the ${VAR} header value is not on disk');
    assert.strictEqual(figures.credentialKeyAnywhere, 0, 'the API key credential is not on disk');
    assert.doesNotMatch(nr.output, new RegExp(`${API_KEY}|${CRED_KEY}`), 'no secret in the log');

    // the partner comes up and Node-RED starts again: the encrypted queue reads back, and the
    // secrets, never journaled, are resolved again for the attempt
    const partner = await recordingServer(partnerPort);
    cleanup.push(() => partner.close());
    const again = await startNodeRed({ userDir: nr.userDir, env: { [KEY_ENV]: API_KEY } });
    cleanup.push(() => again.stop());
    const keys = () => new Set(partner.requests.map((r) => String(r.headers['idempotency-key'])));
    const expected = [];
    for (let i = 0; i < N; i++) expected.push(`enc_${i}`, `plain_${i}`);
    await until(
      () => expected.every((k) => keys().has(k)),
      90000,
      () => `not delivered: ${expected.filter((k) => !keys().has(k)).join(', ')}\n${again.output}`,
    );
    for (const r of partner.requests) {
      assert.strictEqual(r.headers['x-partner-key'], API_KEY, 'the ${VAR} header is sent');
      assert.strictEqual(r.headers['x-api-key'], CRED_KEY, 'the API key is sent');
      assert.ok(r.body.includes(BODY_TEXT), 'the body arrives whole');
    }
    console.log(`      after a restart with the partner up: ${keys().size} of ${2 * N} delivered, with their secrets`);
  });

  it('a value in a path template never changes which path is called', async function () {
    const partner = await recordingServer();
    cleanup.push(() => partner.close());
    const values = { ok: 'abc', dotdot: '..', dot: '.', encoded: '%2e%2e', nested: 'a/../b' };
    const flow = [
      { id: TAB, type: 'tab', label: 'path templates' },
      endpointNode('tp00000endpoint3', `http://127.0.0.1:${partner.port}`),
      postNode('tp0000000post_pt', 'tp00000endpoint3', {
        durable: false,
        maxAttempts: 1,
        path: '/v1/customers/{{payload.x}}/refunds',
        wires: [['tp00000000dbg_ok'], ['tp0000000dbg_err']],
      }),
      debugNode('tp00000000dbg_ok', 'ok'),
      debugNode('tp0000000dbg_err', 'err'),
      ...Object.entries(values).map(([k, x]) => injectNode(`tp_inject_${k}`, k, { x }, 'tp0000000post_pt')),
    ];
    const nr = await startNodeRed({ flow });
    cleanup.push(async () => fs.rmSync(nr.userDir, { recursive: true, force: true }));
    cleanup.push(() => nr.stop());
    const pane = debugPane(nr.base);
    cleanup.push(async () => pane.close());
    await pane.open;
    const outcome = {};
    for (const k of Object.keys(values)) {
      await inject(nr, `tp_inject_${k}`);
      const m = await pane.waitFor((d) => topicOf(d) === k, 30000);
      const msg = JSON.parse(m.msg);
      outcome[k] = m.name === 'err' ? `refused ${msg.error && msg.error.code}` : `sent (${msg.statusCode})`;
    }
    const paths = partner.requests.map((r) => r.url);
    console.log(`      outcomes: ${JSON.stringify(outcome)}`);
    console.log(`      paths seen by the partner: ${JSON.stringify(paths)}`);
    assert.strictEqual(outcome.ok, 'sent (200)', 'a plain value is sent');
    assert.ok(paths.includes('/v1/customers/abc/refunds'));
    for (const p of paths) {
      assert.match(p, /^\/v1\/customers\/[^/]+\/refunds$/, `only the templated path is called: ${p}`);
      const seg = p.split('/')[3];
      assert.ok(!['.', '..'].includes(seg), `no dot segment reaches the partner: ${p}`);
    }
    for (const k of ['dotdot', 'dot'])
      assert.strictEqual(outcome[k], 'refused TEMPLATE', `${k} (${values[k]}) is refused on output 2`);
    for (const k of ['encoded', 'nested'])
      assert.ok(/^refused TEMPLATE$|^sent \(200\)$/.test(outcome[k]), `${k}: ${outcome[k]}`);
    // whatever was sent went as one encoded segment that decodes to the value itself
    for (const [k, x] of Object.entries(values))
      if (outcome[k].startsWith('sent'))
        assert.ok(
          paths.some((p) => decodeURIComponent(p.split('/')[3]) === x),
          `${k}: the value ${JSON.stringify(x)} arrives as it was, in one segment`,
        );
    assert.strictEqual(paths.length, Object.values(outcome).filter((o) => o.startsWith('sent')).length);
  });

  it('the SSRF guard blocks loopback targets by IP and by name (TARGET_BLOCKED); with it off the request arrives', async function () {
    const partner = await recordingServer();
    cleanup.push(() => partner.close());
    const cases = {
      blockedIp: { base: `http://127.0.0.1:${partner.port}`, block: true },
      blockedName: { base: `http://localhost:${partner.port}`, block: true },
      open: { base: `http://127.0.0.1:${partner.port}`, block: false },
    };
    const flow = [{ id: TAB, type: 'tab', label: 'ssrf guard' }];
    for (const [k, c] of Object.entries(cases)) {
      flow.push(
        endpointNode(`tp_ep_${k}`, c.base, { blockPrivate: c.block }),
        postNode(`tp_post_${k}`, `tp_ep_${k}`, {
          durable: false,
          maxAttempts: 1,
          path: `/ssrf/${k}`,
          wires: [['tp00000000dbg_ok'], ['tp0000000dbg_err']],
        }),
        injectNode(`tp_inject_${k}`, k, { k }, `tp_post_${k}`),
      );
    }
    flow.push(debugNode('tp00000000dbg_ok', 'ok'), debugNode('tp0000000dbg_err', 'err'));
    const nr = await startNodeRed({ flow });
    cleanup.push(async () => fs.rmSync(nr.userDir, { recursive: true, force: true }));
    cleanup.push(() => nr.stop());
    const pane = debugPane(nr.base);
    cleanup.push(async () => pane.close());
    await pane.open;
    const outcome = {};
    for (const k of Object.keys(cases)) {
      await inject(nr, `tp_inject_${k}`);
      const m = await pane.waitFor((d) => topicOf(d) === k, 30000);
      const msg = JSON.parse(m.msg);
      outcome[k] = m.name === 'err' ? `refused ${msg.error && msg.error.code}` : `sent (${msg.statusCode})`;
    }
    const paths = partner.requests.map((r) => r.url);
    console.log(`      outcomes: ${JSON.stringify(outcome)}; paths seen: ${JSON.stringify(paths)}`);
    assert.strictEqual(outcome.blockedIp, 'refused TARGET_BLOCKED');
    assert.strictEqual(outcome.blockedName, 'refused TARGET_BLOCKED');
    assert.strictEqual(outcome.open, 'sent (200)');
    assert.deepStrictEqual(paths, ['/ssrf/open'], 'only the unguarded request reaches the server');
  });
});
