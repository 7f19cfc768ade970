'use strict';
/**
 * The presets and templates as a user meets them in the editor, in Debian's
 * Chromium driven by playwright-core: a new endpoint config dialog, Preset
 * "Stripe" fills the fields and shows the hint; choosing another preset over
 * filled-in fields asks first; the choice is remembered. A field mapper's
 * Template menu fills the rule list (and asks append or replace when it has
 * rules); a response check's Template menu fills rules and extractions.
 *
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it).
 */
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startNodeRed } = require('../support/nodered');
const presets = require('../../resources/presets.js');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('presets and templates in the editor (Chromium)', function () {
  this.timeout(120000);
  let nr; let browser; let page; const pageErrors = [];

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
      this.skip();
    }
    const { chromium } = require('playwright-core');
    nr = await startNodeRed({ flow: [{ id: 'presetsbrowsertab', type: 'tab', label: 'presets' }] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(String(err && err.stack || err)));
    await page.goto(nr.base + '/', { waitUntil: 'load' });
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType('saypro-endpoint') && RED.nodes.getType('saypro-field-mapper'), null, { timeout: 30000 });
    await page.waitForSelector('#red-ui-palette-container-integration .red-ui-palette-node');
  });

  after(async function () {
    if (browser) await browser.close();
    if (nr) await nr.stop();
  });

  /** Clicks the button of the modal notification (confirm) whose text is `text`. */
  async function answer(text) {
    const button = page.locator('.red-ui-notification button', { hasText: text });
    await button.waitFor({ state: 'visible' });
    await button.click();
    await page.locator('.red-ui-notification button', { hasText: text }).waitFor({ state: 'detached' });
  }

  const val = (selector) => page.locator(selector).inputValue();

  /** Adds a node of `type` to the workspace and opens its edit dialog. */
  async function addAndEdit(type, props) {
    const id = await page.evaluate(([t, p]) => {
      const nid = RED.nodes.id();
      RED.view.importNodes([{ id: nid, type: t, z: RED.workspaces.active(), x: 200, y: 200, wires: [[], []], ...p }], { generateIds: false });
      RED.editor.edit(RED.nodes.node(nid));
      return nid;
    }, [type, props]);
    await page.locator('#dialog-form').waitFor({ state: 'visible' });
    return id;
  }

  it('loads presets.js beside editor-common.js: both are on window.SayProIntegrationKit', async function () {
    const kit = await page.evaluate(() => ({
      endpoint: window.SayProIntegrationKit.presets.endpoint.map((p) => p.id),
      keyProblem: typeof window.SayProIntegrationKit.keyProblem,
    }));
    assert.deepStrictEqual(kit, { endpoint: presets.endpoint.map((p) => p.id), keyProblem: 'function' });
  });

  it('endpoint: Preset "Stripe" fills a new dialog, shows the hint, asks before replacing, and is remembered', async function () {
    await page.evaluate(() => RED.editor.editConfig('', 'saypro-endpoint', '_ADD_'));
    await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'visible' });
    const select = page.locator('#node-config-input-preset');
    assert.strictEqual(await val('#node-config-input-preset'), '');
    const options = await select.locator('option').allInnerTexts();
    for (const label of ['Stripe', 'PayPal', 'SendGrid v3', 'Mailchimp Marketing 3.0', 'HubSpot CRM v3', 'Twilio 2010-04-01']) {
      assert.ok(options.includes(label), `option ${label} in ${options}`);
    }
    assert.strictEqual(await page.locator('#saypro-endpoint-preset-hint-row').isVisible(), false);

    await select.selectOption({ label: 'Stripe' });
    assert.strictEqual(await val('#node-config-input-name'), 'Stripe');
    assert.strictEqual(await val('#node-config-input-baseUrl'), '${STRIPE_API_URL:-https://api.stripe.com}');
    assert.strictEqual(await val('#node-config-input-method'), 'POST');
    assert.strictEqual(await val('#node-config-input-authType'), 'bearer');
    assert.strictEqual(await val('#node-config-input-token'), '${STRIPE_SECRET_KEY}');
    assert.strictEqual(await val('#node-config-input-username'), '');
    const hint = await page.locator('#saypro-endpoint-preset-hint').innerText();
    assert.match(hint, /^Stripe: send form-urlencoded bodies \(format encoder: form\)/);
    assert.match(hint, /Idempotency-Key/);
    assert.match(hint, /STRIPE_API_URL, STRIPE_SECRET_KEY/);
    assert.ok(!(await page.locator('#node-config-input-baseUrl').evaluate((el) => el.classList.contains('input-error'))), 'the base URL is valid');
    await page.locator('#node-config-saypro-endpoint-tabs a', { hasText: 'Authentication' }).click();
    assert.ok(await page.locator('#node-config-input-token').isVisible(), 'the Bearer token field shows');
    await page.screenshot({ path: path.join(os.tmpdir(), 'saypro-presets-endpoint.png') });
    await page.locator('#node-config-saypro-endpoint-tabs a', { hasText: 'Headers' }).click();
    const headerNames = await page.locator('#node-config-input-saypro-endpoint-headers .node-input-ep-header-name').evaluateAll((els) => els.map((e) => e.value));
    assert.deepStrictEqual(headerNames, ['Stripe-Version']);

    // the fields are filled now: another preset asks first; "keep" changes nothing
    await select.selectOption('sendgrid');
    await answer('Keep my settings');
    assert.strictEqual(await val('#node-config-input-preset'), 'stripe');
    assert.strictEqual(await val('#node-config-input-baseUrl'), '${STRIPE_API_URL:-https://api.stripe.com}');
    // fields stay editable
    await page.locator('#node-config-saypro-endpoint-tabs a', { hasText: 'Connection' }).click();
    await page.locator('#node-config-input-baseUrl').fill('${STRIPE_API_URL:-https://api.stripe.com}/v1');
    await select.selectOption('paypal');
    await answer('Replace');
    assert.strictEqual(await val('#node-config-input-name'), 'Stripe', 'a name already there is kept');
    assert.strictEqual(await val('#node-config-input-baseUrl'), '${PAYPAL_API_URL:-https://api-m.paypal.com}');
    assert.strictEqual(await val('#node-config-input-authType'), 'oauth2');
    assert.strictEqual(await val('#node-config-input-tokenUrl'), '${PAYPAL_API_URL:-https://api-m.paypal.com}/v1/oauth2/token');
    assert.strictEqual(await val('#node-config-input-tokenAuth'), 'basic');
    assert.strictEqual(await val('#node-config-input-clientId'), '${PAYPAL_CLIENT_ID}');
    assert.strictEqual(await val('#node-config-input-clientSecret'), '${PAYPAL_CLIENT_SECRET}');
    assert.strictEqual(await val('#node-config-input-token'), '', 'the other preset\'s secret reference is cleared');
    assert.match(await page.locator('#saypro-endpoint-preset-hint').innerText(), /PayPal-Request-Id/);

    await page.locator('#node-config-input-name').fill('PayPal');
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'detached' });
    const saved = await page.evaluate(() => {
      let found = null;
      RED.nodes.eachConfig((n) => { if (n.type === 'saypro-endpoint' && n.name === 'PayPal') found = n; });
      return found && { id: found.id, preset: found.preset, baseUrl: found.baseUrl, authType: found.authType, valid: found.valid, credentials: found.credentials };
    });
    assert.ok(saved, 'the endpoint was added');
    assert.strictEqual(saved.preset, 'paypal');
    assert.strictEqual(saved.authType, 'oauth2');
    assert.strictEqual(saved.valid, true);
    assert.strictEqual(saved.credentials.clientSecret, '${PAYPAL_CLIENT_SECRET}');

    // opened again, the dialog shows the preset and its hint, and filling nothing
    await page.evaluate((nid) => RED.editor.editConfig('', 'saypro-endpoint', nid), saved.id);
    await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'visible' });
    assert.strictEqual(await val('#node-config-input-preset'), 'paypal');
    assert.ok(await page.locator('#saypro-endpoint-preset-hint-row').isVisible());
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-dialog-edit-form').waitFor({ state: 'detached' });
    assert.deepStrictEqual(pageErrors, []);
  });

  it('field mapper: Template "Stripe PaymentIntent" fills the rules; another template asks and appends', async function () {
    const id = await addAndEdit('saypro-field-mapper', { name: '', rules: [], keepUnmapped: false });
    const stripe = presets.fieldMapperTemplate('stripe-payment-intent');
    const twilio = presets.fieldMapperTemplate('twilio-message');
    const targets = () => page.locator('#node-input-field-mapper-rules .node-input-fm-target').evaluateAll((els) => els.map((e) => e.value));

    await page.locator('#node-input-fm-template').selectOption({ label: 'Stripe PaymentIntent' });
    assert.deepStrictEqual(await targets(), stripe.rules.map((r) => r.target));
    assert.strictEqual(await val('#node-input-fm-template'), '', 'the menu is ready for the next choice');
    const first = page.locator('#node-input-field-mapper-rules li').first();
    assert.strictEqual(await first.locator('.node-input-fm-type').inputValue(), 'minor');
    assert.strictEqual(await first.locator('.node-input-fm-source').inputValue(), 'payload.amount');
    assert.strictEqual(await first.locator('.node-input-fm-required').isChecked(), true);
    assert.match(await page.locator('#node-input-fm-template-tip').innerText(), /payment\.completed/);
    await page.screenshot({ path: path.join(os.tmpdir(), 'saypro-presets-field-mapper.png') });

    await page.locator('#node-input-fm-template').selectOption('twilio-message');
    await answer('Append');
    assert.deepStrictEqual(await targets(), [...stripe.rules, ...twilio.rules].map((r) => r.target));

    await page.locator('#node-dialog-ok').click();
    await page.locator('#dialog-form').waitFor({ state: 'detached' });
    const node = await page.evaluate((nid) => { const n = RED.nodes.node(nid); return { rules: n.rules, valid: n.valid }; }, id);
    assert.strictEqual(node.valid, true);
    assert.deepStrictEqual(node.rules.slice(0, stripe.rules.length), stripe.rules.map((r) => (r.type === 'minor' ? r : (({ decimals, ...rest }) => rest)(r))));
    assert.strictEqual(node.rules.length, stripe.rules.length + twilio.rules.length);

    // Replace swaps the whole list
    await page.evaluate((nid) => RED.editor.edit(RED.nodes.node(nid)), id);
    await page.locator('#dialog-form').waitFor({ state: 'visible' });
    await page.locator('#node-input-fm-template').selectOption('hubspot-contact');
    await answer('Replace');
    assert.deepStrictEqual(await targets(), presets.fieldMapperTemplate('hubspot-contact').rules.map((r) => r.target));
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#dialog-form').waitFor({ state: 'detached' });
    assert.deepStrictEqual(pageErrors, []);
  });

  it('response check: Template "Twilio" replaces the default 2xx rule and adds the extractions', async function () {
    const id = await addAndEdit('saypro-response-check', {
      name: '', rules: [{ kind: 'status', value: '2xx' }], mode: 'all', extract: [], statusProperty: 'statusCode', bodyProperty: 'payload',
    });
    await page.locator('#node-input-rc-template').selectOption('twilio');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#dialog-form').waitFor({ state: 'detached' });
    const node = await page.evaluate((nid) => { const n = RED.nodes.node(nid); return { rules: n.rules, extract: n.extract, mode: n.mode, valid: n.valid }; }, id);
    const t = presets.responseCheckTemplate('twilio');
    assert.deepStrictEqual(node, { rules: t.rules, extract: t.extract, mode: 'all', valid: true });
    assert.deepStrictEqual(pageErrors, []);
  });

  it('http post: an endpoint with a preset fills the key lifetime, and the dialog warns when the retries could outlast it', async function () {
    const epId = await page.evaluate(() => {
      const id = RED.nodes.id();
      RED.view.importNodes([{ id, type: 'saypro-endpoint', name: 'Stripe', preset: 'stripe', baseUrl: 'https://api.stripe.com', timeout: 10000, authType: 'bearer' }], { generateIds: false });
      return id;
    });
    const id = await addAndEdit('saypro-http-post', { name: '', endpoint: epId, method: 'POST', path: '/v1/payment_intents', maxAttempts: 5, initialDelay: 1000, maxDelay: 30000, maxRetryAfter: 120, idempotencyHeader: 'Idempotency-Key', keyLifetime: '', durable: true });
    assert.strictEqual(await val('#node-input-keyLifetime'), '24');
    const hint = page.locator('#saypro-http-post-key-preset');
    await hint.waitFor({ state: 'visible' });
    assert.match(await hint.innerText(), /Stripe keeps idempotency keys for 24 h \(keys of at most 255 characters\)/);
    const warning = page.locator('#saypro-http-post-key-warning');
    assert.strictEqual(await warning.isVisible(), false, 'the defaults stay far inside 24 h');

    await page.locator('#node-input-maxAttempts').fill('20');
    await page.locator('#node-input-maxDelay').fill('86400000');
    await page.locator('#node-input-maxDelay').dispatchEvent('change');
    await warning.waitFor({ state: 'visible' });
    assert.match(await warning.innerText(), /The retries could take up to .* longer than the key lifetime \(24 h\)/);

    await page.locator('#node-input-maxAttempts').fill('5');
    await page.locator('#node-input-maxDelay').fill('30000');
    await page.locator('#node-input-maxDelay').dispatchEvent('change');
    await warning.waitFor({ state: 'hidden' });
    await page.locator('#node-dialog-ok').click();
    await page.locator('#dialog-form').waitFor({ state: 'detached' });
    const node = await page.evaluate((nid) => { const n = RED.nodes.node(nid); return { keyLifetime: n.keyLifetime, valid: n.valid }; }, id);
    assert.deepStrictEqual(node, { keyLifetime: '24', valid: true });
    assert.deepStrictEqual(pageErrors, []);
  });
});
