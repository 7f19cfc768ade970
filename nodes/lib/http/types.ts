/**
 * The contract between the endpoint config node (saypro-endpoint), which owns
 * everything about a third party's address and credentials, and the nodes that
 * send to it (saypro-http-post). Pure types: no Node-RED import.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

export type HttpMethod = 'POST' | 'PUT' | 'PATCH' | 'GET';

/** What a sender asks for; the endpoint turns it into a full request. */
export interface RequestIntent {
  /** overrides the endpoint's default method */
  method?: HttpMethod;
  /** path (and optional query) relative to the endpoint's base URL, already templated */
  path: string;
  /** headers from the sender (merged node/msg headers); the endpoint adds defaults and auth */
  headers: Record<string, string>;
}

/** One attempt's request, ready for axios. */
export interface PreparedRequest {
  method: HttpMethod;
  /** absolute URL including any API-key query parameter */
  url: string;
  /** final headers: endpoint defaults < sender headers < auth */
  headers: Record<string, string>;
  timeoutMs: number;
  /** keep-alive agent owned by the endpoint (use as httpAgent or httpsAgent) */
  agent: HttpAgent | HttpsAgent;
}

export interface EndpointStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  /** an i18n key of the endpoint catalogue, or plain text */
  text?: string;
}

/** What the endpoint config node offers the nodes that use it. */
export interface EndpointHandle {
  readonly id: string;
  /** a label safe to log and to put in msg.delivery.endpoint (base URL without credentials) */
  readonly label: string;
  readonly defaultMethod: HttpMethod;
  /** builds the request for one attempt; may fetch or refresh an OAuth2 token (rejects with a clear error) */
  prepare(intent: RequestIntent): Promise<PreparedRequest>;
  /**
   * Called after a 401. Drops a cached OAuth2 token and returns true when a
   * single retry with a fresh token makes sense; false for other auth types.
   */
  invalidateAuth(): boolean;
  /** resolved secret values (keys, passwords, tokens) that must never be logged */
  secrets(): string[];
  /** header and query-parameter names whose values must be redacted in logs */
  sensitiveNames(): string[];
  /** a user node registers to receive the endpoint's status (token ok, auth failed …) */
  register(user: { id: string; status(s: EndpointStatus): void }): void;
  deregister(user: { id: string }): void;
}
