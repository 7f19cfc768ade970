'use strict';
const assert = require('node:assert');
const crypto = require('node:crypto');
const { Webhook } = require('standardwebhooks');

const sig = require('../../dist/nodes/lib/webhook-signature');

function newSecret() {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

describe('webhook signature', function () {
  const body = '{"type":"payment.completed","data":{"amount":12.5}}';

  it('accepts signatures made by the standardwebhooks package', function () {
    const secret = newSecret();
    const date = new Date();
    const signature = new Webhook(secret).sign('msg_1', date, body);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(date.getTime() / 1000)),
      'webhook-signature': signature,
    };
    assert.deepStrictEqual(sig.verifyWebhook(sig.decodeWebhookSecret(secret), headers, Buffer.from(body)), {
      ok: true,
    });
  });

  it('produces the same signature as the standardwebhooks package', function () {
    const secret = newSecret();
    const date = new Date(1700000000000);
    const theirs = new Webhook(secret).sign('msg_2', date, body);
    assert.strictEqual(sig.signWebhook(sig.decodeWebhookSecret(secret), 'msg_2', 1700000000, body), theirs);
  });

  it('any matching entry in a space-separated list accepts', function () {
    const secret = newSecret();
    const key = sig.decodeWebhookSecret(secret);
    const now = 1700000000;
    const good = sig.signWebhook(key, 'm', now, body);
    const headers = {
      'webhook-id': 'm',
      'webhook-timestamp': String(now),
      'webhook-signature': `v1,AAAA v2,xyz ${good}`,
    };
    assert.strictEqual(sig.verifyWebhook(key, headers, body, { nowSeconds: now }).ok, true);
    headers['webhook-signature'] = 'v1,AAAA v1a,' + good.slice(3);
    assert.strictEqual(sig.verifyWebhook(key, headers, body, { nowSeconds: now }).ok, false);
  });

  it('refuses a wrong secret, a tampered body and a changed id', function () {
    const secret = newSecret();
    const date = new Date();
    const ts = String(Math.floor(date.getTime() / 1000));
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': ts,
      'webhook-signature': new Webhook(secret).sign('msg_1', date, body),
    };
    const key = sig.decodeWebhookSecret(secret);
    assert.strictEqual(sig.verifyWebhook(sig.decodeWebhookSecret(newSecret()), headers, body).ok, false);
    assert.strictEqual(sig.verifyWebhook(key, headers, body.replace('12.5', '125')).ok, false);
    assert.strictEqual(sig.verifyWebhook(key, headers, body + ' ').ok, false, 'exact bytes, whitespace counts');
    assert.strictEqual(sig.verifyWebhook(key, { ...headers, 'webhook-id': 'msg_2' }, body).ok, false);
  });

  it('refuses timestamps more than 5 minutes away either way', function () {
    const secret = newSecret();
    const key = sig.decodeWebhookSecret(secret);
    const now = 1700000000;
    const at = (ts) => ({
      'webhook-id': 'm',
      'webhook-timestamp': String(ts),
      'webhook-signature': sig.signWebhook(key, 'm', ts, body),
    });
    assert.strictEqual(sig.verifyWebhook(key, at(now - 300), body, { nowSeconds: now }).ok, true);
    assert.strictEqual(sig.verifyWebhook(key, at(now + 300), body, { nowSeconds: now }).ok, true);
    const old = sig.verifyWebhook(key, at(now - 301), body, { nowSeconds: now });
    assert.deepStrictEqual(old, { ok: false, reason: 'webhook-timestamp is too old' });
    assert.strictEqual(sig.verifyWebhook(key, at(now + 301), body, { nowSeconds: now }).ok, false);
  });

  it('names missing headers and refuses a timestamp that is not seconds', function () {
    const key = sig.decodeWebhookSecret(newSecret());
    const r = sig.checkWebhookHeaders({ 'webhook-id': 'm' });
    assert.strictEqual(r.ok, false);
    assert.match(r.reason, /webhook-timestamp, webhook-signature/);
    const bad = sig.verifyWebhook(
      key,
      { 'webhook-id': 'm', 'webhook-timestamp': '2024-01-01', 'webhook-signature': 'v1,x' },
      body,
    );
    assert.strictEqual(bad.ok, false);
  });

  it('decodes whsec_ secrets and refuses bad ones without echoing them', function () {
    const raw = crypto.randomBytes(24);
    assert.ok(sig.decodeWebhookSecret('whsec_' + raw.toString('base64')).equals(raw));
    assert.ok(sig.decodeWebhookSecret(raw.toString('base64')).equals(raw));
    for (const bad of ['', 'whsec_', 'whsec_not base64!']) {
      assert.throws(
        () => sig.decodeWebhookSecret(bad),
        (err) => err.code === 'INVALID_SECRET' && !err.message.includes('not base64!'),
      );
    }
  });

  it('compares shared secrets exactly', function () {
    assert.strictEqual(sig.safeEqualSecret('s3cret', 's3cret'), true);
    assert.strictEqual(sig.safeEqualSecret('s3cre', 's3cret'), false);
    assert.strictEqual(sig.safeEqualSecret('s3cret ', 's3cret'), false);
    assert.strictEqual(sig.safeEqualSecret(undefined, 's3cret'), false);
    assert.strictEqual(sig.safeEqualSecret('', ''), false, 'an empty configured secret never matches');
  });
});
