/**
 * `normalize_group` of alert rules (DESIGN §9): group values compared the
 * way a login form or a network sees them, not byte for byte, so that an
 * attacker cannot spread attempts over spellings of one account or
 * addresses of one host. The failed-login, brute-force and rate-limit
 * built-ins use it: otherwise `Alice`, `alice `, `ａｌｉｃｅ` (full width) and
 * `al\u200bice` would each get their own five tries, and a host with an IPv6
 * /64 (any cloud VM) a fresh address per request.
 */
import { embeddedIpv4, formatIpv6, parseIpAddress } from '@otel-audit/core';

/** Format characters (zero-width space and joiners, soft hyphen, bidi controls). */
const FORMAT = /\p{Cf}/gu;
const SPACES = /\s+/g;
/** Already normal: printable ASCII without upper case, spaces or dots that could start an IPv4 address. */
const PLAIN = /^[a-z_@+-][a-z0-9._@+-]*$/;

/**
 * The canonical form of an IP address text, or `undefined` when it is none:
 * IPv4 as is; an IPv6 address that carries an IPv4 client (mapped
 * `::ffff:0:0/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/96`, compatible
 * `::a.b.c.d`) as its IPv4; an address no host can hold a network of
 * (`::/64`, `64:ff9b:1::/48`) as itself (`::1`); another IPv6 address as its
 * /64 network (`2001:db8:0:1::/64`).
 *
 * @example
 * canonicalIp('::FFFF:203.0.113.9') // '203.0.113.9'
 * canonicalIp('2001:DB8:0:1:a:b:c:d') // '2001:db8:0:1::/64'
 */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIpAddress(text);
  if (ip === undefined) return undefined;
  if (ip.family === 4) return text;
  const g = ip.groups;
  // An IPv4 client behind IPv6 gets its IPv4 address, else all of them would share one /64.
  const embedded = embeddedIpv4(g);
  if (embedded !== undefined) return embedded.ipv4;
  // Two blocks where a /64 is not one host's network, so each address stays itself:
  // - ::/64 (IANA-reserved, not routed) holds the loopback ::1, the unspecified ::, and
  //   ::0.0.x.y, which embeddedIpv4 does not read as IPv4 (0.0.0.0/8 is no client). Grouped by
  //   /64 they would all be one group, so a text an attacker wrote (::0.0.1.2) would count
  //   against local clients on ::1; as IPv4 they would collide with 0.0.0.1 and the like.
  // - 64:ff9b:1::/48 (RFC 8215) holds translation prefixes of /48 to /96. Outside
  //   64:ff9b:1::/96 we cannot tell where the IPv4 sits (RFC 6052 §2.2 places it by the prefix
  //   length), but a translator gives each IPv4 client one address of its own: the whole address
  //   keeps the clients apart where the /64 would merge every client of a /64 or /96 prefix.
  const reserved = (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0) || (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1);
  if (reserved) return formatIpv6(g);
  return `${g.slice(0, 4).map((n) => n.toString(16)).join(':')}::/64`;
}

/**
 * A group value as `normalize_group` compares it: an IP address by
 * {@link canonicalIp}; another string in Unicode compatibility form (NFKC),
 * without format characters, with runs of white space as one space, trimmed
 * and in lower case; a number as its decimal text (`42` and `"42"` are one
 * account); anything else as is.
 *
 * @example
 * normalizeGroupValue(' ＡLICE\u200b ') // 'alice'
 * normalizeGroupValue(42)              // '42'
 */
export function normalizeGroupValue(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || PLAIN.test(value)) return value;
  const ip = value.length <= 64 ? canonicalIp(value.trim()) : undefined;
  if (ip !== undefined) return ip;
  return value.normalize('NFKC').replace(FORMAT, '').replace(SPACES, ' ').trim().toLowerCase();
}
