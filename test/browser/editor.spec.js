'use strict';
/**
 * The editor as a user sees it, in Chromium and Firefox at two window sizes
 * (test/support/browser.js): the palette shows the nodes under "integration";
 * Import ▸ Examples imports the demo; Deploy; the inject button sends an event
 * and the debug sidebar shows the decrypted result; each node's edit dialog
 * opens without a script error, fits without scrolling sideways, and its help
 * shows in the sidebar.
 */
const assert = require('assert');
const os = require('os');
const path = require('path');
const { startNodeRed } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');

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

describeInBrowsers('editor', function (ui) {
  let nr;

  before(async function () {
    nr = await startNodeRed({ env: { SAYPRO_DEMO_KEY: 'ab'.repeat(32) } });
    await ui.open(nr.base + '/');
  });

  after(async function () {
    if (nr) await nr.stop();
  });

  it('shows every node in the palette under "integration" with its plain label', async function () {
    const page = ui.page;
    assert.deepStrictEqual(
      Object.keys(LABELS).sort(),
      PALETTE_TYPES.slice().sort(),
      'a label is expected for every palette node',
    );
    for (const type of PALETTE_TYPES) {
      const sel = `#red-ui-palette-container-integration .red-ui-palette-node[data-palette-type="${type}"]`;
      assert.strictEqual(await page.count(sel), 1, type);
      assert.strictEqual((await page.text(`${sel} .red-ui-palette-label`)).replace(/\s+/g, ' ').trim(), LABELS[type]);
    }
  });

  it('imports the demo from Import ▸ Examples, deploys it, and shows the decrypted event in the debug pane', async function () {
    const page = ui.page;
    await page.evaluate(() => RED.actions.invoke('core:show-examples-import-dialog'));
    await page.waitVisible('#red-ui-clipboard-dialog');
    await ui.noSidewaysScroll();
    await page.clickText('#red-ui-clipboard-dialog .red-ui-treeList-label', pkg.name);
    await page.clickText('#red-ui-clipboard-dialog .red-ui-treeList-label', '01 Demo');
    await page.click('#red-ui-clipboard-dialog-ok');
    await page.waitFor(() => RED.nodes.filterNodes({ type: 'saypro-encrypt' }).length === 1);

    await page.click('#red-ui-header-button-deploy');
    await page.waitFor(() => !RED.nodes.dirty());

    await page.evaluate(() => RED.sidebar.show('debug'));
    const injectId = await page.evaluate(() => {
      const inject = RED.nodes.filterNodes({ type: 'inject' }).find((n) => n.name === 'listing.created');
      RED.workspaces.show(inject.z);
      return inject.id;
    });
    await page.waitVisible(`[id="${injectId}"] .red-ui-flow-node-button`);
    await page.click(`[id="${injectId}"] .red-ui-flow-node-button`);
    const text = await page.waitFor(() => {
      const m = Array.from(document.querySelectorAll('.red-ui-debug-msg')).find((e) =>
        e.innerText.includes('decrypted by the receiver'),
      );
      return m && m.innerText;
    });
    assert.match(text, /L-1001/);
    assert.match(text, /14990/);
    await page.screenshot(path.join(os.tmpdir(), ui.shot('saypro-editor-demo')));
  });

  it('explains a bad key in the encrypt dialog (validator from resources/editor-common.js)', async function () {
    const page = ui.page;
    const id = await page.evaluate(() => RED.nodes.filterNodes({ type: 'saypro-encrypt' })[0].id);
    await page.evaluate((nid) => RED.editor.edit(RED.nodes.node(nid)), id);
    await page.waitVisible('#node-input-key');
    await page.fill('#node-input-key', '0123abcd');
    await page.dispatch('#node-input-key', 'change');
    await page.waitFor(() => $('#node-input-key').hasClass('input-error'));
    await page.fill('#node-input-key', 'ab'.repeat(32));
    await page.dispatch('#node-input-key', 'change');
    await page.waitFor(() => !$('#node-input-key').hasClass('input-error'));
    await ui.noSidewaysScroll();
    await page.click('#node-dialog-cancel');
    await page.waitGone('#dialog-form');
  });

  it("opens each node's edit dialog without a script error, without scrolling sideways, and shows its help", async function () {
    const page = ui.page;
    for (const type of TYPES) {
      const isConfig = CONFIG_TYPES.includes(type);
      const id = await page.evaluate(
        ([t, config]) => {
          const found = config ? [] : RED.nodes.filterNodes({ type: t });
          if (config)
            RED.nodes.eachConfig((n) => {
              if (n.type === t) found.push(n);
            });
          // a config node the demo does not use (e.g. saypro-nats): one is added with its defaults
          if (config && !found.length) {
            const nid = RED.nodes.id();
            RED.nodes.import([{ id: nid, type: t }]);
            return nid;
          }
          return found.length ? found[0].id : null;
        },
        [type, isConfig],
      );
      assert.ok(id, `the demo has a ${type}`);
      await page.evaluate(
        ([t, nid, config]) => (config ? RED.editor.editConfig('', t, nid) : RED.editor.edit(RED.nodes.node(nid))),
        [type, id, isConfig],
      );
      const form = isConfig ? '#node-config-dialog-edit-form' : '#dialog-form';
      await page.waitVisible(form);
      assert.strictEqual(
        await page.count(isConfig ? '#node-config-input-name' : '#node-input-name'),
        1,
        `${type} has a name field`,
      );
      await ui.noSidewaysScroll();
      await page.click(isConfig ? '#node-config-dialog-cancel' : '#node-dialog-cancel');
      await page.waitGone(form);

      await page.evaluate((t) => RED.sidebar.help.show(t), type);
      const helpText = await page.waitFor(() => {
        const h = Array.from(document.querySelectorAll('.red-ui-help')).find((e) => e.offsetParent !== null);
        return h && h.innerText;
      });
      // a config node has no ports: its help has Details only
      for (const heading of isConfig ? ['Details'] : ['Inputs', 'Outputs', 'Details']) {
        assert.match(helpText, new RegExp(heading), `${type} help: ${helpText.slice(0, 200)}`);
      }
    }
  });
});
