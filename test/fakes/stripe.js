'use strict';
/**
 * A fake of the Stripe API, from its public reference (test mode):
 *
 *   POST /v1/payment_intents        form-urlencoded with bracket nesting → PaymentIntent
 *   GET  /v1/payment_intents/{id}   → the stored PaymentIntent | 404 resource_missing
 *   POST /v1/refunds                payment_intent, amount? → Refund
 *   POST /v1/customers              email?, name?, metadata[…]? → Customer
 *
 * Auth: `Authorization: Bearer <secret key>`; missing or wrong → 401
 * {"error":{"message":"…","type":"invalid_request_error"}}. Errors are
 * {"error":{code?, decline_code?, doc_url?, message, param?, payment_intent?, request_log_url?, type}}
 * with keys in the order Stripe writes them (alphabetical), 400 for invalid
 * requests, 402 for card errors, 404 for unknown objects; 429
 * rate_limit; 500 api_error.
 *
 * Every request is first validated against Stripe's own OpenAPI document
 * (test/contracts/specs/stripe.json): what it rejects gets Stripe's 400
 * ("Received unknown parameter", "Missing required param", "Invalid integer").
 * Bodies must be application/x-www-form-urlencoded (a JSON body is refused
 * as Stripe does). Amounts are positive integers in minor units (at most
 * 99999999), currency any 3 letters (stored lower-case). With confirm=true a
 * PaymentIntent needs a payment_method and either payment_method_types[] or
 * automatic_payment_methods[allow_redirects]=never (or a return_url); the test
 * payment method decides the outcome:
 *
 *   pm_card_visa, pm_card_mastercard, pm_card_amex, … → status "succeeded"
 *   pm_card_chargeDeclined                            → 402 card_error card_declined / generic_decline
 *   pm_card_chargeDeclinedInsufficientFunds           → 402 card_declined / insufficient_funds
 *   pm_card_authenticationRequired, pm_card_threeDSecure2Required, pm_card_threeDSecureRequired
 *                                                     → status "requires_action" (next_action use_stripe_sdk)
 *   pm_fake_processing                                → status "processing" (fake only)
 *   any other pm_card_* / pm_… not stored             → 400 resource_missing "No such PaymentMethod"
 *
 * Idempotency-Key: a repeated key with the same parameters answers the stored
 * response again (header Idempotent-Replayed: true); with other parameters
 * it is a 400 idempotency_error. Injected failures (failNext …) are not stored.
 *
 *   const stripe = await startStripe({ secretKey });   // default sk_test_<random>
 *   stripe.url, stripe.secretKey, stripe.env → { STRIPE_API_URL, STRIPE_SECRET_KEY }
 *   stripe.paymentIntents (Map id → intent), stripe.refunds, stripe.customers
 *   stripe.testPaymentMethods (Map pm → outcome; add your own)
 *   plus everything from ./index.js (failNext(n, { status: 500 }) answers Stripe's api_error body)
 */
const { startFakeServer, bearerToken, randomId } = require('./index');

const DOCS = 'https://stripe.com/docs/error-codes/';

