'use strict';
/**
 * A fake of the Mailchimp Marketing API 3.0, from its public reference. The
 * real base URL is https://<dc>.api.mailchimp.com/3.0 (the data centre is the
 * part of the API key after the dash); here every path starts with /3.0, so
 * MAILCHIMP_API_URL is the fake's origin and flows use paths like
 * /3.0/campaigns/{id}.
 *
 *   GET  /3.0/campaigns/{campaign_id}                   ?fields=a,b.c&exclude_fields=… → campaign
 *   GET  /3.0/lists/{list_id}                           → list
 *   POST /3.0/lists/{list_id}/members                   {email_address, status, merge_fields?, tags?} → member
 *                                                       (already there: 400 "Member Exists")
 *   PUT  /3.0/lists/{list_id}/members/{subscriber_hash} {email_address, status_if_new, status?, merge_fields?} → member (upsert)
 *   GET  /3.0/lists/{list_id}/members/{subscriber_hash} → member
 *
 * subscriber_hash is the MD5 of the lower-case email. Auth: HTTP Basic with
 * any user name and the API key as password; otherwise 401 "API Key Missing"
 * / "API Key Invalid". Errors are RFC 7807-like:
 * {type, title, status, detail, instance} (+ errors[] for "Invalid Resource").
 * 429: title "Too Many Requests".
 *
 *   const mc = await startMailchimp({ apiKey });      // default <32 hex>-us21
 *   mc.url, mc.apiKey, mc.dc, mc.env → { MAILCHIMP_API_URL, MAILCHIMP_API_KEY }
 *   mc.addCampaign({ id, status, emails_sent, send_time, … })  → the stored campaign
 *   mc.addList({ id, name }) → list; mc.defaultListId (a list that always exists)
 *   mc.campaigns (Map), mc.lists (Map id → {list, members: Map hash → member})
 *   plus everything from ./index.js
 */
const crypto = require('crypto');
const { startFakeServer, basicCredentials } = require('./index');

const ERROR_TYPE = 'https://mailchimp.com/developer/marketing/docs/errors/';
const EMAIL = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/;
const MEMBER_STATUSES = ['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional'];
const CAMPAIGN_STATUSES = ['save', 'paused', 'schedule', 'sending', 'sent', 'canceled', 'canceling', 'archived'];

function problem(status, title, detail, extra = {}) {
  return {
    status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    body: { type: ERROR_TYPE, title, status, detail, instance: crypto.randomUUID(), ...extra },
  };
}

function md5(text) {
  return crypto.createHash('md5').update(String(text).toLowerCase()).digest('hex');
}

/** Keeps only the given dot paths (Mailchimp's `fields`), or drops them (`exclude_fields`). */
function pickFields(obj, fields, exclude) {
  const list = (v) =>
    v === undefined
      ? []
      : (Array.isArray(v) ? v : [v])
          .flatMap((s) => String(s).split(','))
          .map((s) => s.trim())
          .filter(Boolean);
  let out = obj;
  const keep = list(fields);
  if (keep.length) {
    out = {};
    for (const path of keep) {
      const parts = path.split('.');
      let src = obj;
      let dst = out;
      for (let i = 0; i < parts.length; i++) {
        if (src === null || typeof src !== 'object' || !(parts[i] in src)) break;
        if (i === parts.length - 1) dst[parts[i]] = src[parts[i]];
        else {
          dst[parts[i]] = dst[parts[i]] && typeof dst[parts[i]] === 'object' ? dst[parts[i]] : {};
          dst = dst[parts[i]];
          src = src[parts[i]];
        }
      }
    }
  }
  for (const path of list(exclude)) {
    const parts = path.split('.');
    let cur = out === obj ? (out = JSON.parse(JSON.stringify(obj))) : out;
    for (let i = 0; i < parts.length - 1 && cur; i++) cur = cur[parts[i]];
    if (cur && typeof cur === 'object') delete cur[parts[parts.length - 1]];
  }
  return out;
}

