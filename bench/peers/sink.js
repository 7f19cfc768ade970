'use strict';
/**
 * The peer benchmark's sink: an HTTP server on 127.0.0.1 in its own process
 * (forked by bench/peers.js, IPC for commands). It answers every POST 200
 * {"status":"success","transaction_id":…}, counts each message id
 * (Idempotency-Key header) once and records duplicates, counts connections,
 * and checks a sample of the bodies: an AES-256-GCM envelope is decrypted
 * with the key (node:crypto, independently of the package) and must hold the
 * message's id; a plain body must contain it.
 *
 * Commands (process.send): {cmd:'reset'} → {type:'reset'};
 * {cmd:'report'} → {type:'report', …}; the first message is
 * {type:'listening', port}.
 */
const http = require('http');
const crypto = require('crypto');

const key = process.env.BENCH_KEY ? Buffer.from(process.env.BENCH_KEY, 'hex') : null;
const SAMPLE_EVERY = 97;

let state;
function reset() {
  state = {
    requests: 0,
    ids: new Set(),
    duplicates: 0,
    duplicateExamples: [],
    noId: 0,
    bytes: 0,
    connections: 0,
    sampled: 0,
    verified: 0,
    decrypted: 0,
    verifyFailures: [],
  };
}
reset();

function verify(id, body, headers) {
  state.sampled++;
  const text = body.toString('utf8');
  try {
    let plain = text;
    if (headers['x-encryption-alg'] === 'A256GCM') {
      if (!key) throw new Error('no key to decrypt with');
      const env = JSON.parse(text);
      const d = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'), { authTagLength: 16 });
      d.setAuthTag(Buffer.from(env.tag, 'base64'));
      plain = Buffer.concat([d.update(Buffer.from(env.ct, 'base64')), d.final()]).toString('utf8');
      if (JSON.parse(plain).event_id !== id)
        throw new Error('decrypted record holds event_id ' + JSON.parse(plain).event_id);
      state.decrypted++;
    } else if (!plain.includes(id)) {
      throw new Error('body does not contain the id');
    }
    state.verified++;
  } catch (err) {
    if (state.verifyFailures.length < 5) state.verifyFailures.push(`${id}: ${err.message}`);
  }
}

let n = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    state.requests++;
    state.bytes += body.length;
    const id = req.headers['idempotency-key'];
    if (!id) state.noId++;
    else if (state.ids.has(id)) {
      state.duplicates++;
      if (state.duplicateExamples.length < 5) state.duplicateExamples.push(id);
    } else {
      state.ids.add(id);
      if (state.ids.size % SAMPLE_EVERY === 1) verify(id, body, req.headers);
    }
    const answer = JSON.stringify({ status: 'success', transaction_id: 'txn_' + ++n });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.on('connection', () => {
  state.connections++;
});
server.keepAliveTimeout = 30000;

process.on('message', (m) => {
  if (!m) return;
  if (m.cmd === 'reset') {
    reset();
    process.send({ type: 'reset' });
  } else if (m.cmd === 'report') {
    const { ids, ...rest } = state;
    process.send({
      type: 'report',
      unique: ids.size,
      bodyBytesAvg: state.requests ? state.bytes / state.requests : 0,
      ...rest,
    });
  } else if (m.cmd === 'stop') {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
