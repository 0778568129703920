/**
 * The audited client IP (DESIGN §3, §8): the socket peer
 * (`network.peer.address`), unless the peer is a configured trusted proxy —
 * only then is `X-Forwarded-For` (or `Forwarded`) read, right to left,
 * skipping trusted hops, and the first untrusted address is the client. Any
 * client can send these headers; from an untrusted peer they are ignored.
 */
import { BlockList, isIP } from 'node:net';
import { embeddedIpv4, formatIpv6, parseIpAddress } from '@otel-audit/core';
import { header } from './text.js';

/** A resolver of the client IP of a request, built once from the trusted proxies. */
export type ClientIpResolver = (peer: string | undefined, headers: Record<string, string | string[] | undefined>) => string | undefined;

/**
 * The client IP as records write it: brackets, quotes and ports removed,
 * an IPv4-mapped IPv6 address in any spelling (`::ffff:1.2.3.4`,
 * `::FFFF:cb00:7109`, `0:0:0:0:0:ffff:1.2.3.4`) as its IPv4 address, any
 * other IPv6 address in its RFC 5952 text (`2001:DB8:0::1` → `2001:db8::1`, NAT64 with its IPv4 part dotted,
 * a zone kept); `undefined` if not an IP. One client, one spelling: an
 * analyst's query or an alert rule on `actor.ip` finds every record of it,
 * whatever a proxy's `X-Forwarded-For` wrote.
 *
 * @example
 * normalizeIp('[2001:DB8:0:0::1]:443') // '2001:db8::1'
 */
export function normalizeIp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let v = value.trim();
  if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0) return undefined;
    v = v.slice(1, end);
  } else if (v.indexOf(':') > 0 && v.indexOf(':') === v.lastIndexOf(':')) {
    v = v.slice(0, v.indexOf(':')); // IPv4 with a port
  }
  const ip = parseIpAddress(v);
  if (ip === undefined) return undefined;
  if (ip.family === 4) return v;
  const embedded = embeddedIpv4(ip.groups);
  if (embedded?.form === 'mapped' && ip.zone === undefined) return embedded.ipv4;
  return formatIpv6(ip.groups) + (ip.zone === undefined ? '' : `%${ip.zone}`);
}

function forwardedFor(value: string): string[] {
  const out: string[] = [];
  for (const element of value.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') out.push(pair.slice(eq + 1).trim());
    }
  }
  return out;
}

/**
 * Build a resolver. `trustedProxies` are addresses or CIDR ranges
 * (`10.0.0.0/8`, `::1`, `fd00::/8`).
 *
 * @throws RangeError naming the entry that is neither.
 */
export function createClientIpResolver(trustedProxies: readonly string[] = []): ClientIpResolver {
  if (!Array.isArray(trustedProxies)) throw new TypeError('trustedProxies must be an array of IP addresses or CIDR ranges');
  const list = new BlockList();
  trustedProxies.forEach((entry, i) => {
    if (typeof entry !== 'string') throw new TypeError(`trustedProxies[${i}] must be a string; got ${typeof entry}`);
    const [addr, bits, extra] = entry.split('/');
    const family = isIP(addr ?? '');
    const prefix = bits === undefined ? undefined : Number(bits);
    if (family === 0 || extra !== undefined || (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128) || bits === ''))) {
      throw new RangeError(`trustedProxies[${i}] must be an IP address or a CIDR range like "10.0.0.0/8"; got ${JSON.stringify(entry)}`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, prefix, type);
  });
  const trusted = (ip: string): boolean => list.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
  if (trustedProxies.length === 0) return (peer) => normalizeIp(peer);
  return (peer, headers) => {
    const p = normalizeIp(peer);
    if (p === undefined || !trusted(p)) return p;
    const xff = headers['x-forwarded-for'];
    let hops: string[];
    if (xff !== undefined) hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',');
    else {
      const fwd = header(headers['forwarded']);
      hops = fwd === undefined ? [] : forwardedFor(Array.isArray(headers['forwarded']) ? headers['forwarded'].join(',') : fwd);
    }
    let client = p;
    for (let i = hops.length - 1; i >= 0 && i >= hops.length - 32; i--) {
      const hop = normalizeIp(hops[i]);
      if (hop === undefined) break; // a malformed hop: stop at the last address we could trust
      client = hop;
      if (!trusted(hop)) break;
    }
    return client;
  };
}
