/**
 * What the saypro-endpoint config node saves: its properties and credentials,
 * as the editor writes them (strings where the dialog has text boxes), and the
 * defaults of the values that have one. Types and constants only: reading and
 * checking them is lib/http/endpoint-settings.ts, the pacing fields'
 * defaults are in lib/http/endpoint-pacing.ts.
 */
import { DEFAULT_MAX_RESPONSE_BYTES } from './transport';
import type { HttpMethod } from './types';

export const METHODS: HttpMethod[] = ['POST', 'PUT', 'PATCH', 'GET'];
export const DEFAULT_TIMEOUT_MS = 10000;
export const DEFAULT_API_KEY_NAME = 'X-API-Key';
/** the largest answer read, in MB (10 MB) */
export const DEFAULT_MAX_RESPONSE_MB = DEFAULT_MAX_RESPONSE_BYTES / (1024 * 1024);

export interface EndpointCredentials {
  apiKey?: string;
  username?: string;
  password?: string;
  token?: string;
  clientId?: string;
  clientSecret?: string;
}

/** The config node's properties, as the editor saves them. */
export interface EndpointConfig {
  name?: string;
  baseUrl?: string;
  port?: string | number;
  method?: string;
  headers?: Array<{ name?: string; value?: string }>;
  timeout?: string | number;
  keepAlive?: boolean | string;
  authType?: string;
  apiKeyIn?: string;
  apiKeyName?: string;
  tokenUrl?: string;
  scope?: string;
  audience?: string;
  tokenAuth?: string;
  /** requests at once; 0: no limit (default 4) */
  maxConcurrent?: string | number;
  /** requests per rateInterval seconds; 0: no rate limit (default) */
  rateCount?: string | number;
  /** seconds (default 1) */
  rateInterval?: string | number;
  /** failures in a row that open the circuit; 0: off (default 5) */
  breakerFailures?: string | number;
  /** failure percentage that opens the circuit; 0: off (default) */
  breakerRate?: string | number;
  /** requests in the window before the failure rate counts (default 10) */
  breakerMinRequests?: string | number;
  /** seconds of the failure-rate window (default 60) */
  breakerWindow?: string | number;
  /** seconds the circuit stays open at first (default 30; doubles per failed probe up to 5 minutes) */
  breakerOpen?: string | number;
  /** the largest answer read into memory, in MB (default 10); larger: RESPONSE_TOO_LARGE */
  maxResponseMB?: string | number;
  /** host names requests may go to (comma or space separated; "*.domain" for subdomains); empty: any */
  allowHosts?: string;
  /** refuse private, loopback and link-local targets, checked after DNS resolution (default off) */
  blockPrivate?: boolean | string;
  /** id of a Node-RED `http proxy` config node (the glue resolves it into EndpointOptions.proxy) */
  proxy?: string;
}
