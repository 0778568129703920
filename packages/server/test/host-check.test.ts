/**
 * DNS rebinding protection (src/internal/host-check.ts): on loopback the
 * server answers only requests whose Host is a loopback name — a page whose
 * name was re-pointed at 127.0.0.1 gets a 421 naming the fix, for the
 * dashboard and the API alike — and `allowedHosts` adds names, then
 * checked wherever a request arrives. Real server on 127.0.0.1:0, requests
 * with the Host a rebinding browser would send.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAuditServer } from '../src/index.js';
import { AUDITOR_TOKEN, fixturesPerTest, TOKENS } from './helpers.js';

const fixture = fixturesPerTest();

/** GET `path` from `url` with the Host header `host` (fetch does not let a page set it; a rebinding browser sends the attacker's name). */
function getWithHost(url: string, path: string, host: string, token?: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Host check', () => {
  it('on loopback, refuses a foreign Host with 421 naming the fix, for the dashboard and the API', async () => {
    const fx = await fixture(3);
    for (const path of ['/', '/api/audit/logs']) {
      const res = await getWithHost(fx.url, path, 'attacker.example:4319', AUDITOR_TOKEN);
      expect(res.status, path).toBe(421);
      const { error } = JSON.parse(res.body);
      expect(error.code).toBe('AUDIT_HTTP_MISDIRECTED');
      expect(error.message).toMatch(/"attacker\.example:4319".*DNS rebinding.*allowedHosts \(otel-audit serve --allowed-host NAME\)/);
    }
    for (const host of ['localhost', `localhost:${new URL(fx.url).port}`, '127.0.0.1:1', '127.8.9.10', '[::1]:4319', 'LOCALHOST']) {
      expect((await getWithHost(fx.url, '/api/audit/logs', host, AUDITOR_TOKEN)).status, host).toBe(200);
    }
  });

  it('answers the names in allowedHosts, and refuses an invalid entry at creation', async () => {
    const fx = await fixture(3, { allowedHosts: ['Audit.Example.com'] });
    expect((await getWithHost(fx.url, '/api/audit/logs', 'audit.example.com:443', AUDITOR_TOKEN)).status).toBe(200);
    expect((await getWithHost(fx.url, '/api/audit/logs', '127.0.0.1', AUDITOR_TOKEN)).status).toBe(200);
    const other = await getWithHost(fx.url, '/api/audit/logs', 'evil.example.com', AUDITOR_TOKEN);
    expect(other.status).toBe(421);
    expect(JSON.parse(other.body).error.message).toMatch(/not among the server's allowed hosts \(audit\.example\.com\)/);
    expect(() => createAuditServer({ store: fx.store, tokens: TOKENS, allowedHosts: ['audit.example.com:443'] })).toThrow(/options\.allowedHosts holds "audit\.example\.com:443"; give a host name or IP address without a port/);
  });
});
