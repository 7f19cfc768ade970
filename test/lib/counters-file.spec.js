'use strict';
/* The queue's counts kept beside its journal (nodes/lib/outbox/counters-file.ts). */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { CountersFile, parseCounters, COUNTERS_FILE } = require('../../dist/nodes/lib/outbox/counters-file');

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-counts-'));
const zero = () => ({ delivered: 0, retried: 0, deadLettered: 0, refused: 0 });

describe('lib/outbox/counters-file', function () {
  it('starts from zero in a new directory, writes a change, and a second open reads it back with the same start time', async function () {
    const dir = tmpDir();
    const warnings = [];
    const counts = zero();
    const cf = await CountersFile.open(dir, counts, { now: () => 1_700_000_000_000, warn: (w) => warnings.push(w) });
    assert.strictEqual(cf.since, 1_700_000_000_000);
    counts.delivered += 5;
    counts.deadLettered++;
    await cf.close();
    const file = path.join(dir, COUNTERS_FILE);
    assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, 'utf8')), {
      v: 1,
      since: 1_700_000_000_000,
      counts: { delivered: 5, retried: 0, deadLettered: 1, refused: 0 },
    });

    const again = zero();
    const cf2 = await CountersFile.open(dir, again, { now: () => 1_800_000_000_000 });
    assert.deepStrictEqual(again, { delivered: 5, retried: 0, deadLettered: 1, refused: 0 });
    assert.strictEqual(cf2.since, 1_700_000_000_000, 'counting began when the queue was created');
    await cf2.close();
    assert.deepStrictEqual(warnings, []);
  });

  it('writes changes while open, without waiting for close (at most every interval)', async function () {
    const dir = tmpDir();
    const counts = zero();
    const cf = await CountersFile.open(dir, counts, { intervalMs: 50 });
    counts.retried = 3;
    const file = path.join(dir, COUNTERS_FILE);
    const deadline = Date.now() + 10000;
    let saved;
    while (Date.now() < deadline) {
      saved = fs.existsSync(file) && parseCounters(fs.readFileSync(file, 'utf8'));
      if (saved && saved.counts.retried === 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.strictEqual(saved.counts.retried, 3);
    await cf.close();
  });

  it('a damaged or foreign file: counting from zero with one warning, and the next write repairs it', async function () {
    for (const text of [
      '{"v":1,"since":1,"co',
      '[]',
      '{"v":2,"since":1,"counts":{}}',
      '{"v":1,"since":-5,"counts":{}}',
    ]) {
      const dir = tmpDir();
      fs.writeFileSync(path.join(dir, COUNTERS_FILE), text);
      const warnings = [];
      const counts = zero();
      const cf = await CountersFile.open(dir, counts, { warn: (w) => warnings.push(w) });
      assert.deepStrictEqual(counts, zero(), text);
      assert.strictEqual(warnings.length, 1, text);
      assert.match(warnings[0], /damaged; counting from zero/);
      counts.refused = 1;
      await cf.close();
      assert.strictEqual(parseCounters(fs.readFileSync(path.join(dir, COUNTERS_FILE), 'utf8')).counts.refused, 1);
    }
  });

  it('ignores values that are not counts and keys the queue does not count', function () {
    assert.deepStrictEqual(
      parseCounters('{"v":1,"since":5,"counts":{"delivered":2,"retried":-1,"refused":1.5,"x":"7","other":4}}'),
      { v: 1, since: 5, counts: { delivered: 2, other: 4 } },
    );
  });
});
