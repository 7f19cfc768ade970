#!/usr/bin/env node
'use strict';
/**
 * Takes a picture of each example flow for the README: starts Node-RED with
 * every example deployed, opens each example's tab in Chromium and saves the
 * flow as docs/images/<example>.png (cropped to the nodes).
 *
 *   node scripts/screenshot-examples.js        (needs /usr/bin/chromium)
 */
const fs = require('fs');
const path = require('path');
const { startNodeRed, root } = require('../test/support/nodered');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const outDir = path.join(root, 'docs', 'images');

function slug(name) {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

async function main() {
  const { chromium } = require('playwright-core');
  const examples = fs
    .readdirSync(path.join(root, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort();
  const flow = examples.flatMap((f) => JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')));
  // placeholders so that every endpoint and key resolves; nothing is sent anywhere
  const env = { SAYPRO_DEMO_KEY: '11'.repeat(32), PARTNER_KEY: '22'.repeat(32) };
  for (const name of [
    'STRIPE_SECRET_KEY',
    'SENDGRID_API_KEY',
    'SENDGRID_FROM',
    'MAILCHIMP_API_KEY',
    'MAILCHIMP_LIST_ID',
    'HUBSPOT_TOKEN',
    'TWILIO_ACCOUNT_SID',
    'TWILIO_AUTH_TOKEN',
    'TWILIO_FROM',
    'PAYPAL_CLIENT_ID',
    'PAYPAL_CLIENT_SECRET',
    'PARTNER_API_KEY',
    'ALERT_EMAIL',
  ]) {
    env[name] =
      name === 'SENDGRID_FROM' || name === 'ALERT_EMAIL'
        ? 'shop@example.com'
        : name === 'TWILIO_FROM'
          ? '+15005550006'
          : 'placeholder';
  }
  const nr = await startNodeRed({ flow, env });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 3200, height: 1100 }, deviceScaleFactor: 1 });
    await page.goto(nr.base + '/', { waitUntil: 'load' });
    await page.waitForFunction(
      () => window.RED && RED.nodes && RED.nodes.filterNodes({ type: 'saypro-http-post' }).length > 0,
      null,
      { timeout: 30000 },
    );
    await page.evaluate(() => RED.actions.invoke('core:toggle-sidebar', false));
    fs.mkdirSync(outDir, { recursive: true });
    for (const file of examples) {
      const tab = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')).find((n) => n.type === 'tab');
      await page.evaluate((id) => RED.workspaces.show(id), tab.id);
      await page.waitForTimeout(400);
      const box = await page.evaluate(() => {
        const els = [...document.querySelectorAll('#red-ui-workspace-chart .red-ui-flow-node-group')];
        const rects = els.map((e) => e.getBoundingClientRect()).filter((r) => r.width > 0);
        const left = Math.min(...rects.map((r) => r.left)) - 20;
        const top = Math.min(...rects.map((r) => r.top)) - 20;
        const right = Math.max(...rects.map((r) => r.right)) + 30;
        const bottom = Math.max(...rects.map((r) => r.bottom)) + 30;
        return {
          x: Math.max(0, left),
          y: Math.max(0, top),
          width: right - Math.max(0, left),
          height: bottom - Math.max(0, top),
        };
      }, tab.id);
      const target = path.join(outDir, slug(file.replace(/\.json$/, '')) + '.png');
      await page.screenshot({ path: target, clip: box });
      console.log(`${path.relative(root, target)}  (${Math.round(box.width)}×${Math.round(box.height)})`);
    }
  } finally {
    await browser.close();
    await nr.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
