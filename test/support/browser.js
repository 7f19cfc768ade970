'use strict';
/**
 * One small page API over the two browsers the editor is tested in:
 *
 *   - Chromium (Debian's /usr/bin/chromium) driven by playwright-core over CDP;
 *   - Firefox  (Debian's /usr/bin/firefox-esr) driven by puppeteer-core over
 *     WebDriver BiDi.
 *
 * Neither library downloads a browser: both are handed the installed binary.
 * `describeInBrowsers(title, body)` declares the suite once per browser and
 * viewport (1280×800 and 1024×768); the body gets a `ui` whose `page` is ready
 * after `ui.open(url)`. Every test fails on a console error or an uncaught page
 * error, and `ui.noSidewaysScroll()` fails when an open dialog scrolls sideways.
 *
 * A missing browser skips its suites on a developer's machine and fails them in
 * CI (the CI environment variable is set): `.ci/run` installs both.
 * BROWSERS=chromium or BROWSERS=firefox limits the run to one browser;
 * VIEWPORTS=1280x800 to one size.
 */
const assert = require('assert');
const fs = require('fs');

const BROWSERS = {
  chromium: { path: process.env.CHROMIUM_PATH || '/usr/bin/chromium', package: 'chromium' },
  firefox: { path: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr', package: 'firefox-esr' },
};
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 1024, height: 768 },
];

function chosen(list, envName, key) {
  const want = (process.env[envName] || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return want.length ? list.filter((x) => want.includes(key(x))) : list;
}

/** The common page API; `impl` supplies the few calls that differ between the libraries. */
class Page {
  constructor(impl) {
    this.impl = impl;
    this.raw = impl.page;
    this.name = impl.name;
    this.marks = 0;
  }

  goto(url) {
    return this.impl.goto(url);
  }

  /** Runs fn(arg) in the page and returns its (JSON-able) result. */
  evaluate(fn, arg) {
    return this.raw.evaluate(fn, arg);
  }

  /** Waits until fn(arg) is truthy in the page; returns its value. */
  waitFor(fn, arg, timeout = 15000) {
    return this.impl.waitForFunction(fn, arg, timeout);
  }

  waitVisible(selector, timeout = 30000) {
    return this.impl.waitForSelector(selector, true, timeout);
  }

  waitGone(selector, timeout = 30000) {
    return this.impl.waitForSelector(selector, false, timeout);
  }

  /**
   * Clicks the element once it is visible and has stopped moving. A button in
   * an edit tray is clicked only once the tray has finished opening: Node-RED
   * slides the tray in, then (150 ms later, later still on a busy machine) sets
   * its width and calls its show(), which moves the buttons again. The editor
   * raises the tray stack's z-index to 13 only after all of that
   * (RED.tray's raiseTrayZ), so that is the sign that it has settled.
   */
  async click(selector) {
    await this.trayOpened(selector);
    return this.impl.click(selector);
  }

  /** Waits until `selector` exists and, when it sits in an edit tray, until the tray has finished opening. */
  trayOpened(selector, timeout = 30000) {
    return this.waitFor(
      (sel) => {
        const el = document.querySelector(sel);
        if (!el) return false;
        if (!el.closest('.red-ui-tray')) return true;
        const stack = document.getElementById('red-ui-editor-stack');
        return !!stack && stack.style.zIndex === '13';
      },
      selector,
      timeout,
    );
  }

  /** Clicks the first visible element matching `selector` whose text contains `text`. */
  async clickText(selector, text, timeout = 15000) {
    const mark = `m${++this.marks}`;
    await this.waitFor(
      ([sel, t, m]) => {
        const el = Array.from(document.querySelectorAll(sel)).find(
          (e) => e.offsetParent !== null && e.textContent.includes(t),
        );
        if (el) el.setAttribute('data-test-mark', m);
        return !!el;
      },
      [selector, text, mark],
      timeout,
    );
    await this.click(`[data-test-mark="${mark}"]`);
  }

  /** Replaces an input's text by typing, as a user would (fires input events). */
  fill(selector, text) {
    return this.impl.fill(selector, text);
  }

  /** Chooses an option of a <select> by value, or by its label when `{ label }` is given. */
  async select(selector, choice) {
    const value =
      typeof choice === 'string'
        ? choice
        : await this.evaluate(
            ([sel, label]) => {
              const opt = Array.from(document.querySelector(sel).options).find((o) => o.textContent.trim() === label);
              return opt ? opt.value : null;
            },
            [selector, choice.label],
          );
    assert.notStrictEqual(value, null, `${selector} has an option ${JSON.stringify(choice)}`);
    await this.impl.select(selector, value);
  }

  /** Fires a DOM event (e.g. 'change') on the element. */
  dispatch(selector, type) {
    return this.evaluate(
      ([sel, t]) => {
        $(sel).trigger(t);
      },
      [selector, type],
    );
  }

  value(selector) {
    return this.evaluate((sel) => document.querySelector(sel).value, selector);
  }

  values(selector) {
    return this.evaluate((sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.value), selector);
  }

  checked(selector) {
    return this.evaluate((sel) => document.querySelector(sel).checked, selector);
  }

  text(selector) {
    return this.evaluate((sel) => {
      const e = document.querySelector(sel);
      return e ? e.innerText : null;
    }, selector);
  }

  texts(selector) {
    return this.evaluate((sel) => Array.from(document.querySelectorAll(sel)).map((e) => e.innerText), selector);
  }

  count(selector) {
    return this.evaluate((sel) => document.querySelectorAll(sel).length, selector);
  }

  visible(selector) {
    return this.evaluate((sel) => {
      const e = document.querySelector(sel);
      if (!e) return false;
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
    }, selector);
  }

  hasClass(selector, cls) {
    return this.evaluate(([sel, c]) => document.querySelector(sel).classList.contains(c), [selector, cls]);
  }

  screenshot(path) {
    return this.raw.screenshot({ path });
  }

  /** The centre of the element in the viewport (scrolled into view first). */
  center(selector) {
    return this.evaluate((sel) => {
      const e = document.querySelector(sel);
      if (!e) return null;
      e.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const r = e.getBoundingClientRect();
      return { x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2) };
    }, selector);
  }

  /**
   * Drags with the mouse, as a user does, from the centre of `from` to the
   * centre of `to` (a selector) or to a point {x, y} of the viewport. The
   * same mouse calls in playwright-core and puppeteer-core.
   */
  async drag(from, to) {
    const a = await this.center(from);
    assert.ok(a, `${from} is on the page`);
    const b = typeof to === 'string' ? await this.center(to) : to;
    assert.ok(b, `${to} is on the page`);
    const mouse = this.raw.mouse;
    await mouse.move(a.x, a.y);
    await mouse.down();
    await mouse.move(a.x + 4, a.y + 4, { steps: 2 });
    await mouse.move(b.x, b.y, { steps: 12 });
    await mouse.up();
  }
}

