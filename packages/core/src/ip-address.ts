/**
 * IP address texts read one way (DESIGN §3, §9): the instrumentation
 * canonicalises the client IP it writes into a record with it, and the alert
 * rule setting `normalize_group` groups addresses with it. Validation is
 * Node's own (`node:net` `isIPv4`, `isIPv6`), so an address is what Node's
 * sockets and `BlockList` take for one; the IPv4 forms embedded in IPv6
 * follow RFC 4291 §2.5.5, RFC 6052 and RFC 8215.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed IP address. */
export type IpAddress =
  | { readonly family: 4; readonly octets: readonly number[] }
  /** `groups`: the eight 16-bit groups; `zone`: the zone id after `%` (`eth0`), if any. */
  | { readonly family: 6; readonly groups: readonly number[]; readonly zone: string | undefined };

/**
 * How an IPv6 address carries an IPv4 one:
 * - `mapped` — `::ffff:0:0/96` (RFC 4291 §2.5.5.2), how a dual-stack socket
 *   shows an IPv4 peer;
 * - `nat64` — the well-known NAT64 prefix `64:ff9b::/96` (RFC 6052);
 * - `nat64-local` — `64:ff9b:1::/96`, the /96 at the start of the local-use
 *   translation prefix `64:ff9b:1::/48` (RFC 8215);
 * - `compatible` — the deprecated `::/96` form (RFC 4291 §2.5.5.1).
 */
export type Ipv4EmbeddingForm = 'mapped' | 'nat64' | 'nat64-local' | 'compatible';

/** The IPv4 address an IPv6 address carries, and how. */
export interface EmbeddedIpv4 {
  readonly form: Ipv4EmbeddingForm;
  /** Dotted decimal, `198.51.100.7`. */
  readonly ipv4: string;
}

/** The IPv6 groups of a text `isIPv6` accepted, the zone id removed. */
function ipv6Groups(ip: string): number[] {
  const lastColon = ip.lastIndexOf(':');
  const tail = ip.slice(lastColon + 1);
  let hex = ip;
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    hex = `${ip.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = hex.split('::');
  const parse = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const gap = halves.length === 2 ? 8 - head.length - rest.length : 0;
  return [...head, ...new Array<number>(gap).fill(0), ...rest];
}

/**
 * `text` as an IP address, or `undefined` when Node would not take it for
 * one. No brackets, ports or surrounding space: `[::1]:443` is not an address.
 *
 * @example
 * parseIpAddress('::ffff:203.0.113.9') // { family: 6, groups: [0, 0, 0, 0, 0, 0xffff, 0xcb00, 0x7109], zone: undefined }
 * parseIpAddress('203.0.113.9')        // { family: 4, octets: [203, 0, 113, 9] }
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, got ${typeof text}`);
  // The octets on demand: the callers so far only need to know an IPv4 address is one, per request or record.
  if (isIPv4(text)) return { family: 4, get octets() { return text.split('.').map(Number); } };
  if (!isIPv6(text)) return undefined;
  const percent = text.indexOf('%');
  const zone = percent >= 0 ? text.slice(percent + 1) : undefined;
  return { family: 6, groups: ipv6Groups(percent >= 0 ? text.slice(0, percent) : text), zone };
}

/**
 * The IPv4 address that the IPv6 address `groups` carries in one of the
 * {@link Ipv4EmbeddingForm}s, or `undefined`.
 *
 * The compatible form `::a.b.c.d` counts only when `a.b.c.d` lies outside
 * `0.0.0.0/8`. RFC 4291 required a real unicast IPv4 there, and `0.0.0.0/8`
 * ("this network", RFC 1122 §3.2.1.3) is never the address of a remote host;
 * without the rule `::` and the loopback `::1` would read as `0.0.0.0` and
 * `0.0.0.1`, and `::0.0.1.2` as a client it cannot be.
 *
 * @example
 * embeddedIpv4([0x64, 0xff9b, 0, 0, 0, 0, 0xc633, 0x6407]) // { form: 'nat64', ipv4: '198.51.100.7' }
 * embeddedIpv4([0, 0, 0, 0, 0, 0, 0, 1])                   // undefined (::1)
 */
export function embeddedIpv4(groups: readonly number[]): EmbeddedIpv4 | undefined {
  if (groups.length !== 8) throw new RangeError(`groups must hold the 8 groups of an IPv6 address, got ${groups.length}`);
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [number, number, number, number, number, number, number, number];
  if (g3 !== 0 || g4 !== 0) return undefined;
  let form: Ipv4EmbeddingForm | undefined;
  if (g0 === 0 && g1 === 0 && g2 === 0) form = g5 === 0xffff ? 'mapped' : g5 === 0 && g6 >= 0x100 ? 'compatible' : undefined;
  else if (g0 === 0x64 && g1 === 0xff9b && g5 === 0) form = g2 === 0 ? 'nat64' : g2 === 1 ? 'nat64-local' : undefined;
  return form === undefined ? undefined : { form, ipv4: `${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}` };
}

/**
 * The RFC 5952 text of an IPv6 address: lower-case hex without leading
 * zeros, the longest run of two or more zero groups (the first of equals)
 * as `::`; an address that carries an IPv4 one in a form
 * {@link embeddedIpv4} knows (mapped, NAT64, compatible) in the mixed
 * notation §5 recommends, its last 32 bits dotted — the text people search
 * for.
 *
 * @example
 * formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])          // '2001:db8::1:0:0:1'
 * formatIpv6([0x64, 0xff9b, 0, 0, 0, 0, 0xc633, 0x6407]) // '64:ff9b::198.51.100.7'
 */
export function formatIpv6(groups: readonly number[]): string {
  if (groups.length !== 8) throw new RangeError(`groups must hold the 8 groups of an IPv6 address, got ${groups.length}`);
  const embedded = embeddedIpv4(groups);
  // Hex groups before the dotted IPv4 (6) or all 8; the zero run is sought among them.
  const n = embedded === undefined ? 8 : 6;
  let start = -1;
  let length = 1;
  for (let i = 0; i < n; i++) {
    let j = i;
    while (j < n && groups[j] === 0) j++;
    if (j - i > length) [start, length] = [i, j - i];
    i = j;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  const tail = (from: number): string => {
    const h = hex(from, n);
    if (embedded === undefined) return h;
    return h === '' ? embedded.ipv4 : `${h}:${embedded.ipv4}`;
  };
  return start < 0 ? tail(0) : `${hex(0, start)}::${tail(start + length)}`;
}
