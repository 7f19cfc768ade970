/**
 * The trigger's HTTP route, as a slot that outlives the node that owns it.
 *
 * 1. Exact bytes: with Node-RED's default settings (httpAdminRoot and
 *    httpNodeRoot both "/") the editor's JSON body parser runs before any
 *    node route and consumes the body. Like Node-RED's own `http in` node
 *    (`rawBodyCapture` in 21-httpin.js) we put a route at the top of the
 *    root app's stack for our method and full path; it reads nothing and only
 *    marks the request as parsed (`req._body`, which every body-parser
 *    middleware honours), so the stream reaches our handler untouched, after
 *    httpNodeAuth and httpNodeMiddleware have run as usual.
 * 2. Redeploys: a node that closes without being removed (a redeploy, a
 *    restart) leaves its route in place; while no node owns the path it
 *    answers 503 + Retry-After (JSON), never a 404, and the next node that
 *    claims the same method and path takes it over. The slot goes when its
 *    node is deleted, when the flows start again without a claim for it, or
 *    after a grace period — whichever comes first. Layers never stack up.
 *
 * Express 4 (`app._router`) and 5 (`app.router`) are both handled. No
 * Node-RED import: the caller passes the apps, settings and event bus.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

type Next = (err?: unknown) => void;
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type ErrorHandler = (err: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => void;

interface Layer {
  name?: string;
  handle?: unknown;
  route?: { path?: unknown; stack?: Array<{ handle?: unknown }> };
}

/** The parts of an Express app we use. */
export interface AppLike {
  parent?: AppLike;
  mountpath?: unknown;
  _router?: { stack?: Layer[] };
  router?: { stack?: Layer[] };
  [method: string]: unknown;
}

