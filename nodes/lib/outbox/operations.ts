/**
 * The operations in progress on an outbox: each runs unless the outbox is
 * closed (else it rejects with OUTBOX_CLOSED), and closing waits until the
 * ones already started have ended. No I/O.
 */
import { closedError } from './outbox-input';

export class Operations {
  private closedFlag = false;
  private running = 0;
  private waiters: Array<() => void> = [];

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Throws OUTBOX_CLOSED once closed. */
  assertOpen(): void {
    if (this.closedFlag) throw closedError();
  }

  /** Runs `fn` unless closed; `close()` waits for it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closedFlag) return Promise.reject(closedError());
    return this.track(fn);
  }

  /** Marks closed; resolves once every operation started has ended. False when it was closed already. */
  async close(): Promise<boolean> {
    if (this.closedFlag) return false;
    this.closedFlag = true;
    if (this.running > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }

  /** Marks closed without waiting (a simulated crash). */
  abandon(): void {
    this.closedFlag = true;
  }

  private async track<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      if (this.running === 0) {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    }
  }
}
