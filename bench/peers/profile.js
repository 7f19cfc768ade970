'use strict';
/**
 * Reads a .cpuprofile (V8 sampling profiler, as written by --cpu-prof or the
 * inspector) and sums the self time per function and per area.
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');

function shortUrl(url) {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(root + '/')) u = u.slice(root.length + 1);
  u = u.replace(/^.*\/node_modules\//, 'node_modules/');
  return u;
}

function area(url, name) {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return 'V8/native (program)';
  const u = shortUrl(url);
  if (u.startsWith('dist/nodes/')) return 'ours (dist/nodes)';
  if (u.startsWith('node_modules/@node-red/') || u.startsWith('node_modules/node-red/'))
    return 'Node-RED runtime and core nodes';
  if (u.startsWith('bench/')) return 'bench driver';
  if (u.startsWith('node:') || /^[a-z_/]+$/.test(u)) return 'Node.js internals';
  if (u.startsWith('node_modules/')) return 'libraries (' + u.split('/')[1] + ')';
  if (!u) return 'native (no script)';
  return 'other';
}

/** { totalMs, functions: [{name, where, selfMs, pct}], areas: [{area, selfMs, pct}] } */
function summarise(file, top = 20) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let k = 0; k < prof.samples.length; k++) {
    const dt = (prof.timeDeltas[k] || 0) / 1000;
    total += dt;
    self.set(prof.samples[k], (self.get(prof.samples[k]) || 0) + dt);
  }
  const fns = new Map();
  const areas = new Map();
  for (const [id, ms] of self) {
    const cf = byId.get(id).callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const k = name + ' ' + where;
    const f = fns.get(k) || { name, where, selfMs: 0 };
    f.selfMs += ms;
    fns.set(k, f);
    const a = area(cf.url, name);
    areas.set(a, (areas.get(a) || 0) + ms);
  }
  const busy = total - (areas.get('idle') || 0);
  const pct = (ms) => (busy > 0 ? (100 * ms) / busy : 0);
  return {
    totalMs: total,
    busyMs: busy,
    functions: [...fns.values()]
      .filter((f) => f.name !== '(idle)')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, pct: pct(f.selfMs) })),
    areas: [...areas.entries()]
      .filter(([a]) => a !== 'idle')
      .map(([a, ms]) => ({ area: a, selfMs: ms, pct: pct(ms) }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}

function format(summary) {
  const lines = [];
  lines.push(
    `  busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled (idle excluded from the percentages)`,
  );
  lines.push('  by area:');
  for (const a of summary.areas) lines.push(`    ${a.pct.toFixed(1).padStart(5)}%  ${a.area}`);
  lines.push('  top self time:');
  for (const f of summary.functions) lines.push(`    ${f.pct.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}`);
  return lines.join('\n');
}

module.exports = { summarise, format };

if (require.main === module) {
  for (const f of process.argv.slice(2)) {
    console.log(f);
    console.log(format(summarise(f, 30)));
  }
}
