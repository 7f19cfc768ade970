'use strict';
/**
 * What a non-developer does, from an empty canvas, in a real Node-RED with
 * default settings: drags the nodes from the palette, wires them with the
 * mouse, fills every dialog (presets and templates), previews the exact
 * request, sees a bad key's triangle and reason, deploys, and follows the
 * deliveries in the integration monitor — a dead letter with its reason,
 * replayed and delivered.
 *
 *   1. a Stripe payment: inject → field mapper (template) → format encoder
 *      (form) → HTTP POST (endpoint from the Stripe preset) → response check
 *      (template); the Stripe stand-in checks each request against Stripe's
 *      own OpenAPI document.
 *   2. an encrypted partner CSV: inject → field mapper (rules typed in) →
 *      format encoder (CSV) → encrypt (AES-256-GCM) → HTTP POST (Partner
 *      preset); the partner stand-in decrypts with plain node:crypto.
 */
const assert = require('assert');
const { startNodeRed } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');
const { startStripe } = require('../fakes/stripe');
const { startPartner } = require('../fakes/partner');

const TAB = 'buildtab00000001';

describeInBrowsers('building flows from an empty canvas', function (ui) {
  let nr;
  let page;
  let stripe;
  let partner;

  before(async function () {
    stripe = await startStripe();
    partner = await startPartner();
    nr = await startNodeRed({
      flow: [{ id: TAB, type: 'tab', label: 'build' }],
      env: {
        ...stripe.env,
        PARTNER_URL: partner.url,
        PARTNER_API_KEY: partner.apiKey,
        BUILD_PARTNER_KEY: partner.keyHex,
      },
    });
    await ui.open(nr.base + '/');
    page = ui.page;
    await page.evaluate((tab) => RED.workspaces.show(tab), TAB);
  });

  after(async function () {
    if (nr) await nr.stop();
    if (stripe) await stripe.stop();
    if (partner) await partner.stop();
  });

  afterEach(function () {
    if (stripe) stripe.assertContract();
  });

  // ------------------------------------------------------------ canvas steps

  /** Drags a node from the palette onto the canvas at (x, y) of the workspace; returns its id. */
  async function drop(type, x, y) {
    const before = await page.evaluate(() => RED.nodes.filterNodes({}).map((n) => n.id));
    const chart = await page.evaluate(() => {
      const r = document.getElementById('red-ui-workspace-chart').getBoundingClientRect();
      return { left: r.left, top: r.top };
    });
    await page.evaluate((t) => {
      // the palette category may be collapsed, and the palette scrolled
      const el = document.querySelector(`.red-ui-palette-node[data-palette-type="${t}"]`);
      const content = el.closest('.red-ui-palette-content');
      if (content && content.style.display === 'none') $(content).prev('.red-ui-palette-header').trigger('click');
      el.scrollIntoView({ block: 'center' });
    }, type);
    await page.drag(`.red-ui-palette-node[data-palette-type="${type}"]`, { x: chart.left + x, y: chart.top + y });
    return page.waitFor(
      ([t, known]) => {
        const n = RED.nodes.filterNodes({ type: t }).find((m) => !known.includes(m.id));
        return n ? n.id : false;
      },
      [type, before],
    );
  }

  /** Wires output `port` of `from` to the input of `to` with the mouse. */
  async function wire(from, to, port = 0) {
    await page.evaluate(
      ([a, p]) => {
        document.querySelectorAll('[data-test-port]').forEach((e) => e.removeAttribute('data-test-port'));
        document
          .querySelectorAll(`[id="${a}"] .red-ui-flow-port-output .red-ui-flow-port`)
          [p].setAttribute('data-test-port', 'out');
      },
      [from, port],
    );
    await page.drag('[data-test-port="out"]', `[id="${to}"] .red-ui-flow-port-input .red-ui-flow-port`);
    await page.waitFor(
      ([a, b, p]) => RED.nodes.filterLinks({ source: { id: a }, target: { id: b }, sourcePort: p }).length === 1,
      [from, to, port],
    );
  }

  async function open(id) {
    await page.evaluate((nid) => RED.editor.edit(RED.nodes.node(nid)), id);
    await page.waitVisible('#dialog-form');
  }

  /**
   * Shows the dialog tab that holds `selector`, if the dialog has tabs, by clicking it as a user
   * does (Node-RED's tabs take a second click on any tab within 400 ms for a double click and
   * ignore it: the click is repeated until the tab shows).
   */
  async function reveal(selector) {
    const tabId = await page.evaluate((sel) => {
      const el = document.querySelector(sel);
      for (let p = el && el.parentElement; p; p = p.parentElement) {
        if (p.id && getComputedStyle(p).display === 'none' && document.querySelector(`a[href="#${p.id}"]`)) return p.id;
      }
      return null;
    }, selector);
    for (let i = 0; tabId && i < 5; i++) {
      await page.click(`a[href="#${tabId}"]`);
      if (await page.waitFor((sel) => $(sel).is(':visible'), selector, 2000).catch(() => false)) break;
    }
    await page.waitVisible(selector);
  }

  async function fill(selector, text) {
    await reveal(selector);
    await page.fill(selector, text);
  }

  async function choose(selector, choice) {
    await reveal(selector);
    await page.select(selector, choice);
  }

  async function done() {
    await page.click('#node-dialog-ok');
    await page.waitGone('#dialog-form');
  }

  /** Adds an endpoint from a preset in its own dialog (as the pencil beside "Endpoint" does); returns its id. */
  async function endpointFromPreset(label, name) {
    await page.evaluate(() => RED.editor.editConfig('', 'saypro-endpoint', '_ADD_'));
    await page.waitVisible('#node-config-dialog-edit-form');
    await choose('#node-config-input-preset', { label });
    await fill('#node-config-input-name', name);
    await page.click('#node-config-dialog-ok');
    await page.waitGone('#node-config-dialog-edit-form');
    return page.evaluate((n) => {
      let id = null;
      RED.nodes.eachConfig((c) => {
        if (c.type === 'saypro-endpoint' && c.name === n) id = c.id;
      });
      return id;
    }, name);
  }

  async function inject(id, payload) {
    await open(id);
    await page.evaluate((json) => {
      // the inject node's own payload field: JSON
      $('#node-input-property-container')
        .editableList('items')
        .each(function () {
          const row = $(this);
          if (row.find('.node-input-prop-property-name').typedInput('value') === 'payload')
            row.find('.node-input-prop-property-value').typedInput('type', 'json').typedInput('value', json);
        });
    }, JSON.stringify(payload));
    await done();
  }

  async function deploy() {
    await page.click('#red-ui-header-button-deploy');
    await page.waitFor(() => !RED.nodes.dirty());
  }

  async function showMonitor(postId) {
    await page.waitFor((id) => {
      if (!$('.saypro-monitor').is(':visible')) RED.sidebar.show('saypro-monitor');
      return $(`.saypro-monitor-node[data-id="${id}"]`).is(':visible');
    }, postId);
  }

  // ------------------------------------------------------------------ tests

  it('a Stripe payment: dropped, wired and filled from presets; Preview shows the request; deployed, it pays once', async function () {
    const injectId = await drop('inject', 100, 60);
    const mapper = await drop('saypro-field-mapper', 310, 60);
    const encoder = await drop('saypro-format-encoder', 100, 140);
    const post = await drop('saypro-http-post', 310, 140);
    const check = await drop('saypro-response-check', 100, 220);
    await wire(injectId, mapper);
    await wire(mapper, encoder);
    await wire(encoder, post);
    await wire(post, check);

    await inject(injectId, {
      paymentId: 'pay_1001',
      amount: '149.90',
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      orderId: 'ord_1001',
      listing: { title: 'Red bicycle' },
    });
    await open(mapper);
    await choose('#node-input-fm-template', { label: 'Stripe PaymentIntent' });
    await done();
    await open(encoder);
    await choose('#node-input-format', 'form');
    await done();

    const ep = await endpointFromPreset('Stripe', 'Stripe');
    assert.ok(ep, 'the endpoint was added');
    await open(post);
    await choose('#node-input-endpoint', ep);
    await fill('#node-input-path', '/v1/payment_intents');
    // Preview: the exact request, the key masked, nothing sent
    await reveal('.saypro-preview-run');
    await page.click('.saypro-preview-run');
    const preview = await page.waitFor(() => {
      const t = $('.saypro-preview-output').text();
      return t && !/Computing/.test(t) ? t : false;
    });
    const lines = preview.split('\n');
    assert.strictEqual(lines[0], `POST ${stripe.url}/v1/payment_intents`, preview);
    assert.ok(lines.includes('Authorization: Bearer [redacted]'), preview);
    assert.ok(!preview.includes(stripe.secretKey), 'the key is never shown');
    assert.strictEqual(stripe.requests.length, 0, 'a preview sends nothing');
    await done();
    await open(check);
    await choose('#node-input-rc-template', 'stripe');
    await done();

    const invalid = await page.evaluate(() =>
      RED.nodes
        .filterNodes({ z: RED.workspaces.active() })
        .filter((n) => !n.valid)
        .map((n) => n.type),
    );
    assert.deepStrictEqual(invalid, [], 'every node is valid');
    await deploy();
    await page.click(`[id="${injectId}"] .red-ui-flow-node-button`);
    const req = await stripe.waitForRequest((r) => r.method === 'POST' && r.path === '/v1/payment_intents', {
      timeout: 30000,
    });
    assert.strictEqual(req.body.amount, '14990');
    assert.strictEqual(req.body.currency, 'usd');
    assert.strictEqual(req.body.payment_method, 'pm_card_visa');
    assert.match(req.headers['idempotency-key'], /.+/);
    await showMonitor(post);
    await page.waitFor(
      (id) => /delivered 1/.test($(`.saypro-monitor-node[data-id="${id}"] .saypro-monitor-counts`).text()),
      post,
      30000,
    );
    await ui.noSidewaysScroll();
  });

  it('an encrypted partner CSV: a bad key shows its triangle and reason; fixed, deployed, a refused file is a dead letter; replayed, it arrives', async function () {
    const injectId = await drop('inject', 100, 320);
    const mapper = await drop('saypro-field-mapper', 310, 320);
    const encoder = await drop('saypro-format-encoder', 100, 400);
    const enc = await drop('saypro-encrypt', 310, 400);
    const post = await drop('saypro-http-post', 100, 480);
    await wire(injectId, mapper);
    await wire(mapper, encoder);
    await wire(encoder, enc);
    await wire(enc, post);

    await inject(injectId, { orderId: 'ord_2001', amount: '25.50' });
    await open(mapper);
    for (const [target, source] of [
      ['order_id', 'payload.orderId'],
      ['amount', 'payload.amount'],
    ]) {
      await page.click('.red-ui-editableList-addButton');
      const row = `#node-input-field-mapper-rules li:nth-child(${target === 'amount' ? 2 : 1})`;
      await page.waitVisible(`${row} .node-input-fm-target`);
      await page.fill(`${row} .node-input-fm-target`, target);
      await page.fill(`${row} .red-ui-typedInput-input`, source);
    }
    await done();
    await open(encoder);
    await choose('#node-input-format', 'csv');
    await done();

    // a key of 6 characters: the node gets its triangle, and the dialog says why
    await open(enc);
    await fill('#node-input-key', 'abc123');
    await done();
    await page.waitFor((id) => RED.nodes.node(id).valid === false, enc);
    await page.waitVisible(`[id="${enc}"] .red-ui-flow-node-error`);
    await open(enc);
    await reveal('#node-input-key');
    assert.ok(await page.hasClass('#node-input-key', 'input-error'), 'the key field is marked');
    await fill('#node-input-key', '${BUILD_PARTNER_KEY}');
    await done();
    await page.waitFor((id) => RED.nodes.node(id).valid === true, enc);

    const ep = await endpointFromPreset('Partner API (generic POST)', 'Partner');
    assert.ok(ep);
    await open(post);
    await choose('#node-input-endpoint', ep);
    await fill('#node-input-path', '/orders.csv');
    await fill('#node-input-maxAttempts', '1');
    await done();

    await deploy();
    await page.click(`[id="${injectId}"] .red-ui-flow-node-button`);
    await partner.waitForRequest((r) => r.path === '/orders.csv', { timeout: 30000 });
    assert.strictEqual(partner.received.length, 1);
    assert.strictEqual(partner.received[0].plaintext, 'order_id,amount\r\nord_2001,25.50\r\n');

    // the partner refuses the next file: a dead letter with its reason, in the monitor
    partner.failNext(1, { status: 400, match: { path: '/orders.csv' } });
    await page.click(`[id="${injectId}"] .red-ui-flow-node-button`);
    const refused = await partner.waitForRequest((r) => r.path === '/orders.csv' && r.injected, { timeout: 30000 });
    await showMonitor(post);
    const toggle = `.saypro-monitor-node[data-id="${post}"] .saypro-monitor-dl-toggle`;
    await page.waitFor((sel) => /\(1\)/.test($(sel).text()), toggle, 30000);
    await page.click(toggle);
    await page.waitVisible(`.saypro-monitor-node[data-id="${post}"] .saypro-monitor-dl-item`);
    assert.match(await page.text(`.saypro-monitor-node[data-id="${post}"] .saypro-monitor-dl-reason`), /400/);
    await page.click(`.saypro-monitor-node[data-id="${post}"] .saypro-monitor-dl-replay`);
    await partner.waitForRequest((r) => r.path === '/orders.csv' && !r.injected && r.seq > refused.seq, {
      timeout: 30000,
    });
    assert.strictEqual(partner.received.length, 2, 'the replayed file arrived');
    await ui.noSidewaysScroll();
  });

  it('a variable the server does not have: the endpoint and the HTTP POST node using it show their triangles, the reason names it', async function () {
    // the PayPal preset reads PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET, which this Node-RED does not have
    const ep = await endpointFromPreset('PayPal', 'PayPal');
    const post = await drop('saypro-http-post', 310, 480);
    await open(post);
    await choose('#node-input-endpoint', ep);
    await fill('#node-input-path', '/v2/checkout/orders');
    await done();
    const why = await page.waitFor(
      ([e, p]) => {
        const n = RED.nodes.node(e);
        if (n.valid !== false || RED.nodes.node(p).valid !== false) return false;
        return n._def.defaults.secretVars.validate.call(n, n.secretVars);
      },
      [ep, post],
      30000,
    );
    assert.match(
      String(why),
      /environment variable PAYPAL_CLIENT_(ID|SECRET) is not set on the Node-RED server/,
      JSON.stringify(why),
    );
    await page.waitVisible(`[id="${post}"] .red-ui-flow-node-error`);
    // removed again, so that nothing stays invalid for the other tests
    await page.evaluate(
      ([e, p]) => {
        RED.nodes.remove(p);
        RED.nodes.remove(e);
        RED.view.redraw(true);
      },
      [ep, post],
    );
  });
});
