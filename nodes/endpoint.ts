/**
 * saypro-endpoint: config node for a third-party API — base URL, port,
 * default method and headers, timeout, keep-alive agents with TLS options from
 * a tls-config node, and authentication (API key, Basic, Bearer, OAuth2 client
 * credentials), and per-endpoint pacing (concurrency, rate limit, Retry-After
 * pause, circuit breaker, network-down probing) shared by every node that
 * sends through it. Nodes that send (saypro-http-post) get it with
 * RED.nodes.getNode(id) and use it through EndpointHandle (lib/http/types.ts).
 * Thin glue around lib/http/endpoint.ts.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { IntegrationError } from './lib/errors';
import { Endpoint } from './lib/http/endpoint';
import type { EndpointConfig, EndpointCredentials } from './lib/http/endpoint-config';
import type { TlsOptions } from './lib/http/agent';
import type { ProxyNodeSettings } from './lib/http/proxy';
import type { EndpointHandle } from './lib/http/types';
import { endpointTelemetry, installMonitoring } from './common/monitoring';
import { installEditorAdmin } from './common/editor-admin';
import { nodeEnv } from './common/node-env';

interface EndpointNodeDef extends NodeDef, Omit<EndpointConfig, 'name'> {
  tls?: string;
}

/** Node-RED's own `http proxy` config node (@node-red/nodes 06-httpproxy.js). */
interface HttpProxyNode extends Node<{ username?: string; password?: string }> {
  url?: string;
  noproxy?: string[];
}

interface TlsConfigNode extends Node {
  valid?: boolean;
  addTLSOptions?: (opts: TlsOptions) => TlsOptions;
}

/** The config node as its users see it: the contract plus a few extras. */
type EndpointNode = Node<EndpointCredentials> &
  EndpointHandle & {
    /** pushes a status to every registered user */
    setStatus: Endpoint['setStatus'];
    /** the endpoint behind the node (agents, token manager, setupError …) */
    endpoint: Endpoint;
  };

export = function (RED: NodeAPI) {
  installMonitoring(RED);
  // preview, last input, key generation and test connection for the edit dialogs
  installEditorAdmin(RED);

  function EndpointConfigNode(this: EndpointNode, config: EndpointNodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;

    let tls: TlsOptions | undefined;
    let tlsProblem: IntegrationError | undefined;
    if (config.tls) {
      const tlsNode = RED.nodes.getNode(config.tls) as TlsConfigNode | null;
      if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') {
        tlsProblem = new IntegrationError('INVALID_CONFIG', 'The TLS configuration was not found', [
          { field: 'tls', reason: 'the chosen tls-config node does not exist' },
        ]);
      } else if (tlsNode.valid === false) {
        tlsProblem = new IntegrationError('INVALID_CONFIG', 'The TLS configuration could not be loaded', [
          { field: 'tls', reason: 'the tls-config node reported an error' },
        ]);
      } else {
        tls = tlsNode.addTLSOptions({});
      }
    }

    let proxy: ProxyNodeSettings | undefined;
    if (config.proxy) {
      const proxyNode = RED.nodes.getNode(config.proxy) as HttpProxyNode | null;
      if (!proxyNode) {
        tlsProblem ??= new IntegrationError('INVALID_CONFIG', 'The proxy configuration was not found', [
          { field: 'proxy', reason: 'the chosen http proxy node does not exist' },
        ]);
      } else {
        proxy = {
          url: proxyNode.url,
          noproxy: Array.isArray(proxyNode.noproxy) ? proxyNode.noproxy : [],
          username: proxyNode.credentials?.username,
          password: proxyNode.credentials?.password,
        };
      }
    }

    const endpoint = new Endpoint({
      id: node.id,
      config,
      credentials: node.credentials,
      // ${NAME} as Node-RED resolves it: flow and global environment variables, then the process's
      env: nodeEnv(RED, node),
      tls,
      proxy,
      extraProblem: tlsProblem,
      translate: (key, substitutions) =>
        substitutions ? RED._(key, substitutions as Record<string, string | number>) : RED._(key),
    });

    Object.defineProperty(node, 'label', { value: endpoint.label, enumerable: true });
    Object.defineProperty(node, 'defaultMethod', { value: endpoint.defaultMethod, enumerable: true });
    Object.defineProperty(node, 'pacer', { value: endpoint.pacer, enumerable: true });
    node.endpoint = endpoint;
    node.prepare = (intent) => endpoint.prepare(intent);
    node.invalidateAuth = () => endpoint.invalidateAuth();
    node.secrets = () => endpoint.secrets();
    node.sensitiveNames = () => endpoint.sensitiveNames();
    node.register = (user) => endpoint.register(user);
    node.deregister = (user) => endpoint.deregister(user);
    node.setStatus = (s) => endpoint.setStatus(s);
    node.pacing = () => endpoint.pacing();

    if (endpoint.setupError) {
      node.error(`${RED._('endpoint.status.invalidConfig')}: ${endpoint.setupError.message}`);
    }
    for (const w of endpoint.warnings) node.warn(w);
    // pacing state for the metrics; API deprecation notices in the status
    endpointTelemetry(RED, node, endpoint);

    node.on('close', (_removed: boolean, done: () => void) => {
      endpoint.close();
      done();
    });
  }

  RED.nodes.registerType<EndpointNode, EndpointNodeDef, unknown, EndpointCredentials>(
    'saypro-endpoint',
    EndpointConfigNode,
    {
      credentials: {
        apiKey: { type: 'password' },
        username: { type: 'text' },
        password: { type: 'password' },
        token: { type: 'password' },
        clientId: { type: 'text' },
        clientSecret: { type: 'password' },
      },
    },
  );
};
