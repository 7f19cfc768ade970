'use strict';
const assert = require('node:assert');
const { countStatus } = require('../../dist/nodes/common/status');

/** Resolves once pred() holds; fails after ms. */
async function until(pred, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in ' + ms + ' ms');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('common/status countStatus', function () {
  function setup(intervalMs = 40) {
    const shown = [];
    let built = 0;
    const s = countStatus({ status: (x) => shown.push(x.text) }, intervalMs);
    const show = (kind, text) =>
      s.show(kind, () => {
        built++;
        return { fill: 'green', shape: 'dot', text };
      });
    return { s, shown, show, built: () => built };
  }

  it('shows the first status and every change of kind at once', function () {
    const { shown, show } = setup();
    show('mapped', 'mapped 1');
    show('invalid', 'invalid 1');
    show('mapped', 'mapped 2');
    assert.deepStrictEqual(shown, ['mapped 1', 'invalid 1', 'mapped 2']);
  });

  it('coalesces repeats of one kind and always shows the last one, building only the texts it shows', async function () {
    const { shown, show, built } = setup();
    for (let i = 1; i <= 1000; i++) show('mapped', 'mapped ' + i);
    assert.deepStrictEqual(shown, ['mapped 1']);
    await until(() => shown.length === 2);
    assert.deepStrictEqual(shown, ['mapped 1', 'mapped 1000']);
    assert.strictEqual(built(), 2);
  });

  it('shows a repeat at once when the interval has passed', async function () {
    const { shown, show } = setup(20);
    show('mapped', 'mapped 1');
    await new Promise((r) => setTimeout(r, 60));
    show('mapped', 'mapped 2');
    assert.deepStrictEqual(shown, ['mapped 1', 'mapped 2']);
  });

  it('a change of kind replaces a pending repeat (an error is never hidden behind a count)', async function () {
    const { shown, show } = setup();
    show('mapped', 'mapped 1');
    show('mapped', 'mapped 2');
    show('failed', 'failed 1');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepStrictEqual(shown, ['mapped 1', 'failed 1']);
  });

  it('cancel drops a pending update', async function () {
    const { s, shown, show } = setup();
    show('mapped', 'mapped 1');
    show('mapped', 'mapped 2');
    s.cancel();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepStrictEqual(shown, ['mapped 1']);
  });
});

describe('memoTranslate (nodes/common/status.ts)', function () {
  const { memoTranslate } = require('../../dist/nodes/common/status');

  it('translates each key and values once, and keeps at most `max` texts', function () {
    const calls = [];
    const tr = memoTranslate((k, v) => (calls.push(k), `${k}:${JSON.stringify(v ?? null)}`), 2);
    assert.strictEqual(tr('a', { n: 1 }), 'a:{"n":1}');
    assert.strictEqual(tr('a', { n: 1 }), 'a:{"n":1}');
    assert.strictEqual(tr('a', { n: 2 }), 'a:{"n":2}');
    assert.strictEqual(tr('b'), 'b:null');
    assert.deepStrictEqual(calls, ['a', 'a', 'b']);
    tr('a', { n: 1 }); // dropped as the oldest: translated again
    assert.deepStrictEqual(calls, ['a', 'a', 'b', 'a']);
  });
});
