/**
 * Admin routes for queues left behind by deleted HTTP POST nodes
 * (lib/outbox/orphans.ts), on RED.httpAdmin behind the editor's adminAuth:
 *
 *   GET  /saypro-integration-kit/orphans                     {root, queues: [...]} (saypro-http-post.read)
 *   POST /saypro-integration-kit/orphans/:name/delete        (saypro-http-post.write)
 *   POST /saypro-integration-kit/orphans/:name/hand-over     body {to: <http post node id>}: its pending
 *                                                            messages and dead letters move to that node's
 *                                                            durable queue (saypro-http-post.write)
 *
 * A queue is orphaned when no saypro-http-post node of the flows (deployed,
 * disabled or not) owns its directory.
 */
import { toErrorInfo } from '../lib/errors';
import { outboxRoot, queueDirName } from '../lib/outbox/queue-dir';
import { outboxAdminHandle, READ_PERMISSION, WRITE_PERMISSION } from './outbox-admin';

export const ORPHANS_PATH = '/saypro-integration-kit/orphans';

/** the orphan finder, with the outbox under it: loaded when a route is first used, not at start */
function orphans(): typeof import('../lib/outbox/orphans') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../lib/outbox/orphans') as typeof import('../lib/outbox/orphans');
}

interface Req {
  params: Record<string, string>;
  body?: unknown;
}
interface Res {
  status(code: number): Res;
  json(body: unknown): void;
}
export interface OrphansApi {
  settings: Record<string, unknown>;
  nodes: { eachNode(cb: (n: { id: string; type: string }) => void): void };
  httpAdmin?: { get(path: string, ...h: unknown[]): void; post(path: string, ...h: unknown[]): void };
  auth: { needsPermission(p: string): unknown };
}

const STATUS: Record<string, number> = {
  BAD_REQUEST: 400,
  IN_USE: 409,
  EOUTBOXLOCKED: 409,
  ENOENT: 404,
  NOT_DURABLE: 409,
  OUTBOX_FULL: 507,
};

function fail(res: Res, err: unknown): void {
  const info = toErrorInfo(err, 'INTERNAL_ERROR');
  const code = (err as { code?: string })?.code ?? info.code;
  const message =
    code === 'ENOENT'
      ? 'no such queue'
      : code === 'EOUTBOXLOCKED'
        ? 'the queue is in use by another process'
        : info.message;
  res.status(STATUS[code] ?? 500).json({ error: { code, message, details: [] } });
}

export function installOrphansAdmin(api: OrphansApi): void {
  const app = api.httpAdmin;
  if (!app) return;
  const liveNames = () => {
    const names = new Set<string>();
    api.nodes.eachNode((n) => {
      if (n.type === 'saypro-http-post') names.add(queueDirName(n.id));
    });
    return names;
  };
  const root = () => outboxRoot(api.settings);
  const read = api.auth.needsPermission(READ_PERMISSION);
  const write = api.auth.needsPermission(WRITE_PERMISSION);

  app.get(ORPHANS_PATH, read, (_req: Req, res: Res) => {
    const r = root();
    if (!r) return res.json({ root: null, queues: [] });
    orphans()
      .listOrphans(r, liveNames())
      .then(
        (queues) => res.json({ root: r, queues }),
        (err) => fail(res, err),
      );
  });

  app.post(`${ORPHANS_PATH}/:name/delete`, write, (req: Req, res: Res) => {
    const r = root();
    if (!r) return fail(res, Object.assign(new Error('no queue directory'), { code: 'ENOENT' }));
    orphans()
      .deleteOrphan(r, String(req.params.name), liveNames())
      .then(
        () => res.json({ deleted: req.params.name }),
        (err) => fail(res, err),
      );
  });

  app.post(`${ORPHANS_PATH}/:name/hand-over`, write, (req: Req, res: Res) => {
    const r = root();
    const to = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>).to : undefined;
    if (!r) return fail(res, Object.assign(new Error('no queue directory'), { code: 'ENOENT' }));
    if (typeof to !== 'string')
      return fail(res, Object.assign(new Error('to must name an http post node'), { code: 'BAD_REQUEST' }));
    const handle = outboxAdminHandle(to);
    const target = handle && handle.state() === 'open' ? handle.adoptingQueue?.() : undefined;
    if (!target)
      return fail(
        res,
        Object.assign(new Error('that node is not deployed with a durable queue on this box'), {
          code: 'NOT_DURABLE',
        }),
      );
    orphans()
      .handOver(r, String(req.params.name), liveNames(), target)
      .then(
        (result) => res.json(result),
        (err) => fail(res, err),
      );
  });
}
