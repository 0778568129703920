/** Client IP resolution: the socket peer, forwarded headers only from trusted proxies. */
import { describe, expect, it } from 'vitest';
import { createClientIpResolver, normalizeIp } from '../../src/internal/client-ip.js';

describe('client IP', () => {
  it('normalises addresses', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(normalizeIp('"10.0.0.1:8080"')).toBe('10.0.0.1');
    expect(normalizeIp('unknown')).toBeUndefined();
    expect(normalizeIp('_hidden')).toBeUndefined();
  });

  it('writes one spelling per client, whatever a trusted proxy wrote', () => {
    const r = createClientIpResolver(['10.0.0.0/8']);
    const via = (xff: string) => r('10.0.0.2', { 'x-forwarded-for': xff });
    // Mapped IPv4 in every spelling is the IPv4 address.
    for (const spelling of ['::ffff:203.0.113.9', '::FFFF:cb00:7109', '0:0:0:0:0:ffff:203.0.113.9', '[::ffff:203.0.113.9]:8443']) expect(via(spelling)).toBe('203.0.113.9');
    // Other IPv6 in RFC 5952 text: lower case, no leading zeros, the longest zero run as ::.
    for (const spelling of ['2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', '[2001:db8:0:0::1]:443']) expect(via(spelling)).toBe('2001:db8::1');
    expect(normalizeIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1%eth0');
    // NAT64 is no mapped address: the translator's IPv6 address stays, its IPv4 part dotted (RFC 5952 §5).
    expect(normalizeIp('64:ff9b::c633:6407')).toBe('64:ff9b::198.51.100.7');
    expect(normalizeIp('::ffff:1.2.3.4%eth0')).toBe('::ffff:1.2.3.4%eth0');
  });

  it('ignores forwarded headers from an untrusted peer', () => {
    const r = createClientIpResolver(['10.0.0.0/8']);
    expect(r('203.0.113.5', { 'x-forwarded-for': '1.2.3.4' })).toBe('203.0.113.5');
    expect(createClientIpResolver()('::ffff:203.0.113.5', { 'x-forwarded-for': '1.2.3.4' })).toBe('203.0.113.5');
  });

  it('walks X-Forwarded-For right to left past trusted proxies', () => {
    const r = createClientIpResolver(['10.0.0.0/8', '192.168.1.1']);
    expect(r('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 192.168.1.1' })).toBe('198.51.100.7');
    expect(r('10.0.0.2', { 'x-forwarded-for': ['6.6.6.6', '198.51.100.8'] })).toBe('198.51.100.8');
    expect(r('10.0.0.2', { 'x-forwarded-for': '10.1.1.1' })).toBe('10.1.1.1');
    expect(r('10.0.0.2', { 'x-forwarded-for': '6.6.6.6, garbage' })).toBe('10.0.0.2');
    expect(r('10.0.0.2', {})).toBe('10.0.0.2');
  });

  it('reads Forwarded when there is no X-Forwarded-For', () => {
    const r = createClientIpResolver(['::1']);
    expect(r('::1', { forwarded: 'for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"' })).toBe('2001:db8:cafe::17');
  });

  it('refuses entries that are not addresses or ranges', () => {
    expect(() => createClientIpResolver(['10.0.0.0/33'])).toThrow(/trustedProxies\[0\]/);
    expect(() => createClientIpResolver(['proxy.local'])).toThrow(RangeError);
    expect(() => createClientIpResolver([1 as never])).toThrow(TypeError);
  });
});