async function startMailchimp(opts = {}) {
  const dc = opts.dc || 'us21';
  const apiKey = opts.apiKey || crypto.randomBytes(16).toString('hex') + '-' + dc;
  const campaigns = new Map();
  const lists = new Map();
  const defaultListId = opts.defaultListId || 'a1b2c3d4e5';

  function addList({ id = crypto.randomBytes(5).toString('hex'), name = 'SayPro members' } = {}) {
    const list = {
      id,
      web_id: Math.floor(Math.random() * 1e6),
      name,
      date_created: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      stats: { member_count: 0, unsubscribe_count: 0, cleaned_count: 0 },
    };
    lists.set(id, { list, members: new Map() });
    return list;
  }

  function addCampaign(c = {}) {
    const id = c.id || crypto.randomBytes(5).toString('hex');
    const status = c.status || 'save';
    const campaign = {
      id,
      web_id: c.web_id || Math.floor(Math.random() * 1e7),
      type: c.type || 'regular',
      create_time: c.create_time || new Date(Date.now() - 86400000).toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      archive_url: `https://mailchi.mp/example/${id}`,
      long_archive_url: `https://us21.campaign-archive.com/?u=0&id=${id}`,
      status,
      emails_sent: c.emails_sent !== undefined ? c.emails_sent : status === 'sent' || status === 'sending' ? 100 : 0,
      send_time:
        c.send_time !== undefined
          ? c.send_time
          : status === 'sent' || status === 'sending'
            ? new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00')
            : '',
      content_type: 'template',
      needs_block_refresh: false,
      resendable: false,
      recipients: {
        list_id: c.list_id || defaultListId,
        list_is_active: true,
        list_name: (lists.get(c.list_id || defaultListId) || { list: { name: 'SayPro members' } }).list.name,
        segment_text: '',
        recipient_count: c.recipient_count !== undefined ? c.recipient_count : c.emails_sent || 0,
      },
      settings: {
        subject_line: c.subject_line || 'New listings this week',
        title: c.title || 'Weekly digest',
        from_name: 'SayPro',
        reply_to: 'hello@saypro.example',
      },
      report_summary: c.report_summary || {
        opens: 0,
        unique_opens: 0,
        open_rate: 0,
        clicks: 0,
        subscriber_clicks: 0,
        click_rate: 0,
      },
      _links: [{ rel: 'self', href: `https://${dc}.api.mailchimp.com/3.0/campaigns/${id}`, method: 'GET' }],
    };
    for (const k of Object.keys(c))
      if (!(k in campaign) && !['list_id', 'recipient_count', 'subject_line', 'title'].includes(k)) campaign[k] = c[k];
    if (!CAMPAIGN_STATUSES.includes(campaign.status)) throw new Error('unknown campaign status ' + campaign.status);
    campaigns.set(id, campaign);
    return campaign;
  }

  function seed() {
    addList({ id: defaultListId, name: 'SayPro members' });
  }
  seed();

  function memberView(listId, m) {
    return { ...m, list_id: listId, _links: [] };
  }

  function validateMember(body, { requireStatus }) {
    const errors = [];
    if (!body || typeof body !== 'object')
      return problem(400, 'Invalid Resource', 'The resource submitted could not be validated.');
    if (typeof body.email_address !== 'string' || body.email_address === '')
      errors.push({ field: 'email_address', message: 'This value should not be blank.' });
    else if (!EMAIL.test(body.email_address))
      return problem(400, 'Invalid Resource', 'Please provide a valid email address.');
    if (requireStatus && body.status === undefined)
      errors.push({ field: 'status', message: 'This value should not be blank.' });
    for (const f of ['status', 'status_if_new']) {
      if (body[f] !== undefined && !MEMBER_STATUSES.includes(body[f]))
        errors.push({ field: f, message: `Value must be one of: ${MEMBER_STATUSES.join(', ')}` });
    }
    if (
      body.merge_fields !== undefined &&
      (typeof body.merge_fields !== 'object' || Array.isArray(body.merge_fields) || body.merge_fields === null)
    ) {
      errors.push({
        field: 'merge_fields',
        message:
          'Schema describes object, ' +
          (Array.isArray(body.merge_fields) ? 'array' : typeof body.merge_fields) +
          ' found instead',
      });
    }
    if (errors.length)
      return problem(
        400,
        'Invalid Resource',
        "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
        { errors },
      );
    return null;
  }

  function upsertMember(entry, body, statusForNew) {
    const hash = md5(body.email_address);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const existing = entry.members.get(hash);
    const member = existing || {
      id: hash,
      email_address: body.email_address.toLowerCase(),
      unique_email_id: crypto.randomBytes(5).toString('hex'),
      contact_id: crypto.randomBytes(16).toString('hex'),
      full_name: '',
      status: statusForNew,
      merge_fields: {},
      tags: [],
      timestamp_signup: now,
      last_changed: now,
    };
    if (existing && body.status) member.status = body.status;
    if (body.merge_fields) {
      member.merge_fields = { ...member.merge_fields, ...body.merge_fields };
      member.full_name = [member.merge_fields.FNAME, member.merge_fields.LNAME].filter(Boolean).join(' ');
    }
    if (Array.isArray(body.tags)) {
      const names = new Set(member.tags.map((t) => t.name));
      for (const t of body.tags)
        if (!names.has(String(t))) member.tags.push({ id: member.tags.length + 1, name: String(t) });
    }
    member.last_changed = now;
    entry.members.set(hash, member);
    entry.list.stats.member_count = [...entry.members.values()].filter((m) => m.status === 'subscribed').length;
    return member;
  }

  const fake = await startFakeServer({
    name: 'mailchimp',
    errorBody(status) {
      if (status === 429)
        return problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.').body;
      if (status === 404) return problem(404, 'Resource Not Found', 'The requested resource could not be found.').body;
      if (status >= 500)
        return problem(
          status,
          'Internal Server Error',
          'An unexpected internal error has occurred. Please contact Support for more information.',
        ).body;
      return problem(status, 'Bad Request', 'The request could not be processed.').body;
    },
    authenticate({ headers }) {
      const creds = basicCredentials(headers);
      if (!creds || creds.password === '')
        return problem(401, 'API Key Missing', 'Your request did not include an API key.');
      if (creds.password !== apiKey)
        return problem(
          401,
          'API Key Invalid',
          "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        );
      return null;
    },
    onReset() {
      campaigns.clear();
      lists.clear();
      seed();
    },
    routes: [
      [
        'GET',
        '/3.0/campaigns/:id',
        ({ params, query }) => {
          const c = campaigns.get(params.id);
          if (!c) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
          return { status: 200, body: pickFields(c, query.fields, query.exclude_fields) };
        },
      ],
      [
        'GET',
        '/3.0/lists/:listId',
        ({ params, query }) => {
          const entry = lists.get(params.listId);
          if (!entry) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
          return { status: 200, body: pickFields(entry.list, query.fields, query.exclude_fields) };
        },
      ],
      [
        'POST',
        '/3.0/lists/:listId/members',
        ({ params, body, bodyError }) => {
          const entry = lists.get(params.listId);
          if (!entry) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
          if (bodyError)
            return problem(400, 'JSON Parse Exception', 'We encountered an unspecified JSON parsing error.');
          const bad = validateMember(body, { requireStatus: true });
          if (bad) return bad;
          const existing = entry.members.get(md5(body.email_address));
          if (existing) {
            return problem(
              400,
              'Member Exists',
              `${body.email_address} is already a list member. Use PUT to insert or update list members.`,
            );
          }
          return { status: 200, body: memberView(params.listId, upsertMember(entry, body, body.status)) };
        },
      ],
      [
        'PUT',
        '/3.0/lists/:listId/members/:hash',
        ({ params, body, bodyError }) => {
          const entry = lists.get(params.listId);
          if (!entry) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
          if (bodyError)
            return problem(400, 'JSON Parse Exception', 'We encountered an unspecified JSON parsing error.');
          const bad = validateMember(body, { requireStatus: false });
          if (bad) return bad;
          if (md5(body.email_address) !== params.hash.toLowerCase()) {
            return problem(400, 'Invalid Resource', 'The subscriber hash in the URL does not match the email address.');
          }
          const exists = entry.members.has(params.hash.toLowerCase());
          if (!exists && body.status_if_new === undefined && body.status === undefined) {
            const errors = [{ field: 'status_if_new', message: 'This value should not be blank.' }];
            return problem(
              400,
              'Invalid Resource',
              "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
              { errors },
            );
          }
          return {
            status: 200,
            body: memberView(params.listId, upsertMember(entry, body, body.status_if_new || body.status)),
          };
        },
      ],
      [
        'GET',
        '/3.0/lists/:listId/members/:hash',
        ({ params, query }) => {
          const entry = lists.get(params.listId);
          const m = entry && (entry.members.get(params.hash.toLowerCase()) || entry.members.get(md5(params.hash)));
          if (!m) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
          return { status: 200, body: pickFields(memberView(params.listId, m), query.fields, query.exclude_fields) };
        },
      ],
    ],
  });

  fake.apiKey = apiKey;
  fake.dc = dc;
  fake.campaigns = campaigns;
  fake.lists = lists;
  fake.defaultListId = defaultListId;
  fake.addCampaign = addCampaign;
  fake.addList = addList;
  fake.subscriberHash = md5;
  fake.env = { MAILCHIMP_API_URL: fake.url, MAILCHIMP_API_KEY: apiKey };
  return fake;
}

module.exports = { startMailchimp, subscriberHash: md5 };
