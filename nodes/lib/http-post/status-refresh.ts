/**
 * Keeps a node's status current without repeating it: `show()` sets the
 * status only when it differs from the one on show, and while the status
 * holds something that changes by itself (the age of the oldest queued
 * message: "3m", then "4m") it is shown again when that changes. Changes
 * heard in one turn of the event loop are shown at most twice (the first at
 * once, the rest together at the end of the turn). After `stop()` (the node
 * closing) nothing more is shown. No Node-RED here.
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
  /** set while the status shown in this turn of the event loop holds further changes back */
  private held: ReturnType<typeof setImmediate> | undefined;
  private dirty = false;

  constructor(private readonly source: StatusSource<S>) {}

  /**
   * Shows the status now (bound: usable as a callback). Under load a node
   * hears of many changes in one turn of the event loop (a message queued,
   * sent, answered …): the first is shown at once, the ones after it in the
   * same turn are shown together, once, when the turn is over.
   */
  readonly show = (): void => {
    if (this.stopped) return;
    if (this.held) {
      this.dirty = true;
      return;
    }
    this.render();
    this.held = setImmediate(this.release);
  };

  private readonly release = (): void => {
    this.held = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.show();
  };

  private render(): void {
    const status = this.source.compute();
    const text = JSON.stringify(status);
    if (text !== this.shown) this.source.set(status);
    this.shown = text;
    clearTimeout(this.timer);
    const ms = this.source.changesIn();
    this.timer = ms !== undefined ? setTimeout(this.show, ms) : undefined;
    this.timer?.unref?.();
  }

  /** nothing is shown any more */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.held) clearImmediate(this.held);
    this.held = undefined;
  }
}
