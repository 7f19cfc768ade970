'use strict';
/**
 * The flows of the peer benchmark's Node-RED rows. Every flow starts and ends
 * at the same bench-driver node (bench/peers/nodes), so ours and the core
 * nodes are driven the same way: node.send into the first node, completion
 * when the message (or its error) reaches the driver again.
 */
const { FIELDS } = require('./record');

const TAB = 'bench0000000tab1';
const DRIVER = 'bench00000driver';
const PATH = '/ingest';

function tab() {
  return { id: TAB, type: 'tab', label: 'peer benchmark', disabled: false, info: '' };
}

function driver(first) {
  return { id: DRIVER, type: 'bench-driver', z: TAB, name: '', x: 100, y: 100, wires: [[first]] };
}

/**
 * Node-RED's core nodes: change (the same fields, plus Content-Type and the
 * idempotency key as headers) → json or xml → http request (keep-alive,
 * parsed JSON answer) → driver. A catch node sends errors of the change and
 * json/xml nodes back too.
 */
function coreFlow({ format, url }) {
  const rules = FIELDS.map((f) => ({ t: 'set', p: 'out.' + f.target, pt: 'msg', to: f.source, tot: 'msg' }));
  rules.push({ t: 'move', p: 'out', pt: 'msg', to: 'payload', tot: 'msg' });
  rules.push({
    t: 'set',
    p: 'headers',
    pt: 'msg',
    to: JSON.stringify({ 'content-type': format === 'xml' ? 'application/xml' : 'application/json' }),
    tot: 'json',
  });
  rules.push({ t: 'set', p: 'headers["idempotency-key"]', pt: 'msg', to: 'event.id', tot: 'msg' });
  const encoder =
    format === 'xml'
      ? {
          id: 'bench000000000xml',
          type: 'xml',
          z: TAB,
          name: '',
          property: 'payload',
          attr: '',
          chr: '',
          x: 500,
          y: 100,
          wires: [['bench00000request']],
        }
      : {
          id: 'bench0000000json',
          type: 'json',
          z: TAB,
          name: '',
          property: 'payload',
          action: 'str',
          pretty: false,
          x: 500,
          y: 100,
          wires: [['bench00000request']],
        };
  return [
    tab(),
    driver('bench000000change'),
    {
      id: 'bench000000change',
      type: 'change',
      z: TAB,
      name: '',
      rules,
      action: '',
      property: '',
      from: '',
      to: '',
      reg: false,
      x: 300,
      y: 100,
      wires: [[encoder.id]],
    },
    encoder,
    {
      id: 'bench00000request',
      type: 'http request',
      z: TAB,
      name: '',
      method: 'POST',
      ret: 'obj',
      paytoqs: 'ignore',
      url: url + PATH,
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      x: 700,
      y: 100,
      wires: [[DRIVER]],
    },
    {
      id: 'bench0000000catch',
      type: 'catch',
      z: TAB,
      name: '',
      scope: ['bench000000change', encoder.id],
      uncaught: false,
      x: 100,
      y: 200,
      wires: [[DRIVER]],
    },
  ];
}

/**
 * Ours: field mapper → format encoder → [encrypt] → http post → response
 * check → driver; every error output goes to the driver too.
 */
function oursFlow({ format, encrypt, durable, writeBehind, url, key, concurrency }) {
  const ids = {
    mapper: 'bench000000mapper',
    encoder: 'bench00000encoder',
    encrypt: 'bench00000encrypt',
    post: 'bench000000000post',
    check: 'bench00000000check',
    endpoint: 'bench0000endpoint',
  };
  const afterEncoder = encrypt ? ids.encrypt : ids.post;
  const nodes = [
    tab(),
    driver(ids.mapper),
    {
      id: ids.mapper,
      type: 'saypro-field-mapper',
      z: TAB,
      name: '',
      keepUnmapped: false,
      rules: FIELDS.map((f) => ({
        target: f.target,
        sourceType: 'msg',
        source: f.source,
        type: f.type,
        default: '',
        required: true,
      })),
      x: 300,
      y: 100,
      wires: [[ids.encoder], [DRIVER]],
    },
    {
      id: ids.encoder,
      type: 'saypro-format-encoder',
      z: TAB,
      name: '',
      format,
      pretty: false,
      csvHeader: true,
      csvDelimiter: ',',
      csvColumns: '',
      csvGuard: true,
      xmlRoot: 'root',
      xmlItem: 'item',
      xmlDeclaration: true,
      outputType: 'string',
      x: 500,
      y: 100,
      wires: [[afterEncoder], [DRIVER]],
    },
  ];
  if (encrypt) {
    nodes.push({
      id: ids.encrypt,
      type: 'saypro-encrypt',
      z: TAB,
      name: '',
      algorithm: 'aes-256-gcm',
      kid: 'bench',
      aad: '',
      aadType: 'none',
      credentials: { key },
      x: 700,
      y: 100,
      wires: [[ids.post], [DRIVER]],
    });
  }
  nodes.push(
    {
      id: ids.endpoint,
      type: 'saypro-endpoint',
      name: 'sink',
      baseUrl: url,
      port: '',
      method: 'POST',
      headers: [],
      timeout: 10000,
      keepAlive: true,
      tls: '',
      authType: 'none',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
      // as many connections as messages in flight (the default is 4)
      maxConcurrent: concurrency,
    },
    {
      id: ids.post,
      type: 'saypro-http-post',
      z: TAB,
      name: '',
      endpoint: ids.endpoint,
      method: '',
      path: PATH,
      headers: [],
      msgHeaders: true,
      maxAttempts: 5,
      initialDelay: 1000,
      maxDelay: 30000,
      maxRetryAfter: 120,
      idempotencyHeader: 'Idempotency-Key',
      sign: false,
      durable,
      // the node's default (100 ms) unless the row says otherwise
      ...(writeBehind !== undefined ? { writeBehind } : {}),
      // room for every message of a run (refusals would show as failures)
      maxQueued: 1000000,
      maxQueuedMB: 1024,
      x: 300,
      y: 200,
      wires: [[ids.check], [DRIVER]],
    },
    {
      id: ids.check,
      type: 'saypro-response-check',
      z: TAB,
      name: '',
      mode: 'all',
      statusProperty: 'statusCode',
      bodyProperty: 'payload',
      rules: [
        { kind: 'status', value: '2xx' },
        { kind: 'body', path: 'status', op: 'eq', value: 'success' },
      ],
      extract: [{ path: 'payload.transaction_id', target: 'transactionId' }],
      x: 500,
      y: 200,
      wires: [[DRIVER], [DRIVER]],
    },
  );
  return nodes;
}

module.exports = { coreFlow, oursFlow, PATH };
