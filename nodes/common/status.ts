/**
 * A node's status with a running count ("mapped 1234"), shown without costing
 * a translation and an editor update per message: a status of a new kind
 * (another fill, shape or text key) shows at once, so an error is never
 * hidden; repeats of the same kind (only the count changes) show at most once
 * per interval, the last one always (a timer shows it at the end of the
 * interval). The text is built only when it is shown.
 */
import type { Node, NodeStatus } from 'node-red';

export const STATUS_INTERVAL_MS = 500;

export interface CountStatus {
  /** shows `make()` now, or at the end of the interval when `kind` is the kind on show */
  show(kind: string, make: () => NodeStatus): void;
  /** drops a pending update (on close) */
  cancel(): void;
}

export function countStatus(
  node: Pick<Node, 'status'>,
  intervalMs = STATUS_INTERVAL_MS,
  now: () => number = Date.now,
): CountStatus {
  let kind: string | undefined;
  let shownAt = 0;
  let pending: (() => NodeStatus) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const emit = (make: () => NodeStatus): void => {
    shownAt = now();
    node.status(make());
  };
  const flush = (): void => {
    timer = undefined;
    const make = pending;
    pending = undefined;
    if (make) emit(make);
  };

  return {
    show(k, make) {
      // the common case under load: a repeat while one is pending (no clock read, nothing built)
      if (k === kind && timer) {
        pending = make;
        return;
      }
      const t = now();
      if (k !== kind || t - shownAt >= intervalMs) {
        if (timer) clearTimeout(timer);
        timer = undefined;
        pending = undefined;
        kind = k;
        emit(make);
        return;
      }
      pending = make;
      if (!timer) {
        timer = setTimeout(flush, Math.max(0, intervalMs - (t - shownAt)));
        timer.unref?.();
      }
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
      kind = undefined;
    },
  };
}

/**
 * `RED._` behind a small bounded memo: under load a node shows the same status text (the same key
 * and values) for message after message, and a translation costs far more than a lookup.
 */
export function memoTranslate(
  translate: (key: string, vars?: Record<string, unknown>) => string,
  max = 256,
): (key: string, vars?: Record<string, unknown>) => string {
  const memo = new Map<string, string>();
  return (key, vars) => {
    const k = vars === undefined ? key : key + '\u0000' + JSON.stringify(vars);
    let text = memo.get(k);
    if (text === undefined) {
      text = translate(key, vars);
      if (memo.size >= max) memo.delete(memo.keys().next().value as string);
      memo.set(k, text);
    }
    return text;
  };
}
