/**
 * saypro-event-trigger: receives platform events on its own HTTP endpoint
 * and/or on its input wire, checks them, filters them by type, drops
 * duplicates and emits `msg.event` + `msg.payload`. This file is the
 * Node-RED glue; the logic lives in lib/:
 *
 * - lib/event.ts: what an event is; lib/trigger/intake.ts: filter + dedupe
 * - lib/trigger/settings.ts: the configuration; lib/trigger/auth.ts: callers
 * - lib/trigger/pipeline.ts: the HTTP steps, from headers to the reply
 * - lib/trigger/routes.ts: the route, the raw-body marker, redeploy handover
 * - lib/trigger/status.ts: the status dot
 *
 * In "durable" reply mode an HTTP event carries a settlement token
 * (msg._sayproAck, see lib/acks.ts) and the reply waits until a node of the
 * flow settles it: 202 only once the event is safe.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { onInput, sendError, type Msg } from './common/glue';
import { installMonitoring, triggerTelemetry } from './common/monitoring';
import type { IntegrationError } from './lib/errors';
import type { EventMeta } from './lib/event';
import { ACK_PROPERTY } from './lib/acks';
import { triggerSettings, type TriggerConfig } from './lib/trigger/settings';
import { EventIntake } from './lib/trigger/intake';
import { parseJsonBody } from './lib/trigger/json';
import { createCallerAuth } from './lib/trigger/auth';
import { TriggerPipeline, type Tally } from './lib/trigger/pipeline';
import { claimRoute, type AppLike, type EventBus, type RouteClaim } from './lib/trigger/routes';
import { sendJson, sendNotListening } from './lib/trigger/reply';
import { emptyCounts, triggerStatus } from './lib/trigger/status';
import { replayMemoryFor } from './lib/trigger/replay';

interface EventTriggerDef extends NodeDef, TriggerConfig {}

interface EventTriggerCredentials {
  secret?: string;
  webhookSecret?: string;
}

const OUTPUTS = 2;
const REJECTED = 1;

export = function (RED: NodeAPI) {
  installMonitoring(RED);
  function EventTriggerNode(this: Node<EventTriggerCredentials>, config: EventTriggerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const settings = triggerSettings(config);
    const { url } = settings;

    const intake = new EventIntake({ filter: settings.filter, dedupeWindowSeconds: settings.dedupeWindowSeconds });
    if (intake.filter.invalid.length > 0) {
      node.warn(RED._('event-trigger.errors.invalid-filter', { entries: intake.filter.invalid.join(', ') }));
    }
    const credential = settings.auth === 'secret' ? node.credentials?.secret : node.credentials?.webhookSecret;
    const auth = createCallerAuth(settings.auth, { header: settings.authHeader, credential });

    const counts = emptyCounts();
    const telemetry = triggerTelemetry(RED, node);
    let listening = false;
    let pipeline: TriggerPipeline | undefined;
    const updateStatus = () => {
      const state = {
        counts,
        waiting: pipeline?.waitingCount ?? 0,
        authProblem: listening ? auth.problem : undefined,
        url: listening ? url : undefined,
      };
      node.status(triggerStatus(state, (key, params) => RED._(key, params as Record<string, string | number>)));
    };
    const tally = (outcome: Tally, event?: EventMeta, error?: { code?: string; message?: string }) => {
      counts[outcome]++;
      telemetry.received(outcome, event, error);
      updateStatus();
    };

    // ---------------------------------------------------------------- wire
    onInput(node, (msg: Msg, send, done) => {
      let payload: unknown = msg.payload;
      if (typeof payload === 'string' || Buffer.isBuffer(payload)) {
        try {
          payload = parseJsonBody(payload);
        } catch (err) {
          tally('rejected', undefined, err as IntegrationError);
          sendError(msg, err, send, done, OUTPUTS, REJECTED);
          return;
        }
      }
      const outcome = intake.process(payload, { source: 'wire' });
      if (outcome.status === 'rejected') tally('rejected', undefined, outcome.error);
      else tally(outcome.status, outcome.event);
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
    let claim: RouteClaim | undefined;
    if (url && RED.settings.httpNodeRoot === false) {
      node.warn(RED._('event-trigger.errors.http-disabled'));
    } else if (url) {
      if (auth.problem)
        node.error(RED._('event-trigger.errors.auth-missing', { auth: settings.auth, reason: auth.problem }));
      pipeline = new TriggerPipeline({
        auth,
        intake,
        maxBytes: settings.maxBytes,
        bodyTimeoutMs: settings.bodyTimeoutSeconds * 1000,
        replyMode: settings.replyMode,
        ackTimeoutSeconds: settings.ackTimeoutSeconds,
        replays: replayMemoryFor(`${settings.method} ${url}`),
        hooks: {
          emit: (event, data, token) => {
            const msg: Record<string, unknown> = { event, payload: data };
            if (token) msg[ACK_PROPERTY] = token;
            node.send([msg as NodeMessage, null]);
          },
          reject: (error: IntegrationError, preview: string) => {
            const msg = { payload: preview, error: error.toJSON() } as NodeMessage;
            node.send([null, msg]);
            node.error(error, msg);
          },
          count: tally,
          changed: updateStatus,
          ackTimedOut: () =>
            node.warn(RED._('event-trigger.errors.ack-timeout', { seconds: settings.ackTimeoutSeconds })),
        },
      });
      const active = pipeline;
      const mw = (RED.settings as { httpNodeMiddleware?: unknown }).httpNodeMiddleware;
      claim = claimRoute({
        app: RED.httpNode as unknown as AppLike,
        method: settings.method,
        path: url,
        nodeRoot: typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot : '/',
        middleware: typeof mw === 'function' || Array.isArray(mw) ? [mw] : [],
        owner: { handle: (req, res) => void active.handle(req, res) },
        unowned: (req, res) => sendNotListening(req, res),
        onError: (err, _req, res, next) => {
          // errors raised by middleware in front of the handler (httpNodeMiddleware)
          node.warn(err instanceof Error ? err.message : String(err));
          if (res.headersSent) return next(err);
          sendJson(res, 500, {
            error: { code: 'INTERNAL_ERROR', message: 'the request could not be handled', details: [] },
          });
        },
        events: (RED as unknown as { events?: EventBus }).events,
      });
      listening = true;
    }

    updateStatus();

    node.on('close', (removed: boolean, done: () => void) => {
      // new requests go to the next owner of the path, or get 503 + Retry-After
      claim?.release(removed === true);
      const finish = () => {
        intake.dedupe.clear();
        node.status({});
        done();
      };
      // events still waiting: a settlement that comes in time answers 202, else 503
      if (!pipeline) finish();
      else
        pipeline.close().then(
          () => setImmediate(finish),
          () => setImmediate(finish),
        );
    });
  }

  RED.nodes.registerType<Node<EventTriggerCredentials>, EventTriggerDef, unknown, EventTriggerCredentials>(
    'saypro-event-trigger',
    EventTriggerNode,
    {
      credentials: {
        secret: { type: 'password' },
        webhookSecret: { type: 'password' },
      },
    },
  );
};
