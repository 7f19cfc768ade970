'use strict';
/**
 * The HTTP POST and endpoint dialogs as a non-developer meets them, in
 * Chromium and Firefox at two window sizes (test/support/browser.js): both in
 * tabs, every tab without sideways scrolling; the HTTP POST dialog shows the
 * full URL (endpoint base + path) and follows the path as it is typed; a
 * credential holding ${VAR} shows as the variable's name with a hint where to
 * set it — also after a deploy and a reload, when Node-RED sends the editor
 * only "a value is stored" — while a real key stays dots and never reaches the
 * page or the flow; the canvas labels tell the nodes apart. Encrypt and
 * decrypt keys imported as ${VAR} (the demo's) show their names the same way.
 */
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { startNodeRed } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');
const { endpointNode } = require('../support/flows');
const { EDITOR_DEFAULTS } = require('../support/http-post-harness');

const SECRET = 'sk_live_' + 'Zq9'.repeat(10);

function flow() {
  return [
    { id: 'dlgtab', type: 'tab', label: 'dialogs' },
    endpointNode('dlgA', '${DLG_API_URL:-https://api.partner.example}/v2', {
      name: '',
      authType: 'bearer',
      secretVars: { token: 'DLG_PARTNER_TOKEN' },
      credentials: { token: '${DLG_PARTNER_TOKEN}' },
    }),
    endpointNode('dlgB', 'https://api.other.example', {
      name: '',
      authType: 'apikey',
      credentials: { apiKey: SECRET },
    }),
    {
      id: 'dlgpost',
      type: 'saypro-http-post',
      z: 'dlgtab',
      ...EDITOR_DEFAULTS,
      endpoint: 'dlgA',
      method: '',
      path: '/orders/{{event.id}}',
      headers: [],
      idempotencyHeader: 'Idempotency-Key',
      durable: true,
      x: 220,
      y: 80,
      wires: [[], []],
    },
    {
      id: 'dlgpost2',
      type: 'saypro-http-post',
      z: 'dlgtab',
      ...EDITOR_DEFAULTS,
      endpoint: 'dlgB',
      method: 'PUT',
      // saved before the Write to disk option existed
      writeBehind: undefined,
      path: '/customers',
      headers: [],
      idempotencyHeader: 'Idempotency-Key',
      durable: true,
      x: 220,
      y: 160,
      wires: [[], []],
    },
  ];
}

