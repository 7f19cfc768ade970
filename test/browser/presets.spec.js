'use strict';
/**
 * The presets and templates as a user meets them in the editor, in Chromium
 * and Firefox at two window sizes (test/support/browser.js): a new endpoint config dialog, Preset
 * "Stripe" fills the fields and shows the hint; choosing another preset over
 * filled-in fields asks first; the choice is remembered. A field mapper's
 * Template menu fills the rule list (and asks append or replace when it has
 * rules); a response check's Template menu fills rules and extractions.
 */
const assert = require('assert');
const os = require('os');
const path = require('path');
const { startNodeRed } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');
const presets = require('../../resources/presets.js');

describeInBrowsers('presets and templates in the editor', function (ui) {
  let nr;
  let page;

  before(async function () {
    // the PayPal preset's variables are set on the server, as a user sets them (an unset one gives a triangle)
    nr = await startNodeRed({
      flow: [{ id: 'presetsbrowsertab', type: 'tab', label: 'presets' }],
      env: { PAYPAL_CLIENT_ID: 'client-id', PAYPAL_CLIENT_SECRET: 'client-secret' },
    });
    await ui.open(nr.base + '/');
    page = ui.page;
  });

  after(async function () {
    if (nr) await nr.stop();
  });

  /** Clicks the button of the modal notification (confirm) whose text is `text`. */
  async function answer(text) {
    await page.clickText('.red-ui-notification button', text);
    await page.waitFor(
      (t) =>
        !Array.from(document.querySelectorAll('.red-ui-notification button')).some(
          (b) => b.offsetParent !== null && b.textContent.includes(t),
        ),
      text,
    );
  }

  const val = (selector) => page.value(selector);

  /** Adds a node of `type` to the workspace and opens its edit dialog. */
  async function addAndEdit(type, props) {
    const id = await page.evaluate(
      ([t, p]) => {
        const nid = RED.nodes.id();
        RED.view.importNodes(
          [{ id: nid, type: t, z: RED.workspaces.active(), x: 200, y: 200, wires: [[], []], ...p }],
          { generateIds: false },
        );
        RED.editor.edit(RED.nodes.node(nid));
        return nid;
      },
      [type, props],
    );
    await page.waitVisible('#dialog-form');
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
    await page.waitVisible('#node-config-dialog-edit-form');
    assert.strictEqual(await val('#node-config-input-preset'), '');
    const options = (await page.texts('#node-config-input-preset option')).map((t) => t.trim());
    for (const label of [
      'Stripe',
      'PayPal',
      'SendGrid v3',
      'Mailchimp Marketing 3.0',
      'HubSpot CRM v3',
      'Twilio 2010-04-01',
    ]) {
      assert.ok(options.includes(label), `option ${label} in ${options}`);
    }
    assert.strictEqual(await page.visible('#saypro-endpoint-preset-hint-row'), false);

    await page.select('#node-config-input-preset', { label: 'Stripe' });
    assert.strictEqual(await val('#node-config-input-name'), 'Stripe');
    assert.strictEqual(await val('#node-config-input-baseUrl'), '${STRIPE_API_URL:-https://api.stripe.com}');
    assert.strictEqual(await val('#node-config-input-method'), 'POST');
    assert.strictEqual(await val('#node-config-input-authType'), 'bearer');
    assert.strictEqual(await val('#node-config-input-token'), '${STRIPE_SECRET_KEY}');
    assert.strictEqual(await val('#node-config-input-username'), '');
    const hint = await page.text('#saypro-endpoint-preset-hint');
    assert.match(hint, /^Stripe: send form-urlencoded bodies \(format encoder: form\)/);
    assert.match(hint, /Idempotency-Key/);
    assert.match(hint, /STRIPE_API_URL, STRIPE_SECRET_KEY/);
    assert.ok(!(await page.hasClass('#node-config-input-baseUrl', 'input-error')), 'the base URL is valid');
    await page.clickText('#node-config-saypro-endpoint-tabs a', 'Authentication');
    assert.ok(await page.visible('#node-config-input-token'), 'the Bearer token field shows');
    await page.screenshot(path.join(os.tmpdir(), ui.shot('saypro-presets-endpoint')));
    await page.clickText('#node-config-saypro-endpoint-tabs a', 'Connection');
    const headerNames = await page.values('#node-config-input-saypro-endpoint-headers .node-input-ep-header-name');
    assert.deepStrictEqual(headerNames, ['Stripe-Version']);

    // the fields are filled now: another preset asks first; "keep" changes nothing
    await page.select('#node-config-input-preset', 'sendgrid');
    await answer('Keep my settings');
    assert.strictEqual(await val('#node-config-input-preset'), 'stripe');
    assert.strictEqual(await val('#node-config-input-baseUrl'), '${STRIPE_API_URL:-https://api.stripe.com}');
    // fields stay editable
    await page.clickText('#node-config-saypro-endpoint-tabs a', 'Connection');
    await page.fill('#node-config-input-baseUrl', '${STRIPE_API_URL:-https://api.stripe.com}/v1');
    await page.select('#node-config-input-preset', 'paypal');
    await answer('Replace');
    assert.strictEqual(await val('#node-config-input-name'), 'Stripe', 'a name already there is kept');
    assert.strictEqual(await val('#node-config-input-baseUrl'), '${PAYPAL_API_URL:-https://api-m.paypal.com}');
    assert.strictEqual(await val('#node-config-input-authType'), 'oauth2');
    assert.strictEqual(
      await val('#node-config-input-tokenUrl'),
      '${PAYPAL_API_URL:-https://api-m.paypal.com}/v1/oauth2/token',
    );
    assert.strictEqual(await val('#node-config-input-tokenAuth'), 'basic');
    assert.strictEqual(await val('#node-config-input-clientId'), '${PAYPAL_CLIENT_ID}');
    assert.strictEqual(await val('#node-config-input-clientSecret'), '${PAYPAL_CLIENT_SECRET}');
    assert.strictEqual(await val('#node-config-input-token'), '', "the other preset's secret reference is cleared");
    assert.match(await page.text('#saypro-endpoint-preset-hint'), /PayPal-Request-Id/);

    await page.fill('#node-config-input-name', 'PayPal');
    await page.click('#node-config-dialog-ok');
    await page.waitGone('#node-config-dialog-edit-form');
    const saved = await page.evaluate(() => {
      let found = null;
      RED.nodes.eachConfig((n) => {
        if (n.type === 'saypro-endpoint' && n.name === 'PayPal') found = n;
      });
      return (
        found && {
          id: found.id,
          preset: found.preset,
          baseUrl: found.baseUrl,
          authType: found.authType,
          valid: found.valid,
          credentials: found.credentials,
        }
      );
    });
    assert.ok(saved, 'the endpoint was added');
    assert.strictEqual(saved.preset, 'paypal');
    assert.strictEqual(saved.authType, 'oauth2');
    assert.strictEqual(saved.valid, true);
    assert.strictEqual(saved.credentials.clientSecret, '${PAYPAL_CLIENT_SECRET}');

    // opened again, the dialog shows the preset and its hint, and filling nothing
    await page.evaluate((nid) => RED.editor.editConfig('', 'saypro-endpoint', nid), saved.id);
    await page.waitVisible('#node-config-dialog-edit-form');
    assert.strictEqual(await val('#node-config-input-preset'), 'paypal');
    assert.ok(await page.visible('#saypro-endpoint-preset-hint-row'));
    await page.click('#node-config-dialog-cancel');
    await page.waitGone('#node-config-dialog-edit-form');
  });

  it('field mapper: Template "Stripe PaymentIntent" fills the rules; another template asks and appends', async function () {
    const id = await addAndEdit('saypro-field-mapper', { name: '', rules: [], keepUnmapped: false });
    const stripe = presets.fieldMapperTemplate('stripe-payment-intent');
    const twilio = presets.fieldMapperTemplate('twilio-message');
    const targets = () => page.values('#node-input-field-mapper-rules .node-input-fm-target');

    await page.select('#node-input-fm-template', { label: 'Stripe PaymentIntent' });
    assert.deepStrictEqual(
      await targets(),
      stripe.rules.map((r) => r.target),
    );
    assert.strictEqual(await val('#node-input-fm-template'), '', 'the menu is ready for the next choice');
    assert.strictEqual(await page.value('#node-input-field-mapper-rules li .node-input-fm-type'), 'minor');
    assert.strictEqual(await page.value('#node-input-field-mapper-rules li .node-input-fm-source'), 'payload.amount');
    assert.strictEqual(await page.checked('#node-input-field-mapper-rules li .node-input-fm-required'), true);
    assert.match(await page.text('#node-input-fm-template-tip'), /payment\.completed/);
    await page.screenshot(path.join(os.tmpdir(), ui.shot('saypro-presets-field-mapper')));

    await page.select('#node-input-fm-template', 'twilio-message');
    await answer('Append');
    assert.deepStrictEqual(
      await targets(),
      [...stripe.rules, ...twilio.rules].map((r) => r.target),
    );

    await page.click('#node-dialog-ok');
    await page.waitGone('#dialog-form');
    const node = await page.evaluate((nid) => {
      const n = RED.nodes.node(nid);
      return { rules: n.rules, valid: n.valid };
    }, id);
    assert.strictEqual(node.valid, true);
    assert.deepStrictEqual(
      node.rules.slice(0, stripe.rules.length),
      stripe.rules.map((r) => (r.type === 'minor' ? r : (({ decimals: _decimals, ...rest }) => rest)(r))),
    );
    assert.strictEqual(node.rules.length, stripe.rules.length + twilio.rules.length);

    // Replace swaps the whole list
    await page.evaluate((nid) => RED.editor.edit(RED.nodes.node(nid)), id);
    await page.waitVisible('#dialog-form');
    await page.select('#node-input-fm-template', 'hubspot-contact');
    await answer('Replace');
    assert.deepStrictEqual(
      await targets(),
      presets.fieldMapperTemplate('hubspot-contact').rules.map((r) => r.target),
    );
    await page.click('#node-dialog-cancel');
    await page.waitGone('#dialog-form');
  });

  it('response check: Template "Twilio" replaces the default 2xx rule and adds the extractions', async function () {
    const id = await addAndEdit('saypro-response-check', {
      name: '',
      rules: [{ kind: 'status', value: '2xx' }],
      mode: 'all',
      extract: [],
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
    });
    await page.select('#node-input-rc-template', 'twilio');
    await page.click('#node-dialog-ok');
    await page.waitGone('#dialog-form');
    const node = await page.evaluate((nid) => {
      const n = RED.nodes.node(nid);
      return { rules: n.rules, extract: n.extract, mode: n.mode, valid: n.valid };
    }, id);
    const t = presets.responseCheckTemplate('twilio');
    assert.deepStrictEqual(node, { rules: t.rules, extract: t.extract, mode: 'all', valid: true });
  });

  it('http post: an endpoint with a preset fills the key lifetime, and the dialog warns when the retries could outlast it', async function () {
    const epId = await page.evaluate(() => {
      const id = RED.nodes.id();
      RED.view.importNodes(
        [
          {
            id,
            type: 'saypro-endpoint',
            name: 'Stripe',
            preset: 'stripe',
            baseUrl: 'https://api.stripe.com',
            timeout: 10000,
            authType: 'bearer',
          },
        ],
        { generateIds: false },
      );
      return id;
    });
    const id = await addAndEdit('saypro-http-post', {
      name: '',
      endpoint: epId,
      method: 'POST',
      path: '/v1/payment_intents',
      maxAttempts: 5,
      initialDelay: 1000,
      maxDelay: 30000,
      maxRetryAfter: 120,
      idempotencyHeader: 'Idempotency-Key',
      keyLifetime: '',
      durable: true,
    });
    assert.strictEqual(await val('#node-input-keyLifetime'), '24');
    await page.clickText('#node-input-saypro-http-post-tabs a', 'Retries');
    await page.waitVisible('#saypro-http-post-key-preset');
    assert.match(
      await page.text('#saypro-http-post-key-preset'),
      /Stripe keeps idempotency keys for 24 h \(keys of at most 255 characters\)/,
    );
    const warning = '#saypro-http-post-key-warning';
    assert.strictEqual(await page.visible(warning), false, 'the defaults stay far inside 24 h');

    await page.fill('#node-input-maxAttempts', '20');
    await page.fill('#node-input-maxDelay', '86400000');
    await page.dispatch('#node-input-maxDelay', 'change');
    await page.waitVisible(warning);
    assert.match(await page.text(warning), /The retries could take up to .* longer than the key lifetime \(24 h\)/);

    await page.fill('#node-input-maxAttempts', '5');
    await page.fill('#node-input-maxDelay', '30000');
    await page.dispatch('#node-input-maxDelay', 'change');
    await page.waitGone(warning);
    await page.click('#node-dialog-ok');
    await page.waitGone('#dialog-form');
    const node = await page.evaluate((nid) => {
      const n = RED.nodes.node(nid);
      return { keyLifetime: n.keyLifetime, valid: n.valid };
    }, id);
    assert.deepStrictEqual(node, { keyLifetime: '24', valid: true });
  });
});
