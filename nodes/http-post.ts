/**
 * saypro-http-post: sends msg.payload through an endpoint config node
 * (saypro-endpoint) with retries, an idempotency key and optional Standard
 * Webhooks signing. Output 1: the parsed answer of a 2xx; output 2: the
 * message as it was sent, with msg.error.
 *
 * Durable mode (the default): each message is written to a journal on disk
 * (lib/outbox/durable.ts) and acknowledged (lib/acks.ts) once it is fsync'd;
 * a scheduler makes the attempts one at a time per item and journals each
 * result, so that pending messages survive a crash, a power cut or a
 * redeploy. In-memory mode (durable off) retries in memory as before.
 * Thin glue around lib/http/deliver.ts (engine), lib/outbox/ (queue),
 * lib/template.ts (path) and friends; admin routes in common/outbox-admin.ts.
 */
import { memoTranslate } from './common/status';
import * as os from 'os';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { onInput, sendError, withoutStack, type Done, type Msg, type Send } from './common/glue';
import {
  deregisterOutboxAdmin,
  installOutboxAdmin,
  registerOutboxAdmin,
  type OutboxAdminHandle,
} from './common/outbox-admin';
import { settle } from './lib/acks';
import { recordDelivery } from './lib/delivery-log';
import { msUntilAgeChanges } from './lib/outbox/durable';
import { openDeliveryQueue, queueChoice, type DeliveryQueue } from './common/queue-factory';
import { IntegrationError } from './lib/errors';
import type { EndpointHandle, EndpointStatus } from './lib/http/types';
import {
  buildSenderHeaders,
  countedAttempts,
  deliver,
  idempotencyKeyFor,
  newDeliveryState,
  type DeliverySettings,
  type DeliveryState,
  type HeaderEntry,
} from './lib/http/deliver';
import { parseResponseBody } from './lib/http/response';
import { installMonitoring, postTelemetry } from './common/monitoring';
import { deadlineExceeded, messageDeadlineMs } from './lib/deadline';
import { marginFor, windowPassed } from './lib/idempotency-window';
import { configuredHeaderSecrets } from './lib/http/redact';
import { endpointProblem, parseHttpPostSettings, problemOf } from './lib/http-post/settings';
import { buildRequest, orderingGroup } from './lib/http-post/request';
import {
  composeStatus,
  outcomeOf,
  renderStatus,
  type Outcome,
  type QueueFacts,
  type StatusFacts,
} from './lib/http-post/status';

interface HttpPostDef extends NodeDef {
  endpoint?: string;
  method?: string;
  path?: string;
  headers?: HeaderEntry[];
  msgHeaders?: boolean;
  maxAttempts?: number | string;
  initialDelay?: number | string;
  maxDelay?: number | string;
  maxRetryAfter?: number | string;
  idempotencyHeader?: string;
  successStatuses?: string;
  sign?: boolean;
  /** durable queue on disk; a config without the property is durable too */
  durable?: boolean | string;
  maxQueued?: number | string;
  maxQueuedMB?: number | string;
  fullPolicy?: string;
  /** a msg property path ('' = none): messages with the same value go out one at a time, in order */
  orderingKey?: string;
  /** 0 = no limit */
  maxDeadLetters?: number | string;
  /** 'local' (the journal, default) or 'shared' (NATS JetStream, see common/queue-factory.ts) */
  queue?: string;
  /** the saypro-nats config node of the shared queue */
  nats?: string;
  /** seconds a message may take in in-memory mode before it leaves on output 2 (DEADLINE_EXCEEDED); 0 / '' = none */
  deadline?: number | string;
  /** hours the vendor keeps an idempotency key (0 / '' = none): no attempt after it (IDEMPOTENCY_WINDOW_PASSED) */
  keyLifetime?: number | string;
}

interface HttpPostCredentials {
  signingSecret?: string;
  /** encrypts the durable queue on disk (lib/outbox/cipher.ts); '' = not encrypted */
  outboxKey?: string;
}

interface Job {
  state: DeliveryState;
  /** settles once the message has left the node (either output) */
  finished: Promise<void>;
}

const OUTPUTS = 2;

