'use strict';
/**
 * A fake of the HubSpot CRM v3 objects API (contacts, companies, deals), from
 * its public reference:
 *
 *   POST   /crm/v3/objects/{type}                 {properties:{…}, associations:[…]} → 201 object
 *                                                 (associations is required by the create operation; [] is valid)
 *   GET    /crm/v3/objects/{type}/{id}            ?idProperty=email&properties=a&properties=b → 200 | 404
 *                                                 (properties is an exploded array: the parameter is repeated;
 *                                                 "a,b" is one property name, which does not exist, so it is left out)
 *   PATCH  /crm/v3/objects/{type}/{id}            ?idProperty=email {properties} → 200 | 404
 *   POST   /crm/v3/objects/{type}/search          {filterGroups:[{filters:[{propertyName, operator:"EQ", value}]}]} → 200 {total, results}
 *
 * An object is {id, properties:{…, createdate, hs_object_id, lastmodifieddate}, createdAt, updatedAt, archived:false}.
 * Property values must be strings (a number, boolean or object is a 400
 * VALIDATION_ERROR), properties must exist in the portal (standard ones plus
 * the custom ones given; default custom contact property: listing_count), a
 * contact's email must be an address and is unique (case-insensitive):
 * a second one is 409 {"status":"error","message":"Contact already exists. Existing ID: 123",
 * "correlationId":"…","category":"CONFLICT"}. Not found: 404
 * {"status":"error","message":"Object not found.  objectId are usually numeric.",…,"category":"OBJECT_NOT_FOUND"}.
 * Auth: `Authorization: Bearer <private app token>`, else 401 INVALID_AUTHENTICATION.
 * 429: {"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT",…}.
 *
 *   const hs = await startHubSpot({ token, customProperties: { contacts: ['listing_count'], deals: [] } });
 *   hs.url, hs.token, hs.env → { HUBSPOT_API_URL, HUBSPOT_TOKEN }
 *   hs.objects.contacts / .companies / .deals   Map id → object
 *   hs.findContact(email)                       the stored contact or undefined
 *   hs.addContact(properties)                   seeds a contact, returns it
 *   plus everything from ./index.js
 */
const crypto = require('crypto');
const { startFakeServer, bearerToken } = require('./index');