describeInBrowsers('HTTP POST and endpoint dialogs', function (ui) {
  let nr;
  let page;

  before(async function () {
    // the variables the dialogs name are set on the server, as a user would set them (a missing one gives a triangle)
    const key = () => require('crypto').randomBytes(32).toString('hex');
    nr = await startNodeRed({
      flow: flow(),
      env: {
        DLG_PARTNER_TOKEN: 'tok_from_env',
        DLG_ROTATED_TOKEN: 'tok_rotated',
        OTHER_TOKEN: 'tok_other',
        DLG_ENC_KEY: key(),
        DLG_DEC_KEY: key(),
        DLG_OLD_KEY: key(),
      },
    });
    await ui.open(nr.base + '/');
    page = ui.page;
  });

  after(async function () {
    if (nr) await nr.stop();
  });

  async function editEndpoint(id) {
    await page.waitFor((nid) => !!RED.nodes.node(nid), id);
    await page.evaluate((nid) => RED.editor.editConfig('', 'saypro-endpoint', nid), id);
    await page.waitVisible('#node-config-dialog-edit-form #node-config-saypro-endpoint-tabs');
  }
  async function closeEndpoint(button) {
    await page.click(button);
    await page.waitGone('#node-config-dialog-edit-form');
  }
  async function editPost(id) {
    await page.waitFor((nid) => !!RED.nodes.node(nid), id);
    await page.evaluate((nid) => {
      RED.workspaces.show('dlgtab');
      RED.editor.edit(RED.nodes.node(nid));
    }, id);
    await page.waitVisible('#dialog-form #node-input-saypro-http-post-tabs');
  }
  /**
   * Clicks a tab of the dialog until `field` shows (Node-RED's tabs take a
   * second click on any tab within 400 ms for a double click and ignore it),
   * then checks that nothing scrolls sideways.
   */
  async function walk(tabs, label, field) {
    for (let i = 0; ; i++) {
      await page.clickText(`${tabs} a`, label);
      const shown = await page.waitFor((sel) => $(sel).is(':visible'), field, 2000).catch(() => false);
      if (shown) break;
      if (i === 4) assert.fail(`the ${label} tab shows ${field}`);
    }
    await ui.noSidewaysScroll();
  }
  const inputType = (sel) => page.evaluate((s) => document.querySelector(s).getAttribute('type'), sel);
  const visibleHint = (field) =>
    page.evaluate((f) => {
      const h = document.querySelector(`.saypro-secret-env-hint[data-field="${f}"]`);
      return h && h.offsetParent !== null ? h.innerText : null;
    }, field);

  it('endpoint: four tabs, each without sideways scroll; a ${VAR} credential shows its name and where to set it', async function () {
    await editEndpoint('dlgA');
    const labels = (await page.texts('#node-config-saypro-endpoint-tabs a')).map((t) => t.trim());
    assert.deepStrictEqual(labels, ['Connection', 'Authentication', 'Limits', 'Advanced']);
    // sane first view: the address, not the TLS and proxy details
    assert.ok(await page.visible('#node-config-input-baseUrl'));
    assert.strictEqual(await page.visible('#node-config-input-proxy'), false);
    await ui.noSidewaysScroll();
    await walk('#node-config-saypro-endpoint-tabs', 'Authentication', '#node-config-input-token');
    // Node-RED sent "a token is stored"; the node's own record names the variable
    assert.strictEqual(await page.value('#node-config-input-token'), '${DLG_PARTNER_TOKEN}');
    assert.strictEqual(await inputType('#node-config-input-token'), 'text', 'a variable name is not shown as dots');
    const hint = await visibleHint('token');
    assert.match(hint, /environment variable DLG_PARTNER_TOKEN/);
    assert.match(hint, /User Settings ▸ Environment/);
    assert.ok(!(await page.evaluate(() => document.body.innerHTML.includes('tok_from_env'))), 'the value never shows');

    // a key typed in stays dots; a ${VAR} typed in shows as text again
    await page.fill('#node-config-input-token', 'tok_typed_in_by_hand');
    assert.strictEqual(await inputType('#node-config-input-token'), 'password');
    assert.strictEqual(await visibleHint('token'), null);
    await page.fill('#node-config-input-token', '${OTHER_TOKEN}');
    assert.strictEqual(await inputType('#node-config-input-token'), 'text');
    assert.match(await visibleHint('token'), /OTHER_TOKEN/);

    await walk('#node-config-saypro-endpoint-tabs', 'Limits', '#node-config-input-timeout');
    assert.ok(await page.visible('#node-config-input-maxConcurrent'));
    await walk('#node-config-saypro-endpoint-tabs', 'Advanced', '#node-config-input-proxy');
    assert.ok(await page.visible('#node-config-input-tls'));
    await walk('#node-config-saypro-endpoint-tabs', 'Connection', '#node-config-input-baseUrl');
    await closeEndpoint('#node-config-dialog-cancel');
  });

  it('endpoint: a stored key stays dots and never reaches the page or the flow', async function () {
    await editEndpoint('dlgB');
    await walk('#node-config-saypro-endpoint-tabs', 'Authentication', '#node-config-input-apiKey');
    assert.strictEqual(await inputType('#node-config-input-apiKey'), 'password');
    assert.strictEqual(await page.value('#node-config-input-apiKey'), '__PWRD__');
    assert.strictEqual(await visibleHint('apiKey'), null);
    await closeEndpoint('#node-config-dialog-ok');
    const leaks = await page.evaluate(
      (secret) => ({
        page: document.documentElement.outerHTML.includes(secret),
        flow: JSON.stringify(RED.nodes.createCompleteNodeSet({ credentials: true })).includes(secret),
      }),
      SECRET,
    );
    assert.deepStrictEqual(leaks, { page: false, flow: false });
    const creds = await page.evaluate(() => RED.nodes.node('dlgB').credentials);
    assert.strictEqual(creds.apiKey, undefined, 'the stored key is not sent again');
    assert.strictEqual(creds.has_apiKey, true);
  });

  it('HTTP POST: four tabs, the full URL follows the path, each tab without sideways scroll', async function () {
    await editPost('dlgpost');
    const labels = (await page.texts('#node-input-saypro-http-post-tabs a')).map((t) => t.trim());
    assert.deepStrictEqual(labels, ['Request', 'Retries', 'Queue', 'Advanced']);
    assert.strictEqual(
      await page.text('#saypro-http-post-full-url'),
      'POST https://api.partner.example/v2/orders/{{event.id}}',
      "the endpoint's base URL (its default), then the path; the endpoint's method",
    );
    await ui.noSidewaysScroll();
    await page.fill('#node-input-path', '/refunds?expand=charge');
    await page.select('#node-input-method', 'PUT');
    await page.waitFor(
      () => $('#saypro-http-post-full-url').text() === 'PUT https://api.partner.example/v2/refunds?expand=charge',
    );
    // advanced settings are out of the way until asked for
    assert.strictEqual(await page.visible('#node-input-maxAttempts'), false);
    assert.strictEqual(await page.visible('#node-input-orderingKey'), false);

    await walk('#node-input-saypro-http-post-tabs', 'Retries', '#node-input-maxAttempts');
    assert.ok(await page.visible('#node-input-maxDelay'));
    await walk('#node-input-saypro-http-post-tabs', 'Queue', '#node-input-durable');
    assert.ok(await page.visible('#saypro-http-post-outbox-info'));
    await walk('#node-input-saypro-http-post-tabs', 'Advanced', '#node-input-sign');
    await page.click('#node-input-sign');
    await page.waitVisible('#node-input-signingSecret');
    await page.fill('#node-input-signingSecret', '${DLG_WHSEC}');
    assert.strictEqual(await inputType('#node-input-signingSecret'), 'text');
    assert.match(await visibleHint('signingSecret'), /DLG_WHSEC/);
    await ui.noSidewaysScroll();
    await page.click('#node-dialog-cancel');
    await page.waitGone('#dialog-form');
  });

  it('HTTP POST: Write to disk (Advanced) shows its default for an older node, hides for a shared queue, and marks a bad value', async function () {
    const tabs = '#node-input-saypro-http-post-tabs';
    await editPost('dlgpost2');
    await walk(tabs, 'Advanced', '#node-input-writeBehind');
    assert.strictEqual(await page.evaluate(() => $('#node-input-writeBehind').val()), '100');
    assert.match(await page.evaluate(() => $('#node-input-writeBehind').closest('.form-row').text()), /Write to disk/);
    await walk(tabs, 'Queue', '#node-input-durable');
    await page.select('#node-input-queue', 'shared');
    await walk(tabs, 'Advanced', '#node-input-sign');
    assert.strictEqual(await page.visible('#node-input-writeBehind'), false, 'a shared queue has no journal here');
    await walk(tabs, 'Queue', '#node-input-durable');
    await page.select('#node-input-queue', 'local');
    await walk(tabs, 'Advanced', '#node-input-writeBehind');
    await page.fill('#node-input-writeBehind', '-5');
    await page.dispatch('#node-input-writeBehind', 'change');
    await page.waitFor(() => $('#node-input-writeBehind').hasClass('input-error'));
    await page.fill('#node-input-writeBehind', '0');
    await page.dispatch('#node-input-writeBehind', 'change');
    await page.waitFor(() => !$('#node-input-writeBehind').hasClass('input-error'));
    await ui.noSidewaysScroll();
    await page.click('#node-dialog-cancel');
    await page.waitGone('#dialog-form');
  });

  it('labels tell the nodes apart: method, endpoint host and path', async function () {
    const labels = await page.evaluate(() =>
      ['dlgpost', 'dlgpost2'].map((id) => {
        const el = document.querySelector(`[id="${id}"] .red-ui-flow-node-label`);
        return el ? el.textContent.trim() : RED.utils.getNodeLabel(RED.nodes.node(id));
      }),
    );
    assert.deepStrictEqual(labels, [
      'POST api.partner.example /orders/{{event.id}}',
      'PUT api.other.example /customers',
    ]);
    const endpoints = await page.evaluate(() =>
      ['dlgA', 'dlgB'].map((id) => RED.utils.getNodeLabel(RED.nodes.node(id))),
    );
    assert.deepStrictEqual(endpoints, ['api.partner.example', 'api.other.example']);
  });

  it('a ${VAR} entered, deployed and reloaded still shows as its name; the flow file holds the name only', async function () {
    await editEndpoint('dlgA');
    await walk('#node-config-saypro-endpoint-tabs', 'Authentication', '#node-config-input-token');
    await page.fill('#node-config-input-token', '${DLG_ROTATED_TOKEN}');
    await closeEndpoint('#node-config-dialog-ok');
    await page.click('#red-ui-header-button-deploy');
    await page.waitFor(() => !RED.nodes.dirty());
    const saved = JSON.parse(fs.readFileSync(path.join(nr.userDir, 'flows.json'), 'utf8')).find((n) => n.id === 'dlgA');
    assert.deepStrictEqual(saved.secretVars, { token: 'DLG_ROTATED_TOKEN' });

    // a fresh editor knows only "a token is stored"
    await ui.open(nr.base + '/');
    const sent = await page.evaluate(
      () => new Promise((resolve, reject) => $.getJSON('credentials/saypro-endpoint/dlgA').then(resolve, reject)),
    );
    assert.deepStrictEqual(sent, {
      has_apiKey: false,
      has_password: false,
      has_token: true,
      has_clientSecret: false,
      username: '',
      clientId: '',
    });
    await editEndpoint('dlgA');
    await walk('#node-config-saypro-endpoint-tabs', 'Authentication', '#node-config-input-token');
    assert.strictEqual(await page.value('#node-config-input-token'), '${DLG_ROTATED_TOKEN}');
    assert.match(await visibleHint('token'), /DLG_ROTATED_TOKEN/);
    // saved again untouched: the stored credential is not sent again
    await closeEndpoint('#node-config-dialog-ok');
    assert.strictEqual(await page.evaluate(() => RED.nodes.dirty()), false);
    assert.strictEqual(await page.evaluate(() => RED.nodes.node('dlgA').credentials.token), undefined);
  });

  it('encrypt and decrypt: a key imported as ${VAR} shows as its name with the hint; a generated key stays dots', async function () {
    await page.evaluate(() => {
      RED.view.importNodes(
        [
          {
            id: 'dlgenc',
            type: 'saypro-encrypt',
            z: RED.workspaces.active(),
            name: '',
            algorithm: 'aes-256-gcm',
            kid: 'k1',
            aad: '',
            aadType: 'none',
            x: 520,
            y: 80,
            wires: [[], []],
            credentials: { key: '${DLG_ENC_KEY}' },
          },
          {
            id: 'dlgdec',
            type: 'saypro-decrypt',
            z: RED.workspaces.active(),
            name: '',
            algorithm: 'auto',
            kid: 'k1',
            kid2: 'k0',
            aad: '',
            aadType: 'none',
            output: 'auto',
            x: 520,
            y: 160,
            wires: [[], []],
            credentials: { key: '${DLG_DEC_KEY}', key2: '${DLG_OLD_KEY}' },
          },
        ],
        { generateIds: false },
      );
    });
    const recorded = await page.evaluate(() => [
      RED.nodes.node('dlgenc').secretVars,
      RED.nodes.node('dlgdec').secretVars,
    ]);
    assert.deepStrictEqual(recorded, [{ key: 'DLG_ENC_KEY' }, { key: 'DLG_DEC_KEY', key2: 'DLG_OLD_KEY' }]);

    await page.evaluate(() => RED.editor.edit(RED.nodes.node('dlgdec')));
    await page.waitVisible('#dialog-form #node-input-key2');
    assert.strictEqual(await inputType('#node-input-key'), 'text');
    assert.match(await visibleHint('key'), /DLG_DEC_KEY/);
    assert.match(await visibleHint('key2'), /DLG_OLD_KEY/);
    await ui.noSidewaysScroll();
    await page.click('#node-dialog-cancel');
    await page.waitGone('#dialog-form');

    await page.evaluate(() => RED.editor.edit(RED.nodes.node('dlgenc')));
    await page.waitVisible('#dialog-form .saypro-generate-key');
    assert.strictEqual(await inputType('#node-input-key'), 'text');
    assert.match(await visibleHint('key'), /DLG_ENC_KEY/);
    await page.click('.saypro-generate-key');
    await page.waitFor(() => /^[0-9a-f]{64}$/.test($('#node-input-key').val()));
    assert.strictEqual(await inputType('#node-input-key'), 'password', 'a real key is dots');
    assert.strictEqual(await visibleHint('key'), null);
    await page.click('#node-dialog-ok');
    await page.waitGone('#dialog-form');
    assert.deepStrictEqual(await page.evaluate(() => RED.nodes.node('dlgenc').secretVars), {}, 'no variable any more');
  });
});
