'use strict';
/**
 * The dialog tools in the browser (resources/editor-tools.js): Preview in the
 * HTTP POST dialog shows the exact request (full URL, template filled, token
 * masked) and sends nothing; Preview in the field mapper offers the node's last
 * input; Generate key fills the encrypt key once; Test connection in the
 * endpoint dialog walks DNS, TCP and the credentials against a partner
 * stand-in on 127.0.0.1.
 */
const assert = require('assert');
const http = require('http');
const { startNodeRed } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');

const TOKEN = 'tok_' + 'q'.repeat(28);

function flow(base) {
  return [
    { id: 'toolstab', type: 'tab', label: 'tools' },
    {
      id: 'toolsep',
      type: 'saypro-endpoint',
      name: 'Partner',
      baseUrl: `${base}/api`,
      method: 'POST',
      headers: [],
      timeout: 5000,
      keepAlive: true,
      authType: 'bearer',
      credentials: { token: '${TOOLS_PARTNER_TOKEN}' },
    },
    {
      id: 'toolsinject',
      type: 'inject',
      z: 'toolstab',
      name: 'listing',
      props: [{ p: 'payload' }],
      payload: '{"listingId":"L-77","price":"9.50"}',
      payloadType: 'json',
      x: 120,
      y: 80,
      wires: [['toolsmapper']],
    },
    {
      id: 'toolsmapper',
      type: 'saypro-field-mapper',
      z: 'toolstab',
      name: '',
      keepUnmapped: false,
      x: 320,
      y: 80,
      wires: [[], []],
      rules: [
        { target: 'id', sourceType: 'msg', source: 'payload.listingId', type: 'string', required: true },
        { target: 'amount', sourceType: 'msg', source: 'payload.price', type: 'minor', decimals: 2, required: true },
      ],
    },
    {
      id: 'toolsenc',
      type: 'saypro-encrypt',
      z: 'toolstab',
      name: '',
      algorithm: 'aes-256-gcm',
      kid: 'k1',
      aad: '',
      aadType: 'none',
      x: 320,
      y: 160,
      wires: [[], []],
      credentials: { key: 'ab'.repeat(32) },
    },
    {
      id: 'toolspost',
      type: 'saypro-http-post',
      z: 'toolstab',
      name: '',
      endpoint: 'toolsep',
      method: 'POST',
      path: '/orders/{{event.id}}',
      headers: [{ name: 'X-Source', value: 'saypro' }],
      idempotencyHeader: 'Idempotency-Key',
      durable: true,
      x: 320,
      y: 240,
      wires: [[], []],
    },
  ];
}

