'use strict';
/**
 * The HTTP POST node's settings as its glue uses them
 * (lib/http-post/node-settings.ts): the problems in the order a user meets
 * them, the first one refusing every message and naming the status.
 */
const assert = require('node:assert');
const { nodeSettings } = require('../../dist/nodes/lib/http-post/node-settings.js');
const { parseHttpPostSettings, deliverySettingsOf } = require('../../dist/nodes/lib/http-post/settings.js');
const { IntegrationError } = require('../../dist/nodes/lib/errors.js');

const FOUND = { endpoint: true, queueError: undefined };
const natsMissing = new IntegrationError('INVALID_CONFIG', 'The shared queue needs a NATS connection', [
  { field: 'nats', reason: 'choose a NATS connection' },
]);

describe('lib/http-post/node-settings', function () {
  it('a usable node: the parsed settings, the engine settings from them, no problem', function () {
    const config = { endpoint: 'ep1', path: '/v1/things', maxAttempts: 3 };
    const r = nodeSettings(config, {}, FOUND);
    assert.deepStrictEqual(r.problems, []);
    assert.strictEqual(r.setupError, undefined);
    assert.strictEqual(r.problem, undefined);
    assert.strictEqual(r.s.maxAttempts, 3);
    assert.deepStrictEqual(r.delivery, deliverySettingsOf(parseHttpPostSettings(config, {}).settings));
  });

  it('problems in the order a user meets them: the endpoint, the fields, the queue choice', function () {
    const r = nodeSettings(
      { endpoint: 'gone', path: '/v1/{{', method: 'DELETE' },
      {},
      {
        endpoint: false,
        queueError: natsMissing,
      },
    );
    assert.deepStrictEqual(
      r.problems.map((p) => p.field),
      ['endpoint', 'method', 'path', 'nats'],
    );
    assert.strictEqual(r.setupError, r.problems[0].error);
    assert.match(r.setupError.message, /does not exist or is not deployed/);
    assert.deepStrictEqual(r.problem, { status: 'noEndpoint', field: 'endpoint' });
  });

  it('the first problem names the status and is what every message fails with', function () {
    const r = nodeSettings({ endpoint: 'ep1', path: '/v1/{{' }, {}, FOUND);
    assert.deepStrictEqual(r.problem, { status: 'invalidConfig', field: 'path' });
    assert.strictEqual(r.setupError, r.problems[0].error);
    assert.strictEqual(r.setupError.code, 'TEMPLATE');
  });

  it('the queue choice counts only in durable mode', function () {
    const durable = nodeSettings({ endpoint: 'ep1', path: '/x' }, {}, { endpoint: true, queueError: natsMissing });
    assert.deepStrictEqual(durable.problem, { status: 'invalidConfig', field: 'nats' });
    assert.strictEqual(durable.setupError.details[0].reason, 'choose a NATS connection');
    const memory = nodeSettings(
      { endpoint: 'ep1', path: '/x', durable: false },
      {},
      {
        endpoint: true,
        queueError: natsMissing,
      },
    );
    assert.deepStrictEqual(memory.problems, []);
  });

  it('warnings and the property path check come from the settings parser', function () {
    const seen = [];
    const propertyPathProblem = (p) => (seen.push(p), p === 'bad' ? 'not a path' : undefined);
    const r = nodeSettings({ endpoint: 'ep1', path: '/x', orderingKey: 'bad' }, { propertyPathProblem }, FOUND);
    assert.ok(seen.includes('bad'));
    assert.deepStrictEqual(
      r.problems.map((p) => p.field),
      ['orderingKey'],
    );
    const parsed = parseHttpPostSettings({ endpoint: 'ep1', path: '/x', orderingKey: 'bad' }, { propertyPathProblem });
    assert.deepStrictEqual(r.warnings, parsed.warnings);
  });
});
