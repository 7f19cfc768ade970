/**
 * saypro-decrypt: opens what saypro-encrypt produced (JSON envelope or
 * CryptoJS output) with the current key or, during rotation, the previous
 * one. Anything that does not authenticate goes to output 2, never garbage on
 * output 1. Thin glue around lib/crypto.ts.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onInput, sendError, at, type Msg } from './common/glue';
import { IntegrationError } from './lib/errors';
import { resolveEnvRef } from './lib/env';
import { nodeEnv } from './common/node-env';
import { aadProblem, resolveAad } from './common/aad';
import {
  DECRYPT_ALGORITHMS,
  DEFAULT_KID,
  KID_PATTERN,
  OUTPUT_MODES,
  decodeOutput,
  decryptPayload,
  prepareKey,
  type DecryptAlgorithm,
  type OutputMode,
  type PreparedKey,
} from './lib/crypto';
import { installEditorAdmin } from './common/editor-admin';

interface DecryptConfig extends NodeDef {
  algorithm?: string;
  kid?: string;
  kid2?: string;
  aad?: string;
  aadType?: string;
  output?: string;
}

interface DecryptCredentials {
  key?: string;
  key2?: string;
}

const OUTPUTS = 2;
/** Headers that described the ciphertext and are wrong once it is opened. */
const STALE_HEADERS = ['content-type', 'content-length', 'x-encryption-alg', 'x-encryption-kid'];

export = function (RED: NodeAPI) {
  // preview, last input, key generation and test connection for the edit dialogs
  installEditorAdmin(RED);

  function DecryptNode(this: Node<DecryptCredentials>, config: DecryptConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let count = 0;

    let keys: PreparedKey[] = [];
    let setupError: IntegrationError | undefined;
    const algorithm = (config.algorithm || 'auto') as DecryptAlgorithm;
    const output = (config.output || 'auto') as OutputMode;
    const kid = config.kid === undefined || config.kid === '' ? DEFAULT_KID : String(config.kid);
    const kid2 = config.kid2 === undefined ? '' : String(config.kid2);
    const aadType = config.aadType || 'none';
    const aadValue = config.aad ?? '';

    const resolveKey = (field: 'key' | 'key2'): string | undefined => {
      const resolved = resolveEnvRef(node.credentials?.[field], nodeEnv(RED, node));
      if (resolved.missing) {
        throw new IntegrationError(
          'INVALID_KEY',
          `The ${field} refers to environment variable ${resolved.variable}, which is not set`,
          [{ field, reason: `environment variable ${resolved.variable} is not set` }],
        );
      }
      return resolved.value;
    };

    try {
      const problems = [];
      if (!DECRYPT_ALGORITHMS.includes(algorithm))
        problems.push({
          field: 'algorithm',
          reason: 'expected auto, aes-256-gcm, aes-256-cbc-hmac or cryptojs',
          value: String(config.algorithm),
        });
      if (!OUTPUT_MODES.includes(output))
        problems.push({
          field: 'output',
          reason: 'expected auto, string, buffer or json',
          value: String(config.output),
        });
      if (!KID_PATTERN.test(kid))
        problems.push({ field: 'kid', reason: 'use 1 to 64 letters, digits, ".", "_", ":" or "-"' });
      // a previous key id is checked whenever it is set, as the dialog does
      if (kid2 !== '' && (!KID_PATTERN.test(kid2) || kid2 === kid))
        problems.push({
          field: 'kid2',
          reason:
            kid2 === kid ? 'must differ from the current key id' : 'use 1 to 64 letters, digits, ".", "_", ":" or "-"',
        });
      if (!['none', 'str', 'msg', 'env'].includes(aadType))
        problems.push({ field: 'aadType', reason: 'expected none, str, msg or env', value: aadType });
      const aadReason = aadProblem(RED, { aad: aadValue, aadType, algorithm });
      if (aadReason) problems.push({ field: 'aad', reason: aadReason });
      if (problems.length) throw new IntegrationError('INVALID_CONFIG', 'The node configuration is invalid', problems);

      keys = [prepareKey(algorithm, resolveKey('key'), kid, 'key')];
      const second = resolveKey('key2');
      if (second !== undefined && second !== '') {
        if (!KID_PATTERN.test(kid2) || kid2 === kid) {
          throw new IntegrationError('INVALID_CONFIG', 'The previous key needs its own key id', [
            {
              field: 'kid2',
              reason:
                kid2 === kid
                  ? 'must differ from the current key id'
                  : 'use 1 to 64 letters, digits, ".", "_", ":" or "-"',
            },
          ]);
        }
        keys.push(prepareKey(algorithm, second, kid2, 'key2'));
      }
    } catch (err) {
      setupError = err instanceof IntegrationError ? err : new IntegrationError('INVALID_CONFIG', String(err));
      keys = [];
    }

    if (setupError) {
      const text = setupError.code === 'INVALID_KEY' ? 'decrypt.status.invalidKey' : 'decrypt.status.invalidConfig';
      node.status({ fill: 'red', shape: 'ring', text: RED._(text) });
      node.warn(`${RED._(text)}: ${setupError.message}`);
    } else {
      node.status({});
    }

    onInput(node, (msg: Msg, send, done) => {
      if (setupError || keys.length === 0) {
        sendError(msg, setupError ?? new IntegrationError('INVALID_KEY', 'No key'), send, done, OUTPUTS);
        return;
      }
      try {
        const aad = resolveAad(RED, node, msg, { aad: aadValue, aadType, algorithm, code: 'DECRYPT_AAD' });
        const result = decryptPayload(msg.payload, algorithm, keys, aad);
        const payload = decodeOutput(result.plaintext, result.cty, output);
        msg.payload = payload;
        if (msg.headers && typeof msg.headers === 'object' && !Array.isArray(msg.headers)) {
          for (const name of Object.keys(msg.headers)) {
            if (STALE_HEADERS.includes(name.toLowerCase())) delete msg.headers[name];
          }
        }
        if (result.cty) {
          msg.headers =
            msg.headers && typeof msg.headers === 'object' && !Array.isArray(msg.headers) ? msg.headers : {};
          msg.headers['content-type'] = result.cty;
        }
        msg.encryption = { alg: result.alg, kid: result.kid };
        count++;
        node.status({ fill: 'green', shape: 'dot', text: RED._('decrypt.status.decrypted', { count }) });
        send(at(0, OUTPUTS, msg));
        done();
      } catch (err) {
        const info = sendError(
          msg,
          err instanceof IntegrationError
            ? err
            : new IntegrationError('DECRYPT_FAILED', 'Decryption failed', [
                { reason: err instanceof Error ? err.message : String(err) },
              ]),
          send,
          done,
          OUTPUTS,
        );
        node.status({ fill: 'red', shape: 'ring', text: RED._('decrypt.status.failed', { code: info.code }) });
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      keys = [];
      done();
    });
  }

  RED.nodes.registerType<Node<DecryptCredentials>, DecryptConfig, unknown, DecryptCredentials>(
    'saypro-decrypt',
    DecryptNode,
    {
      credentials: { key: { type: 'password' }, key2: { type: 'password' } },
    },
  );
};
