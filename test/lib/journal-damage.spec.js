'use strict';
/**
 * Damage to a journal on disk (lib/outbox/journal.ts, framing.ts, losses.ts):
 * deleted segments, flipped bytes, truncated files. Every undamaged record
 * comes back; every loss is counted exactly and reported.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const fc = require('fast-check');

const { Journal } = require('../../dist/nodes/lib/outbox/journal');
const { scan, encodeRecord, frame, seal } = require('../../dist/nodes/lib/outbox/framing');

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-damage-'));
}

async function openJ(dir, options = {}) {
  const records = [];
  const warnings = [];
  const j = await Journal.open(dir, { ...options, warn: (msg, info) => warnings.push({ msg, info }) }, (r) =>
    records.push(r),
  );
  return { j, records, warnings };
}

/** Writes `n` records ({i}) with a small segment size, closes; returns their positions. */
async function writeRecords(dir, n, segmentSize = 700) {
  const { j } = await openJ(dir, { segmentSize });
  const pos = [];
  for (let i = 0; i < n; i++) pos.push(await j.append(1 + (i % 3), { i, pad: 'x'.repeat(10 + (i % 17)) }));
  await j.close();
  return pos;
}

/** a small seeded generator (mulberry32) so that a failing run can be repeated */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seg = (dir, n) => path.join(dir, `seg-${String(n).padStart(6, '0')}.log`);