function playwrightImpl(page) {
  return {
    name: 'chromium',
    page,
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    waitForFunction: async (fn, arg, timeout) => (await page.waitForFunction(fn, arg, { timeout })).jsonValue(),
    waitForSelector: (sel, visible, timeout) =>
      page.waitForSelector(sel, { state: visible ? 'visible' : 'hidden', timeout }),
    fill: (sel, text) => page.fill(sel, text),
    click: (sel) => page.click(sel),
    select: (sel, value) => page.selectOption(sel, value),
  };
}

function puppeteerImpl(page) {
  return {
    name: 'firefox',
    page,
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    waitForFunction: async (fn, arg, timeout) =>
      (await page.waitForFunction(fn, { timeout, polling: 100 }, arg)).jsonValue(),
    waitForSelector: (sel, visible, timeout) =>
      page.waitForSelector(sel, visible ? { visible: true, timeout } : { hidden: true, timeout }),
    select: (sel, value) => page.select(sel, value),
    // locators wait until the element is visible and its box has stopped moving, as playwright does
    fill: (sel, text) => page.locator(sel).setTimeout(15000).fill(text),
    // and, as playwright does, until nothing covers it (a notification slides over the tray's buttons)
    click: async (sel) => {
      await page.waitForFunction(
        (s) => {
          const el = document.querySelector(s);
          if (!el) return false;
          el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
          const r = el.getBoundingClientRect();
          const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
          return !!hit && (el === hit || el.contains(hit));
        },
        { timeout: 15000, polling: 100 },
        sel,
      );
      await page.locator(sel).setTimeout(15000).click();
    },
  };
}

