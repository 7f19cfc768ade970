'use strict';
/**
 * What a message's objects cost the old generation, by the way they are made
 * and kept: `npm run bench:young-gen`.
 *
 * Each pattern runs a closed loop of 50 "messages" in flight, each holding a
 * small payload (20 objects) for 5 ms across an await, as a delivery does
 * while its request is out, and making some garbage around it so that the
 * young generation is collected every few dozen milliseconds. V8's GC
 * profiler (`v8.GCProfiler`) reports each collection with the heap before and
 * after it; what the old space grew by during the young collections, per
 * message, is what those messages carried into the old generation. A message
 * that dies young should carry nothing: what it carries is collected only by
 * a full collection, and until then it is peak memory (docs/performance.md,
 * "What kept memory up").
 *
 * The patterns are the ones the package had on a message's path and the ones
 * it uses now. Plain Node.js, no Node-RED; prints one line per pattern and the
 * Node.js and V8 versions, since the figures are V8's behaviour.
 *
 *   npm run bench:young-gen -- [--n 20000] [--only spread,map]
 */
const v8 = require('v8');

const PATTERNS = {
  'nothing kept': () => undefined,
  'object literal': (m) => ({ a: m.i, b: 'x', c: m.payload, d: 4, e: 5, f: 6 }),
  'object spread {...base, more}': (m) => {
    const base = { a: m.i, b: 'x', c: m.payload };
    return { ...base, d: 4, e: 5, f: 6 };
  },
  'Object.assign({}, base, more)': (m) => {
    const base = { a: m.i, b: 'x', c: m.payload };
    return Object.assign({}, base, { d: 4, e: 5, f: 6 });
  },
  'new AbortController() and its signal': () => {
    const c = new AbortController();
    c.signal.addEventListener('abort', () => undefined, { once: true });
    return c;
  },
  'a long-lived Map: set, then delete at the end': (m, shared) => {
    const v = { payload: m.payload };
    shared.map.set(`k${m.i}`, v);
    return () => shared.map.delete(`k${m.i}`);
  },
  'a long-lived Map that is often near empty (few keys, each set and deleted again)': (m, shared) => {
    const key = `k${m.i % 4}`;
    shared.map.set(key, { payload: m.payload });
    return () => shared.map.delete(key);
  },
  'the same with a plain object': (m, shared) => {
    const key = `k${m.i % 4}`;
    shared.obj[key] = { payload: m.payload };
    return () => delete shared.obj[key];
  },
  'a long-lived Set: add, then delete at the end': (m, shared) => {
    const v = { payload: m.payload };
    shared.set.add(v);
    return () => shared.set.delete(v);
  },
  'a long-lived plain object: set, then delete at the end': (m, shared) => {
    const key = `k${m.i}`;
    shared.obj[key] = { payload: m.payload };
    return () => delete shared.obj[key];
  },
};

function garbage() {
  const a = [];
  for (let i = 0; i < 600; i++) a.push({ i, s: 'x' + i });
  return a.length;
}

/** bytes the old space grew by during young collections, per message, for one pattern */
async function measure(make, n) {
  const shared = { map: new Map(), set: new Set(), obj: Object.create(null) };
  let next = 0;
  const one = async () => {
    const m = { i: next++, payload: Array.from({ length: 20 }, (_, k) => ({ k })) };
    const kept = make(m, shared);
    garbage();
    await new Promise((resolve) => setTimeout(resolve, 5));
    garbage();
    if (typeof kept === 'function') kept();
  };
  const loop = async (count) => {
    let done = 0;
    const lane = async () => {
      while (done < count) {
        done++;
        await one();
      }
    };
    await Promise.all(Array.from({ length: 50 }, lane));
  };
  await loop(Math.min(5000, n)); // warm-up: the code optimised, the heap at its working size
  const profiler = new v8.GCProfiler();
  profiler.start();
  await loop(n);
  const { statistics } = profiler.stop();
  const old = (h) => h.heapSpaceStatistics.find((s) => s.spaceName === 'old_space').spaceUsedSize;
  let promoted = 0;
  let young = 0;
  for (const gc of statistics) {
    if (gc.gcType !== 'Scavenge') continue;
    young++;
    promoted += Math.max(0, old(gc.afterGC) - old(gc.beforeGC));
  }
  return { perMessage: promoted / n, young };
}

async function main() {
  const args = process.argv.slice(2);
  let n = 20000;
  let only = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--n') n = Number(args[++i]);
    else if (args[i] === '--only') only = args[++i].split(',');
    else if (args[i] === '--help') {
      console.log('npm run bench:young-gen -- [--n 20000] [--only <words of pattern names, comma-separated>]');
      return;
    } else throw new Error(`unknown option ${args[i]}`);
  }
  if (!Number.isInteger(n) || n < 1000) throw new Error('--n expects a whole number ≥ 1000');
  console.log(`Node ${process.version}, V8 ${process.versions.v8}; ${n} messages per pattern, 50 in flight, 5 ms each`);
  console.log('bytes carried into the old generation per message (old space growth during young collections):');
  for (const [name, make] of Object.entries(PATTERNS)) {
    if (only && !only.some((w) => name.includes(w))) continue;
    const r = await measure(make, n);
    console.log(`  ${String(Math.round(r.perMessage)).padStart(6)} B   ${name}   (${r.young} young collections)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
