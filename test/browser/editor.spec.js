'use strict';
/**
 * The editor as a user sees it, in Debian's Chromium driven by playwright-core:
 * the palette shows the nodes under "integration"; Import ▸ Examples imports the
 * demo; Deploy; the inject button sends an event and the debug sidebar shows
 * the decrypted result; each node's edit dialog opens without a script error
 * and its help shows in the sidebar.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it).
 */
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startNodeRed, tmpDir } = require('../support/nodered');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const pkg = require('../../package.json');
const TYPES = Object.keys(pkg['node-red'].nodes);
const LABELS = {
  'saypro-event-trigger': 'event trigger',
  'saypro-field-mapper': 'field mapper',
  'saypro-format-encoder': 'format encoder',
  'saypro-encrypt': 'encrypt',
  'saypro-decrypt': 'decrypt',
  'saypro-http-post': 'http post',
  'saypro-response-check': 'response check',
};
const CONFIG_TYPES = ['saypro-endpoint', 'saypro-nats'];
const PALETTE_TYPES = TYPES.filter((t) => !CONFIG_TYPES.includes(t));

describe('editor in Chromium', function () {
  this.timeout(120000);
  let nr; let browser; let page; const pageErrors = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
      this.skip();
    }
    const { chromium } = require('playwright-core');
    nr = await startNodeRed({ env: { SAYPRO_DEMO_KEY: 'ab'.repeat(32) } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(String(err && err.stack || err)));
    await page.goto(nr.base + '/', { waitUntil: 'load' });
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType('saypro-event-trigger'), null, { timeout: 30000 });
    await page.waitForSelector('#red-ui-palette-container-integration .red-ui-palette-node');
  });

  after(async function () {
    if (browser) await browser.close();
    if (nr) await nr.stop();
  });

  it('shows every node in the palette under "integration" with its plain label', async function () {
    assert.deepStrictEqual(Object.keys(LABELS).sort(), PALETTE_TYPES.slice().sort(), 'a label is expected for every palette node');
    for (const type of PALETTE_TYPES) {
      const el = page.locator(`#red-ui-palette-container-integration .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.strictEqual(await el.count(), 1, type);
      assert.strictEqual((await el.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim(), LABELS[type]);
    }
    assert.deepStrictEqual(pageErrors, []);
  });

  it('imports the demo from Import ▸ Examples, deploys it, and shows the decrypted event in the debug pane', async function () {
    await page.evaluate(() => RED.actions.invoke('core:show-examples-import-dialog'));
    const dialog = page.locator('#red-ui-clipboard-dialog');
    await dialog.waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(os.tmpdir(), 'saypro-editor-import.png') });
    await dialog.locator('.red-ui-treeList-label', { hasText: pkg.name }).first().click();
    await dialog.locator('.red-ui-treeList-label', { hasText: '01 Demo' }).first().click();
    await page.locator('#red-ui-clipboard-dialog-ok').click();
    await page.waitForFunction(() => RED.nodes.filterNodes({ type: 'saypro-encrypt' }).length === 1);

    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction(() => !RED.nodes.dirty(), null, { timeout: 15000 });

    await page.locator('#red-ui-tab-debug-link-button').click().catch(() => page.evaluate(() => RED.sidebar.show('debug')));
    await page.locator('#red-ui-workspace-tabs li', { hasText: 'Integration kit demo' }).click();
    const injectId = await page.evaluate(() => RED.nodes.filterNodes({ type: 'inject' }).find((n) => n.name === 'listing.created').id);
    await page.locator(`[id="${injectId}"] .red-ui-flow-node-button`).click();
    const msg = page.locator('.red-ui-debug-msg', { hasText: 'decrypted by the receiver' });
    await msg.first().waitFor({ timeout: 15000 });
    const text = await msg.first().innerText();
    assert.match(text, /L-1001/);
    assert.match(text, /14990/);
    await page.screenshot({ path: path.join(os.tmpdir(), 'saypro-editor-demo.png') });
    assert.deepStrictEqual(pageErrors, []);
  });

  it('explains a bad key in the encrypt dialog (validator from resources/editor-common.js)', async function () {
    const id = await page.evaluate(() => RED.nodes.filterNodes({ type: 'saypro-encrypt' })[0].id);
    await page.evaluate((nid) => RED.editor.edit(RED.nodes.node(nid)), id);
    const key = page.locator('#node-input-key');
    await key.waitFor({ state: 'visible' });
    await key.fill('0123abcd');
    await key.dispatchEvent('change');
    await page.waitForFunction(() => $('#node-input-key').hasClass('input-error'));
    await key.fill('ab'.repeat(32));
    await key.dispatchEvent('change');
    await page.waitForFunction(() => !$('#node-input-key').hasClass('input-error'));
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#dialog-form').waitFor({ state: 'detached' });
    assert.deepStrictEqual(pageErrors, []);
  });

  it('opens each node\'s edit dialog without a script error, and shows its help', async function () {
    for (const type of TYPES) {
      const isConfig = CONFIG_TYPES.includes(type);
      const id = await page.evaluate(([t, config]) => {
        const found = config ? [] : RED.nodes.filterNodes({ type: t });
        if (config) RED.nodes.eachConfig((n) => { if (n.type === t) found.push(n); });
        // a config node the demo does not use (e.g. saypro-nats): one is added with its defaults
        if (config && !found.length) {
          const nid = RED.nodes.id();
          RED.nodes.import([{ id: nid, type: t }]);
          return nid;
        }
        return found.length ? found[0].id : null;
      }, [type, isConfig]);
      assert.ok(id, `the demo has a ${type}`);
      await page.evaluate(([t, nid, config]) => (config ? RED.editor.editConfig('', t, nid) : RED.editor.edit(RED.nodes.node(nid))), [type, id, isConfig]);
      const tray = page.locator('.red-ui-tray').last();
      const form = isConfig ? '#node-config-dialog-edit-form' : '#dialog-form';
      await tray.locator(form).waitFor({ state: 'visible' });
      assert.ok(await tray.locator(isConfig ? '#node-config-input-name' : '#node-input-name').count() === 1, `${type} has a name field`);
      await page.locator(isConfig ? '#node-config-dialog-cancel' : '#node-dialog-cancel').click();
      await page.locator(form).waitFor({ state: 'detached' });

      await page.evaluate((t) => RED.sidebar.help.show(t), type);
      const help = page.locator('.red-ui-help >> visible=true').first();
      await help.waitFor({ state: 'visible' });
      const helpText = await help.innerText();
      // a config node has no ports: its help has Details only
      for (const heading of isConfig ? ['Details'] : ['Inputs', 'Outputs', 'Details']) {
        assert.match(helpText, new RegExp(heading), `${type} help: ${helpText.slice(0, 200)}`);
      }
    }
    assert.deepStrictEqual(pageErrors, []);
  });
});
