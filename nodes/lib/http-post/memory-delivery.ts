/**
 * In-memory mode of the HTTP POST node (durable queue off): one message is
 * delivered with its retries while the node waits, within two bounds:
 *
 * - its deadline (msg.deadline, else the node's): when it passes, the
 *   delivery stops and fails with DEADLINE_EXCEEDED (a caller waiting on an
 *   http in … http response flow can answer in time);
 * - the vendor's idempotency key lifetime: no attempt is made after it
 *   (IDEMPOTENCY_WINDOW_PASSED), since the vendor would no longer recognise a
 *   repeat.
 *
 * A redeploy (`closed` aborting) cancels the delivery (CANCELLED). Then
 * `applyOutcome` writes what happened onto the message. No Node-RED here.
 * (`deadlineFor` reads the first bound before the delivery starts.)
 */
import { IntegrationError } from '../errors';
import { deadlineExceeded, messageDeadlineMs } from '../deadline';
import { marginFor, windowPassed } from '../idempotency-window';
import { parseResponseBody } from '../http/response';
import {
  countedAttempts,
  deliver,
  type AttemptLog,
  type DeliveryOutcome,
  type DeliveryRequest,
  type DeliverySettings,
  type DeliveryState,
} from '../http/deliver';
import type { EndpointHandle } from '../http/types';
import { linkSignal } from '../http/abort';

export interface MemoryDelivery {
  endpoint: EndpointHandle;
  request: DeliveryRequest;
  settings: DeliverySettings;
  /** updated in place while the delivery goes on (the node's status reads it) */
  state: DeliveryState;
  /** ms from now (undefined: none) */
  deadlineMs: number | undefined;
  /** 0 = none */
  keyLifetimeMs: number;
  /** aborts at a redeploy */
  closed: AbortSignal;
  onAttempt?: (log: AttemptLog) => void;
  onPhase?: (state: DeliveryState) => void;
  now?: () => number;
}

const CANCEL_MESSAGES = {
  waiting: 'the flow was redeployed while this message was waiting to be retried',
  sending: 'the flow was redeployed while this message was being sent',
};

/**
 * The message's deadline in ms from now: msg.deadline, else the node's
 * (`nodeSeconds`, 0: none). A msg.deadline that is not usable is an error:
 * the message is not sent.
 */
export function deadlineFor(
  nodeSeconds: number,
  msgDeadline: unknown,
): { ok: true; ms: number | undefined } | { ok: false; error: IntegrationError } {
  const deadline = messageDeadlineMs(nodeSeconds, msgDeadline);
  if (deadline.problem)
    return {
      ok: false,
      error: new IntegrationError('INVALID_DEADLINE', 'msg.deadline is not valid', [deadline.problem]),
    };
  return { ok: true, ms: deadline.ms };
}

/** Delivers with retries; never rejects (every ending is an outcome). */
export async function deliverInMemory(o: MemoryDelivery): Promise<DeliveryOutcome> {
  // follows `closed` through one listener however many messages are in flight (../http/abort.ts)
  const stop = linkSignal(o.closed);
  const deadline = deadlineWatch(o.deadlineMs, stop);
  const window = keyWindowWatch(o, stop);
  let stoppedIn: 'waiting' | 'sending' = 'sending';
  try {
    const outcome = await deliver(o.endpoint, o.request, o.state, o.settings, {
      signal: stop.signal,
      ownSignal: true, // `stop` is this delivery's own (it follows `closed` for it)
      onAttempt: o.onAttempt,
      onPhase: (s) => {
        window.check();
        o.onPhase?.(s);
      },
      cancelMessage: (phase) => {
        stoppedIn = phase;
        return CANCEL_MESSAGES[phase];
      },
    });
    if (outcome.ok || o.closed.aborted || outcome.error.code !== 'CANCELLED') return outcome;
    // stopped by one of our bounds, not by a redeploy: say which
    if (window.error) return { ...outcome, error: window.error };
    if (deadline.expired && o.deadlineMs !== undefined) {
      const { state } = o;
      const error = deadlineExceeded(o.deadlineMs, stoppedIn, countedAttempts(state), state.lastErrorCode ?? undefined);
      return { ...outcome, error };
    }
    return outcome;
  } finally {
    deadline.clear();
    window.clear();
    stop.dispose();
  }
}

