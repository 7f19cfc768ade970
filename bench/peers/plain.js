'use strict';
/**
 * A plain client loop with no Node-RED: POSTs the mapped record as JSON
 * (Content-Type and Idempotency-Key set, keep-alive, JSON answer parsed) with
 * the same closed loop as the flows (bench/peers/loop.js).
 *   node bench/peers/plain.js <axios|undici|node-http>   (IPC from bench/peers.js)
 * A client library that is not installed is reported as {type:'skip'}.
 */
const http = require('http');
const { ClosedLoop, warmupAndMeasure } = require('./loop');
const { mapped, eventMeta } = require('./record');

const which = process.argv[2];

function makeClient(url, concurrency) {
  const target = new URL('/ingest', url);
  if (which === 'axios') {
    const axios = require('axios');
    const agent = new http.Agent({ keepAlive: true });
    const instance = axios.create({ httpAgent: agent, maxRedirects: 0, responseType: 'json' });
    return async (i) => {
      const res = await instance.post(target.href, JSON.stringify(mapped(i)), {
        headers: { 'content-type': 'application/json', 'idempotency-key': eventMeta(i).id },
      });
      return res.status === 200 && res.data && res.data.status === 'success';
    };
  }
  if (which === 'undici') {
    const { Pool } = require('undici');
    const pool = new Pool(target.origin, { connections: concurrency });
    return async (i) => {
      const res = await pool.request({
        method: 'POST',
        path: target.pathname,
        headers: { 'content-type': 'application/json', 'idempotency-key': eventMeta(i).id },
        body: JSON.stringify(mapped(i)),
      });
      const data = await res.body.json();
      return res.statusCode === 200 && data.status === 'success';
    };
  }
  if (which === 'node-http') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    return (i) =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify(mapped(i));
        const req = http.request(
          target,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              'idempotency-key': eventMeta(i).id,
            },
          },
          (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
              try {
                resolve(
                  res.statusCode === 200 && JSON.parse(Buffer.concat(chunks).toString('utf8')).status === 'success',
                );
              } catch (err) {
                reject(err);
              }
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
  }
  throw new Error('unknown client ' + which);
}

process.on('message', (m) => {
  if (!m || m.type !== 'run') return;
  let send;
  try {
    send = makeClient(m.url, m.concurrency);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      process.send({
        type: 'skip',
        reason: `${which === 'node-http' ? 'node:http' : which} is not installed (npm install --no-save ${which})`,
      });
      return;
    }
    process.send({ type: 'error', error: String((err && err.stack) || err) });
    return;
  }
  const loop = new ClosedLoop((i) => {
    send(i).then(
      (ok) => loop.complete(i, ok),
      () => loop.complete(i, false),
    );
  });
  warmupAndMeasure(loop, m).then(
    (result) => process.send({ type: 'result', ...result }),
    (err) => process.send({ type: 'error', error: String((err && err.stack) || err) }),
  );
});
process.on('disconnect', () => process.exit(0));
if (process.send) process.send({ type: 'driver-ready' });
