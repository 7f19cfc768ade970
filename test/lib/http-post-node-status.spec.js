'use strict';
/**
 * The HTTP POST node's live status (lib/http-post/node-status.ts): the
 * board joined with the queue, the deliveries in flight and the pacing,
 * translated, set only when changed, refreshed while a queued age ticks.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { liveStatus } = require('../../dist/nodes/lib/http-post/node-status.js');
const { newDeliveryState } = require('../../dist/nodes/lib/http/delivery-state.js');

const CATALOGUE = JSON.parse(fs.readFileSync(path.join(__dirname, '../../locales/en-US/http-post.json'), 'utf8'));
/** what RED._ does with the catalogue */
function translate(key, vars) {
  const text = key.split('.').reduce((n, part) => (n && typeof n === 'object' ? n[part] : undefined), CATALOGUE);
  assert.strictEqual(typeof text, 'string', `no text for ${key}`);
  return text.replace(/__(\w+)__/g, (_, name) => String(vars[name]));
}

/** waits until `cond()` holds (generous deadline) */
async function until(cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function live(props = {}) {
  const set = [];
  const o = {
    durable: true,
    problem: undefined,
    maxDeadLetters: 0,
    translate,
    set: (s) => set.push(s),
    queue: () => undefined,
    inFlight: () => [],
    pacing: () => undefined,
    ...props,
  };
  return { status: liveStatus(o), set };
}

describe('lib/http-post/node-status', function () {
  it('durable: "opening queue" until the queue is open, then its depth; each change set once', async function () {
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    let brief;
    const { status, set } = live({ queue: () => brief });
    status.show();
    await turn();
    status.show();
    await turn();
    assert.deepStrictEqual(
      set.map((s) => s.text),
      ['opening queue'],
    );
    brief = { depth: 0, oldestAgeMs: 0, sending: 0 };
    status.board.ended({ ok: true, status: 200 });
    status.show();
    await turn();
    assert.deepStrictEqual(
      set.map((s) => s.text),
      ['opening queue', '200 · 0 queued'],
    );
    assert.deepStrictEqual(status.current(), set[1]);
    status.stop();
  });

  it('a settings problem is shown red, whatever else happens', function () {
    const { status } = live({ problem: { status: 'noEndpoint', field: 'endpoint' } });
    assert.strictEqual(status.current().fill, 'red');
    assert.strictEqual(status.current().shape, 'ring');
  });

  it('in memory: the retry a waiting delivery is at counts its attempts made, plus one', function () {
    const state = newDeliveryState('k1', 5);
    state.phase = 'waiting';
    state.attempts = 2;
    const { status } = live({ durable: false, inFlight: () => [state] });
    status.board.phase(state);
    assert.strictEqual(status.current().text, 'retry 3/5');
    state.authRetried = true; // a repeat after a refreshed token does not count
    assert.strictEqual(status.current().text, 'retry 2/5');
  });

  it('an endpoint whose pacing throws counts as one without pacing (the status still shows)', function () {
    const { status } = live({
      durable: false,
      pacing: () => {
        throw new Error('endpoint gone');
      },
    });
    assert.doesNotThrow(() => status.show());
  });

  it('messages queued behind a paused endpoint: the pause is shown while it lasts (by the clock given)', function () {
    const now = 1_000_000;
    const queue = () => ({ depth: 2, oldestAgeMs: 0, sending: 0 });
    const pacing = () => ({ offline: false, offlineCode: null, circuit: 'closed', pausedUntil: now + 5000 });
    const paused = live({ queue, pacing, now: () => now }).status.current();
    const after = live({ queue, pacing, now: () => now + 6000 }).status.current();
    assert.strictEqual(paused.fill, 'yellow');
    assert.match(paused.text, /paused/);
    assert.doesNotMatch(after.text, /paused/);
  });

  it('while something is queued, the status is shown again when the age of the oldest changes', async function () {
    const t0 = Date.now();
    // the oldest message is 20 ms short of a minute old: "<1m", then "1m"
    const brief = () => ({ depth: 1, oldestAgeMs: 60000 - 20 + (Date.now() - t0), sending: 0 });
    const { status, set } = live({ queue: brief });
    status.show();
    assert.match(set[0].text, /<1m/);
    await until(() => set.length === 2);
    assert.match(set[1].text, /\b1m/);
    status.stop();
  });

  it('nothing queued: no refresh; after stop() nothing is shown', async function () {
    let calls = 0;
    const { status, set } = live({ queue: () => (calls++, { depth: 0, oldestAgeMs: 0, sending: 0 }) });
    status.show();
    status.stop();
    status.show();
    assert.strictEqual(set.length, 1);
    assert.strictEqual(calls, 2, 'one brief for the status, one to decide on a refresh');
  });
});
