/**
 * The delivery engine behind deliver() (lib/http/deliver.ts), as named steps
 * a reader can follow from the top:
 *
 *   run()                       loop until an outcome:
 *     waitForNextAttempt()        a retry delay (or a resumed state's) runs out
 *     acquirePermit()             the endpoint's pacer lets a request go
 *     attempt(permit)             one request, under the permit:
 *       attemptHeaders()            idempotency key, Standard Webhooks signature
 *       prepare()                   the endpoint builds the request (URL, auth …)
 *       exchange()                  the transport sends it, under the deadline
 *       onTooLarge() / onNoAnswer() / onAnswer()
 *                                   what the attempt's result means: success,
 *                                   retry, wait for the endpoint, or give up
 *
 * Every ending goes through finish() (failed or cancelled), later() (one
 * attempt only: a retry is due) or succeed(); the attempt log through
 * report(). Each step returns an outcome to end the delivery, or AGAIN to go
 * round the loop once more.
 *
 * Not here: how an ending is built and worded (lib/http/delivery-endings.ts),
 * an attempt's own headers (lib/http/attempt-headers.ts), the state and
 * outcome shapes (lib/http/delivery-state.ts), backoff and Retry-After
 * (lib/http/retry.ts), the pacer's rules (lib/http/pacing.ts).
 */
import { cancellableWait, linkSignal, type LinkedSignal, type StopSignal } from './abort';
import { attemptHeaders } from './attempt-headers';
import {
  answeredText,
  attemptOf,
  cancelledText,
  ended,
  firstReason,
  noAnswerReason,
  noAnswerText,
  notRetriedReason,
  plural,
  prepareFailureReason,
  retryDue,
  succeeded,
  tooLargeText,
} from './delivery-endings';
import {
  attemptLogText,
  countedAttempts,
  type LastAnswer,
  type AttemptLog,
  type DeliveryFailure,
  type DeliveryOptions,
  type DeliveryOutcome,
  type DeliveryPhase,
  type DeliverySettings,
  type DeliveryState,
} from './delivery-state';
import { offlineCodeOf } from './pacer-outcomes';
import { Redactor, redactorFor, secretsKey } from './redact';
import { plainHeaders, toBuffer } from './response';
import { classifyError, isRetryableStatus, parseRetryAfter, waitBeforeRetry, type RetryTiming } from './retry';
import type { DeliveryRequest } from './sender';
import { TARGET_BLOCKED } from './target-guard';
import {
  exchange,
  isResponseTooLarge,
  undiciTransport,
  RESPONSE_TOO_LARGE,
  type ResponseTooLargeError,
  type Transport,
  type TransportResponse,
  type Exchange,
} from './transport';
import type { EndpointHandle, PacerLike, PacerOutcome, PacerPermit, PreparedRequest } from './types';

export { cancellableWait, plainHeaders, redactorFor };
export { EXCERPT_CHARS } from './delivery-state';

/** What one request under a permit is about. */
interface AttemptContext {
  /** the counted attempt number (1-based) */
  attempt: number;
  started: number;
  /** told to the pacer when the permit is released (no request made: cancelled) */
  outcome: PacerOutcome;
}

/** What every line about an attempt starts with (Delivery.logBase). */
type AttemptBase = Pick<AttemptLog, 'attempt' | 'method' | 'url' | 'durationMs'>;

/** Go round the loop once more. */
const AGAIN = Symbol('again');
type Step = DeliveryOutcome | typeof AGAIN;

export class Delivery {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly transport: Transport;
  private readonly link: LinkedSignal;
  private readonly signal: StopSignal;
  private readonly maxAttempts: number;
  private readonly timing: RetryTiming;
  private readonly pacer: PacerLike | undefined;
  private redactor: Redactor;
  private knownSecrets: string;
  private last: LastAnswer | undefined;
  private lastMethod: string | undefined;
  private lastUrl: string | undefined;

