'use strict';
/**
 * nodes/lib/rules: the rules both the runtime and the edit dialogs apply, and
 * the browser script the build makes of them (resources/rules.js).
 */
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const fc = require('fast-check');
const rules = require('../../dist/nodes/lib/rules');
const { decodeKey } = require('../../dist/nodes/lib/crypto');

const root = path.resolve(__dirname, '..', '..');

/** resources/rules.js run as a browser runs it: a bare context with `window`. */
function browserRules() {
  const context = { URL };
  context.window = context;
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(path.join(root, 'resources', 'rules.js'), 'utf8'), context);
  return context.window.SayProIntegrationKit.rules;
}

describe('lib/rules (shared by the runtime and the dialogs)', function () {
  it('resources/rules.js is built from the same modules: same exports, same answers, nothing from Node', function () {
    const src = fs.readFileSync(path.join(root, 'resources', 'rules.js'), 'utf8');
    assert.doesNotMatch(src, /require\((?!["']\.\/)/, 'requires only its own modules');
    const browser = browserRules();
    assert.deepStrictEqual(Object.keys(browser).sort(), Object.keys(rules).sort());
    assert.strictEqual(browser.parseStatusSpec('599-100').ok, false);
    assert.strictEqual(browser.parseStatusSpec('2xx, 409').spec.text, '2xx, 409');
    assert.deepStrictEqual(JSON.parse(JSON.stringify(browser.keyFormat('7f'.repeat(31)))), {
      ok: false,
      problem: 'hexLength',
      count: 62,
    });
    assert.strictEqual(browser.httpUrlSettingProblem('${API_URL}/v1'), undefined);
    // it extends window.SayProIntegrationKit, whichever package script loaded first
    const context = { window: { SayProIntegrationKit: { presets: { endpoint: [] } } } };
    vm.createContext(context);
    vm.runInContext(fs.readFileSync(path.join(root, 'resources', 'rules.js'), 'utf8'), context);
    assert.ok(context.window.SayProIntegrationKit.presets && context.window.SayProIntegrationKit.rules);
  });

  it('header names are RFC 9110 tokens; values carry no control character or line break', function () {
    for (const ok of ['X-Api-Key', 'Idempotency-Key', "a!#$%&'*+-.^_`|~z", 'x1']) assert.ok(rules.isHeaderName(ok), ok);
    for (const bad of ['', 'Bad Name', 'X(1)', 'a:b', 'é', undefined, 5]) assert.ok(!rules.isHeaderName(bad), bad);
    for (const ok of ['', 'v', 'tab\there', 'café', 5]) assert.ok(rules.isHeaderValue(ok), ok);
    for (const bad of ['a\nb', 'a\rb', 'a\0b', 'a\u0001b', '🙂'])
      assert.ok(!rules.isHeaderValue(bad), JSON.stringify(bad));
  });

  it('numbers: plain decimal text or a number, within the rule; empty is the default only when optional', function () {
    const whole = { min: 1, max: 20, integer: true, optional: true };
    assert.deepStrictEqual(rules.readNumber('', whole), { ok: true, value: undefined });
    assert.deepStrictEqual(rules.readNumber(' 7 ', whole), { ok: true, value: 7 });
    assert.deepStrictEqual(rules.readNumber(20, whole), { ok: true, value: 20 });
    for (const bad of ['21', '0', '-1', '1.5', '1e1', '0x10', 'abc', NaN, Infinity, '99999999999999999999', true, {}])
      assert.strictEqual(rules.readNumber(bad, whole).ok, false, String(bad));
    assert.deepStrictEqual(rules.readNumber('', { ...whole, optional: false }), { ok: false, empty: true });
    const above = { min: 0, aboveMin: true, max: 1 };
    assert.strictEqual(rules.numberOk('0', above), false);
    assert.strictEqual(rules.numberOk('0.001', above), true);
    assert.strictEqual(rules.numberOrDefault('x', whole, 5), 5);
  });

  it('key text: the same verdict as the runtime decoder for any text (property)', function () {
    const texts = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')),
      fc.uint8Array({ minLength: 28, maxLength: 36 }).map((b) => Buffer.from(b).toString('hex')),
      fc.stringMatching(/^[A-Za-z0-9+/_=-]{0,48}$/),
    );
    fc.assert(
      fc.property(texts, (t) => {
        const f = rules.keyFormat(t);
        assert.strictEqual(f.ok, t.trim() !== '' && decodeKey(t) !== undefined, t);
        const n = rules.base64Bytes(t);
        if (n >= 0 && !/[-_]/.test(t)) assert.strictEqual(n, Buffer.from(t, 'base64').length, t);
      }),
      { numRuns: 2000 },
    );
  });

  it('problem lists: field and rule in the order asked, never the value', function () {
    const list = [
      { field: 'amount', rule: 'rule 2', reason: 'not a number', value: 'secret' },
      { field: 'apiKey', reason: 'required' },
      { rule: 'rule 3', reason: 'bad' },
      { reason: 'alone' },
    ];
    assert.strictEqual(rules.listProblems(list), 'amount (rule 2): not a number; apiKey: required; rule 3: bad; alone');
    assert.strictEqual(rules.listProblems(list.slice(0, 1), 'rule'), 'rule 2 (amount): not a number');
  });

  it('only the chosen authentication type’s credentials are checked', function () {
    assert.strictEqual(rules.authCredentialProblem('none', 'apiKey', ''), undefined);
    assert.strictEqual(rules.authCredentialProblem('apikey', 'apiKey', ''), 'required');
    assert.strictEqual(rules.authCredentialProblem('apikey', 'token', ''), undefined);
    assert.strictEqual(rules.authCredentialProblem('basic', 'username', 'a:b'), 'colon');
    assert.strictEqual(rules.authCredentialProblem('basic', 'password', ''), undefined);
    assert.strictEqual(rules.authCredentialProblem('bearer', 'token', 'a\nb'), 'lineBreak');
    assert.strictEqual(rules.authCredentialProblem('oauth2', 'clientSecret', ''), 'required');
    assert.strictEqual(rules.authCredentialProblem('digest', 'apiKey', ''), undefined);
  });

  it('URLs, ${VAR} references, webhook secrets, status specs, paths', function () {
    assert.strictEqual(rules.httpUrlProblem('https://a.example'), undefined);
    assert.strictEqual(rules.httpUrlProblem('http:a.example'), 'scheme');
    assert.strictEqual(rules.httpUrlProblem('ftp://a'), 'scheme');
    assert.strictEqual(rules.httpUrlProblem(''), 'required');
    assert.strictEqual(rules.httpUrlProblem('http://exa mple.com'), 'invalid');
    assert.strictEqual(rules.envRefName(' ${API_KEY} '), 'API_KEY');
    assert.strictEqual(rules.envRefName('x${API_KEY}'), undefined);
    assert.ok(rules.hasEnvPlaceholder('${A:-https://x}/v1'));
    assert.strictEqual(rules.webhookSecretProblem('whsec_' + Buffer.from('k').toString('base64')), undefined);
    assert.strictEqual(rules.webhookSecretProblem('whsec_A'), 'format');
    assert.strictEqual(rules.webhookSecretProblem(' '), 'empty');
    assert.strictEqual(rules.optionalStatusSpecOk(''), true);
    assert.strictEqual(rules.optionalStatusSpecOk('599-100'), false);
    assert.deepStrictEqual(rules.pathProblem('a.__proto__.b').problem, 'forbidden');
    assert.deepStrictEqual(rules.pathProblem('a..b').problem, 'syntax');
    assert.strictEqual(rules.pathProblem('a["b c"][0]'), undefined);
  });
});