describeInBrowsers('dialog tools', function (ui) {
  let nr;
  let partner;
  let base;
  let page;
  const requests = [];

  before(async function () {
    partner = http.createServer((req, res) => {
      requests.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      res.statusCode = req.headers.authorization === `Bearer ${TOKEN}` ? 200 : 401;
      res.end('{}');
    });
    await new Promise((r) => partner.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${partner.address().port}`;
    nr = await startNodeRed({ flow: flow(base), env: { TOOLS_PARTNER_TOKEN: TOKEN } });
    await ui.open(nr.base + '/');
    page = ui.page;
  });

  after(async function () {
    if (nr) await nr.stop();
    if (partner) await new Promise((r) => partner.close(r));
  });

  async function edit(id) {
    await page.waitFor((nid) => !!RED.nodes.node(nid), id);
    await page.evaluate((nid) => {
      RED.workspaces.show('toolstab');
      RED.editor.edit(RED.nodes.node(nid));
    }, id);
    await page.waitVisible('#dialog-form .saypro-preview-run, #dialog-form .saypro-generate-key');
  }
  async function cancel() {
    await page.click('#node-dialog-cancel');
    await page.waitGone('#dialog-form');
  }
  const output = () =>
    page.waitFor(() => {
      const t = $('.saypro-preview-output').text();
      return t && !/Computing/.test(t) ? t : false;
    });

  it('HTTP POST: Preview shows the exact request — method, full URL, headers with the token masked, body — and sends nothing', async function () {
    await edit('toolspost');
    await page.select('.saypro-preview-source', 'listing.created');
    await page.click('.saypro-preview-run');
    const text = await output();
    const lines = text.split('\n');
    assert.strictEqual(lines[0], `POST ${base}/api/orders/evt_sample_listing`);
    assert.ok(lines.includes('Authorization: Bearer [redacted]'), text);
    assert.ok(lines.includes('X-Source: saypro'), text);
    assert.ok(lines.includes('Idempotency-Key: evt_sample_listing'), text);
    assert.ok(lines.includes('content-type: application/json'), text);
    assert.match(text, /"listingId":"L-1001"/);
    assert.ok(!text.includes(TOKEN), 'the token is never shown');
    await ui.noSidewaysScroll();
    await cancel();
    assert.deepStrictEqual(requests, [], 'the preview reached no partner');
  });

  it('field mapper: after a message, Preview offers it as the last input and shows the mapped object', async function () {
    await page.evaluate(() => RED.workspaces.show('toolstab'));
    await page.click('[id="toolsinject"] .red-ui-flow-node-button');
    // the inject's message reaches the mapper; the dialog then finds it
    let found = false;
    for (let i = 0; i < 50 && !found; i++) {
      found = await page.evaluate(() =>
        $.getJSON('saypro-integration-kit/last-input/toolsmapper').then((r) => !!r.msg),
      );
      if (!found) await new Promise((res) => setTimeout(res, 200));
    }
    assert.ok(found, 'the mapper has a last input');
    await edit('toolsmapper');
    await page.waitFor(() => $('.saypro-preview-source').val() === 'last');
    assert.match(await page.value('.saypro-preview-sample'), /L-77/);
    await page.click('.saypro-preview-run');
    assert.deepStrictEqual(JSON.parse(await output()), { id: 'L-77', amount: 950 });
    await ui.noSidewaysScroll();
    await cancel();
  });

  it('encrypt: Generate key fills the key once (64 hex characters) and Preview shows the envelope', async function () {
    await edit('toolsenc');
    await page.click('.saypro-generate-key');
    const key = await page.waitFor(() => $('.saypro-generated-key-value').text());
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.strictEqual(await page.value('#node-input-key'), key);
    assert.strictEqual(await page.hasClass('#node-input-key', 'input-error'), false);
    await page.select('.saypro-preview-source', 'payment.completed');
    await page.click('.saypro-preview-run');
    const text = await output();
    assert.match(text, /x-encryption-alg: A256GCM/);
    assert.match(text, /"alg": "A256GCM"/);
    assert.match(text, /"ct": "/);
    await ui.noSidewaysScroll();
    await page.click('#node-dialog-ok');
    await page.waitGone('#dialog-form');
    const creds = await page.evaluate(() => RED.nodes.node('toolsenc').credentials);
    assert.strictEqual(creds.key, key, 'kept as the credential');
  });

  it('endpoint: Test connection says the connection works, step by step', async function () {
    await page.evaluate(() => RED.editor.editConfig('', 'saypro-endpoint', 'toolsep'));
    await page.waitVisible('#node-config-dialog-edit-form .saypro-test-connection-run');
    await page.fill('#saypro-endpoint-probe-path', '/me');
    await page.click('.saypro-test-connection-run');
    const summary = await page.waitFor(() => $('.saypro-test-connection-summary').text());
    assert.strictEqual(summary, 'The connection works.');
    const steps = (await page.texts('.saypro-test-connection-result li[data-step]')).map((t) => t.trim());
    assert.match(steps[0], /^Settings:/);
    assert.match(steps[1], /^DNS: 127\.0\.0\.1 is an IP address/);
    assert.match(steps[2], /^TCP: connected to 127\.0\.0\.1 port \d+/);
    assert.match(steps[3], /^Authentication: GET .*\/api\/me answered 200/);
    assert.strictEqual(requests.length, 1);
    assert.strictEqual(requests[0].url, '/api/me');

    await page.click('#node-config-dialog-cancel');
    await page.waitGone('#node-config-dialog-edit-form');
  });
});
