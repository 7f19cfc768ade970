/**
 * The signals a delivery is stopped with, and the waits they cut short.
 *
 * A delivery's own signals are `Stop`s, not AbortControllers: on Node.js 20
 * every AbortSignal survives the young generation's collections, however
 * short its life, and lands in the old generation (about 480 bytes each,
 * `bench/peers` measures what that does to peak memory). A delivery made
 * two of them per message (its own and one per attempt); a Stop is a plain
 * object that dies young. undici takes it as it takes an AbortSignal (it
 * needs `aborted`, `reason` and the two listener methods), and so does
 * every wait of the package (`StopSignal`, which an AbortSignal satisfies).
 *
 * `linkSignal` gives a delivery a child that follows a shared parent signal
 * (e.g. the node's "closing" signal) while putting at most ONE listener on
 * the parent, however many deliveries are in flight or waiting: each child
 * adds and removes its own listeners on its own signal only. Without this,
 * every waiting delivery's listener sat on the shared signal and Node.js
 * warned "MaxListenersExceededWarning: 11 abort listeners added to [AbortSignal]".
 */

import { ShortList } from '../short-lived';

/** What the package needs of a signal: an AbortSignal has it, and so has a Stop. */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

type Listener = () => void;

/** A signal and its trigger in one small object; aborts once, then forgets its listeners. */
export class Stop implements StopSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Listener[] | null = null;

  /** `abort` listeners only (the only event a signal has); adding one twice adds it once */
  addEventListener(type: string, listener: Listener): void {
    if (type !== 'abort' || this.aborted || typeof listener !== 'function') return;
    const list = (this.listeners ??= []);
    if (!list.includes(listener)) list.push(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    const list = this.listeners;
    if (type !== 'abort' || !list) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** As AbortController.abort: the reason defaults to an AbortError; a second call does nothing. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason !== undefined ? reason : new DOMException('This operation was aborted', 'AbortError');
    const list = this.listeners;
    this.listeners = null;
    if (!list) return;
    for (const listener of list) {
      try {
        listener.call(this);
      } catch (err) {
        // as an EventTarget does, one listener's failure stops neither the others nor the caller
        process.emitWarning(`an abort listener failed: ${String((err as Error)?.message ?? err)}`);
      }
    }
  }
}

interface Fanout {
  // not a Set: see ../short-lived.ts
  children: ShortList<Stop>;
  onAbort: () => void;
}

const fanouts = new WeakMap<StopSignal, Fanout>();

export interface LinkedSignal {
  signal: StopSignal;
  /** stops following the parent (call once the delivery is over) */
  dispose(): void;
  /** aborts this signal alone (a deadline of its own), not the parent */
  abort(reason?: unknown): void;
}

/** A signal that aborts when `parent` does (or never, without a parent). */
export function linkSignal(parent?: StopSignal): LinkedSignal {
  const child = new Stop();
  const abort = (reason?: unknown) => child.abort(reason);
  if (!parent) return { signal: child, dispose: () => undefined, abort };
  if (parent.aborted) {
    child.abort(parent.reason);
    return { signal: child, dispose: () => undefined, abort };
  }
  let fan = fanouts.get(parent);
  if (!fan) {
    const created: Fanout = {
      children: new ShortList(),
      onAbort: () => {
        fanouts.delete(parent);
        for (const c of created.children.values()) c.abort(parent.reason);
      },
    };
    fan = created;
    fanouts.set(parent, fan);
    parent.addEventListener('abort', fan.onAbort, { once: true });
  }
  const slot = fan.children.add(child);
  const f = fan;
  let disposed = false;
  return {
    signal: child,
    abort,
    dispose() {
      if (disposed) return;
      disposed = true;
      f.children.delete(slot);
      if (f.children.size === 0 && fanouts.get(parent) === f) {
        parent.removeEventListener('abort', f.onAbort);
        fanouts.delete(parent);
      }
    },
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function cancellableWait(ms: number, signal?: StopSignal): Promise<boolean> {
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
