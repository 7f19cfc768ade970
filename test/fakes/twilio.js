'use strict';
/**
 * A fake of Twilio's Programmable Messaging API (REST API 2010-04-01), enough
 * to send an SMS:
 *
 *   POST /2010-04-01/Accounts/{AccountSid}/Messages.json
 *        application/x-www-form-urlencoded: To (E.164), From, Body
 *        → 201 Created, the Message resource as JSON: {sid: "SM…", status: "queued", …}
 *
 * Auth: HTTP Basic with AccountSid:AuthToken; the SID in the path must be the
 * authenticated account. Errors have Twilio's shape
 * {"code": 21604, "message": "…", "more_info": "https://www.twilio.com/docs/errors/21604", "status": 400}:
 *   401 20003 Authenticate (no or wrong credentials, another account's path)
 *   400 21604 To missing, 21211 To not E.164, 21603 From missing,
 *       21606 From not a number of this account, 21602 Body missing,
 *       21617 Body longer than 1600 characters
 *   429 20429 Too Many Requests (rateLimitNext), 404 20404 unknown resource.
 *
 *   const tw = await startTwilio({ accountSid, authToken, from });   // all optional
 *   tw.url, tw.accountSid, tw.authToken, tw.from
 *   tw.env      → { TWILIO_API_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM }
 *   tw.messages the Message resources created, in order
 *   plus everything from ./index.js (requests, failNext, rateLimitNext, reset, stop …)
 */
const crypto = require('crypto');
const { startFakeServer, basicCredentials } = require('./index');

const E164 = /^\+[1-9]\d{1,14}$/;

function twilioError(status, code, message) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function rfc2822(date) {
  return date.toUTCString().replace('GMT', '+0000');
}

async function startTwilio(opts = {}) {
  const accountSid = opts.accountSid || 'AC' + crypto.randomBytes(16).toString('hex');
  const authToken = opts.authToken || crypto.randomBytes(16).toString('hex');
  const from = opts.from || '+15005550006';
  const messages = [];

  const fake = await startFakeServer({
    name: 'twilio',
    // the Messages request is checked against Twilio's own document first (test/contracts/specs/twilio.json)
    contract: 'twilio',
    contractError: (errors) =>
      errors.some((e) => /required property 'To'/.test(e))
        ? { status: 400, body: twilioError(400, 21604, "A 'To' phone number is required.") }
        : { status: 400, body: twilioError(400, 20001, 'Invalid parameter: ' + errors.join('; ')) },
    errorBody(status) {
      if (status === 429) return twilioError(429, 20429, 'Too Many Requests');
      if (status === 404) return twilioError(404, 20404, 'The requested resource was not found');
      if (status === 401) return twilioError(401, 20003, 'Authenticate');
      return twilioError(
        status,
        status >= 500 ? 20500 : 20001,
        status >= 500 ? 'Internal Server Error' : 'Bad Request',
      );
    },
    authenticate({ headers, req }) {
      const cred = basicCredentials(headers);
      const pathSid = /^\/2010-04-01\/Accounts\/([^/]+)\//.exec(req.url);
      if (
        !cred ||
        cred.username !== accountSid ||
        cred.password !== authToken ||
        (pathSid && pathSid[1] !== accountSid)
      ) {
        return {
          status: 401,
          headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
          body: twilioError(401, 20003, 'Authenticate'),
        };
      }
      return null;
    },
    onReset() {
      messages.length = 0;
    },
    routes: [
      [
        'POST',
        '/2010-04-01/Accounts/:sid/Messages.json',
        ({ params, body, contentType }) => {
          if (!contentType.includes('application/x-www-form-urlencoded')) {
            return {
              status: 400,
              body: twilioError(400, 20001, 'The request body must be application/x-www-form-urlencoded'),
            };
          }
          const form = body || {};
          const to = form.To;
          const text = form.Body;
          if (!to) return { status: 400, body: twilioError(400, 21604, "A 'To' phone number is required.") };
          if (!E164.test(to)) return { status: 400, body: twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`) };
          if (!form.From && !form.MessagingServiceSid)
            return { status: 400, body: twilioError(400, 21603, "A 'From' phone number is required.") };
          if (form.From && form.From !== from) {
            return {
              status: 400,
              body: twilioError(
                400,
                21606,
                `The From phone number ${form.From} is not a valid, SMS-capable inbound phone number or short code for your account.`,
              ),
            };
          }
          if (!text && !form.MediaUrl)
            return { status: 400, body: twilioError(400, 21602, 'Message body is required.') };
          if (text && text.length > 1600)
            return {
              status: 400,
              body: twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'),
            };

          const sid = 'SM' + crypto.randomBytes(16).toString('hex');
          const now = rfc2822(new Date());
          const message = {
            account_sid: params.sid,
            api_version: '2010-04-01',
            body: text,
            date_created: now,
            date_sent: null,
            date_updated: now,
            direction: 'outbound-api',
            error_code: null,
            error_message: null,
            from: form.From || null,
            messaging_service_sid: form.MessagingServiceSid || null,
            num_media: '0',
            num_segments: String(Math.max(1, Math.ceil((text || '').length / 160))),
            price: null,
            price_unit: 'USD',
            sid,
            status: 'queued',
            subresource_uris: { media: `/2010-04-01/Accounts/${params.sid}/Messages/${sid}/Media.json` },
            to,
            uri: `/2010-04-01/Accounts/${params.sid}/Messages/${sid}.json`,
          };
          messages.push(message);
          return { status: 201, body: message };
        },
      ],
    ],
  });
  fake.accountSid = accountSid;
  fake.authToken = authToken;
  fake.from = from;
  fake.messages = messages;
  fake.env = {
    TWILIO_API_URL: fake.url,
    TWILIO_ACCOUNT_SID: accountSid,
    TWILIO_AUTH_TOKEN: authToken,
    TWILIO_FROM: from,
  };
  return fake;
}

module.exports = { startTwilio };
