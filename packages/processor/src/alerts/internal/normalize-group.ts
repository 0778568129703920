/**
 * `normalize_group` of alert rules (DESIGN §9): group values compared the
 * way a login form or a network sees them, not byte for byte, so that an
 * attacker cannot spread attempts over spellings of one account or
 * addresses of one host. The failed-login, brute-force and rate-limit
 * built-ins use it: otherwise `Alice`, `alice `, `ａｌｉｃｅ` (full width) and
 * `al\u200bice` would each get their own five tries, and a host with an IPv6
 * /64 (any cloud VM) a fresh address per request.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Format characters (zero-width space and joiners, soft hyphen, bidi controls). */
const FORMAT = /\p{Cf}/gu;
const SPACES = /\s+/g;
/** Already normal: printable ASCII without upper case, spaces or dots that could start an IPv4 address. */
const PLAIN = /^[a-z_@+-][a-z0-9._@+-]*$/;

/** The eight 16-bit groups of a valid IPv6 address text (zone id ignored). */
function ipv6Groups(text: string): number[] {
  const zone = text.indexOf('%');
  let ip = zone >= 0 ? text.slice(0, zone) : text;
  const lastColon = ip.lastIndexOf(':');
  const tail = ip.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    ip = `${ip.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = ip.split('::');
  const parse = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const gap = halves.length === 2 ? 8 - head.length - rest.length : 0;
  return [...head, ...new Array<number>(gap).fill(0), ...rest];
}

/**
 * The canonical form of an IP address text, or `undefined` when it is none:
 * IPv4 as is; an IPv6 address that carries an IPv4 client (mapped
 * `::ffff:0:0/96`, NAT64 `64:ff9b::/96`, compatible `::/96`) as its IPv4;
 * another IPv6 address as its /64 network (`2001:db8:0:1::/64`).
 *
 * @example
 * canonicalIp('::FFFF:203.0.113.9') // '203.0.113.9'
 * canonicalIp('2001:DB8:0:1:a:b:c:d') // '2001:db8:0:1::/64'
 */
export function canonicalIp(text: string): string | undefined {
  if (isIPv4(text)) return text;
  if (!isIPv6(text)) return undefined;
  const g = ipv6Groups(text);
  const zero2to5 = g[2] === 0 && g[3] === 0 && g[4] === 0;
  // An IPv4 client behind IPv6: mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or the old
  // compatible form (::a.b.c.d, not :: or ::1) — else all of them would share one /64.
  const mapped = g[0] === 0 && g[1] === 0 && zero2to5 && g[5] === 0xffff;
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && zero2to5 && g[5] === 0;
  const compatible = g[0] === 0 && g[1] === 0 && zero2to5 && g[5] === 0 && g[6] !== 0;
  if (mapped || nat64 || compatible) return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
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
