/**
 * Admin HTTP endpoints for the edit dialogs, on RED.httpAdmin (the editor's
 * API, behind its adminAuth):
 *
 *   POST /saypro-integration-kit/preview          body {type, id?, config, credentials?, endpoint?, msg}
 *                                                 → lib/preview.ts result (saypro-integration-kit.read)
 *   GET  /saypro-integration-kit/last-input/:id   → {msg} the node's last input, secrets masked; null when none
 *                                                 (saypro-integration-kit.read)
 *   POST /saypro-integration-kit/generate-key     → {key} 32 random bytes as 64 hex characters
 *                                                 (saypro-integration-kit.write)
 *   POST /saypro-integration-kit/test-connection  body {id?, config, credentials?, path?} → lib/connection-test.ts result
 *                                                 (saypro-integration-kit.write)
 *   GET  /saypro-integration-kit/env?names=A,B    → {set: {A: true, B: false}}: whether the nodes would find each
 *                                                 environment variable (names only, never a value;
 *                                                 saypro-integration-kit.read)
 *
 * Credentials the dialog shows as stored (`__PWRD__`, or absent) are read from
 * the deployed node's stored credentials; nothing secret is ever answered.
 */
import * as crypto from 'crypto';
import type { NodeAPI } from 'node-red';
import { toErrorInfo } from '../lib/errors';
import { preview, type PreviewInput } from '../lib/preview';
import { lastInput } from '../lib/last-input';
import { testConnection } from '../lib/connection-test';
import { resolveEnvRef } from '../lib/env';
import { nodeEnv } from './node-env';

export const ADMIN_ROOT = '/saypro-integration-kit';
export const READ_PERMISSION = 'saypro-integration-kit.read';
export const WRITE_PERMISSION = 'saypro-integration-kit.write';
/** what the editor sends for a password credential it holds but does not show */
const STORED = '__PWRD__';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

