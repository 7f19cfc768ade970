'use strict';
/**
 * Fault injection: the durable path survives kill -9.
 *
 * A real Node-RED process runs
 *   event trigger (reply "durable") → field mapper → format encoder (json) → http post (durable) → response check
 * against a chaos partner on 127.0.0.1 (test/support/chaos-partner.js) that answers a mix of 200, 500,
 * 429 + Retry-After: 1, replies slower than the endpoint's timeout and connection resets.
 *
 * A client plays the platform: it posts EVENTS events (each with its own id) to the trigger, CONCURRENCY
 * at a time, and sends an event again after anything but a 2xx (a 503, a connection error while Node-RED
 * is down …). Meanwhile Node-RED is killed with SIGKILL KILLS times, at random moments, and started again
 * on the same user directory (same port, so the client simply keeps trying the same URL).
 *
 * After the last restart, once the outbox is empty (admin stats endpoint), the test asserts that
 *   - every event answered 2xx by the trigger reached the partner (a 200 written to an open connection);
 *   - every request for an event, duplicates included, carried the event id as its idempotency key;
 *   - nothing is left queued or dead-lettered;
 * and prints the counts.
 *
 * Scale with environment variables: EVENTS (5000), KILLS (5), CONCURRENCY (32), SEED (random; printed,
 * so a run can be repeated with the same answers and kill delays).
 */
const assert = require('assert');
const fs = require('fs');
const { startNodeRed, freePort, tmpDir } = require('../support/nodered');
const { startChaosPartner, prng } = require('../support/chaos-partner');
const { durableTriggerNode } = require('../support/flows');

function intEnv(name, dflt) {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v >= 0 && process.env[name] !== '' ? v : dflt;
}

const EVENTS = intEnv('EVENTS', 5000);
const KILLS = intEnv('KILLS', 5);
const CONCURRENCY = Math.max(1, intEnv('CONCURRENCY', 32));
const SEED = intEnv('SEED', Math.floor(Math.random() * 1e9));

/**
 * The client keeps posting, and the drain keeps waiting, as long as things move: each gives up only
 * after STALL_MS without progress (no new 2xx, no smaller queue), so a busy machine makes the test
 * slower, not red. The caps bound the whole run.
 */
const STALL_MS = 120000;
const POST_CAP_MS = Math.max(600000, EVENTS * 120);
const DRAIN_CAP_MS = Math.max(300000, EVENTS * 60);

const TAB = 'fi00000000000tab';
const TRIGGER = 'fi000000trigger1';
const POST = 'fi00000000post01';
const ENDPOINT = 'fi0000endpoint01';
const PATH = '/fault-injection/events';

