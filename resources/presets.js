/*
 * Vendor presets for the edit dialogs: endpoint settings (saypro-endpoint),
 * field mapper rule templates (saypro-field-mapper) and response check
 * templates (saypro-response-check). One source for the editor, which loads
 * this file with a <script src> (served at
 * resources/@saypro/node-red-integration-kit/presets.js) and reads
 * window.SayProIntegrationKit.presets, and for Node, which gets the same
 * object from require('resources/presets.js').
 *
 * Presets hold no secret: every credential is a ${VAR} reference that the
 * endpoint reads from the environment when the flow starts; the one plain
 * credential value is Mailchimp's Basic user name, which Mailchimp ignores.
 * Base URLs read ${VENDOR_API_URL:-https://…} so that a test or a sandbox can
 * point them elsewhere. Texts (labels, hints) are in each node's message
 * catalogue under <node>.presets.<id> / <node>.templates.<id>.
 *
 * Each endpoint preset's `request` names the vendor's idempotency header,
 * how long the vendor keeps a key (keyLifetimeHours, null: no key or not
 * documented) and the longest key it takes (keyMaxLength); the HTTP POST
 * dialog fills its Key lifetime from it.
 *
 * Template sources follow the platform events of the examples: msg.payload is
 * the event's data and msg.event {id, type} the event, e.g.
 *   listing.created   {listingId, title, price, currency, seller: {name, email}}
 *   user.registered   {userId, email, firstName, lastName, phone}
 *   payment.completed {paymentId, amount, currency, paymentMethodId?, orderId?,
 *                      listing: {id, title}, buyer: {name, phone}}
 */
