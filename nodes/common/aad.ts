/**
 * The AAD (additional authenticated data) of encrypt and decrypt: both nodes
 * resolve it the same way from their typed input, per message.
 */
import type { Node, NodeAPI } from 'node-red';
import { IntegrationError } from '../lib/errors';
import { aadToBuffer } from '../lib/crypto';
import type { Msg } from './glue';

/** The AAD bytes for this message, or undefined when none is configured (or CryptoJS, which has none). */
export function resolveAad(
  RED: NodeAPI,
  node: Node,
  msg: Msg,
  opts: { aad: string; aadType: string; algorithm: string; code: string },
): Buffer | undefined {
  if (opts.aadType === 'none' || opts.algorithm === 'cryptojs') return undefined;
  let value: unknown;
  try {
    value = RED.util.evaluateNodeProperty(opts.aad, opts.aadType, node, msg);
  } catch (err) {
    throw new IntegrationError(opts.code, 'The AAD could not be resolved', [
      { field: 'aad', reason: err instanceof Error ? err.message : String(err) },
    ]);
  }
  return aadToBuffer(value, opts.code);
}
