/**
 * saypro-encrypt: encrypts msg.payload into a JSON envelope (AES-256-GCM or
 * AES-256-CBC + HMAC-SHA256) or CryptoJS passphrase output. Thin glue around
 * lib/crypto.ts.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onInput, sendError, mergeHeaders, at, type Msg } from './common/glue';
import { countStatus } from './common/status';
import { IntegrationError } from './lib/errors';
import { resolveEnvRef } from './lib/env';
import { nodeEnv } from './common/node-env';
import { aadProblem, resolveAad } from './common/aad';
import {
  ALGORITHMS,
  DEFAULT_KID,
  KID_PATTERN,
  encryptPlaintext,
  headerValue,
  plaintextFromPayload,
  prepareKey,
  type Algorithm,
  type PreparedKey,
} from './lib/crypto';
import { installEditorAdmin } from './common/editor-admin';

interface EncryptConfig extends NodeDef {
  algorithm?: string;
  kid?: string;
  aad?: string;
  aadType?: string;
}

interface EncryptCredentials {
  key?: string;
}

const OUTPUTS = 2;

export = function (RED: NodeAPI) {
  // preview, last input, key generation and test connection for the edit dialogs
  installEditorAdmin(RED);

  function EncryptNode(this: Node<EncryptCredentials>, config: EncryptConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let count = 0;
    // the count shows at most twice a second (a translation per message costs more than the encryption)
    const status = countStatus(node);

    // Everything that can be checked once is checked here; a bad key or
    // setting does not crash the flow: every message goes to output 2.
    let key: PreparedKey | undefined;
    let setupError: IntegrationError | undefined;
    const algorithm = (config.algorithm || 'aes-256-gcm') as Algorithm;
    const kid = config.kid === undefined || config.kid === '' ? DEFAULT_KID : String(config.kid);
    const aadType = config.aadType || 'none';
    const aadValue = config.aad ?? '';
    try {
      if (!ALGORITHMS.includes(algorithm)) {
        throw new IntegrationError('INVALID_CONFIG', 'Unknown algorithm', [
          {
            field: 'algorithm',
            reason: 'expected aes-256-gcm, aes-256-cbc-hmac or cryptojs',
            value: String(config.algorithm),
          },
        ]);
      }
      if (!KID_PATTERN.test(kid)) {
        throw new IntegrationError('INVALID_CONFIG', 'Invalid key id', [
          { field: 'kid', reason: 'use 1 to 64 letters, digits, ".", "_", ":" or "-"' },
        ]);
      }
      if (!['none', 'str', 'msg', 'env'].includes(aadType)) {
        throw new IntegrationError('INVALID_CONFIG', 'Unknown AAD type', [
          { field: 'aadType', reason: 'expected none, str, msg or env', value: aadType },
        ]);
      }
      const aadReason = aadProblem(RED, { aad: aadValue, aadType, algorithm });
      if (aadReason) {
        throw new IntegrationError('INVALID_CONFIG', 'The AAD setting is not valid', [
          { field: 'aad', reason: aadReason },
        ]);
      }
      const resolved = resolveEnvRef(node.credentials?.key, nodeEnv(RED, node));
      if (resolved.missing) {
        throw new IntegrationError(
          'INVALID_KEY',
          `The key refers to environment variable ${resolved.variable}, which is not set`,
          [{ field: 'key', reason: `environment variable ${resolved.variable} is not set` }],
        );
      }
      key = prepareKey(algorithm, resolved.value, kid);
    } catch (err) {
      setupError = err instanceof IntegrationError ? err : new IntegrationError('INVALID_CONFIG', String(err));
    }

    if (setupError) {
      const text = setupError.code === 'INVALID_KEY' ? 'encrypt.status.invalidKey' : 'encrypt.status.invalidConfig';
      node.status({ fill: 'red', shape: 'ring', text: RED._(text) });
      node.warn(`${RED._(text)}: ${setupError.message}`);
    } else {
      node.status({});
    }

    onInput(node, (msg: Msg, send, done) => {
      if (setupError || !key) {
        sendError(msg, setupError ?? new IntegrationError('INVALID_KEY', 'No key'), send, done, OUTPUTS);
        return;
      }
      try {
        const aad = resolveAad(RED, node, msg, { aad: aadValue, aadType, algorithm, code: 'ENCRYPT_AAD' });
        const plaintext = plaintextFromPayload(msg.payload, headerValue(msg.headers, 'content-type'));
        const result = encryptPlaintext(algorithm, key, plaintext, aad);
        msg.payload = result.payload;
        mergeHeaders(msg, result.headers);
        msg.encryption = { alg: result.alg, kid: result.kid };
        count++;
        status.show('encrypted', () => ({
          fill: 'green',
          shape: 'dot',
          text: RED._('encrypt.status.encrypted', { count }),
        }));
        send(at(0, OUTPUTS, msg));
        done();
      } catch (err) {
        const info = sendError(
          msg,
          err instanceof IntegrationError
            ? err
            : new IntegrationError('ENCRYPT_FAILED', 'Encryption failed', [
                { reason: err instanceof Error ? err.message : String(err) },
              ]),
          send,
          done,
          OUTPUTS,
        );
        status.show('failed:' + info.code, () => ({
          fill: 'red',
          shape: 'ring',
          text: RED._('encrypt.status.failed', { code: info.code }),
        }));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.cancel();
      key = undefined;
      done();
    });
  }

  RED.nodes.registerType<Node<EncryptCredentials>, EncryptConfig, unknown, EncryptCredentials>(
    'saypro-encrypt',
    EncryptNode,
    {
      credentials: { key: { type: 'password' } },
    },
  );
};
