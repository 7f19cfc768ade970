/**
 * Admin HTTP endpoints for the HTTP POST node's durable queue, on
 * RED.httpAdmin (the editor's API, behind its adminAuth):
 *
 *   GET  /saypro-integration-kit/outbox/:id                      stats (saypro-http-post.read)
 *   GET  /saypro-integration-kit/outbox/:id/dead-letters?limit&offset
 *                                                                {counts, items} (saypro-http-post.read)
 *   GET  /saypro-integration-kit/outbox/:id/dead-letters/:entry   one entry: the request as sent (secrets
 *                                                                masked), every attempt (saypro-http-post.read)
 *   POST /saypro-integration-kit/outbox/:id/dead-letters/replay  body {ids?}: all when absent (saypro-http-post.write)
 *   POST /saypro-integration-kit/outbox/:id/dead-letters/purge   body {ids?}: all when absent (saypro-http-post.write)
 *
 * `:id` is the id of a deployed saypro-http-post node. 404: no such node is
 * deployed; 409: the node is not durable; 503: its queue could not be opened.
 */
import type { NodeAPI } from 'node-red';
import { toErrorInfo } from '../lib/errors';
import type { AdoptingQueue } from '../lib/outbox/orphans';
import type { DeliveryQueue } from './queue-factory';

export const OUTBOX_ADMIN_PATH = '/saypro-integration-kit/outbox';
export const READ_PERMISSION = 'saypro-http-post.read';
export const WRITE_PERMISSION = 'saypro-http-post.write';

/** What a node offers the admin API. */
export interface OutboxAdminHandle {
  /** 'open': queue is usable; 'opening'/'unavailable': not (yet); 'memory': the node is not durable */
  state(): 'open' | 'opening' | 'unavailable' | 'memory';
  stats(): unknown;
  listDeadLetters(options: { limit: number; offset: number }): unknown | Promise<unknown>;
  /** one dead letter opened (request as sent, attempts); undefined: no such entry; null (or absent): the queue cannot show one */
  deadLetter?(id: string): Promise<unknown | undefined | null>;
  /** the node's local durable queue, to take over an orphaned queue (common/orphans-admin.ts); undefined when it has none */
  adoptingQueue?(): AdoptingQueue | undefined;
  replay(ids: string[] | 'all'): Promise<unknown>;
  purge(ids: string[] | 'all'): Promise<number>;
}

interface Req {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body?: unknown;
}
interface Res {
  status(code: number): Res;
  json(body: unknown): void;
}
type Handler = (req: Req, res: Res) => void;
type Middleware = (req: unknown, res: unknown, next: () => void) => void;
interface AdminApp {
  get(path: string, ...handlers: Array<Middleware | Handler>): unknown;
  post(path: string, ...handlers: Array<Middleware | Handler>): unknown;
}

const KEY = Symbol.for('saypro.integration-kit.outbox-admin');
interface Shared {
  handles: Map<string, OutboxAdminHandle>;
  installed: WeakSet<object>;
}
/** shared by every copy of this module in the process (like lib/acks.ts) */
const shared: Shared =
  ((globalThis as Record<symbol, unknown>)[KEY] as Shared | undefined) ??
  (((globalThis as Record<symbol, unknown>)[KEY] = {
    handles: new Map(),
    installed: new WeakSet(),
  } as Shared) as Shared);

export function registerOutboxAdmin(id: string, handle: OutboxAdminHandle): void {
  shared.handles.set(id, handle);
}

/** The admin handle of a deployed node, if any (the editor's integration monitor reads it). */
export function outboxAdminHandle(id: string): OutboxAdminHandle | undefined {
  return shared.handles.get(id);
}

/** Removes the node's handle (only if it is still this one: a redeployed node may have registered already). */
export function deregisterOutboxAdmin(id: string, handle: OutboxAdminHandle): void {
  if (shared.handles.get(id) === handle) shared.handles.delete(id);
}

/**
 * Registers a node's handle for these routes on its delivery queue and
 * returns its removal (for the node's close). `queue()` is the open queue
 * (the routes ask only once `state()` is 'open'); after a replay or a purge
 * the node recounts its dead letters (`recount`); a dead letter its local
 * queue takes over from an orphaned one counts (`adoptedDeadLetter`).
 */
