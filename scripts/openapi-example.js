#!/usr/bin/env node
'use strict';
/**
 * Writes example 13, which serves docs/openapi/saypro-api.json from Node-RED
 * at GET /saypro/openapi.json (http in → template → http response), from the
 * document itself, so that the two never differ:
 *
 *   node scripts/openapi-example.js
 *
 * test/lib/openapi.spec.js fails when the example holds another document.
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const DOC = path.join(root, 'docs', 'openapi', 'saypro-api.json');
const OUT = path.join(root, 'examples', '13 SayPro API - OpenAPI document.json');
const TAB = '13a2f0c6d4e8b101';

function exampleFlow(doc) {
  const text = JSON.stringify(doc, null, 2);
  return [
    {
      id: TAB,
      type: 'tab',
      label: 'SayPro API - OpenAPI document',
      disabled: false,
      info: 'GET /saypro/openapi.json: the OpenAPI 3.1 document of the SayPro API examples (10–12) and the event trigger endpoints (20–25).',
    },
    {
      id: '13b7c1d9e3f5a202',
      type: 'comment',
      z: TAB,
      name: 'SayPro API: GET /saypro/openapi.json → the OpenAPI 3.1 document (view it in any Swagger UI)',
      info:
        'Serves the OpenAPI 3.1 document of the endpoints the examples answer: `/payments/charge`, `/payments/transaction-status` (example 10), `/email/send`, `/email/campaign-status` (example 11), `/crm/add-user`, `/crm/user-data` (example 12) and the event trigger endpoints `/saypro/events/…` (examples 20–25), with every request field and every answer.\n\n' +
        '    curl -s http://127.0.0.1:1880/saypro/openapi.json\n\n' +
        '**View it** in any Swagger UI: in https://editor.swagger.io choose File ▸ Import URL and enter `http://127.0.0.1:1880/saypro/openapi.json`, or run Swagger UI next to Node-RED:\n\n' +
        '    docker run -p 8080:8080 -e SWAGGER_JSON_URL=http://127.0.0.1:1880/saypro/openapi.json swaggerapi/swagger-ui\n\n' +
        'The answer allows any origin (`Access-Control-Allow-Origin: *`) so that a Swagger UI on another address can read it. ' +
        "The document is docs/openapi/saypro-api.json of the package, copied into the template node by `node scripts/openapi-example.js`; the package's tests check it against the examples' real answers.",
      x: 330,
      y: 60,
      wires: [],
    },
    {
      id: '13c4e2a8f6b0d303',
      type: 'http in',
      z: TAB,
      name: '',
      url: '/saypro/openapi.json',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      x: 170,
      y: 120,
      wires: [['13d9f3b5a7c1e404']],
    },
    {
      id: '13d9f3b5a7c1e404',
      type: 'template',
      z: TAB,
      name: 'docs/openapi/saypro-api.json',
      field: 'payload',
      fieldType: 'msg',
      format: 'json',
      syntax: 'plain',
      template: text,
      output: 'str',
      x: 440,
      y: 120,
      wires: [['13e0a4c6b8d2f505']],
    },
    {
      id: '13e0a4c6b8d2f505',
      type: 'http response',
      z: TAB,
      name: '',
      statusCode: '200',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'access-control-allow-origin': '*',
        'cache-control': 'no-cache',
      },
      x: 690,
      y: 120,
      wires: [],
    },
  ];
}

if (require.main === module) {
  const doc = JSON.parse(fs.readFileSync(DOC, 'utf8'));
  fs.writeFileSync(OUT, JSON.stringify(exampleFlow(doc), null, 4) + '\n');
  console.log('wrote ' + path.relative(root, OUT));
}

module.exports = { exampleFlow, DOC, OUT };
