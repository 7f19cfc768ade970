/**
 * The integration monitor: a Node-RED plugin (package.json node-red.plugins)
 * whose editor part (monitor.html) adds a sidebar tab. The runtime part serves
 *
 *   GET /saypro-integration-kit/monitor   {at, nodes: [...]} (saypro-integration-kit.read)
 *
 * and publishes the same picture over RED.comms on the topic
 * `saypro-integration-kit/monitor` when it changes (checked once a second).
 * Dead letters are listed, replayed and purged through the outbox routes
 * (common/outbox-admin.ts); queues left by deleted nodes through
 * common/orphans-admin.ts.
 */
import { deprecationStates } from './common/monitoring';
import type { NodeAPI } from 'node-red';
import { outboxAdminHandle } from './common/outbox-admin';
import { installOrphansAdmin, type OrphansApi } from './common/orphans-admin';
import { READ_PERMISSION } from './common/editor-admin';
import { deliveries } from './lib/delivery-log';
import { monitorNode, type MonitorSnapshot } from './lib/monitor';

const MONITOR_PATH = '/saypro-integration-kit/monitor';
const MONITOR_TOPIC = 'saypro-integration-kit/monitor';
const TICK_MS = 1000;

interface FlowNode {
  id: string;
  type: string;
  name?: string;
  z?: string;
  endpoint?: string;
}

export = function (RED: NodeAPI) {
  const api = RED as unknown as {
    plugins: { registerPlugin(id: string, def: Record<string, unknown>): void };
    nodes: { eachNode(cb: (n: FlowNode) => void): void; getNode(id: string): unknown };
    comms: { publish(topic: string, data: unknown, retain?: boolean): void };
    httpAdmin?: { get(path: string, ...h: unknown[]): void };
    auth: { needsPermission(p: string): unknown };
  };

  function snapshot(): MonitorSnapshot {
    const now = Date.now();
    const nodes: MonitorSnapshot['nodes'] = [];
    const deprecated = new Map(
      deprecationStates().map(({ endpointId, deprecation, sunset, link, warning }) => [
        endpointId,
        { deprecation, sunset, link, warning },
      ]),
    );
    api.nodes.eachNode((n) => {
      if (n.type !== 'saypro-http-post') return;
      const handle = outboxAdminHandle(n.id);
      const state = handle ? handle.state() : 'none';
      let stats: Record<string, unknown> | null = null;
      if (handle && state === 'open') {
        try {
          stats = handle.stats() as Record<string, unknown>;
        } catch {
          stats = null;
        }
      }
      const ep = n.endpoint
        ? (api.nodes.getNode(n.endpoint) as { id: string; name?: string; label?: unknown } | null)
        : null;
      nodes.push(
        monitorNode(
          {
            id: n.id,
            name: n.name ?? '',
            z: n.z ?? '',
            endpoint: ep
              ? { id: ep.id, name: ep.name ?? '', label: typeof ep.label === 'string' ? ep.label : '' }
              : null,
            state,
            stats,
            deliveries: deliveries(n.id),
            deprecation: ep ? (deprecated.get(ep.id) ?? null) : null,
          },
          now,
        ),
      );
    });
    return { at: now, nodes };
  }

  api.plugins.registerPlugin('saypro-monitor', { type: 'saypro-integration-kit-monitor' });
  installOrphansAdmin(RED as unknown as OrphansApi);

  const app = api.httpAdmin;
  if (app) {
    app.get(
      MONITOR_PATH,
      api.auth.needsPermission(READ_PERMISSION),
      (_req: unknown, res: { json(b: unknown): void; status(c: number): { json(b: unknown): void } }) => {
        try {
          res.json(snapshot());
        } catch (err) {
          res
            .status(500)
            .json({ error: { code: 'INTERNAL_ERROR', message: String((err as Error)?.message ?? err), details: [] } });
        }
      },
    );
  }

  // live updates: publish when the picture (without its time stamp and ages) changes
  let last = '';
  const timer = setInterval(() => {
    let snap: MonitorSnapshot;
    try {
      snap = snapshot();
    } catch {
      return;
    }
    const key = JSON.stringify(snap.nodes.map((x) => ({ ...x, oldestAgeMs: Math.floor(x.oldestAgeMs / 60000) })));
    if (key === last) return;
    last = key;
    api.comms.publish(MONITOR_TOPIC, snap, false);
  }, TICK_MS);
  timer.unref?.();
};
