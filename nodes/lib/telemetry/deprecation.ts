/**
 * The API version watch: reads a response's headers for signs that the API
 * (or the version of it) in use is deprecated or will be withdrawn:
 *
 *  - `Deprecation` (RFC 9745): a structured-field date `@1688169599`; older
 *    drafts sent `true` or an HTTP date, both still understood;
 *  - `Sunset` (RFC 8594): an HTTP date;
 *  - `Link` with `rel="deprecation"` or `rel="sunset"`: where to read more;
 *  - vendors' own words: Stripe's `Stripe-Notice` (formerly
 *    `Stripe-Api-Version-Upgrade-Notice`), and `Warning: 299 …` whose text
 *    speaks of deprecation (Salesforce, Kubernetes).
 *
 * And remembers, per endpoint, what was last seen, so that the log warns once
 * per endpoint per day (or at once when the notice changes). No Node-RED import.
 */

export interface DeprecationInfo {
  /** ISO 8601, or "true" when the header gives no date */
  deprecation?: string;
  /** ISO 8601 */
  sunset?: string;
  /** the deprecation (else sunset) link */
  link?: string;
  /** a vendor's own warning text, at most WARNING_CHARS */
  warning?: string;
}

export const WARNING_CHARS = 300;
const LINK_CHARS = 500;
export const DAY_MS = 24 * 3600 * 1000;

type Headers = Record<string, unknown> | undefined | null;

function header(headers: Headers, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const lower = name.toLowerCase();
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() !== lower) continue;
    const v = (headers as Record<string, unknown>)[k];
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.filter((x) => typeof x === 'string').join(', ');
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

function clean(text: string, max: number): string {
  const t = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/** RFC 9745 `@<seconds>` → ISO; legacy `true`/HTTP date; undefined when unreadable. */
export function parseDeprecation(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  const m = /^@(-?\d{1,15})$/.exec(v);
  if (m) {
    const d = new Date(Number(m[1]) * 1000);
    return Number.isFinite(d.getTime()) ? d.toISOString() : undefined;
  }
  if (/^(\?1|true)$/i.test(v)) return 'true';
  return parseHttpDate(v);
}

/** An HTTP date (IMF-fixdate, or what Date.parse reads of the obsolete forms) → ISO. */
export function parseHttpDate(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '' || !/[A-Za-z]{3}/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

/** `<uri>; rel="deprecation"`, … → the first URI whose rel holds `rel`. */
export function linkWithRel(value: string | undefined, rel: string): string | undefined {
  if (!value) return undefined;
  const re = /<([^>]*)>([^,<]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    const params = m[2];
    const r = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (r ? (r[1] ?? r[2]) : '').toLowerCase().split(/\s+/);
    if (rels.includes(rel)) return clean(m[1], LINK_CHARS);
  }
  return undefined;
}

/** Warning: 299 - "text" → the texts that speak of deprecation, sunset or versions. */
function deprecationWarning(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const texts: string[] = [];
  const re = /\b299\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    if (/deprecat|sunset|version|retire|removed/i.test(m[1])) texts.push(m[1]);
  }
  return texts.length ? texts.join(' | ') : undefined;
}

/** Everything the headers say about deprecation; undefined when nothing. */
export function readDeprecation(headers: Headers): DeprecationInfo | undefined {
  const out: DeprecationInfo = {};
  const dep = parseDeprecation(header(headers, 'deprecation'));
  if (dep) out.deprecation = dep;
  const sunset = parseHttpDate(header(headers, 'sunset'));
  if (sunset) out.sunset = sunset;
  const link = header(headers, 'link');
  const l = linkWithRel(link, 'deprecation') ?? linkWithRel(link, 'sunset');
  if (l) out.link = l;
  const vendor =
    header(headers, 'stripe-notice') ??
    header(headers, 'stripe-api-version-upgrade-notice') ??
    deprecationWarning(header(headers, 'warning'));
  if (vendor && vendor.trim() !== '') out.warning = clean(vendor, WARNING_CHARS);
  // a Link alone (rel=sunset with no dates) still tells where to read, but is no notice by itself
  if (out.deprecation === undefined && out.sunset === undefined && out.warning === undefined) return undefined;
  return out;
}

export interface WatchState {
  info: DeprecationInfo;
  /** epoch ms when first seen (this notice) */
  since: number;
  /** epoch ms of the last response carrying it */
  lastSeen: number;
  /** epoch ms of the last log warning */
  warnedAt: number;
}

/**
 * Remembers the notices per endpoint. `observe` says whether to warn now:
 * the first time, when the notice changed, or a day after the last warning.
 */
export class DeprecationWatch {
  private readonly byEndpoint = new Map<string, WatchState>();
  constructor(private readonly intervalMs: number = DAY_MS) {}

  /** A response with a notice (info) or without one (undefined). Returns true when the log should warn. */
  observe(endpointId: string, info: DeprecationInfo | undefined, now: number = Date.now()): boolean {
    if (!info) return false;
    const prev = this.byEndpoint.get(endpointId);
    const same = prev && JSON.stringify(prev.info) === JSON.stringify(info);
    if (prev && same) {
      prev.lastSeen = now;
      if (now - prev.warnedAt >= this.intervalMs) {
        prev.warnedAt = now;
        return true;
      }
      return false;
    }
    this.byEndpoint.set(endpointId, { info, since: now, lastSeen: now, warnedAt: now });
    return true;
  }

  /** A successful answer without any notice: the endpoint is no longer marked. */
  clear(endpointId: string): boolean {
    return this.byEndpoint.delete(endpointId);
  }

  get(endpointId: string): WatchState | undefined {
    const s = this.byEndpoint.get(endpointId);
    return s ? { ...s, info: { ...s.info } } : undefined;
  }

  entries(): Array<[string, WatchState]> {
    return [...this.byEndpoint.entries()].map(([k, s]) => [k, { ...s, info: { ...s.info } }]);
  }
}
