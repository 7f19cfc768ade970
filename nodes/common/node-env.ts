/**
 * The environment a node reads its `${NAME}` references from, as Node-RED
 * itself resolves `${NAME}` in plain properties: the variables of the node's
 * group and flow, then the global ones (User Settings ▸ Environment, kept in
 * the flows' global-config node), then the process's. Shaped like
 * `process.env` for the pure modules in lib/, which take an env object.
 */
import type { NodeAPI } from 'node-red';

type GetSetting = (node: unknown, name: string) => unknown;

function text(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v);
    } catch {
      return undefined;
    }
  }
  return String(v);
}

export function nodeEnv(RED: NodeAPI, node: unknown): NodeJS.ProcessEnv {
  const getSetting = (RED.util as unknown as { getSetting?: GetSetting }).getSetting;
  const read = (name: string): string | undefined => {
    try {
      return getSetting ? text(getSetting(node, name)) : process.env[name];
    } catch {
      return process.env[name];
    }
  };
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_t, name) => (typeof name === 'string' ? read(name) : undefined),
    has: (_t, name) => typeof name === 'string' && read(name) !== undefined,
  });
}
