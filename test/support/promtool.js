'use strict';
/**
 * Runs `promtool check metrics` (Debian package prometheus) on an exposition
 * text. Resolves { ok, output }, or { missing: true } when promtool is not
 * installed (.ci/run installs it).
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

module.exports = { havePromtool, checkMetrics };