  constructor(
    private readonly endpoint: EndpointHandle,
    private readonly request: DeliveryRequest,
    private readonly state: DeliveryState,
    private readonly settings: DeliverySettings,
    private readonly options: DeliveryOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.transport = options.transport ?? undiciTransport;
    // one listener on the caller's (shared) signal per delivery at most, removed when it ends;
    // a signal of this delivery's own needs no child
    this.link =
      options.ownSignal && options.signal
        ? { signal: options.signal, dispose: () => undefined, abort: () => undefined }
        : linkSignal(options.signal);
    this.signal = this.link.signal;
    this.redactor = options.redactor ?? redactorFor(endpoint, settings.signingKey, settings.secrets, request.headers);
    this.knownSecrets = secretsKey(endpoint);
    this.maxAttempts = Math.max(1, Math.floor(settings.maxAttempts));
    state.maxAttempts = this.maxAttempts;
    this.timing = {
      initialDelay: settings.initialDelay,
      maxDelay: settings.maxDelay,
      maxRetryAfter: settings.maxRetryAfter,
    };
    this.pacer = endpoint.pacer && typeof endpoint.pacer.acquire === 'function' ? endpoint.pacer : undefined;
  }

  /** Runs the delivery to its outcome. Never rejects. */
  async run(): Promise<DeliveryOutcome> {
    try {
      for (;;) {
        const waited = await this.waitForNextAttempt();
        if (waited !== AGAIN) return waited;
        const permit = await this.acquirePermit();
        if (permit !== undefined && 'ok' in permit) return permit;
        const step = await this.attempt(permit);
        if (step !== AGAIN) return step;
      }
    } catch (err) {
      // a bug of ours or of the endpoint: report it, never reject
      return this.finish(
        'failed',
        'DELIVERY_FAILED',
        'The delivery failed unexpectedly',
        String((err as Error)?.message ?? err),
      );
    } finally {
      this.link.dispose();
    }
  }

  // ------------------------------------------------------------------ steps

  /** Waits out state.nextAttemptAt (a retry delay, also one from a resumed state). */
  private async waitForNextAttempt(): Promise<Step> {
    const { state } = this;
    if (this.signal.aborted) return this.cancelled(state.attempts > 0 ? 'waiting' : 'sending');
    if (state.nextAttemptAt !== null) {
      const delay = state.nextAttemptAt - this.now();
      if (delay > 0) {
        this.setPhase('waiting');
        const waited = await cancellableWait(delay, this.signal);
        if (!waited) return this.cancelled('waiting');
      }
      state.nextAttemptAt = null;
    }
    return AGAIN;
  }

  /** A permit from the endpoint's pacer (waiting here uses up no attempt); undefined without a pacer. */
  private async acquirePermit(): Promise<PacerPermit | DeliveryFailure | undefined> {
    const pacer = this.pacer;
    if (!pacer) return undefined;
    const now = pacer.tryAcquire();
    if (now) return now;
    this.setPhase('paced');
    try {
      return await pacer.acquire(this.signal);
    } catch (err) {
      if (this.signal.aborted)
        return this.cancelled(this.state.attempts > 0 || this.state.lastErrorCode !== null ? 'waiting' : 'sending');
      if ((err as { code?: unknown })?.code === 'ENDPOINT_CLOSED') {
        const message = 'the endpoint was stopped while this message was waiting for it';
        return this.finish('cancelled', 'CANCELLED', message, message);
      }
      throw err;
    }
  }

