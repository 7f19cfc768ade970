/**
 * msg.command on a node with a durable queue ("list", "replay", "purge" of
 * its dead letters; lib/http-post/commands.ts) in Node-RED terms: the list
 * leaves on output 1 as msg.payload; a replay or purge is logged and the
 * node recounts its dead letters; a command that cannot run leaves on
 * output 2 with msg.error (`fail`), so Catch nodes learn of it.
 */
import type { Node, NodeAPI } from 'node-red';
import type { Done, Msg, Send } from './glue';
import type { IntegrationError } from '../lib/errors';
import { answerCommand, commandLog, type DeadLetterStore } from '../lib/http-post/commands';

export interface CommandTarget {
  durable: boolean;
  /** the queue once open (waits for an opening in progress); undefined: none */
  queue: () => Promise<DeadLetterStore | undefined>;
  /** why there is no queue */
  notOpen: () => IntegrationError;
  fail: (msg: Msg, err: IntegrationError, send: Send, done: Done) => void;
  recount: () => void;
}

export async function runDeadLetterCommand(
  RED: NodeAPI,
  node: Node,
  t: CommandTarget,
  msg: Msg,
  send: Send,
  done: Done,
): Promise<void> {
  const answer = await answerCommand(msg, t);
  if (!answer.ok) return t.fail(msg, answer.error, send, done);
  const r = answer.result;
  if (r.name === 'list') return ((msg.payload = r.payload), send([msg, null]), done());
  for (const line of commandLog(r)) node[line.level](RED._(line.key, line.vars));
  t.recount();
  done();
}
