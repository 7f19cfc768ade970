'use strict';
/**
 * Helpers for flow files, shared by `npm start` and the end-to-end tests.
 */

/**
 * Splits inline `credentials` off the nodes of an exported flow, the way
 * Node-RED keeps them: flows.json without them, flows_cred.json keyed by id.
 */
function splitCredentials(flow) {
  const credentials = {};
  const flows = flow.map((node) => {
    if (!node.credentials) return node;
    const { credentials: creds, ...rest } = node;
    credentials[node.id] = creds;
    return rest;
  });
  return { flows, credentials };
}

module.exports = { splitCredentials };
