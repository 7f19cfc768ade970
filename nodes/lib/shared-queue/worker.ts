/**
 * The workers of a shared queue: pull loops on the work stream's consumers
 * ("work" for messages without an ordering key, "key-<b>" per ordering-key
 * bucket, one message in flight per bucket group-wide) and one attempt per
 * message pulled:
 *
 *   success           → ack (after the attempt), output 1
 *   retry later       → attempts written to KV (SAYPRO_TRIES_<node>), NAK with
 *                       the delay (backoff with jitter, or Retry-After)
 *   no attempts left / permanent failure / the vendor's key lifetime passed
 *                     → dead letter published (PubAck), then ack, output 2
 *   cancelled (close) → NAK at once: another instance takes it, no attempt used
 *
 * While an attempt lasts (waiting for the group's pacing included) the
 * message is kept ours with in-progress acks (working()), so JetStream gives
 * it to another instance only when this one stops answering (ack wait).
 */
import { attemptHeaders } from '../outbox/secret-headers';
import { setMaxListeners } from 'events';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { IntegrationError } from '../errors';
import { parseStoredItem, type StoredItem } from '../outbox/durable';
import { restoreMessage } from '../outbox/snapshot';
import type { AttemptRecord } from '../outbox/dead-letter';
import {
  countedAttempts,
  deliverOnce,
  newDeliveryState,
  type DeliveryFailure,
  type DeliveryState,
} from '../http/deliver';
import { parseResponseBody } from '../http/response';
import { windowPassed } from '../idempotency-window';
import type { EndpointHandle } from '../http/types';
import { ORDERING_BUCKETS } from './names';
import type { SharedQueue, WireItem } from './shared-queue';

interface Tries {
  attempts: number;
  lastError?: { code: string; message: string; statusCode?: number } | null;
  history: AttemptRecord[];
}

