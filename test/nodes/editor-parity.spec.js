'use strict';
/**
 * The editor and the runtime accept and refuse the same settings, for every
 * field of every node. For each node: a valid starting point, then one field
 * at a time set to each sample (valid, invalid and edge values: empty,
 * `${VAR}`, negative, fractions, huge, reversed ranges …). The editor's answer
 * comes from the node's real dialog definition run in a vm with Node-RED's own
 * validateNodeProperties (test/support/dialogs.js): a red triangle for a
 * property, a red border for a credential. The runtime's answer comes from
 * what the node checks when it starts: its settings reader in nodes/lib (the
 * node passes its config to it unchanged) or, where the check is in the node
 * itself, the node started in the test helper. Both must say the same.
 *
 * A whole `${NAME}` in a property is substituted by Node-RED before the node
 * sees it, and the editor accepts it as it is: the runtime side gets the
 * substituted value, and the variables used here hold valid values. A
 * variable that is not set (`${UNSET_…}`) is the one thing the editor cannot
 * know: it accepts, and the runtime refuses naming the variable.
 */
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const jsonata = require('jsonata');
const helper = require('node-red-node-test-helper');
const { loadDialog } = require('../support/dialogs');
const { Endpoint } = require('../../dist/nodes/lib/http/endpoint.js');
const { triggerProblems } = require('../../dist/nodes/lib/trigger/settings.js');
const { createCallerAuth } = require('../../dist/nodes/lib/trigger/auth.js');
const { createMapper } = require('../../dist/nodes/lib/mapping.js');
const { checkConfig, readConfig } = require('../../dist/nodes/lib/encoding/index.js');
const { createChecker } = require('../../dist/nodes/lib/checks');
const { endpointProblem, parseHttpPostSettings } = require('../../dist/nodes/lib/http-post/settings.js');
const RED = { util: require('@node-red/util').util };

helper.init(require.resolve('node-red'));

const KEY_HEX = '7f'.repeat(32);
const KEY_B64 = Buffer.alloc(32, 7).toString('base64');
/** what the `${VAR}` samples refer to (valid values: the editor cannot know them) */
const ENV = {
  PARITY_NUM: '5',
  PARITY_URL: 'https://env.example.com',
  PARITY_KEY: KEY_HEX,
  PARITY_SECRET: 'whsec_' + Buffer.from('parity secret').toString('base64'),
  PARITY_TEXT: 'text',
};

/** Node-RED's substitution of a whole `${NAME}` in a node's plain properties. */
function substituted(props) {
  const out = {};
  for (const [k, v] of Object.entries(props)) {
    const m = typeof v === 'string' ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v) : null;
    out[k] = m ? (ENV[m[1]] ?? '') : v;
  }
  return out;
}

/** Numbers as a user types them, around a rule from `min` to `max`. */
function numberSamples(min, max, extra = []) {
  return [
    '',
    String(min),
    String(max),
    String(max + 1),
    String(min - 1),
    '-1',
    '0',
    '1',
    '1.5',
    ' 7 ',
    '1e3',
    '0x10',
    'abc',
    '99999999999999999999',
    '${PARITY_NUM}',
    min,
    max,
    max + 1,
    2.5,
    ...extra,
  ];
}

// ------------------------------------------------------------------ runtimes

function endpointRuntime(props, creds) {
  const ep = new Endpoint({ id: 'p', config: substituted(props), credentials: creds, env: ENV });
  try {
    return ep.setupError ? ep.setupError.details.map((d) => `${d.field}: ${d.reason}`) : [];
  } finally {
    ep.close();
  }
}

function triggerRuntime(props, creds) {
  const config = substituted(props);
  const out = triggerProblems(config).map((d) => `${d.field}: ${d.reason}`);
  const auth = config.auth === 'secret' || config.auth === 'webhook' ? config.auth : 'none';
  const credential = auth === 'secret' ? creds.secret : creds.webhookSecret;
  // a trigger that only takes its input wire never asks callers for a secret
  const listening = typeof config.url === 'string' && config.url.trim() !== '';
  const problem = createCallerAuth(auth, { header: config.authHeader, credential, env: ENV }).problem;
  if (problem && listening) out.push(`auth: ${problem}`);
  return out;
}

