'use strict';
/**
 * A fake of the Twilio SendGrid Web API v3, from its public reference:
 *
 *   POST /v3/mail/send          JSON; 202 with an empty body and X-Message-Id
 *   PUT  /v3/marketing/contacts JSON {list_ids?, contacts:[{email, first_name?, …}]}; 202 {job_id}
 *
 * Auth: `Authorization: Bearer <API key>`. Missing → 401
 * {"errors":[{"field":null,"message":"authorization required","help":null}]};
 * wrong key → 401 "The provided authorization grant is invalid, expired, or revoked".
 * Errors are {"errors":[{message, field, help}]}, every problem at once (400).
 * 429: {"errors":[{"field":null,"message":"too many requests"}]}.
 *
 *   const sg = await startSendGrid({ apiKey });   // apiKey default: SG.<random>
 *   sg.url, sg.apiKey, sg.env → { SENDGRID_API_URL, SENDGRID_API_KEY }
 *   sg.mails      accepted mail/send bodies: [{ messageId, body, at }]
 *   sg.contacts   Map email → contact (marketing contacts upserted)
 *   plus everything from ./index.js (requests, failNext, rateLimitNext, reset, stop …)
 */
const crypto = require('crypto');
const { startFakeServer, bearerToken, randomId } = require('./index');

const EMAIL = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/;

/** SendGrid's error body; its document has `help` as an object, so the fake leaves it out. */
function errorList(list) {
  return { errors: list.map((e) => ({ message: e.message, field: e.field === undefined ? null : e.field })) };
}

/**
 * What the v3 document cannot say about a mail/send body, after the
 * reference's "Mail Send errors" (types, required fields, addresses and
 * non-empty content are checked against the document before this runs).
 */
function validateMail(b) {
  const problems = [];
  const hasTemplate = typeof b.template_id === 'string' && b.template_id !== '';
  if (
    b.template_id !== undefined &&
    !(typeof b.template_id === 'string' && /^(d-[0-9a-fA-F]{32}|[0-9a-fA-F-]{36})$/.test(b.template_id))
  ) {
    problems.push({
      message: `The template_id must be a valid GUID, you provided '${String(b.template_id)}'.`,
      field: 'template_id',
    });
  }
  const everySubject = b.personalizations.every((p) => typeof p.subject === 'string' && p.subject !== '');
  if (!hasTemplate && !everySubject && (typeof b.subject !== 'string' || b.subject === '')) {
    problems.push({
      message:
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      field: 'subject',
    });
  }
  if (!hasTemplate && (!Array.isArray(b.content) || b.content.length === 0)) {
    problems.push({
      message:
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
      field: 'content',
    });
  }
  return problems;
}

/** 'request/body/personalizations/0/to/0/email must …' → 'personalizations.0.to.0.email', as SendGrid names fields */
function fieldOf(error) {
  const m = /^request\/body\/(\S+)/.exec(error);
  return m ? m[1].replace(/\//g, '.') : null;
}

async function startSendGrid(opts = {}) {
  const apiKey = opts.apiKey || 'SG.' + randomId(22) + '.' + randomId(43);
  const mails = [];
  const contacts = new Map();

  const fake = await startFakeServer({
    name: 'sendgrid',
    // mail/send is checked against SendGrid's own document (test/contracts/specs/sendgrid.json)
    contract: 'sendgrid',
    contractError: (errors) => ({
      status: 400,
      body: errorList(errors.map((e) => ({ message: e, field: fieldOf(e) }))),
    }),
    defaultHeaders: { server: 'nginx' },
    errorBody(status) {
      if (status === 429) return errorList([{ message: 'too many requests', field: null }]);
      if (status === 404) return errorList([{ message: 'resource not found', field: null }]);
      if (status === 401) return errorList([{ message: 'authorization required', field: null }]);
      return errorList([{ message: status >= 500 ? 'internal server error' : 'bad request', field: null }]);
    },
    authenticate({ headers }) {
      const token = bearerToken(headers);
      if (token === undefined)
        return { status: 401, body: errorList([{ message: 'authorization required', field: null }]) };
      if (token !== apiKey)
        return {
          status: 401,
          body: errorList([
            { message: 'The provided authorization grant is invalid, expired, or revoked', field: null },
          ]),
        };
      return null;
    },
    onReset() {
      mails.length = 0;
      contacts.clear();
    },
    routes: [
      [
        'POST',
        '/v3/mail/send',
        ({ body, bodyError, contentType }) => {
          if (bodyError || !contentType.includes('application/json')) {
            return { status: 400, body: errorList([{ message: 'Bad Request', field: null }]) };
          }
          const problems = validateMail(body);
          if (problems.length) return { status: 400, body: errorList(problems) };
          const messageId = randomId(22);
          mails.push({ messageId, body, at: Date.now() });
          return { status: 202, headers: { 'x-message-id': messageId }, body: null };
        },
      ],
      [
        'PUT',
        '/v3/marketing/contacts',
        ({ body, bodyError }) => {
          if (bodyError || !body || typeof body !== 'object')
            return { status: 400, body: errorList([{ message: 'invalid JSON', field: null }]) };
          const problems = [];
          if (!Array.isArray(body.contacts) || body.contacts.length === 0) {
            problems.push({ message: 'contacts is required and must contain at least one contact', field: 'contacts' });
          } else {
            body.contacts.forEach((c, i) => {
              if (!c || typeof c.email !== 'string' || !EMAIL.test(c.email))
                problems.push({ message: 'email is not a valid email address', field: `contacts[${i}].email` });
            });
          }
          if (body.list_ids !== undefined && !Array.isArray(body.list_ids))
            problems.push({ message: 'list_ids must be an array of strings', field: 'list_ids' });
          if (problems.length) return { status: 400, body: errorList(problems) };
          for (const c of body.contacts) {
            const key = c.email.toLowerCase();
            contacts.set(key, {
              ...(contacts.get(key) || {}),
              ...c,
              list_ids: [...new Set([...((contacts.get(key) || {}).list_ids || []), ...(body.list_ids || [])])],
            });
          }
          return { status: 202, body: { job_id: crypto.randomUUID() } };
        },
      ],
    ],
  });
  fake.apiKey = apiKey;
  fake.mails = mails;
  fake.contacts = contacts;
  fake.env = { SENDGRID_API_URL: fake.url, SENDGRID_API_KEY: apiKey };
  return fake;
}

module.exports = { startSendGrid, validateMail };
