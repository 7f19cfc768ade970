'use strict';
/**
 * A fake partner orders API that receives encrypted files:
 *
 *   POST /orders.csv   POST /orders.xml
 *
 * Each body is an AES-256-GCM JSON envelope
 * {"v":1,"alg":"A256GCM","kid","iv","tag","ct","cty"} (docs/encryption.md),
 * sent as application/json. The fake opens it with plain node:crypto, no part
 * of this package, and keeps the exact plaintext so that a test can compare the
 * CSV or XML byte by byte. It answers like a partner API:
 *
 *   200 {"status":"success","reference":"FAKE-<n>"}
 *   400 {"status":"error","reasons":[…]} when the body is not an envelope, does
 *       not decrypt with the key (or the AAD), names another key id, or holds
 *       another format than the path says (cty text/csv for .csv,
 *       application/xml for .xml)
 *   404 {"status":"error","reasons":["no such endpoint: …"]} for other paths.
 *
 * And a plain JSON webhook for platform events (example 25):
 *
 *   POST /events       one event as a JSON object, `X-API-Key: <apiKey>` required
 *                      (401 {"status":"error","reasons":["invalid API key"]} otherwise);
 *                      200 {"status":"success","reference":"EVT-<n>"}, the event kept in
 *                      `p.events`; 400 when the body is not a JSON object.
 *                      `failNext(n, { status: 400, match: { path: '/events' } })` makes
 *                      it refuse the next n events.
 *
 * With `relay` set to a base URL, a file that decrypted is passed on as it came
 * (the same bytes, content type and idempotency key) to relay + path, and that
 * receiver's answer is returned instead: a test can put a real receiving flow
 * behind these byte-level checks.
 *
 *   const p = await startPartner({ keyHex, kid, aad, apiKey });   // all optional
 *   p.url, p.keyHex, p.apiKey, p.env → { PARTNER_URL, PARTNER_KEY, PARTNER_API_KEY }
 *   p.received   opened files: [{ path, headers, envelope, cty, plaintext (string), bytes (Buffer), at }]
 *   p.events     webhook events accepted: [{ body, headers, at }]
 *   p.relay      base URL or null
 *   plus everything from ./index.js (requests, failNext, rateLimitNext, reset, stop …)
 */
const crypto = require('crypto');
const { startFakeServer } = require('./index');

const FORMAT_OF_PATH = { '/orders.csv': /^text\/csv(;|$)/i, '/orders.xml': /^application\/xml(;|$)/i };

/** Opens an A256GCM envelope (JSON text or object); throws when it does not authenticate. */
function openEnvelope(envelope, key, aad) {
  const e = typeof envelope === 'string' ? JSON.parse(envelope) : envelope;
  if (!e || typeof e !== 'object' || e.v !== 1 || e.alg !== 'A256GCM') throw new Error('not an A256GCM envelope');
  const iv = Buffer.from(String(e.iv), 'base64');
  const tag = Buffer.from(String(e.tag), 'base64');
  if (iv.length !== 12 || tag.length !== 16) throw new Error('bad IV or tag length');
  const d = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  if (aad !== undefined) d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(tag);
  return { envelope: e, plaintext: Buffer.concat([d.update(Buffer.from(String(e.ct), 'base64')), d.final()]) };
}

/** Makes an A256GCM envelope the way the encrypt node does (for tests that play the sender). */
function sealEnvelope(plaintext, keyHex, { kid = 'k1', cty, aad } = {}) {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv, { authTagLength: 16 });
  if (aad !== undefined) c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(Buffer.from(plaintext, 'utf8')), c.final()]);
  return JSON.stringify({
    v: 1,
    alg: 'A256GCM',
    kid,
    iv: iv.toString('base64'),
    tag: c.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
    ...(cty ? { cty } : {}),
  });
}

async function startPartner(opts = {}) {
  const keyHex = opts.keyHex || crypto.randomBytes(32).toString('hex');
  const key = Buffer.from(keyHex, 'hex');
  if (key.length !== 32) throw new Error('keyHex must be 64 hex characters');
  const apiKey = opts.apiKey || 'pk_' + crypto.randomBytes(16).toString('hex');
  const received = [];
  const events = [];
  let count = 0;
  let eventCount = 0;
  const refuse = (status, ...reasons) => ({ status, body: { status: 'error', reasons } });

  async function receive({ record, rawBody, bodyError, contentType, headers, fake }) {
    const path = record.path;
    if (!contentType.startsWith('application/json'))
      return refuse(400, 'the envelope must be sent as application/json');
    if (bodyError) return refuse(400, 'the body is not JSON');
    let opened;
    try {
      opened = openEnvelope(rawBody, key, opts.aad);
    } catch (err) {
      return refuse(400, 'cannot decrypt: ' + err.message);
    }
    const { envelope, plaintext } = opened;
    if (opts.kid !== undefined && envelope.kid !== opts.kid)
      return refuse(400, `unknown key id ${JSON.stringify(envelope.kid)}`);
    if (!FORMAT_OF_PATH[path].test(String(envelope.cty || '')))
      return refuse(400, `${path} does not take ${envelope.cty || 'an envelope without cty'}`);
    received.push({
      path,
      headers,
      envelope,
      cty: envelope.cty,
      plaintext: plaintext.toString('utf8'),
      bytes: plaintext,
      at: Date.now(),
    });

    if (fake.relay) {
      try {
        const answer = await fetch(fake.relay + path, {
          method: 'POST',
          headers: {
            'content-type': headers['content-type'],
            ...(headers['idempotency-key'] ? { 'idempotency-key': headers['idempotency-key'] } : {}),
          },
          body: rawBody,
        });
        const text = await answer.text();
        return {
          status: answer.status,
          headers: { 'content-type': answer.headers.get('content-type') || 'application/json' },
          body: text,
        };
      } catch (err) {
        return refuse(502, 'relay failed: ' + err.message);
      }
    }
    count++;
    return { status: 200, body: { status: 'success', reference: `FAKE-${count}` } };
  }

  function webhook({ body, bodyError, contentType, headers }) {
    const given = Buffer.from(String(headers['x-api-key'] || ''));
    const expected = Buffer.from(apiKey);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
      return refuse(401, 'invalid API key');
    if (
      !contentType.startsWith('application/json') ||
      bodyError ||
      !body ||
      typeof body !== 'object' ||
      Array.isArray(body)
    ) {
      return refuse(400, 'the body must be one event as a JSON object');
    }
    events.push({ body, headers, at: Date.now() });
    eventCount++;
    return { status: 200, body: { status: 'success', reference: `EVT-${eventCount}` } };
  }

  const fake = await startFakeServer({
    name: 'partner',
    errorBody(status, ctx) {
      if (status === 404)
        return { status: 'error', reasons: [`no such endpoint: ${ctx.record.method} ${ctx.record.path}`] };
      return {
        status: 'error',
        reasons: [status === 429 ? 'too many requests' : status >= 500 ? 'temporarily unavailable' : 'bad request'],
      };
    },
    onReset() {
      received.length = 0;
      events.length = 0;
      count = 0;
      eventCount = 0;
    },
    routes: [
      ['POST', '/orders.csv', receive],
      ['POST', '/orders.xml', receive],
      ['POST', '/events', webhook],
    ],
  });
  fake.keyHex = keyHex;
  fake.apiKey = apiKey;
  fake.received = received;
  fake.events = events;
  fake.relay = null;
  fake.env = { PARTNER_URL: fake.url, PARTNER_KEY: keyHex, PARTNER_API_KEY: apiKey };
  return fake;
}

module.exports = { startPartner, openEnvelope, sealEnvelope };