export function registerQueueAdmin(
  id: string,
  o: {
    state: OutboxAdminHandle['state'];
    queue: () => DeliveryQueue | undefined;
    recount: () => void;
    adoptedDeadLetter: () => void;
  },
): () => void {
  const open = () => o.queue() as DeliveryQueue;
  /** the local queue taking over an orphaned one (common/orphans-admin.ts) */
  const adopting = (q: AdoptingQueue): AdoptingQueue => ({
    recordCipher: q.recordCipher,
    adopt: (item) => q.adopt(item),
    adoptDeadLetter: (entry) => q.adoptDeadLetter(entry).then(o.adoptedDeadLetter),
  });
  const handle: OutboxAdminHandle = {
    state: o.state,
    stats: () => ({ ...open().stats(), deadLetters: open().deadLetter.counts().total }),
    listDeadLetters: (options) => open().listDeadLetters(options),
    deadLetter: async (entry) => {
      const q = open();
      return 'deadLetterView' in q ? q.deadLetterView(entry) : null;
    },
    adoptingQueue: () => {
      const q = o.queue();
      return q && 'adopt' in q ? adopting(q) : undefined;
    },
    replay: (ids) => open().replay(ids).finally(o.recount),
    purge: (ids) => open().purge(ids).finally(o.recount),
  };
  registerOutboxAdmin(id, handle);
  return () => deregisterOutboxAdmin(id, handle);
}

function fail(res: Res, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message, details: [] } });
}

function usable(req: Req, res: Res): OutboxAdminHandle | undefined {
  const h = shared.handles.get(String(req.params.id));
  if (!h) {
    fail(res, 404, 'NOT_FOUND', 'no deployed http post node has this id');
    return undefined;
  }
  const state = h.state();
  if (state === 'memory') {
    fail(res, 409, 'NOT_DURABLE', 'this http post node keeps no durable queue (durable mode is off)');
    return undefined;
  }
  if (state !== 'open') {
    fail(
      res,
      503,
      'OUTBOX_UNAVAILABLE',
      state === 'opening' ? 'the queue is being opened; try again' : 'the queue could not be opened',
    );
    return undefined;
  }
  return h;
}

function idsOf(body: unknown): string[] | 'all' | undefined {
  const ids = body && typeof body === 'object' ? (body as Record<string, unknown>).ids : undefined;
  if (ids === undefined || ids === null) return 'all';
  if (Array.isArray(ids) && ids.every((x) => typeof x === 'string')) return ids as string[];
  return undefined;
}

function intParam(v: unknown, fallback: number, max: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isInteger(n) && n >= 0 ? Math.min(n, max) : fallback;
}

function guarded(fn: (req: Req, res: Res) => Promise<void> | void): Handler {
  return (req, res) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch((err) => {
        const info = toErrorInfo(err, 'INTERNAL_ERROR');
        res.status(500).json({ error: { code: info.code, message: info.message, details: [] } });
      });
  };
}

/** Installs the routes once per admin app (the test helper makes a new one per flow load). */
export function installOutboxAdmin(RED: NodeAPI): void {
  const app = (RED as unknown as { httpAdmin?: AdminApp }).httpAdmin;
  if (!app || typeof app.get !== 'function' || shared.installed.has(app as object)) return;
  shared.installed.add(app as object);
  const auth = (RED as unknown as { auth: { needsPermission(p: string): Middleware } }).auth;
  const read = auth.needsPermission(READ_PERMISSION);
  const write = auth.needsPermission(WRITE_PERMISSION);

  app.get(
    `${OUTBOX_ADMIN_PATH}/:id`,
    read,
    guarded((req, res) => {
      const h = usable(req, res);
      if (h) res.json(h.stats());
    }),
  );

  app.get(
    `${OUTBOX_ADMIN_PATH}/:id/dead-letters`,
    read,
    guarded(async (req, res) => {
      const h = usable(req, res);
      if (!h) return;
      res.json(
        await h.listDeadLetters({
          limit: intParam(req.query.limit, 50, 1000),
          offset: intParam(req.query.offset, 0, Number.MAX_SAFE_INTEGER),
        }),
      );
    }),
  );

  app.get(
    `${OUTBOX_ADMIN_PATH}/:id/dead-letters/:entry`,
    read,
    guarded(async (req, res) => {
      const h = usable(req, res);
      if (!h) return;
      const view = h.deadLetter ? await h.deadLetter(String(req.params.entry)) : null;
      if (view === null) return fail(res, 501, 'NOT_AVAILABLE', 'this queue cannot show one dead letter');
      if (view === undefined) return fail(res, 404, 'NOT_FOUND', 'no dead letter has this id');
      res.json(view);
    }),
  );

  app.post(
    `${OUTBOX_ADMIN_PATH}/:id/dead-letters/replay`,
    write,
    guarded(async (req, res) => {
      const h = usable(req, res);
      if (!h) return;
      const ids = idsOf(req.body);
      if (ids === undefined)
        return fail(res, 400, 'BAD_REQUEST', 'ids must be an array of strings (or absent for all)');
      res.json(await h.replay(ids));
    }),
  );

  app.post(
    `${OUTBOX_ADMIN_PATH}/:id/dead-letters/purge`,
    write,
    guarded(async (req, res) => {
      const h = usable(req, res);
      if (!h) return;
      const ids = idsOf(req.body);
      if (ids === undefined)
        return fail(res, 400, 'BAD_REQUEST', 'ids must be an array of strings (or absent for all)');
      res.json({ purged: await h.purge(ids) });
    }),
  );
}
