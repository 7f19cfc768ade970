'use strict';
/**
 * A fake of PayPal's REST API (sandbox), from its public reference: OAuth2
 * client credentials and Orders v2.
 *
 *   POST /v1/oauth2/token                 Basic client_id:secret, form grant_type=client_credentials
 *        → 200 {scope, access_token, token_type: "Bearer", app_id, expires_in, nonce}
 *          401 {error: "invalid_client", error_description: "Client Authentication failed"}
 *          400 {error: "unsupported_grant_type", error_description: …}
 *   POST /v2/checkout/orders              Bearer; JSON {intent: CAPTURE|AUTHORIZE, purchase_units: [1..10 of
 *                                         {reference_id ≤256, description ≤127, custom_id ≤255, invoice_id ≤127,
 *                                          soft_descriptor ≤22, amount: {currency_code: 3 letters, value: "10.00"}}]}
 *        → 201 {id, status: "CREATED", links} (Prefer: return=representation → the whole order)
 *   GET  /v2/checkout/orders/{id}         → 200 the order | 404 RESOURCE_NOT_FOUND
 *   POST /v2/checkout/orders/{id}/capture Bearer; JSON body optional ({})
 *        → 201 {id, status: "COMPLETED", payment_source, purchase_units[].payments.captures[], payer, links}
 *          422 ORDER_NOT_APPROVED (the buyer has not approved it: call fake.approve(id)),
 *          422 ORDER_ALREADY_CAPTURED, 404 RESOURCE_NOT_FOUND
 *
 * PayPal-Request-Id (1..108 characters): a POST repeated with the same id
 * answers what the first one answered (the latest state of that request),
 * and does nothing again; PayPal keeps ids for 6 hours (fake.requestIdLifetimeMs,
 * after which the id is forgotten, as PayPal forgets it). Errors are
 * {name, message, debug_id, details: [{field, value, location, issue, description}], links};
 * 401 AUTHENTICATION_FAILURE for a missing, unknown or expired token.
 *
 *   const pp = await startPayPal({ clientId, clientSecret });   // both optional
 *   pp.url, pp.clientId, pp.clientSecret, pp.env → { PAYPAL_API_URL, PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET }
 *   pp.orders (Map id → order), pp.tokens (Set of issued tokens), pp.approve(id, payer?)
 *   plus everything from ./index.js
 */
const crypto = require('crypto');
const { startFakeServer, bearerToken, basicCredentials } = require('./index');

const INFO = 'https://developer.paypal.com/docs/api/orders/v2/#error-';
const VALUE = /^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$/;
const ORDER_ID = /^[A-Z0-9]{1,36}$/;
const ZERO_DECIMAL = new Set(['HUF', 'JPY', 'TWD']);

function upperId(n) {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i] % alphabet.length];
  return s;
}

function ppError(status, name, message, details) {
  const body = { name, message, debug_id: crypto.randomBytes(7).toString('hex').slice(0, 13) };
  if (details && details.length) body.details = details;
  body.links = [
    { href: INFO + (details && details[0] ? details[0].issue : name), rel: 'information_link', method: 'GET' },
  ];
  return { status, body };
}