async function launch(name, viewport) {
  if (name === 'chromium') {
    const { chromium } = require('playwright-core');
    const browser = await chromium.launch({
      executablePath: BROWSERS.chromium.path,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    const page = await browser.newPage({ viewport });
    return { browser, page: playwrightImpl(page), close: () => browser.close() };
  }
  const puppeteer = require('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: BROWSERS.firefox.path,
    protocol: 'webDriverBiDi',
    headless: true,
    defaultViewport: viewport,
    extraPrefsFirefox: { 'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false },
  });
  const page = await browser.newPage();
  return { browser, page: puppeteerImpl(page), close: () => browser.close() };
}

/** Fails when an open dialog (edit tray, notification, sidebar tab) is wider than its box and so scrolls sideways. */
async function noSidewaysScroll(page) {
  const wide = await page.evaluate(() => {
    const boxes = document.querySelectorAll(
      '.red-ui-tray-body, .red-ui-tray-content, .red-ui-editor form, .ui-dialog-content, .red-ui-sidebar-content, .red-ui-notification',
    );
    const out = [];
    boxes.forEach((el) => {
      if (el.offsetParent === null) return;
      const style = getComputedStyle(el);
      if (el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'hidden' && style.overflowX !== 'clip') {
        out.push(`${el.className || el.tagName} (${el.scrollWidth} > ${el.clientWidth})`);
      }
    });
    return out;
  });
  assert.deepStrictEqual(wide, [], 'a dialog scrolls sideways');
}

/**
 * Declares `body` once per browser and viewport. body(ui) registers hooks and
 * tests; `ui.page` is the Page; `await ui.open(url)` loads the editor.
 */
function describeInBrowsers(title, body) {
  for (const name of chosen(Object.keys(BROWSERS), 'BROWSERS', (x) => x)) {
    for (const viewport of chosen(VIEWPORTS, 'VIEWPORTS', (v) => `${v.width}x${v.height}`)) {
      describe(`${title} (${name}, ${viewport.width}×${viewport.height})`, function () {
        this.timeout(180000);
        const ui = {
          browserName: name,
          viewport,
          page: undefined,
          errors: [],
          async open(url) {
            await ui.page.goto(url);
            const types = Object.keys(require('../../package.json')['node-red'].nodes);
            await ui.page.waitFor(
              (list) =>
                window.RED &&
                RED.nodes &&
                list.every((t) => RED.nodes.getType(t)) &&
                window.SayProIntegrationKit &&
                window.SayProIntegrationKit.keyProblem &&
                document.querySelector('#red-ui-palette-container-integration .red-ui-palette-node') &&
                // the deployed flows are in the workspace (they load after the palette)
                RED.nodes.getWorkspaceOrder().length > 0,
              types,
              60000,
            );
          },
          noSidewaysScroll: () => noSidewaysScroll(ui.page),
          /** a file name that says which browser and size made it */
          shot: (stem) => `${stem}-${name}-${viewport.width}x${viewport.height}.png`,
        };
        let session;

        before(async function () {
          const exe = BROWSERS[name].path;
          if (!fs.existsSync(exe)) {
            if (process.env.CI)
              throw new Error(`${exe} is missing: .ci/run installs Debian's ${BROWSERS[name].package}`);
            this.skip();
          }
          session = await launch(name, viewport);
          const raw = session.page.page;
          raw.on('console', (m) => {
            if (m.type() === 'error') ui.errors.push(`console: ${m.text()}`);
          });
          raw.on('pageerror', (err) => ui.errors.push(`page error: ${String((err && err.stack) || err)}`));
          ui.page = new Page(session.page);
        });

        after(async function () {
          if (session) await session.close();
        });

        afterEach(async function () {
          const errors = ui.errors.splice(0);
          if (this.currentTest && this.currentTest.state === 'failed' && ui.page) {
            // what the page looked like, for the failure report
            const file = require('path').join(
              require('os').tmpdir(),
              ui.shot('saypro-failed-' + this.currentTest.title.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)),
            );
            await ui.page.screenshot(file).catch(() => {});
            if (errors.length) console.log(`      errors in the page: ${errors.join('\n')}\n      screenshot: ${file}`);
          }
          if (this.currentTest && this.currentTest.state === 'passed') {
            assert.deepStrictEqual(errors, [], 'no console or page error');
          }
        });

        body(ui);
      });
    }
  }
}

module.exports = { describeInBrowsers, noSidewaysScroll, BROWSERS, VIEWPORTS };