const MAX_HISTORY = 20;
const PULL_EXPIRES_MS = 5000;
const ERROR_BACKOFF_MS = 1000;
const CANCELLED_DELAY_MS = 5000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class Workers {
  private readonly q: SharedQueue;
  private readonly endpoint: EndpointHandle;
  private readonly abort = new AbortController();
  private readonly live = new Set<DeliveryState>();
  private readonly steps = new Set<Promise<void>>();
  private readonly pulls = new Set<ConsumerMessages>();
  private readonly loops: Promise<void>[] = [];
  private waiters: (() => void)[] = [];
  private stopping = false;
  inFlight = 0;

  constructor(q: SharedQueue, endpoint: EndpointHandle) {
    this.q = q;
    this.endpoint = endpoint;
    // every attempt in flight listens to it
    setMaxListeners(0, this.abort.signal);
  }

  get maxInFlight(): number {
    return Math.max(1, this.q.opts.maxInFlight ?? 32);
  }

  get sending(): number {
    let n = 0;
    for (const s of this.live) if (s.phase === 'sending') n++;
    return n;
  }

  start(): void {
    this.loops.push(this.loop(this.q.names.workConsumer, this.maxInFlight));
    for (let b = 0; b < ORDERING_BUCKETS; b++) this.loops.push(this.loop(this.q.names.keyConsumer(b), 1));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    for (const p of this.pulls) p.stop();
    for (const w of this.waiters.splice(0)) w();
    await Promise.allSettled([...this.steps]);
    await Promise.allSettled(this.loops);
  }

  private freed(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  private async loop(name: string, most: number): Promise<void> {
    const js = this.q.js!;
    let mine = 0;
    while (!this.stopping) {
      const free = Math.min(most - mine, this.maxInFlight - this.inFlight);
      if (free <= 0) {
        await this.freed();
        continue;
      }
      try {
        const c = await js.consumers.get(this.q.names.stream, name);
        const batch = await c.fetch({ max_messages: free, expires: PULL_EXPIRES_MS });
        this.pulls.add(batch);
        try {
          for await (const m of batch) {
            if (this.stopping) {
              m.nak();
              continue;
            }
            mine++;
            this.inFlight++;
            this.q.changed();
            const p = this.step(m)
              .catch((err) => {
                // a bug of ours: handed back for a later try instead of waiting for the ack wait
                this.q.warn(
                  `shared queue: the attempt for message ${m.seq} failed unexpectedly: ${(err as Error)?.message ?? err}`,
                );
                m.nak(CANCELLED_DELAY_MS);
              })
              .finally(() => {
                mine--;
                this.inFlight--;
                this.steps.delete(p);
                for (const w of this.waiters.splice(0)) w();
                this.q.changed();
              });
            this.steps.add(p);
          }
        } finally {
          this.pulls.delete(batch);
        }
      } catch (err) {
        if (this.stopping) break;
        this.q.warnOnce(`shared queue: pulling from ${name} failed (${(err as Error)?.message ?? err}); trying again`);
        await sleep(ERROR_BACKOFF_MS);
      }
    }
  }

  // ------------------------------------------------------------ tries (KV)

  private async loadTries(m: JsMsg): Promise<Tries> {
    if (m.info.deliveryCount <= 1 || !this.q.tries) return { attempts: 0, history: [] };
    try {
      const e = await this.q.tries.get(`s${m.seq}`);
      if (!e || e.operation !== 'PUT') return { attempts: 0, history: [] };
      const t = e.json<Tries>();
      return {
        attempts: typeof t.attempts === 'number' ? t.attempts : 0,
        lastError: t.lastError ?? null,
        history: Array.isArray(t.history) ? t.history : [],
      };
    } catch {
      return { attempts: Math.max(0, m.info.deliveryCount - 1), history: [] };
    }
  }

  private dropTries(m: JsMsg, t: Tries): void {
    if (t.attempts > 0 || m.info.deliveryCount > 1) this.q.tries?.purge(`s${m.seq}`).catch(() => undefined);
  }

  // ------------------------------------------------------------ one step

  private async step(m: JsMsg): Promise<void> {
    const q = this.q;
    const msgId = m.headers?.get('Nats-Msg-Id') || `seq-${m.seq}`;
    let wire: WireItem | undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(m.data).toString('utf8'));
    } catch {
      raw = undefined;
    }
    const stored = parseStoredItem(raw);
    if (stored)
      wire = {
        ...stored,
        ...(typeof (raw as WireItem).orderingKey === 'string' ? { orderingKey: (raw as WireItem).orderingKey } : {}),
      };
    const tries = await this.loadTries(m);
    if (!wire) {
      await this.giveUp(
        m,
        msgId,
        raw ?? null,
        undefined,
        tries,
        new IntegrationError('OUTBOX_BAD_DATA', 'The queued item is not a message this node queued', [
          { reason: 'the stored data has no request or message' },
        ]),
      );
      return;
    }
    const settings = q.opts.settings;
    const body = wire.request.bodyBase64 !== null ? Buffer.from(wire.request.bodyBase64, 'base64') : null;
    if (tries.attempts >= Math.max(1, Math.floor(settings.maxAttempts))) {
      const le = tries.lastError;
      const error = new IntegrationError(
        le?.code ?? 'NO_ATTEMPTS_LEFT',
        le?.message ? `${le.message}; no attempts left` : 'No attempts left',
        [{ reason: `${tries.attempts} of ${settings.maxAttempts} attempts were made`, field: 'maxAttempts' }],
      );
      await this.giveUp(m, msgId, wire, { body }, tries, error);
      return;
    }
    const key = wire.idempotencyKey || msgId;
    // the vendor's key lifetime, counted from the queueing (the time travels with the message, so every
    // instance stops at the same moment): no attempt after it, as with the journal
    const passed = settings.idempotencyHeader
      ? windowPassed({
          firstUseAt: tries.attempts > 0 ? wire.createdAt : null,
          now: q.clock(),
          lifetimeMs: q.opts.keyLifetimeMs ?? 0,
          header: settings.idempotencyHeader,
        })
      : null;
    if (passed) {
      await this.giveUp(m, msgId, wire, { body }, tries, passed);
      return;
    }
    const state = newDeliveryState(key, settings.maxAttempts, wire.createdAt);
    state.attempts = tries.attempts;
    state.lastErrorCode = tries.lastError?.code ?? null;
    state.lastStatusCode = tries.lastError?.statusCode ?? null;
    const attempts: AttemptRecord[] = [];
    this.live.add(state);
    const beat = setInterval(() => m.working(), Math.max(500, Math.floor(q.ackWaitMs / 3)));
    let outcome;
    try {
      outcome = await deliverOnce(
        this.endpoint,
        {
          method: wire.request.method ?? undefined,
          path: wire.request.path,
          headers: attemptHeaders(q.opts.configHeaders?.() ?? {}, wire.request.headers ?? {}),
          body,
        },
        state,
        settings,
        {
          signal: this.abort.signal,
          onAttempt: (log) => {
            if (log.result !== 'offline' && log.result !== 'cancelled') {
              const rec: AttemptRecord = { at: q.clock() };
              if (log.statusCode !== undefined) rec.statusCode = log.statusCode;
              if (log.errorCode !== undefined) rec.errorCode = log.errorCode;
              attempts.push(rec);
            }
            q.opts.onAttempt?.(log);
          },
          onPhase: () => q.changed(),
          cancelMessage: () => 'the queue was closed while this message was being sent; it stays queued',
        },
      );
    } finally {
      clearInterval(beat);
      this.live.delete(state);
    }

    if (outcome.ok) {
      try {
        await m.ackAck();
      } catch (err) {
        q.warn(
          `shared queue: ${msgId} was delivered but the acknowledgement did not reach JetStream (${(err as Error)?.message ?? err}); it may be delivered again under the same idempotency key`,
        );
      }
      this.dropTries(m, tries);
      q.counters.delivered++;
      const msg = restoreMessage(wire.msg, body);
      msg.delivery = {
        attempts: state.attempts,
        idempotencyKey: key,
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        endpoint: q.label(),
      };
      msg.statusCode = outcome.statusCode;
      msg.responseHeaders = outcome.headers;
      msg.payload = outcome.body.value;
      q.changed();
      q.opts.onDelivered?.(q.reattach(msgId, msg));
      return;
    }

    const failure = outcome as DeliveryFailure;
    if (failure.error.code === 'CANCELLED') {
      m.nak(q.isClosing ? 0 : CANCELLED_DELAY_MS);
      return;
    }
    const lastError: { code: string; message: string; statusCode?: number } = {
      code: failure.error.code,
      message: failure.error.message,
    };
    if (failure.statusCode !== undefined) lastError.statusCode = failure.statusCode;
    const next: Tries = {
      attempts: countedAttempts(state),
      lastError,
      history: tries.history.concat(attempts).slice(-MAX_HISTORY),
    };
    if (failure.retryAt !== undefined) {
      try {
        await q.tries?.put(`s${m.seq}`, JSON.stringify(next));
      } catch (err) {
        q.warnOnce(
          `shared queue: the attempt count of ${msgId} could not be stored (${(err as Error)?.message ?? err})`,
        );
      }
      m.nak(Math.max(0, failure.retryAt - q.clock()));
      q.counters.retried++;
      q.changed();
      return;
    }
    await this.giveUp(m, msgId, wire, { body, state, failure }, next, failure.error);
  }

  /** No more attempts: to the dead-letter stream (PubAck), then ack, then output 2. */
  private async giveUp(
    m: JsMsg,
    msgId: string,
    data: unknown,
    ctx: { body: Buffer | null; state?: DeliveryState; failure?: DeliveryFailure } | undefined,
    tries: Tries,
    error: IntegrationError,
  ): Promise<void> {
    const q = this.q;
    const dead = q.deadStore();
    const stored = data as (StoredItem & { orderingKey?: string }) | null;
    const id =
      (stored && typeof stored.idempotencyKey === 'string' && stored.idempotencyKey) ||
      msgId.replace(/#[0-9a-f]{12}$/, '');
    try {
      if (!dead) throw new Error('the dead-letter stream is not set up');
      await dead.put(
        {
          id,
          msgId,
          data,
          error: error.toJSON() as never,
          attempts: tries.attempts,
          history: tries.history,
          deadAt: q.clock(),
          orderingKey: stored?.orderingKey,
          createdAt: stored?.createdAt,
        },
        `dead-${m.seq}`,
      );
    } catch (err) {
      q.warnOnce(
        `shared queue: ${msgId} could not be moved to the dead letters (${(err as Error)?.message ?? err}); it is tried again later`,
      );
      m.nak(CANCELLED_DELAY_MS);
      return;
    }
    try {
      await m.ackAck();
    } catch {
      // moved already; a redelivery would be dead-lettered once (same dedupe id)
    }
    this.dropTries(m, tries);
    q.counters.deadLettered++;
    let msg: Record<string, unknown> = {};
    if (ctx && stored) msg = restoreMessage(stored.msg, ctx.body);
    const f = ctx?.failure;
    msg.delivery = {
      attempts: ctx?.state?.attempts ?? tries.attempts,
      idempotencyKey: id,
      statusCode: f?.statusCode ?? tries.lastError?.statusCode ?? null,
      durationMs: f ? f.durationMs : Math.max(0, q.clock() - (stored?.createdAt ?? q.clock())),
      endpoint: q.label(),
    };
    if (f && f.statusCode !== undefined) {
      msg.statusCode = f.statusCode;
      msg.responseHeaders = f.headers;
      msg.responseBody = (await parseResponseBody(f.raw ?? Buffer.alloc(0), f.headers?.['content-type'])).value;
    }
    msg.error = error.toJSON();
    q.changed();
    q.opts.onFailed?.(q.reattach(msgId, msg), error);
  }

  /**
   * The queue is full and its policy is dead-letter-oldest: the oldest
   * message moves to the dead letters (output 2 too), then leaves the stream.
   * Resolves with its id, or undefined when there was nothing to move.
   */
  async evictOldest(): Promise<string | undefined> {
    const q = this.q;
    const jsm = q.jsm!;
    const dead = q.deadStore();
    if (!dead) return undefined;
    const info = await jsm.streams.info(q.names.stream);
    for (let seq = info.state.first_seq, n = 0; seq <= info.state.last_seq && n < 100; seq++, n++) {
      const sm = await jsm.streams.getMessage(q.names.stream, { seq });
      if (!sm) continue;
      const msgId = sm.header?.get('Nats-Msg-Id') || `seq-${seq}`;
      let data: (StoredItem & { orderingKey?: string }) | null = null;
      try {
        data = JSON.parse(Buffer.from(sm.data).toString('utf8'));
      } catch {
        data = null;
      }
      const id = data?.idempotencyKey || msgId;
      const error = new IntegrationError(
        'OUTBOX_FULL',
        'pushed out of a full queue by a newer message; moved to the dead letters',
        [],
      );
      await dead.put(
        {
          id,
          msgId,
          data,
          error: error.toJSON() as never,
          attempts: 0,
          history: [],
          deadAt: q.clock(),
          orderingKey: data?.orderingKey,
          createdAt: data?.createdAt,
        },
        `dead-${seq}`,
      );
      const removed = await jsm.streams.deleteMessage(q.names.stream, seq, false).catch(() => false);
      if (!removed) continue; // delivered meanwhile
      q.counters.deadLettered++;
      const msg = data
        ? restoreMessage(data.msg, data.request?.bodyBase64 ? Buffer.from(data.request.bodyBase64, 'base64') : null)
        : {};
      msg.delivery = {
        attempts: 0,
        idempotencyKey: id,
        statusCode: null,
        durationMs: Math.max(0, q.clock() - (data?.createdAt ?? q.clock())),
        endpoint: q.label(),
      };
      msg.error = error.toJSON();
      q.opts.onFailed?.(q.reattach(msgId, msg), error);
      return id;
    }
    return undefined;
  }
}
