/**
 * How the event trigger learns what became of an event it emitted, so that its
 * HTTP reply can wait until the event is safe (durably queued by an HTTP POST
 * node) or has definitely failed (an error output of one of this package's
 * nodes), instead of answering 202 for something that a crash could lose.
 *
 * The trigger puts a token on the message (msg._sayproAck) and waits; the
 * first node that settles the token decides the reply. Tokens are strings, so
 * they survive Node-RED cloning the message. The registry lives on globalThis
 * so that every node of this package in the process shares it.
 */
import type { IntegrationErrorInfo } from './errors';

export const ACK_PROPERTY = '_sayproAck';

export interface Settlement {
  /** true: durably accepted; false: it failed, see status/error */
  ok: boolean;
  /** the HTTP status the trigger should answer with when not ok (422 invalid, 503 full …) */
  status?: number;
  error?: IntegrationErrorInfo;
  /** for a 503: when the caller may try again */
  retryAfterSeconds?: number;
  /** which node settled it (for logs) */
  by?: string;
}

type Waiter = (s: Settlement) => void;
const KEY = Symbol.for('saypro.integration-kit.acks');
const registry: Map<string, Waiter> =
  ((globalThis as Record<symbol, unknown>)[KEY] as Map<string, Waiter> | undefined) ??
  (((globalThis as Record<symbol, unknown>)[KEY] = new Map<string, Waiter>()) as Map<string, Waiter>);

/**
 * Registers `token` and resolves with the first settlement, or with undefined
 * after `timeoutMs` (nothing settled it: the flow has no node that settles).
 */
export function expectSettlement(
  token: string,
  timeoutMs: number,
): { promise: Promise<Settlement | undefined>; cancel(): void } {
  // assigned after `finish`, which reads it, is defined
  // eslint-disable-next-line prefer-const
  let timer: NodeJS.Timeout | undefined;
  let finish: (s: Settlement | undefined) => void = () => {};
  const promise = new Promise<Settlement | undefined>((resolve) => {
    finish = (s) => {
      if (timer) clearTimeout(timer);
      registry.delete(token);
      resolve(s);
    };
  });
  registry.set(token, (s) => finish(s));
  timer = setTimeout(() => finish(undefined), timeoutMs);
  return { promise, cancel: () => finish(undefined) };
}

/** Settles the token the message carries, if any is still waiting. Returns true when it did. */
export function settle(msg: Record<string, unknown> | undefined, settlement: Settlement): boolean {
  const token = msg?.[ACK_PROPERTY];
  if (typeof token !== 'string') return false;
  const waiter = registry.get(token);
  if (!waiter) return false;
  waiter(settlement);
  return true;
}

/** How many tokens are waiting (for tests and status). */
export function pendingSettlements(): number {
  return registry.size;
}
