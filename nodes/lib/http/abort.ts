/**
 * A child AbortSignal per delivery that follows a shared parent signal
 * (e.g. the node's "closing" signal) while putting at most ONE listener on
 * the parent, however many deliveries are in flight or waiting: each child
 * adds and removes its own listeners on its own signal only. Without this,
 * every waiting delivery's listener sat on the shared signal and Node.js
 * warned "MaxListenersExceededWarning: 11 abort listeners added to [AbortSignal]".
 */

interface Fanout {
  children: Set<AbortController>;
  onAbort: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

export interface LinkedSignal {
  signal: AbortSignal;
  /** stops following the parent (call once the delivery is over) */
  dispose(): void;
  /** aborts this signal alone (a deadline of its own), not the parent */
  abort(reason?: unknown): void;
}

/** A signal that aborts when `parent` does (or never, without a parent). */
export function linkSignal(parent?: AbortSignal): LinkedSignal {
  const child = new AbortController();
  const abort = (reason?: unknown) => child.abort(reason);
  if (!parent) return { signal: child.signal, dispose: () => undefined, abort };
  if (parent.aborted) {
    child.abort(parent.reason);
    return { signal: child.signal, dispose: () => undefined, abort };
  }
  let fan = fanouts.get(parent);
  if (!fan) {
    const created: Fanout = {
      children: new Set(),
      onAbort: () => {
        fanouts.delete(parent);
        for (const c of created.children) c.abort(parent.reason);
        created.children.clear();
      },
    };
    fan = created;
    fanouts.set(parent, fan);
    parent.addEventListener('abort', fan.onAbort, { once: true });
  }
  fan.children.add(child);
  const f = fan;
  let disposed = false;
  return {
    signal: child.signal,
    abort,
    dispose() {
      if (disposed) return;
      disposed = true;
      f.children.delete(child);
      if (f.children.size === 0 && fanouts.get(parent) === f) {
        parent.removeEventListener('abort', f.onAbort);
        fanouts.delete(parent);
      }
    },
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function cancellableWait(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
