'use strict';
/**
 * Starts a real Node-RED process (node_modules/node-red/red.js) on a free
 * 127.0.0.1 port with a temporary user directory, and talks to it the way the
 * editor does: admin HTTP API and the /comms websocket (debug pane).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { spawn } = require('child_process');
const WebSocket = require('ws');
const { splitCredentials } = require('../../scripts/flow-tools');

const root = path.resolve(__dirname, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true once `GET base/` answers (any status), false on timeout or when gone() says the process died. */
function waitForHttp(base, timeoutMs, gone) {
  const http = require('http');
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const attempt = () => {
      if (gone() || Date.now() > deadline) return resolve(false);
      const req = http.get(base + '/', (res) => {
        res.resume();
        resolve(true);
      });
      req.setTimeout(2000, () => req.destroy());
      req.on('error', () => setTimeout(attempt, 100));
    };
    attempt();
  });
}

function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * @param {object} opts
 * @param {string} [opts.userDir]   an existing user directory (default: a new temp dir)
 * @param {Array}  [opts.flow]      flow to write as flows.json (inline credentials are split off)
 * @param {boolean}[opts.loadPackage] load this package from the project root via nodesDir (default true)
 * @param {object} [opts.env]       extra environment variables
 * @param {string} [opts.redJs]     path of red.js (default: the devDependency)
 * @param {string} [opts.nodePath]  node binary (default: this one)
 */
async function startNodeRed(opts = {}) {
  // a caller may fix the port (e.g. to restart on the same address) through settings.uiPort
  const port = (opts.settings && opts.settings.uiPort) || (await freePort());
  const userDir = opts.userDir || tmpDir('saypro-nr-');
  if (opts.flow) {
    const { flows, credentials } = splitCredentials(opts.flow);
    fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  }
  const settingsFile = path.join(userDir, 'test-settings.js');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: false,
    logging: { console: { level: opts.logLevel || 'info', metrics: false, audit: false } },
    // no palette catalogue: the editor would fetch it from the Internet
    editorTheme: { projects: { enabled: false }, tours: false, palette: { catalogues: [] } },
    telemetry: { enabled: false },
    ...(opts.loadPackage === false ? {} : { nodesDir: [root] }),
    ...(opts.settings || {}),
  };
  fs.writeFileSync(settingsFile, 'module.exports = ' + JSON.stringify(settings, null, 2) + ';\n');
  const redJs = opts.redJs || require.resolve('node-red/red.js');
  const child = spawn(opts.nodePath || process.execPath, [redJs, '--userDir', userDir, '--settings', settingsFile], {
    // the demo flow's endpoint posts back to this same Node-RED
    env: { ...process.env, SAYPRO_DEMO_URL: `http://127.0.0.1:${port}`, ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;

  const started = await new Promise((resolve) => {
    const deadline = Date.now() + (opts.startTimeout || 60000);
    const timer = setInterval(() => {
      if (/Started flows|Flows stopped due to missing node types|Waiting for missing types/.test(output)) {
        clearInterval(timer);
        resolve(true);
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(timer);
        resolve(false);
      }
    }, 50);
  });
  // "Started flows" can be logged before the HTTP port listens: wait until it answers.
  const listening = started && (await waitForHttp(base, opts.startTimeout || 60000, () => child.exitCode !== null));
  const instance = {
    port,
    base,
    userDir,
    child,
    get output() {
      return output;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  if (!started || !listening) {
    await instance.stop();
    throw new Error('Node-RED did not start:\n' + output);
  }
  return instance;
}

/**
 * Subscribes to the debug pane over /comms; resolves messages as they arrive.
 * `waitFor(pred, ms)` resolves with the first debug message matching pred.
 */
function debugPane(base) {
  const ws = new WebSocket(base.replace(/^http/, 'ws') + '/comms');
  const messages = [];
  const waiters = [];
  ws.on('message', (data) => {
    let list;
    try {
      list = JSON.parse(String(data));
    } catch {
      return;
    }
    for (const item of Array.isArray(list) ? list : [list]) {
      if (item.topic !== 'debug') continue;
      messages.push(item.data);
      for (const w of waiters.slice()) {
        if (w.pred(item.data)) {
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(item.data);
        }
      }
    }
  });
  const open = new Promise((resolve, reject) => {
    ws.on('open', () => {
      ws.send(JSON.stringify({ subscribe: 'debug' }));
      resolve();
    });
    ws.on('error', reject);
  });
  return {
    open,
    messages,
    waitFor(pred, ms = 10000) {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve,
          timer: setTimeout(() => {
            waiters.splice(waiters.indexOf(w), 1);
            reject(
              new Error('no matching debug message in ' + ms + ' ms; saw: ' + JSON.stringify(messages).slice(0, 2000)),
            );
          }, ms),
        };
        waiters.push(w);
      });
    },
    close() {
      ws.terminate();
    },
  };
}

/**
 * Log lines that say something is wrong with the flows: a warning or error
 * (from the runtime or a node) or missing node types — except the two lines
 * the test settings themselves cause.
 */
function startupProblems(output) {
  return output
    .split('\n')
    .filter((l) => /\[(warn|error)\]/.test(l) || /missing node types|Waiting for missing types/i.test(l))
    .filter((l) => !/Projects disabled|Using unencrypted credentials/.test(l));
}

module.exports = { startNodeRed, debugPane, freePort, tmpDir, waitForHttp, root, startupProblems };