describe('journal damage', function () {
  this.timeout(60000);

  it('a deleted segment is found missing on open, with exactly the records it held', async function () {
    const d = tmpDir();
    const pos = await writeRecords(d, 60);
    const segs = [...new Set(pos.map((p) => p.seg))];
    assert.ok(segs.length >= 4);
    const victim = segs[1];
    fs.unlinkSync(seg(d, victim));
    const { j, records, warnings } = await openJ(d, { segmentSize: 700 });
    await j.close();
    const inVictim = pos.filter((p) => p.seg === victim).length;
    assert.deepStrictEqual(j.losses.missingSegments, [victim]);
    assert.strictEqual(j.losses.lostRecords, inVictim);
    assert.deepStrictEqual(
      records.map((r) => r.body.i),
      pos.map((p, i) => (p.seg === victim ? -1 : i)).filter((i) => i >= 0),
    );
    assert.strictEqual(warnings.length, 1);
    assert.match(warnings[0].msg, new RegExp(`${inVictim} record\\(s\\) LOST, missing segment\\(s\\) ${victim}`));
    assert.match(warnings[0].msg, new RegExp(`segment ${victim} is missing: ${inVictim} record\\(s\\) lost`));
  });

  it('the oldest and the newest segment deleted: both reported', async function () {
    const d = tmpDir();
    const pos = await writeRecords(d, 60);
    const segs = [...new Set(pos.map((p) => p.seg))];
    fs.unlinkSync(seg(d, segs[0]));
    fs.unlinkSync(seg(d, segs[segs.length - 1]));
    const { j } = await openJ(d, { segmentSize: 700 });
    assert.deepStrictEqual(j.losses.missingSegments, [segs[0], segs[segs.length - 1]]);
    // the newest one's end was never recorded: its records count as at least one
    assert.ok(j.losses.lostRecords >= pos.filter((p) => p.seg === segs[0]).length + 1);
    for (let i = 0; i < 10; i++) await j.append(1, { i: 'after' + i });
    await j.close();
    // reported once; what is written afterwards reads back without any new complaint
    const again = await openJ(d, { segmentSize: 700 });
    await again.j.close();
    assert.deepStrictEqual(again.warnings, []);
    assert.strictEqual(again.records.filter((r) => String(r.body.i).startsWith('after')).length, 10);
  });

  it('segments deleted by compaction are not reported missing', async function () {
    const d = tmpDir();
    const { j } = await openJ(d, { segmentSize: 700 });
    for (let i = 0; i < 40; i++) await j.append(1, { i, pad: 'y'.repeat(30) });
    const segs = j.segmentNumbers();
    await j.deleteSegment(segs[0]);
    await j.deleteSegment(segs[2]);
    await j.close();
    const again = await openJ(d, { segmentSize: 700 });
    await again.j.close();
    assert.deepStrictEqual(again.warnings, []);
    assert.deepStrictEqual(again.j.losses, { missingSegments: [], lostRecords: 0, lines: [], tornRecords: 0 });
  });

  it('an older segment truncated in the middle of a record: the records from the cut on are counted exactly', async function () {
    const d = tmpDir();
    const pos = await writeRecords(d, 60);
    const first = pos.filter((p) => p.seg === 1);
    const cutRecord = 2;
    const cut = first[cutRecord].offset + 7;
    fs.truncateSync(seg(d, 1), cut);
    const { j, records } = await openJ(d, { segmentSize: 700 });
    await j.close();
    assert.strictEqual(j.losses.lostRecords, first.length - cutRecord);
    assert.strictEqual(records.length, pos.length - (first.length - cutRecord));
  });

  it('random bytes flipped in random places (200 seeded runs): every intact record is back, losses counted exactly', async function () {
    const d0 = tmpDir();
    const pos = await writeRecords(d0, 80);
    const segs = [...new Set(pos.map((p) => p.seg))];
    const last = segs[segs.length - 1];
    const files = new Map(segs.map((s) => [s, fs.readFileSync(seg(d0, s))]));
    const manifest = fs.readFileSync(path.join(d0, 'MANIFEST'));
    let totalLost = 0;
    for (let run = 0; run < 200; run++) {
      const rnd = prng(1000 + run);
      const d = tmpDir();
      fs.writeFileSync(path.join(d, 'MANIFEST'), manifest);
      const damaged = new Set();
      const bufs = new Map([...files].map(([s, b]) => [s, Buffer.from(b)]));
      const flips = 1 + Math.floor(rnd() * 6);
      for (let f = 0; f < flips; f++) {
        const s = segs[Math.floor(rnd() * segs.length)];
        const b = bufs.get(s);
        const at = Math.floor(rnd() * b.length);
        b[at] ^= 1 + Math.floor(rnd() * 255);
        damaged.add(pos.findIndex((p) => p.seg === s && at >= p.offset && at < p.offset + p.length));
      }
      for (const [s, b] of bufs) fs.writeFileSync(seg(d, s), b);
      // damaged records at the very end of the last segment are a torn tail, not a counted loss
      const tail = [];
      for (let i = pos.length - 1; i >= 0 && pos[i].seg === last && damaged.has(i); i--) tail.push(i);
      const { j, records } = await openJ(d, { segmentSize: 700 });
      await j.close();
      const got = records.map((r) => r.body.i);
      const want = pos.map((_, i) => i).filter((i) => !damaged.has(i));
      assert.deepStrictEqual(got, want, `run ${run}: damaged ${[...damaged]}`);
      assert.strictEqual(
        j.losses.lostRecords,
        damaged.size - tail.length,
        `run ${run}: damaged ${[...damaged]}, tail ${tail}`,
      );
      if (tail.length > 0) assert.ok(j.losses.tornRecords >= 1 && j.losses.tornRecords <= tail.length, `run ${run}`);
      else assert.strictEqual(j.losses.tornRecords, 0);
      totalLost += damaged.size;
      fs.rmSync(d, { recursive: true, force: true });
    }
    console.log(`      200 runs, ${totalLost} damaged records, every intact record recovered, every loss counted`);
  });

  describe('the record reader under random input (fast-check)', function () {
    /** a stream of valid records, then random corruption */
    const recordsArb = fc.array(
      fc.record({ type: fc.integer({ min: 1, max: 255 }), body: fc.jsonValue({ maxDepth: 3 }) }),
      { minLength: 0, maxLength: 40 },
    );
    const damageArb = fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('flip'), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ kind: fc.constant('cut'), at: fc.nat() }),
        fc.record({ kind: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
        fc.record({ kind: fc.constant('zero'), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
      ),
      { maxLength: 6 },
    );

    function build(recs) {
      const bufs = recs.map((r, i) =>
        seal(frame(r.type, 0, JSON.stringify(r.body === undefined ? null : r.body)), i + 1),
      );
      const starts = [];
      let o = 0;
      for (const b of bufs) {
        starts.push([o, o + b.length]);
        o += b.length;
      }
      return { buf: Buffer.concat(bufs), starts };
    }

    /** applies the damage; returns the buffer and, per original byte, whether it was touched */
    function damage(buf, ops) {
      let b = Buffer.from(buf);
      // which original bytes each current byte is (-1: inserted)
      let origin = Array.from({ length: b.length }, (_, i) => i);
      const touched = new Set();
      for (const op of ops) {
        if (b.length === 0) break;
        const at = op.at % b.length;
        if (op.kind === 'flip') {
          b[at] ^= op.mask;
          if (origin[at] >= 0) touched.add(origin[at]);
        } else if (op.kind === 'zero') {
          for (let i = at; i < Math.min(b.length, at + op.len); i++) {
            if (b[i] !== 0 && origin[i] >= 0) touched.add(origin[i]);
            b[i] = 0;
          }
        } else if (op.kind === 'cut') {
          for (let i = at; i < b.length; i++) if (origin[i] >= 0) touched.add(origin[i]);
          b = b.subarray(0, at);
          origin = origin.slice(0, at);
        } else {
          const ins = Buffer.from(op.bytes);
          b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
          origin = origin.slice(0, at).concat(Array(ins.length).fill(-1), origin.slice(at));
          // an insertion inside a record damages that record
          if (at > 0 && origin[at - 1] >= 0) touched.add(origin[at - 1]);
        }
      }
      return b;
    }

    it('never throws, always ends, returns every intact record in order and nothing that was not written', function () {
      fc.assert(
        fc.property(recordsArb, damageArb, (recs, ops) => {
          const { buf, starts } = build(recs);
          const touchedBuf = damage(buf, ops);
          const seen = [];
          const t0 = Date.now();
          const bad = scan(touchedBuf, (r) => {
            seen.push(r.lsn);
            return undefined;
          });
          assert.ok(Date.now() - t0 < 2000, 'the reader ends promptly');
          // every record read is one that was written, with its own content, in order
          for (let k = 1; k < seen.length; k++) assert.ok(seen[k] > seen[k - 1]);
          for (const lsn of seen) assert.ok(lsn >= 1 && lsn <= recs.length);
          // every record whose bytes are all still there, untouched and contiguous, is found
          const text = touchedBuf;
          for (let i = 0; i < recs.length; i++) {
            const [s, e] = starts[i];
            const original = buf.subarray(s, e);
            if (text.indexOf(original) >= 0 && !seen.includes(i + 1)) {
              // found as bytes but not read: only allowed when another (earlier) valid record overlaps it
              const at = text.indexOf(original);
              const overlapped = seen.some(
                (l) =>
                  l !== i + 1 &&
                  (() => {
                    const o = text.indexOf(buf.subarray(starts[l - 1][0], starts[l - 1][1]));
                    return o >= 0 && o < at + original.length && at < o + (starts[l - 1][1] - starts[l - 1][0]);
                  })(),
              );
              assert.ok(overlapped, `intact record ${i + 1} was not recovered`);
            }
          }
          // the bad stretches and the good records cover the buffer without overlap
          assert.ok(Array.isArray(bad));
        }),
        { numRuns: 400, seed: 4242 },
      );
    });

    it('an untouched stream reads back exactly; each flipped record costs exactly itself', function () {
      fc.assert(
        fc.property(
          recordsArb,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 5 }),
          (recs, flips) => {
            const { buf, starts } = build(recs);
            const b = Buffer.from(buf);
            const damaged = new Set();
            if (b.length > 0) {
              for (const [at0, mask] of flips) {
                const at = at0 % b.length;
                b[at] ^= mask;
                damaged.add(starts.findIndex(([s, e]) => at >= s && at < e) + 1);
              }
            }
            const seen = [];
            scan(b, (r) => {
              seen.push(r.lsn);
              assert.deepStrictEqual(
                JSON.parse(r.body.toString('utf8')),
                JSON.parse(JSON.stringify(recs[r.lsn - 1].body === undefined ? null : recs[r.lsn - 1].body)),
              );
              return undefined;
            });
            assert.deepStrictEqual(
              seen,
              recs.map((_, i) => i + 1).filter((l) => !damaged.has(l)),
            );
          },
        ),
        { numRuns: 400, seed: 777 },
      );
    });

    it('garbage of any kind: never throws, never hangs, reads nothing', function () {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
          const seen = [];
          scan(Buffer.from(bytes), (r) => {
            seen.push(r);
            return undefined;
          });
          assert.strictEqual(seen.length, 0);
        }),
        { numRuns: 300, seed: 99 },
      );
      // markers everywhere, none of them starting a valid record
      const noisy = Buffer.concat(
        Array.from({ length: 5000 }, () => Buffer.from([0xd5, 0x3a, 0x7e, 0xb1, 0, 0, 0, 5])),
      );
      const t0 = Date.now();
      assert.deepStrictEqual(scan(noisy, () => undefined).length, 1);
      assert.ok(Date.now() - t0 < 5000);
      assert.ok(encodeRecord(1, {}).length > 0);
    });
  });
});
