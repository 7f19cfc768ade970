'use strict';
/**
 * Validates HTTP requests and answers against a vendor's own OpenAPI document
 * (the trimmed copies in ./specs, see ./README.md), with Ajv (JSON Schema
 * 2020-12) and ajv-formats, and a thin operation lookup of our own:
 *
 *   const stripe = contract('stripe');
 *   stripe.validateRequest({ method, path, query, headers, rawBody })
 *     → { operation: 'POST /v1/payment_intents' | undefined, errors: ['request/body/amount must be integer', …] }
 *   stripe.validateResponse({ method, path, status, headers, body })   (body: parsed JSON or '' / null)
 *     → { operation, errors }
 *   stripe.operation('POST', '/v1/payment_intents') → { method, template, params } | undefined
 *
 * What it checks: the operation exists; path parameters; query parameters
 * (form style, exploded arrays are repeated names, `explode: false` ones are
 * comma lists, deepObject `a[b]=c`); required header parameters; the
 * security requirement (HTTP Basic or Bearer, from the document's
 * securitySchemes); the request content type and body. Form bodies
 * (application/x-www-form-urlencoded) are read with bracket nesting, as
 * Stripe and Twilio read them, and their strings coerced to the declared
 * types; JSON bodies are not coerced. Answers: the status is one the document
 * declares (or `default`), and a JSON body matches its schema.
 *
 * OpenAPI 3.0 schemas are adapted in memory for Ajv: `nullable: true` allows
 * null (`type: [t, 'null']`, or `anyOf: [… , {type: 'null'}]` without a type),
 * boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers.
 */
const fs = require('node:fs');
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;
const { parseForm, parseQuery } = require('../fakes/form');

const SPECS = path.join(__dirname, 'specs');
/** formats vendors use that ajv-formats does not know: accepted as any string */
const VENDOR_FORMATS = [
  'phone-number',
  'date-time-rfc-2822',
  'currency',
  'uri-map',
  'unix-time',
  'decimal',
  'int32',
  'int64',
  'float',
  'double',
  'binary',
  'byte',
  'password',
  'uri-reference',
];

/** OpenAPI 3.0 → JSON Schema 2020-12 adjustments, on a copy. */
function adapt(value, is30) {
  if (Array.isArray(value)) return value.map((v) => adapt(v, is30));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = adapt(v, is30);
  // `nullable` is OpenAPI 3.0; SendGrid's 3.1 document uses it too
  if (out.nullable === true || out.nullable === false) {
    if (out.nullable === true) {
      delete out.nullable;
      if (typeof out.type === 'string') {
        out.type = [out.type, 'null'];
        if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      } else if (out.type === undefined) {
        const inner = { ...out };
        for (const k of Object.keys(out)) delete out[k];
        out.anyOf = [inner, { type: 'null' }];
      }
    }
    delete out.nullable;
  }
  if (is30) {
    for (const k of ['exclusiveMinimum', 'exclusiveMaximum']) {
      if (out[k] === true) {
        out[k] = out[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
        delete out[k === 'exclusiveMinimum' ? 'minimum' : 'maximum'];
      } else if (out[k] === false) delete out[k];
    }
  }
  return out;
}

function escapePointer(s) {
  return String(s).replace(/~/g, '~0').replace(/\//g, '~1');
}

function newAjv(coerce) {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    coerceTypes: coerce ? 'array' : false,
    validateFormats: true,
    discriminator: false,
  });
  addFormats(ajv);
  for (const f of VENDOR_FORMATS) ajv.addFormat(f, true);
  return ajv;
}

function formatErrors(prefix, errors) {
  return (errors || []).map((e) => {
    const where = (prefix + e.instancePath).replace(/\/$/, '');
    if (e.keyword === 'additionalProperties')
      return `${where} must NOT have additional property '${e.params.additionalProperty}'`;
    if (e.keyword === 'required') return `${where} must have required property '${e.params.missingProperty}'`;
    if (e.keyword === 'enum') return `${where} must be one of ${JSON.stringify(e.params.allowedValues)}`;
    return `${where} ${e.message}`;
  });
}

