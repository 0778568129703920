/** IP address texts: Node's validation, IPv6 groups, the IPv4 forms embedded in IPv6, RFC 5952 text. */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { embeddedIpv4, formatIpv6, parseIpAddress } from '../src/ip-address.js';

const groupsOf = (text: string): readonly number[] => {
  const ip = parseIpAddress(text);
  if (ip?.family !== 6) throw new Error(`${text} is not IPv6`);
  return ip.groups;
};

describe('parseIpAddress', () => {
  it('parses IPv4 into octets and IPv6, in every spelling, into eight groups and a zone', () => {
    expect(parseIpAddress('203.0.113.9')).toEqual({ family: 4, octets: [203, 0, 113, 9] });
    expect(parseIpAddress('::FFFF:203.0.113.9')).toEqual({ family: 6, groups: [0, 0, 0, 0, 0, 0xffff, 0xcb00, 0x7109], zone: undefined });
    expect(parseIpAddress('fe80::1%eth0')).toEqual({ family: 6, groups: [0xfe80, 0, 0, 0, 0, 0, 0, 1], zone: 'eth0' });
    expect(groupsOf('2001:db8::')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
    expect(groupsOf('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(groupsOf('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(groupsOf('1:2:3:4:5:6:1.2.3.4')).toEqual([1, 2, 3, 4, 5, 6, 0x102, 0x304]);
  });

  it('takes exactly what node:net takes for an address', () => {
    const texts = ['1.2.3.4', '01.2.3.4', '1.2.3.4:80', '[::1]', '[::1]:443', ' ::1', '::1 ', '1::2::3', '::ffff:256.0.0.1', 'fe80::1%', 'localhost', '', '1:2:3:4:5:6:7:8:9', ':::'];
    for (const text of texts) expect([text, parseIpAddress(text)?.family ?? 0]).toEqual([text, isIP(text)]);
  });
});

describe('embeddedIpv4', () => {
  it.each([
    ['::ffff:198.51.100.7', 'mapped'],
    ['0:0:0:0:0:ffff:c633:6407', 'mapped'],
    ['64:ff9b::198.51.100.7', 'nat64'],
    ['64:ff9b:1::c633:6407', 'nat64-local'],
    ['::198.51.100.7', 'compatible'],
  ])('reads %s as %s', (text, form) => {
    expect(embeddedIpv4(groupsOf(text))).toEqual({ form, ipv4: '198.51.100.7' });
  });

  it.each([
    ['the unspecified address', '::'],
    ['the loopback', '::1'],
    ['a compatible form inside 0.0.0.0/8', '::0.0.1.2'],
    ['another compatible form inside 0.0.0.0/8', '::0.255.1.2'],
    ['the local-use prefix beyond its first /96', '64:ff9b:1:5::c633:6407'],
    ['the well-known prefix beyond its /96', '64:ff9b::1:0:0:1'],
    ['an ordinary address', '2001:db8::c633:6407'],
  ])('finds no IPv4 in %s (%s)', (_name, text) => {
    expect(embeddedIpv4(groupsOf(text))).toBeUndefined();
  });

  it('refuses a group list that is not eight long', () => {
    expect(() => embeddedIpv4([0, 0, 1])).toThrow(RangeError);
  });
});

describe('formatIpv6', () => {
  // RFC 5952 §4: lower case, no leading zeros, the longest zero run (the first of equals, at least two groups) as ::.
  it.each([
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::0.0.1.2', '::102'],
    // §5: an embedded IPv4 address in the mixed notation.
    ['::FFFF:cb00:7109', '::ffff:203.0.113.9'],
    ['64:ff9b::c633:6407', '64:ff9b::198.51.100.7'],
    ['64:ff9b:1::c633:6407', '64:ff9b:1::198.51.100.7'],
    ['::1.2.3.4', '::1.2.3.4'],
  ])('writes %s as %s', (text, formatted) => {
    expect(formatIpv6(groupsOf(text))).toBe(formatted);
    expect(isIP(formatted)).toBe(6);
  });
});
