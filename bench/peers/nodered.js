'use strict';
/**
 * Starts a real Node-RED process for the peer benchmark: node_modules/node-red/red.js
 * with a temporary user directory and settings file (as test/support/nodered.js
 * does), plus an IPC channel for the bench-driver node, optionally pinned to
 * some CPUs with taskset. Resolves once "Started flows" is logged and the HTTP
 * port answers; `startMs` is the time from spawn to the port answering,
 * `startCpuMs` the CPU time the process used until then (steadier than the
 * wall time on a busy machine). With taskset the CPU time is Node-RED's only.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const http = require('http');
const { spawn } = require('child_process');
const { performance } = require('perf_hooks');
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

function answers(base) {
  return new Promise((resolve) => {
    const req = http.get(base + '/', (res) => {
      res.resume();
      resolve(true);
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

let clockTicks;
/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat (NaN elsewhere). */
function cpuMsOf(pid) {
  try {
    if (clockTicks === undefined) {
      const r = require('child_process').spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
      clockTicks = Number(r.stdout) || 100;
    }
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces) start at field 3 (state)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}

/** The command line of a child, pinned with taskset when `cpus` is a CPU list ("0", "0-1"). */
function command(args, cpus) {
  if (!cpus) return { file: process.execPath, args };
  return { file: 'taskset', args: ['-c', cpus, process.execPath, ...args] };
}

/**
 * @param {object} o
 * @param {Array} [o.flow]           flow (inline credentials are split off); default: none
 * @param {string[]} [o.nodesDir]    extra node directories
 * @param {string} [o.cpus]          taskset CPU list
 * @param {number} [o.timeoutMs]
 */
async function startNodeRed(o = {}) {
  const port = await freePort();
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-bench-'));
  const { flows, credentials } = splitCredentials(o.flow || []);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flows));
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: false,
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    telemetry: { enabled: false },
    ...(o.nodesDir && o.nodesDir.length ? { nodesDir: o.nodesDir } : {}),
  };
  const settingsFile = path.join(userDir, 'bench-settings.js');
  fs.writeFileSync(settingsFile, 'module.exports = ' + JSON.stringify(settings, null, 2) + ';\n');
  const redJs = require.resolve('node-red/red.js', { paths: [root] });
  const cmd = command([redJs, '--userDir', userDir, '--settings', settingsFile], o.cpus);
  const t0 = performance.now();
  const child = spawn(cmd.file, cmd.args, {
    cwd: userDir,
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (o.timeoutMs || 60000);

  const instance = {
    child,
    port,
    base,
    userDir,
    get output() {
      return output;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
  let started = false;
  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    if (!started)
      started = /Started flows|Flows stopped due to missing node types|Waiting for missing types/.test(output);
    if (started && (await answers(base))) {
      instance.startMs = performance.now() - t0;
      instance.startCpuMs = cpuMsOf(child.pid);
      if (/Waiting for missing types|Flows stopped/.test(output)) break;
      return instance;
    }
    await new Promise((r) => setTimeout(r, started ? 20 : 25));
  }
  await instance.stop();
  throw new Error('Node-RED did not start:\n' + output.slice(-4000));
}

module.exports = { startNodeRed, freePort, command, cpuMsOf, root };
