#!/usr/bin/env node
'use strict';
/**
 * Trims a vendor's published OpenAPI document down to the operations this
 * package calls, for the contract tests (test/contracts/specs/<vendor>.json).
 *
 *   node scripts/trim-vendor-spec.js <source .yaml|.json> <out.json> "POST /v1/payment_intents" "GET /v1/payment_intents/{intent}" …
 *   node scripts/trim-vendor-spec.js --all <folder with stripe/, sendgrid/, twilio/>   (the set in test/contracts/specs)
 *
 * Keeps: openapi, info (title, version, licence), servers, security, the
 * named operations (with their path-level parameters), and every component
 * they reference, followed transitively ($ref inside a kept component keeps
 * that one too) plus the security schemes. Drops prose (description, examples
 * and x-… vendor extensions), which the validator does not need, so that each
 * copy stays well under 1 MiB. The output is sorted JSON, so a re-run gives
 * the same bytes.
 */
const fs = require('node:fs');
const path = require('node:path');

/** What test/contracts/specs holds: vendor → [source file in the vendor-specs folder, operations]. */
const SET = {
  stripe: [
    'stripe/spec3.yaml',
    ['POST /v1/payment_intents', 'GET /v1/payment_intents/{intent}', 'POST /v1/refunds', 'POST /v1/customers'],
  ],
  sendgrid: ['sendgrid/tsg_mail_v3.json', ['POST /v3/mail/send']],
  twilio: ['twilio/twilio_api_v2010.json', ['POST /2010-04-01/Accounts/{AccountSid}/Messages.json']],
};

const MAPS = [
  'properties',
  'encoding',
  'schemas',
  'responses',
  'content',
  'headers',
  'parameters',
  'requestBodies',
  'securitySchemes',
];
const DROP = new Set(['description', 'example', 'examples', 'summary', 'externalDocs']);

function load(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (/\.ya?ml$/i.test(file)) {
    const yaml = require('js-yaml');
    return yaml.load(text);
  }
  return JSON.parse(text);
}

/**
 * A copy without prose and vendor extensions. `key` is the name the value has
 * in its parent, `parent` the parent's own name: a response object (a value in
 * a `responses` map) keeps its description, which OpenAPI requires.
 */
function strip(value, key, parent) {
  if (Array.isArray(value)) return value.map((v) => strip(v, undefined, key));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  // these map names to objects (a property may be called "description"),
  // unless the value is itself one of the named objects (a property called "content")
  const isMapOfNames = MAPS.includes(key) && !MAPS.includes(parent);
  const isResponse = parent === 'responses';
  for (const k of Object.keys(value).sort()) {
    if (!isMapOfNames && !(isResponse && k === 'description') && (DROP.has(k) || k.startsWith('x-'))) continue;
    out[k] = strip(value[k], k, key);
  }
  if (isResponse && !value.$ref && out.description === undefined) out.description = '';
  return out;
}

/** Every "#/components/<kind>/<name>" referenced anywhere inside `value`. */
function refsIn(value, found = new Set()) {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') found.add(v);
      else refsIn(v, found);
    }
  }
  return found;
}

function pointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new Error('only local references are followed: ' + ref);
  let cur = doc;
  for (const part of ref.slice(2).split('/')) {
    const p = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === undefined || cur === null) break;
    cur = cur[p];
  }
  if (cur === undefined) throw new Error('dangling reference ' + ref);
  return cur;
}

function trim(doc, operations) {
  const out = {
    openapi: doc.openapi,
    info: { title: doc.info.title, version: doc.info.version },
    paths: {},
  };
  if (doc.info.license) out.info.license = doc.info.license;
  if (doc.servers) out.servers = doc.servers;
  if (doc.security) out.security = doc.security;
  for (const spec of operations) {
    const [method, p] = spec.split(' ');
    const item = doc.paths && doc.paths[p];
    const op = item && item[method.toLowerCase()];
    if (!op) throw new Error(`no operation ${spec} in the document`);
    out.paths[p] = out.paths[p] || {};
    if (item.parameters) out.paths[p].parameters = strip(item.parameters);
    if (item.servers) out.paths[p].servers = item.servers;
    out.paths[p][method.toLowerCase()] = strip(op);
    if (op.summary) out.paths[p][method.toLowerCase()].summary = op.summary;
  }
  // components, transitively
  const components = {};
  const pending = [...refsIn(out.paths)];
  const seen = new Set();
  while (pending.length) {
    const ref = pending.pop();
    if (seen.has(ref)) continue;
    seen.add(ref);
    const [, , kind, name] = ref.split('/');
    const value = strip(pointer(doc, ref), name, kind);
    components[kind] = components[kind] || {};
    components[kind][name] = value;
    for (const r of refsIn(value)) if (!seen.has(r)) pending.push(r);
  }
  const schemes = doc.components && doc.components.securitySchemes;
  if (schemes) components.securitySchemes = schemes;
  const sorted = {};
  for (const kind of Object.keys(components).sort()) {
    sorted[kind] = {};
    for (const name of Object.keys(components[kind]).sort()) sorted[kind][name] = components[kind][name];
  }
  out.components = sorted;
  return out;
}

function write(file, doc) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const text = JSON.stringify(doc) + '\n';
  fs.writeFileSync(file, text);
  return text.length;
}

function main(argv) {
  if (argv[0] === '--all') {
    const from = argv[1];
    const to = argv[2] || path.join(__dirname, '..', 'test', 'contracts', 'specs');
    if (!from) throw new Error('usage: trim-vendor-spec.js --all <vendor-specs folder> [out folder]');
    for (const [vendor, [file, ops]] of Object.entries(SET)) {
      const bytes = write(path.join(to, vendor + '.json'), trim(load(path.join(from, file)), ops));
      console.log(`${vendor}.json: ${ops.length} operations, ${(bytes / 1024).toFixed(0)} KiB`);
    }
    return;
  }
  const [source, target, ...ops] = argv;
  if (!source || !target || ops.length === 0)
    throw new Error('usage: trim-vendor-spec.js <source> <out.json> "METHOD /path" …');
  const bytes = write(target, trim(load(source), ops));
  console.log(`${target}: ${ops.length} operations, ${(bytes / 1024).toFixed(0)} KiB`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}

module.exports = { trim, SET };
