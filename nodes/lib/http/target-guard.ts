/**
 * The SSRF guard of an endpoint: which hosts and addresses a request may go to.
 *
 *  - an optional host allow-list: exact names ("api.stripe.com"), a leading
 *    wildcard for subdomains ("*.example.com"), or IP literals; checked on the
 *    URL before anything is sent;
 *  - an option that blocks private, loopback, link-local, unique-local,
 *    carrier-grade NAT, multicast and unspecified addresses (IPv4, IPv6, and
 *    IPv4-mapped IPv6). It is checked on the addresses a name RESOLVES to,
 *    inside the connection's own DNS lookup (so a name that resolves to a
 *    public address when checked and to 127.0.0.1 when connecting — DNS
 *    rebinding — cannot slip through), and on IP literals before connecting.
 *
 * Off by default: edge boxes often talk to devices on their own LAN.
 * Pure apart from `guardedLookup`, which wraps node:dns lookup.
 */
import * as dns from 'node:dns';
import * as net from 'node:net';
import { IntegrationError } from '../errors';

export const TARGET_BLOCKED = 'TARGET_BLOCKED';

export interface TargetGuardOptions {
  /** host names (or "*.domain", or IP literals) requests may go to; empty: any */
  allowHosts?: string[];
  /** refuse private, loopback, link-local … addresses (after DNS resolution) */
  blockPrivate?: boolean;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function ipv4Parts(ip: string): number[] | undefined {
  if (net.isIPv4(ip)) return ip.split('.').map(Number);
  return undefined;
}

/** IPv6 text → 8 groups of 16 bits (handles "::" and a dotted IPv4 tail). */
function ipv6Groups(ip: string): number[] | undefined {
  if (!net.isIPv6(ip)) return undefined;
  let text = ip.split('%')[0].toLowerCase();
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const p = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const groups = [...h, ...new Array(fill).fill('0'), ...t].map((g) => parseInt(g || '0', 16));
  return groups.length === 8 ? groups : undefined;
}

function blockedV4(p: number[]): string | undefined {
  const [a, b] = p;
  if (a === 0) return 'an unspecified ("this network") address';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 127) return 'a loopback address';
  if (a === 169 && b === 254) return 'a link-local address';
  if (a === 100 && b >= 64 && b <= 127) return 'a carrier-grade NAT address';
  if (a === 192 && b === 0 && p[2] === 0) return 'an IETF protocol address';
  if (a === 198 && (b === 18 || b === 19)) return 'a benchmarking address';
  if (a >= 224) return 'a multicast or reserved address';
  return undefined;
}

/** Why an IP address is not a public target, or undefined when it is one. */
export function blockedAddressReason(ip: string): string | undefined {
  const address = stripBrackets(ip);
  const v4 = ipv4Parts(address);
  if (v4) return blockedV4(v4);
  const g = ipv6Groups(address);
  if (!g) return 'not an IP address';
  if (g.every((x) => x === 0)) return 'an unspecified address';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'a loopback address';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96): judge the IPv4 inside
  const mapped = g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0);
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0);
  if (mapped || nat64) return blockedV4([g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff]);
  if ((g[0] & 0xfe00) === 0xfc00) return 'a unique-local (private) address';
  if ((g[0] & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g[0] & 0xffc0) === 0xfec0) return 'a site-local address';
  if ((g[0] & 0xff00) === 0xff00) return 'a multicast address';
  if (g[0] === 0x2002) return blockedV4([g[1] >> 8, g[1] & 0xff, g[2] >> 8, g[2] & 0xff]); // 6to4 wraps an IPv4
  return undefined;
}

function blockedError(host: string, address: string, reason: string): IntegrationError {
  const where = host === address ? address : `${host} (${address})`;
  const err = new IntegrationError(
    TARGET_BLOCKED,
    `The target ${where} is ${reason}; this endpoint blocks private and local addresses`,
    [{ field: 'blockPrivate', reason: `${where} is ${reason}` }],
  );
  return err;
}

/** Normalises an allow-list: trimmed, lower-case, no empty entries. */
export function parseAllowHosts(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return list.map((h) => stripBrackets(String(h).trim().toLowerCase().replace(/\.$/, ''))).filter((h) => h !== '');
}

/** True when `host` is on the allow-list (an empty list allows every host). */
export function hostAllowed(host: string, allowHosts: string[]): boolean {
  if (!allowHosts.length) return true;
  const h = stripBrackets(host.toLowerCase().replace(/\.$/, ''));
  return allowHosts.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) && h.length > a.length - 1 : h === a));
}

export class TargetGuard {
  readonly allowHosts: string[];
  readonly blockPrivate: boolean;

  constructor(o: TargetGuardOptions = {}) {
    this.allowHosts = parseAllowHosts(o.allowHosts);
    this.blockPrivate = o.blockPrivate === true;
  }

  get active(): boolean {
    return this.blockPrivate || this.allowHosts.length > 0;
  }

  /** Checks a URL before a request: the allow-list, and an IP literal against the private ranges. Throws TARGET_BLOCKED. */
  checkUrl(url: string | URL): void {
    const u = typeof url === 'string' ? new URL(url) : url;
    const host = stripBrackets(u.hostname);
    if (!hostAllowed(host, this.allowHosts)) {
      throw new IntegrationError(TARGET_BLOCKED, `The host ${host} is not on this endpoint's list of allowed hosts`, [
        { field: 'allowHosts', reason: `${host} is not allowed` },
      ]);
    }
    this.checkAddress(host, host);
  }

  /** Throws TARGET_BLOCKED when blockPrivate is on and `address` (an IP literal) is not public. Names pass. */
  checkAddress(host: string, address: string): void {
    if (!this.blockPrivate) return;
    const a = stripBrackets(address);
    if (net.isIP(a) === 0) return;
    const reason = blockedAddressReason(a);
    if (reason) throw blockedError(stripBrackets(host), a, reason);
  }

  /**
   * A dns.lookup replacement for net/tls connect: resolves as usual, then
   * refuses when any resolved address is blocked (a mix of public and private
   * answers is refused too: the connection could take either).
   */
  lookup(): typeof dns.lookup {
    const guard = this;
    const fn = (hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      const opts = (
        typeof options === 'object' && options !== null
          ? options
          : typeof options === 'number'
            ? { family: options }
            : {}
      ) as dns.LookupOptions;
      dns.lookup(hostname, { ...opts, all: true }, (err, addresses) => {
        if (err) return callback(err);
        const list = addresses as dns.LookupAddress[];
        for (const a of list) {
          try {
            guard.checkAddress(hostname, a.address);
          } catch (e) {
            return callback(e);
          }
        }
        if (opts.all) return callback(null, list);
        if (!list.length)
          return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
        return callback(null, list[0].address, list[0].family);
      });
    };
    return fn as unknown as typeof dns.lookup;
  }
}
