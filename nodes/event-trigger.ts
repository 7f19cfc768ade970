/**
 * saypro-event-trigger: receives platform events on its own HTTP endpoint
 * and/or on its input wire, checks them, filters them by type, drops
 * duplicates and emits `msg.event` + `msg.payload`. The logic lives in
 * lib/event.ts (and patterns, dedupe, webhook-signature); this file is the
 * Node-RED glue: configuration, the route, replies, status, send/done.
 *
 * In "durable" reply mode an HTTP event carries a settlement token
 * (msg._sayproAck, see lib/acks.ts) and the reply waits until a node of the
 * flow settles it: 202 only once the event is safe.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { onInput, sendError, type Msg } from './common/glue';
import { installMonitoring, triggerTelemetry } from './common/monitoring';
import { IntegrationError, toErrorInfo } from './lib/errors';
import { resolveEnvRef } from './lib/env';
import {
  EventIntake,
  BodyError,
  DEFAULT_DEDUPE_WINDOW_SECONDS,
  DEFAULT_MAX_BYTES,
  isAcceptableContentType,
  parseJsonBody,
  previewBody,
  readBody,
  tooLarge,
  statusFor,
  replyModeOf,
  ackTimeoutOf,
  durableReply,
  type DurableReply,
  type EventMeta,
  type Outcome,
} from './lib/event';
import { ACK_PROPERTY, expectSettlement } from './lib/acks';
import { checkWebhookHeaders, decodeWebhookSecret, safeEqualSecret, verifyWebhook } from './lib/webhook-signature';

interface EventTriggerDef extends NodeDef {
  url?: string;
  method?: string;
  maxBytes?: number | string;
  filter?: string;
  dedupeWindow?: number | string;
  auth?: string;
  authHeader?: string;
  reply?: string;
  ackTimeout?: number | string;
}

interface EventTriggerCredentials {
  secret?: string;
  webhookSecret?: string;
}

type AuthMode = 'none' | 'secret' | 'webhook';

type Req = IncomingMessage & { body?: unknown; _body?: boolean };
type Res = ServerResponse;
type Handler = (req: Req, res: Res, next?: (err?: unknown) => void) => void;

/** An emitted event whose HTTP reply waits for its settlement. */
interface Waiting {
  id: string;
  /** set when the node closes: the reply is 503 SHUTTING_DOWN */
  closing: boolean;
  cancel(): void;
  reply: Promise<DurableReply>;
}

const OUTPUTS = 2;
const EVENTS = 0;
const REJECTED = 1;
const DEFAULT_AUTH_HEADER = 'x-webhook-secret';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function positiveInteger(value: unknown, fallback: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : fallback;
}

