/**
 * saypro-http-post: sends msg.payload through an endpoint config node with
 * retries, an idempotency key and optional Standard Webhooks signing.
 * Output 1: the parsed answer of a 2xx; output 2: the message as it was sent,
 * with msg.error.
 *
 * Durable mode (the default) writes each message to a queue on disk (or NATS)
 * and acknowledges it once it is safe; in-memory mode retries while the node
 * waits. Glue only, read top-down: settings → status → the queue (durable) →
 * on input: request → enqueue or deliver → send/done → close. The steps are
 * in lib/http-post/, the queue's Node-RED side in common/durable-queue.ts,
 * the engine in lib/http/, the queue in lib/outbox/.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { internalError, onInput, safely, sendError, type Done, type Msg, type Send } from './common/glue';
import { memoTranslate } from './common/status';
import { nodeEnv } from './common/node-env';
import { endpointNode, propertyPathChecker } from './common/lookups';
import { installOutboxAdmin, registerQueueAdmin } from './common/outbox-admin';
import { queueChoice, type DeliveryQueue } from './common/queue-factory';
import { closeNodeQueue, openNodeQueue } from './common/durable-queue';
import { runDeadLetterCommand } from './common/dead-letter-command';
import { installMonitoring, postTelemetry } from './common/monitoring';
import { logsDebug } from './common/log-level';
import { ACK_PROPERTY, settle } from './lib/acks';
import type { IntegrationError } from './lib/errors';
import { idempotencyKeyFor, newDeliveryState, type AttemptLog, type DeliveryState } from './lib/http/deliver';
import type { EndpointStatus } from './lib/http/types';
import { nodeSettings, type HttpPostCredentials, type HttpPostNodeConfig } from './lib/http-post/node-settings';
import { orderingGroup, requestFor } from './lib/http-post/request';
import type { Outcome } from './lib/http-post/status';
import { applyOutcome, deadlineFor, deliverInMemory, notSent } from './lib/http-post/memory-delivery';
import { isCommand } from './lib/http-post/commands';
import * as intake from './lib/http-post/durable-intake';
import { QueueSlot } from './lib/http-post/queue-slot';
import { liveStatus } from './lib/http-post/node-status';
import { InFlight } from './lib/http-post/in-flight';

type HttpPostDef = NodeDef & HttpPostNodeConfig;

const OUTPUTS = 2;

export = function (RED: NodeAPI) {
  installOutboxAdmin(RED); // GET/POST /saypro-integration-kit/outbox/:id… on the editor's admin API
  installMonitoring(RED); // Prometheus metrics route and audit log (once per runtime)
  // status texts repeat message after message: translated once each
  const tr = memoTranslate((key, vars) => RED._(key, vars as Record<string, string | number> | undefined));

  function HttpPostNode(this: Node<HttpPostCredentials>, config: HttpPostDef) {
    RED.nodes.createNode(this, config);
    const node = this;

    // ------------------------------------------------------------ settings (a bad one: every message to output 2)
    // ${NAME} in the signing secret and queue key: as Node-RED resolves it (flow, global, then process environment)
    const env = nodeEnv(RED, node);
    const endpoint = endpointNode(RED, config.endpoint);
    const choice = queueChoice(RED, config);
    const queueError = choice.kind === 'invalid' ? choice.error : undefined;
    const context = { credentials: node.credentials, env, propertyPathProblem: propertyPathChecker(RED) };
    const found = { endpoint: endpoint !== undefined, queueError };
    const { s, delivery: settings, warnings, setupError, problem } = nodeSettings(config, context, found);
    for (const w of warnings) node.warn(RED._(w.key, w.vars));
    const telemetry = postTelemetry(RED, node, endpoint, s.signingSecret);
    const label = endpoint ? String(endpoint.label ?? '') : '';
    // the line per attempt is built only when Node-RED logs debug lines somewhere (common/log-level.ts)
    const debugLog = logsDebug(RED.settings);
    const onAttempt = (log: AttemptLog) => (debugLog && node.debug(log.text), telemetry.attempt(log));

    // ------------------------------------------------------------ status (lib/http-post/node-status.ts)
    const inFlight = new InFlight<DeliveryState>(); // in memory: the deliveries being made
    const slot = new QueueSlot<DeliveryQueue>(); // durable: the queue
    const status = liveStatus({
      ...{ durable: s.durable, problem, maxDeadLetters: s.maxDeadLetters, translate: tr },
      set: (shown) => node.status(shown),
      ...{ queue: () => slot.queue?.brief(), inFlight: () => inFlight.states(), pacing: () => endpoint?.pacing?.() },
    });
    const { board, show: showStatus } = status;
    /** a delivery ended: its outcome stays shown until the next one (or the next message) */
    const showOutcome = (outcome: Outcome | undefined) => (board.ended(outcome), showStatus());
    /** a delivery in flight changed phase (sending, waiting for a retry …) */
    const onPhase = (d: DeliveryState) => (board.phase(d), showStatus());
    /** the dead letters kept now (read at open and after a replay or purge: counting costs a pass over them) */
    function recountDeadLetters(): void {
      board.deadLetters = safely(() => slot.queue?.deadLetter.counts().total) ?? board.deadLetters;
      showStatus();
    }
    // the endpoint (and the shared queue's connection) push their status to the node
    const user = { id: node.id, status: (e: EndpointStatus) => (board.endpointSaid(e, !inFlight.size), showStatus()) };
    const warn = (err: unknown) => node.warn(String((err as Error)?.message ?? err));
    safely(() => endpoint?.register(user), warn);
    if (setupError) node.warn(`${status.current().text}: ${setupError.message}`);
    showStatus();

    // ------------------------------------------------------------ durable queue (common/durable-queue.ts)
    const deregisterAdmin = registerQueueAdmin(node.id, {
      state: () => intake.adminState(s.durable, slot.queue !== undefined, board.queueState, setupError !== undefined),
      queue: () => slot.queue,
      recount: recountDeadLetters,
      adoptedDeadLetter: () => (board.deadLettered(), showStatus()),
    });
    if (s.durable && !setupError && endpoint) {
      openNodeQueue(RED, node, {
        ...{ slot, choice, endpoint, settings, limits: intake.queueLimits(s), headers: s.headers },
        ...{ telemetry, onAttempt, user },
        events: {
          delivered: showOutcome,
          deadLettered: (outcome) => (board.deadLettered(), showOutcome(outcome)),
          changed: showStatus,
          opened: (_q, lost) => ((board.lost = lost), recountDeadLetters()),
          failed: (state) => ((board.queueState = state), showStatus()),
        },
      });
    }

    // ------------------------------------------------------------ messages
    /** the message leaves on output 2 with msg.error, and Catch nodes learn of it */
    function fail(msg: Msg, err: unknown, send: Send, done: Done, key?: string): void {
      if (key !== undefined) msg.delivery = notSent(key, label);
      sendError(msg, err, send, done, OUTPUTS);
    }
    /** The message cannot be queued now: output 2, Catch, and a waiting trigger answers 503. */
    function refuse(msg: Msg, err: IntegrationError, send: Send, done: Done, key: string): void {
      settle(msg, intake.refusal(err, node.id));
      msg.delivery = notSent(key, label);
      telemetry.finished(msg, 'refused', err);
      sendError(msg, err, send, done, OUTPUTS);
      showOutcome({ ok: false, code: err.code, message: err.message });
    }

    /** msg.command: list / replay / purge the dead letters; never delivered (common/dead-letter-command.ts) */
    const commands = {
      ...{ durable: s.durable, queue: () => slot.ready(), notOpen: () => slot.error ?? setupError ?? intake.notOpen() },
      ...{ fail, recount: recountDeadLetters },
    };

    async function handleDurable(msg: Msg, send: Send, done: Done, key: string): Promise<void> {
      const built = requestFor(msg, s, endpoint, setupError);
      if (!built.ok) return fail(msg, built.error, send, done, key);
      const group = s.orderingKey !== '' ? orderingGroup(RED.util.getMessageProperty(msg, s.orderingKey)) : undefined;
      const queue = await slot.ready();
      if (!queue) return refuse(msg, slot.error ?? intake.notOpen(), send, done, key);
      // a message delivered at once leaves (without its reply token) before the queue answers
      const token = { [ACK_PROPERTY]: msg[ACK_PROPERTY] };
      const r = await intake.enqueueMessage(queue, msg, built.request, key, group);
      if (r.kind === 'invalid') return fail(msg, r.error, send, done, key);
      if (r.kind === 'refused') return refuse(msg, r.error, send, done, key);
      settle(token, { ok: true, by: node.id });
      showStatus();
      done();
    }

    async function handleInMemory(msg: Msg, send: Send, done: Done, state: DeliveryState): Promise<void> {
      const key = state.idempotencyKey;
      msg.delivery = notSent(key, label);
      const built = requestFor(msg, s, endpoint, setupError);
      if (!built.ok) return fail(msg, built.error, send, done);
      const deadline = deadlineFor(s.deadlineS, msg.deadline);
      if (!deadline.ok) return fail(msg, deadline.error, send, done);
      // one object, no spreads: it lives as long as the delivery (a message's objects should die young)
      const outcome = await deliverInMemory({
        endpoint: built.endpoint,
        request: built.request,
        settings,
        state,
        deadlineMs: deadline.ms,
        keyLifetimeMs: s.keyLifetimeMs,
        closed: inFlight.signal,
        onAttempt,
        onPhase,
      });
      await applyOutcome(msg, outcome, key, label);
      telemetry.finished(msg, outcome.ok ? 'delivered' : 'failed', outcome.ok ? undefined : outcome.error);
      if (!outcome.ok) return fail(msg, outcome.error, send, done);
      send([msg, null]);
      done();
    }

    onInput(node, (msg, send, done) => {
      if (isCommand(msg)) return runDeadLetterCommand(RED, node, commands, msg, send, done);
      board.last = undefined;
      const key = idempotencyKeyFor(msg);
      if (s.durable) {
        showStatus();
        // a bug of ours: the message still leaves on output 2, and a waiting trigger answers 503
        const bug = (err: unknown) =>
          refuse(msg, internalError('The message could not be queued', err), send, done, key);
        return handleDurable(msg, send, done, key).catch(bug);
      }
      const state = newDeliveryState(key, s.maxAttempts);
      const job = (noted: Send) =>
        handleInMemory(msg, noted, done, state)
          // a bug of ours: the message still leaves on output 2
          .catch((err) => fail(msg, internalError('The message could not be delivered', err), noted, done));
      const finished = inFlight.run(state, send, job, showOutcome);
      showStatus();
      return finished;
    });

    node.on('close', (removed: boolean, done: () => void) => {
      status.stop();
      // durable: the scheduler stops, the journal closes; in memory: every retry wait and request in flight is
      // cancelled, each message leaving on output 2 (CANCELLED) first
      const closing = s.durable ? closeNodeQueue(RED, node, slot, removed) : inFlight.cancel();
      void closing.then(() => {
        deregisterAdmin();
        safely(() => endpoint?.deregister(user)); // the endpoint may already be gone
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType<Node<HttpPostCredentials>, HttpPostDef, unknown, HttpPostCredentials>(
    'saypro-http-post',
    HttpPostNode,
    { credentials: { signingSecret: { type: 'password' }, outboxKey: { type: 'password' } } },
  );
};
