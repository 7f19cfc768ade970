'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');

const { crc32, crc32Table, nativeCrc32 } = require('../../dist/nodes/lib/outbox/crc32');
const {
  Journal,
  encodeRecord,
  encodeJson,
  segmentFileName,
  HEADER_BYTES,
} = require('../../dist/nodes/lib/outbox/journal');
const { encodeLegacy } = require('../../dist/nodes/lib/outbox/framing');

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-journal-'));
}

/** Opens a journal and collects what replay hands over, and the warnings. */
async function openJ(dir, options = {}) {
  const records = [];
  const warnings = [];
  const j = await Journal.open(dir, { ...options, warn: (msg, info) => warnings.push({ msg, info }) }, (r) =>
    records.push(r),
  );
  return { j, records, warnings };
}

function segFiles(dir) {
  return fs
    .readdirSync(dir)
    .filter((n) => /^seg-\d+\.log$/.test(n))
    .sort();
}

/** true when `fd` was opened with O_DSYNC (Linux: the flags in /proc/self/fdinfo, in octal) */
function opensDsync(fd) {
  const dsync = fs.constants.O_DSYNC;
  if (!dsync) return false;
  try {
    const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return !!m && (parseInt(m[1], 8) & dsync) === dsync;
  } catch {
    return false;
  }
}

/**
 * Counts fdatasync calls (and writes to files opened with O_DSYNC, each its own sync) on every FileHandle, and remembers per file how many
 * bytes had been written when the last completed fdatasync began (what is
 * durable), so a test can check that an append resolved only after the sync
 * that covers it.
 */
