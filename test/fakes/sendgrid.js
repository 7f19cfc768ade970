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
const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

function errorList(list) {
  return { errors: list.map((e) => ({ message: e.message, field: e.field === undefined ? null : e.field, help: e.help === undefined ? null : e.help })) };
}

function checkAddress(value, field, problems, required = true) {
  if (value === undefined || value === null) {
    if (required) problems.push({ message: 'The email parameter is required.', field, help: HELP + '#message.personalizations.to' });
    return;
  }
  if (typeof value !== 'object' || typeof value.email !== 'string' || !EMAIL.test(value.email)) {
    problems.push({ message: 'Does not contain a valid address.', field: field + '.email', help: HELP + '#message.personalizations.to' });
  }
}

/** Validation of a mail/send body, after the reference's "Mail Send errors". */
function validateMail(b) {
  const problems = [];
  if (!b || typeof b !== 'object' || Array.isArray(b)) {
    return [{ message: 'Bad Request', field: null }];
  }
  const hasTemplate = typeof b.template_id === 'string' && b.template_id !== '';
  if (b.template_id !== undefined && !(typeof b.template_id === 'string' && /^(d-[0-9a-fA-F]{32}|[0-9a-fA-F-]{36})$/.test(b.template_id))) {
    problems.push({ message: `The template_id must be a valid GUID, you provided '${String(b.template_id)}'.`, field: 'template_id', help: HELP + '#message.template_id' });
  }
  if (!Array.isArray(b.personalizations) || b.personalizations.length === 0) {
    problems.push({
      message: 'The personalizations field is required and must have at least one personalization.',
      field: 'personalizations',
      help: HELP + '#-Personalizations-Errors',
    });
  } else {
    b.personalizations.forEach((p, i) => {
      const base = `personalizations.${i}`;
      if (!p || typeof p !== 'object') {
        problems.push({ message: 'Invalid type. Expected: object, given: ' + typeof p + '.', field: base });
        return;
      }
      if (!Array.isArray(p.to) || p.to.length === 0) {
        problems.push({
          message: 'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          field: base + '.to',
          help: HELP + '#message.personalizations.to',
        });
      } else {
        p.to.forEach((t, j) => checkAddress(t, `${base}.to.${j}`, problems));
      }
      for (const list of ['cc', 'bcc']) {
        if (p[list] !== undefined) (Array.isArray(p[list]) ? p[list] : [p[list]]).forEach((t, j) => checkAddress(t, `${base}.${list}.${j}`, problems));
      }
      if (p.dynamic_template_data !== undefined && (typeof p.dynamic_template_data !== 'object' || p.dynamic_template_data === null || Array.isArray(p.dynamic_template_data))) {
        problems.push({ message: 'Invalid type. Expected: object, given: ' + (Array.isArray(p.dynamic_template_data) ? 'array' : typeof p.dynamic_template_data) + '.', field: base + '.dynamic_template_data' });
      }
    });
  }
  if (b.from === undefined || b.from === null) {
    problems.push({
      message: 'The from object must be provided for every email send. It is an object that requires an email parameter, but may also contain a name parameter.',
      field: 'from',
      help: HELP + '#message.from',
    });
  } else if (typeof b.from !== 'object' || typeof b.from.email !== 'string' || !EMAIL.test(b.from.email)) {
    problems.push({ message: 'The from email does not contain a valid address.', field: 'from.email', help: HELP + '#message.from' });
  }
  const everySubject = Array.isArray(b.personalizations) && b.personalizations.length > 0 && b.personalizations.every((p) => p && typeof p.subject === 'string' && p.subject !== '');
  if (!hasTemplate && !everySubject && (typeof b.subject !== 'string' || b.subject === '')) {
    problems.push({
      message: 'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      field: 'subject',
      help: HELP + '#message.subject',
    });
  }
  if (b.content === undefined) {
    if (!hasTemplate) {
      problems.push({
        message:
          'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        field: 'content',
        help: HELP + '#message.content',
      });
    }
  } else if (!Array.isArray(b.content) || b.content.length === 0) {
    problems.push({ message: 'The content parameter must be an array of at least one content block.', field: 'content', help: HELP + '#message.content' });
  } else {
    b.content.forEach((c, i) => {
      if (!c || typeof c.type !== 'string' || c.type === '') {
        problems.push({ message: 'The content type must be provided and must be a string.', field: `content.${i}.type`, help: HELP + '#message.content.type' });
      }
      if (!c || typeof c.value !== 'string' || c.value === '') {
        problems.push({ message: 'The content value must be a string at least one character in length.', field: `content.${i}.value`, help: HELP + '#message.content.value' });
      }
    });
  }
  return problems;
}

async function startSendGrid(opts = {}) {
  const apiKey = opts.apiKey || 'SG.' + randomId(22) + '.' + randomId(43);
  const mails = [];
  const contacts = new Map();

  const fake = await startFakeServer({
    name: 'sendgrid',
    defaultHeaders: { server: 'nginx' },
    errorBody(status) {
      if (status === 429) return errorList([{ message: 'too many requests', field: null }]);
      if (status === 404) return errorList([{ message: 'resource not found', field: null }]);
      if (status === 401) return errorList([{ message: 'authorization required', field: null }]);
      return errorList([{ message: status >= 500 ? 'internal server error' : 'bad request', field: null }]);
    },
    authenticate({ headers }) {
      const token = bearerToken(headers);
      if (token === undefined) return { status: 401, body: errorList([{ message: 'authorization required', field: null }]) };
      if (token !== apiKey) return { status: 401, body: errorList([{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null }]) };
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
            return { status: 400, body: errorList([{ message: 'Bad Request', field: null, help: null }]) };
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
          if (bodyError || !body || typeof body !== 'object') return { status: 400, body: errorList([{ message: 'invalid JSON', field: null }]) };
          const problems = [];
          if (!Array.isArray(body.contacts) || body.contacts.length === 0) {
            problems.push({ message: 'contacts is required and must contain at least one contact', field: 'contacts' });
          } else {
            body.contacts.forEach((c, i) => {
              if (!c || typeof c.email !== 'string' || !EMAIL.test(c.email)) problems.push({ message: 'email is not a valid email address', field: `contacts[${i}].email` });
            });
          }
          if (body.list_ids !== undefined && !Array.isArray(body.list_ids)) problems.push({ message: 'list_ids must be an array of strings', field: 'list_ids' });
          if (problems.length) return { status: 400, body: errorList(problems) };
          for (const c of body.contacts) {
            const key = c.email.toLowerCase();
            contacts.set(key, { ...(contacts.get(key) || {}), ...c, list_ids: [...new Set([...((contacts.get(key) || {}).list_ids || []), ...(body.list_ids || [])])] });
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