/** stops the delivery when the deadline passes */
function deadlineWatch(ms: number | undefined, stop: { abort(): void }) {
  const watch = { expired: false, clear: () => clearTimeout(timer) };
  const timer =
    ms !== undefined
      ? setTimeout(() => {
          watch.expired = true;
          stop.abort();
        }, ms)
      : undefined;
  return watch;
}

/**
 * The key's lifetime. At each wait the retry's own start is judged: one that
 * would begin after the window closes is not waited for. A timer covers the
 * waits whose end is unknown (a paused endpoint); it is set again when it
 * fires before the window closed by the clock (libuv times timers from the
 * loop's cached time, which a busy loop leaves behind Date.now()).
 */
function keyWindowWatch(o: MemoryDelivery, stop: { abort(): void }) {
  const now = o.now ?? Date.now;
  const lifetimeMs = o.keyLifetimeMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (delay: number) => {
    // beyond setTimeout's range (24.8 days) the check at each wait is enough
    if (delay >= 2 ** 31 - 1) return;
    timer = setTimeout(onTimer, Math.max(0, delay));
    timer.unref?.();
  };
  const closesAt = () => o.state.createdAt + lifetimeMs - marginFor(lifetimeMs);
  const watch = {
    error: null as IntegrationError | null,
    check() {
      const { state } = o;
      if (watch.error || lifetimeMs <= 0 || (state.phase !== 'waiting' && state.phase !== 'paced')) return;
      const t = now();
      // a retry's start is known while waiting for it: the later of now and that start is judged
      const at = state.phase === 'waiting' && state.nextAttemptAt !== null ? Math.max(t, state.nextAttemptAt) : t;
      watch.error = windowPassed({
        firstUseAt: countedAttempts(state) > 0 ? state.createdAt : null,
        now: at,
        lifetimeMs,
        header: o.settings.idempotencyHeader,
      });
      if (watch.error) stop.abort();
    },
    clear: () => clearTimeout(timer),
  };
  function onTimer() {
    watch.check();
    const left = closesAt() - now();
    if (!watch.error && left > 0) arm(left + 1);
  }
  if (lifetimeMs > 0) arm(closesAt() - now());
  return watch;
}

/**
 * Writes the outcome onto the message: msg.delivery always; on success the
 * answer (msg.statusCode, msg.responseHeaders, msg.payload parsed); on a
 * failure with an answer the status, headers and parsed body in
 * msg.responseBody (msg.payload stays the body that was sent, so the message
 * can be replayed).
 */
export async function applyOutcome(
  msg: Record<string, unknown>,
  outcome: DeliveryOutcome,
  key: string,
  endpointLabel: string,
): Promise<void> {
  msg.delivery = {
    attempts: outcome.state.attempts,
    idempotencyKey: key,
    statusCode: outcome.statusCode ?? null,
    durationMs: outcome.durationMs,
    endpoint: endpointLabel,
  };
  if (outcome.ok) {
    msg.statusCode = outcome.statusCode;
    msg.responseHeaders = outcome.headers;
    msg.payload = outcome.body.value;
    return;
  }
  if (outcome.statusCode !== undefined) {
    msg.statusCode = outcome.statusCode;
    msg.responseHeaders = outcome.headers;
    // the third party's answer, parsed, so that a flow can show its reason (e.g. Stripe's decline message)
    msg.responseBody = (
      await parseResponseBody(outcome.raw ?? Buffer.alloc(0), outcome.headers?.['content-type'])
    ).value;
  }
}

/** msg.delivery of a message that was not sent at all */
export function notSent(key: string, endpointLabel: string) {
  return { attempts: 0, idempotencyKey: key, statusCode: null, durationMs: 0, endpoint: endpointLabel };
}