(function (root) {
  'use strict';

  /** A complete endpoint config: the editor defaults overridden by `o`. */
  function endpointConfig(o) {
    var c = {
      baseUrl: '',
      port: '',
      method: 'POST',
      headers: [],
      timeout: 10000,
      keepAlive: true,
      authType: 'none',
      apiKeyIn: 'header',
      apiKeyName: 'X-API-Key',
      tokenUrl: '',
      scope: '',
      audience: '',
      tokenAuth: 'body',
    };
    Object.keys(o).forEach(function (k) {
      c[k] = o[k];
    });
    return c;
  }

  /** A field mapper rule with the editor's defaults. */
  function rule(target, sourceType, source, type, required, extra) {
    var r = {
      target: target,
      sourceType: sourceType,
      source: source,
      type: type || 'auto',
      default: '',
      required: required === true,
    };
    if (extra) {
      Object.keys(extra).forEach(function (k) {
        r[k] = extra[k];
      });
    }
    return r;
  }

  var endpoint = [
    {
      id: 'stripe',
      label: 'Stripe',
      config: endpointConfig({
        baseUrl: '${STRIPE_API_URL:-https://api.stripe.com}',
        authType: 'bearer',
        // the API version pinned (the one of the OpenAPI document the contract tests use); the other presets carry theirs in the path
        headers: [{ name: 'Stripe-Version', value: '2023-08-16' }],
      }),
      credentials: { token: '${STRIPE_SECRET_KEY}' },
      env: ['STRIPE_API_URL', 'STRIPE_SECRET_KEY'],
      encoder: 'form',
      // Stripe keeps an idempotency key 24 hours; keys up to 255 characters
      request: {
        method: 'POST',
        path: '/v1/payment_intents',
        idempotencyHeader: 'Idempotency-Key',
        keyLifetimeHours: 24,
        keyMaxLength: 255,
      },
      fieldMapper: 'stripe-payment-intent',
      responseCheck: 'stripe',
      docs: 'https://docs.stripe.com/api',
    },
    {
      id: 'paypal',
      label: 'PayPal',
      config: endpointConfig({
        baseUrl: '${PAYPAL_API_URL:-https://api-m.paypal.com}',
        authType: 'oauth2',
        // resolved like the base URL (nodes/lib/http/endpoint.ts: resolveBaseUrl), so the default works here too
        tokenUrl: '${PAYPAL_API_URL:-https://api-m.paypal.com}/v1/oauth2/token',
        tokenAuth: 'basic',
      }),
      credentials: { clientId: '${PAYPAL_CLIENT_ID}', clientSecret: '${PAYPAL_CLIENT_SECRET}' },
      env: ['PAYPAL_API_URL', 'PAYPAL_CLIENT_ID', 'PAYPAL_CLIENT_SECRET'],
      encoder: 'json',
      // Orders v2: PayPal keeps a PayPal-Request-Id 6 hours (72 on request to PayPal); 1 to 108 characters
      request: {
        method: 'POST',
        path: '/v2/checkout/orders',
        idempotencyHeader: 'PayPal-Request-Id',
        keyLifetimeHours: 6,
        keyMaxLength: 108,
      },
      fieldMapper: 'paypal-order',
      responseCheck: 'paypal',
      docs: 'https://developer.paypal.com/docs/api/orders/v2/',
    },
    {
      id: 'sendgrid',
      label: 'SendGrid v3',
      config: endpointConfig({
        baseUrl: '${SENDGRID_API_URL:-https://api.sendgrid.com}',
        authType: 'bearer',
      }),
      credentials: { token: '${SENDGRID_API_KEY}' },
      env: ['SENDGRID_API_URL', 'SENDGRID_API_KEY'],
      encoder: 'json',
      // mail/send takes no idempotency key
      request: {
        method: 'POST',
        path: '/v3/mail/send',
        idempotencyHeader: '',
        keyLifetimeHours: null,
        keyMaxLength: null,
      },
      fieldMapper: 'sendgrid-mail',
      responseCheck: 'sendgrid',
      docs: 'https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send',
    },
    {
      id: 'mailchimp',
      label: 'Mailchimp Marketing 3.0',
      config: endpointConfig({
        baseUrl: '${MAILCHIMP_API_URL:-https://us1.api.mailchimp.com}',
        method: 'PUT',
        authType: 'basic',
      }),
      // Mailchimp takes any user name with the API key as the password
      credentials: { username: 'saypro', password: '${MAILCHIMP_API_KEY}' },
      env: ['MAILCHIMP_API_URL', 'MAILCHIMP_API_KEY'],
      encoder: 'json',
      // a PUT to the member's hash is idempotent by itself; Mailchimp takes no key
      request: {
        method: 'PUT',
        path: '/3.0/lists/{list_id}/members/{subscriber_hash}',
        idempotencyHeader: '',
        keyLifetimeHours: null,
        keyMaxLength: null,
      },
      fieldMapper: 'mailchimp-member',
      responseCheck: 'mailchimp',
      docs: 'https://mailchimp.com/developer/marketing/api/list-members/',
    },
    {
      id: 'hubspot',
      label: 'HubSpot CRM v3',
      config: endpointConfig({
        baseUrl: '${HUBSPOT_API_URL:-https://api.hubapi.com}',
        authType: 'bearer',
      }),
      credentials: { token: '${HUBSPOT_TOKEN}' },
      env: ['HUBSPOT_API_URL', 'HUBSPOT_TOKEN'],
      encoder: 'json',
      // no idempotency key: a repeated create is a 409 (the email is unique), which counts as success
      request: {
        method: 'POST',
        path: '/crm/v3/objects/contacts',
        idempotencyHeader: '',
        keyLifetimeHours: null,
        keyMaxLength: null,
        successStatuses: '409',
      },
      fieldMapper: 'hubspot-contact',
      responseCheck: 'hubspot',
      docs: 'https://developers.hubspot.com/docs/api/crm/contacts',
    },
    {
      id: 'twilio',
      label: 'Twilio 2010-04-01',
      config: endpointConfig({
        // the account is part of every Messaging path, so the base URL ends with it
        baseUrl: '${TWILIO_API_URL:-https://api.twilio.com}/2010-04-01/Accounts/${TWILIO_ACCOUNT_SID}',
        authType: 'basic',
      }),
      credentials: { username: '${TWILIO_ACCOUNT_SID}', password: '${TWILIO_AUTH_TOKEN}' },
      env: ['TWILIO_API_URL', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'],
      encoder: 'form',
      // the Messages API takes no idempotency key
      request: {
        method: 'POST',
        path: '/Messages.json',
        idempotencyHeader: '',
        keyLifetimeHours: null,
        keyMaxLength: null,
      },
      fieldMapper: 'twilio-message',
      responseCheck: 'twilio',
      docs: 'https://www.twilio.com/docs/messaging/api/message-resource',
    },
    {
      id: 'partner',
      label: 'Partner API (generic POST)',
      config: endpointConfig({
        baseUrl: '${PARTNER_URL}',
        authType: 'apikey',
        apiKeyIn: 'header',
        apiKeyName: 'X-API-Key',
      }),
      // PARTNER_KEY is the encryption key of the examples; the API key is another secret
      credentials: { apiKey: '${PARTNER_API_KEY}' },
      env: ['PARTNER_URL', 'PARTNER_API_KEY'],
      encoder: 'json',
      // the key's lifetime is the partner's: ask them, and set it on the HTTP POST node
      request: {
        method: 'POST',
        path: '/orders',
        idempotencyHeader: 'Idempotency-Key',
        keyLifetimeHours: null,
        keyMaxLength: null,
      },
      fieldMapper: '',
      responseCheck: '',
      docs: '',
    },
  ];

  var fieldMapper = [
    {
      id: 'stripe-payment-intent',
      label: 'Stripe PaymentIntent',
      event: 'payment.completed',
      rules: [
        rule('amount', 'msg', 'payload.amount', 'minor', true, { decimals: 2 }),
        rule('currency', 'jsonata', '$lowercase($trim(payload.currency))', 'string', true),
        rule('payment_method', 'msg', 'payload.paymentMethodId', 'string', true),
        rule('confirm', 'bool', 'true', 'boolean', false),
        rule('automatic_payment_methods.enabled', 'bool', 'true', 'boolean', false),
        rule('automatic_payment_methods.allow_redirects', 'str', 'never', 'string', false),
        rule('description', 'msg', 'payload.listing.title', 'string', false),
        rule('metadata.order_id', 'msg', 'payload.orderId', 'string', false),
        rule('metadata.payment_id', 'msg', 'payload.paymentId', 'string', false),
        rule('metadata.event_id', 'msg', 'event.id', 'string', false),
      ],
    },
    {
      id: 'paypal-order',
      label: 'PayPal order',
      event: 'payment.completed',
      rules: [
        rule('intent', 'str', 'CAPTURE', 'string', true),
        rule('purchase_units[0].reference_id', 'msg', 'payload.paymentId', 'string', false),
        rule('purchase_units[0].description', 'msg', 'payload.listing.title', 'string', false),
        rule('purchase_units[0].custom_id', 'msg', 'event.id', 'string', false),
        rule(
          'purchase_units[0].amount.currency_code',
          'jsonata',
          '$uppercase($trim(payload.currency))',
          'string',
          true,
        ),
        rule('purchase_units[0].amount.value', 'msg', 'payload.amount', 'string', true),
      ],
    },
    {
      id: 'sendgrid-mail',
      label: 'SendGrid mail send',
      event: 'listing.created',
      rules: [
        rule('personalizations[0].to[0].email', 'msg', 'payload.seller.email', 'string', true),
        rule('personalizations[0].to[0].name', 'msg', 'payload.seller.name', 'string', false),
        rule('from.email', 'env', 'SENDGRID_FROM', 'string', true),
        rule('subject', 'jsonata', '"Your listing \\"" & payload.title & "\\" is live"', 'string', true),
        rule('content[0].type', 'str', 'text/plain', 'string', true),
        rule(
          'content[0].value',
          'jsonata',
          '"Your listing \\"" & payload.title & "\\" is now live. Listing id: " & payload.listingId',
          'string',
          true,
        ),
        // per-recipient custom_args is the object; the top-level custom_args is a string in SendGrid's v3 document
        rule('personalizations[0].custom_args.event_id', 'msg', 'event.id', 'string', false),
      ],
    },
    {
      id: 'hubspot-contact',
      label: 'HubSpot contact',
      event: 'user.registered',
      rules: [
        rule('properties.email', 'jsonata', '$lowercase($trim(payload.email))', 'string', true),
        rule('properties.firstname', 'msg', 'payload.firstName', 'string', false),
        rule('properties.lastname', 'msg', 'payload.lastName', 'string', false),
        rule('properties.phone', 'msg', 'payload.phone', 'string', false),
        // the contacts v3 create operation requires associations; none is an empty list
        rule('associations', 'json', '[]', 'auto', false),
      ],
    },
    {
      id: 'mailchimp-member',
      label: 'Mailchimp member',
      event: 'user.registered',
      rules: [
        rule('email_address', 'jsonata', '$trim(payload.email)', 'string', true),
        rule('status_if_new', 'str', 'subscribed', 'string', true),
        rule('merge_fields.FNAME', 'msg', 'payload.firstName', 'string', false),
        rule('merge_fields.LNAME', 'msg', 'payload.lastName', 'string', false),
      ],
    },
    {
      id: 'twilio-message',
      label: 'Twilio message',
      event: 'payment.completed',
      rules: [
        rule('To', 'msg', 'payload.buyer.phone', 'string', true),
        rule('From', 'env', 'TWILIO_FROM', 'string', true),
        rule(
          'Body',
          'jsonata',
          '"SayPro: we received your payment of " & payload.amount & " " & $uppercase(payload.currency) & ". Reference " & payload.paymentId & "."',
          'string',
          true,
        ),
      ],
    },
  ];

  var responseCheck = [
    {
      id: 'stripe',
      label: 'Stripe',
      mode: 'all',
      rules: [{ kind: 'status', value: '2xx' }],
      extract: [
        { path: 'payload.id', target: 'transactionId' },
        { path: 'payload.status', target: 'paymentStatus' },
      ],
    },
    {
      id: 'paypal',
      label: 'PayPal',
      mode: 'all',
      rules: [
        { kind: 'status', value: '2xx' },
        { kind: 'body', path: 'status', op: 'in', value: 'COMPLETED,APPROVED,CREATED' },
      ],
      extract: [
        { path: 'payload.id', target: 'transactionId' },
        { path: 'payload.status', target: 'paymentStatus' },
      ],
    },
    {
      id: 'sendgrid',
      label: 'SendGrid',
      mode: 'all',
      rules: [{ kind: 'status', value: '202' }],
      extract: [{ path: 'responseHeaders["x-message-id"]', target: 'sendgridMessageId' }],
    },
    {
      id: 'hubspot',
      label: 'HubSpot',
      mode: 'all',
      rules: [{ kind: 'status', value: '2xx, 409' }],
      extract: [{ path: 'payload.id', target: 'hubspotContactId' }],
    },
    {
      id: 'mailchimp',
      label: 'Mailchimp',
      mode: 'all',
      rules: [{ kind: 'status', value: '2xx' }],
      extract: [
        { path: 'payload.id', target: 'mailchimpMemberId' },
        { path: 'payload.status', target: 'mailchimpStatus' },
      ],
    },
    {
      id: 'twilio',
      label: 'Twilio',
      mode: 'all',
      rules: [{ kind: 'status', value: '201' }],
      extract: [
        { path: 'payload.sid', target: 'messageSid' },
        { path: 'payload.status', target: 'smsStatus' },
      ],
    },
  ];

  /** A deep copy, so that a dialog never changes the shared definitions. */
  function copy(value) {
    return JSON.parse(JSON.stringify(value));
  }

  function find(list, id) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].id === id) {
        return copy(list[i]);
      }
    }
    return null;
  }

  var presets = {
    endpoint: endpoint,
    fieldMapper: fieldMapper,
    responseCheck: responseCheck,
    /** a copy of the endpoint preset `id`, or null */
    endpointPreset: function (id) {
      return find(endpoint, id);
    },
    /** a copy of the field mapper template `id`, or null */
    fieldMapperTemplate: function (id) {
      return find(fieldMapper, id);
    },
    /** a copy of the response check template `id`, or null */
    responseCheckTemplate: function (id) {
      return find(responseCheck, id);
    },
  };

  if (typeof module === 'object' && module && module.exports) {
    module.exports = presets;
  }

  if (root && typeof root.document === 'object') {
    // resources/editor-common.js assigns window.SayProIntegrationKit a new
    // object, and the editor loads both files in no fixed order: keep
    // `presets` on whatever object is assigned there later.
    var keep = function (kit) {
      if (kit && typeof kit === 'object') {
        kit.presets = presets;
      }
      return kit;
    };
    var current = keep(root.SayProIntegrationKit || {});
    var desc = Object.getOwnPropertyDescriptor(root, 'SayProIntegrationKit');
    if (!desc || desc.configurable) {
      Object.defineProperty(root, 'SayProIntegrationKit', {
        configurable: true,
        enumerable: true,
        get: function () {
          return current;
        },
        set: function (kit) {
          current = keep(kit);
        },
      });
    } else {
      root.SayProIntegrationKit = current;
    }
  }
})(typeof window !== 'undefined' ? window : undefined);
