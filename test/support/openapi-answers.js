'use strict';
/**
 * Checks the answers the example flows really give (in the e2e tests, from a
 * real Node-RED) against our own OpenAPI document, docs/openapi/saypro-api.json:
 * the status must be one the operation lists, the body must match its schema,
 * and a 503 must carry Retry-After when the document says so.
 *
 *   const answers = require('../support/openapi-answers');
 *   answers.check({ method, url, status, headers, body });   // after each request
 *   afterEach(() => answers.assertNone());                     // throws on any mismatch (and forgets them)
 *   answers.seen   Set of 'METHOD /path STATUS' checked so far
 */
const path = require('node:path');
const fs = require('node:fs');
const { contract } = require('../contracts/validator');

const DOC = path.join(__dirname, '..', '..', 'docs', 'openapi', 'saypro-api.json');
const doc = JSON.parse(fs.readFileSync(DOC, 'utf8'));
const api = contract(doc);
const violations = [];
const seen = new Set();

function header(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

/** @param {{method:string, url:string, status:number, headers?:object, body:any}} r  url: the path and query; body: parsed JSON (undefined when not JSON) */
function check(r) {
  const p = r.url.split('?')[0];
  const op = api.operation(r.method, p);
  if (!op) {
    violations.push(`${r.method} ${p}: not in docs/openapi/saypro-api.json`);
    return;
  }
  seen.add(`${r.method} ${op.template} ${r.status}`);
  const out = api.validateResponse({
    method: r.method,
    path: p,
    status: r.status,
    body: r.body === undefined ? '' : r.body,
  });
  for (const e of out.errors) violations.push(`${r.method} ${r.url} → ${r.status}: ${e}`);
  const declared = doc.paths[op.template][r.method.toLowerCase()].responses[String(r.status)];
  const resolved = declared && declared.$ref ? doc.components.responses[declared.$ref.split('/').pop()] : declared;
  if (
    resolved &&
    resolved.headers &&
    resolved.headers['Retry-After'] &&
    header(r.headers, 'retry-after') === undefined
  ) {
    violations.push(`${r.method} ${r.url} → ${r.status}: no Retry-After header`);
  }
  if (!/^application\/json/.test(String(header(r.headers, 'content-type') || ''))) {
    violations.push(
      `${r.method} ${r.url} → ${r.status}: content-type ${header(r.headers, 'content-type')} is not application/json`,
    );
  }
}

function assertNone() {
  if (violations.length) {
    const list = violations.splice(0);
    throw new Error(`answers outside docs/openapi/saypro-api.json:\n  ${list.join('\n  ')}`);
  }
}

module.exports = { check, assertNone, seen, doc, api };
