'use strict';
/**
 * docs/openapi/saypro-api.json, our own OpenAPI 3.1 document of the endpoints
 * the examples serve: it is a valid document (checked against the official
 * OpenAPI 3.1 schema by @seriousme/openapi-schema-validator) and passes a few
 * rules of our own; its paths are exactly the ones the example flows serve;
 * example 13 serves this very document. That the examples' real answers match
 * it is checked by the e2e tests (test/support/openapi-answers.js).
 */
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { Validator } = require('@seriousme/openapi-schema-validator');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;
const { exampleFlow, DOC, OUT } = require('../../scripts/openapi-example.js');

const root = path.resolve(__dirname, '..', '..');
const doc = JSON.parse(fs.readFileSync(DOC, 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations() {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const m of METHODS) if (item[m]) out.push({ path: p, method: m, op: item[m] });
  return out;
}

function refs(value, found = []) {
  if (Array.isArray(value)) value.forEach((v) => refs(v, found));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) k === '$ref' ? found.push(v) : refs(v, found);
  return found;
}

describe('docs/openapi/saypro-api.json', function () {
  this.timeout(10000);

  it('is a valid OpenAPI 3.1 document', async function () {
    assert.strictEqual(doc.openapi, '3.1.0');
    const result = await new Validator().validate(doc);
    assert.strictEqual(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('lint: every operation has an operationId, a summary, a tag, and a JSON schema for each answer; every $ref resolves; every schema compiles', function () {
    const ids = new Set();
    for (const { path: p, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${p}`;
      assert.match(op.operationId || '', /^[a-z][A-Za-z]+$/, `${where}: operationId`);
      assert.ok(!ids.has(op.operationId), `${where}: operationId used twice`);
      ids.add(op.operationId);
      assert.ok(op.summary && op.tags && op.tags.length, `${where}: summary and tag`);
      for (const [status, r] of Object.entries(op.responses)) {
        const resp = r.$ref ? doc.components.responses[r.$ref.split('/').pop()] : r;
        assert.ok(resp && resp.description, `${where} ${status}: description`);
        assert.ok(
          resp.content && resp.content['application/json'] && resp.content['application/json'].schema,
          `${where} ${status}: a JSON body schema`,
        );
      }
      for (const prm of op.parameters || [])
        assert.ok(prm.description && prm.schema, `${where}: parameter ${prm.name} is described`);
    }
    for (const r of refs(doc)) {
      const target = r
        .slice(2)
        .split('/')
        .reduce((o, k) => (o ? o[k] : undefined), doc);
      assert.ok(target !== undefined, `${r} resolves`);
    }
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
    addFormats(ajv);
    ajv.addKeyword('example');
    ajv.addKeyword('components');
    ajv.addSchema({ $id: 'urn:saypro:doc', components: doc.components });
    for (const name of Object.keys(doc.components.schemas)) {
      ajv.getSchema(`urn:saypro:doc#/components/schemas/${name}`);
      for (const ex of doc.components.schemas[name].examples || []) {
        const validate = ajv.getSchema(`urn:saypro:doc#/components/schemas/${name}`);
        assert.ok(validate(ex), `${name}: its example is valid: ${JSON.stringify(validate.errors)}`);
      }
    }
  });

  it('documents exactly the paths the example flows serve (http in and event trigger nodes), with their methods', function () {
    const served = new Set();
    for (const f of fs.readdirSync(path.join(root, 'examples')).filter((x) => x.endsWith('.json'))) {
      const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8'));
      for (const n of flow) {
        const skip = /^\/(demo|partner)\//.test(n.url || '') || n.url === '/saypro/openapi.json';
        if ((n.type === 'http in' || n.type === 'saypro-event-trigger') && !skip)
          served.add(`${(n.method || 'post').toUpperCase()} ${n.url}`);
      }
    }
    const documented = new Set(operations().map((o) => `${o.method.toUpperCase()} ${o.path}`));
    assert.deepStrictEqual([...documented].sort(), [...served].sort());
  });

  it('every SayPro API operation answers 503 with Retry-After (the 30 s deadline) and every event endpoint lists 202/400/401/413/415/422/503', function () {
    for (const { path: p, op } of operations()) {
      const statuses = Object.keys(op.responses);
      if (p.startsWith('/saypro/events/')) {
        for (const s of ['202', '400', '401', '413', '415', '422', '503'])
          assert.ok(statuses.includes(s), `${p}: ${s}`);
        assert.deepStrictEqual(
          op.parameters.map((x) => x.name),
          ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
        );
        assert.ok(op.responses['503'].headers['Retry-After']);
      } else {
        assert.deepStrictEqual(op.responses['503'], { $ref: '#/components/responses/ProviderUnreachable' }, p);
      }
    }
    assert.ok(doc.components.responses.ProviderUnreachable.headers['Retry-After']);
  });

  it('example 13 serves this very document (regenerate it with node scripts/openapi-example.js)', function () {
    const shipped = JSON.parse(fs.readFileSync(OUT, 'utf8'));
    assert.deepStrictEqual(shipped, exampleFlow(doc));
    const template = shipped.find((n) => n.type === 'template');
    assert.deepStrictEqual(JSON.parse(template.template), doc);
  });
});
