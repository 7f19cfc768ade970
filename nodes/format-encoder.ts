/**
 * saypro-format-encoder: turns msg.payload into a JSON, CSV, XML or
 * form-urlencoded body and sets its Content-Type in msg.headers.
 * Output 1: encoded; output 2: error (msg.error), also reported to Catch nodes.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onInput, sendError, mergeHeaders } from './common/glue';
import { countStatus } from './common/status';
import { checkConfig, configError, encode, readConfig } from './lib/encoding';
import { IntegrationError, toErrorInfo } from './lib/errors';
import { installEditorAdmin } from './common/editor-admin';

interface FormatEncoderDef extends NodeDef {
  format?: string;
  pretty?: boolean;
  csvHeader?: boolean;
  csvDelimiter?: string;
  csvColumns?: string;
  csvGuard?: boolean;
  xmlRoot?: string;
  xmlItem?: string;
  xmlDeclaration?: boolean;
  outputType?: string;
}

const OUTPUTS = 2;

export = function (RED: NodeAPI) {
  // preview, last input, key generation and test connection for the edit dialogs
  installEditorAdmin(RED);

  function FormatEncoderNode(this: Node, def: FormatEncoderDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const config = readConfig(def as unknown as Record<string, unknown>);
    const asBuffer = def.outputType === 'buffer';
    const problems = checkConfig(config);
    // shown at most twice a second while only the byte count changes (a translation per message is costly)
    const status = countStatus(node);

    if (problems.length > 0) {
      status.show('config', () => ({
        fill: 'red',
        shape: 'ring',
        text: RED._('format-encoder.status.error', { code: 'ENCODE_CONFIG' }),
      }));
      node.warn(RED._('format-encoder.errors.config', { reason: configError(problems).message }));
    }

    onInput(node, (msg, send, done) => {
      let result;
      try {
        result = encode(msg.payload, config);
      } catch (err) {
        const info = toErrorInfo(err, 'ENCODE_' + String(config.format).toUpperCase());
        status.show('error:' + info.code, () => ({
          fill: 'red',
          shape: 'ring',
          text: RED._('format-encoder.status.error', { code: info.code }),
        }));
        sendError(msg, new IntegrationError(info.code, info.message, info.details), send, done, OUTPUTS);
        return;
      }
      const body = asBuffer ? Buffer.from(result.body, 'utf8') : result.body;
      const bytes = Buffer.byteLength(result.body, 'utf8');
      msg.payload = body;
      msg.format = result.format;
      mergeHeaders(msg, { 'content-type': result.contentType });
      const format = result.format;
      status.show('encoded', () => ({
        fill: 'green',
        shape: 'dot',
        text: RED._('format-encoder.status.encoded', { format, bytes: String(bytes) }),
      }));
      send([msg, null]);
      done();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.cancel();
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('saypro-format-encoder', FormatEncoderNode);
};
