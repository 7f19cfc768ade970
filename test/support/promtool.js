'use strict';
/**
 * Prometheus exposition helpers for the tests: `checkMetrics` runs `promtool
 * check metrics` (Debian package prometheus) on an exposition text and
 * resolves { ok, output }, or { missing: true } when promtool is not installed
 * (.ci/run installs it); `sample` reads one value.
 */
const { spawn, spawnSync } = require('node:child_process');

function havePromtool() {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

function checkMetrics(text) {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', (err) =>
      err.code === 'ENOENT' ? resolve({ missing: true, ok: false, output: '' }) : reject(err),
    );
    child.on('close', (code) => resolve({ ok: code === 0, code, output }));
    child.stdin.end(text);
  });
}

/** The value of one sample of an exposition text with (at least) these labels; undefined when absent. */
function sample(text, name, labels = {}) {
  for (const line of text.split('\n')) {
    const m = /^([^{ #]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = {};
    for (const p of (m[2] || '').match(/\w+="(?:[^"\\]|\\.)*"/g) || []) {
      const i = p.indexOf('=');
      got[p.slice(0, i)] = JSON.parse(p.slice(i + 1));
    }
    if (Object.keys(labels).every((k) => got[k] === labels[k])) return Number(m[3]);
  }
  return undefined;
}

module.exports = { havePromtool, checkMetrics, sample };
