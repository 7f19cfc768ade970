/**
 * saypro-http-post: sends msg.payload through an endpoint config node with
 * retries, an idempotency key and optional Standard Webhooks signing.
 * Output 1: the parsed answer of a 2xx; output 2: the message as it was sent,
 * with msg.error.
 *
 * Durable mode (the default) writes each message to a queue on disk (or NATS)
 * and acknowledges it once it is safe; in-memory mode retries while the node
 * waits. Glue only: settings, request, status, commands, both modes' steps
 * are in lib/http-post/; the engine in lib/http/, the queue in lib/outbox/.
 */
import * as os from 'os';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onInput, sendError, withoutStack, type Done, type Msg, type Send } from './common/glue';
import { memoTranslate } from './common/status';
import { nodeEnv } from './common/node-env';
import {
  deregisterOutboxAdmin,
  installOutboxAdmin,
  registerOutboxAdmin,
  type OutboxAdminHandle,
} from './common/outbox-admin';
import { openDeliveryQueue, queueChoice, type DeliveryQueue } from './common/queue-factory';
import { installMonitoring, postTelemetry } from './common/monitoring';
import { logsDebug } from './common/log-level';
import { settle } from './lib/acks';
import { recordDelivery } from './lib/delivery-log';
import { IntegrationError } from './lib/errors';
import { msUntilAgeChanges } from './lib/outbox/durable';
import { buildSenderHeaders, countedAttempts, idempotencyKeyFor, newDeliveryState } from './lib/http/deliver';
import type { AttemptLog, DeliveryState } from './lib/http/deliver';
import type { EndpointHandle, EndpointStatus } from './lib/http/types';
import * as setup from './lib/http-post/settings';
import { orderingGroup, requestFor } from './lib/http-post/request';
import * as view from './lib/http-post/status';
import { applyOutcome, deadlineFor, deliverInMemory, notSent } from './lib/http-post/memory-delivery';
import { answerCommand, commandLog, isCommand } from './lib/http-post/commands';
import * as intake from './lib/http-post/durable-intake';
import { QueueSlot } from './lib/http-post/queue-slot';
import { StatusRefresher } from './lib/http-post/status-refresh';
import type { AdoptingQueue } from './lib/outbox/orphans';

interface HttpPostDef extends NodeDef, setup.HttpPostConfig {
  endpoint?: string;
  /** 'local' (the journal, default) or 'shared' (NATS JetStream, see common/queue-factory.ts) */
  queue?: string;
  /** the saypro-nats config node of the shared queue */
  nats?: string;
}

const OUTPUTS = 2;
const internal = (what: string, err: unknown) =>
  new IntegrationError('INTERNAL_ERROR', what, [{ reason: String((err as Error)?.message ?? err) }]);

