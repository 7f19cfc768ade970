'use strict';
/** lib/outbox/journal-open.ts: what opening a journal decides from the files it finds. */
const assert = require('node:assert');
const {
  segmentFileName,
  segmentFiles,
  nextLsnAfter,
  manifestAfterScan,
  continuesLastSegment,
} = require('../../dist/nodes/lib/outbox/journal-open.js');

const scan = (seq, lsns) => ({ seq, legacy: false, lsns, bad: [], size: lsns.length * 10 });

describe('journal opening (lib/outbox/journal-open)', function () {
  it('segment files: only seg-NNNNNN.log names, oldest first, by number not by text', function () {
    assert.strictEqual(segmentFileName(7), 'seg-000007.log');
    assert.strictEqual(segmentFileName(1234567), 'seg-1234567.log');
    assert.deepStrictEqual(
      segmentFiles(['seg-1000000.log', 'manifest.json', 'seg-000002.log', 'seg-02.log', 'seg-000010.log.tmp', 'lock']),
      [
        { name: 'seg-000002.log', seq: 2 },
        { name: 'seg-1000000.log', seq: 1000000 },
      ],
    );
  });

  it('the next sequence number follows the highest seen in the files or the manifest', function () {
    assert.strictEqual(nextLsnAfter([], undefined), 1);
    assert.strictEqual(nextLsnAfter([scan(1, [1, 2, 3]), scan(2, [4])], undefined), 5);
    // the manifest remembers records whose segment was deleted since
    assert.strictEqual(nextLsnAfter([scan(3, [9])], [{ seq: 2, first: 5, last: 12 }]), 13);
    assert.strictEqual(nextLsnAfter([], [{ seq: 4, first: 20, last: null }]), 20);
  });

  it('the manifest keeps the ranges it knew and takes the others from the scan', function () {
    const prior = [{ seq: 1, first: 1, last: 3 }];
    assert.deepStrictEqual(manifestAfterScan(prior, [scan(1, [2, 3]), scan(2, [4, 5]), scan(3, [])], 6), [
      { seq: 1, first: 1, last: 3 },
      { seq: 2, first: 4, last: 5 },
      { seq: 3, first: 6, last: null },
    ]);
  });

  it('new records continue the last segment only when nothing of it was lost and it is still open', function () {
    const seg = { legacy: false, size: 20 };
    assert.strictEqual(continuesLastSegment(undefined, undefined, undefined, 1), false, 'no segment yet');
    assert.strictEqual(continuesLastSegment(seg, scan(1, [1, 2]), undefined, 3), true);
    assert.strictEqual(continuesLastSegment(seg, scan(1, [1, 2]), { seq: 1, first: 1, last: null }, 3), true);
    assert.strictEqual(
      continuesLastSegment(seg, scan(1, [1, 2]), { seq: 1, first: 1, last: 2 }, 3),
      false,
      'closed by the manifest',
    );
    assert.strictEqual(
      continuesLastSegment(seg, scan(1, [1, 2]), undefined, 5),
      false,
      'the manifest knew later records',
    );
    assert.strictEqual(
      continuesLastSegment({ legacy: true, size: 20 }, scan(1, []), undefined, 1),
      false,
      'old format',
    );
    assert.strictEqual(continuesLastSegment({ legacy: true, size: 0 }, scan(1, []), undefined, 1), true, 'empty');
    assert.strictEqual(continuesLastSegment(seg, scan(2, []), { seq: 2, first: 4, last: null }, 4), true);
    assert.strictEqual(continuesLastSegment(seg, scan(2, []), { seq: 2, first: 3, last: null }, 4), false);
  });
});
