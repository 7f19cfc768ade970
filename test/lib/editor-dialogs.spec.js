'use strict';
/**
 * What the HTTP POST and endpoint dialogs show besides their fields
 * (resources/editor-dialogs.js): the full URL, the canvas labels, and the
 * ${VAR} credentials. The labels are checked as the editor computes them: the
 * registerType script of each node's .html run in a vm (test/support/dialogs.js)
 * after the package scripts it loads, as the editor loads them.
 */
const assert = require('assert');
const dialogs = require('../../resources/editor-dialogs.js');
const { resolveBaseUrl, joinUrl } = require('../../dist/nodes/lib/http/base-url');

const { loadDialog } = require('../support/dialogs');

/** The definition a node's .html registers (after the package scripts it loads), with RED.nodes.node answering from `configNodes`. */
function definition(file, configNodes) {
  const d = loadDialog(file.replace(/\.html$/, ''), configNodes);
  return { type: d.type, ...d.def };
}

const node = (props) => ({ _: (k) => k, ...props });

describe('editor dialogs (resources/editor-dialogs.js)', function () {
  describe('fullUrl: what the HTTP POST dialog shows', function () {
    it('joins base and path as the runtime does', function () {
      const cases = [
        ['https://api.stripe.com', '', '/v1/payment_intents'],
        ['https://api.stripe.com/v1/', '', 'customers'],
        ['https://api.x.com/v1?tenant=a', '', '/orders?expand=items'],
        ['http://127.0.0.1:1880/demo', '8443', '/partner/orders'],
        ['https://api.x.com/v1', '', ''],
        ['https://api.x.com', '', ''],
      ];
      for (const [base, port, p] of cases) {
        const runtime = joinUrl(resolveBaseUrl(base, port, {}).url, p);
        assert.strictEqual(dialogs.fullUrl(base, port, p), runtime, `${base} + ${p}`);
      }
    });

    it('gives ${VAR:-default} its default, keeps a bare ${VAR} and {{templates}}, drops user info', function () {
      assert.strictEqual(
        dialogs.fullUrl('${STRIPE_API_URL:-https://api.stripe.com}', '', '/v1/payment_intents'),
        'https://api.stripe.com/v1/payment_intents',
      );
      assert.strictEqual(
        dialogs.fullUrl('${PARTNER_URL}', '', '/orders/{{event.id}}'),
        '${PARTNER_URL}/orders/{{event.id}}',
      );
      assert.strictEqual(
        dialogs.fullUrl(
          '${TWILIO_API_URL:-https://api.twilio.com}/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}',
          '',
          '/Messages.json',
        ),
        'https://api.twilio.com/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}/Messages.json',
      );
      assert.strictEqual(dialogs.fullUrl('https://user:pw@api.x.com/v1', '', '/a'), 'https://api.x.com/v1/a');
      assert.strictEqual(dialogs.fullUrl('', '', '/a'), '');
    });

    it('hostOf: the host with the port override, or "" when it is known only at run time', function () {
      assert.strictEqual(dialogs.hostOf('https://api.x.com:8443/v1'), 'api.x.com:8443');
      assert.strictEqual(dialogs.hostOf('https://api.x.com/v1', '9000'), 'api.x.com:9000');
      assert.strictEqual(dialogs.hostOf('${HUBSPOT_API_URL:-https://api.hubapi.com}'), 'api.hubapi.com');
      assert.strictEqual(dialogs.hostOf('${PARTNER_URL}'), '');
      assert.strictEqual(dialogs.hostOf('https://${HOST}/v1'), '');
      assert.strictEqual(dialogs.hostOf(undefined), '');
    });
  });

  describe('labels that tell nodes apart on the canvas', function () {
    const endpoints = {
      stripe: {
        id: 'stripe',
        name: 'Stripe',
        preset: 'stripe',
        baseUrl: '${STRIPE_API_URL:-https://api.stripe.com}',
        method: 'POST',
      },
      partner: { id: 'partner', name: 'Partner', preset: '', baseUrl: '${PARTNER_URL}', method: 'PUT' },
      paypal: { id: 'paypal', name: 'PayPal', preset: 'paypal', baseUrl: '${PAYPAL_HOST}/v2', method: 'POST' },
    };
    const def = definition('http-post.html', endpoints);
    const label = (props) => def.label.call(node(props));

    it('HTTP POST: its name, when it has one', function () {
      assert.strictEqual(label({ name: 'charge card', endpoint: 'stripe', path: '/v1/charges' }), 'charge card');
    });

    it('HTTP POST: method, the endpoint host and the path', function () {
      assert.strictEqual(
        label({ name: '', endpoint: 'stripe', method: '', path: '/v1/payment_intents' }),
        'POST api.stripe.com /v1/payment_intents',
      );
      assert.strictEqual(
        label({ name: '', endpoint: 'stripe', method: 'GET', path: '/v1/payment_intents/{{payload.id}}' }),
        'GET api.stripe.com …_intents/{{payload.id}}',
      );
      assert.strictEqual(label({ name: '', endpoint: 'stripe', method: 'PATCH', path: '' }), 'PATCH api.stripe.com');
      assert.ok(
        label({ name: '', endpoint: 'stripe', path: '/v1/a/very/long/path/that/goes/on?x=1' }).length <=
          'POST api.stripe.com '.length + 24,
      );
    });

    it("HTTP POST: the preset's name, else the endpoint's, when the host is known only at run time; the endpoint's method", function () {
      assert.strictEqual(
        label({ name: '', endpoint: 'paypal', method: '', path: '/checkout/orders' }),
        'POST PayPal /checkout/orders',
      );
      assert.strictEqual(label({ name: '', endpoint: 'partner', method: '', path: '/orders' }), 'PUT Partner /orders');
    });

    it('HTTP POST: without an endpoint, the method and path, else the palette label', function () {
      assert.strictEqual(label({ name: '', endpoint: '', method: 'POST', path: '/x' }), 'POST /x');
      assert.strictEqual(label({ name: '', endpoint: '', method: '', path: '' }), 'http-post.paletteLabel');
    });

    it('two HTTP POST nodes on the same endpoint with different paths get different labels', function () {
      const a = label({ name: '', endpoint: 'stripe', path: '/v1/payment_intents' });
      const b = label({ name: '', endpoint: 'stripe', path: '/v1/customers' });
      assert.notStrictEqual(a, b);
    });

    it('format encoder, field mapper and response check: what they make, build or expect', function () {
      const withSubs = (props) => ({ _: (k, o) => (o ? `${k} ${JSON.stringify(o)}` : k), ...props });
      const fe = definition('format-encoder.html', {});
      assert.strictEqual(
        fe.label.call(withSubs({ name: '', format: 'csv' })),
        'format-encoder.nodeLabel {"format":"CSV"}',
      );
      assert.strictEqual(fe.label.call(withSubs({ name: 'to partner', format: 'csv' })), 'to partner');
      assert.strictEqual(fe.label.call(withSubs({ name: '', format: 'bogus' })), 'format-encoder.paletteLabel');
      const fm = definition('field-mapper.html', {});
      assert.strictEqual(
        fm.label.call(withSubs({ name: '', rules: [{}, {}, {}] })),
        'field-mapper.nodeLabel {"count":3}',
      );
      assert.strictEqual(fm.label.call(withSubs({ name: '', rules: [{}] })), 'field-mapper.nodeLabelOne');
      assert.strictEqual(fm.label.call(withSubs({ name: '', rules: [] })), 'field-mapper.paletteLabel');
      const rc = definition('response-check.html', {});
      const rcLabel = (rules) => rc.label.call(withSubs({ name: '', rules }));
      assert.strictEqual(rcLabel([{ kind: 'status', value: '2xx' }]), 'response-check.nodeLabel {"rules":"2xx"}');
      assert.strictEqual(
        rcLabel([
          { kind: 'status', value: '2xx' },
          { kind: 'body', path: 'status', op: 'eq', value: 'COMPLETED' },
          { kind: 'body', path: 'id', op: 'exists' },
        ]),
        'response-check.nodeLabel {"rules":"2xx, status +1"}',
      );
      assert.strictEqual(rcLabel([]), 'response-check.paletteLabel');
      // the catalogue has the texts
      const cat = (n) => require(`../../locales/en-US/${n}.json`)[n];
      assert.strictEqual(cat('format-encoder').nodeLabel, 'encode __format__');
      assert.strictEqual(cat('field-mapper').nodeLabel, 'map __count__ fields');
      assert.strictEqual(cat('response-check').nodeLabel, 'check __rules__');
    });

    it('endpoint: its name, else its host, else its preset, else the base URL as written', function () {
      const ep = definition('endpoint.html', {});
      const l = (props) => ep.label.call(node(props));
      assert.strictEqual(l({ name: 'Stripe live', baseUrl: 'https://api.stripe.com' }), 'Stripe live');
      assert.strictEqual(l({ name: '', baseUrl: '${SENDGRID_API_URL:-https://api.sendgrid.com}' }), 'api.sendgrid.com');
      assert.strictEqual(l({ name: '', baseUrl: '${PAYPAL_HOST}', preset: 'paypal' }), 'PayPal');
      assert.strictEqual(l({ name: '', baseUrl: '${PARTNER_URL}' }), '${PARTNER_URL}');
      assert.strictEqual(l({ name: '', baseUrl: '' }), 'endpoint.paletteLabel');
    });
  });

  describe('credentials that name an environment variable', function () {
    it('envVarName: only a whole ${NAME} (what the runtime reads from the environment)', function () {
      assert.strictEqual(dialogs.envVarName('${STRIPE_SECRET_KEY}'), 'STRIPE_SECRET_KEY');
      assert.strictEqual(dialogs.envVarName(' ${KEY} '), 'KEY');
      assert.strictEqual(dialogs.envVarName('sk_live_${KEY}'), null);
      assert.strictEqual(dialogs.envVarName('${KEY:-fallback}'), null);
      assert.strictEqual(dialogs.envVarName('__PWRD__'), null);
      assert.strictEqual(dialogs.envVarName(''), null);
      assert.strictEqual(dialogs.envVarName(undefined), null);
      const { resolveEnvRef } = require('../../dist/nodes/lib/env');
      for (const v of ['${A}', ' ${B_2} ', '${A:-x}', 'x${A}', '${1A}']) {
        assert.strictEqual(dialogs.envVarName(v), resolveEnvRef(v, {}).variable || null, v);
      }
    });

    it("SECRET_FIELDS lists each node's password credentials, as its dialog defines them", function () {
      for (const [file, type] of [
        ['endpoint.html', 'saypro-endpoint'],
        ['http-post.html', 'saypro-http-post'],
        ['encrypt.html', 'saypro-encrypt'],
        ['decrypt.html', 'saypro-decrypt'],
      ]) {
        const def = definition(file, {});
        assert.strictEqual(def.type, type);
        const passwords = Object.keys(def.credentials).filter((k) => def.credentials[k].type === 'password');
        assert.deepStrictEqual(passwords.sort(), dialogs.SECRET_FIELDS[type].slice().sort(), file);
        assert.strictEqual(JSON.stringify(def.defaults.secretVars), '{"value":{}}', file);
      }
    });

    it('recordSecretVars: a node imported with ${NAME} credentials records the names, nothing else', function () {
      const ep = {
        type: 'saypro-endpoint',
        credentials: { token: '${STRIPE_SECRET_KEY}', apiKey: 'sk_live_x', username: '${U}' },
      };
      assert.strictEqual(dialogs.recordSecretVars(ep), true);
      assert.deepStrictEqual(ep.secretVars, { token: 'STRIPE_SECRET_KEY' });
      assert.strictEqual(dialogs.recordSecretVars(ep), false, 'already recorded');
      const enc = { type: 'saypro-encrypt', secretVars: {}, credentials: { key: '${SAYPRO_DEMO_KEY}' } };
      dialogs.recordSecretVars(enc);
      assert.deepStrictEqual(enc.secretVars, { key: 'SAYPRO_DEMO_KEY' });
      const other = { type: 'inject', credentials: { key: '${X}' } };
      assert.strictEqual(dialogs.recordSecretVars(other), false);
      assert.strictEqual(other.secretVars, undefined);
      assert.strictEqual(dialogs.recordSecretVars({ type: 'saypro-decrypt' }), false, 'no credentials loaded');
    });

    it('the endpoint and HTTP POST nodes record the names in a plain property, never a value', function () {
      for (const file of ['endpoint.html', 'http-post.html']) {
        const def = definition(file, {});
        assert.strictEqual(JSON.stringify(def.defaults.secretVars), '{"value":{}}', file);
      }
    });
  });
});
