/**
 * saypro-response-check: checks an HTTP response (status code and values in
 * the parsed body) against a list of rules and copies chosen values to other
 * message properties. Passing messages leave on output 1; failing ones leave
 * on output 2 with every failed rule in msg.error (and reach Catch nodes).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { onInput, sendError } from './common/glue';
import { countStatus } from './common/status';
import { IntegrationError } from './lib/errors';
import { createChecker, summariseProblems, type CheckRule, type Extraction } from './lib/checks';

interface ResponseCheckDef extends NodeDef {
  rules?: CheckRule[];
  mode?: string;
  extract?: Extraction[];
  statusProperty?: string;
  bodyProperty?: string;
}

const OUTPUTS = 2;

export = function (RED: NodeAPI) {
  function ResponseCheckNode(this: Node, config: ResponseCheckDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const checker = createChecker({
      rules: config.rules,
      mode: config.mode,
      extract: config.extract,
      statusProperty: config.statusProperty,
      bodyProperty: config.bodyProperty,
    });

    let passed = 0;
    let failed = 0;

    // the counts show at most twice a second (a translation per message costs more than the check)
    const status = countStatus(node);
    const invalidStatus = () =>
      status.show('invalidRules', () => ({
        fill: 'red',
        shape: 'ring',
        text: RED._('response-check.status.invalidRules'),
      }));

    if (checker.problems.length > 0) invalidStatus();

    onInput(node, (msg, send, done) => {
      if (checker.problems.length > 0) {
        invalidStatus();
        sendError(
          msg,
          new IntegrationError(
            'CHECK_RULES_INVALID',
            summariseProblems(checker.problems),
            checker.problems.map((p) => ({ ...p })),
          ),
          send,
          done,
          OUTPUTS,
        );
        return;
      }

      const outcome = checker.check(msg);
      // extraction runs on both outputs (e.g. error.message → msg.reason on a failure)
      const extracted = checker.extract(msg);
      const check: Record<string, unknown> = {
        passed: outcome.passed,
        mode: outcome.mode,
        results: outcome.results,
        missing: extracted.missing,
      };
      if (extracted.unwritable.length > 0) check.unwritable = extracted.unwritable;
      msg.check = check;

      if (outcome.passed) {
        passed++;
        status.show('passed', () => ({
          fill: 'green',
          shape: 'dot',
          text: RED._('response-check.status.passed', { count: passed }),
        }));
        send([msg, null]);
        done();
        return;
      }
      failed++;
      status.show('failed', () => ({
        fill: 'red',
        shape: 'ring',
        text: RED._('response-check.status.failed', { count: failed }),
      }));
      sendError(
        msg,
        new IntegrationError('CHECK_FAILED', outcome.message ?? 'check failed', outcome.details),
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

  RED.nodes.registerType('saypro-response-check', ResponseCheckNode);
};
