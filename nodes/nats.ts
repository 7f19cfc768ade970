/**
 * saypro-nats: config node for a NATS connection (server URLs; user and
 * password, token, NKey seed or .creds content as credentials; TLS through a
 * tls-config node). One connection per config node, opened when the first
 * user asks for it, kept through reconnects, closed (drained) on redeploy.
 * Users (HTTP POST nodes in shared mode) register and get its status.
 * Thin glue around lib/shared-queue/connection.ts.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type * as NatsTransport from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { ErrorDetail } from './lib/errors';
import {
  connectionOptions,
  parseServers,
  serversLabel,
  type NatsCredentials,
  type TlsFiles,
} from './lib/shared-queue/connection';
import type { NatsLink } from './lib/shared-queue/shared-queue';
import { connectionStatus, stateAfter, type ConnectionState } from './lib/shared-queue/connection-status';
import { drainOrClose } from './lib/shared-queue/drain';
import { NATS_NUMBERS, listProblems, readNumber } from './lib/rules';

interface NatsNodeDef extends NodeDef {
  servers?: string;
  tls?: string;
  replicas?: number | string;
}

interface TlsConfigNode extends Node {
  valid?: boolean;
  addTLSOptions?: (opts: TlsFiles) => TlsFiles;
}

type Status = { fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape?: 'ring' | 'dot'; text?: string };
interface User {
  id: string;
  status(s: Status): void;
}

type NatsConfigNode = Node<NatsCredentials> &
  NatsLink & {
    label: string;
    /** stream replicas for the queues that use this connection */
    replicas: number;
    /** why it cannot connect (bad settings), else undefined */
    problem: string | undefined;
    state(): ConnectionState;
    register(user: User): void;
    deregister(user: User): void;
  };

export = function (RED: NodeAPI) {
  function NatsNode(this: NatsConfigNode, config: NatsNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const problems: ErrorDetail[] = [];
    let tls: TlsFiles | undefined;
    if (config.tls) {
      const t = RED.nodes.getNode(config.tls) as TlsConfigNode | null;
      if (!t || typeof t.addTLSOptions !== 'function')
        problems.push({ field: 'tls', reason: 'the chosen tls-config node does not exist' });
      else if (t.valid === false) problems.push({ field: 'tls', reason: 'the tls-config node reported an error' });
      else tls = t.addTLSOptions({});
    }
    const opts = connectionOptions(
      { servers: config.servers, name: `saypro-integration-kit ${node.id}` },
      node.credentials,
      tls,
      problems,
    );
    const label = serversLabel(parseServers(config.servers, []));
    const replicas = readNumber(config.replicas, NATS_NUMBERS.replicas);
    if (!replicas.ok)
      problems.push({
        field: 'replicas',
        reason: 'expected a whole number from 1 to 5',
        value: String(config.replicas),
      });
    node.replicas = replicas.ok && replicas.value !== undefined ? replicas.value : 1;
    node.label = label;
    node.problem = problems.length ? listProblems(problems) : undefined;

    const users = new Map<string, User>();
    let nc: NatsConnection | undefined;
    let opening: Promise<NatsConnection> | undefined;
    let state: ReturnType<NatsConfigNode['state']> = node.problem ? 'invalid' : 'connecting';
    let closing = false;

    function statusOf(): Status {
      const { fill, shape, key } = connectionStatus(state);
      return { fill, shape, text: RED._(key) };
    }

    function push(): void {
      const s = statusOf();
      for (const u of users.values()) {
        try {
          u.status(s);
        } catch {
          // a user's bug must not stop the others
        }
      }
    }

    function setState(s: typeof state): void {
      if (s === state) return;
      state = s;
      push();
    }

    async function watch(c: NatsConnection): Promise<void> {
      for await (const s of c.status()) {
        const next = stateAfter(s);
        if (next) setState(next);
        else if (s.type === 'error')
          node.warn(RED._('nats.errors.server', { error: String((s as { error?: unknown }).error ?? '') }));
      }
    }

    node.connection = () => {
      if (node.problem) return Promise.reject(new Error(node.problem));
      if (closing) return Promise.reject(new Error('the NATS connection is closing'));
      if (!opening) {
        // the NATS client is loaded on the first connection: a flow without NATS never pays its start time
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { connect } = require('@nats-io/transport-node') as typeof NatsTransport;
        opening = connect(opts).then((c) => {
          nc = c;
          if (closing) {
            void c.close();
            throw new Error('the NATS connection is closing');
          }
          setState('connected');
          node.log(RED._('nats.log.connected', { server: c.getServer() }));
          void watch(c).catch(() => undefined);
          void c.closed().then(() => {
            if (!closing) setState('closed');
          });
          return c;
        });
        opening.catch((err) => {
          node.error(RED._('nats.errors.connect', { error: String((err as Error)?.message ?? err) }));
          setState('closed');
        });
      }
      return opening;
    };
    node.isConnected = () => state === 'connected' && !!nc && !nc.isClosed();
    node.state = () => state;
    node.register = (user: User) => {
      users.set(user.id, user);
      try {
        user.status(statusOf());
      } catch {
        // ignore
      }
    };
    node.deregister = (user: User) => {
      users.delete(user.id);
    };

    if (node.problem) node.error(`${RED._('nats.status.invalid')}: ${node.problem}`);

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      users.clear();
      const c = nc;
      nc = undefined;
      // a connection still being made is closed when it arrives
      if (!c) return done();
      // drain: what was published is flushed, subscriptions end; never longer than 5 s
      void drainOrClose(c).then(() => done());
    });
  }

  RED.nodes.registerType('saypro-nats', NatsNode as never, {
    credentials: {
      user: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
      seed: { type: 'password' },
      creds: { type: 'password' },
    },
  });
};
