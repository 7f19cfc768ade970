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
  it('sets a status only when it differs from the one on show', function () {
    let text = 'a';
    const set = [];
    const r = new StatusRefresher({
      compute: () => ({ text }),
      set: (s) => set.push(s.text),
      changesIn: () => undefined,
    });
    r.show();
    r.show();
    text = 'b';
    r.show();
    r.show();
    text = 'a';
    r.show();
    assert.deepStrictEqual(set, ['a', 'b', 'a']);
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