function mapperRuntime(props) {
  const mapper = createMapper(substituted(props).rules, { parseJsonata: (expr) => jsonata(expr) });
  return mapper.problems.map((p) => `${p.rule}: ${p.reason}`);
}

function encoderRuntime(props) {
  return checkConfig(readConfig(substituted(props))).map((p) => `${p.field}: ${p.reason}`);
}

function checkerRuntime(props) {
  const c = substituted(props);
  return createChecker({
    rules: c.rules,
    mode: c.mode,
    extract: c.extract,
    statusProperty: c.statusProperty,
    bodyProperty: c.bodyProperty,
  }).problems.map((p) => `${p.rule}: ${p.reason}`);
}

/** Starts the node in the test helper; its start-up warnings and red status are its problems. */
function helperRuntime(modules, type, extraNodes = []) {
  return async (props, creds) => {
    const flow = [
      { id: 'f1', type: 'tab' },
      ...extraNodes.map((n) => ({ z: 'f1', ...n })),
      { id: 'n1', z: 'f1', type, ...substituted(props), wires: [[], []] },
    ];
    const saved = {};
    for (const [k, v] of Object.entries(ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      await helper.load(modules, flow, { n1: creds });
      const n1 = helper.getNode('n1');
      const out = [];
      if (n1.problem) out.push(n1.problem); // the NATS config node
      for (const c of n1.warn.getCalls()) out.push(String(c.args[0]));
      for (const c of n1.error.getCalls()) out.push(String(c.args[0]));
      for (const c of n1.status.getCalls())
        if (c.args[0] && c.args[0].fill === 'red') out.push(`status ${c.args[0].text}`);
      return out;
    } finally {
      await helper.unload();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
}

// ------------------------------------------------------------------ the nodes

const NODES = [
  {
    file: 'endpoint',
    base: { baseUrl: 'https://api.example.com/v1' },
    credentials: {},
    runtime: endpointRuntime,
    samples: {
      baseUrl: [
        '',
        'https://api.example.com',
        'http://127.0.0.1:8080/x',
        'HTTP://EXAMPLE.COM',
        'ftp://example.com',
        'http:example.com',
        'http://',
        'http://exa mple.com',
        'example.com',
        '${PARITY_URL}',
        '${PARITY_URL}/v2',
        '${UNSET_HOST:-https://fallback.example.com}/v1',
        'https://user:pw@example.com',
        ' https://example.com ',
      ],
      port: numberSamples(1, 65535, ['80', '443', '65536', '8080.5']),
      method: ['', 'POST', 'PUT', 'PATCH', 'GET', 'DELETE', 'post'],
      headers: [
        [],
        [{ name: 'X-Ok', value: 'v' }],
        [{ name: 'Bad Name', value: 'v' }],
        [{ name: '', value: 'v' }],
        [{ name: 'X-Line', value: 'a\nb' }],
        [{ name: 'X-Env', value: '${PARITY_TEXT}' }],
        [{ name: 'X-Ok', value: '' }],
        [{ name: 'X(bad)', value: 'v' }],
        [{ name: 'X-Ctl', value: 'a\u0001b' }],
        [{ name: 'X-Emoji', value: 'ok 🙂' }],
        [{ name: '', value: '' }],
      ],
      timeout: numberSamples(1, 86400000),
      maxResponseMB: numberSamples(0, 1024, ['0.5', '1024.5']),
      allowHosts: ['', 'api.example.com', '*.example.com, other.example.com', 'bad/host', 'a b'],
      authType: ['', 'none', 'apikey', 'basic', 'bearer', 'oauth2', 'digest'],
      apiKeyIn: ['header', 'query', 'cookie'],
      apiKeyName: ['', 'X-API-Key', 'Bad Name', 'api_key'],
      tokenUrl: ['', 'https://auth.example.com/token', 'ftp://auth', '${PARITY_URL}/token'],
      tokenAuth: ['', 'body', 'basic', 'header'],
      maxConcurrent: numberSamples(0, 1000),
      rateCount: numberSamples(0, 1000000),
      rateInterval: numberSamples(0, 86400, ['0.001', '86400.5']),
      breakerFailures: numberSamples(0, 1000),
      breakerRate: numberSamples(0, 100, ['50.5']),
      breakerMinRequests: numberSamples(1, 1000000),
      breakerWindow: numberSamples(0, 86400),
      breakerOpen: numberSamples(0, 86400),
    },
    /** settings that only count with another setting: tried under each of these */
    contexts: {
      apiKeyIn: [{ authType: 'apikey' }, { authType: 'none' }],
      apiKeyName: [
        { authType: 'apikey', apiKeyIn: 'header' },
        { authType: 'apikey', apiKeyIn: 'query' },
        { authType: 'basic' },
      ],
      tokenUrl: [{ authType: 'oauth2' }, { authType: 'none' }],
      tokenAuth: [{ authType: 'oauth2', tokenUrl: 'https://auth.example.com/t' }, { authType: 'none' }],
      authType: [{}],
    },
    credentialContexts: {
      authType: { apiKey: 'k', username: 'u', password: 'p', token: 't', clientId: 'id', clientSecret: 's' },
      tokenAuth: { clientId: 'id', clientSecret: 's' },
      apiKeyIn: { apiKey: 'k' },
      apiKeyName: { apiKey: 'k', username: 'u' },
      tokenUrl: { clientId: 'id', clientSecret: 's' },
    },
    credentialSamples: {
      apiKey: ['', 'k-123', '${PARITY_TEXT}', '${UNSET_PARITY_KEY}', 'a\nb'],
      username: ['', 'user', 'us:er', '${PARITY_TEXT}'],
      password: ['', 'pw'],
      token: ['', 'tok', 'a\nb', '${UNSET_PARITY_TOKEN}'],
      clientId: ['', 'id'],
      clientSecret: ['', 'secret'],
    },
    credentialFieldContexts: {
      // each credential under each auth type: only the chosen type's fields count (issue 11)
      '*': [
        { authType: 'none' },
        { authType: 'apikey' },
        { authType: 'basic' },
        { authType: 'bearer' },
        { authType: 'oauth2', tokenUrl: 'https://auth.example.com/t' },
      ],
      complete: { apiKey: 'k', username: 'u', password: 'p', token: 't', clientId: 'id', clientSecret: 's' },
    },
  },
  {
    file: 'event-trigger',
    base: { url: '/hooks/parity' },
    credentials: {},
    runtime: triggerRuntime,
    samples: {
      url: ['', '/hooks/x', 'hooks/x', '/a b', '/a?b', '/a#b', '${PARITY_TEXT}', ' /x '],
      maxBytes: numberSamples(1, 1073741824),
      bodyTimeout: numberSamples(0, 600, ['0.5']),
      filter: ['', 'order.created', 'order.*, payment.*', 'bad type', 'x'.repeat(201), 'a\nb', ','],
      dedupeWindow: numberSamples(0, 2592000, ['0.5']),
      auth: ['none', 'secret', 'webhook'],
      reply: ['', 'durable', 'immediate', 'later'],
      ackTimeout: numberSamples(0, 3600, ['0.2']),
      authHeader: ['', 'x-webhook-secret', 'X-Sig', 'bad header', ' x-sig '],
    },
    contexts: { auth: [{}], authHeader: [{ auth: 'secret' }] },
    credentialContexts: { auth: { secret: 's3cret', webhookSecret: ENV.PARITY_SECRET }, authHeader: { secret: 's' } },
    credentialSamples: {
      secret: ['', 's3cret', '${PARITY_TEXT}', '${UNSET_PARITY_SECRET}'],
      webhookSecret: [
        '',
        ENV.PARITY_SECRET,
        Buffer.from('bare').toString('base64'),
        'whsec_',
        'whsec_not base64',
        'whsec_A',
        '${PARITY_SECRET}',
      ],
    },
    credentialFieldContexts: {
      '*': [{ auth: 'none' }, { auth: 'secret' }, { auth: 'webhook' }, { auth: 'secret', url: '' }],
      complete: { secret: 's3cret', webhookSecret: ENV.PARITY_SECRET },
    },
  },
  {
    file: 'field-mapper',
    base: { rules: [{ target: 'id', source: 'payload.id', sourceType: 'msg', type: 'auto' }] },
    runtime: mapperRuntime,
    samples: {
      rules: [
        [],
        [{ target: 'a.b', source: 'payload.x', sourceType: 'msg', type: 'string' }],
        [{ target: '', source: 'payload.x', sourceType: 'msg' }],
        [{ target: 'a', source: '', sourceType: 'msg' }],
        [{ target: 'a..b', source: 'payload.x', sourceType: 'msg' }],
        [{ target: '__proto__', source: 'payload.x', sourceType: 'msg' }],
        [{ target: 'a', source: 'payload[', sourceType: 'msg' }],
        [
          { target: 'a', source: 'payload.x', sourceType: 'msg' },
          { target: 'a', source: 'payload.y', sourceType: 'msg' },
        ],
        [{ target: 'a', source: '$sum(', sourceType: 'jsonata' }],
        [{ target: 'a', source: 'payload.x * 2', sourceType: 'jsonata' }],
        [{ target: 'a', source: '12', sourceType: 'num' }],
        [{ target: 'a', source: 'twelve', sourceType: 'num' }],
        [{ target: 'a', source: '{"x":1}', sourceType: 'json' }],
        [{ target: 'a', source: '{x', sourceType: 'json' }],
        [{ target: 'a', source: 'PARITY_TEXT', sourceType: 'env' }],
        [{ target: 'a', source: '', sourceType: 'env' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', type: 'minor', decimals: '2' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', type: 'minor', decimals: '9' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', type: 'minor', decimals: '-1' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', type: 'minor', decimals: '1.5' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', type: 'bogus' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'bogus' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', required: true, pattern: '^[a-z]+$' }],
        [{ target: 'a', source: 'payload.x', sourceType: 'msg', pattern: '([' }],
        [{ target: 'a["b c"]', source: 'payload["x y"]', sourceType: 'msg' }],
      ],
    },
  },
  {
    file: 'format-encoder',
    base: { format: 'json' },
    runtime: encoderRuntime,
    samples: {
      format: ['json', 'csv', 'xml', 'form', 'yaml', ''],
      csvDelimiter: [',', ';', '\\t', '\t', '', ',,', '"', '\n', '|'],
      csvColumns: ['', 'a,b', 'a,,b', 'a,a', ' a , b ', ','],
      xmlRoot: ['root', '', '1abc', 'a b', 'xmlThing', 'ns:el', 'a-b'],
      xmlItem: ['item', '', '<x>'],
    },
    contexts: {
      csvDelimiter: [{ format: 'csv' }, { format: 'json' }],
      csvColumns: [{ format: 'csv' }, { format: 'json' }],
      xmlRoot: [{ format: 'xml' }, { format: 'json' }],
      xmlItem: [{ format: 'xml' }, { format: 'json' }],
    },
  },
  {
    file: 'response-check',
    base: { rules: [{ kind: 'status', value: '2xx' }] },
    runtime: checkerRuntime,
    samples: {
      rules: [
        [],
        [{ kind: 'status', value: '200,201' }],
        [{ kind: 'status', value: '599-100' }],
        [{ kind: 'status', value: '600' }],
        [{ kind: 'status', value: '2xx,' }],
        [{ kind: 'status', value: '' }],
        [{ kind: 'status', value: '6xx' }],
        [{ kind: 'status', value: '100-599' }],
        [{ kind: 'body', path: 'status', op: 'eq', value: 'ok' }],
        [{ kind: 'body', path: '', op: 'eq', value: 'ok' }],
        [{ kind: 'body', path: 'a..b', op: 'eq', value: 'ok' }],
        [{ kind: 'body', path: 'x', op: 'exists' }],
        [{ kind: 'body', path: 'x', op: 'bogus' }],
        [{ kind: 'body', path: 'x', op: 'in', value: ' , ' }],
        [{ kind: 'body', path: 'x', op: 'in', value: 'a,b' }],
        [{ kind: 'body', path: 'x', op: 'regex', value: '([' }],
        [{ kind: 'body', path: 'x', op: 'regex', value: '^ok$' }],
        [{ kind: 'body', path: 'x', op: 'gt', value: '10' }],
        [{ kind: 'body', path: 'x', op: 'gt', value: 'ten' }],
        [{ kind: 'bogus' }],
      ],
      mode: ['all', 'any', '', 'some'],
      extract: [
        [],
        [{ path: 'id', target: 'txnId' }],
        [{ path: '', target: 'x' }],
        [{ path: 'id', target: '' }],
        [{ path: 'id', target: 'a..b' }],
        [{ path: 'id', target: '__proto__' }],
      ],
      statusProperty: ['statusCode', '', 'a..b', 'msg.statusCode', 'res["code"]'],
      bodyProperty: ['payload', '', 'a b', 'payload.body'],
    },
  },
  {
    file: 'nats',
    base: { servers: 'nats://127.0.0.1:4222', replicas: 1 },
    credentials: {},
    runtime: helperRuntime([require('../../dist/nodes/nats.js')], 'saypro-nats'),
    samples: {
      servers: ['', 'nats://127.0.0.1:4222', '127.0.0.1', 'tls://a:1,b:2', 'http://x', 'a b', 'nats://h:123456'],
      replicas: numberSamples(1, 5),
    },
    credentialSamples: {
      seed: ['', 'SU' + 'A'.repeat(56), 'not a seed'],
    },
  },
];

// encrypt and decrypt: the key, key id and AAD are checked by the node when it starts
const cryptoSamples = {
  algorithm: ['aes-256-gcm', 'aes-256-cbc-hmac', 'cryptojs', 'des', ''],
  kid: ['k1', '', 'a b', 'k'.repeat(64), 'k'.repeat(65), 'kid.2:x-y_z'],
  aadType: ['none', 'str', 'msg', 'env'],
  aad: ['', 'tenant-1', 'payload.id', 'payload..id', 'PARITY_TEXT'],
};
const keySamples = [
  '',
  KEY_HEX,
  KEY_B64,
  KEY_B64.replace(/=+$/, ''),
  Buffer.alloc(32, 250).toString('base64url'),
  '7f'.repeat(31),
  'abcdef',
  Buffer.alloc(16, 1).toString('base64'),
  'not a key at all!',
  'correct horse battery staple',
  '${PARITY_KEY}',
  '${UNSET_PARITY_KEY}',
];
NODES.push(
  {
    file: 'encrypt',
    // keyCheck: what the dialog stores on save from the key (the credential's own validator judges the key here)
    base: { algorithm: 'aes-256-gcm', kid: 'k1', aadType: 'none', aad: '', keyCheck: '' },
    credentials: { key: KEY_HEX },
    runtime: helperRuntime([require('../../dist/nodes/encrypt.js')], 'saypro-encrypt'),
    samples: cryptoSamples,
    contexts: {
      aad: [
        { aadType: 'str' },
        { aadType: 'msg' },
        { aadType: 'env' },
        { aadType: 'none' },
        { aadType: 'msg', algorithm: 'cryptojs', kid: 'k1' },
      ],
      algorithm: [{}],
    },
    credentialContexts: { algorithm: { key: KEY_HEX } },
    credentialSamples: { key: keySamples },
    credentialFieldContexts: { '*': [{ algorithm: 'aes-256-gcm' }, { algorithm: 'cryptojs' }] },
  },
  {
    file: 'decrypt',
    base: { algorithm: 'auto', kid: 'k1', kid2: '', aadType: 'none', aad: '', output: 'auto', keyCheck: '' },
    credentials: { key: KEY_HEX },
    runtime: helperRuntime([require('../../dist/nodes/decrypt.js')], 'saypro-decrypt'),
    samples: {
      ...cryptoSamples,
      algorithm: ['auto', ...cryptoSamples.algorithm],
      kid2: ['', 'k2', 'k1', 'a b'],
      output: ['auto', 'string', 'buffer', 'json', 'xml'],
    },
    contexts: {
      aad: [{ aadType: 'str' }, { aadType: 'msg' }, { aadType: 'none' }],
    },
    credentialContexts: {},
    credentialSamples: { key: keySamples, key2: ['', KEY_B64, 'abcdef', '${UNSET_PARITY_KEY}'] },
    credentialFieldContexts: {
      '*': [
        { algorithm: 'aes-256-gcm', kid2: 'k2' },
        { algorithm: 'auto', kid2: 'k2' },
      ],
      complete: { key: KEY_HEX },
    },
  },
);

// the HTTP POST node: its settings parser (lib/http-post/settings.ts), with Node-RED's property path rule as the node
// passes it. A number it does not use as written (`adjusted`: not a number, or clamped into range) counts as refused:
// the node says so at deploy and runs with another value, which the dialog does not let one save.
function httpPostRuntime(props, creds) {
  const config = substituted(props);
  const { problems, adjusted } = parseHttpPostSettings(config, {
    credentials: creds,
    env: { ...process.env, ...ENV },
    propertyPathProblem: (p) => {
      try {
        RED.util.normalisePropertyExpression(p);
        return undefined;
      } catch (err) {
        return err.message;
      }
    },
  });
  const out = [...problems, ...adjusted].map((p) => `${p.field}: ${p.message}`);
  const ep = endpointProblem(config.endpoint, config.endpoint === HTTP_POST_ENDPOINT.id);
  if (ep) out.push(`endpoint: ${ep.message}`);
  return out;
}

const HTTP_POST_ENDPOINT = { id: 'ep', type: 'saypro-endpoint', baseUrl: 'http://127.0.0.1:9' };
NODES.push({
  file: 'http-post',
  configNodes: { ep: { ...HTTP_POST_ENDPOINT, valid: true } },
  base: { endpoint: 'ep', durable: false },
  credentials: {},
  runtime: httpPostRuntime,
  samples: {
    endpoint: ['ep', '', 'missing'],
    method: ['', 'POST', 'PUT', 'PATCH', 'GET', 'DELETE', 'post'],
    path: ['', '/v1/x', '/orders/{{payload.id}}', '/orders/{{', '/orders/}}', '{{ }}'],
    headers: [
      [],
      [{ name: 'X-Ok', value: 'v' }],
      [{ name: 'Bad Name', value: 'v' }],
      [{ name: '', value: 'v' }],
      [{ name: 'X-Line', value: 'a\nb' }],
      [{ name: '', value: '' }],
      [{ name: 'X-Num', value: 5 }],
      [{ name: 'X-Ctl', value: 'a\u0001b' }],
      [{ name: 'X-Latin', value: 'café' }],
    ],
    maxAttempts: numberSamples(1, 20),
    initialDelay: numberSamples(0, 86400000),
    maxDelay: numberSamples(0, 86400000, ['999']),
    maxRetryAfter: numberSamples(0, 86400),
    idempotencyHeader: ['', 'Idempotency-Key', 'Bad Header', ' X-Key '],
    successStatuses: ['', '409', '2xx, 409', '599-100', '100-599', '600', '409,', 'abc', '4xx'],
    maxQueued: numberSamples(1, 10000000),
    maxQueuedMB: numberSamples(0, 1048576, ['0.5']),
    fullPolicy: ['', 'refuse', 'dead-letter-oldest', 'drop'],
    orderingKey: ['', 'payload.customer', 'msg.payload.id', 'payload..x', 'a b'],
    maxDeadLetters: numberSamples(0, 10000000),
    deadline: numberSamples(0, 3600, ['0.5']),
    keyLifetime: numberSamples(0, 8784, ['0.5']),
  },
  contexts: {
    maxQueued: [{ durable: true }],
    maxQueuedMB: [{ durable: true }],
    fullPolicy: [{ durable: true }],
    maxDeadLetters: [{ durable: true }],
    orderingKey: [{ durable: true }, { durable: false }],
  },
  credentialSamples: {
    signingSecret: [
      '',
      ENV.PARITY_SECRET,
      'whsec_',
      'whsec_A',
      'not base64!',
      Buffer.from('bare').toString('base64'),
      '${PARITY_SECRET}',
      '${UNSET_PARITY_SIGNING}',
    ],
  },
  credentialFieldContexts: { '*': [{ sign: true }, { sign: false }] },
});

// ------------------------------------------------------------------ the check

/** Every (props, credentials, label) the table asks about. */
function* cases(n) {
  const creds0 = n.credentials || {};
  for (const [field, values] of Object.entries(n.samples || {})) {
    for (const context of (n.contexts && n.contexts[field]) || [{}]) {
      const creds = { ...creds0, ...((n.credentialContexts && n.credentialContexts[field]) || {}) };
      for (const value of values) {
        yield {
          props: { ...n.base, ...context, [field]: value },
          creds,
          label: `${field} = ${JSON.stringify(value)}${Object.keys(context).length ? ' with ' + JSON.stringify(context) : ''}`,
        };
      }
    }
  }
  const fc = n.credentialFieldContexts || {};
  for (const [field, values] of Object.entries(n.credentialSamples || {})) {
    for (const context of fc['*'] || [{}]) {
      for (const value of values) {
        yield {
          props: { ...n.base, ...context },
          creds: { ...creds0, ...(fc.complete || {}), [field]: value },
          label: `credential ${field} = ${JSON.stringify(value)} with ${JSON.stringify(context)}`,
        };
      }
    }
  }
}

describe('editor parity: every dialog accepts exactly what the runtime accepts', function () {
  this.timeout(120000);
  const outboxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-parity-'));
  before(() => helper.settings({ sayproOutboxDir: outboxDir }));
  after(() => fs.rmSync(outboxDir, { recursive: true, force: true }));

  for (const n of NODES) {
    it(`saypro-${n.file === 'nats' ? 'nats' : n.file}: every field, every sample`, async function () {
      const dialog = loadDialog(n.file, n.configNodes);
      const defaults = dialog.defaults();
      const drifts = [];
      let count = 0;
      for (const c of cases(n)) {
        count++;
        const props = { ...defaults, ...c.props };
        const editor = dialog.problems(props, c.creds);
        const runtime = await n.runtime(props, c.creds);
        // a variable the environment does not set: only the runtime can know; if it refuses, it names it
        // (a field the node does not use is not read at all: accepted)
        const unset = /\$\{(UNSET_[A-Z_]+)\}/.exec(c.label);
        if (unset) {
          if (editor.length || (runtime.length && !runtime.some((r) => r.includes(unset[1]))))
            drifts.push(
              `${c.label}: the editor must accept it (${editor.join(' | ') || 'it does'}) and the runtime name ${unset[1]} (${runtime.join(' | ') || 'it accepts'})`,
            );
          continue;
        }
        if ((editor.length === 0) !== (runtime.length === 0)) {
          drifts.push(
            `${c.label}: editor ${editor.length ? 'refuses (' + editor.join(' | ') + ')' : 'accepts'}, ` +
              `runtime ${runtime.length ? 'refuses (' + runtime.join(' | ') + ')' : 'accepts'}`,
          );
        }
      }
      assert.ok(count > 10, `${count} samples`);
      if (drifts.length) assert.fail(`${drifts.length} of ${count} samples drift:\n` + drifts.join('\n'));
    });
  }
});