const invalidRequest = (details) =>
  ppError(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.', details);
const unprocessable = (details) =>
  ppError(
    422,
    'UNPROCESSABLE_ENTITY',
    'The requested action could not be performed, semantically incorrect, or failed business validation.',
    details,
  );

function stringRule(details, field, value, max, required) {
  if (value === undefined) {
    if (required)
      details.push({
        field,
        location: 'body',
        issue: 'MISSING_REQUIRED_PARAMETER',
        description: 'A required field / parameter is missing.',
      });
    return;
  }
  if (typeof value !== 'string') {
    details.push({
      field,
      value: String(value),
      location: 'body',
      issue: 'INVALID_PARAMETER_SYNTAX',
      description: 'The value of a field does not conform to the expected format.',
    });
  } else if (value.length < 1 || value.length > max) {
    details.push({
      field,
      value,
      location: 'body',
      issue: 'INVALID_STRING_LENGTH',
      description: `The value of a field is either too short or too long.`,
    });
  }
}

/** INVALID_REQUEST details of an order create body, every problem at once. */
function checkOrder(body) {
  const details = [];
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return [
      {
        field: '/',
        location: 'body',
        issue: 'MALFORMED_REQUEST_JSON',
        description: 'The request JSON is not well formed.',
      },
    ];
  }
  if (body.intent === undefined)
    details.push({
      field: '/intent',
      location: 'body',
      issue: 'MISSING_REQUIRED_PARAMETER',
      description: 'A required field / parameter is missing.',
    });
  else if (!['CAPTURE', 'AUTHORIZE'].includes(body.intent)) {
    details.push({
      field: '/intent',
      value: String(body.intent),
      location: 'body',
      issue: 'INVALID_PARAMETER_VALUE',
      description: 'The value of a field is invalid.',
    });
  }
  const units = body.purchase_units;
  if (!Array.isArray(units) || units.length === 0) {
    details.push({
      field: '/purchase_units',
      location: 'body',
      issue: 'MISSING_REQUIRED_PARAMETER',
      description: 'A required field / parameter is missing.',
    });
    return details;
  }
  if (units.length > 10)
    details.push({
      field: '/purchase_units',
      location: 'body',
      issue: 'INVALID_ARRAY_MAX_ITEMS',
      description: 'The number of items in an array parameter is too large.',
    });
  units.forEach((u, i) => {
    const at = `/purchase_units/${i}`;
    if (!u || typeof u !== 'object') {
      details.push({
        field: at,
        location: 'body',
        issue: 'INVALID_PARAMETER_SYNTAX',
        description: 'The value of a field does not conform to the expected format.',
      });
      return;
    }
    stringRule(details, `${at}/reference_id`, u.reference_id, 256, false);
    stringRule(details, `${at}/description`, u.description, 127, false);
    stringRule(details, `${at}/custom_id`, u.custom_id, 255, false);
    stringRule(details, `${at}/invoice_id`, u.invoice_id, 127, false);
    stringRule(details, `${at}/soft_descriptor`, u.soft_descriptor, 22, false);
    const a = u.amount;
    if (!a || typeof a !== 'object') {
      details.push({
        field: `${at}/amount`,
        location: 'body',
        issue: 'MISSING_REQUIRED_PARAMETER',
        description: 'A required field / parameter is missing.',
      });
      return;
    }
    stringRule(details, `${at}/amount/currency_code`, a.currency_code, 3, true);
    if (typeof a.currency_code === 'string' && !/^[A-Z]{3}$/.test(a.currency_code)) {
      details.push({
        field: `${at}/amount/currency_code`,
        value: a.currency_code,
        location: 'body',
        issue: 'INVALID_PARAMETER_VALUE',
        description: 'The value of a field is invalid.',
      });
    }
    stringRule(details, `${at}/amount/value`, a.value, 32, true);
    if (typeof a.value === 'string' && !VALUE.test(a.value)) {
      details.push({
        field: `${at}/amount/value`,
        value: a.value,
        location: 'body',
        issue: 'INVALID_PARAMETER_SYNTAX',
        description: 'The value of a field does not conform to the expected format.',
      });
    }
  });
  return details;
}

/** UNPROCESSABLE_ENTITY details (business rules) of a well-formed order. */
function businessRules(body) {
  const details = [];
  body.purchase_units.forEach((u) => {
    const { currency_code: currency, value } = u.amount;
    const decimals = (value.split('.')[1] || '').length;
    if (ZERO_DECIMAL.has(currency) ? decimals > 0 : decimals > 2) {
      details.push({
        field: `/purchase_units/@reference_id=='${u.reference_id || 'default'}'/amount/value`,
        value,
        location: 'body',
        issue: 'DECIMAL_PRECISION',
        description: 'If the currency supports decimals, only two decimal place precision is supported.',
      });
    }
    if (Number(value) <= 0) {
      details.push({
        field: `/purchase_units/@reference_id=='${u.reference_id || 'default'}'/amount/value`,
        value,
        location: 'body',
        issue: 'CANNOT_BE_ZERO_OR_NEGATIVE',
        description: 'Must be greater than zero.',
      });
    }
  });
  if (
    details.length === 0 &&
    body.purchase_units.length > 1 &&
    body.purchase_units.some((u) => u.reference_id === undefined)
  ) {
    details.push({
      field: '/purchase_units',
      location: 'body',
      issue: 'REFERENCE_ID_REQUIRED',
      description: "'reference_id' is required for each 'purchase_unit' if multiple 'purchase_unit' are provided.",
    });
  }
  return details;
}