/** outcome: { status } or { decline: decline_code, message } */
const TEST_PAYMENT_METHODS = [
  ['pm_card_visa', { status: 'succeeded', brand: 'visa', last4: '4242' }],
  ['pm_card_visa_debit', { status: 'succeeded', brand: 'visa', last4: '5556' }],
  ['pm_card_mastercard', { status: 'succeeded', brand: 'mastercard', last4: '4444' }],
  ['pm_card_amex', { status: 'succeeded', brand: 'amex', last4: '8431' }],
  ['pm_card_discover', { status: 'succeeded', brand: 'discover', last4: '1117' }],
  [
    'pm_card_chargeDeclined',
    { decline: 'generic_decline', message: 'Your card was declined.', brand: 'visa', last4: '0002' },
  ],
  [
    'pm_card_chargeDeclinedInsufficientFunds',
    { decline: 'insufficient_funds', message: 'Your card has insufficient funds.', brand: 'visa', last4: '9995' },
  ],
  [
    'pm_card_chargeDeclinedLostCard',
    { decline: 'lost_card', message: 'Your card was declined.', brand: 'visa', last4: '9987' },
  ],
  [
    'pm_card_chargeDeclinedExpiredCard',
    { decline: 'expired_card', code: 'expired_card', message: 'Your card has expired.', brand: 'visa', last4: '0069' },
  ],
  ['pm_card_authenticationRequired', { status: 'requires_action', brand: 'visa', last4: '3184' }],
  ['pm_card_threeDSecure2Required', { status: 'requires_action', brand: 'visa', last4: '3220' }],
  ['pm_card_threeDSecureRequired', { status: 'requires_action', brand: 'visa', last4: '3063' }],
  ['pm_fake_processing', { status: 'processing', brand: 'visa', last4: '0000' }],
];

/**
 * Stripe's 400 for what its document rejects, worded as Stripe words it
 * ("Received unknown parameter: x", "Missing required param: x.", "Invalid integer: abc"),
 * from the first problem found.
 */
function contractInvalid(errors) {
  const first = errors[0] || 'Invalid request';
  const field = (/^request\/(?:body|query|path)\/(\S+)/.exec(first) || [])[1];
  const param = field
    ? field
        .split('/')
        .map((p, i) => (i === 0 ? p : `[${p}]`))
        .join('')
    : undefined;
  let m;
  if ((m = /must NOT have additional property '([^']+)'/.exec(first))) {
    const name = param ? `${param}[${m[1]}]` : m[1];
    return invalid(`Received unknown parameter: ${name}`, { param: name });
  }
  if ((m = /must have required property '([^']+)'/.exec(first))) {
    const name = param ? `${param}[${m[1]}]` : m[1];
    return invalid(`Missing required param: ${name}.`, { param: name, code: 'parameter_missing' });
  }
  if (/must be integer/.test(first))
    return invalid(`Invalid integer: ${param}`, { param, code: 'parameter_invalid_integer' });
  return invalid(`Invalid request: ${errors.join('; ')}`, { param });
}