  /** One request under the permit; the permit is released with what happened. */
  private async attempt(permit: PacerPermit | undefined): Promise<Step> {
    const ctx: AttemptContext = { attempt: 0, started: 0, outcome: { kind: 'cancelled' } };
    try {
      this.state.attempts++;
      ctx.attempt = countedAttempts(this.state);
      this.setPhase('sending');
      const headers = attemptHeaders(this.request, this.settings, this.state.idempotencyKey, this.now);
      ctx.started = this.now();
      const prepared = await this.prepare(ctx, headers);
      if (prepared === AGAIN || 'ok' in prepared) return prepared;
      this.refreshRedactor();
      if (this.signal.aborted) return this.cancelled('sending');
      this.lastMethod = prepared.method;
      this.lastUrl = this.redactor.url(prepared.url);

      const ex = await exchange(this.transport, prepared, this.request.body, this.signal);
      if (this.signal.aborted && !ex.response) {
        this.report(this.logBase(ctx, ex.method), { errorCode: 'CANCELLED', result: 'cancelled' });
        return this.cancelled('sending');
      }
      if (!ex.response && isResponseTooLarge(ex.failure)) return this.onTooLarge(ctx, ex, ex.failure);
      if (!ex.response) return this.onNoAnswer(ctx, ex);
      return await this.onAnswer(ctx, ex, ex.response);
    } finally {
      permit?.release(ctx.outcome);
    }
  }

  /** The endpoint builds the request (URL, defaults, auth, dispatcher, timeout); a failure ends, or retries, the attempt. */
  private async prepare(ctx: AttemptContext, headers: Record<string, string>): Promise<PreparedRequest | Step> {
    const { request, endpoint, state } = this;
    try {
      return await endpoint.prepare({ method: request.method, path: request.path, headers });
    } catch (err) {
      const e = err as { message?: unknown; code?: unknown; retryable?: unknown };
      const base = {
        attempt: ctx.attempt,
        method: request.method ?? endpoint.defaultMethod,
        url: this.redactor.url(request.path),
        durationMs: this.now() - ctx.started,
      };
      // the SSRF guard's refusal keeps its own code: the address is refused, not the settings
      if (e?.code === TARGET_BLOCKED) {
        state.lastErrorCode = TARGET_BLOCKED;
        this.report(base, { errorCode: TARGET_BLOCKED, result: 'failed' });
        return this.finish('failed', TARGET_BLOCKED, String(e.message), String(e.message));
      }
      const reason = prepareFailureReason(err);
      // the message states the first reason itself (e.g. "apiKey: environment variable X is not set")
      const first = firstReason(err);
      const errorCode = 'PREPARE_FAILED';
      state.lastErrorCode = errorCode;
      if (this.signal.aborted) {
        this.report(base, { errorCode, result: 'cancelled' });
        return this.cancelled('sending');
      }
      if (e?.retryable === true && ctx.attempt < this.maxAttempts) {
        const delayMs = this.scheduleRetry(ctx.attempt);
        this.report(base, { errorCode, result: 'retry', delayMs });
        if (this.options.oneAttempt) {
          return this.later(errorCode, `${first} ${attemptOf(ctx.attempt, this.maxAttempts)}`, reason);
        }
        return AGAIN;
      }
      this.report(base, { errorCode, result: 'failed' });
      return this.finish('failed', errorCode, `${first} (${plural(state.attempts, 'attempt')})`, reason);
    }
  }

  /** An answer too large to read: final (the partner would send the same again). */
  private onTooLarge(ctx: AttemptContext, ex: Exchange, failure: ResponseTooLargeError): Step {
    const statusCode = failure.status;
    this.last = { statusCode, headers: plainHeaders(failure.headers), raw: Buffer.alloc(0) };
    this.state.lastStatusCode = statusCode;
    this.state.lastErrorCode = RESPONSE_TOO_LARGE;
    ctx.outcome = { kind: 'response', status: statusCode };
    this.report(this.logBase(ctx, ex.method), { statusCode, errorCode: RESPONSE_TOO_LARGE, result: 'failed' });
    return this.finish('failed', RESPONSE_TOO_LARGE, tooLargeText(statusCode, failure.limit), failure.message);
  }