async function startPayPal(opts = {}) {
  const clientId = opts.clientId || 'A' + crypto.randomBytes(20).toString('hex');
  const clientSecret = opts.clientSecret || 'E' + crypto.randomBytes(20).toString('hex');
  const orders = new Map();
  const tokens = new Map(); // token → expiry (epoch ms)
  const requestIds = new Map(); // "<operation> <PayPal-Request-Id>" → {at, status, body}
  let base = '';

  const links = (id, status) => {
    const out = [{ href: `${base}/v2/checkout/orders/${id}`, rel: 'self', method: 'GET' }];
    if (status === 'CREATED') {
      out.push({ href: `https://www.sandbox.paypal.com/checkoutnow?token=${id}`, rel: 'approve', method: 'GET' });
      out.push({ href: `${base}/v2/checkout/orders/${id}`, rel: 'update', method: 'PATCH' });
    }
    if (status === 'CREATED' || status === 'APPROVED')
      out.push({ href: `${base}/v2/checkout/orders/${id}/capture`, rel: 'capture', method: 'POST' });
    return out;
  };

  const representation = (o) => ({ ...JSON.parse(JSON.stringify(o)), links: links(o.id, o.status) });

  /** PayPal-Request-Id: the stored answer of an earlier request with the same id, or run it and store its answer */
  function idempotent(ctx, operation, run) {
    const requestId = ctx.headers['paypal-request-id'];
    if (requestId === undefined) return run();
    if (requestId.length < 1 || requestId.length > 108) {
      return invalidRequest([
        {
          field: 'PayPal-Request-Id',
          value: requestId,
          location: 'header',
          issue: 'INVALID_STRING_LENGTH',
          description: 'The value of a field is either too short or too long.',
        },
      ]);
    }
    const key = operation + ' ' + requestId;
    const seen = requestIds.get(key);
    if (seen && Date.now() - seen.at <= fake.requestIdLifetimeMs)
      return {
        status: seen.status,
        body: seen.body,
        headers: { 'paypal-debug-id': crypto.randomBytes(6).toString('hex') },
      };
    const answer = run();
    if (answer.status < 300) requestIds.set(key, { at: Date.now(), status: answer.status, body: answer.body });
    return answer;
  }

  function authenticateBearer(headers) {
    const t = bearerToken(headers);
    const expires = t === undefined ? undefined : tokens.get(t);
    if (expires === undefined || expires < Date.now()) {
      return ppError(
        401,
        'AUTHENTICATION_FAILURE',
        'Authentication failed due to invalid authentication credentials or a missing Authorization header.',
      );
    }
    return null;
  }

  const jsonOnly = (ctx) =>
    ctx.rawBody !== '' && !ctx.contentType.includes('application/json')
      ? ppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The server does not support the request payload’s media type.', [
          {
            location: 'header',
            issue: 'INVALID_CONTENT_TYPE',
            description: 'The specified Content Type is not supported.',
            field: 'Content-Type',
            value: ctx.contentType,
          },
        ])
      : ctx.bodyError
        ? invalidRequest([
            {
              field: '/',
              location: 'body',
              issue: 'MALFORMED_REQUEST_JSON',
              description: 'The request JSON is not well formed.',
            },
          ])
        : null;

  const fake = await startFakeServer({
    name: 'paypal',
    defaultHeaders: { 'paypal-debug-id': crypto.randomBytes(6).toString('hex') },
    errorBody(status) {
      if (status === 429)
        return {
          name: 'RATE_LIMIT_REACHED',
          message: 'Too many requests. Blocked due to rate limiting.',
          debug_id: crypto.randomBytes(6).toString('hex'),
          links: [],
        };
      if (status === 404) return ppError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.').body;
      if (status >= 500)
        return {
          name: 'INTERNAL_SERVER_ERROR',
          message: 'An internal server error occurred.',
          debug_id: crypto.randomBytes(6).toString('hex'),
          links: [],
        };
      return invalidRequest([]).body;
    },
    authenticate({ req, headers }) {
      if (req.url.split('?')[0] === '/v1/oauth2/token') {
        const cred = basicCredentials(headers);
        if (!cred || cred.username !== clientId || cred.password !== clientSecret) {
          return { status: 401, body: { error: 'invalid_client', error_description: 'Client Authentication failed' } };
        }
        return null;
      }
      return authenticateBearer(headers);
    },
    onReset() {
      orders.clear();
      tokens.clear();
      requestIds.clear();
    },
    routes: [
      [
        'POST',
        '/v1/oauth2/token',
        ({ body, contentType }) => {
          if (!contentType.includes('application/x-www-form-urlencoded') || !body || body.grant_type === undefined) {
            return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' } };
          }
          if (body.grant_type !== 'client_credentials') {
            return {
              status: 400,
              body: {
                error: 'unsupported_grant_type',
                error_description: `Grant Type ${body.grant_type} is not supported`,
              },
            };
          }
          const token = 'A21AA' + crypto.randomBytes(32).toString('base64url');
          const expiresIn = fake.tokenLifetimeS;
          tokens.set(token, Date.now() + expiresIn * 1000);
          return {
            status: 200,
            body: {
              scope:
                'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund openid',
              access_token: token,
              token_type: 'Bearer',
              app_id: 'APP-80W284485P519543T',
              expires_in: expiresIn,
              nonce: new Date().toISOString().replace(/\.\d+Z$/, 'Z') + crypto.randomBytes(16).toString('base64url'),
            },
          };
        },
      ],
      [
        'POST',
        '/v2/checkout/orders',
        (ctx) =>
          jsonOnly(ctx) ||
          idempotent(ctx, 'create', () => {
            const problems = checkOrder(ctx.body);
            if (problems.length) return invalidRequest(problems);
            const rules = businessRules(ctx.body);
            if (rules.length) return unprocessable(rules);
            const id = upperId(17);
            const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
            const order = {
              id,
              intent: ctx.body.intent,
              status: 'CREATED',
              purchase_units: ctx.body.purchase_units.map((u) => ({
                reference_id: u.reference_id || 'default',
                amount: { currency_code: u.amount.currency_code, value: u.amount.value },
                payee: { email_address: 'merchant@example.com', merchant_id: 'C7CYMKZDG8D6E' },
                ...(u.description !== undefined ? { description: u.description } : {}),
                ...(u.custom_id !== undefined ? { custom_id: u.custom_id } : {}),
                ...(u.invoice_id !== undefined ? { invoice_id: u.invoice_id } : {}),
              })),
              create_time: now,
            };
            orders.set(id, order);
            const full = /return=representation/.test(String(ctx.headers.prefer || ''));
            return {
              status: 201,
              body: full ? representation(order) : { id, status: 'CREATED', links: links(id, 'CREATED') },
            };
          }),
      ],
      [
        'GET',
        '/v2/checkout/orders/:id',
        ({ params }) => {
          const order = ORDER_ID.test(params.id) ? orders.get(params.id) : undefined;
          if (!order) {
            return ppError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', [
              {
                issue: 'INVALID_RESOURCE_ID',
                description: 'Specified resource ID does not exist. Please check the resource ID and try again.',
              },
            ]);
          }
          return { status: 200, body: representation(order) };
        },
      ],
      [
        'POST',
        '/v2/checkout/orders/:id/capture',
        (ctx) =>
          jsonOnly(ctx) ||
          idempotent(ctx, 'capture ' + ctx.params.id, () => {
            const order = ORDER_ID.test(ctx.params.id) ? orders.get(ctx.params.id) : undefined;
            if (!order) {
              return ppError(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.', [
                {
                  issue: 'INVALID_RESOURCE_ID',
                  description: 'Specified resource ID does not exist. Please check the resource ID and try again.',
                },
              ]);
            }
            if (order.status === 'COMPLETED') {
              return unprocessable([
                {
                  issue: 'ORDER_ALREADY_CAPTURED',
                  description: "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
                },
              ]);
            }
            if (order.status !== 'APPROVED') {
              return unprocessable([
                {
                  issue: 'ORDER_NOT_APPROVED',
                  description:
                    "Payer has not yet approved the Order for payment. Please redirect the payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid payment_source in the request.",
                },
              ]);
            }
            const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
            order.status = 'COMPLETED';
            order.update_time = now;
            for (const u of order.purchase_units) {
              const captureId = upperId(17);
              u.payments = {
                captures: [
                  {
                    id: captureId,
                    status: 'COMPLETED',
                    amount: { ...u.amount },
                    final_capture: true,
                    seller_protection: {
                      status: 'ELIGIBLE',
                      dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'],
                    },
                    ...(u.custom_id !== undefined ? { custom_id: u.custom_id } : {}),
                    create_time: now,
                    update_time: now,
                    links: [{ href: `${base}/v2/payments/captures/${captureId}`, rel: 'self', method: 'GET' }],
                  },
                ],
              };
            }
            return {
              status: 201,
              body: {
                id: order.id,
                status: 'COMPLETED',
                payment_source: {
                  paypal: {
                    email_address: order.payer.email_address,
                    account_id: order.payer.payer_id,
                    name: order.payer.name,
                  },
                },
                purchase_units: order.purchase_units.map((u) => ({
                  reference_id: u.reference_id,
                  payments: u.payments,
                })),
                payer: order.payer,
                links: links(order.id, 'COMPLETED'),
              },
            };
          }),
      ],
    ],
  });
  base = fake.url;

  fake.clientId = clientId;
  fake.clientSecret = clientSecret;
  fake.orders = orders;
  fake.tokens = tokens;
  fake.tokenLifetimeS = 32400;
  /** PayPal keeps a PayPal-Request-Id for 6 hours (Orders v2 reference) */
  fake.requestIdLifetimeMs = 6 * 3600 * 1000;
  /** the buyer approves the order (in the real flow: on PayPal's approve page) */
  fake.approve = (
    id,
    payer = { name: { given_name: 'John', surname: 'Doe' }, email_address: 'buyer@example.com', payer_id: upperId(13) },
  ) => {
    const order = orders.get(id);
    if (!order) throw new Error('no order ' + id);
    order.status = 'APPROVED';
    order.payer = payer;
    return order;
  };
  fake.env = { PAYPAL_API_URL: fake.url, PAYPAL_CLIENT_ID: clientId, PAYPAL_CLIENT_SECRET: clientSecret };
  return fake;
}

module.exports = { startPayPal };
