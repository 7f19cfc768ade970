/**
 * The trigger's HTTP pipeline, one named step after the other:
 *
 *   who is calling (headers) → what is sent (content type) → read the exact
 *   bytes (bounded size and time) → is it really from the sender (signature,
 *   replay) → is it an event (JSON, depth, validation, filter, dedupe) →
 *   emit it and answer (at once, or once the flow settles it: durable)
 *
 * Every refusal is a JSON answer with the node's own code; nothing here
 * throws into the web server. Node-RED stays outside: the node passes hooks
 * that send messages and show status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { IntegrationError } from '../errors';
import { expectSettlement } from '../acks';
import type { EventMeta } from '../event';
import type { EventIntake, Outcome } from './intake';
import type { CallerAuth } from './auth';
import { unauthorized } from './auth';
import { BodyError, isAcceptableContentType, previewBody, readBody, tooLarge } from './body';
import { parseJsonBody } from './json';
import { durableReply, type DurableOutcome, type DurableReply, type ReplyMode } from './durable-reply';
import { ReplayMemory } from './replay';
import { closeAfterAnswer, sendJson, statusFor } from './reply';

type Req = IncomingMessage & { body?: unknown };

/** how long a closing node waits for events still being made durable */
export const MAX_CLOSE_WAIT_MS = 3000;

export type Tally = Outcome['status'] | DurableOutcome;

export interface PipelineHooks {
  /** output 1: an accepted event (with its settlement token in durable mode) */
  emit(event: EventMeta, data: unknown, token?: string): void;
  /** output 2, Catch nodes: a refused request (the body preview, never the headers) */
  reject(error: IntegrationError, preview: string): void;
  /** an outcome to count in the status (and report): the event when it was read, the error when refused */
  count(outcome: Tally, event?: EventMeta, error?: { code?: string; message?: string }): void;
  /** the number of waiting events changed */
  changed(): void;
  /** nothing settled an event within the ack timeout (first time only) */
  ackTimedOut(): void;
}

export interface PipelineOptions {
  auth: CallerAuth;
  intake: EventIntake;
  maxBytes: number;
  bodyTimeoutMs: number;
  replyMode: ReplyMode;
  ackTimeoutSeconds: number;
  hooks: PipelineHooks;
  replays?: ReplayMemory;
}

/** An emitted event whose HTTP reply waits for its settlement. */
interface Waiting {
  id: string;
  event: EventMeta;
  keys: string[];
  closing: boolean;
  cancel(): void;
  reply: Promise<DurableReply>;
}

export class TriggerPipeline {
  readonly replays: ReplayMemory;
  private readonly waiting = new Set<Waiting>();
  /** the same by event id (while dedupe is on) and by webhook-id, so that a repeat joins the first */
  private readonly waitingByKey = new Map<string, Waiting>();
  private closed = false;
  private warnedTimeout = false;

  constructor(private readonly options: PipelineOptions) {
    this.replays = options.replays ?? new ReplayMemory();
  }

  get waitingCount(): number {
    return this.waiting.size;
  }

  /** Handles one request; never rejects. */
  handle(req: Req, res: ServerResponse): Promise<void> {
    return this.run(req, res).catch((err: unknown) => {
      // a bug of ours: answer anyway, report it, never crash the runtime
      const error = new IntegrationError('INTERNAL_ERROR', 'the event could not be handled', [
        { reason: err instanceof Error ? err.message : String(err) },
      ]);
      try {
        this.refuse(req, res, error, undefined);
      } catch {
        sendJson(res, 500, { error: error.toJSON() });
      }
    });
  }

  /** A refused request: output 2, Catch nodes, the JSON answer. */
  private refuse(req: Req, res: ServerResponse, error: IntegrationError, body: Buffer | undefined): void {
    this.options.hooks.count('rejected', undefined, error);
    this.options.hooks.reject(error, previewBody(body));
    // the rest of a body not read is dropped for a moment, then the connection closed
    if (sendJson(res, statusFor(error.code), { error: error.toJSON() }, { linger: !req.readableEnded }))
      closeAfterAnswer(req);
  }

