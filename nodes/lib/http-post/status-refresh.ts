/**
 * Keeps a node's status current without repeating it: `show()` sets the
 * status only when it differs from the one on show, and while the status
 * holds something that changes by itself (the age of the oldest queued
 * message: "3m", then "4m") it is shown again when that changes. After
 * `stop()` (the node closing) nothing more is shown. No Node-RED here.
 */

export interface StatusSource<S> {
  /** the status now */
  compute(): S;
  /** puts it on show (node.status) */
  set(status: S): void;
  /** ms until the status changes by itself; undefined: it does not */
  changesIn(): number | undefined;
}

export class StatusRefresher<S> {
  private shown = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly source: StatusSource<S>) {}

  /** shows the status now (bound: usable as a callback) */
  readonly show = (): void => {
    if (this.stopped) return;
    const status = this.source.compute();
    const text = JSON.stringify(status);
    if (text !== this.shown) this.source.set(status);
    this.shown = text;
    clearTimeout(this.timer);
    const ms = this.source.changesIn();
    this.timer = ms !== undefined ? setTimeout(this.show, ms) : undefined;
    this.timer?.unref?.();
  };

  /** nothing is shown any more */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
