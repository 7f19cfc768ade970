/**
 * Closing a NATS connection at a redeploy: drained first (what was
 * published is flushed, subscriptions end), closed outright when draining
 * fails or takes longer than `limitMs`. Never rejects. No Node-RED here.
 */

export const DRAIN_LIMIT_MS = 5000;

export interface Drainable {
  drain(): Promise<void>;
  close(): Promise<void>;
}

export function drainOrClose(c: Drainable, limitMs = DRAIN_LIMIT_MS): Promise<void> {
  return new Promise<void>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(
      () =>
        void c
          .close()
          .catch(() => undefined)
          .finally(finish),
      limitMs,
    );
    c.drain()
      .catch(() => c.close())
      .catch(() => undefined)
      .finally(finish);
  });
}
