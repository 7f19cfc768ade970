/**
 * The endpoint's connection pools: one http and one https Agent, keep-alive
 * by default, the https one carrying the TLS options (CA, client certificate
 * and key, server certificate check) from a Node-RED tls-config node.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** What a tls-config node's addTLSOptions({}) fills in. */
export interface TlsOptions {
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  servername?: string;
  ALPNProtocols?: string[];
  /** undefined means true (verify), as in Node.js */
  rejectUnauthorized?: boolean;
}

export interface AgentOptions {
  keepAlive?: boolean;
  tls?: TlsOptions;
  /** sockets per host (default: unlimited, as in Node.js) */
  maxSockets?: number;
}

export interface Agents {
  http: http.Agent;
  https: https.Agent;
  /** the agent for a URL's scheme */
  forUrl(url: string | URL): http.Agent | https.Agent;
  /** closes every pooled socket; the agents must not be used afterwards */
  destroy(): void;
}

export function createAgents(opts: AgentOptions = {}): Agents {
  const keepAlive = opts.keepAlive !== false;
  const common: http.AgentOptions = { keepAlive, keepAliveMsecs: 1000, scheduling: 'lifo' };
  if (opts.maxSockets) common.maxSockets = opts.maxSockets;
  const tls: https.AgentOptions = {};
  const t = opts.tls || {};
  if (t.ca !== undefined) tls.ca = t.ca;
  if (t.cert !== undefined) tls.cert = t.cert;
  if (t.key !== undefined) tls.key = t.key;
  if (t.passphrase !== undefined) tls.passphrase = t.passphrase;
  if (t.servername) tls.servername = t.servername;
  if (t.ALPNProtocols) tls.ALPNProtocols = t.ALPNProtocols;
  tls.rejectUnauthorized = t.rejectUnauthorized !== false;

  const httpAgent = new http.Agent(common);
  const httpsAgent = new https.Agent({ ...common, ...tls });
  return {
    http: httpAgent,
    https: httpsAgent,
    forUrl(url) {
      const protocol = typeof url === 'string' ? new URL(url).protocol : url.protocol;
      return protocol === 'https:' ? httpsAgent : httpAgent;
    },
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