  /** No answer: the endpoint is down (wait for it, not counted), or a network error / timeout (retry or give up). */
  private onNoAnswer(ctx: AttemptContext, ex: Exchange): Step {
    const { state } = this;
    const base = this.logBase(ctx, ex.method);
    const down = this.pacer && !ex.timedOut ? offlineCodeOf(ex.failure) : undefined;
    if (down) {
      // the connection was never made: not an attempt; wait at the pacer for the endpoint
      ctx.outcome = { kind: 'network', code: down };
      state.attempts--;
      state.lastErrorCode = down;
      this.report(base, { errorCode: down, result: 'offline' });
      return AGAIN;
    }
    const cls = classifyError(ex.failure, ex.timedOut);
    ctx.outcome = cls.code === 'TIMEOUT' ? { kind: 'timeout' } : { kind: 'network', code: cls.code };
    state.lastErrorCode = cls.code;
    const message = noAnswerReason(cls.code, ex.timeoutMs, ex.failure);
    const what = noAnswerText(cls.code, ex.timeoutMs);
    if (cls.retryable && ctx.attempt < this.maxAttempts) {
      const delayMs = this.scheduleRetry(ctx.attempt);
      this.report(base, { errorCode: cls.code, result: 'retry', delayMs });
      if (this.options.oneAttempt) {
        return this.later(cls.code, `${what} ${attemptOf(ctx.attempt, this.maxAttempts)}`, message);
      }
      return AGAIN;
    }
    this.report(base, { errorCode: cls.code, result: 'failed' });
    const summary = `${what} (${plural(state.attempts, 'attempt')})`;
    return this.finish('failed', cls.code, cls.retryable ? summary : `${summary}: not retried`, message);
  }

  /** An answer: success, the one OAuth2 refresh retry, a retry (backoff or Retry-After), or a final failure. */
  private async onAnswer(ctx: AttemptContext, ex: Exchange, response: TransportResponse): Promise<Step> {
    const { state, settings } = this;
    const base = this.logBase(ctx, ex.method);
    const statusCode = response.status;
    const respHeaders = plainHeaders(response.headers);
    const raw = toBuffer(response.data);
    this.last = { statusCode, headers: respHeaders, raw };
    state.lastStatusCode = statusCode;
    const retryAfterMs = parseRetryAfter(respHeaders['retry-after'], this.now());
    const outcome: PacerOutcome = { kind: 'response', status: statusCode };
    if (retryAfterMs !== undefined && (statusCode === 429 || statusCode === 503)) {
      // the whole endpoint pauses as long as this message waits (capped alike)
      outcome.retryAfterMs = waitBeforeRetry(ctx.attempt, this.timing, retryAfterMs, this.random).delayMs;
    }
    ctx.outcome = outcome;

    if ((statusCode >= 200 && statusCode < 300) || settings.alsoSuccess?.(statusCode) === true) {
      this.report(base, { statusCode, result: 'success' });
      return this.succeed(statusCode, respHeaders, raw);
    }

    const code = `HTTP_${statusCode}`;
    state.lastErrorCode = code;
    if (statusCode === 401 && !state.authRetried && this.freshTokenWorthTrying()) {
      state.authRetried = true;
      this.report(base, { statusCode, result: 'auth-retry' });
      return AGAIN;
    }

    const statusText = response.statusText ? ` ${response.statusText}` : '';
    if (isRetryableStatus(statusCode) && ctx.attempt < this.maxAttempts) {
      const delayMs = this.scheduleRetry(ctx.attempt, retryAfterMs);
      this.report(base, { statusCode, result: 'retry', delayMs });
      if (this.options.oneAttempt) {
        return this.later(
          code,
          `${answeredText(statusCode, statusText)} ${attemptOf(ctx.attempt, this.maxAttempts)}`,
          `the server answered ${statusCode}${statusText}; retried`,
        );
      }
      return AGAIN;
    }
    this.report(base, { statusCode, result: 'failed' });
    const location = respHeaders.location ? this.redactor.url(String(respHeaders.location)) : undefined;
    const reason = notRetriedReason(statusCode, statusText, isRetryableStatus(statusCode), location);
    const message = `${answeredText(statusCode, statusText)} (${plural(state.attempts, 'attempt')})`;
    return this.finish('failed', code, message, reason);
  }

