/**
 * Authentication, roles and headers of the API (issue 7 "Authentication
 * required on every /api/audit route"): the auth matrix (no token, bad
 * token, auditor, admin) over every route, stream tickets instead of tokens
 * in URLs (each ticket issued recorded, without the ticket), refused
 * credentials recorded, the security headers, no CORS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../src/index.js';
import { accessRecords, ADMIN_TOKEN, AUDITOR_TOKEN, call, startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => { fx = await startFixture(20); });
afterAll(async () => { await fx.close(); });

const READ_ROUTES = [
  '/api/audit/logs', '/api/audit/stats', '/api/audit/checkpoints', '/api/audit/integrity',
  '/api/audit/export?format=ndjson', '/api/audit/proof?stream=svc%2F1&seq=0',
];

describe('auth matrix', () => {
  it.each(READ_ROUTES)('%s: 401 without a token, 401 with a bad one, 200 for auditor and admin', async (route) => {
    const none = await call(fx, route);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect((await none.json()).error.code).toBe('AUDIT_HTTP_UNAUTHENTICATED');
    expect((await call(fx, route, 'wrong-token')).status).toBe(401);
    expect((await call(fx, route, undefined, { headers: { authorization: `Basic ${ADMIN_TOKEN}` } })).status).toBe(401);
    // The hash itself is not a token.
    expect((await call(fx, route, hashToken(ADMIN_TOKEN))).status).toBe(401);
    const auditor = await call(fx, route, AUDITOR_TOKEN);
    expect(auditor.status).toBe(200);
    await auditor.arrayBuffer();
    const admin = await call(fx, route, ADMIN_TOKEN);
    expect(admin.status).toBe(200);
    await admin.arrayBuffer();
  });

  it('records refused credentials as access failures, without the token', async () => {
    await call(fx, '/api/audit/logs', 'guessed-token-123');
    const refused = accessRecords(fx.store).filter((r) => r.action === 'authenticate');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.at(-1)).toMatchObject({ outcome: 'failure', severity: 'warning', request: { endpoint: '/api/audit/logs' } });
    expect(JSON.stringify(accessRecords(fx.store))).not.toContain('guessed-token-123');
    expect(JSON.stringify(accessRecords(fx.store))).not.toContain(ADMIN_TOKEN);
  });

  it('refuses an unknown route with 404 and a wrong method with 405 and Allow', async () => {
    expect((await call(fx, '/api/audit/nope', ADMIN_TOKEN)).status).toBe(404);
    const post = await call(fx, '/api/audit/logs', ADMIN_TOKEN, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('stream tickets', () => {
  it('issues a ticket only with a bearer token, accepts it once, and refuses a forged or raw-token one', async () => {
    expect((await call(fx, '/api/audit/stream-ticket', undefined, { method: 'POST' })).status).toBe(401);
    const { ticket, expiresAt, name, role } = await (await call(fx, '/api/audit/stream-ticket', AUDITOR_TOKEN, { method: 'POST' })).json();
    expect([name, role]).toEqual(['bob', 'auditor']);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const ac = new AbortController();
    const first = await call(fx, `/api/audit/stream?ticket=${encodeURIComponent(ticket)}`, undefined, { signal: ac.signal });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/event-stream/);
    ac.abort();
    const again = await call(fx, `/api/audit/stream?ticket=${encodeURIComponent(ticket)}`);
    expect(again.status).toBe(401);
    expect((await again.json()).error.message).toContain('already used');
    const [payload] = ticket.split('.');
    expect((await call(fx, `/api/audit/stream?ticket=${payload}.${'A'.repeat(43)}`)).status).toBe(401);
    expect((await call(fx, `/api/audit/stream?ticket=${ADMIN_TOKEN}`)).status).toBe(401);
    expect((await call(fx, '/api/audit/stream')).status).toBe(401);
  });

  it('records each ticket issued (who, role, expiry), never the ticket itself', async () => {
    const before = accessRecords(fx.store).filter((r) => r.action === 'ticket').length;
    const { ticket, expiresAt } = await (await call(fx, '/api/audit/stream-ticket', AUDITOR_TOKEN, { method: 'POST' })).json();
    const issued = accessRecords(fx.store).filter((r) => r.action === 'ticket');
    expect(issued.length).toBe(before + 1);
    expect(issued.at(-1)).toMatchObject({
      type: 'access', outcome: 'success', actor: { id: 'bob', type: 'api_key' }, request: { endpoint: '/api/audit/stream-ticket', method: 'POST' },
      details: { role: 'auditor', expiresAt },
    });
    const text = JSON.stringify(accessRecords(fx.store));
    expect(text).not.toContain(ticket);
    expect(text).not.toContain(ticket.split('.')[1]);
  });
});

describe('headers', () => {
  it('sets CSP without inline script, nosniff, frame denial, no-referrer, and no CORS on every response', async () => {
    for (const [route, token] of [['/', undefined], ['/app.js', undefined], ['/healthz', undefined], ['/api/audit/logs', ADMIN_TOKEN], ['/api/audit/logs', undefined]] as const) {
      const res = await call(fx, route, token, { headers: { origin: 'https://evil.example' } });
      await res.arrayBuffer();
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('serves the dashboard without inline script or style', async () => {
    const html = await (await call(fx, '/')).text();
    expect(html).toContain('<script type="module" src="/app.js"></script>');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style|\son\w+=/i);
    for (const file of ['/app.js', '/dom.js', '/chart.js', '/purged.js']) {
      const js = await (await call(fx, file)).text();
      expect(js.length, file).toBeGreaterThan(500);
      expect(js, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    }
  });

  it('answers /healthz without a token and does not audit it', async () => {
    const before = accessRecords(fx.store).length;
    expect(await (await call(fx, '/healthz')).json()).toEqual({ status: 'ok' });
    expect(accessRecords(fx.store).length).toBe(before);
  });
});
