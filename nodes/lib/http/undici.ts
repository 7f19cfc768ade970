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
  /** undici's `request(url, options)`: options.dispatcher is the endpoint's Agent */
  request: typeof Undici.request;
  /** 'parts' or 'index' (the fallback) */
  loaded: 'parts' | 'index';
}

let parts: UndiciParts | undefined;

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
  const request = ((url: string | URL, opts: Record<string, unknown> & { dispatcher?: unknown } = {}) => {
    let u: URL;
    try {
      u = parseURL(url);
    } catch (err) {
      return Promise.reject(err);
    }
    return apiRequest.call(opts.dispatcher ?? (fallback ??= new Agent()), {
      ...opts,
      origin: u.origin,
      path: u.search ? `${u.pathname}${u.search}` : u.pathname,
      method: opts.method || (opts.body ? 'PUT' : 'GET'),
    });
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
