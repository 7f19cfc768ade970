/**
 * A node's durable delivery queue wired to Node-RED. It opens in the node's
 * queue directory (with a warning when that is the temporary directory,
 * which may not survive a reboot); a delivered message leaves on output 1;
 * a dead-lettered one leaves on output 2 with an error that reaches Catch
 * nodes (its done() was called when it was queued); journal records found
 * lost and an opening that failed are logged. At close it waits for the
 * journal and warns when a removed node leaves messages behind. What the
 * node shows of all this stays with the node (`events`).
 */
import * as os from 'os';
import type { Node, NodeAPI } from 'node-red';
import { withoutStack, type Msg } from './glue';
import type { PostTelemetry } from './monitoring';
import { openDeliveryQueue, type DeliveryQueue, type QueueChoice } from './queue-factory';
import { recordDelivery } from '../lib/delivery-log';
import type { IntegrationError } from '../lib/errors';
import type { AttemptLog, DeliverySettings } from '../lib/http/deliver';
import { buildSenderHeaders, type HeaderEntry } from '../lib/http/sender';
import type { EndpointHandle, EndpointStatus } from '../lib/http/types';
import * as intake from '../lib/http-post/durable-intake';
import type { QueueSlot } from '../lib/http-post/queue-slot';
import type { Outcome } from '../lib/http-post/status';

export interface QueueEvents {
  /** a message was delivered (and sent on output 1) */
  delivered(outcome: Outcome): void;
  /** a message was dead-lettered (and sent on output 2) */
  deadLettered(outcome: Outcome): void;
  /** the queue's content or state changed */
  changed(): void;
  /** the queue is open; `lost`: journal records found lost (0: none) */
  opened(queue: DeliveryQueue, lost: number): void;
  /** the queue could not be opened */
  failed(state: 'locked' | 'unavailable'): void;
}

export interface NodeQueue {
  /** where the queue goes once open */
  slot: QueueSlot<DeliveryQueue>;
  choice: QueueChoice;
  endpoint: EndpointHandle;
  settings: DeliverySettings;
  limits: ReturnType<typeof intake.queueLimits>;
  /** the node's own headers (API keys, ${VAR} values …): never journaled, taken from the config at each attempt */
  headers: HeaderEntry[];
  telemetry: PostTelemetry;
  onAttempt: (log: AttemptLog) => void;
  /** receives the shared queue's connection status */
  user: { id: string; status(s: EndpointStatus): void };
  events: QueueEvents;
}

/** Opens the node's queue into `o.slot`; the outcome arrives through `o.events`. */
export function openNodeQueue(RED: NodeAPI, node: Node, o: NodeQueue): void {
  const { telemetry, events } = o;
  const { dir, temporary } = intake.queueDir(RED.settings as unknown as Record<string, unknown>, node.id, os.tmpdir());
  if (temporary) node.warn(RED._('http-post.errors.tmpOutbox', { dir }));
  const options = {
    dir,
    endpoint: o.endpoint,
    settings: o.settings,
    ...o.limits,
    warn: (text: string) => node.warn(text),
    onAttempt: o.onAttempt,
    onDelivered: (msg: Record<string, unknown>) => {
      telemetry.finished(msg, 'delivered');
      recordDelivery(node.id, msg);
      node.send([msg as Msg, null]);
      events.delivered({ ok: true, status: Number(msg.statusCode) });
    },
    onFailed: (msg: Record<string, unknown>, err: IntegrationError) => {
      telemetry.finished(msg, 'dead_lettered', err);
      recordDelivery(node.id, msg);
      node.send([null, msg as Msg]);
      // done() was called when the message was queued: Catch nodes learn of it here
      node.error(withoutStack(err), msg as Msg);
      events.deadLettered({ ok: false, code: err.code, message: err.message });
    },
    onChange: () => events.changed(),
    configHeaders: () => buildSenderHeaders(o.headers, undefined).headers,
  };
  o.slot.open(
    () => openDeliveryQueue(o.choice, options, node.id, o.user),
    (q) => {
      telemetry.queue(q);
      const losses = q.losses();
      const lost = intake.lostRecords(losses);
      const segments = losses.missingSegments.join(', ') || '-';
      if (lost > 0) node.error(RED._('http-post.errors.journalLoss', { count: losses.lostRecords, segments }));
      events.opened(q, lost);
    },
    (err: unknown) => {
      const failure = intake.openFailure(err, dir);
      const key = failure.state === 'locked' ? 'outboxLocked' : 'outboxUnavailable';
      node.error(`${RED._(`http-post.status.${key}`)}: ${failure.error.details[0].reason}`);
      events.failed(failure.state);
      return failure.error;
    },
  );
}

/**
 * Closes the node's queue: stops the scheduler (attempts in flight stay
 * queued as they were) and waits for the journal to close. A node removed
 * with messages still queued, or a close that failed, is a warning; never rejects.
 */
export function closeNodeQueue(
  RED: NodeAPI,
  node: Node,
  slot: QueueSlot<DeliveryQueue>,
  removed: boolean,
): Promise<void> {
  const close = async () => {
    const depth = await slot.close();
    if (removed && depth > 0) node.warn(RED._('http-post.errors.removedWithQueue', { count: depth }));
  };
  return close().catch((err: unknown) =>
    node.warn(`${RED._('http-post.errors.closeFailed')}: ${String((err as Error)?.message ?? err)}`),
  );
}