  // ---------------------------------------------------------------- helpers

  /** After a 401: true when the endpoint dropped an OAuth2 token, so one retry with a fresh one makes sense. */
  private freshTokenWorthTrying(): boolean {
    try {
      return this.endpoint.invalidateAuth() === true;
    } catch {
      return false;
    }
  }

  /** Sets state.nextAttemptAt from the backoff (or Retry-After); returns the delay. */
  private scheduleRetry(attempt: number, retryAfterMs?: number): number {
    const wait = waitBeforeRetry(attempt, this.timing, retryAfterMs, this.random);
    this.state.nextAttemptAt = this.now() + wait.delayMs;
    return wait.delayMs;
  }

  /** A token fetched (or refreshed) while preparing an attempt is a new secret: rebuild the redactor. */
  private refreshRedactor(): void {
    if (this.options.redactor) return;
    const key = secretsKey(this.endpoint);
    if (key === this.knownSecrets) return;
    this.knownSecrets = key;
    this.redactor = redactorFor(this.endpoint, this.settings.signingKey, this.settings.secrets, this.request.headers);
  }

  private logBase(ctx: AttemptContext, method: string): AttemptBase {
    return { attempt: ctx.attempt, method, url: this.lastUrl ?? '', durationMs: this.now() - ctx.started };
  }

  private setPhase(phase: DeliveryPhase): void {
    this.state.phase = phase;
    if (phase === 'sending' || phase === 'waiting' || phase === 'paced') {
      try {
        this.options.onPhase?.(this.state);
      } catch {
        // a listener's bug must not stop the delivery
      }
    }
  }

  /**
   * Tells the caller about an attempt: `base` (logBase) with what came of it. Built with Object.assign,
   * not spreads: on Node 20 an object made by spreading another is allocated old, and it keeps what it
   * points at alive past the young generation's collections (measured by bench/peers: peak memory).
   */
  private report(base: AttemptBase, what: Omit<AttemptLog, 'text' | 'maxAttempts' | keyof AttemptBase>): void {
    const onAttempt = this.options.onAttempt;
    if (!onAttempt) return;
    const maxAttempts = this.maxAttempts;
    try {
      const log: AttemptLog = Object.assign({}, base, what, {
        maxAttempts,
        text: '',
        idempotencyKey: this.state.idempotencyKey,
      });
      log.text = attemptLogText(log, maxAttempts);
      onAttempt(log);
    } catch {
      // logging must not stop the delivery
    }
  }

  // ---------------------------------------------------------------- endings (lib/http/delivery-endings.ts)

  private succeed(statusCode: number, headers: Record<string, string | string[]>, raw: Buffer) {
    return succeeded(this.state, this.redactor, this.now, statusCode, headers, raw);
  }

  private finish(phase: 'failed' | 'cancelled', code: string, message: string, reason: string): DeliveryFailure {
    return ended(this.facts(), this.now, phase, code, message, reason);
  }

  private cancelled(phase: 'waiting' | 'sending'): DeliveryFailure {
    const message = cancelledText(phase, this.options.cancelMessage?.(phase));
    return this.finish('cancelled', 'CANCELLED', message, message);
  }

  /** oneAttempt: this attempt failed and another one is due at state.nextAttemptAt. */
  private later(code: string, message: string, reason: string): DeliveryFailure {
    return retryDue(this.facts(), this.now, code, message, reason);
  }

  private facts() {
    return { state: this.state, last: this.last, redactor: this.redactor, method: this.lastMethod, url: this.lastUrl };
  }
}
