'use strict';
/**
 * Form and query parsing shared by the fake vendors (./index.js) and the
 * contract validator (../contracts/validator.js): bracket nesting the way
 * Stripe and Twilio read form bodies, repeated query names as arrays.
 */

/** Splits `a[b][0][c]` into ['a', 'b', '0', 'c'], `a[]` into ['a', '']. */
function formKeyPath(key) {
  const first = key.indexOf('[');
  if (first <= 0) return [key];
  const parts = [key.slice(0, first)];
  const re = /\[([^\]]*)\]/g;
  re.lastIndex = first;
  let m;
  let end = first;
  while ((m = re.exec(key)) !== null && m.index === end) {
    parts.push(m[1]);
    end = re.lastIndex;
  }
  if (end !== key.length) return [key]; // not a clean bracket key: keep it whole
  return parts;
}

function decodeFormComponent(s) {
  try {
    return decodeURIComponent(String(s).replace(/\+/g, ' '));
  } catch {
    return String(s);
  }
}

/**
 * Parses application/x-www-form-urlencoded text the way Stripe reads it:
 * `metadata[order_id]=6735` → { metadata: { order_id: '6735' } },
 * `expand[]=a&expand[]=b` → { expand: ['a', 'b'] },
 * `items[0][price]=p` → { items: [{ price: 'p' }] }. Values stay strings.
 */
function parseForm(text) {
  const out = {};
  if (!text) return out;
  for (const pair of String(text).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeFormComponent(eq >= 0 ? pair.slice(0, eq) : pair);
    const value = decodeFormComponent(eq >= 0 ? pair.slice(eq + 1) : '');
    const path = formKeyPath(key);
    let cur = out;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      const next = path[i + 1];
      if (Array.isArray(cur) && seg === '') {
        if (last) cur.push(value);
        else {
          const child = next === '' || /^\d+$/.test(next) ? [] : {};
          cur.push(child);
          cur = child;
        }
        continue;
      }
      const k = Array.isArray(cur) && /^\d+$/.test(seg) ? Number(seg) : seg;
      if (last) {
        cur[k] = value;
      } else {
        if (cur[k] === undefined || typeof cur[k] !== 'object') cur[k] = next === '' || /^\d+$/.test(next) ? [] : {};
        cur = cur[k];
      }
    }
  }
  return out;
}

/** The query of a URL as an object; a repeated name gives an array. */
function parseQuery(search) {
  const out = {};
  const params = new URLSearchParams(search || '');
  for (const [k, v] of params) {
    if (out[k] === undefined) out[k] = v;
    else if (Array.isArray(out[k])) out[k].push(v);
    else out[k] = [out[k], v];
  }
  return out;
}

module.exports = { parseForm, parseQuery, formKeyPath };
