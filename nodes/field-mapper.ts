/**
 * saypro-field-mapper: builds msg.payload from a list of rules (exact keys,
 * checked types). Valid messages leave on output 1; a message with any
 * problem leaves on output 2 with every problem in msg.error.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onInput, sendError } from './common/glue';
import { countStatus } from './common/status';
import { IntegrationError } from './lib/errors';
import { createMapper, summarise, summariseRules, type MappingRule, type Resolver } from './lib/mapping';
import { installEditorAdmin } from './common/editor-admin';

interface FieldMapperDef extends NodeDef {
  rules?: MappingRule[];
  keepUnmapped?: boolean;
}

const OUTPUTS = 2;

export = function (RED: NodeAPI) {
  // preview, last input, key generation and test connection for the edit dialogs
  installEditorAdmin(RED);

  function FieldMapperNode(this: Node, config: FieldMapperDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const keepUnmapped = config.keepUnmapped === true;
    const prepared = new Map<number, unknown>();

    // JSONata expressions are prepared once; a syntax error becomes a rule problem
    const mapper = createMapper(Array.isArray(config.rules) ? config.rules : (config.rules ?? []), {
      parseJsonata(expr, index) {
        prepared.set(index, RED.util.prepareJSONataExpression(expr, node));
      },
    });

    const resolver: Resolver = {
      evaluateJsonata(_expr, msg, index) {
        return new Promise((resolve, reject) => {
          const expr = prepared.get(index);
          if (!expr) {
            reject(new Error('expression not prepared'));
            return;
          }
          RED.util.evaluateJSONataExpression(expr as never, msg as never, (err, value) => {
            if (err) reject(err);
            else resolve(value);
          });
        });
      },
      env(name) {
        return RED.util.getSetting(node, name);
      },
    };

    let mapped = 0;
    let invalid = 0;
    // the counts show at most twice a second (a translation per message costs more than the mapping)
    const status = countStatus(node);
    const showInvalidRules = () =>
      status.show('invalidRules', () => ({
        fill: 'red',
        shape: 'ring',
        text: RED._('field-mapper.status.invalidRules'),
      }));

    if (mapper.problems.length > 0) showInvalidRules();

    onInput(node, async (msg, send, done) => {
      const result = await mapper.map(msg, resolver, { keepUnmapped });
      if (result.ok) {
        msg.payload = result.value;
        mapped++;
        status.show('mapped', () => ({
          fill: 'green',
          shape: 'dot',
          text: RED._('field-mapper.status.mapped', { count: mapped }),
        }));
        send([msg, null]);
        done();
        return;
      }
      invalid++;
      if (mapper.problems.length > 0) {
        showInvalidRules();
        sendError(
          msg,
          new IntegrationError('MAPPING_RULES_INVALID', summariseRules(result.problems), result.problems),
          send,
          done,
          OUTPUTS,
        );
        return;
      }
      status.show('invalid', () => ({
        fill: 'red',
        shape: 'ring',
        text: RED._('field-mapper.status.invalid', { count: invalid }),
      }));
      sendError(
        msg,
        new IntegrationError('MAPPING_INVALID', summarise(result.problems), result.problems),
        send,
        done,
        OUTPUTS,
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.cancel();
      node.status({});
      done();
    });
  }

  RED.nodes.registerType('saypro-field-mapper', FieldMapperNode);
};
