/**
 * The HTTP POST node's durable queue from opening to closing, as one slot:
 * messages that arrive while the queue opens wait for it (`ready`); an
 * opening that failed leaves the error those messages are refused with; a
 * close that comes while the queue still opens closes it as soon as it
 * arrives, and waits for that. No Node-RED here.
 */
import type { IntegrationError } from '../errors';

/** what the slot needs of a queue (lib/outbox/durable.ts, lib/shared-queue) */
export interface SlotQueue {
  stats(): { depth: number };
  close(): Promise<void>;
}

export class QueueSlot<Q extends SlotQueue> {
  /** the open queue; undefined while it opens, after a failed opening, once closed, or when there is none */
  queue: Q | undefined;
  /** why the queue could not be opened */
  error: IntegrationError | undefined;
  private opening: Promise<void> = Promise.resolve();
  private closing = false;

  /**
   * Opens the queue with `open`. `opened` runs once it is open (not when the
   * slot was closed meanwhile); `failed` turns the reason into the error kept.
   */
  open(open: () => Promise<Q>, opened: (q: Q) => void, failed: (err: unknown) => IntegrationError): void {
    this.opening = open().then(
      async (q) => {
        if (this.closing) return void (await q.close());
        this.queue = q;
        opened(q);
      },
      (err: unknown) => {
        this.error = failed(err);
      },
    );
  }

  /** the queue once any opening is over: undefined when there is none (see `error`) */
  async ready(): Promise<Q | undefined> {
    await this.opening;
    return this.queue;
  }

  /** Closes the queue (after an opening in progress); resolves with the number of messages left in it. */
  async close(): Promise<number> {
    this.closing = true;
    await this.opening;
    const q = this.queue;
    this.queue = undefined;
    const depth = q ? q.stats().depth : 0;
    await q?.close();
    return depth;
  }
}
