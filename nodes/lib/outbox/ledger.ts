/**
 * Which segments are still needed by replay.
 *
 * - A PIN is a record that replay needs for a pending item: the item's PUT
 *   and its latest STATE. A segment with a pin is kept.
 * - A CANCEL is a record in a newer segment that makes an older record
 *   obsolete (a DONE for a PUT, a copied-forward PUT for the older PUT). It is
 *   needed for as long as the older record's segment exists, otherwise the
 *   older record would come back to life on replay. A segment holding such a
 *   cancel is kept until the older segment is gone.
 *
 * A segment with no pin and no such cancel holds nothing replay needs and
 * can be deleted (unless it is the active one).
 */
export class SegmentLedger {
  private readonly segs = new Map<
    number,
    { pins: number; bytes: number; tombs: number; dependents: Map<number, number> | undefined }
  >();
  private readonly exists: (seg: number) => boolean;

  constructor(exists: (seg: number) => boolean) {
    this.exists = exists;
  }

  private entry(seg: number) {
    let e = this.segs.get(seg);
    if (!e) {
      e = { pins: 0, bytes: 0, tombs: 0, dependents: undefined };
      this.segs.set(seg, e);
    }
    return e;
  }

  /** a record replay needs lives in `seg`; `bytes` counts toward the segment's live bytes */
  pin(seg: number, bytes = 0): void {
    const e = this.entry(seg);
    e.pins++;
    e.bytes += bytes;
  }

  unpin(seg: number, bytes = 0): void {
    const e = this.segs.get(seg);
    if (!e) return;
    e.pins--;
    e.bytes -= bytes;
  }

  /** a record in `newSeg` makes a record in `oldSeg` obsolete */
  cancel(oldSeg: number, newSeg: number): void {
    if (oldSeg === newSeg || !this.exists(oldSeg)) return;
    const o = this.entry(oldSeg);
    if (!o.dependents) o.dependents = new Map();
    o.dependents.set(newSeg, (o.dependents.get(newSeg) ?? 0) + 1);
    this.entry(newSeg).tombs++;
  }

  /** `seg` was deleted: the cancels that were kept for it are free. */
  removed(seg: number): void {
    const e = this.segs.get(seg);
    this.segs.delete(seg);
    if (!e?.dependents) return;
    for (const [t, n] of e.dependents) {
      const te = this.segs.get(t);
      if (te) te.tombs -= n;
    }
  }

  deletable(seg: number): boolean {
    const e = this.segs.get(seg);
    return !e || (e.pins <= 0 && e.tombs <= 0);
  }

  pins(seg: number): number {
    return this.segs.get(seg)?.pins ?? 0;
  }

  /** bytes of the pinned records in `seg` that count toward live bytes */
  liveBytes(seg: number): number {
    return this.segs.get(seg)?.bytes ?? 0;
  }
}