async function spyOnSyncs(dir) {
  const probe = await fsp.open(path.join(dir, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
  fs.unlinkSync(path.join(dir, '.probe'));
  const written = new Map(); // fd → highest byte written
  const durable = new Map(); // fd → bytes durable
  const state = { syncs: 0, writes: 0, maxWriteBytes: 0, dsyncWrites: 0 };
  const origWrite = proto.write;
  const origSync = proto.datasync;
  proto.write = async function (buf, offset, length, position) {
    const fd = this.fd;
    const synced = opensDsync(fd);
    const r = await origWrite.call(this, buf, offset, length, position);
    state.writes++;
    state.maxWriteBytes = Math.max(state.maxWriteBytes, r.bytesWritten);
    written.set(fd, Math.max(written.get(fd) || 0, position + r.bytesWritten));
    if (synced) {
      // a file opened with O_DSYNC: the write returned once its data was on the disk
      state.syncs++;
      state.dsyncWrites++;
      durable.set(fd, Math.max(durable.get(fd) || 0, position + r.bytesWritten));
    }
    return r;
  };
  proto.datasync = async function () {
    const upTo = written.get(this.fd) || 0;
    const fd = this.fd;
    await origSync.call(this);
    state.syncs++;
    durable.set(fd, Math.max(durable.get(fd) || 0, upTo));
  };
  state.durable = durable;
  state.restore = () => {
    proto.write = origWrite;
    proto.datasync = origSync;
  };
  return state;
}

describe('outbox journal', function () {
  const dirs = [];
  const journals = [];
  function dir() {
    const d = tmpDir();
    dirs.push(d);
    return d;
  }
  async function open(d, options) {
    const o = await openJ(d, options);
    journals.push(o.j);
    return o;
  }
  afterEach(async function () {
    for (const j of journals.splice(0)) await j.close().catch(() => undefined);
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('crc32', function () {
    it('matches the IEEE check value and zlib.crc32 where the engine has it', function () {
      const check = Buffer.from('123456789');
      assert.strictEqual(crc32Table(check), 0xcbf43926);
      assert.strictEqual(crc32(check), 0xcbf43926);
      assert.strictEqual(crc32Table(Buffer.alloc(0)), 0);
      if (typeof zlib.crc32 === 'function') {
        assert.strictEqual(nativeCrc32, true);
        assert.strictEqual(zlib.crc32(check), 0xcbf43926);
      }
    });

    it('the table implementation and zlib.crc32 agree on random data, also when continued', function () {
      for (let i = 0; i < 200; i++) {
        const buf = crypto.randomBytes(i * 7);
        const cut = Math.floor(buf.length / 3);
        const whole = crc32Table(buf);
        assert.strictEqual(crc32Table(buf.subarray(cut), crc32Table(buf.subarray(0, cut))), whole);
        assert.strictEqual(crc32(buf), whole);
        if (typeof zlib.crc32 === 'function') assert.strictEqual(zlib.crc32(buf) >>> 0, whole);
      }
    });
  });

  describe('record framing', function () {
    it('is sync marker, length (BE), CRC-32 (BE) of length+sequence+type+flags+body, sequence number (48 bit), type, flags, JSON body', function () {
      const body = { id: 'é€', n: 1 };
      const buf = encodeRecord(3, body, 77);
      const json = Buffer.from(JSON.stringify(body), 'utf8');
      assert.strictEqual(HEADER_BYTES, 20);
      assert.strictEqual(buf.length, 20 + json.length);
      assert.deepStrictEqual([...buf.subarray(0, 4)], [0xd5, 0x3a, 0x7e, 0xb1]);
      assert.strictEqual(buf.readUInt32BE(4), json.length);
      assert.strictEqual(buf.readUIntBE(12, 6), 77);
      assert.strictEqual(buf[18], 3);
      assert.strictEqual(buf[19], 0);
      assert.strictEqual(buf.readUInt32BE(8), crc32Table(Buffer.concat([buf.subarray(4, 8), buf.subarray(12)])));
      assert.deepStrictEqual(buf.subarray(20), json);
      assert.throws(() => encodeRecord(0, {}), RangeError);
      assert.throws(() => encodeRecord(1, undefined), TypeError);
    });

    it('the sync marker never occurs in a JSON body, whatever the text', function () {
      const marker = Buffer.from([0xd5, 0x3a, 0x7e, 0xb1]);
      for (let i = 0; i < 2000; i++) {
        const text =
          Array.from({ length: 20 }, () => String.fromCodePoint(Math.floor(Math.random() * 0x2ffff) % 0xd800)).join(
            '',
          ) + 'Õ:~±';
        assert.strictEqual(Buffer.from(JSON.stringify({ text }), 'utf8').indexOf(marker), -1);
      }
    });

    it('reads a journal written in the old format (9-byte header) and writes new records to a new segment', async function () {
      const d = dir();
      const recs = [encodeLegacy(1, '{"i":0}'), encodeLegacy(2, '{"i":1}'), encodeLegacy(1, '{"i":2}')];
      fs.writeFileSync(path.join(d, 'seg-000001.log'), Buffer.concat(recs));
      const { j, records, warnings } = await open(d);
      assert.deepStrictEqual(warnings, []);
      assert.deepStrictEqual(
        records.map((r) => [r.type, r.body.i]),
        [
          [1, 0],
          [2, 1],
          [1, 2],
        ],
      );
      assert.deepStrictEqual(await j.read(records[1]), { type: 2, body: { i: 1 } });
      const p = await j.append(1, { i: 3 });
      assert.strictEqual(p.seg, 2, 'new records go to a new segment in the new format');
      await j.close();
      const again = await open(d);
      assert.deepStrictEqual(
        again.records.map((r) => r.body.i),
        [0, 1, 2, 3],
      );
      assert.deepStrictEqual(again.warnings, []);
    });

    it('writes records into seg-000001.log and reads them back in order after reopening', async function () {
      const d = dir();
      const { j } = await open(d);
      const positions = await Promise.all([j.append(1, { a: 1 }), j.append(2, { b: 'two' }), j.append(3, [1, 2, 3])]);
      assert.deepStrictEqual(segFiles(d), ['seg-000001.log']);
      assert.strictEqual(positions[0].offset, 0);
      assert.strictEqual(positions[1].offset, positions[0].length);
      assert.deepStrictEqual(await j.read(positions[1]), { type: 2, body: { b: 'two' } });
      await j.close();
      const again = await open(d);
      assert.deepStrictEqual(
        again.records.map((r) => [r.type, r.body, r.seg, r.offset, r.length]),
        positions.map((p, i) => [i + 1, [{ a: 1 }, { b: 'two' }, [1, 2, 3]][i], 1, p.offset, p.length]),
      );
      assert.deepStrictEqual(again.warnings, []);
    });

    it('creates the directory 0700 and segment files 0600', async function () {
      if (process.platform === 'win32') this.skip();
      const d = path.join(dir(), 'nested', 'outbox');
      const { j } = await open(d);
      await j.append(1, {});
      assert.strictEqual(fs.statSync(d).mode & 0o777, 0o700);
      assert.strictEqual(fs.statSync(path.join(d, 'seg-000001.log')).mode & 0o777, 0o600);
    });

    it('refuses a second open of the same directory in this process', async function () {
      const d = dir();
      await open(d);
      await assert.rejects(
        Journal.open(d, {}, () => undefined),
        { code: 'EJOURNALBUSY' },
      );
    });
  });

  describe('group commit', function () {
    it('writes a burst of appends with few write+fdatasync pairs, and resolves each only after a sync covering it', async function () {
      const d = dir();
      const { j } = await open(d);
      const spy = await spyOnSyncs(d);
      try {
        const checks = [];
        const all = [];
        for (let i = 0; i < 2000; i++) {
          const p = j.append(1, { i, pad: 'x'.repeat(100) });
          all.push(
            p.then((pos) => {
              // at resolution, the bytes of this record must be durable
              let ok = false;
              for (const v of spy.durable.values()) if (v >= pos.offset + pos.length) ok = true;
              checks.push(ok);
              return pos;
            }),
          );
        }
        await Promise.all(all);
        assert.strictEqual(checks.length, 2000);
        assert.ok(checks.every(Boolean), 'a record resolved before the fdatasync that covers it');
        assert.ok(spy.syncs >= 1 && spy.syncs <= 5, `expected a handful of syncs for one burst, got ${spy.syncs}`);
        assert.strictEqual(spy.writes, spy.syncs, 'one write per sync');
        if (process.platform === 'linux') {
          // segment files are opened with O_DSYNC there: one system call per batch, no separate fdatasync
          assert.strictEqual(spy.dsyncWrites, spy.writes, 'every segment write is an O_DSYNC write');
        }
      } finally {
        spy.restore();
      }
    });

    it('records that arrive while a sync runs go out together in the next batch', async function () {
      const d = dir();
      const { j } = await open(d);
      const spy = await spyOnSyncs(d);
      try {
        let n = 0;
        async function worker() {
          while (n < 3000) {
            n++;
            await j.append(1, { n });
          }
        }
        await Promise.all(Array.from({ length: 64 }, worker));
        // 3000 records from 64 concurrent writers: far fewer syncs than records
        assert.ok(spy.syncs < 3000 / 8, `got ${spy.syncs} syncs for 3000 records`);
      } finally {
        spy.restore();
      }
    });

    it('caps a batch at maxBatchRecords and maxBatchBytes', async function () {
      const d = dir();
      const { j } = await open(d, { maxBatchRecords: 10 });
      const spy = await spyOnSyncs(d);
      try {
        await Promise.all(Array.from({ length: 100 }, (_, i) => j.append(1, { i })));
        assert.ok(spy.syncs >= 10, `${spy.syncs} syncs`);
      } finally {
        spy.restore();
      }
      const d2 = dir();
      const { j: j2 } = await open(d2, { maxBatchBytes: 1000 });
      const spy2 = await spyOnSyncs(d2);
      try {
        await Promise.all(Array.from({ length: 100 }, (_, i) => j2.append(1, { i, pad: 'y'.repeat(90) })));
        assert.ok(spy2.maxWriteBytes <= 1000, `a write of ${spy2.maxWriteBytes} bytes`);
        assert.ok(spy2.syncs >= 10);
      } finally {
        spy2.restore();
      }
    });

    it('rejects the records of a batch whose write fails, and carries on in a new segment', async function () {
      const d = dir();
      const { j } = await open(d);
      await j.append(1, { ok: 1 });
      const probe = await fsp.open(path.join(d, 'seg-000001.log'), 'r');
      const proto = Object.getPrototypeOf(probe);
      await probe.close();
      // the sync fails (where segments are opened with O_DSYNC, the write is the sync)
      const orig = { datasync: proto.datasync, write: proto.write };
      proto.datasync = async function () {
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      };
      proto.write = async function () {
        throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
      };
      let failed;
      try {
        failed = await j.append(1, { lost: 1 }).then(
          () => 'resolved',
          (e) => e.code,
        );
      } finally {
        Object.assign(proto, orig);
      }
      assert.strictEqual(failed, 'EIO');
      const pos = await j.append(1, { ok: 2 });
      assert.strictEqual(pos.seg, 2);
      await j.close();
      const again = await open(d);
      assert.deepStrictEqual(
        again.records.map((r) => r.body),
        [{ ok: 1 }, { ok: 2 }],
      );
    });
  });

  describe('segments', function () {
    it('rotates to seg-000002.log, … at the configured size', async function () {
      const d = dir();
      const { j } = await open(d, { segmentSize: 1024 });
      for (let i = 0; i < 40; i++) await j.append(1, { i, pad: 'z'.repeat(80) });
      const files = segFiles(d);
      assert.ok(files.length >= 4, files.join());
      assert.strictEqual(files[0], segmentFileName(1));
      assert.strictEqual(files[1], 'seg-000002.log');
      for (const f of files) assert.ok(fs.statSync(path.join(d, f)).size <= 1024, f);
      // a record larger than a segment gets a segment of its own
      const big = await j.append(1, { big: 'b'.repeat(5000) });
      assert.strictEqual(big.offset, 0);
      await j.close();
      const again = await open(d, { segmentSize: 1024 });
      assert.strictEqual(again.records.length, 41);
      assert.deepStrictEqual(
        again.records.slice(0, 40).map((r) => r.body.i),
        Array.from({ length: 40 }, (_, i) => i),
      );
    });

    it('deletes a segment other than the active one (and never the active one)', async function () {
      const d = dir();
      const { j } = await open(d, { segmentSize: 200 });
      for (let i = 0; i < 10; i++) await j.append(1, { i, pad: 'p'.repeat(60) });
      const before = j.segmentNumbers();
      await j.deleteSegment(before[0]);
      assert.ok(!fs.existsSync(path.join(d, segmentFileName(before[0]))));
      await assert.rejects(j.deleteSegment(j.activeSegment));
      assert.ok(j.hasSegment(j.activeSegment));
    });
  });

  describe('bad data on open', function () {
    async function writeSome(d, n, options) {
      const { j } = await openJ(d, options);
      const pos = [];
      for (let i = 0; i < n; i++) pos.push(await j.append(1, { i, pad: 'q'.repeat(30) }));
      await j.close();
      return pos;
    }

    it('a last record cut at any byte is dropped, reported once with file and offset, and truncated away', async function () {
      const d = dir();
      const pos = await writeSome(d, 5);
      const file = path.join(d, 'seg-000001.log');
      const whole = fs.readFileSync(file);
      const last = pos[4];
      for (let cut = last.offset + 1; cut < last.offset + last.length; cut++) {
        fs.writeFileSync(file, whole.subarray(0, cut));
        const { j, records, warnings } = await openJ(d);
        try {
          assert.deepStrictEqual(
            records.map((r) => r.body.i),
            [0, 1, 2, 3],
            `cut at ${cut}`,
          );
          assert.strictEqual(warnings.length, 1);
          assert.strictEqual(warnings[0].info.file, file);
          assert.strictEqual(warnings[0].info.offset, last.offset);
          assert.strictEqual(warnings[0].info.action, 'truncated');
          assert.match(warnings[0].msg, /truncat/);
          assert.strictEqual(fs.statSync(file).size, last.offset);
          const p = await j.append(1, { i: 'new' });
          assert.strictEqual(p.offset, last.offset, 'new appends follow the last good record');
        } finally {
          await j.close();
        }
        const again = await openJ(d);
        await again.j.close();
        assert.deepStrictEqual(again.warnings, []);
        assert.deepStrictEqual(
          again.records.map((r) => r.body.i),
          [0, 1, 2, 3, 'new'],
        );
      }
    });

    it('detects a checksum mismatch, a zero-filled tail, and a body that is not JSON', async function () {
      const d = dir();
      const pos = await writeSome(d, 3);
      const file = path.join(d, 'seg-000001.log');
      const good = fs.readFileSync(file);

      // one flipped bit in the body of the last record
      const flipped = Buffer.from(good);
      flipped[pos[2].offset + 12] ^= 0x01;
      fs.writeFileSync(file, flipped);
      let o = await openJ(d);
      await o.j.close();
      assert.deepStrictEqual(
        o.records.map((r) => r.body.i),
        [0, 1],
      );
      assert.strictEqual(o.warnings[0].info.reason, 'checksum mismatch');

      // what a power cut can leave: the file grew but the data never arrived
      fs.writeFileSync(file, Buffer.concat([good.subarray(0, pos[1].offset), Buffer.alloc(4096)]));
      o = await openJ(d);
      await o.j.close();
      assert.deepStrictEqual(
        o.records.map((r) => r.body.i),
        [0],
      );
      assert.strictEqual(o.warnings.length, 1);
      assert.strictEqual(o.warnings[0].info.offset, pos[1].offset);

      // a record with a valid checksum whose body is not JSON
      fs.writeFileSync(file, Buffer.concat([good, encodeJson(1, '{"i": 3,')]));
      o = await openJ(d);
      await o.j.close();
      assert.deepStrictEqual(
        o.records.map((r) => r.body.i),
        [0, 1, 2],
      );
      assert.strictEqual(o.warnings[0].info.reason, 'body is not JSON');
      assert.strictEqual(fs.statSync(file).size, good.length);
    });

    it('a corrupt record in the middle of an older segment costs only that record, counted exactly; reading goes on at the next good record', async function () {
      const d = dir();
      const pos = await writeSome(d, 30, { segmentSize: 400 });
      const bySeg = new Map();
      for (const p of pos) bySeg.set(p.seg, (bySeg.get(p.seg) || []).concat(p));
      const first = bySeg.get(1);
      assert.ok(first.length >= 3 && bySeg.size >= 3);
      const file = path.join(d, 'seg-000001.log');
      const buf = fs.readFileSync(file);
      buf[first[1].offset + 23] ^= 0xff; // second record of the first segment
      fs.writeFileSync(file, buf);
      const { j, records, warnings } = await openJ(d, { segmentSize: 400 });
      await j.close();
      assert.strictEqual(warnings.length, 2);
      assert.strictEqual(warnings[0].info.file, file);
      assert.strictEqual(warnings[0].info.offset, first[1].offset);
      assert.strictEqual(warnings[0].info.droppedBytes, first[1].length);
      assert.strictEqual(warnings[0].info.action, 'skipped');
      assert.match(warnings[0].msg, /reading goes on at the next good record/);
      assert.match(warnings[1].msg, /1 record\(s\) LOST/);
      assert.strictEqual(warnings[1].info.lostRecords, 1);
      assert.strictEqual(j.losses.lostRecords, 1);
      assert.deepStrictEqual(
        records.map((r) => r.body.i),
        Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 1),
      );
      assert.strictEqual(fs.statSync(file).size, buf.length, 'older segments are not truncated');
    });

    it('never throws on garbage: random bytes, an absurd length, stray files', async function () {
      const d = dir();
      fs.writeFileSync(path.join(d, 'seg-000001.log'), crypto.randomBytes(5000));
      const huge = Buffer.alloc(9);
      huge.writeUInt32BE(0xfffffff0, 0);
      fs.writeFileSync(path.join(d, 'seg-000002.log'), huge);
      fs.writeFileSync(path.join(d, 'notes.txt'), 'not a segment');
      fs.writeFileSync(path.join(d, 'seg-1.log'), 'not a segment name either');
      const { j, records, warnings } = await openJ(d);
      assert.strictEqual(records.length, 0);
      assert.strictEqual(warnings.length, 3);
      assert.strictEqual(warnings[1].info.reason, 'length too large');
      assert.match(warnings[2].msg, /record\(s\) LOST/, 'the unreadable older segment is counted as a loss');
      const p = await j.append(1, { fine: true });
      assert.deepStrictEqual(p, { seg: 2, offset: 0, length: p.length });
      await j.close();
      const again = await openJ(d);
      await again.j.close();
      assert.deepStrictEqual(
        again.records.map((r) => r.body),
        [{ fine: true }],
      );
    });

    it('a record the reader refuses is reported and skipped; the next ones are still read', async function () {
      const d = dir();
      await writeSome(d, 3);
      const warnings = [];
      const seen = [];
      const j = await Journal.open(d, { warn: (m, info) => warnings.push(info) }, (r) => {
        if (r.body.i === 1) throw new Error('not for me');
        seen.push(r.body.i);
      });
      await j.close();
      assert.deepStrictEqual(seen, [0, 2]);
      assert.strictEqual(warnings.length, 1);
      assert.strictEqual(warnings[0].action, 'ignored');
    });
  });
});