export interface EventBus {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Marks a request whose body the trigger reads itself. */
export const RAW_BODY_PENDING = Symbol.for('saypro.integration-kit.raw-body-pending');
/** default time a route stays without an owner before it goes */
export const DEFAULT_HANDOVER_GRACE_MS = 30000;

export interface RouteOwner {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

export interface ClaimOptions {
  /** RED.httpNode */
  app: AppLike;
  method: 'post' | 'put';
  /** the node's path, starting with "/" */
  path: string;
  /** RED.settings.httpNodeRoot (used when the app does not say where it is mounted) */
  nodeRoot?: string;
  /** httpNodeMiddleware, run in front of the handler as for Node-RED's http in node */
  middleware?: unknown[];
  owner: RouteOwner;
  /** answers a request while no node owns the path */
  unowned: (req: IncomingMessage, res: ServerResponse) => void;
  /** answers an error raised by the middleware */
  onError: ErrorHandler;
  /** RED.events: the slot of a redeployed node goes when flows start without it */
  events?: EventBus;
  graceMs?: number;
}

export interface RouteClaim {
  /** the path as the root app sees it (httpNodeRoot included) */
  readonly fullPath: string;
  /** Gives the path up: `removed` (the node was deleted) removes the route at once. */
  release(removed: boolean): void;
}

interface Slot {
  key: string;
  app: AppLike;
  root: AppLike;
  fullPath: string;
  owners: RouteOwner[];
  handlers: { mark: RouteHandler; dispatch: RouteHandler };
  timer?: NodeJS.Timeout;
  events?: EventBus;
  onStarted?: () => void;
}

const REGISTRY = Symbol.for('saypro.integration-kit.trigger-routes');
const slots: WeakMap<AppLike, Map<string, Slot>> = ((globalThis as Record<symbol, unknown>)[REGISTRY] as
  WeakMap<AppLike, Map<string, Slot>> | undefined) ??
(((globalThis as Record<symbol, unknown>)[REGISTRY] = new WeakMap<AppLike, Map<string, Slot>>()) as WeakMap<
  AppLike,
  Map<string, Slot>
>);

function stackOf(app: AppLike): Layer[] | undefined {
  const stack = app._router?.stack ?? app.router?.stack;
  return Array.isArray(stack) ? stack : undefined;
}

/** The top-level app (Node-RED's own), as `rawBodyCapture` finds it. */
export function rootOf(app: AppLike): AppLike {
  let a = app;
  for (let i = 0; i < 32 && a.parent && a.parent !== a; i++) a = a.parent;
  return a;
}

/** `root` + `path` with exactly one slash between them. */
export function joinPath(root: string | undefined, path: string): string {
  const base = typeof root === 'string' ? root.replace(/\/+$/, '') : '';
  return base + (path.startsWith('/') ? path : '/' + path);
}

function layerHolding(stack: Layer[], handler: unknown): number {
  for (let i = stack.length - 1; i >= 0; i--) {
    const r = stack[i]?.route;
    if (r && Array.isArray(r.stack) && r.stack.some((l) => l && l.handle === handler)) return i;
  }
  return -1;
}

/** Removes every route layer that holds `handler`. */
function removeLayers(app: AppLike, handler: unknown): void {
  const stack = stackOf(app);
  if (!stack) return;
  for (let i = layerHolding(stack, handler); i >= 0; i = layerHolding(stack, handler)) stack.splice(i, 1);
}

/** Moves the layer holding `handler` in front of everything but Express's own set-up layers. */
function moveToTop(app: AppLike, handler: unknown): void {
  const stack = stackOf(app);
  if (!stack) return;
  const i = layerHolding(stack, handler);
  if (i < 0) return;
  const [layer] = stack.splice(i, 1);
  let at = 0;
  while (at < stack.length && ['query', 'expressInit', 'rawBodyCapture'].includes(String(stack[at]?.name))) at++;
  stack.splice(at, 0, layer);
}

function drop(slot: Slot): void {
  if (slot.timer) clearTimeout(slot.timer);
  slot.timer = undefined;
  if (slot.events && slot.onStarted) slot.events.removeListener('flows:started', slot.onStarted);
  slot.onStarted = undefined;
  removeLayers(slot.app, slot.handlers.dispatch);
  if (slot.root !== slot.app) removeLayers(slot.root, slot.handlers.mark);
  else removeLayers(slot.app, slot.handlers.mark);
  const map = slots.get(slot.app);
  if (map?.get(slot.key) === slot) map.delete(slot.key);
}

function createSlot(options: ClaimOptions, key: string): Slot {
  const { app, method } = options;
  const root = rootOf(app);
  const mounted = typeof app.mountpath === 'string' ? app.mountpath : options.nodeRoot;
  const fullPath = root === app ? options.path : joinPath(mounted, options.path);
  const slot: Slot = { key, app, root, fullPath, owners: [], handlers: undefined as never };
  const mark: RouteHandler = (req, _res, next) => {
    const r = req as IncomingMessage & { _body?: boolean; [RAW_BODY_PENDING]?: boolean };
    if (!r._body && !r.readableEnded) {
      r._body = true; // body parsers skip it: the trigger reads the raw stream
      r[RAW_BODY_PENDING] = true;
    }
    next();
  };
  const dispatch: RouteHandler = (req, res) => {
    const owner = slot.owners[0];
    if (owner) owner.handle(req, res);
    else options.unowned(req, res);
  };
  slot.handlers = { mark, dispatch };
  const add = (target: AppLike, path: string, ...handlers: unknown[]) =>
    (target[method] as (...args: unknown[]) => unknown).call(target, path, ...handlers);
  add(app, options.path, ...(options.middleware ?? []), dispatch, options.onError);
  add(root, fullPath, mark);
  moveToTop(root, mark);
  return slot;
}

/**
 * Claims `method path` on the app for `owner`: creates the route (and the
 * raw-body marker) the first time, takes over a route left by a redeployed
 * node otherwise. The first owner of a path answers; later ones wait their
 * turn, as with Express's first-match routing.
 */
export function claimRoute(options: ClaimOptions): RouteClaim {
  let map = slots.get(options.app);
  if (!map) slots.set(options.app, (map = new Map()));
  const key = `${options.method} ${options.path.toLowerCase().replace(/\/+$/, '') || '/'}`;
  let slot = map.get(key);
  if (!slot) map.set(key, (slot = createSlot(options, key)));
  if (slot.timer) clearTimeout(slot.timer);
  slot.timer = undefined;
  slot.owners.push(options.owner);
  const claimed = slot;
  let released = false;
  return {
    fullPath: claimed.fullPath,
    release(removed: boolean) {
      if (released) return;
      released = true;
      claimed.owners = claimed.owners.filter((o) => o !== options.owner);
      if (claimed.owners.length > 0) return;
      if (removed) return drop(claimed);
      // a redeploy: keep answering 503 until a new owner claims it or it is clear none will
      if (claimed.timer) clearTimeout(claimed.timer);
      claimed.timer = setTimeout(() => {
        if (claimed.owners.length === 0) drop(claimed);
      }, options.graceMs ?? DEFAULT_HANDOVER_GRACE_MS);
      claimed.timer.unref?.();
      if (options.events && !claimed.onStarted) {
        claimed.events = options.events;
        claimed.onStarted = () => {
          if (claimed.owners.length === 0) drop(claimed);
        };
        options.events.on('flows:started', claimed.onStarted);
      }
    },
  };
}

/** How many route layers of ours an app holds (for tests: they must not stack up). */
export function countLayers(app: AppLike, path: string): number {
  const stack = stackOf(app) ?? [];
  return stack.filter((l) => l?.route && String(l.route.path).toLowerCase() === path.toLowerCase()).length;
}