  private async run(req: Req, res: ServerResponse): Promise<void> {
    const { auth, hooks } = this.options;
    // 1. who is calling (header checks need no body)
    const refusedBy = auth.checkHeaders(req.headers);
    if (refusedBy) return this.refuse(req, res, unauthorized(refusedBy), undefined);

    // 2. what is sent
    const contentType = req.headers['content-type'];
    if (!isAcceptableContentType(contentType)) {
      const error = new IntegrationError('UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON', [
        { field: 'content-type', reason: 'expected application/json, */*+json or text/plain', value: contentType },
      ]);
      return this.refuse(req, res, error, undefined);
    }

    // 3. the exact bytes
    const read = await this.readExactBody(req);
    if (read instanceof IntegrationError)
      return this.refuse(req, res, read, read instanceof BodyError ? read.partial : undefined);
    const body = read;

    // 4. is it really from the sender, and not a replay
    const signed = auth.checkBody(req.headers, body);
    if (!signed.ok) return this.refuse(req, res, unauthorized(signed.reason), body);
    const webhookId = signed.webhookId;
    if (webhookId !== undefined) {
      const first = this.waitingByKey.get('webhook:' + webhookId);
      if (first) return this.answerAsFirst(res, first);
    }

    // 5. is it an event
    let payload: unknown;
    try {
      payload = parseJsonBody(body);
    } catch (err) {
      return this.refuse(req, res, err as IntegrationError, body);
    }
    const durable = this.options.replyMode === 'durable';
    const outcome = this.options.intake.process(payload, { source: 'http', fallbackId: webhookId, record: !durable });
    if (outcome.status === 'rejected') return this.refuse(req, res, outcome.error, body);
    if (webhookId !== undefined && this.replays.seen(webhookId)) {
      // a replay of a request already answered 2xx: acknowledged, not delivered again
      hooks.count('duplicate', outcome.event);
      sendJson(res, 202, { id: outcome.event.id, status: 'duplicate' });
      return;
    }

    // 6. emit and answer
    if (durable && outcome.status === 'accepted') {
      const first = this.options.intake.dedupe.enabled ? this.waitingByKey.get('event:' + outcome.event.id) : undefined;
      if (first) return this.answerAsFirst(res, first);
      if (this.closed) {
        const r = durableReply(outcome.event.id, undefined, {
          timeoutSeconds: this.options.ackTimeoutSeconds,
          closing: true,
        });
        sendJson(res, r.status, r.body, { retryAfter: r.retryAfter });
        return;
      }
      const r = await this.emitDurable(outcome.event, outcome.data, webhookId).reply;
      sendJson(res, r.status, r.body, { retryAfter: r.retryAfter });
      return;
    }
    if (this.closed && outcome.status === 'accepted') {
      const r = durableReply(outcome.event.id, undefined, {
        timeoutSeconds: this.options.ackTimeoutSeconds,
        closing: true,
      });
      sendJson(res, r.status, r.body, { retryAfter: r.retryAfter });
      return;
    }
    hooks.count(outcome.status, outcome.event);
    if (outcome.status === 'accepted') hooks.emit(outcome.event, outcome.data);
    if (webhookId !== undefined) this.replays.remember(webhookId);
    sendJson(res, 202, { id: outcome.event.id, status: outcome.status });
  }

