/**
 * undici, loaded when the first endpoint builds its connections: a Node-RED
 * whose flows send nothing (or no flow at all) never pays its start time and
 * memory (it is the largest module the package loads).
 *
 * Only the parts the package uses are loaded: Agent, ProxyAgent, the
 * connector and the request API (34 of undici's 95 modules, 1.7 of its 3.3 MB
 * of heap). Its index also loads fetch, WebSocket, EventSource, the cache
 * and the mock agents, which no flow of ours needs; that heap stays live for
 * as long as Node-RED runs, and V8 lets the heap grow to a multiple of what
 * is live before it collects, so it counts several times at peak. Should a
 * later undici move these files, the whole module is loaded instead.
 */
import type * as Undici from 'undici';

export interface UndiciParts {
  Agent: typeof Undici.Agent;
  ProxyAgent: typeof Undici.ProxyAgent;
  buildConnector: typeof Undici.buildConnector;
  /**
   * undici's `request(url, options)`: options.dispatcher is the endpoint's Agent. The options object is
   * the caller's for this request alone: it may be completed in place (origin, path, method).
   */
  request: typeof Undici.request;
  /** 'parts' or 'index' (the fallback) */
  loaded: 'parts' | 'index';
}

let parts: UndiciParts | undefined;

/** the most URLs whose parts are kept (request() below) */
const MAX_TARGETS = 256;

type ApiRequest = (this: unknown, opts: Record<string, unknown>) => Promise<Undici.Dispatcher.ResponseData>;

/* eslint-disable @typescript-eslint/no-require-imports */
function loadParts(): UndiciParts {
  const Agent = require('undici/lib/dispatcher/agent') as typeof Undici.Agent;
  const ProxyAgent = require('undici/lib/dispatcher/proxy-agent') as typeof Undici.ProxyAgent;
  const buildConnector = require('undici/lib/core/connect') as typeof Undici.buildConnector;
  const Dispatcher = require('undici/lib/dispatcher/dispatcher') as unknown as (new () => object) & {
    prototype: object;
  };
  const api = require('undici/lib/api') as { request: ApiRequest; connect: unknown };
  const { parseURL } = require('undici/lib/core/util') as { parseURL: (url: unknown) => URL };
  if (
    typeof Agent !== 'function' ||
    typeof ProxyAgent !== 'function' ||
    typeof buildConnector !== 'function' ||
    typeof Dispatcher !== 'function' ||
    typeof api.request !== 'function' ||
    typeof api.connect !== 'function' ||
    typeof parseURL !== 'function'
  ) {
    throw new Error('undici: unexpected layout');
  }
  // as undici's index does: request, stream, pipeline, upgrade and connect on every dispatcher
  // (ProxyAgent opens its tunnel with connect)
  Object.assign(Dispatcher.prototype, api);
  const apiRequest = api.request;
  // what undici's index does for `request(url, opts)` (makeDispatcher), for the options we pass
  // without a dispatcher: one Agent of default options, as undici's global one
  let fallback: Undici.Agent | undefined;
  // an endpoint sends to the same few URLs again and again: each is parsed once (a URL object per request
  // cost CPU and memory); a string seen for the first time when the table is full empties it
  const targets = new Map<string, { origin: string; path: string }>();
  const targetOf = (url: string | URL) => {
    const known = typeof url === 'string' ? targets.get(url) : undefined;
    if (known) return known;
    const u = parseURL(url);
    const target = { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
    if (typeof url === 'string') {
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(url, target);
    }
    return target;
  };
  const request = ((url: string | URL, opts: Record<string, unknown> & { dispatcher?: unknown } = {}) => {
    let target: { origin: string; path: string };
    try {
      target = targetOf(url);
    } catch (err) {
      return Promise.reject(err);
    }
    // completed in place, not copied: the caller builds `opts` for this request alone, and a copy made by
    // spreading it was one more object per request that outlived the young generation
    opts.method = opts.method || (opts.body ? 'PUT' : 'GET');
    opts.origin = target.origin;
    opts.path = target.path;
    return apiRequest.call(opts.dispatcher ?? (fallback ??= new Agent()), opts);
  }) as unknown as typeof Undici.request;
  return { Agent, ProxyAgent, buildConnector, request, loaded: 'parts' };
}

export function undici(): UndiciParts {
  if (parts) return parts;
  try {
    parts = loadParts();
  } catch {
    const m = require('undici') as typeof Undici;
    parts = {
      Agent: m.Agent,
      ProxyAgent: m.ProxyAgent,
      buildConnector: m.buildConnector,
      request: m.request,
      loaded: 'index',
    };
  }
  return parts;
}
/* eslint-enable @typescript-eslint/no-require-imports */
