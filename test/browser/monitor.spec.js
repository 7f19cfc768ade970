'use strict';
/**
 * The integration monitor sidebar (plugin nodes/monitor.*): a delivery shows in
 * the last deliveries; a refused one becomes a dead letter with its reason;
 * opening it shows its attempts; replaying it (once the partner accepts)
 * delivers it. A partner stand-in on 127.0.0.1 answers.
 */
const assert = require('assert');
const http = require('http');
const { startNodeRed } = require('../support/nodered');
const { describeInBrowsers } = require('../support/browser');

function inject(id, eventId, y) {
  return {
    id,
    type: 'inject',
    z: 'montab',
    name: eventId,
    x: 120,
    y,
    wires: [['monpost']],
    repeat: '',
    once: false,
    topic: '',
    props: [{ p: 'payload' }, { p: 'event', v: JSON.stringify({ id: eventId, type: 'order.created' }), vt: 'json' }],
    payload: '{"order":1}',
    payloadType: 'json',
  };
}

describeInBrowsers('integration monitor', function (ui) {
  let nr;
  let partner;
  let page;
  let accept = false;
  let base;
  const received = [];

  before(async function () {
    partner = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const key = req.headers['idempotency-key'];
        const ok = accept || !/bad/.test(key);
        if (ok) received.push(key);
        res.statusCode = ok ? 201 : 400;
        res.setHeader('content-type', 'application/json');
        res.end(ok ? '{"id":"r1"}' : '{"error":"amount is missing"}');
      });
    });
    await new Promise((r) => partner.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${partner.address().port}`;
    nr = await startNodeRed({
      flow: [
        { id: 'montab', type: 'tab', label: 'monitor' },
        {
          id: 'monep',
          type: 'saypro-endpoint',
          name: 'Partner',
          baseUrl: base,
          method: 'POST',
          headers: [],
          timeout: 5000,
          keepAlive: true,
          authType: 'none',
        },
        inject('monok', 'evt_good_1', 80),
        inject('monbad', 'evt_bad_1', 160),
        {
          id: 'monpost',
          type: 'saypro-http-post',
          z: 'montab',
          name: 'to partner',
          endpoint: 'monep',
          method: 'POST',
          path: '/orders',
          headers: [],
          idempotencyHeader: 'Idempotency-Key',
          maxAttempts: 1,
          initialDelay: 0,
          maxDelay: 0,
          durable: true,
          x: 360,
          y: 120,
          wires: [[], []],
        },
      ],
    });
    await ui.open(nr.base + '/');
    page = ui.page;
    await showMonitor();
  });

  after(async function () {
    if (nr) await nr.stop();
    if (partner) await new Promise((r) => partner.close(r));
  });

  /** Shows the monitor tab (the editor may switch the sidebar to Info once it has loaded the flows). */
  function showMonitor() {
    return page.waitFor(() => {
      if (RED.workspaces.active() !== 'montab') RED.workspaces.show('montab');
      if (!$('.saypro-monitor').is(':visible')) RED.sidebar.show('saypro-monitor');
      return $('.saypro-monitor-node[data-id="monpost"]').is(':visible');
    });
  }

  const rowFor = (eventId) =>
    page.waitFor(
      (id) => {
        const row = Array.from(
          document.querySelectorAll('.saypro-monitor-node[data-id="monpost"] .saypro-monitor-delivery'),
        ).find((r) => r.children[1].textContent === id);
        return row && Array.from(row.children).map((c) => c.textContent);
      },
      eventId,
      30000,
    );

  it('shows a delivery in the last deliveries, with its status and attempts', async function () {
    assert.match(await page.text('.saypro-monitor-node[data-id="monpost"]'), /to partner → Partner/);
    await page.click('[id="monok"] .red-ui-flow-node-button');
    const row = await rowFor('evt_good_1');
    assert.strictEqual(row[2], '201');
    assert.strictEqual(row[3], '1');
    assert.match(await page.text('.saypro-monitor-node[data-id="monpost"] .saypro-monitor-counts'), /delivered 1/);
    await ui.noSidewaysScroll();
  });

  it('shows a refused delivery as a dead letter with its reason and attempts; replaying it delivers it', async function () {
    await page.click('[id="monbad"] .red-ui-flow-node-button');
    const row = await rowFor('evt_bad_1');
    assert.match(row[2], /400/);
    await page.waitFor(
      () => /Dead letters \(1\)/.test($('.saypro-monitor-node[data-id="monpost"] .saypro-monitor-dl-toggle').text()),
      null,
      30000,
    );
    await showMonitor();
    await page.click('.saypro-monitor-node[data-id="monpost"] .saypro-monitor-dl-toggle');
    await page.waitVisible('.saypro-monitor-dl-item[data-id="evt_bad_1"]');
    const reason = await page.text('.saypro-monitor-dl-item[data-id="evt_bad_1"] .saypro-monitor-dl-reason');
    assert.match(reason, /400/);
    await page.click('.saypro-monitor-dl-item[data-id="evt_bad_1"] .saypro-monitor-dl-open');
    // opened: the request as it was sent, and every attempt in plain words
    await page.waitVisible('.saypro-monitor-dl-item[data-id="evt_bad_1"] .saypro-monitor-dl-history');
    const request = (await page.text('.saypro-monitor-dl-item[data-id="evt_bad_1"] .saypro-monitor-dl-request')).split(
      '\n',
    );
    assert.strictEqual(request[0], `POST ${base}/orders`);
    assert.ok(request.includes('Idempotency-Key: evt_bad_1'), request.join('\n'));
    assert.strictEqual(request[request.length - 1], '{"order":1}');
    assert.match(
      await page.text('.saypro-monitor-dl-item[data-id="evt_bad_1"] .saypro-monitor-dl-history'),
      /HTTP 400/,
    );
    // the filter narrows the list
    await page.fill('.saypro-monitor-dl-filter', 'nothing-like-this');
    await page.waitFor(() => $('.saypro-monitor-dl-item').length === 0);
    await page.fill('.saypro-monitor-dl-filter', 'evt_bad');
    await page.waitVisible('.saypro-monitor-dl-item[data-id="evt_bad_1"]');
    await ui.noSidewaysScroll();

    accept = true;
    await page.click('.saypro-monitor-dl-item[data-id="evt_bad_1"] .saypro-monitor-dl-replay');
    await page.waitFor(
      () => {
        const rows = Array.from(
          document.querySelectorAll('.saypro-monitor-node[data-id="monpost"] .saypro-monitor-delivery'),
        );
        return (
          rows.length && rows[0].children[1].textContent === 'evt_bad_1' && rows[0].children[2].textContent === '201'
        );
      },
      null,
      30000,
    );
    assert.ok(received.includes('evt_bad_1'), 'the partner got the replayed event');
    await page.waitFor(
      () => /Dead letters \(0\)/.test($('.saypro-monitor-node[data-id="monpost"] .saypro-monitor-dl-toggle').text()),
      null,
      30000,
    );
  });
});
