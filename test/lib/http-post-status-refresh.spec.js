'use strict';
/**
 * The HTTP POST node's status refresher (lib/http-post/status-refresh.ts):
 * a status is set only when it changed, shown again when it changes by
 * itself (an age), and never after stop().
 */
const assert = require('node:assert');
const { StatusRefresher } = require('../../dist/nodes/lib/http-post/status-refresh.js');

/** waits until `cond()` holds (generous deadline) */
async function until(cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('lib/http-post/status-refresh', function () {
  it('sets a status only when it differs from the one on show', async function () {
    let text = 'a';
    const set = [];
    const r = new StatusRefresher({
      compute: () => ({ text }),
      set: (s) => set.push(s.text),
      changesIn: () => undefined,
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    r.show();
    await turn();
    r.show();
    await turn();
    text = 'b';
    r.show();
    await turn();
    r.show();
    await turn();
    text = 'a';
    r.show();
    await turn();
    assert.deepStrictEqual(set, ['a', 'b', 'a']);
    r.stop();
  });

  it('shows the first change of a turn at once and the others together once the turn is over', async function () {
    let n = 0;
    let computed = 0;
    const set = [];
    const r = new StatusRefresher({
      compute: () => (computed++, { n }),
      set: (s) => set.push(s.n),
      changesIn: () => undefined,
    });
    r.show();
    assert.deepStrictEqual(set, [0], 'the first is shown at once');
    for (let i = 1; i <= 100; i++) {
      n = i;
      r.show();
    }
    assert.strictEqual(computed, 1, 'the rest wait for the end of the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepStrictEqual(set, [0, 100], 'the last state is shown, once');
    assert.strictEqual(computed, 2);
    // a turn with no change after the held one shows nothing more
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.strictEqual(computed, 2);
    r.stop();
  });

  it('drops the changes held back in this turn when stopped', async function () {
    let computed = 0;
    const r = new StatusRefresher({
      compute: () => ({ n: ++computed }),
      set: () => undefined,
      changesIn: () => undefined,
    });
    r.show();
    r.show();
    r.stop();
    await new Promise((resolve) => setImmediate(resolve));
    assert.strictEqual(computed, 1);
  });

  it('shows the status again when it says it changes by itself, until it no longer does', async function () {
    let computed = 0;
    let ages = 3;
    const set = [];
    const r = new StatusRefresher({
      compute: () => ({ text: `${++computed}` }),
      set: (s) => set.push(s.text),
      changesIn: () => (ages-- > 0 ? 1 : undefined),
    });
    r.show();
    await until(() => set.length === 4);
    // no refresh is due any more: the count stays
    await new Promise((r) => setTimeout(r, 50));
    assert.deepStrictEqual(set, ['1', '2', '3', '4']);
    r.stop();
  });

  it('after stop() nothing is computed or shown, and a pending refresh is dropped', async function () {
    let computed = 0;
    const r = new StatusRefresher({
      compute: () => ({ n: ++computed }),
      set: () => undefined,
      changesIn: () => 20,
    });
    r.show();
    assert.strictEqual(computed, 1);
    r.stop();
    r.show();
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(computed, 1);
  });

  it('show is bound: it can be handed around as a callback', function () {
    const set = [];
    const r = new StatusRefresher({ compute: () => 'x', set: (s) => set.push(s), changesIn: () => undefined });
    const { show } = r;
    show();
    assert.deepStrictEqual(set, ['x']);
  });
});
