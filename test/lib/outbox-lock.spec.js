'use strict';
/**
 * The cross-process lock on an outbox directory (lib/outbox/lock.ts), with
 * real child processes opening the same directory.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { DirLock, LOCK_FILE, processStart } = require('../../dist/nodes/lib/outbox/lock');
const { Journal } = require('../../dist/nodes/lib/outbox/journal');
const { Outbox } = require('../../dist/nodes/lib/outbox/outbox');

const root = path.resolve(__dirname, '..', '..');

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-lock-'));
}

/**
 * A child process that opens an outbox in `dir`, enqueues `count` items
 * (ids `${prefix}-${i}`), prints one JSON line per event ({ready}, {acked},
 * {error}) and then stays alive until killed (or exits at once with `exit`).
 */
function child(dir, { count = 0, prefix = 'c', exit = false } = {}) {
  const script = `
    const { Outbox } = require(${JSON.stringify(path.join(root, 'dist/nodes/lib/outbox/outbox'))});
    const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    (async () => {
      let ob;
      try { ob = await Outbox.open(${JSON.stringify(dir)}); }
      catch (err) { out({ error: err.code, message: err.message }); process.exit(0); }
      out({ ready: process.pid });
      const acked = [];
      await Promise.all(Array.from({ length: ${count} }, async (_, i) => {
        const r = await ob.enqueue({ id: ${JSON.stringify(prefix)} + '-' + i, data: { i } });
        if (r.status === 'accepted') acked.push(r.id);
      }));
      out({ acked });
      if (${exit}) { await ob.close(); process.exit(0); }
      setInterval(() => {}, 1000);
    })();
  `;
  const p = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  const waiters = [];
  p.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  const exited = new Promise((resolve) => p.on('exit', resolve));
  async function until(pred, what, ms = 15000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = lines.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`child: no ${what} within ${ms} ms; saw ${JSON.stringify(lines)}`);
      await new Promise((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }
  return { p, lines, until, exited, kill: () => p.kill('SIGKILL') };
}

describe('outbox directory lock', function () {
  this.timeout(30000);
  const kids = [];
  afterEach(() => {
    for (const k of kids.splice(0)) k.kill();
  });
  function spawnChild(dir, o) {
    const c = child(dir, o);
    kids.push(c);
    return c;
  }

  it('a second process refuses to open a directory another live process holds, with the owner named', async function () {
    const dir = tmpDir();
    const a = spawnChild(dir);
    const ready = await a.until((l) => l.ready, 'ready');
    const b = spawnChild(dir);
    const refused = await b.until((l) => l.error, 'error');
    assert.strictEqual(refused.error, 'EOUTBOXLOCKED');
    assert.match(refused.message, new RegExp(`in use by another process \\(pid ${ready.ready} on `));
    assert.match(refused.message, /must not share one user directory/);
    // the same in this process
    await assert.rejects(
      Journal.open(dir, {}, () => undefined),
      { code: 'EOUTBOXLOCKED' },
    );
  });

  it('400 events from two processes on one directory: the second refuses, every acknowledged event survives', async function () {
    const dir = tmpDir();
    const a = spawnChild(dir, { count: 200, prefix: 'a' });
    await a.until((l) => l.ready, 'ready');
    const b = spawnChild(dir, { count: 200, prefix: 'b' });
    const [ackedA, refusedB] = await Promise.all([
      a.until((l) => l.acked, 'acked'),
      b.until((l) => l.error || l.acked, 'answer'),
    ]);
    assert.strictEqual(refusedB.error, 'EOUTBOXLOCKED', 'the second process refuses the directory');
    assert.strictEqual(ackedA.acked.length, 200);
    a.kill(); // dies without closing: its lock file stays behind
    await a.exited;
    const warnings = [];
    const ob = await Outbox.open(dir, { warn: (m) => warnings.push(m) });
    try {
      const ids = new Set(ob.list().map((x) => x.id));
      const lost = ackedA.acked.filter((id) => !ids.has(id));
      console.log(`      acknowledged 200 + 0 (refused), lost after restart: ${lost.length}`);
      assert.deepStrictEqual(lost, []);
      assert.strictEqual(ob.size, 200);
      assert.ok(
        warnings.some((w) => /took over the stale lock .*process \d+ is gone/.test(w)),
        warnings.join('\n'),
      );
    } finally {
      await ob.close();
    }
    assert.ok(!fs.existsSync(path.join(dir, LOCK_FILE)), 'close removes the lock file');
  });

  it('a lock whose pid now belongs to another process (pid reuse) is taken over; one whose start time matches is not', async function () {
    if (process.platform !== 'linux') this.skip();
    const dir = tmpDir();
    const other = spawnChild(tmpDir()); // a live process that is not the lock's owner
    const { ready: pid } = await other.until((l) => l.ready, 'ready');
    const lock = (start) =>
      fs.writeFileSync(
        path.join(dir, LOCK_FILE),
        JSON.stringify({ pid, host: os.hostname(), start, since: 1, token: 'x' }),
      );
    lock(processStart(pid));
    await assert.rejects(DirLock.acquire(dir), { code: 'EOUTBOXLOCKED' });
    lock('12345'); // recorded by a process that started at another time
    const warnings = [];
    const l = await DirLock.acquire(dir, { warn: (m) => warnings.push(m) });
    assert.match(warnings[0], /pid \d+ now belongs to another process/);
    assert.ok(await l.held());
    await l.release();
  });

  it('a lock from another host is held while its heartbeat is fresh, stale once it stops', async function () {
    const dir = tmpDir();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, JSON.stringify({ pid: 1, host: 'some-other-box', start: '', since: 1, token: 'x' }));
    await assert.rejects(
      DirLock.acquire(dir, { staleAfterMs: 60000 }),
      (err) => err.code === 'EOUTBOXLOCKED' && /pid 1 on some-other-box/.test(err.message),
    );
    const old = new Date(Date.now() - 120000);
    fs.utimesSync(file, old, old);
    const l = await DirLock.acquire(dir, { staleAfterMs: 60000 });
    assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
    await l.release();
  });

  it('the owner refreshes its heartbeat; a garbled lock file is judged by its age', async function () {
    const dir = tmpDir();
    const file = path.join(dir, LOCK_FILE);
    const l = await DirLock.acquire(dir, { heartbeatMs: 50 });
    const old = new Date(Date.now() - 120000);
    fs.utimesSync(file, old, old);
    const deadline = Date.now() + 10000;
    while (fs.statSync(file).mtimeMs < Date.now() - 60000) {
      assert.ok(Date.now() < deadline, 'the heartbeat refreshed the mtime');
      await new Promise((r) => setTimeout(r, 20));
    }
    await l.release();
    fs.writeFileSync(file, '{"pid":');
    await assert.rejects(DirLock.acquire(dir), { code: 'EOUTBOXLOCKED' });
    const older = new Date(Date.now() - 200000); // past the default 3 minutes
    fs.utimesSync(file, older, older);
    const l2 = await DirLock.acquire(dir);
    await l2.release();
  });

  it('several processes racing for one stale lock: exactly one gets it', async function () {
    for (let round = 0; round < 3; round++) {
      const dir = tmpDir();
      fs.writeFileSync(
        path.join(dir, LOCK_FILE),
        JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), start: '', since: 1, token: 'dead' }),
      );
      const racers = [0, 1, 2, 3].map(() => spawnChild(dir));
      const answers = await Promise.all(racers.map((r) => r.until((l) => l.ready || l.error, 'answer')));
      assert.strictEqual(answers.filter((a) => a.ready).length, 1, JSON.stringify(answers));
      assert.strictEqual(answers.filter((a) => a.error === 'EOUTBOXLOCKED').length, 3);
      for (const r of racers) r.kill();
    }
  });
});
