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

/**
 * Why the AAD setting cannot work, checked once when the node starts (the
 * dialog refuses the same): an AAD type other than "none" needs a value, and a
 * msg property must be a valid property expression. Undefined when it is fine
 * or not used (no AAD, or CryptoJS).
 */
export function aadProblem(
  RED: NodeAPI,
  opts: { aad: string; aadType: string; algorithm: string },
): string | undefined {
  if (opts.aadType === 'none' || opts.algorithm === 'cryptojs') return undefined;
  if (opts.aad === '') return 'enter the AAD value, or choose no AAD';
  if (opts.aadType === 'msg') {
    try {
      RED.util.normalisePropertyExpression(opts.aad.replace(/^msg\./, ''));
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  return undefined;
}