  /** The body as sent, or the error that ends the request. */
  private async readExactBody(req: Req): Promise<Buffer | IntegrationError> {
    const { maxBytes, auth } = this.options;
    if (req.body !== undefined || req.readableEnded) {
      // a middleware in front (httpNodeMiddleware) already read the stream: use what it kept
      let body: Buffer;
      if (Buffer.isBuffer(req.body)) body = req.body;
      else if (typeof req.body === 'string') body = Buffer.from(req.body, 'utf8');
      else if (auth.mode === 'webhook')
        return unauthorized('the raw body was consumed before the node could verify it');
      else {
        try {
          body = Buffer.from(JSON.stringify(req.body ?? null), 'utf8');
        } catch (err) {
          return new IntegrationError('INVALID_JSON', 'the body a middleware parsed cannot be read back', [
            { field: 'body', reason: err instanceof Error ? err.message : String(err) },
          ]);
        }
      }
      return body.length > maxBytes ? tooLarge(maxBytes, body) : body;
    }
    try {
      return await readBody(req, maxBytes, { timeoutMs: this.options.bodyTimeoutMs });
    } catch (err) {
      return err instanceof IntegrationError
        ? err
        : new IntegrationError('BODY_READ_FAILED', 'the body could not be read');
    }
  }

  /** A repeat of an event still waiting: not emitted again, answered with the first one's outcome. */
  private async answerAsFirst(res: ServerResponse, first: Waiting): Promise<void> {
    this.options.hooks.count('duplicate', first.event);
    const r = await first.reply;
    sendJson(res, r.status, r.body, { retryAfter: r.retryAfter });
  }

  /**
   * Durable mode: registers a settlement token, emits the event carrying it
   * and returns what the reply will be once a node settles it (or nothing
   * does within the timeout, or the node closes first).
   */
  private emitDurable(event: EventMeta, data: unknown, webhookId: string | undefined): Waiting {
    const { ackTimeoutSeconds, hooks, intake } = this.options;
    const token = randomUUID();
    const expectation = expectSettlement(token, ackTimeoutSeconds * 1000);
    const keys: string[] = [];
    if (intake.dedupe.enabled) keys.push('event:' + event.id);
    if (webhookId !== undefined) keys.push('webhook:' + webhookId);
    const entry: Waiting = {
      id: event.id,
      event,
      keys,
      closing: false,
      cancel: expectation.cancel,
      reply: undefined as never,
    };
    entry.reply = expectation.promise.then((settlement) => {
      this.waiting.delete(entry);
      for (const k of entry.keys) if (this.waitingByKey.get(k) === entry) this.waitingByKey.delete(k);
      // a settlement that arrives while closing still counts: a journaled event is answered 202
      const closing = entry.closing && !settlement;
      const result = durableReply(entry.id, settlement, { timeoutSeconds: ackTimeoutSeconds, closing });
      // only a safe event is remembered: a sender retrying after a 4xx/5xx is heard again
      if (result.status >= 200 && result.status < 300) {
        intake.remember(entry.id);
        if (webhookId !== undefined) this.replays.remember(webhookId);
      }
      if (!closing) {
        hooks.count(result.outcome, event, result.body.error);
        if (!settlement && !this.warnedTimeout) {
          this.warnedTimeout = true;
          hooks.ackTimedOut();
        }
      }
      hooks.changed();
      return result;
    });
    this.waiting.add(entry);
    for (const k of keys) this.waitingByKey.set(k, entry);
    hooks.changed();
    hooks.emit(event, data, token);
    return entry;
  }

  /**
   * Stops taking events. Events still waiting go on waiting for their
   * settlement until their own ack timeout, after the flow stopped too: an
   * HTTP POST node finishing its journal write answers them 202, whatever
   * happens after; the rest are answered 503 SHUTTING_DOWN + Retry-After.
   * Node-RED's stop is held at most `holdMs` for them.
   */
  async close(holdMs = Math.min(MAX_CLOSE_WAIT_MS, this.options.ackTimeoutSeconds * 1000)): Promise<void> {
    this.closed = true;
    const pending = [...this.waiting];
    if (pending.length === 0) return;
    for (const entry of pending) entry.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const held = new Promise<void>((resolve) => (timer = setTimeout(resolve, holdMs)));
    await Promise.race([Promise.allSettled(pending.map((entry) => entry.reply)), held]);
    clearTimeout(timer);
  }
}