interface Req {
  params: Record<string, string>;
  query?: Record<string, unknown>;
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

const KEY = Symbol.for('saypro.integration-kit.editor-admin');
const installed: WeakSet<object> =
  ((globalThis as Record<symbol, unknown>)[KEY] as WeakSet<object> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[KEY] = new WeakSet<object>() as WeakSet<object>);

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

function badRequest(res: Res, message: string): void {
  res.status(400).json({ error: { code: 'BAD_REQUEST', message, details: [] } });
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * The credentials to use: what the dialog sent, where it sent a value; the
 * stored credentials of node `id` where it holds one it does not show.
 */
export function mergeCredentials(
  sent: Record<string, unknown> | undefined,
  stored: Record<string, unknown> | undefined,
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(stored ?? {})) if (typeof v === 'string') out[k] = v;
  for (const [k, v] of Object.entries(sent ?? {})) {
    if (k.startsWith('has_')) continue;
    if (typeof v === 'string' && v !== STORED) out[k] = v;
  }
  return out;
}

/** Installs the routes once per admin app (the test helper makes a new one per flow load). */
export function installEditorAdmin(RED: NodeAPI): void {
  const app = (RED as unknown as { httpAdmin?: AdminApp }).httpAdmin;
  if (!app || typeof app.get !== 'function' || installed.has(app as object)) return;
  installed.add(app as object);
  const auth = (RED as unknown as { auth: { needsPermission(p: string): Middleware } }).auth;
  const read = auth.needsPermission(READ_PERMISSION);
  const write = auth.needsPermission(WRITE_PERMISSION);
  const stored = (id: unknown): Record<string, unknown> | undefined => {
    if (typeof id !== 'string' || id === '') return undefined;
    try {
      return (
        RED.nodes as unknown as { getCredentials(id: string): Record<string, unknown> | undefined }
      ).getCredentials(id);
    } catch {
      return undefined;
    }
  };
  // JSONata, env and AAD as the nodes evaluate them; a stand-in node for the calls that want one
  const util = RED.util as unknown as {
    prepareJSONataExpression(expr: string, node: unknown): unknown;
    evaluateJSONataExpression(expr: unknown, msg: unknown, cb: (err: unknown, value: unknown) => void): void;
    evaluateNodeProperty(value: string, type: string, node: unknown, msg: unknown): unknown;
    getSetting(node: unknown, name: string): unknown;
  };
  const standIn = {
    id: 'saypro-preview',
    z: '',
    context: () => ({ flow: { get: () => undefined }, global: { get: () => undefined } }),
  };
  /**
   * ${VAR} as the deployed node reads it (its flow's variables, User Settings ▸ Environment, then the
   * process); for a node not deployed yet, as any deployed node reads the global ones (as GET …/env does)
   */
  const deployedOr = (...ids: unknown[]): unknown => {
    const nodes = RED.nodes as unknown as {
      eachNode(cb: (n: { id: string }) => void): void;
      getNode(id: string): unknown;
    };
    let found = ids.map((id) => (typeof id === 'string' && id ? nodes.getNode(id) : null)).find((n) => n);
    if (!found) {
      nodes.eachNode((n) => {
        if (!found) found = nodes.getNode(n.id);
      });
    }
    return found ?? standIn;
  };

  app.post(
    `${ADMIN_ROOT}/preview`,
    read,
    guarded(async (req, res) => {
      const body = record(req.body);
      if (!body || typeof body.type !== 'string') return badRequest(res, 'expected {type, config, msg}');
      const ep = record(body.endpoint);
      const input: PreviewInput = {
        type: body.type,
        config: record(body.config) ?? {},
        credentials: mergeCredentials(record(body.credentials), stored(body.id)),
        endpoint: ep
          ? { config: record(ep.config) ?? {}, credentials: mergeCredentials(record(ep.credentials), stored(ep.id)) }
          : undefined,
        msg: record(body.msg) ?? {},
      };
      const result = await preview(input, {
        parseJsonata: (expr) => {
          util.prepareJSONataExpression(expr, standIn);
        },
        evaluateJsonata: (expr, msg) =>
          new Promise((resolve, reject) => {
            const prepared = util.prepareJSONataExpression(expr, standIn);
            util.evaluateJSONataExpression(prepared, msg, (err, value) => (err ? reject(err) : resolve(value)));
          }),
        env: (name) => util.getSetting(deployedOr(body.id, ep?.id), name),
        aad: (value, type, msg) => util.evaluateNodeProperty(value, type, standIn, msg),
      });
      res.json(result);
    }),
  );

  app.get(
    `${ADMIN_ROOT}/env`,
    read,
    guarded((req, res) => {
      // which of the named environment variables the nodes would find (names only: never a value)
      const names = String(req.query?.names ?? '')
        .split(',')
        .map((n) => n.trim())
        .filter((n) => ENV_NAME.test(n))
        .slice(0, 200);
      // as a deployed node reads them (its flow's and the global variables, then the process's)
      let probe: unknown = null;
      const nodes = RED.nodes as unknown as {
        eachNode(cb: (n: { id: string }) => void): void;
        getNode(id: string): unknown;
      };
      nodes.eachNode((n) => {
        if (!probe) probe = nodes.getNode(n.id);
      });
      const env = nodeEnv(RED, probe);
      const set: Record<string, boolean> = {};
      for (const n of names) set[n] = !resolveEnvRef(`\${${n}}`, env).missing;
      res.json({ set });
    }),
  );

  app.get(
    `${ADMIN_ROOT}/last-input/:id`,
    read,
    guarded((req, res) => {
      // null (not a 404, which browsers log as an error): nothing received since the node was deployed
      res.json({ msg: lastInput(String(req.params.id)) ?? null });
    }),
  );

  app.post(
    `${ADMIN_ROOT}/generate-key`,
    write,
    guarded((_req, res) => {
      res.json({ key: crypto.randomBytes(32).toString('hex') });
    }),
  );

  app.post(
    `${ADMIN_ROOT}/test-connection`,
    write,
    guarded(async (req, res) => {
      const body = record(req.body);
      if (!body) return badRequest(res, 'expected {config, credentials}');
      const config = record(body.config) ?? {};
      // the endpoint's tls-config node (CA, client certificate), when one is chosen and deployed
      const tlsNode =
        typeof config.tls === 'string' && config.tls
          ? (RED.nodes.getNode(config.tls) as unknown as { addTLSOptions?(o: object): object } | null)
          : null;
      const tls = tlsNode && typeof tlsNode.addTLSOptions === 'function' ? tlsNode.addTLSOptions({}) : undefined;
      const result = await testConnection(
        {
          config,
          credentials: mergeCredentials(record(body.credentials), stored(body.id)),
          path: typeof body.path === 'string' ? body.path : undefined,
        },
        { tls, env: nodeEnv(RED, deployedOr(body.id)) },
      );
      res.json(result);
    }),
  );
}
