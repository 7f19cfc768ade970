/**
 * Small helpers shared by the nodes' Node-RED glue. Everything here is about
 * the runtime contract (send/done, status, close); no business logic.
 */
import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import { IntegrationError, toErrorInfo, type IntegrationErrorInfo } from '../lib/errors';
import { settle } from '../lib/acks';
import { forgetInput, rememberInput } from '../lib/last-input';

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;
export type Msg = NodeMessageInFlow & Record<string, any>;

/**
 * Registers an input handler with exactly three parameters, so that the
 * runtime hands us `done`. The handler may be async: a rejection becomes
 * `done(err)` and so reaches Catch nodes, instead of being lost.
 */
export function onInput(node: Node, handler: (msg: Msg, send: Send, done: Done) => void | Promise<void>): void {
  // the editor's preview offers the node's last input as its sample
  node.on('close', () => forgetInput(node.id));
  node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => {
    rememberInput(node.id, msg);
    try {
      const result = handler(msg as Msg, send, done);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).catch((err: unknown) => done(asError(err)));
      }
    } catch (err) {
      done(asError(err));
    }
  });
}

/** Makes sure what we hand to `done` is an Error with a readable message. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Routes a failed message: `msg.error` is set, the message goes to the error
 * output (index `errorOutput` of `outputs`), and `done(err)` reports it to
 * Catch nodes. Nothing is dropped silently.
 */
export function sendError(
  msg: Msg,
  err: unknown,
  send: Send,
  done: Done,
  outputs: number,
  errorOutput = outputs - 1,
): IntegrationErrorInfo {
  const info = toErrorInfo(err);
  msg.error = info;
  // an event trigger waiting on this message answers 422 with the reason
  settle(msg, { ok: false, status: 422, error: info });
  const out: Array<NodeMessage | null> = new Array(outputs).fill(null);
  out[errorOutput] = msg;
  send(out);
  done(withoutStack(new IntegrationError(info.code, info.message, info.details)));
  return info;
}

/**
 * The error as the debug pane and Catch nodes should see it: its code and
 * message, without a JavaScript stack (Node-RED shows an Error's own `stack`
 * in the debug pane and copies it to the Catch node's msg.error).
 */
export function withoutStack<E extends Error>(err: E): E {
  delete (err as { stack?: string }).stack;
  return err;
}

/** Builds an output array with `msg` at `index` and nothing elsewhere. */
export function at(index: number, outputs: number, msg: NodeMessage): Array<NodeMessage | null> {
  const out: Array<NodeMessage | null> = new Array(outputs).fill(null);
  out[index] = msg;
  return out;
}

/** Merges headers into `msg.headers`, lower-casing the names we set. */
export function mergeHeaders(msg: Msg, headers: Record<string, string>): void {
  const current: Record<string, unknown> =
    msg.headers && typeof msg.headers === 'object' && !Array.isArray(msg.headers) ? msg.headers : {};
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    for (const existing of Object.keys(current)) {
      if (existing.toLowerCase() === lower) delete current[existing];
    }
    current[lower] = headers[name];
  }
  msg.headers = current;
}

/** The error of a bug of ours (`what` failed with `err`): the message still leaves, with this as msg.error. */
export function internalError(what: string, err: unknown): IntegrationError {
  return new IntegrationError('INTERNAL_ERROR', what, [{ reason: String((err as Error)?.message ?? err) }]);
}

/** Runs `fn`, turning a throw into `onError` (default: ignored) and undefined. */
export function safely<T>(fn: () => T, onError?: (err: unknown) => void): T | undefined {
  try {
    return fn();
  } catch (err) {
    onError?.(err);
    return undefined;
  }
}