const EMAIL = /^[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+$/;

const STANDARD = {
  contacts: [
    'email',
    'firstname',
    'lastname',
    'phone',
    'mobilephone',
    'company',
    'website',
    'jobtitle',
    'address',
    'city',
    'state',
    'zip',
    'country',
    'lifecyclestage',
    'hs_lead_status',
    'hubspot_owner_id',
    'message',
    'date_of_birth',
    'industry',
    'fax',
  ],
  companies: [
    'name',
    'domain',
    'phone',
    'city',
    'state',
    'country',
    'industry',
    'website',
    'description',
    'lifecyclestage',
    'hubspot_owner_id',
  ],
  deals: [
    'dealname',
    'amount',
    'pipeline',
    'dealstage',
    'closedate',
    'hubspot_owner_id',
    'description',
    'deal_currency_code',
    'dealtype',
  ],
};
const READ_ONLY = ['createdate', 'lastmodifieddate', 'hs_object_id'];
const DEFAULT_READ = {
  contacts: ['firstname', 'lastname', 'email'],
  companies: ['name', 'domain'],
  deals: ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage'],
};

function hubError(status, category, message, extra = {}) {
  return { status, body: { status: 'error', message, correlationId: crypto.randomUUID(), category, ...extra } };
}

async function startHubSpot(opts = {}) {
  const token = opts.token || 'pat-na1-' + crypto.randomUUID();
  const custom = { contacts: ['listing_count'], companies: [], deals: [], ...(opts.customProperties || {}) };
  const objects = { contacts: new Map(), companies: new Map(), deals: new Map() };
  let nextId = 1001;

  const known = (type) => new Set([...STANDARD[type], ...(custom[type] || [])]);

  function findContact(email) {
    const e = String(email || '')
      .trim()
      .toLowerCase();
    for (const c of objects.contacts.values()) if ((c.properties.email || '').toLowerCase() === e) return c;
    return undefined;
  }

  /** Problems with a {properties} input, as HubSpot reports them. */
  function checkProperties(type, properties) {
    if (!properties || typeof properties !== 'object' || Array.isArray(properties)) {
      return hubError(
        400,
        'VALIDATION_ERROR',
        'Invalid input JSON: "properties" must be an object of property names to string values',
      );
    }
    const names = known(type);
    const errors = [];
    for (const [name, value] of Object.entries(properties)) {
      if (typeof value !== 'string' && value !== null) {
        return hubError(
          400,
          'VALIDATION_ERROR',
          `Invalid input JSON on line 1: Cannot deserialize value of type \`java.lang.String\` from ${Array.isArray(value) ? 'Array' : typeof value === 'object' ? 'Object' : typeof value} value (property "${name}"); property values must be strings`,
        );
      }
      if (READ_ONLY.includes(name)) {
        errors.push({
          isValid: false,
          message: `"${name}" is a read only property; its value cannot be set.`,
          error: 'READ_ONLY_VALUE',
          name,
        });
      } else if (!names.has(name)) {
        errors.push({
          isValid: false,
          message: `Property "${name}" does not exist`,
          error: 'PROPERTY_DOESNT_EXIST',
          name,
          localizedErrorMessage: `Property "${name}" does not exist`,
        });
      } else if (type === 'contacts' && name === 'email' && value !== null && value !== '' && !EMAIL.test(value)) {
        errors.push({
          isValid: false,
          message: `Email address ${value} is invalid`,
          error: 'INVALID_EMAIL',
          name: 'email',
          localizedErrorMessage: `Email address ${value} is invalid`,
        });
      } else if (name === 'listing_count' && value !== null && value !== '' && !/^-?\d+(\.\d+)?$/.test(value)) {
        errors.push({ isValid: false, message: `${value} was not a valid number.`, error: 'INVALID_DOUBLE', name });
      }
    }
    if (errors.length) {
      return hubError(400, 'VALIDATION_ERROR', 'Property values were not valid: ' + JSON.stringify(errors), {
        errors: errors.map((e) => ({ message: e.message, code: e.error, context: { propertyName: [e.name] } })),
      });
    }
    return null;
  }

  /** SimplePublicObjectInputForCreate.associations: required, a list of {to: {id}, types: [{associationCategory, associationTypeId}]} */
  function checkAssociations(associations) {
    if (!Array.isArray(associations)) {
      return hubError(
        400,
        'VALIDATION_ERROR',
        'Invalid input JSON: "associations" is required: a list of associations (an empty list for none)',
      );
    }
    for (const a of associations) {
      const ok =
        a &&
        typeof a === 'object' &&
        a.to &&
        typeof a.to.id === 'string' &&
        Array.isArray(a.types) &&
        a.types.every(
          (t) =>
            t &&
            ['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED'].includes(t.associationCategory) &&
            Number.isInteger(t.associationTypeId),
        );
      if (!ok)
        return hubError(
          400,
          'VALIDATION_ERROR',
          'Invalid input JSON: each association is {"to":{"id":"…"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":1}]}',
        );
    }
    return null;
  }

  function view(obj, requested, type) {
    const names = requested && requested.length ? requested : DEFAULT_READ[type];
    const properties = {};
    for (const n of [...new Set([...names, ...READ_ONLY])].sort()) {
      if (!known(type).has(n) && !READ_ONLY.includes(n)) continue; // unknown requested properties are left out
      properties[n] = obj.properties[n] === undefined ? null : obj.properties[n];
    }
    return { id: obj.id, properties, createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: false };
  }

  /** What a create or update answers: the properties written plus the read-only ones. */
  function written(obj, names) {
    const properties = {};
    for (const n of [...new Set([...names, ...READ_ONLY])].sort())
      properties[n] = obj.properties[n] === undefined ? null : obj.properties[n];
    return { id: obj.id, properties, createdAt: obj.createdAt, updatedAt: obj.updatedAt, archived: false };
  }

  function create(type, properties) {
    const now = new Date().toISOString();
    const id = String(nextId++);
    const props = {};
    for (const [k, v] of Object.entries(properties))
      if (v !== null) props[k] = type === 'contacts' && k === 'email' ? v.toLowerCase() : v;
    const obj = {
      id,
      properties: { ...props, createdate: now, lastmodifieddate: now, hs_object_id: id },
      createdAt: now,
      updatedAt: now,
    };
    objects[type].set(id, obj);
    return obj;
  }

  function lookup(type, id, idProperty) {
    if (idProperty && idProperty !== 'hs_object_id') {
      for (const o of objects[type].values()) {
        const v = o.properties[idProperty];
        if (v !== undefined && String(v).toLowerCase() === String(id).toLowerCase()) return o;
      }
      return undefined;
    }
    return objects[type].get(String(id));
  }

  function requestedProperties(q) {
    if (q.properties === undefined) return undefined;
    return (Array.isArray(q.properties) ? q.properties : [q.properties]).map((p) => String(p).trim()).filter(Boolean);
  }

  const TYPE = '(?<type>contacts|companies|deals)';
  const fake = await startFakeServer({
    name: 'hubspot',
    defaultHeaders: { 'x-hubspot-correlation-id': crypto.randomUUID() },
    errorBody(status) {
      if (status === 429) {
        return {
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: crypto.randomUUID(),
          policyName: 'TEN_SECONDLY_ROLLING',
          groupName: 'publicapi:private-app:10secondly',
        };
      }
      if (status === 404) return { status: 'error', message: 'resource not found', correlationId: crypto.randomUUID() };
      return {
        status: 'error',
        message: status >= 500 ? 'internal error' : 'error',
        correlationId: crypto.randomUUID(),
        category: status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR',
      };
    },
    authenticate({ headers }) {
      const t = bearerToken(headers);
      if (t !== token) {
        return hubError(
          401,
          'INVALID_AUTHENTICATION',
          'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
        );
      }
      return null;
    },
    onReset() {
      for (const m of Object.values(objects)) m.clear();
      nextId = 1001;
    },
    routes: [
      [
        'POST',
        new RegExp(`^/crm/v3/objects/${TYPE}/search/?$`),
        ({ params, body, bodyError }) => {
          if (bodyError || !body) return hubError(400, 'VALIDATION_ERROR', 'Invalid input JSON');
          const groups = Array.isArray(body.filterGroups) ? body.filterGroups : [];
          const all = [...objects[params.type].values()];
          const hits = groups.length
            ? all.filter((o) =>
                groups.some((g) =>
                  (g.filters || []).every((f) => {
                    const v = o.properties[f.propertyName];
                    if (f.operator === 'EQ')
                      return v !== undefined && String(v).toLowerCase() === String(f.value).toLowerCase();
                    if (f.operator === 'HAS_PROPERTY') return v !== undefined && v !== null;
                    if (f.operator === 'NOT_HAS_PROPERTY') return v === undefined || v === null;
                    return false;
                  }),
                ),
              )
            : all;
          const limit = Number(body.limit) || 10;
          return {
            status: 200,
            body: {
              total: hits.length,
              results: hits.slice(0, limit).map((o) => view(o, body.properties, params.type)),
            },
          };
        },
      ],
      [
        'POST',
        new RegExp(`^/crm/v3/objects/${TYPE}/?$`),
        ({ params, body, bodyError }) => {
          const type = params.type;
          if (bodyError || !body || typeof body !== 'object')
            return hubError(400, 'VALIDATION_ERROR', 'Invalid input JSON: ' + (bodyError || 'expected an object'));
          const bad = checkProperties(type, body.properties) || checkAssociations(body.associations);
          if (bad) return bad;
          if (type === 'contacts' && body.properties.email) {
            const existing = findContact(body.properties.email);
            if (existing) return hubError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existing.id}`);
          }
          const obj = create(type, body.properties);
          if (Array.isArray(body.associations)) obj.associations = body.associations;
          return { status: 201, body: written(obj, Object.keys(body.properties)) };
        },
      ],
      [
        'GET',
        new RegExp(`^/crm/v3/objects/${TYPE}/(?<id>[^/]+)/?$`),
        ({ params, query }) => {
          const id = decodeURIComponent(params.id);
          const obj = lookup(params.type, id, query.idProperty);
          if (!obj)
            return hubError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
              context: { id: [id] },
            });
          return { status: 200, body: view(obj, requestedProperties(query), params.type) };
        },
      ],
      [
        'PATCH',
        new RegExp(`^/crm/v3/objects/${TYPE}/(?<id>[^/]+)/?$`),
        ({ params, query, body, bodyError }) => {
          const type = params.type;
          const id = decodeURIComponent(params.id);
          if (bodyError || !body || typeof body !== 'object')
            return hubError(400, 'VALIDATION_ERROR', 'Invalid input JSON: ' + (bodyError || 'expected an object'));
          const obj = lookup(type, id, query.idProperty);
          if (!obj)
            return hubError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.', {
              context: { id: [id] },
            });
          const bad = checkProperties(type, body.properties);
          if (bad) return bad;
          if (type === 'contacts' && body.properties.email) {
            const other = findContact(body.properties.email);
            if (other && other.id !== obj.id)
              return hubError(409, 'CONFLICT', `Contact already exists. Existing ID: ${other.id}`);
          }
          for (const [k, v] of Object.entries(body.properties)) {
            if (v === null || v === '') delete obj.properties[k];
            else obj.properties[k] = type === 'contacts' && k === 'email' ? v.toLowerCase() : v;
          }
          const now = new Date(Math.max(Date.now(), Date.parse(obj.updatedAt) + 1)).toISOString();
          obj.updatedAt = now;
          obj.properties.lastmodifieddate = now;
          return { status: 200, body: written(obj, Object.keys(body.properties)) };
        },
      ],
    ],
  });

  fake.token = token;
  fake.objects = objects;
  fake.customProperties = custom;
  fake.findContact = findContact;
  fake.addContact = (properties) => create('contacts', properties);
  fake.env = { HUBSPOT_API_URL: fake.url, HUBSPOT_TOKEN: token };
  return fake;
}

module.exports = { startHubSpot, STANDARD_PROPERTIES: STANDARD };
