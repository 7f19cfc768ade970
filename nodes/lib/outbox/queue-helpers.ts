/**
 * Small parts of the durable queue (durable.ts): how many items it works on
 * at once, the wait after a journal write failed, the error of a full queue.
 */
import { IntegrationError } from '../errors';
import { DEFAULT_MAX_IN_FLIGHT } from './scheduler';
import type { EnqueueResult } from './outbox';
import type { EndpointHandle } from '../http/types';
import type { StopSignal } from '../http/abort';

/** a journal write that failed: the item's slot is held this long before it is tried again */
export const JOURNAL_FAILURE_BACKOFF_MS = 5000;

export function wait(ms: number, signal: StopSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** the error of a message the queue has no room for */
export function fullError(r: Extract<EnqueueResult, { status: 'full' }>): IntegrationError {
  return new IntegrationError('OUTBOX_FULL', 'The delivery queue is full; the message was not queued', [
    { field: r.reason === 'maxBytes' || r.reason === 'itemTooLarge' ? 'maxQueuedMB' : 'maxQueued', reason: r.message },
  ]);
}

/**
 * How many items the queue works on at once when not told: as many as the
 * endpoint lets requests out at once (its `maxConcurrent`), so that a durable
 * node uses the connections a node without the queue uses;
 * DEFAULT_MAX_IN_FLIGHT when the endpoint sets no limit (or has no pacer).
 */
export function stepsInFlight(endpoint: EndpointHandle): number {
  let n: unknown;
  try {
    n = endpoint.pacer?.settings?.maxConcurrent;
  } catch {
    n = undefined;
  }
  return typeof n === 'number' && Number.isFinite(n) && n >= 1 ? Math.floor(n) : DEFAULT_MAX_IN_FLIGHT;
}
