'use strict';
/**
 * lib/http/abort.ts: the Stop signal a delivery uses instead of an
 * AbortController (see its header for why), linkSignal and cancellableWait.
 */
const assert = require('node:assert');
const { Stop, linkSignal, cancellableWait } = require('../../dist/nodes/lib/http/abort');

describe('lib/http/abort', function () {
  it('Stop: aborts once with an AbortError by default; each listener runs once, in order', function () {
    const s = new Stop();
    const calls = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    s.addEventListener('abort', a, { once: true });
    s.addEventListener('abort', b);
    s.addEventListener('abort', a); // the same listener twice counts once, as on an EventTarget
    assert.strictEqual(s.aborted, false);
    assert.strictEqual(s.reason, undefined);
    s.abort();
    s.abort(new Error('second')); // a second abort changes nothing
    assert.deepStrictEqual(calls, ['a', 'b']);
    assert.strictEqual(s.aborted, true);
    assert.ok(s.reason instanceof DOMException);
    assert.strictEqual(s.reason.name, 'AbortError');
    // as on an AbortSignal: a listener added after the abort is never called
    s.addEventListener('abort', () => calls.push('late'));
    assert.deepStrictEqual(calls, ['a', 'b']);
  });

  it('Stop: a removed listener is not called; the reason given is kept; other event types are ignored', function () {
    const s = new Stop();
    const calls = [];
    const a = () => calls.push('a');
    s.addEventListener('abort', a);
    s.addEventListener('other', () => calls.push('other'));
    s.removeEventListener('abort', a);
    s.removeEventListener('abort', () => undefined); // unknown: nothing happens
    const why = new Error('deadline');
    s.abort(why);
    assert.deepStrictEqual(calls, []);
    assert.strictEqual(s.reason, why);
  });

  it('Stop: a listener that throws stops neither the others nor the caller (a warning says so)', async function () {
    const s = new Stop();
    const warnings = [];
    const onWarning = (w) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      let after = false;
      s.addEventListener('abort', () => {
        throw new Error('listener broke');
      });
      s.addEventListener('abort', () => (after = true));
      s.abort();
      assert.strictEqual(after, true);
      await new Promise((r) => setImmediate(r));
      assert.ok(
        warnings.some((m) => /an abort listener failed: listener broke/.test(m)),
        `warnings: ${warnings}`,
      );
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('linkSignal: the child is a Stop that follows a real AbortSignal, with its reason', function () {
    const parent = new AbortController();
    const link = linkSignal(parent.signal);
    assert.ok(link.signal instanceof Stop);
    let heard = 0;
    link.signal.addEventListener('abort', () => heard++);
    const why = new Error('redeployed');
    parent.abort(why);
    assert.strictEqual(link.signal.aborted, true);
    assert.strictEqual(link.signal.reason, why);
    assert.strictEqual(heard, 1);
    // a child of an already aborted parent starts aborted; its own abort leaves the parent alone
    const late = linkSignal(parent.signal);
    assert.strictEqual(late.signal.aborted, true);
    const other = new AbortController();
    const own = linkSignal(other.signal);
    own.abort();
    assert.strictEqual(own.signal.aborted, true);
    assert.strictEqual(other.signal.aborted, false);
    own.dispose();
  });

  it('cancellableWait: a Stop cuts the wait short (false), else it runs out (true)', async function () {
    const s = new Stop();
    const long = cancellableWait(60000, s);
    s.abort();
    assert.strictEqual(await long, false);
    assert.strictEqual(await cancellableWait(5, new Stop()), true);
    assert.strictEqual(await cancellableWait(60000, s), false, 'already aborted: at once');
  });
});
