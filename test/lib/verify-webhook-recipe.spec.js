'use strict';
/**
 * docs/security.md shows how a receiver verifies the HTTP POST node's signatures; the recipe
 * (test/fixtures/verify-webhook.js, shown verbatim) must accept what the node signs and refuse
 * anything changed.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { webhookSignatureHeaders, decodeWebhookSecret } = require('../../dist/nodes/lib/webhook-signature');
const { verifyWebhook } = require('../fixtures/verify-webhook');

const root = path.resolve(__dirname, '..', '..');

describe('docs/security.md: the receiver recipe for signed deliveries', function () {
  const secret = 'whsec_' + crypto.randomBytes(32).toString('base64');
  const body = Buffer.from('{"type":"listing.created","data":{"title":"Caf\u00e9 ☕"}}', 'utf8');
  const now = 1_700_000_000;
  const headers = webhookSignatureHeaders(decodeWebhookSecret(secret), 'evt_1', body, now);

  it('is shown verbatim in the document', function () {
    const doc = fs.readFileSync(path.join(root, 'docs', 'security.md'), 'utf8');
    const blocks = [...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]);
    assert.ok(blocks.includes(fs.readFileSync(path.join(root, 'test', 'fixtures', 'verify-webhook.js'), 'utf8')));
  });

  it('accepts what the node signs, over the exact bytes', function () {
    assert.strictEqual(verifyWebhook(secret, headers, body, now), true);
    assert.strictEqual(verifyWebhook(secret, headers, body, now + 299), true);
  });

  it('refuses a changed byte, another id, another secret, an old timestamp or a re-serialised body', function () {
    const changed = Buffer.from(body);
    changed[changed.length - 3] ^= 1;
    assert.strictEqual(verifyWebhook(secret, headers, changed, now), false);
    assert.strictEqual(verifyWebhook(secret, { ...headers, 'webhook-id': 'evt_2' }, body, now), false);
    assert.strictEqual(verifyWebhook('whsec_' + crypto.randomBytes(32).toString('base64'), headers, body, now), false);
    assert.strictEqual(verifyWebhook(secret, headers, body, now + 301), false);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    assert.strictEqual(verifyWebhook(secret, headers, reserialised, now), false);
  });
});