export = function (RED: NodeAPI) {
  installOutboxAdmin(RED); // GET/POST /saypro-integration-kit/outbox/:id… on the editor's admin API
  installMonitoring(RED); // Prometheus metrics route and audit log (once per runtime)
  // status texts repeat message after message: translated once each
  const tr = memoTranslate((key, vars) => RED._(key, vars as Record<string, string | number> | undefined));

  function HttpPostNode(this: Node<setup.HttpPostCredentials>, config: HttpPostDef) {
    RED.nodes.createNode(this, config);
    const node = this;

    // ------------------------------------------------------------ settings (a bad one: every message to output 2)
    const propertyPathProblem = (p: string) => {
      try {
        RED.util.normalisePropertyExpression(p);
      } catch (err) {
        return String((err as Error)?.message ?? err);
      }
    };
    // ${NAME} in the signing secret and queue key: as Node-RED resolves it (flow, global, then process environment)
    const env = nodeEnv(RED, node);
    const parsed = setup.parseHttpPostSettings(config, { credentials: node.credentials, env, propertyPathProblem });
    const s = parsed.settings;
    const found = config.endpoint ? (RED.nodes.getNode(config.endpoint) as unknown as EndpointHandle | null) : null;
    const endpoint = found && typeof found.prepare === 'function' ? found : undefined;
    const choice = queueChoice(RED, config);
    const problems = [
      setup.endpointProblem(config.endpoint, endpoint !== undefined),
      ...parsed.problems,
      s.durable && choice.kind === 'invalid' ? setup.problemOf(choice.error) : undefined,
    ].filter((p) => p !== undefined);
    const setupError = problems[0]?.error;
    for (const w of parsed.warnings) node.warn(RED._(w.key, w.vars));
    const settings = setup.deliverySettingsOf(s);
    const telemetry = postTelemetry(RED, node, endpoint, s.signingSecret);
    const label = endpoint ? String(endpoint.label ?? '') : '';
    // the line per attempt is built only when Node-RED logs debug lines somewhere (common/log-level.ts)
    const debugLog = logsDebug(RED.settings);
    const onAttempt = (log: AttemptLog) => (debugLog && node.debug(log.text), telemetry.attempt(log));

    // ------------------------------------------------------------ status (lib/http-post/status.ts)
    const jobs = new Map<Promise<void>, DeliveryState>();
    const problem = problems[0] && { status: problems[0].status, field: problems[0].field };
    const nextAttempt = (d: DeliveryState) => countedAttempts(d) + 1;
    const board = new view.StatusBoard({ durable: s.durable, problem, maxDeadLetters: s.maxDeadLetters, nextAttempt });
    const slot = new QueueSlot<DeliveryQueue>();

    const statusNow = () => {
      const pacing = view.pacingFactsOf(
        safely(() => endpoint?.pacing?.()),
        Date.now(),
      );
      return view.renderStatus(
        view.composeStatus(board.facts({ queue: slot.queue?.brief(), inFlight: [...jobs.values()], pacing })),
        tr,
      );
    };
    const refresher = new StatusRefresher({
      compute: statusNow,
      set: (shown) => node.status(shown),
      // the age shown changes once a minute (an hour, a day): refresh then, only while something is queued
      changesIn: () => {
        const brief = slot.queue?.brief();
        return brief?.depth ? msUntilAgeChanges(brief.oldestAgeMs) + 50 : undefined;
      },
    });
    const showStatus = refresher.show;
    /** a delivery ended: its outcome stays shown until the next one (or the next message) */
    const showOutcome = (outcome: view.Outcome | undefined) => (board.ended(outcome), showStatus());
    /** the dead letters kept now (read at open and after a replay or purge: counting costs a pass over them) */
    function recountDeadLetters(): void {
      board.deadLetters = safely(() => slot.queue?.deadLetter.counts().total) ?? board.deadLetters;
      showStatus();
    }
    const user = {
      id: node.id,
      status: (e: EndpointStatus) => (board.endpointSaid(e, jobs.size === 0), showStatus()),
    };
    safely(
      () => endpoint?.register(user),
      (err) => node.warn(String((err as Error)?.message ?? err)),
    );
    if (setupError) node.warn(`${statusNow().text}: ${setupError.message}`);
    showStatus();

    // ------------------------------------------------------------ durable queue
    const open = () => slot.queue as DeliveryQueue; // the admin routes ask only once state() is 'open'
    const admin: OutboxAdminHandle = {
      state: () => intake.adminState(s.durable, slot.queue !== undefined, board.queueState, setupError !== undefined),
      stats: () => ({ ...open().stats(), deadLetters: open().deadLetter.counts().total }),
      listDeadLetters: (o) => open().listDeadLetters(o),
      deadLetter: async (id) => {
        const q = open();
        return 'deadLetterView' in q ? q.deadLetterView(id) : null;
      },
      adoptingQueue: () => (slot.queue && 'adopt' in slot.queue ? adopting(slot.queue) : undefined),
      replay: (ids) => open().replay(ids).finally(recountDeadLetters),
      purge: (ids) => open().purge(ids).finally(recountDeadLetters),
    };
    registerOutboxAdmin(node.id, admin);
    /** the local queue taking over an orphaned one (common/orphans-admin.ts): the dead letters it takes count */
    const adopting = (q: AdoptingQueue): AdoptingQueue => ({
      recordCipher: q.recordCipher,
      adopt: (item) => q.adopt(item),
      adoptDeadLetter: (entry) => q.adoptDeadLetter(entry).then(() => (board.deadLettered(), showStatus())),
    });
    if (s.durable && !setupError && endpoint) openQueue(endpoint);

    function openQueue(ep: EndpointHandle): void {
      const { dir, temporary } = intake.queueDir(
        RED.settings as unknown as Record<string, unknown>,
        node.id,
        os.tmpdir(),
      );
      if (temporary) node.warn(RED._('http-post.errors.tmpOutbox', { dir }));
      const options = {
        dir,
        endpoint: ep,
        settings,
        ...intake.queueLimits(s),
        warn: (text: string) => node.warn(text),
        onAttempt,
        onDelivered: (msg: Record<string, unknown>) => {
          telemetry.finished(msg, 'delivered');
          recordDelivery(node.id, msg);
          node.send([msg as Msg, null]);
          showOutcome({ ok: true, status: Number(msg.statusCode) });
        },
        onFailed: (msg: Record<string, unknown>, err: IntegrationError) => {
          telemetry.finished(msg, 'dead_lettered', err);
          recordDelivery(node.id, msg);
          node.send([null, msg as Msg]);
          // done() was called when the message was queued: Catch nodes learn of it here
          node.error(withoutStack(err), msg as Msg);
          board.deadLettered();
          showOutcome({ ok: false, code: err.code, message: err.message });
        },
        onChange: showStatus,
        // the node's own headers (API keys, ${VAR} values …) are never journaled: taken from the config at each attempt
        configHeaders: () => buildSenderHeaders(s.headers, undefined).headers,
      };
      slot.open(
        () => openDeliveryQueue(choice, options, node.id, user),
        (q) => {
          telemetry.queue(q);
          const lost = q.losses();
          board.lost = intake.lostRecords(lost);
          const segments = lost.missingSegments.join(', ') || '-';
          if (board.lost > 0) node.error(RED._('http-post.errors.journalLoss', { count: lost.lostRecords, segments }));
          recountDeadLetters();
        },
        (err: unknown) => {
          const failure = intake.openFailure(err, dir);
          board.queueState = failure.state;
          const key = failure.state === 'locked' ? 'outboxLocked' : 'outboxUnavailable';
          node.error(`${RED._(`http-post.status.${key}`)}: ${failure.error.details[0].reason}`);
          showStatus();
          return failure.error;
        },
      );
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

    /** msg.command: list / replay / purge the dead letters; never delivered */
    async function command(msg: Msg, send: Send, done: Done): Promise<void> {
      const notOpen = () => slot.error ?? setupError ?? intake.notOpen();
      const answer = await answerCommand(msg, { durable: s.durable, queue: () => slot.ready(), notOpen });
      if (!answer.ok) return fail(msg, answer.error, send, done);
      const r = answer.result;
      if (r.name === 'list') return ((msg.payload = r.payload), send([msg, null]), done());
      for (const line of commandLog(r)) node[line.level](RED._(line.key, line.vars));
      recountDeadLetters();
      done();
    }

    async function handleDurable(msg: Msg, send: Send, done: Done, key: string): Promise<void> {
      const built = requestFor(msg, s, endpoint, setupError);
      if (!built.ok) return fail(msg, built.error, send, done, key);
      const group = s.orderingKey !== '' ? orderingGroup(RED.util.getMessageProperty(msg, s.orderingKey)) : undefined;
      const queue = await slot.ready();
      if (!queue) return refuse(msg, slot.error ?? intake.notOpen(), send, done, key);
      const r = await intake.enqueueMessage(queue, msg, built.request, key, group);
      if (r.kind === 'invalid') return fail(msg, r.error, send, done, key);
      if (r.kind === 'refused') return refuse(msg, r.error, send, done, key);
      settle(msg, { ok: true, by: node.id });
      showStatus();
      done();
    }

    const closed = new AbortController();
    async function handleInMemory(msg: Msg, send: Send, done: Done, state: DeliveryState): Promise<void> {
      const key = state.idempotencyKey;
      msg.delivery = notSent(key, label);
      const built = requestFor(msg, s, endpoint, setupError);
      if (!built.ok) return fail(msg, built.error, send, done);
      const deadline = deadlineFor(s.deadlineS, msg.deadline);
      if (!deadline.ok) return fail(msg, deadline.error, send, done);
      const outcome = await deliverInMemory({
        ...{ endpoint: built.endpoint, request: built.request, settings, state, deadlineMs: deadline.ms },
        ...{ keyLifetimeMs: s.keyLifetimeMs, closed: closed.signal, onAttempt },
        onPhase: (d) => (board.phase(d), showStatus()),
      });
      await applyOutcome(msg, outcome, key, label);
      telemetry.finished(msg, outcome.ok ? 'delivered' : 'failed', outcome.ok ? undefined : outcome.error);
      if (!outcome.ok) return fail(msg, outcome.error, send, done);
      send([msg, null]);
      done();
    }

    onInput(node, (msg, send, done) => {
      if (isCommand(msg)) return command(msg, send, done);
      board.last = undefined;
      const key = idempotencyKeyFor(msg);
      if (s.durable) {
        showStatus();
        // a bug of ours: the message still leaves on output 2, and a waiting trigger answers 503
        const bug = (err: unknown) => refuse(msg, internal('The message could not be queued', err), send, done, key);
        return handleDurable(msg, send, done, key).catch(bug);
      }
      const state = newDeliveryState(key, s.maxAttempts);
      let outcome: view.Outcome | undefined;
      const tracked: Send = (out) => ((outcome = view.outcomeOf(out)), send(out));
      const finished = handleInMemory(msg, tracked, done, state)
        // a bug of ours: the message still leaves on output 2
        .catch((err) => fail(msg, internal('The message could not be delivered', err), tracked, done))
        .finally(() => (jobs.delete(finished), showOutcome(outcome)));
      jobs.set(finished, state);
      showStatus();
      return finished;
    });

    node.on('close', (removed: boolean, done: () => void) => {
      refresher.stop();
      const finish = () => {
        deregisterOutboxAdmin(node.id, admin);
        safely(() => endpoint?.deregister(user)); // the endpoint may already be gone
        node.status({});
        done();
      };
      if (!s.durable) {
        // cancels every retry wait and every request in flight; each message leaves on output 2 (CANCELLED) first
        closed.abort();
        return void Promise.allSettled([...jobs.keys()]).then(finish);
      }
      // stops the scheduler (attempts in flight stay queued as they were); waits for the journal to close
      const closeQueue = async () => {
        const depth = await slot.close();
        if (removed && depth > 0) node.warn(RED._('http-post.errors.removedWithQueue', { count: depth }));
      };
      closeQueue()
        .catch((err) =>
          node.warn(`${RED._('http-post.errors.closeFailed')}: ${String((err as Error)?.message ?? err)}`),
        )
        .then(finish);
    });
  }

  RED.nodes.registerType<Node<setup.HttpPostCredentials>, HttpPostDef, unknown, setup.HttpPostCredentials>(
    'saypro-http-post',
    HttpPostNode,
    { credentials: { signingSecret: { type: 'password' }, outboxKey: { type: 'password' } } },
  );
};

/** runs `fn`, turning a throw into `onError` (default: ignored) */
function safely<T>(fn: () => T, onError?: (err: unknown) => void): T | undefined {
  try {
    return fn();
  } catch (err) {
    onError?.(err);
    return undefined;
  }
}