/** Loads ./specs/<name>.json (or a document object) and returns its validator. */
function contract(nameOrDoc) {
  const raw =
    typeof nameOrDoc === 'string'
      ? JSON.parse(fs.readFileSync(path.join(SPECS, nameOrDoc + '.json'), 'utf8'))
      : nameOrDoc;
  const is30 = /^3\.0\./.test(String(raw.openapi));
  const doc = adapt(raw, is30);
  const id =
    'urn:contract:' +
    (typeof nameOrDoc === 'string'
      ? nameOrDoc
      : raw.info && raw.info.title
        ? raw.info.title.replace(/\W+/g, '-')
        : 'doc');
  const strictAjv = newAjv(false);
  const formAjv = newAjv(true);
  strictAjv.addSchema(doc, id);
  formAjv.addSchema(doc, id);
  const cache = new Map();

  /** a compiled validator for the schema at JSON pointer `ptr` inside the document */
  function validatorAt(ptr, coerce) {
    const key = (coerce ? 'c:' : 's:') + ptr;
    if (!cache.has(key)) cache.set(key, (coerce ? formAjv : strictAjv).compile({ $ref: id + '#' + ptr }));
    return cache.get(key);
  }

  function resolve(obj) {
    let cur = obj;
    for (let i = 0; cur && cur.$ref && i < 10; i++) {
      cur = cur.$ref
        .slice(2)
        .split('/')
        .reduce((o, p) => (o ? o[p.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
    }
    return cur;
  }

  /** pointer of a (possibly $ref'd) object found at `ptr`: follows the refs */
  function pointerOf(ptr) {
    let obj = ptr
      .slice(1)
      .split('/')
      .reduce((o, p) => (o ? o[p.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
    let p = ptr;
    for (let i = 0; obj && obj.$ref && i < 10; i++) {
      p = obj.$ref.slice(1);
      obj = resolve({ $ref: obj.$ref });
    }
    return p;
  }

  const templates = Object.keys(doc.paths || {}).map((template) => {
    const names = [];
    const re = new RegExp(
      '^' +
        template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            const m = /^\{([^}]+)\}$/.exec(part);
            if (m) {
              names.push(m[1]);
              return '([^/]+)';
            }
            return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          })
          .join('') +
        '/?$',
    );
    return { template, re, names, literal: template.replace(/\{[^}]+\}/g, '').length };
  });

  function operation(method, urlPath) {
    const m = String(method).toLowerCase();
    const hits = [];
    for (const t of templates) {
      const match = t.re.exec(urlPath);
      if (!match || !doc.paths[t.template][m]) continue;
      const params = {};
      t.names.forEach((n, i) => {
        params[n] = decodeURIComponent(match[i + 1]);
      });
      hits.push({ method: m.toUpperCase(), template: t.template, params, literal: t.literal });
    }
    // the most specific template wins (/v1/payment_intents/search before /v1/payment_intents/{intent})
    hits.sort((a, b) => b.literal - a.literal);
    return hits[0];
  }

  /** the operation's parameters (path-level and its own), resolved, with the pointer of each schema */
  function parametersOf(op) {
    const base = '/paths/' + escapePointer(op.template);
    const out = new Map();
    const add = (list, listPtr) => {
      (list || []).forEach((p, i) => {
        const ptr = pointerOf(`${listPtr}/${i}`);
        const param = resolve(p);
        if (param) out.set(param.in + ':' + param.name, { param, schemaPtr: ptr + '/schema' });
      });
    };
    add(doc.paths[op.template].parameters, base + '/parameters');
    add(
      doc.paths[op.template][op.method.toLowerCase()].parameters,
      base + '/' + op.method.toLowerCase() + '/parameters',
    );
    return [...out.values()];
  }

  function checkSecurity(opDef, headers, errors) {
    const requirements = opDef.security !== undefined ? opDef.security : doc.security;
    if (!requirements || requirements.length === 0) return;
    const schemes = (doc.components && doc.components.securitySchemes) || {};
    const auth = String(headers.authorization || '');
    const ok = requirements.some((req) =>
      Object.keys(req).every((name) => {
        const s = schemes[name];
        if (!s) return false;
        if (s.type === 'http' && /^basic$/i.test(s.scheme)) return /^Basic \S+$/i.test(auth);
        if (s.type === 'http' && /^bearer$/i.test(s.scheme)) return /^Bearer \S+$/i.test(auth);
        if (s.type === 'apiKey' && s.in === 'header') return headers[String(s.name).toLowerCase()] !== undefined;
        return true;
      }),
    );
    if (!ok)
      errors.push(
        'request/headers/authorization does not meet the security requirement ' + JSON.stringify(requirements),
      );
  }

  /** query value for a parameter: what a server reads from the raw query */
  function queryValue(param, query, search) {
    const style = param.style || 'form';
    const explode = param.explode !== undefined ? param.explode : style === 'form';
    if (style === 'deepObject') {
      const parsed = parseForm(search.replace(/^\?/, ''));
      return parsed[param.name];
    }
    let v = query[param.name];
    if (v === undefined) return undefined;
    const schema = resolve(param.schema) || {};
    if (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array'))) {
      if (explode) return Array.isArray(v) ? v : [v];
      return (Array.isArray(v) ? v.join(',') : v).split(',');
    }
    return v;
  }

  /**
   * @param {{method:string, path:string, query?:object, search?:string, headers?:object, rawBody?:string, body?:any}} r
   *   path: the decoded path without the query; query: parsed (repeated names → arrays); search: the raw query string
   */
  function validateRequest(r) {
    const headers = Object.fromEntries(Object.entries(r.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
    const op = operation(r.method, r.path);
    if (!op)
      return {
        operation: undefined,
        errors: [`${r.method} ${r.path} is not an operation of ${raw.info && raw.info.title}`],
      };
    const opDef = doc.paths[op.template][op.method.toLowerCase()];
    const opPtr = '/paths/' + escapePointer(op.template) + '/' + op.method.toLowerCase();
    const errors = [];
    const search = r.search || '';
    const query = r.query || parseQuery(search);

    for (const { param, schemaPtr } of parametersOf(op)) {
      let value;
      if (param.in === 'path') value = op.params[param.name];
      else if (param.in === 'query') value = queryValue(param, query, search);
      else if (param.in === 'header') value = headers[param.name.toLowerCase()];
      else continue;
      if (value === undefined) {
        if (param.required) errors.push(`request/${param.in}/${param.name} is required`);
        continue;
      }
      if (!param.schema) continue;
      const holder = { v: value };
      const validate = validatorAt(schemaPtr, true);
      if (!validate(holder.v)) errors.push(...formatErrors(`request/${param.in}/${param.name}`, validate.errors));
    }
    checkSecurity(opDef, headers, errors);

    const rb = opDef.requestBody ? resolve(opDef.requestBody) : undefined;
    const rawBody = r.rawBody === undefined || r.rawBody === null ? '' : String(r.rawBody);
    if (rb) {
      const rbPtr = pointerOf(opPtr + '/requestBody');
      const contentType = String(headers['content-type'] || '')
        .split(';')[0]
        .trim()
        .toLowerCase();
      if (rawBody === '') {
        if (rb.required) errors.push('request/body is required');
      } else {
        const types = Object.keys(rb.content || {});
        const media =
          types.find((t) => t.toLowerCase() === contentType) ||
          types.find((t) => t.endsWith('/*') && contentType.startsWith(t.slice(0, -1)));
        if (!media)
          errors.push(
            `request/headers/content-type '${contentType || '(none)'}' is not one of ${JSON.stringify(types)}`,
          );
        else {
          const schemaPtr = `${rbPtr}/content/${escapePointer(media)}/schema`;
          let body;
          let coerce = false;
          if (/json/.test(media)) {
            try {
              body = JSON.parse(rawBody);
            } catch (err) {
              errors.push('request/body is not valid JSON: ' + err.message);
            }
          } else if (media === 'application/x-www-form-urlencoded') {
            body = parseForm(rawBody);
            coerce = true;
          }
          if (body !== undefined && rb.content[media].schema) {
            const validate = validatorAt(schemaPtr, coerce);
            if (!validate(body)) errors.push(...formatErrors('request/body', validate.errors));
          }
        }
      }
    } else if (rawBody !== '' && !['GET', 'DELETE', 'HEAD'].includes(op.method)) {
      errors.push('request/body is not expected by the operation');
    }
    return { operation: `${op.method} ${op.template}`, errors };
  }

  /**
   * @param {{method:string, path:string, status:number, headers?:object, body?:any}} r  body: parsed JSON, a string, or null
   * @param {{allowUndeclaredErrors?: boolean}} [opts]  a 4xx/5xx the document does not list passes (vendors document few of their errors)
   */
  function validateResponse(r, opts = {}) {
    const op = operation(r.method, r.path);
    if (!op)
      return {
        operation: undefined,
        errors: [`${r.method} ${r.path} is not an operation of ${raw.info && raw.info.title}`],
      };
    const m = op.method.toLowerCase();
    const responses = doc.paths[op.template][m].responses || {};
    const status = String(r.status);
    const key = responses[status]
      ? status
      : responses[status[0] + 'XX']
        ? status[0] + 'XX'
        : responses.default
          ? 'default'
          : undefined;
    const errors = [];
    if (!key && opts.allowUndeclaredErrors && Number(status) >= 400)
      return { operation: `${op.method} ${op.template}`, errors: [] };
    if (!key)
      return {
        operation: `${op.method} ${op.template}`,
        errors: [`response status ${status} is not declared (${Object.keys(responses).join(', ')})`],
      };
    const respPtr = pointerOf('/paths/' + escapePointer(op.template) + '/' + m + '/responses/' + escapePointer(key));
    const resp = resolve(responses[key]);
    const content = (resp && resp.content) || {};
    const types = Object.keys(content);
    const empty = r.body === undefined || r.body === null || r.body === '';
    if (types.length === 0) {
      if (!empty) errors.push(`response ${status} must have no body`);
    } else {
      const media = types.find((t) => /json/.test(t));
      if (media && content[media].schema) {
        if (empty) errors.push(`response ${status} must have a ${media} body`);
        else {
          const validate = validatorAt(`${respPtr}/content/${escapePointer(media)}/schema`, false);
          if (!validate(r.body)) errors.push(...formatErrors(`response/${status}/body`, validate.errors));
        }
      }
    }
    return { operation: `${op.method} ${op.template}`, errors };
  }

  /**
   * Compiles the validators of every operation's request body and JSON
   * answers now (Stripe's PaymentIntent takes a second or more), so that a
   * stand-in does not stall on its first request.
   */
  function warm() {
    for (const [template, item] of Object.entries(doc.paths || {})) {
      for (const m of ['get', 'put', 'post', 'patch', 'delete']) {
        const op = item[m];
        if (!op) continue;
        const opPtr = '/paths/' + escapePointer(template) + '/' + m;
        const rb = op.requestBody ? resolve(op.requestBody) : undefined;
        for (const media of Object.keys((rb && rb.content) || {})) {
          if (rb.content[media].schema)
            validatorAt(
              `${pointerOf(opPtr + '/requestBody')}/content/${escapePointer(media)}/schema`,
              media === 'application/x-www-form-urlencoded',
            );
        }
        for (const status of Object.keys(op.responses || {})) {
          const resp = resolve(op.responses[status]);
          const media = Object.keys((resp && resp.content) || {}).find((t) => /json/.test(t));
          if (media && resp.content[media].schema)
            validatorAt(
              `${pointerOf(opPtr + '/responses/' + escapePointer(status))}/content/${escapePointer(media)}/schema`,
              false,
            );
        }
      }
    }
  }

  return { doc: raw, operation, validateRequest, validateResponse, warm };
}

const loaded = new Map();
/** one validator per vendor document, built once */
function cachedContract(name) {
  if (!loaded.has(name)) {
    const c = contract(name);
    c.warm();
    loaded.set(name, c);
  }
  return loaded.get(name);
}

module.exports = { contract, cachedContract, adapt };