function nonNegative(value: unknown, fallback: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Removes the route layers that hold `handler` from an Express app (4: `_router`, 5: `router`). */
function removeRoute(app: unknown, path: string, method: string, handler: Handler): void {
  const a = app as { _router?: { stack?: unknown[] }; router?: { stack?: unknown[] } } | undefined;
  const stack = a?._router?.stack ?? a?.router?.stack;
  if (!Array.isArray(stack)) return;
  for (let i = stack.length - 1; i >= 0; i--) {
    const layer = stack[i] as { route?: { path?: unknown; methods?: Record<string, boolean>; stack?: Array<{ handle?: unknown }> } };
    const route = layer?.route;
    if (!route || route.path !== path || !route.methods?.[method]) continue;
    if (Array.isArray(route.stack) && route.stack.some((l) => l && l.handle === handler)) stack.splice(i, 1);
  }
}

export = function (RED: NodeAPI) {
  installMonitoring(RED);
  function EventTriggerNode(this: Node<EventTriggerCredentials>, config: EventTriggerDef) {
    RED.nodes.createNode(this, config);
    const node = this;

    const method = config.method === 'put' ? 'put' : 'post';
    const maxBytes = positiveInteger(config.maxBytes, DEFAULT_MAX_BYTES);
    const dedupeWindow = nonNegative(config.dedupeWindow, DEFAULT_DEDUPE_WINDOW_SECONDS);
    const auth: AuthMode = config.auth === 'secret' || config.auth === 'webhook' ? config.auth : 'none';
    const headerSetting = (config.authHeader ?? '').trim().toLowerCase();
    const authHeader = HEADER_NAME.test(headerSetting) ? headerSetting : DEFAULT_AUTH_HEADER;
    let url = (config.url ?? '').trim();
    if (url && url[0] !== '/') url = '/' + url;

    const replyMode = replyModeOf(config.reply);
    const ackTimeout = ackTimeoutOf(config.ackTimeout);

    const intake = new EventIntake({ filter: config.filter ?? '', dedupeWindowSeconds: dedupeWindow });
    if (intake.filter.invalid.length > 0) {
      node.warn(RED._('event-trigger.errors.invalid-filter', { entries: intake.filter.invalid.join(', ') }));
    }

    // accepted … rejected: as before; refused … failed: outcomes of durable replies
    const counts = { accepted: 0, ignored: 0, duplicate: 0, rejected: 0, refused: 0, busy: 0, unconfirmed: 0, failed: 0 };
    const telemetry = triggerTelemetry(RED, node);
    /** durable replies still waiting (one per emitted event) */
    const waiting = new Set<Waiting>();
    /** the same, by event id, so that a repeated id joins the first (only while dedupe is on) */
    const waitingById = new Map<string, Waiting>();
    let closed = false;
    let warnedTimeout = false;
    let authProblem: string | undefined;
    let sharedSecret: string | undefined;
    let webhookKey: Buffer | undefined;
    let listening = false;

    function updateStatus(): void {
      if (authProblem) {
        node.status({ fill: 'red', shape: 'ring', text: 'event-trigger.status.auth-missing' });
        return;
      }
      const total = (Object.keys(counts) as Array<keyof typeof counts>).reduce((sum, k) => sum + counts[k], 0);
      if (total === 0 && waiting.size === 0) {
        node.status(
          listening
            ? { fill: 'blue', shape: 'dot', text: RED._('event-trigger.status.listening', { url }) }
            : { fill: 'blue', shape: 'dot', text: RED._('event-trigger.status.ready') },
        );
      } else {
        // "3 accepted · 1 duplicate": accepted always, the others once they happen
        const parts = (Object.keys(counts) as Array<keyof typeof counts>)
          .filter((k) => k === 'accepted' || counts[k] > 0)
          .map((k) => RED._(`event-trigger.status.${k}`, { count: counts[k] }));
        if (waiting.size > 0) parts.unshift(RED._('event-trigger.status.waiting', { count: waiting.size }));
        node.status({ fill: 'green', shape: 'dot', text: parts.join(' · ') });
      }
    }

    /** Counts an outcome and shows the new counts. */
    function tally(outcome: Outcome): void {
      counts[outcome.status]++;
      telemetry.received(outcome.status, outcome.status === 'rejected' ? undefined : outcome.event, outcome.status === 'rejected' ? outcome.error : undefined);
      updateStatus();
    }

    /**
     * Durable mode: registers a settlement token, emits the event carrying it
     * and returns what the reply will be once a node settles it (or nothing
     * does within the timeout, or the node closes).
     */
    function emitDurable(event: EventMeta, data: unknown): Waiting {
      const token = randomUUID();
      const expectation = expectSettlement(token, ackTimeout * 1000);
      const entry: Waiting = { id: event.id, closing: false, cancel: expectation.cancel, reply: undefined as never };
      entry.reply = expectation.promise.then((settlement) => {
        waiting.delete(entry);
        if (waitingById.get(entry.id) === entry) waitingById.delete(entry.id);
        const result = durableReply(entry.id, settlement, { timeoutSeconds: ackTimeout, closing: entry.closing });
        // only a safe event is remembered: a sender retrying after a 4xx/5xx is heard again
        if (result.status >= 200 && result.status < 300) intake.remember(entry.id);
        if (!entry.closing) {
          counts[result.outcome]++;
          telemetry.received(result.outcome, event, result.body.error);
          if (!settlement && !warnedTimeout) {
            warnedTimeout = true;
            node.warn(RED._('event-trigger.errors.ack-timeout', { seconds: ackTimeout }));
          }
          updateStatus();
        }
        return result;
      });
      waiting.add(entry);
      if (intake.dedupe.enabled) waitingById.set(event.id, entry);
      updateStatus();
      node.send([{ event, payload: data, [ACK_PROPERTY]: token } as NodeMessage, null]);
      return entry;
    }

    // ---------------------------------------------------------------- wire
    onInput(node, (msg: Msg, send, done) => {
      let payload: unknown = msg.payload;
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
        try {
          payload = parseJsonBody(payload);
        } catch (err) {
          counts.rejected++;
          telemetry.received('rejected', undefined, err as IntegrationError);
          updateStatus();
          sendError(msg, err, send, done, OUTPUTS, REJECTED);
          return;
        }
      }
      const outcome = intake.process(payload, { source: 'wire' });
      tally(outcome);
      if (outcome.status === 'rejected') {
        sendError(msg, outcome.error, send, done, OUTPUTS, REJECTED);
        return;
      }
      if (outcome.status === 'accepted') {
        msg.event = outcome.event;
        msg.payload = outcome.data;
        send([msg, null]);
      }
      done();
    });

    // ---------------------------------------------------------------- http
    let handler: Handler | undefined;
    if (url && RED.settings.httpNodeRoot === false) {
      node.warn(RED._('event-trigger.errors.http-disabled'));
    } else if (url) {
      if (auth !== 'none') {
        const field = auth === 'secret' ? node.credentials?.secret : node.credentials?.webhookSecret;
        const resolved = resolveEnvRef(field);
        if (resolved.missing) {
          authProblem = `environment variable ${resolved.variable} is not set`;
        } else if (!resolved.value) {
          authProblem = auth === 'secret' ? 'no shared secret is set' : 'no webhook secret is set';
        } else if (auth === 'secret') {
          sharedSecret = resolved.value;
        } else {
          try {
            webhookKey = decodeWebhookSecret(resolved.value);
          } catch (err) {
            authProblem = toErrorInfo(err).message;
          }
        }
        if (authProblem) {
          node.error(RED._('event-trigger.errors.auth-missing', { auth, reason: authProblem }));
        }
      }

      const reply = (res: Res, status: number, body: unknown, close = false, retryAfter?: number) => {
        if (res.headersSent || res.writableEnded) return;
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Cache-Control', 'no-store');
        if (retryAfter !== undefined) res.setHeader('Retry-After', String(retryAfter));
        if (close) res.setHeader('Connection', 'close');
        res.end(JSON.stringify(body));
      };

      /** A refused request: output 2, Catch nodes, the error reply. Never the headers. */
      const reject = (res: Res, error: IntegrationError, body: Buffer | undefined) => {
        counts.rejected++;
        telemetry.received('rejected', undefined, error);
        updateStatus();
        const info = error.toJSON();
        const msg: NodeMessage & Record<string, unknown> = { payload: previewBody(body), error: info };
        node.send([null, msg]);
        node.error(error, msg);
        const status = statusFor(info.code);
        reply(res, status, { error: info }, status === 413);
      };

      const unauthorized = (reason: string) =>
        new IntegrationError('UNAUTHORIZED', 'the request is not authenticated', [{ reason }]);

      const handle = async (req: Req, res: Res): Promise<void> => {
        const headers = req.headers;

        // 1. who is calling (header checks need no body)
        if (authProblem) return reject(res, unauthorized('authentication is not available'), undefined);
        if (auth === 'secret' && !safeEqualSecret(headers[authHeader], sharedSecret!)) {
          const reason = headers[authHeader] === undefined ? `missing header ${authHeader}` : `header ${authHeader} does not match`;
          return reject(res, unauthorized(reason), undefined);
        }
        if (auth === 'webhook') {
          const pre = checkWebhookHeaders(headers);
          if (!pre.ok) return reject(res, unauthorized(pre.reason), undefined);
        }

        // 2. what is sent
        const contentType = headers['content-type'];
        if (!isAcceptableContentType(contentType)) {
          return reject(
            res,
            new IntegrationError('UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON', [
              { field: 'content-type', reason: 'expected application/json, */*+json or text/plain', value: contentType },
            ]),
            undefined,
          );
        }
        let body: Buffer;
        if (req._body || req.readableEnded) {
          // another middleware already read the stream: use what it kept
          if (Buffer.isBuffer(req.body)) body = req.body;
          else if (typeof req.body === 'string') body = Buffer.from(req.body, 'utf8');
          else if (auth === 'webhook') {
            return reject(res, unauthorized('the raw body was consumed before the node could verify it'), undefined);
          } else body = Buffer.from(JSON.stringify(req.body ?? null), 'utf8');
          if (body.length > maxBytes) return reject(res, tooLarge(maxBytes), body);
        } else {
          try {
            body = await readBody(req, maxBytes);
          } catch (err) {
            const e = err instanceof IntegrationError ? err : new IntegrationError('BODY_READ_FAILED', 'the body could not be read');
            return reject(res, e, err instanceof BodyError ? err.partial : undefined);
          }
        }

        // 3. is it really from the sender
        let fallbackId: string | undefined;
        if (auth === 'webhook') {
          const verified = verifyWebhook(webhookKey!, headers, body);
          if (!verified.ok) return reject(res, unauthorized(verified.reason), body);
          const id = headers['webhook-id'];
          fallbackId = typeof id === 'string' && id.length <= 200 ? id : undefined;
        }

        // 4. is it an event
        let payload: unknown;
        try {
          payload = parseJsonBody(body);
        } catch (err) {
          return reject(res, err as IntegrationError, body);
        }
        const durable = replyMode === 'durable';
        const outcome = intake.process(payload, { source: 'http', fallbackId, record: !durable });
        if (outcome.status === 'rejected') return reject(res, outcome.error, body);
        if (durable && outcome.status === 'accepted') {
          const sent = (r: DurableReply) => reply(res, r.status, r.body, false, r.retryAfter);
          // the same id still waiting: not emitted again, answered with the first one's outcome
          const first = waitingById.get(outcome.event.id);
          if (first) {
            counts.duplicate++;
            telemetry.received('duplicate', outcome.event);
            updateStatus();
            sent(await first.reply);
            return;
          }
          if (closed) {
            sent(durableReply(outcome.event.id, undefined, { timeoutSeconds: ackTimeout, closing: true }));
            return;
          }
          sent(await emitDurable(outcome.event, outcome.data).reply);
          return;
        }
        tally(outcome);
        if (outcome.status === 'accepted') {
          node.send([{ event: outcome.event, payload: outcome.data } as NodeMessage, null]);
        }
        reply(res, 202, { id: outcome.event.id, status: outcome.status });
      };

      handler = (req, res) => {
        handle(req, res).catch((err: unknown) => {
          // a bug of ours: answer anyway, report it, never crash the runtime
          try {
            const error = new IntegrationError('INTERNAL_ERROR', 'the event could not be handled', [
              { reason: err instanceof Error ? err.message : String(err) },
            ]);
            reject(res, error, undefined);
          } catch {
            reply(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'the event could not be handled', details: [] } });
          }
        });
      };

      const errorHandler = (err: unknown, req: Req, res: Res, next: (err?: unknown) => void) => {
        // errors raised by middleware in front of the handler (httpNodeMiddleware)
        node.warn(err instanceof Error ? err.message : String(err));
        if (res.headersSent) return next(err);
        reply(res, 500, { error: { code: 'INTERNAL_ERROR', message: 'the request could not be handled', details: [] } });
      };

      const middleware: unknown[] = [];
      const mw = (RED.settings as { httpNodeMiddleware?: unknown }).httpNodeMiddleware;
      if (typeof mw === 'function' || Array.isArray(mw)) middleware.push(mw);

      const app = RED.httpNode as unknown as Record<string, (...args: unknown[]) => unknown>;
      app[method](url, ...middleware, handler, errorHandler);
      listening = true;
    }

    updateStatus();

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (handler) removeRoute(RED.httpNode, url, method, handler);
      // every waiting request is answered 503 + Retry-After before the node is gone
      const pending = [...waiting];
      for (const entry of pending) {
        entry.closing = true;
        entry.cancel();
      }
      const finish = () => {
        intake.dedupe.clear();
        node.status({});
        done();
      };
      if (pending.length === 0) finish();
      else void Promise.all(pending.map((entry) => entry.reply)).then(() => setImmediate(finish), () => setImmediate(finish));
    });
  }

  RED.nodes.registerType<Node<EventTriggerCredentials>, EventTriggerDef, unknown, EventTriggerCredentials>('saypro-event-trigger', EventTriggerNode, {
    credentials: {
      secret: { type: 'password' },
      webhookSecret: { type: 'password' },
    },
  });
};
