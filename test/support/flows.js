'use strict';
/** Flow nodes shared by the end-to-end tests. */

/** A saypro-endpoint config node with every setting at the editor's default; `extra` overrides. */
function endpointNode(id, baseUrl, extra = {}) {
  return {
    id,
    type: 'saypro-endpoint',
    name: `node ${id}`,
    baseUrl,
    port: '',
    method: 'POST',
    headers: [],
    timeout: 2000,
    keepAlive: true,
    tls: '',
    authType: 'none',
    apiKeyIn: 'header',
    apiKeyName: 'X-API-Key',
    tokenUrl: '',
    scope: '',
    audience: '',
    tokenAuth: 'body',
    maxConcurrent: 8,
    rateCount: 0,
    rateInterval: 1,
    breakerFailures: 0,
    breakerRate: 0,
    ...extra,
  };
}

module.exports = { endpointNode };
