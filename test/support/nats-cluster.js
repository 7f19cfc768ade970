'use strict';
/**
 * Real nats-server processes on 127.0.0.1 for the shared-mode tests: a single
 * JetStream server or a cluster of N, with generated configs, JetStream store
 * directories in a temp dir and free ports. Servers can be SIGKILLed and
 * started again on the same ports and store directories.
 *
 *   const c = await startNatsCluster({ size: 3, nice: 5 }); // nice: a lower CPU priority (optional)
 *   c.urls            ['nats://127.0.0.1:p1', …]
 *   await c.kill(1);  await c.restart(1);
 *   await c.stop();
 *
 * `natsServerPath()` finds the binary (NATS_SERVER env, else PATH); the tests
 * fail loudly when it is missing in CI (env CI set) and skip elsewhere.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { freePort, tmpDir } = require('./nodered');

function natsServerPath() {
  if (process.env.NATS_SERVER) return fs.existsSync(process.env.NATS_SERVER) ? process.env.NATS_SERVER : null;
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p || null;
}

/**
 * In a describe's before(): skips the suite when nats-server is missing, except in CI,
 * where a missing broker is an error (the suite must not pass by doing nothing).
 */
function requireNatsServer(ctx) {
  const p = natsServerPath();
  if (p) return p;
  if (process.env.CI) throw new Error('nats-server is not installed (CI must install it: apt-get install nats-server)');
  ctx.skip();
  return null;
}

function waitForPort(port, timeoutMs) {
  const net = require('net');
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const attempt = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) resolve(false);
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

async function startNatsCluster(opts = {}) {
  const size = opts.size || 1;
  const bin = opts.bin || natsServerPath();
  if (!bin) throw new Error('nats-server not found');
  const dir = tmpDir('saypro-nats-');
  const servers = [];
  for (let i = 0; i < size; i++)
    servers.push({ i, port: await freePort(), clusterPort: size > 1 ? await freePort() : 0, proc: null, output: '' });
  for (const s of servers) {
    const store = path.join(dir, `store-${s.i}`);
    fs.mkdirSync(store, { recursive: true });
    const lines = [
      `server_name: n${s.i}`,
      `listen: 127.0.0.1:${s.port}`,
      `jetstream { store_dir: ${JSON.stringify(store)}, max_memory_store: 64MB, max_file_store: 2GB }`,
    ];
    if (opts.token) lines.push(`authorization { token: ${JSON.stringify(opts.token)} }`);
    if (size > 1) {
      const routes = servers.filter((o) => o !== s).map((o) => `nats-route://127.0.0.1:${o.clusterPort}`);
      lines.push(`cluster { name: saypro, listen: 127.0.0.1:${s.clusterPort}, routes: [${routes.join(', ')}] }`);
    }
    s.config = path.join(dir, `n${s.i}.conf`);
    fs.writeFileSync(s.config, lines.join('\n') + '\n');
  }

  const start = async (s) => {
    s.proc = spawn(bin, ['-c', s.config], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (opts.nice) {
      try {
        os.setPriority(s.proc.pid, opts.nice);
      } catch {
        // not allowed here: runs at the normal priority
      }
    }
    const keep = (d) => {
      s.output += d.toString();
      if (s.output.length > 200000) s.output = s.output.slice(-100000);
    };
    s.proc.stdout.on('data', keep);
    s.proc.stderr.on('data', keep);
    if (!(await waitForPort(s.port, 30000)))
      throw new Error(`nats-server n${s.i} did not listen on ${s.port}:\n${s.output.slice(-2000)}`);
  };
  const kill = async (i) => {
    const s = servers[i];
    if (!s.proc || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
    const gone = new Promise((resolve) => s.proc.once('exit', resolve));
    s.proc.kill('SIGKILL');
    await gone;
  };
  await Promise.all(servers.map(start));
  const c = {
    dir,
    servers,
    urls: servers.map((s) => `nats://127.0.0.1:${s.port}`),
    kill,
    restart: (i) => start(servers[i]),
    output: (i) => servers[i].output,
    async stop() {
      for (const s of servers) await kill(s.i);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return c;
}

/** Waits until JetStream answers (a cluster needs a meta leader first). */
async function waitForJetStream(urls, timeoutMs = 60000, connectOpts = {}) {
  const { connect } = require('@nats-io/transport-node');
  const { jetstreamManager } = require('@nats-io/jetstream');
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    let nc;
    try {
      nc = await connect({ servers: urls, timeout: 2000, ...connectOpts });
      const jsm = await jetstreamManager(nc, { timeout: 2000 });
      await jsm.getAccountInfo();
      await nc.close();
      return;
    } catch (err) {
      last = err;
      if (nc) await nc.close().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`JetStream did not become ready: ${last && last.message}`);
}

module.exports = { startNatsCluster, natsServerPath, requireNatsServer, waitForJetStream, os };
