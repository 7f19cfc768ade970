'use strict';
/**
 * `${NAME}` in credentials as Node-RED resolves `${NAME}` elsewhere, in a real
 * Node-RED process: a variable set only in Node-RED's global environment
 * (User Settings ▸ Environment, the flows' global-config node) reaches the
 * endpoint's API key and the encrypt node's key; the editor's check of
 * variable names sees it too; the process environment still works.
 */
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');

const { startNodeRed, debugPane } = require('../support/nodered');
const { endpointNode } = require('../support/flows');

const Z = 'envtab0000000001';
const API_KEY = 'global-api-key-' + crypto.randomBytes(6).toString('hex');
const ENC_KEY = crypto.randomBytes(32).toString('hex');

describe('${NAME} from Node-RED global environment variables (real Node-RED)', function () {
  this.timeout(60000);
  let nr;
  let server;
  let pane;
  const seen = [];

  before(async function () {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ key: req.headers['x-api-key'], body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    nr = await startNodeRed({
      env: { ENV_PROCESS_ONLY: 'from-the-process' },
      flow: [
        {
          id: 'envglobal0000001',
          type: 'global-config',
          env: [
            { name: 'ENV_GLOBAL_API_KEY', value: API_KEY, type: 'str' },
            { name: 'ENV_GLOBAL_ENC_KEY', value: ENC_KEY, type: 'str' },
          ],
        },
        { id: Z, type: 'tab', label: 'env' },
        endpointNode('envep', `http://127.0.0.1:${server.address().port}`, {
          authType: 'apikey',
          apiKeyIn: 'header',
          apiKeyName: 'X-API-Key',
          credentials: { apiKey: '${ENV_GLOBAL_API_KEY}' },
        }),
        {
          id: 'envinject',
          z: Z,
          type: 'inject',
          props: [{ p: 'payload' }],
          payload: '{"order":7}',
          payloadType: 'json',
          repeat: '',
          once: true,
          onceDelay: 0.5,
          wires: [['envenc']],
        },
        {
          id: 'envenc',
          z: Z,
          type: 'saypro-encrypt',
          name: '',
          algorithm: 'aes-256-gcm',
          kid: 'k1',
          aad: '',
          aadType: 'none',
          credentials: { key: '${ENV_GLOBAL_ENC_KEY}' },
          wires: [['envpost'], ['envfail']],
        },
        {
          id: 'envpost',
          z: Z,
          type: 'saypro-http-post',
          name: 'post',
          endpoint: 'envep',
          method: 'POST',
          path: '/in',
          headers: [],
          maxAttempts: 1,
          durable: false,
          wires: [[], ['envfail']],
        },
        {
          id: 'envfail',
          z: Z,
          type: 'debug',
          name: 'failed',
          active: true,
          tosidebar: true,
          complete: 'true',
          wires: [],
        },
      ],
    });
    pane = debugPane(nr.base);
    await pane.open;
  });

  after(async function () {
    if (pane) pane.close();
    if (nr) await nr.stop();
    if (server) await new Promise((r) => server.close(r));
  });

  it('the API key and the encryption key come from the global variables', async function () {
    const deadline = Date.now() + 30000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(seen.length, 1, nr.output.slice(-3000));
    assert.strictEqual(seen[0].key, API_KEY);
    const env = JSON.parse(seen[0].body);
    const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(ENC_KEY, 'hex'), Buffer.from(env.iv, 'base64'));
    d.setAuthTag(Buffer.from(env.tag, 'base64'));
    const plain = Buffer.concat([d.update(Buffer.from(env.ct, 'base64')), d.final()]).toString('utf8');
    assert.deepStrictEqual(JSON.parse(plain), { order: 7 });
    assert.deepStrictEqual(
      pane.messages.filter((m) => m.name === 'failed'),
      [],
    );
    assert.ok(!nr.output.includes(API_KEY) && !nr.output.includes(ENC_KEY), 'no key in the log');
  });

  it("the editor's variable check sees global and process variables, by name only", async function () {
    const res = await fetch(
      `${nr.base}/saypro-integration-kit/env?names=ENV_GLOBAL_API_KEY,ENV_PROCESS_ONLY,ENV_NOWHERE`,
    );
    const text = await res.text();
    assert.deepStrictEqual(JSON.parse(text), {
      set: { ENV_GLOBAL_API_KEY: true, ENV_PROCESS_ONLY: true, ENV_NOWHERE: false },
    });
    assert.ok(!text.includes(API_KEY));
  });
});
