/**
 * The HTTP POST node's queue choice: "this box" (the journal on disk,
 * lib/outbox/durable.ts, the default) or "shared" (NATS JetStream through a
 * saypro-nats config node, lib/shared-queue/). Both offer the same interface
 * to the node; this is the only place that knows there are two.
 */
import type { NodeAPI } from 'node-red';
// the journal (lib/outbox/) is loaded only by a node that uses it, and the NATS clients (through
// shared-queue.ts) only by a node that uses the shared queue: an in-memory flow loads neither
import type { DurableQueue, DurableQueueOptions } from '../lib/outbox/durable';
import type { SharedQueue, NatsLink } from '../lib/shared-queue/shared-queue';
import { IntegrationError } from '../lib/errors';

export type DeliveryQueue = DurableQueue | SharedQueue;

interface StatusUser {
  id: string;
  status(s: { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string }): void;
}

interface NatsNode extends NatsLink {
  replicas: number;
  problem: string | undefined;
  register(user: StatusUser): void;
  deregister(user: StatusUser): void;
}

export type QueueChoice =
  { kind: 'local' } | { kind: 'shared'; nats: NatsNode } | { kind: 'invalid'; error: IntegrationError };

/** Reads the node's `queue` ('local' | 'shared') and `nats` (config node id) settings. */
export function queueChoice(RED: NodeAPI, config: { queue?: unknown; nats?: unknown }): QueueChoice {
  if (config.queue === undefined || config.queue === '' || config.queue === 'local') return { kind: 'local' };
  if (config.queue !== 'shared') {
    return {
      kind: 'invalid',
      error: new IntegrationError('INVALID_CONFIG', 'Unknown queue', [
        { field: 'queue', reason: "expected 'local' or 'shared'", value: String(config.queue) },
      ]),
    };
  }
  const found =
    typeof config.nats === 'string' && config.nats
      ? (RED.nodes.getNode(config.nats) as unknown as NatsNode | null)
      : null;
  if (!found || typeof found.connection !== 'function') {
    return {
      kind: 'invalid',
      error: new IntegrationError('INVALID_CONFIG', 'The shared queue needs a NATS connection', [
        {
          field: 'nats',
          reason: config.nats
            ? 'the chosen NATS config node does not exist or is not deployed'
            : 'choose a NATS connection',
        },
      ]),
    };
  }
  if (found.problem)
    return {
      kind: 'invalid',
      error: new IntegrationError('INVALID_CONFIG', 'The NATS connection settings are not valid', [
        { field: 'nats', reason: found.problem },
      ]),
    };
  return { kind: 'shared', nats: found };
}

/**
 * Opens the chosen queue. Shared: resolves at once (the streams are set up
 * as soon as NATS answers; until then messages are refused with 503), the
 * node receives the connection's status through `user`.
 */
export async function openDeliveryQueue(
  choice: QueueChoice,
  opts: DurableQueueOptions,
  nodeId: string,
  user: StatusUser,
): Promise<DeliveryQueue> {
  if (choice.kind === 'invalid') throw choice.error;
  if (choice.kind === 'local') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const local = require('../lib/outbox/durable') as typeof import('../lib/outbox/durable');
    return local.DurableQueue.open(opts);
  }
  const nats = choice.nats;
  const { dir: _dir, ...rest } = opts;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const shared = require('../lib/shared-queue/shared-queue') as typeof import('../lib/shared-queue/shared-queue');
  const q = await shared.SharedQueue.open({ ...rest, link: nats, nodeId, replicas: nats.replicas });
  nats.register(user);
  const close = q.close.bind(q);
  q.close = () => close().finally(() => nats.deregister(user));
  // the connection itself is opened by the config node when first asked
  nats.connection().catch(() => undefined);
  return q;
}