const MIX = { ok: 70, error: 10, busy: 2, slow: 5, reset: 13 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function flow(partnerUrl) {
  return [
    { id: TAB, type: 'tab', label: 'fault injection' },
    {
      id: ENDPOINT,
      type: 'saypro-endpoint',
      name: 'chaos partner',
      baseUrl: partnerUrl,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 500,
      keepAlive: true,
      tls: '',
      authType: 'none',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
      // 16 at once; the breaker is off so that a run of injected failures cannot hold deliveries for 30 s
      maxConcurrent: 16,
      rateCount: 0,
      rateInterval: 1,
      breakerFailures: 0,
      breakerRate: 0,
    },
    durableTriggerNode(TRIGGER, TAB, PATH, [['fi0000000mapper1'], []], { name: 'platform events' }),
    {
      id: 'fi0000000mapper1',
      type: 'saypro-field-mapper',
      z: TAB,
      name: '',
      keepUnmapped: false,
      rules: [
        { target: 'event_id', sourceType: 'msg', source: 'event.id', type: 'string', default: '', required: true },
        { target: 'n', sourceType: 'msg', source: 'payload.n', type: 'integer', default: '', required: true },
        { target: 'note', sourceType: 'msg', source: 'payload.note', type: 'string', default: '', required: false },
      ],
      wires: [['fi000000encoder1'], []],
    },
    {
      id: 'fi000000encoder1',
      type: 'saypro-format-encoder',
      z: TAB,
      name: '',
      format: 'json',
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
      outputType: 'string',
      wires: [[POST], []],
    },
    {
      id: POST,
      type: 'saypro-http-post',
      z: TAB,
      name: 'to the partner',
      endpoint: ENDPOINT,
      method: '',
      path: '/v1/events',
      // 20 is the most the node allows; with about 30 % of attempts failing, running out is out of the question
      headers: [],
      msgHeaders: true,
      maxAttempts: 20,
      initialDelay: 50,
      maxDelay: 1000,
      maxRetryAfter: 2,
      idempotencyHeader: 'Idempotency-Key',
      successStatuses: '',
      sign: false,
      durable: true,
      maxQueued: 100000,
      maxQueuedMB: 256,
      fullPolicy: 'refuse',
      orderingKey: '',
      wires: [['fi000000checker1'], []],
    },
    {
      id: 'fi000000checker1',
      type: 'saypro-response-check',
      z: TAB,
      name: '',
      mode: 'all',
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
      rules: [{ kind: 'status', value: '2xx' }],
      extract: [],
      wires: [[], []],
    },
  ];
}

describe('fault injection: durable delivery through SIGKILL and a misbehaving partner (real Node-RED process)', function () {
  this.timeout(POST_CAP_MS + DRAIN_CAP_MS + KILLS * 60000 + 60000);

  let partner;
  let nr;
  let userDir;
  let stopClients = false;
  const logs = [];

  after(async function () {
    stopClients = true; // a failed run must not leave the client calling into the next test file
    if (nr) {
      logs.push(nr.output);
      await nr.stop();
    }
    if (partner) await partner.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it(`delivers every event answered 2xx at least once, under its own idempotency key, through ${KILLS} kills`, async function () {
    const random = prng(SEED);
    partner = await startChaosPartner({ mix: MIX, seed: SEED + 1, slowMs: 1200, retryAfter: 1, busyGapMs: 1500 });
    userDir = tmpDir('saypro-fi-');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    let kills = 0;
    let restarts = 0;

    const boot = async (first) => {
      nr = await startNodeRed({
        userDir,
        flow: first ? flow(partner.url) : undefined,
        logLevel: 'info', // startNodeRed waits for the "Started flows" info line
        // the same port every time: the platform keeps calling the same URL
        settings: { uiPort: port },
      });
    };
    const kill = async () => {
      const child = nr.child;
      const gone = new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      process.kill(child.pid, 'SIGKILL');
      await gone;
      logs.push(nr.output);
    };
    const stats = async () => {
      try {
        const res = await fetch(`${base}/saypro-integration-kit/outbox/${POST}`, { signal: AbortSignal.timeout(5000) });
        if (res.status !== 200) return { httpStatus: res.status, text: (await res.text()).slice(0, 500) };
        return await res.json();
      } catch (err) {
        return { error: String(err && err.message) };
      }
    };

    await boot(true);

    // ------------------------------------------------------------------ the platform
    const ids = Array.from({ length: EVENTS }, (_, i) => `evt_${SEED}_${String(i).padStart(6, '0')}`);
    const acked = new Set();
    const replies = {}; // status (or "conn") → count
    const postCap = started + POST_CAP_MS;
    let lastAck = Date.now();
    const postingGoesOn = () => Date.now() < postCap && Date.now() - lastAck < STALL_MS;
    let next = 0;
    let tries = 0;
    const worker = async () => {
      while (next < ids.length && !stopClients) {
        const i = next++;
        const body = JSON.stringify({ id: ids[i], type: 'listing.updated', data: { n: i, note: 'x'.repeat(i % 200) } });
        while (postingGoesOn() && !stopClients) {
          tries++;
          let status = 'conn';
          let retryAfter = NaN;
          try {
            const res = await fetch(base + PATH, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body,
              signal: AbortSignal.timeout(20000),
            });
            status = res.status;
            retryAfter = Number(res.headers.get('retry-after'));
            await res.arrayBuffer();
          } catch {
            status = 'conn';
          }
          replies[status] = (replies[status] || 0) + 1;
          if (typeof status === 'number' && status >= 200 && status < 300) {
            acked.add(ids[i]);
            lastAck = Date.now();
            break;
          }
          // as a platform would: back off a little (Retry-After, capped at 1 s), then send the same event again
          const wait =
            status === 'conn'
              ? 100
              : Number.isFinite(retryAfter) && retryAfter > 0
                ? Math.min(1000, retryAfter * 1000)
                : 250;
          await sleep(wait + Math.floor(Math.random() * 100));
        }
      }
    };
    const posting = Promise.all(Array.from({ length: CONCURRENCY }, worker)).then(() => Date.now());

    // ------------------------------------------------------------------ the power cuts
    const killing = (async () => {
      for (let k = 0; k < KILLS && !stopClients; k++) {
        await sleep(200 + Math.floor(random() * 2800)); // up for 0.2 … 3 s
        await kill();
        kills++;
        await sleep(Math.floor(random() * 1000)); // down for 0 … 1 s
        await boot(false);
        restarts++;
      }
    })();

    await killing;
    const postedAt = await posting;

    // ------------------------------------------------------------------ drain
    const drainCap = Date.now() + DRAIN_CAP_MS;
    let last = await stats();
    let lowest = Infinity;
    let movedAt = Date.now();
    let emptySince = 0;
    let missing = [];
    for (;;) {
      missing = [...acked].filter((id) => !partner.delivered.has(id));
      if (last.depth === 0 && missing.length === 0) break;
      if (last.depth === 0) {
        // empty outbox but something is missing: give in-flight answers a few seconds, then report
        emptySince = emptySince || Date.now();
        if (Date.now() - emptySince > 5000) break;
      } else emptySince = 0;
      const left = (typeof last.depth === 'number' ? last.depth : Infinity) + missing.length;
      if (left < lowest) {
        lowest = left;
        movedAt = Date.now();
      }
      if (Date.now() > drainCap || Date.now() - movedAt > STALL_MS) break;
      await sleep(250);
      last = await stats();
    }
    const finished = Date.now();

    // ------------------------------------------------------------------ figures
    const perEvent = new Map(); // event id → requests
    const keyMismatch = [];
    for (const r of partner.requests) {
      if (r.eventId === undefined) continue;
      perEvent.set(r.eventId, (perEvent.get(r.eventId) || 0) + 1);
      if (r.key !== r.eventId && keyMismatch.length < 20) keyMismatch.push(r);
    }
    let duplicates = 0;
    let eventsDeliveredMoreThanOnce = 0;
    for (const n of partner.delivered.values()) {
      duplicates += n - 1;
      if (n > 1) eventsDeliveredMoreThanOnce++;
    }
    const answers = partner.counts();
    const errorLines = logs
      .concat(nr.output)
      .join('\n')
      .split('\n')
      .filter((l) => /\[(error|warn)\]/.test(l) && !/Projects disabled|unencrypted credentials/.test(l));
    const summary = {
      seed: SEED,
      eventsPosted: EVENTS,
      triggerRequests: tries,
      triggerReplies: replies,
      eventsAnswered2xx: acked.size,
      deliveredUnique: partner.delivered.size,
      deliveredUniqueOf2xx: acked.size - missing.length,
      duplicateDeliveries: duplicates,
      eventsDeliveredMoreThanOnce,
      partnerRequests: perEvent.size ? [...perEvent.values()].reduce((a, b) => a + b, 0) : 0,
      partnerAnswers: answers,
      kills,
      restarts,
      outboxAtEnd: last,
      postingSeconds: +((postedAt - started) / 1000).toFixed(1),
      durationSeconds: +((finished - started) / 1000).toFixed(1),
      nodeRedWarningsAndErrors: errorLines.length,
    };
    console.log('      fault injection: ' + JSON.stringify(summary, null, 2).replace(/\n/g, '\n      '));
    if (errorLines.length)
      console.log('      first Node-RED warnings/errors:\n        ' + errorLines.slice(0, 10).join('\n        '));

    // ------------------------------------------------------------------ verdict
    const context = () => `seed ${SEED}; last Node-RED log:\n${nr.output.slice(-3000)}`;
    assert.strictEqual(kills, KILLS, 'every planned kill happened');
    assert.strictEqual(restarts, KILLS, 'Node-RED came back after every kill');
    assert.strictEqual(
      acked.size,
      EVENTS,
      `every event was eventually answered 2xx (${EVENTS - acked.size} never were); ${context()}`,
    );
    assert.deepStrictEqual(
      missing.slice(0, 20),
      [],
      `${missing.length} event(s) answered 2xx never reached the partner; outbox ${JSON.stringify(last)}; ${context()}`,
    );
    assert.deepStrictEqual(keyMismatch, [], 'every request carries the event id as its idempotency key');
    assert.strictEqual(answers.bad, 0, 'every request body carried its event id');
    assert.strictEqual(last.depth, 0, `nothing remains queued: ${JSON.stringify(last)}; ${context()}`);
    assert.strictEqual(last.deadLettered, 0, `nothing was dead-lettered: ${JSON.stringify(last)}`);
    if (last.deadLetters !== undefined)
      assert.strictEqual(last.deadLetters, 0, `the dead-letter store is empty: ${JSON.stringify(last)}`);
    // the injected faults really happened (else the test proves little)
    assert.ok(
      answers.error > 0 && answers.reset > 0 && answers.slow > 0,
      `faults were injected: ${JSON.stringify(answers)}`,
    );
  });
});