/** messages that steer the dead letters instead of being delivered */
const COMMANDS = ['replay', 'purge', 'list'];
/** what a trigger waiting on a refused message tells its caller */
const REFUSED_RETRY_AFTER_S = 30;

/** A directory name from a node id (ids are hex, but a subflow instance's may hold other characters). */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

export = function (RED: NodeAPI) {
  // GET/POST /saypro-integration-kit/outbox/:id… on the editor's admin API
  installOutboxAdmin(RED);
  // Prometheus metrics route and audit log (once per runtime)
  installMonitoring(RED);
  // status texts repeat message after message: translated once each
  const tr = memoTranslate((key, vars) => RED._(key, vars as Record<string, string | number> | undefined));

  function HttpPostNode(this: Node<HttpPostCredentials>, config: HttpPostDef) {
    RED.nodes.createNode(this, config);
    const node = this;

    const parsed = parseHttpPostSettings(config, {
      credentials: node.credentials,
      propertyPathProblem: (p: string) => {
        try {
          RED.util.normalisePropertyExpression(p);
          return undefined;
        } catch (err) {
          return String((err as Error)?.message ?? err);
        }
      },
    });
    const s = parsed.settings;
    const { maxAttempts, maxDelay, maxRetryAfter, template, idempotencyHeader } = s;
    const { deadlineS, keyLifetimeMs, signingSecret, durable, orderingKey, outboxKey } = s;
    const nodeHeaders = s.headers;

    // ------------------------------------------------------------ set-up
    // A bad setting does not crash the flow: every message goes to output 2.
    const found = config.endpoint ? (RED.nodes.getNode(config.endpoint) as unknown as EndpointHandle | null) : null;
    const endpoint = found && typeof found.prepare === 'function' ? found : undefined;
    const choice = queueChoice(RED, config);
    const problems = [
      endpointProblem(config.endpoint, endpoint !== undefined),
      ...parsed.problems,
      durable && choice.kind === 'invalid' ? problemOf(choice.error) : undefined,
    ].filter((p) => p !== undefined);
    const setupError: IntegrationError | undefined = problems[0]?.error;
    for (const w of parsed.warnings) node.warn(RED._(w.key, w.vars));

    const settings: DeliverySettings = {
      maxAttempts,
      initialDelay: s.initialDelay,
      maxDelay,
      maxRetryAfter,
      idempotencyHeader,
      signingKey: signingSecret,
      alsoSuccess: s.alsoSuccess,
      // the node's own header values (possibly from ${ENV}) never reach a message, log or dead letter
      secrets: configuredHeaderSecrets(nodeHeaders),
    };
    const telemetry = postTelemetry(RED, node, endpoint, signingSecret);
    const { maxQueued, maxQueuedMB, maxDeadLetters, fullPolicy } = s;

    // ------------------------------------------------------------ status
    const jobs = new Set<Job>();
    let lastWaiting: DeliveryState | undefined;
    /** what the last delivery did: shown at rest (lib/http-post/status.ts) */
    let lastOutcome: Outcome | undefined;
    let endpointStatus: NodeStatus | undefined;
    let ageTimer: NodeJS.Timeout | undefined;
    let closing = false;

    // durable mode: the queue once open ('opening' until then, 'unavailable'/'locked' when it could not be opened)
    let queue: DeliveryQueue | undefined;
    let queueState: 'opening' | 'open' | 'unavailable' | 'locked' = 'opening';
    let queueError: IntegrationError | undefined;
    /** journal records found lost when the queue was opened (lib/outbox/losses.ts) */
    let journalLoss = 0;
    /** dead letters kept: counted at open and after replay/purge, followed as items die */
    let deadLetters = 0;
    let opened: Promise<void> = Promise.resolve();

    let shown = '';
    function showStatus(): void {
      if (closing) return;
      const s = renderStatus(composeStatus(statusFacts()), tr) as NodeStatus;
      const key = JSON.stringify(s);
      if (key !== shown) {
        shown = key;
        node.status(s);
      }
      if (durable && queue) scheduleAgeRefresh();
    }

    function statusFacts(): StatusFacts {
      const problem = problems[0];
      return {
        problem: problem && { status: problem.status, field: problem.field },
        queue: durable ? queueFacts() : undefined,
        inFlight: durable ? undefined : flightFacts(),
        pacing: pacingFacts(),
        endpoint: endpointStatus as StatusFacts['endpoint'],
        last: lastOutcome,
      };
    }

    function queueFacts(): QueueFacts {
      const brief = queue ? queue.brief() : { depth: 0, oldestAgeMs: 0, sending: 0 };
      const state = queue ? 'open' : queueState;
      return { state, ...brief, deadLetters, lost: journalLoss };
    }

    function flightFacts(): StatusFacts['inFlight'] {
      const states = [...jobs].map((j) => j.state);
      if (states.length === 0 || !states.every((s) => s.phase === 'waiting')) return { count: states.length };
      const s = lastWaiting && states.includes(lastWaiting) ? lastWaiting : states[states.length - 1];
      return { count: states.length, retry: { n: countedAttempts(s) + 1, m: s.maxAttempts } };
    }

    /** the endpoint's pacing now: offline (and why), circuit open, paused */
    function pacingFacts(): StatusFacts['pacing'] {
      try {
        const p = endpoint?.pacing?.();
        if (!p) return undefined;
        const paused = p.pausedUntil !== null && p.pausedUntil > Date.now();
        return { offline: p.offline, offlineCode: p.offlineCode, circuitOpen: p.circuit === 'open', paused };
      } catch {
        return undefined;
      }
    }

    /** the age shown changes once a minute (an hour, a day): refresh then, only while something is queued */
    function scheduleAgeRefresh(): void {
      if (ageTimer) clearTimeout(ageTimer);
      ageTimer = undefined;
      const brief = queue?.brief();
      if (!brief || brief.depth === 0) return;
      ageTimer = setTimeout(
        () => {
          ageTimer = undefined;
          showStatus();
        },
        msUntilAgeChanges(brief.oldestAgeMs) + 50,
      );
      ageTimer.unref?.();
    }

    /** the dead letters kept now (read at open and after a replay or purge: counting costs a pass over them) */
    function recountDeadLetters(): void {
      try {
        deadLetters = queue ? queue.deadLetter.counts().total : 0;
      } catch {
        // a closed queue: keep the last count
      }
      showStatus();
    }

    /** a delivery ended: its outcome stays shown until the next one (or the next message) */
    function showOutcome(outcome: Outcome): void {
      lastOutcome = outcome;
      showStatus();
    }

    const user = {
      id: node.id,
      status(s: EndpointStatus) {
        endpointStatus = s && (s.text || s.fill) ? { fill: s.fill, shape: s.shape, text: s.text } : undefined;
        // in memory, a fresh endpoint status replaces a stale failure while idle
        if (!durable && endpointStatus && jobs.size === 0 && lastOutcome && !lastOutcome.ok) lastOutcome = undefined;
        showStatus();
      },
    };
    if (endpoint) {
      try {
        endpoint.register(user);
      } catch (err) {
        node.warn(String((err as Error)?.message ?? err));
      }
    }
    if (setupError) node.warn(`${renderStatus(composeStatus(statusFacts()), tr).text}: ${setupError.message}`);
    showStatus();

    const label = endpoint ? String(endpoint.label ?? '') : '';
    const emptyDelivery = (key: string) => ({
      attempts: 0,
      idempotencyKey: key,
      statusCode: null,
      durationMs: 0,
      endpoint: label,
    });

    // ------------------------------------------------------------ durable queue
    /** where the journal lives: sayproOutboxDir, else the user directory, else the temp directory (with a warning) */
    function outboxDir(): string {
      const s = RED.settings as unknown as Record<string, unknown>;
      const name = safeName(node.id);
      if (typeof s.sayproOutboxDir === 'string' && s.sayproOutboxDir.trim() !== '')
        return path.join(s.sayproOutboxDir, name);
      if (typeof s.userDir === 'string' && s.userDir.trim() !== '') return path.join(s.userDir, 'saypro-outbox', name);
      const dir = path.join(os.tmpdir(), 'saypro-outbox', name);
      node.warn(RED._('http-post.errors.tmpOutbox', { dir }));
      return dir;
    }

    const admin: OutboxAdminHandle = {
      state: () =>
        !durable ? 'memory' : queue ? 'open' : queueState === 'opening' && !setupError ? 'opening' : 'unavailable',
      stats: () => {
        const q = queue as DeliveryQueue;
        return { ...q.stats(), deadLetters: q.deadLetter.counts().total };
      },
      listDeadLetters: (o) => (queue as DeliveryQueue).listDeadLetters(o),
      deadLetter: async (id) => {
        const q = queue as DeliveryQueue;
        return 'deadLetterView' in q ? q.deadLetterView(id) : null;
      },
      adoptingQueue: () => (queue && 'adopt' in queue ? queue : undefined),
      replay: (ids) => (queue as DeliveryQueue).replay(ids).finally(recountDeadLetters),
      purge: (ids) => (queue as DeliveryQueue).purge(ids).finally(recountDeadLetters),
    };
    registerOutboxAdmin(node.id, admin);

    if (durable && !setupError && endpoint) {
      const dir = outboxDir();
      queueState = 'opening';
      showStatus();
      opened = openDeliveryQueue(
        choice,
        {
          dir,
          endpoint,
          settings,
          maxItems: maxQueued,
          maxBytes: Math.max(1, Math.floor(maxQueuedMB * 1024 * 1024)),
          fullPolicy,
          maxDeadLetters,
          keyLifetimeMs,
          warn: (text) => node.warn(text),
          onAttempt: (log) => (node.debug(log.text), telemetry.attempt(log)),
          onDelivered: (msg) => {
            telemetry.finished(msg, 'delivered');
            journalLoss = 0;
            recordDelivery(node.id, msg);
            node.send([msg as Msg, null]);
            showOutcome({ ok: true, status: Number(msg.statusCode) });
          },
          onFailed: (msg, err) => {
            telemetry.finished(msg, 'dead_lettered', err);
            recordDelivery(node.id, msg);
            node.send([null, msg as Msg]);
            // done() was called when the message was queued: Catch nodes learn of it here
            node.error(withoutStack(err), msg as Msg);
            deadLetters = Math.min(deadLetters + 1, maxDeadLetters > 0 ? maxDeadLetters : Infinity);
            showOutcome({ ok: false, code: err.code, message: err.message });
          },
          onChange: () => showStatus(),
          // the node's own headers (API keys, ${VAR} values …) are never journaled: taken from the config at each attempt
          configHeaders: () => buildSenderHeaders(nodeHeaders, undefined).headers,
          encryptionKey: outboxKey,
        },
        node.id,
        user,
      ).then(
        async (q) => {
          if (closing) {
            await q.close();
            return;
          }
          queue = q;
          telemetry.queue(q);
          queueState = 'open';
          recountDeadLetters();
          const lost = q.losses();
          journalLoss = lost.lostRecords > 0 || lost.missingSegments.length > 0 ? Math.max(1, lost.lostRecords) : 0;
          if (journalLoss > 0)
            node.error(
              RED._('http-post.errors.journalLoss', {
                count: lost.lostRecords,
                segments: lost.missingSegments.join(', ') || '-',
              }),
            );
          showStatus();
        },
        (err: unknown) => {
          // EOUTBOXLOCKED: another process holds the directory (lib/outbox/lock.ts)
          const locked = (err as { code?: string })?.code === 'EOUTBOXLOCKED';
          queueState = locked ? 'locked' : 'unavailable';
          queueError = new IntegrationError(
            locked ? 'OUTBOX_LOCKED' : 'OUTBOX_UNAVAILABLE',
            'The delivery queue could not be opened',
            [{ field: 'outbox', reason: String((err as Error)?.message ?? err), value: dir }],
          );
          const statusKey = locked ? 'http-post.status.outboxLocked' : 'http-post.status.outboxUnavailable';
          node.error(`${RED._(statusKey)}: ${queueError.details[0].reason}`);
          showStatus();
        },
      );
    }

    /** The message cannot be queued: output 2, Catch, and a waiting trigger answers 503. */
    function refuse(msg: Msg, err: IntegrationError, send: Send, done: Done, key: string): void {
      settle(msg, {
        ok: false,
        status: 503,
        retryAfterSeconds: REFUSED_RETRY_AFTER_S,
        error: err.toJSON(),
        by: node.id,
      });
      msg.delivery = emptyDelivery(key);
      telemetry.finished(msg, 'refused', err);
      sendError(msg, err, send, done, OUTPUTS);
      showOutcome({ ok: false, code: err.code, message: err.message });
    }

    /** msg.ids: absent for all, one id, or a list of ids; anything else is refused (never "all" by mistake) */
    function idsOf(msg: Msg): string[] | 'all' | undefined {
      const ids = msg.ids;
      if (ids === undefined || ids === null) return 'all';
      if (typeof ids === 'string' || typeof ids === 'number') return [String(ids)];
      if (Array.isArray(ids) && ids.every((x: unknown) => typeof x === 'string' || typeof x === 'number'))
        return ids.map(String);
      return undefined;
    }

    function intOf(v: unknown, fallback: number): number {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : fallback;
    }

    /** msg.command: replay / purge / list the dead letters; never delivered */
    async function command(msg: Msg, send: Send, done: Done): Promise<void> {
      if (!durable) {
        sendError(
          msg,
          new IntegrationError(
            'NOT_DURABLE',
            `"${msg.command}" works on the dead letters of the durable queue, which is off for this node`,
            [{ field: 'durable', reason: 'turn on the durable queue' }],
          ),
          send,
          done,
          OUTPUTS,
        );
        return;
      }
      await opened;
      if (!queue) {
        sendError(
          msg,
          queueError ?? setupError ?? new IntegrationError('OUTBOX_UNAVAILABLE', 'The delivery queue is not open'),
          send,
          done,
          OUTPUTS,
        );
        return;
      }
      if (msg.command === 'list') {
        msg.payload = await queue.listDeadLetters({
          limit: Math.min(intOf(msg.limit, 100), 10000),
          offset: intOf(msg.offset, 0),
        });
        send([msg, null]);
        done();
        return;
      }
      const ids = idsOf(msg);
      if (ids === undefined) {
        sendError(
          msg,
          new IntegrationError('INVALID_COMMAND', 'msg.ids must be an id or a list of ids (absent: all)', [
            { field: 'ids', reason: 'not an id or a list of ids' },
          ]),
          send,
          done,
          OUTPUTS,
        );
        return;
      }
      if (msg.command === 'replay') {
        const r = await queue.replay(ids);
        node.log(
          RED._('http-post.log.replayed', {
            requeued: r.requeued.length,
            duplicate: r.duplicate.length,
            full: r.full.length,
          }),
        );
        if (r.full.length > 0) node.warn(RED._('http-post.log.replayFull', { full: r.full.length }));
      } else {
        const n = await queue.purge(ids);
        node.log(RED._('http-post.log.purged', { count: n }));
      }
      recountDeadLetters();
      done();
    }

    async function handleDurable(msg: Msg, send: Send, done: Done): Promise<void> {
      const key = idempotencyKeyFor(msg);
      if (setupError || !endpoint || !template) {
        msg.delivery = emptyDelivery(key);
        sendError(
          msg,
          setupError ?? new IntegrationError('INVALID_CONFIG', 'The node is not configured'),
          send,
          done,
          OUTPUTS,
        );
        return;
      }
      const built = buildRequest(msg, { ...s, template }, endpoint.defaultMethod);
      if (!built.ok) {
        msg.delivery = emptyDelivery(key);
        sendError(msg, built.error, send, done, OUTPUTS);
        return;
      }
      const { request } = built;
      const group = orderingKey !== '' ? orderingGroup(RED.util.getMessageProperty(msg, orderingKey)) : undefined;

      await opened;
      if (!queue) {
        refuse(
          msg,
          queueError ?? new IntegrationError('OUTBOX_UNAVAILABLE', 'The delivery queue is not open'),
          send,
          done,
          key,
        );
        return;
      }
      let result;
      try {
        // an HTTP-in flow's req/res cannot be stored: kept by reference while this process lives
        const live: Record<string, unknown> = {};
        for (const k of ['req', 'res', '_msgid']) if (msg[k] !== undefined) live[k] = msg[k];
        result = await queue.enqueue({
          id: key,
          orderingKey: group,
          method: request.method ?? null,
          path: request.path,
          headers: request.headers,
          body: request.body,
          msg,
          live,
        });
      } catch (err) {
        const e = err as IntegrationError;
        if (e?.code === 'OUTBOX_BAD_ARGUMENT') {
          msg.delivery = emptyDelivery(key);
          sendError(msg, err, send, done, OUTPUTS);
          return;
        }
        refuse(
          msg,
          new IntegrationError('OUTBOX_UNAVAILABLE', 'The message could not be written to the delivery queue', [
            { field: 'outbox', reason: String(e?.message ?? err) },
          ]),
          send,
          done,
          key,
        );
        return;
      }
      if (result.status === 'full') {
        refuse(msg, result.error, send, done, key);
        return;
      }
      // on disk (fsync'd), or already there: safe
      settle(msg, { ok: true, by: node.id });
      showStatus();
      done();
    }

    // ------------------------------------------------------------ messages (in memory)
    const closeController = new AbortController();

    async function handle(msg: Msg, send: Send, done: Done, job: Job): Promise<void> {
      const key = idempotencyKeyFor(msg);
      msg.delivery = emptyDelivery(key);
      if (setupError || !endpoint || !template) {
        sendError(
          msg,
          setupError ?? new IntegrationError('INVALID_CONFIG', 'The node is not configured'),
          send,
          done,
          OUTPUTS,
        );
        return;
      }

      const built = buildRequest(msg, { ...s, template }, endpoint.defaultMethod);
      if (!built.ok) {
        sendError(msg, built.error, send, done, OUTPUTS);
        return;
      }

      const deadline = messageDeadlineMs(deadlineS, msg.deadline);
      if (deadline.problem) {
        sendError(
          msg,
          new IntegrationError('INVALID_DEADLINE', 'msg.deadline is not valid', [deadline.problem]),
          send,
          done,
          OUTPUTS,
        );
        return;
      }
      // the delivery stops at a redeploy, or when the message's deadline passes
      const stop = new AbortController();
      const onClose = () => stop.abort();
      closeController.signal.addEventListener('abort', onClose, { once: true });
      let expired = false;
      let stoppedIn: 'waiting' | 'sending' = 'sending';
      const deadlineTimer =
        deadline.ms !== undefined
          ? setTimeout(() => {
              expired = true;
              stop.abort();
            }, deadline.ms)
          : undefined;

      const state = newDeliveryState(key, maxAttempts);
      job.state = state;
      // the key's lifetime: once it has passed, the next wait for a retry ends the delivery
      let windowError: IntegrationError | null = null;
      const windowCheck = () => {
        if (windowError || keyLifetimeMs <= 0 || (state.phase !== 'waiting' && state.phase !== 'paced')) return;
        windowError = windowPassed({
          firstUseAt: countedAttempts(state) > 0 ? state.createdAt : null,
          now: Date.now(),
          lifetimeMs: keyLifetimeMs,
          header: idempotencyHeader,
        });
        if (windowError) stop.abort();
      };
      const windowDelay = keyLifetimeMs - marginFor(keyLifetimeMs);
      // beyond setTimeout's range (24.8 days) the check at each wait is enough
      const windowTimer =
        keyLifetimeMs > 0 && windowDelay < 2 ** 31 - 1 ? setTimeout(windowCheck, Math.max(0, windowDelay)) : undefined;
      windowTimer?.unref?.();
      let outcome = await deliver(endpoint, built.request, state, settings, {
        signal: stop.signal,
        onAttempt: (log) => (node.debug(log.text), telemetry.attempt(log)),
        onPhase: (s) => {
          if (s.phase === 'waiting') lastWaiting = s;
          windowCheck();
          showStatus();
        },
        cancelMessage: (phase) => {
          stoppedIn = phase;
          return phase === 'waiting'
            ? 'the flow was redeployed while this message was waiting to be retried'
            : 'the flow was redeployed while this message was being sent';
        },
      });
      if (deadlineTimer) clearTimeout(deadlineTimer);
      if (windowTimer) clearTimeout(windowTimer);
      closeController.signal.removeEventListener('abort', onClose);
      if (!outcome.ok && !closeController.signal.aborted && outcome.error.code === 'CANCELLED') {
        if (windowError) outcome = { ...outcome, error: windowError };
        else if (expired && deadline.ms !== undefined)
          outcome = {
            ...outcome,
            error: deadlineExceeded(deadline.ms, stoppedIn, countedAttempts(state), state.lastErrorCode ?? undefined),
          };
      }

      msg.delivery = {
        attempts: state.attempts,
        idempotencyKey: key,
        statusCode: outcome.statusCode ?? null,
        durationMs: outcome.durationMs,
        endpoint: label,
      };
      if (outcome.ok) {
        msg.statusCode = outcome.statusCode;
        msg.responseHeaders = outcome.headers;
        msg.payload = outcome.body.value;
        telemetry.finished(msg, 'delivered');
        send([msg, null]);
        done();
        return;
      }
      if (outcome.statusCode !== undefined) {
        msg.statusCode = outcome.statusCode;
        msg.responseHeaders = outcome.headers;
        // the third party's answer, parsed, so that a flow can show its reason (e.g. Stripe's decline message)
        msg.responseBody = (await parseResponseBody(outcome.raw, outcome.headers?.['content-type'])).value;
      }
      // msg.payload stays the body that was sent, so the message can be replayed
      telemetry.finished(msg, 'failed', outcome.error);
      sendError(msg, outcome.error, send, done, OUTPUTS);
    }

    onInput(node, (msg, send, done) => {
      if (typeof msg.command === 'string' && COMMANDS.includes(msg.command)) {
        return command(msg, send, done);
      }
      lastOutcome = undefined;

      if (durable) {
        showStatus();
        return handleDurable(msg, send, done).catch((err) => {
          // a bug of ours: the message still leaves on output 2, and a waiting trigger answers 503
          refuse(
            msg,
            new IntegrationError('INTERNAL_ERROR', 'The message could not be queued', [
              { reason: String((err as Error)?.message ?? err) },
            ]),
            send,
            done,
            idempotencyKeyFor(msg),
          );
        });
      }

      const job: Job = { state: newDeliveryState('', maxAttempts), finished: Promise.resolve() };
      jobs.add(job);
      showStatus();

      // what left the node, for the status once it is done
      let result: Outcome | undefined;
      const tracked: Send = (out) => {
        result = outcomeOf(out);
        send(out);
      };

      const run = async (): Promise<void> => {
        try {
          await handle(msg, tracked, done, job);
        } catch (err) {
          // a bug of ours: the message still leaves on output 2
          try {
            sendError(
              msg,
              new IntegrationError('INTERNAL_ERROR', 'The message could not be delivered', [
                { reason: String((err as Error)?.message ?? err) },
              ]),
              tracked,
              done,
              OUTPUTS,
            );
          } catch {
            done(err instanceof Error ? err : new Error(String(err)));
          }
        } finally {
          jobs.delete(job);
          if (result) lastOutcome = result;
          showStatus();
        }
      };
      job.finished = run();
      return job.finished;
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      if (ageTimer) clearTimeout(ageTimer);
      ageTimer = undefined;
      const finish = () => {
        deregisterOutboxAdmin(node.id, admin);
        if (endpoint) {
          try {
            endpoint.deregister(user);
          } catch {
            // the endpoint may already be gone
          }
        }
        node.status({});
        done();
      };
      if (durable) {
        // stops the scheduler and aborts the attempts in flight (not counted:
        // those items stay queued on disk as they were); waits for the journal
        // to close so that a redeployed node can open it again
        (async () => {
          await opened;
          const q = queue;
          queue = undefined;
          if (!q) return;
          const depth = q.stats().depth;
          await q.close();
          if (removed && depth > 0) node.warn(RED._('http-post.errors.removedWithQueue', { count: depth }));
        })()
          .catch((err) =>
            node.warn(`${RED._('http-post.errors.closeFailed')}: ${String((err as Error)?.message ?? err)}`),
          )
          .then(finish);
        return;
      }
      // cancels every retry wait and aborts every request in flight; each
      // message still here leaves on output 2 (CANCELLED) before we are done
      closeController.abort();
      const pending = [...jobs].map((j) => j.finished);
      Promise.allSettled(pending).then(finish);
    });
  }

  RED.nodes.registerType<Node<HttpPostCredentials>, HttpPostDef, unknown, HttpPostCredentials>(
    'saypro-http-post',
    HttpPostNode,
    {
      credentials: { signingSecret: { type: 'password' }, outboxKey: { type: 'password' } },
    },
  );
};