/** A PaymentMethod object as Stripe embeds it in a card error (the fields its document requires). */
function paymentMethodObject(id, outcome) {
  return {
    id,
    object: 'payment_method',
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: null,
      name: null,
      phone: null,
    },
    card: {
      brand: outcome.brand,
      country: 'US',
      exp_month: 12,
      exp_year: new Date().getUTCFullYear() + 3,
      funding: 'credit',
      last4: outcome.last4,
    },
    created: Math.floor(Date.now() / 1000),
    customer: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

/** An error body with Stripe's (alphabetical) key order. */
function stripeError(fields) {
  const error = {};
  for (const k of Object.keys(fields).sort()) if (fields[k] !== undefined) error[k] = fields[k];
  return { error };
}

function invalid(message, { param, code, status = 400 } = {}) {
  return {
    status,
    body: stripeError({
      code,
      doc_url: code ? DOCS + code.replace(/_/g, '-') : undefined,
      message,
      param,
      request_log_url: `https://dashboard.stripe.com/test/logs/req_${randomId(14)}?t=${Math.floor(Date.now() / 1000)}`,
      type: 'invalid_request_error',
    }),
  };
}

function isTrue(v) {
  return v === 'true' || v === true;
}

async function startStripe(opts = {}) {
  const secretKey = opts.secretKey || 'sk_test_' + randomId(24);
  const paymentIntents = new Map();
  const refunds = new Map();
  const customers = new Map();
  const testPaymentMethods = new Map(TEST_PAYMENT_METHODS);
  const idempotency = new Map(); // key → { fingerprint, answer }

  function amountProblem(v, param = 'amount') {
    if (v === undefined || v === '')
      return invalid(`Missing required param: ${param}.`, { param, code: 'parameter_missing' });
    if (!/^\d+$/.test(String(v))) return invalid(`Invalid integer: ${v}`, { param, code: 'parameter_invalid_integer' });
    const n = Number(v);
    if (n < 1)
      return invalid('This value must be greater than or equal to 1.', { param, code: 'parameter_invalid_integer' });
    if (n > 99999999) return invalid('Amount must be no more than $999,999.99', { param, code: 'amount_too_large' });
    return null;
  }

  function createPaymentIntent(p) {
    // types, required fields and enums were checked against Stripe's document (contract: 'stripe');
    // what it cannot say is checked here: the amount's range, the currency's form, and combinations
    const bad = amountProblem(p.amount);
    if (bad) return bad;
    if (!/^[A-Za-z]{3}$/.test(String(p.currency))) {
      return invalid(
        `Invalid currency: ${String(p.currency).toLowerCase()}. Stripe currently supports these currencies: usd, aed, afn, … (see https://stripe.com/docs/currencies)`,
        { param: 'currency', code: 'parameter_invalid_string' },
      );
    }
    const apm = p.automatic_payment_methods;
    const types = p.payment_method_types;
    if (types && apm && isTrue(apm.enabled)) {
      return invalid('You may only specify one of these parameters: automatic_payment_methods, payment_method_types.', {
        param: 'automatic_payment_methods',
      });
    }

    const confirm = isTrue(p.confirm);
    const pm = p.payment_method;
    let outcome;
    if (pm !== undefined && pm !== '') {
      outcome = testPaymentMethods.get(String(pm));
      if (!outcome)
        return invalid(`No such PaymentMethod: '${pm}'`, { param: 'payment_method', code: 'resource_missing' });
    }
    if (confirm) {
      if (!outcome) {
        return invalid(
          "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with cus_…, specify a payment method attached to this customer along with the customer ID.",
          {
            code: 'payment_intent_unexpected_state',
          },
        );
      }
      const noRedirects =
        types !== undefined ||
        (apm && apm.allow_redirects === 'never') ||
        (p.return_url !== undefined && p.return_url !== '');
      if (!noRedirects) {
        return invalid(
          "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
        );
      }
    }

    const id = 'pi_3' + randomId(23);
    const amount = Number(p.amount);
    const pmId = outcome ? 'pm_1' + randomId(23) : null;
    const intent = {
      id,
      object: 'payment_intent',
      amount,
      amount_capturable: 0,
      amount_details: { tip: {} },
      amount_received: 0,
      application: null,
      application_fee_amount: null,
      automatic_payment_methods: apm
        ? { allow_redirects: apm.allow_redirects || 'always', enabled: isTrue(apm.enabled) }
        : null,
      canceled_at: null,
      cancellation_reason: null,
      capture_method: 'automatic_async',
      client_secret: `${id}_secret_${randomId(25)}`,
      confirmation_method: 'automatic',
      created: Math.floor(Date.now() / 1000),
      currency: String(p.currency).toLowerCase(),
      customer: p.customer || null,
      description: p.description === undefined || p.description === '' ? null : String(p.description),
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: p.metadata || {},
      next_action: null,
      on_behalf_of: null,
      payment_method: pmId,
      payment_method_configuration_details: null,
      payment_method_options: {
        card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
      },
      payment_method_types: types || ['card'],
      processing: null,
      receipt_email: p.receipt_email || null,
      review: null,
      setup_future_usage: null,
      shipping: null,
      source: null,
      statement_descriptor: null,
      statement_descriptor_suffix: null,
      status: outcome ? 'requires_confirmation' : 'requires_payment_method',
      transfer_data: null,
      transfer_group: null,
    };

    if (confirm) {
      if (outcome.decline) {
        const chargeId = 'ch_3' + randomId(23);
        const code = outcome.code || 'card_declined';
        intent.status = 'requires_payment_method';
        intent.latest_charge = chargeId;
        intent.payment_method = null;
        intent.last_payment_error = stripeError({
          charge: chargeId,
          code,
          decline_code: outcome.decline,
          doc_url: DOCS + code.replace(/_/g, '-'),
          message: outcome.message,
          payment_method: paymentMethodObject(pmId, outcome),
          type: 'card_error',
        }).error;
        paymentIntents.set(id, intent);
        return {
          status: 402,
          body: stripeError({
            charge: chargeId,
            code,
            decline_code: outcome.decline,
            doc_url: DOCS + code.replace(/_/g, '-'),
            message: outcome.message,
            payment_intent: intent,
            payment_method: intent.last_payment_error.payment_method,
            request_log_url: `https://dashboard.stripe.com/test/logs/req_${randomId(14)}?t=${intent.created}`,
            type: 'card_error',
          }),
        };
      }
      intent.status = outcome.status;
      if (outcome.status === 'succeeded') {
        intent.amount_received = amount;
        intent.latest_charge = 'ch_3' + randomId(23);
      } else if (outcome.status === 'requires_action') {
        intent.next_action = {
          type: 'use_stripe_sdk',
          use_stripe_sdk: {
            type: 'three_d_secure_redirect',
            stripe_js: 'https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_fake',
            source: 'src_' + randomId(24),
          },
        };
      } else if (outcome.status === 'processing') {
        intent.latest_charge = 'ch_3' + randomId(23);
        intent.processing = { type: 'card' };
      }
    }
    paymentIntents.set(id, intent);
    return { status: 200, body: intent };
  }

  function createRefund(p) {
    if (!p.payment_intent && !p.charge)
      return invalid('One of the following params should be provided for this request: payment_intent or charge.');
    const intent = paymentIntents.get(String(p.payment_intent || ''));
    if (!intent)
      return invalid(`No such payment_intent: '${p.payment_intent}'`, {
        param: 'payment_intent',
        code: 'resource_missing',
      });
    if (intent.status !== 'succeeded') {
      return invalid(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, {
        code: 'charge_not_refundable',
      });
    }
    const already = [...refunds.values()]
      .filter((r) => r.payment_intent === intent.id)
      .reduce((s, r) => s + r.amount, 0);
    const left = intent.amount_received - already;
    if (p.amount !== undefined) {
      const bad = amountProblem(p.amount);
      if (bad) return bad;
    }
    const amount = p.amount !== undefined ? Number(p.amount) : left;
    if (amount > left || left <= 0) {
      return invalid(
        `Refund amount (${(amount / 100).toFixed(2)}) is greater than unrefunded amount on charge (${(left / 100).toFixed(2)})`,
        { param: 'amount', code: 'amount_too_large' },
      );
    }
    const refund = {
      id: 're_3' + randomId(23),
      object: 'refund',
      amount,
      balance_transaction: 'txn_3' + randomId(23),
      charge: intent.latest_charge,
      created: Math.floor(Date.now() / 1000),
      currency: intent.currency,
      metadata: p.metadata || {},
      payment_intent: intent.id,
      reason: p.reason || null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    refunds.set(refund.id, refund);
    return { status: 200, body: refund };
  }

  function createCustomer(p) {
    const customer = {
      id: 'cus_' + randomId(14),
      object: 'customer',
      address: null,
      balance: 0,
      created: Math.floor(Date.now() / 1000),
      currency: null,
      description: p.description || null,
      email: p.email || null,
      livemode: false,
      metadata: p.metadata || {},
      name: p.name || null,
      phone: p.phone || null,
    };
    customers.set(customer.id, customer);
    return { status: 200, body: customer };
  }

  /** Idempotent POSTs: replay a stored answer, refuse the same key with other parameters. */
  function idempotent(ctx, run) {
    const key = ctx.headers['idempotency-key'];
    if (!key) return run();
    const fingerprint = ctx.record.method + ' ' + ctx.record.path + ' ' + ctx.rawBody;
    const seen = idempotency.get(key);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        return {
          status: 400,
          body: stripeError({
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            type: 'idempotency_error',
          }),
        };
      }
      return {
        ...seen.answer,
        headers: { ...(seen.answer.headers || {}), 'idempotent-replayed': 'true', 'idempotency-key': key },
      };
    }
    const answer = run();
    // like Stripe: a request that failed validation is not stored
    if (answer.status < 400 || answer.status === 402) idempotency.set(key, { fingerprint, answer });
    return { ...answer, headers: { ...(answer.headers || {}), 'idempotency-key': key } };
  }

  function formOnly(ctx) {
    if (ctx.rawBody !== '' && !ctx.contentType.includes('application/x-www-form-urlencoded')) {
      return invalid(
        'Invalid request (check that your POST content type is application/x-www-form-urlencoded). If you have any questions, we can help at https://support.stripe.com/.',
      );
    }
    return null;
  }

  const fake = await startFakeServer({
    name: 'stripe',
    // every request is checked against Stripe's own document first (test/contracts/specs/stripe.json)
    contract: 'stripe',
    contractError: (errors) => contractInvalid(errors),
    defaultHeaders: { 'stripe-version': '2023-08-16' },
    errorBody(status) {
      if (status === 429) {
        return stripeError({
          code: 'rate_limit',
          doc_url: DOCS + 'rate-limit',
          message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
          type: 'invalid_request_error',
        });
      }
      if (status === 404)
        return stripeError({
          message:
            'Unrecognized request URL. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
          type: 'invalid_request_error',
        });
      if (status >= 500) return stripeError({ message: 'An unknown error occurred', type: 'api_error' });
      return stripeError({ message: 'Invalid request', type: 'invalid_request_error' });
    },
    authenticate({ headers }) {
      const token = bearerToken(headers);
      if (token === undefined || token === '') {
        return {
          status: 401,
          body: stripeError({
            message:
              "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
            type: 'invalid_request_error',
          }),
        };
      }
      if (token !== secretKey) {
        const masked =
          token.length > 8 ? token.slice(0, 8) + '*'.repeat(Math.max(0, token.length - 12)) + token.slice(-4) : '****';
        return {
          status: 401,
          body: stripeError({ message: `Invalid API Key provided: ${masked}`, type: 'invalid_request_error' }),
        };
      }
      return null;
    },
    onReset() {
      paymentIntents.clear();
      refunds.clear();
      customers.clear();
      idempotency.clear();
    },
    routes: [
      [
        'POST',
        '/v1/payment_intents',
        (ctx) => formOnly(ctx) || idempotent(ctx, () => createPaymentIntent(ctx.body || {})),
      ],
      [
        'GET',
        '/v1/payment_intents/:id',
        ({ params }) => {
          const intent = paymentIntents.get(params.id);
          if (!intent)
            return invalid(`No such payment_intent: '${params.id}'`, {
              param: 'intent',
              code: 'resource_missing',
              status: 404,
            });
          return { status: 200, body: intent };
        },
      ],
      ['POST', '/v1/refunds', (ctx) => formOnly(ctx) || idempotent(ctx, () => createRefund(ctx.body || {}))],
      ['POST', '/v1/customers', (ctx) => formOnly(ctx) || idempotent(ctx, () => createCustomer(ctx.body || {}))],
    ],
  });

  fake.secretKey = secretKey;
  fake.paymentIntents = paymentIntents;
  fake.refunds = refunds;
  fake.customers = customers;
  fake.testPaymentMethods = testPaymentMethods;
  fake.env = { STRIPE_API_URL: fake.url, STRIPE_SECRET_KEY: secretKey };
  return fake;
}

module.exports = { startStripe, TEST_PAYMENT_METHODS, stripeError };
