#!/usr/bin/env node
'use strict';
/**
 * `npm start`: Node-RED on http://127.0.0.1:1880 with this package and the demo
 * flow. The user directory is .node-red/ in the project (git-ignored), or
 * NODE_RED_USER_DIR when set; PORT and HOST change where the editor listens.
 *
 * On the first start the demo flow from examples/ is written to
 * .node-red/flows.json and a random demo encryption key is written to
 * .node-red/demo.key; the demo's encrypt/decrypt nodes read it through the
 * SAYPRO_DEMO_KEY environment variable, and the demo's endpoint reads this
 * Node-RED's own address from SAYPRO_DEMO_URL. Later starts keep your edits.
 * `npm start -- --reset-demo` writes the demo flow again.
 */
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');
const { splitCredentials } = require('./flow-tools');

const root = path.resolve(__dirname, '..');
const userDir = process.env.NODE_RED_USER_DIR
  ? path.resolve(process.env.NODE_RED_USER_DIR)
  : path.join(root, '.node-red');
const demoFlow = path.join(root, 'examples', '01 Demo - event to encrypted delivery.json');

function ensureDemo(reset) {
  fs.mkdirSync(userDir, { recursive: true });
  const keyFile = path.join(userDir, 'demo.key');
  if (!fs.existsSync(keyFile)) {
    fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  }
  const flowsFile = path.join(userDir, 'flows.json');
  if (reset || !fs.existsSync(flowsFile)) {
    const { flows, credentials } = splitCredentials(JSON.parse(fs.readFileSync(demoFlow, 'utf8')));
    fs.writeFileSync(flowsFile, JSON.stringify(flows, null, 2));
    // Written unencrypted once; Node-RED encrypts it with its own generated
    // secret the next time the flow is deployed. It holds only `${VAR}` refs.
    fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials, null, 2));
    console.log(`Demo flow written to ${path.relative(root, flowsFile)}`);
    if (reset) tellOrphans(flows);
  }
  return fs.readFileSync(keyFile, 'utf8').trim();
}

/** After --reset-demo: say which queues on disk no HTTP POST node of the new flow owns (never silently). */
function tellOrphans(flows) {
  const { queueDirName } = require('../dist/nodes/lib/outbox/orphans');
  const queues = path.join(userDir, 'saypro-outbox');
  if (!fs.existsSync(queues)) return;
  const live = new Set(flows.filter((n) => n.type === 'saypro-http-post').map((n) => queueDirName(n.id)));
  const left = fs.readdirSync(queues).filter((d) => !live.has(d));
  if (left.length > 0)
    console.log(
      `${left.length} queue(s) of HTTP POST nodes no longer in the flow are kept in ${path.relative(root, queues)}: ` +
        `the integration monitor (editor sidebar) lists them to hand over or delete.`,
    );
}

function main() {
  const args = process.argv.slice(2);
  const reset = args.includes('--reset-demo');
  if (!fs.existsSync(path.join(root, 'dist', 'nodes'))) {
    console.error('dist/ is missing: run `npm install` (it builds the package) or `npm run build`.');
    process.exit(1);
  }
  const key = ensureDemo(reset);
  const red = require.resolve('node-red/red.js');
  const env = { ...process.env };
  if (!env.SAYPRO_DEMO_KEY) env.SAYPRO_DEMO_KEY = key;
  // The demo's HTTP POST node delivers to a receiving flow in this same Node-RED.
  if (!env.SAYPRO_DEMO_URL) env.SAYPRO_DEMO_URL = `http://127.0.0.1:${Number(env.PORT) || 1880}`;
  const child = spawn(
    process.execPath,
    [red, '--userDir', userDir, '--settings', path.join(__dirname, 'dev-settings.js')],
    { stdio: 'inherit', env },
  );
  const forward = (sig) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(signal ? 0 : (code ?? 0)));
}

main();
