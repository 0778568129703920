/**
 * node:http end to end: a real server on 127.0.0.1:0 under the real SDK,
 * the audit instrumentation and processor; what a user of the service
 * notices (status, body, headers) and what lands in the audit sink.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { createAuditLogger, setAuditActor } from '../src/index.js';
import { jwt, rid, setupPipeline, tick, type Pipeline } from './helpers.js';

let pipe: Pipeline;
let server: Server;
let base: string;

const POLICY = {
  rules: [
    { match: { path: '/healthz' }, level: 'none' as const },
    { match: { path: '/auth/login', methods: ['POST'] }, level: 'metadata' as const, type: 'auth', action: 'login' },
    { match: { path: '/admin/tools/:id' }, level: 'request' as const, type: 'admin', target: 'tool' },
    { match: { path: '/admin/**' }, level: 'metadata' as const, type: 'admin' },
    { match: { path: '/reset/:token' }, level: 'metadata' as const, type: 'auth', action: 'reset', target: 'reset' },
    { match: { path: '/**', methods: ['GET', 'HEAD'] }, level: 'none' as const },
    { match: { path: '/**' }, level: 'metadata' as const },
  ],
};

function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const status = Number(url.searchParams.get('status') ?? 200);
  if (url.pathname === '/auth/login') {
    const ok = req.headers['x-password'] === 'right';
    if (ok) setAuditActor(req, 'alice');
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'x-app': 'demo' });
    res.end(JSON.stringify({ ok }));
    return;
  }
  if (url.pathname === '/admin/nested') {
    // The app logs from two spans down (a handler span, then a database span), as frameworks and ORMs nest them.
    const tracer = trace.getTracer('app');
    tracer.startActiveSpan('handler', (h) => tracer.startActiveSpan('db', async (db) => {
      const receipt = await createAuditLogger({ loggerProvider: pipe.loggerProvider }).change({ actor: 'alice', target: { type: 'tool', id: 'n1' }, old: { a: 1 }, new: { a: 2 } });
      db.end();
      h.end();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: receipt.id }));
    }));
    return;
  }
  if (url.pathname === '/slow-abort') {
    req.socket.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'x-app': 'demo' });
  res.end(JSON.stringify({ path: url.pathname, status }));
}

beforeAll(async () => {
  pipe = await setupPipeline(POLICY, { trustedProxies: ['10.0.0.0/8'], apiKeyHmacKey: 'k'.repeat(32) });
  server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await pipe.shutdown();
});

async function get(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await fetch(base + path, init);
  const body = await res.text();
  return { res, body };
}

/** A request sent as written (fetch would normalise the path). */
function rawRequest(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('node:http + AuditSpanProcessor', () => {
  it('records an audited route at metadata level with actor, ip, request id, trace ids', async () => {
    const id = rid('meta');
    const { res, body } = await get('/admin/users?x=1', { headers: { 'x-request-id': id, 'user-agent': 'vitest/1' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(body)).toEqual({ path: '/admin/users', status: 200 });
    expect(res.headers.get('x-request-id')).toBe(id);
    expect(res.headers.get('x-app')).toBe('demo');
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({
      type: 'admin',
      action: 'view',
      outcome: 'success',
      severity: 'info',
      actor: { type: 'anonymous', ip: '127.0.0.1', user_agent: 'vitest/1' },
      request: { id, endpoint: '/admin/users', method: 'GET' },
      details: { status_code: 200, actor_source: 'anonymous' },
    });
    expect(r.request?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.request?.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(r.details).not.toHaveProperty('body');
  });

  it('level none: not recorded, but the request id is still echoed', async () => {
    const before = pipe.records().length;
    const { res } = await get('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await get('/public/page');
    const id = rid('after-none');
    await get('/admin/x', { headers: { 'x-request-id': id } });
    await pipe.recordOf(id);
    expect(pipe.records().length).toBe(before + 1);
  });

  it('generates a request id when absent or unusable, and echoes it', async () => {
    const { res } = await get('/admin/gen', { headers: { 'x-request-id': 'has space ' + 'x'.repeat(200) } });
    const echoed = res.headers.get('x-request-id')!;
    expect(echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    const r = await pipe.recordOf(echoed);
    expect(r.request?.endpoint).toBe('/admin/gen');
  });

  it('request level: target from the rule and its :id parameter', async () => {
    const id = rid('tool');
    await get('/admin/tools/hammer-7', { method: 'DELETE', headers: { 'x-request-id': id } });
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ type: 'admin', action: 'delete', target: { type: 'tool', id: 'hammer-7' } });
  });

  it('a token in the path (/reset/:token) is masked in request.endpoint and listed in redacted, never the target id', async () => {
    const id = rid('reset');
    const token = 'rst0a1b2c3d4e5f6g7h8';
    const { res } = await get(`/reset/${token}`, { headers: { 'x-request-id': id } });
    expect(res.status).toBe(200);
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ type: 'auth', action: 'reset', target: { type: 'reset' }, request: { endpoint: '/reset/***' } });
    expect(r.target).not.toHaveProperty('id');
    expect(r.redacted).toContain('/request/endpoint');
    expect(JSON.stringify(r)).not.toContain(token);
  });

  it('the server span carries no credential either: url.path masked like the record, secret-named query parameters masked in url.query', async () => {
    const id = rid('reset-span');
    const token = 'rst9z8y7x6w5v4u3t2s1';
    const apiKey = 'q9w8e7r6t5y4u3i2';
    const { res } = await get(`/reset/${token}?api_key=${apiKey}&sig=abc&lang=en`, { headers: { 'x-request-id': id } });
    expect(res.status).toBe(200);
    await pipe.recordOf(id);
    expect(pipe.spans.getFinishedSpans().map((s) => s.attributes)).toContainEqual(expect.objectContaining({ 'url.path': '/reset/***', 'url.query': 'api_key=***&sig=***&lang=en' }));
    for (const s of pipe.spans.getFinishedSpans()) {
      expect(JSON.stringify(s.attributes)).not.toContain(token);
      expect(JSON.stringify(s.attributes)).not.toContain(apiKey);
    }
    // A path without credentials keeps the instrumentation's own attributes.
    const plain = rid('plain-span');
    await get('/admin/tools/hammer-9?lang=en', { headers: { 'x-request-id': plain } });
    await pipe.recordOf(plain);
    expect(pipe.spans.getFinishedSpans().map((s) => s.attributes)).toContainEqual(expect.objectContaining({ 'url.path': '/admin/tools/hammer-9', 'url.query': 'lang=en' }));
  });

  it('login success and failure', async () => {
    const ok = rid('login-ok');
    const bad = rid('login-bad');
    expect((await get('/auth/login', { method: 'POST', headers: { 'x-request-id': ok, 'x-password': 'right' } })).res.status).toBe(200);
    expect((await get('/auth/login', { method: 'POST', headers: { 'x-request-id': bad, 'x-password': 'wrong' } })).res.status).toBe(401);
    expect(await pipe.recordOf(ok)).toMatchObject({ type: 'auth', action: 'login', outcome: 'success', actor: { id: 'alice', type: 'user' } });
    const failed = await pipe.recordOf(bad);
    expect(failed).toMatchObject({ type: 'auth', action: 'login', outcome: 'failure', severity: 'warning', actor: { type: 'anonymous' }, details: { decision: 'deny', reason: 'unauthenticated' } });
    expect(JSON.stringify(failed)).not.toContain('wrong');
  });

  it('401/403/429/5xx map to outcome and severity; 429 becomes security/rate_limit', async () => {
    const cases = [
      [401, { outcome: 'failure', severity: 'warning', type: 'admin', details: { decision: 'deny', reason: 'unauthenticated' } }],
      [403, { outcome: 'failure', severity: 'warning', type: 'admin', details: { decision: 'deny', reason: 'forbidden' } }],
      [429, { outcome: 'failure', severity: 'warning', type: 'security', action: 'rate_limit', details: { requested: { type: 'admin', action: 'create' } } }],
      [404, { outcome: 'failure', severity: 'info', type: 'admin' }],
      [500, { outcome: 'error', severity: 'error', type: 'admin', error: 'HTTP 500' }],
      [503, { outcome: 'error', severity: 'error', type: 'admin', error: 'HTTP 503' }],
    ] as const;
    for (const [status, expected] of cases) {
      const id = rid(`s${status}`);
      const { res } = await get(`/admin/op?status=${status}`, { method: 'POST', headers: { 'x-request-id': id } });
      expect(res.status).toBe(status);
      expect(await pipe.recordOf(id)).toMatchObject({ ...expected, details: { status_code: status, ...('details' in expected ? expected.details : {}) } });
    }
  });

  it('a spoofed X-Forwarded-For from an untrusted peer is ignored', async () => {
    const id = rid('xff');
    await get('/admin/spoof', { headers: { 'x-request-id': id, 'x-forwarded-for': '203.0.113.9', forwarded: 'for=198.51.100.1' } });
    const r = await pipe.recordOf(id);
    expect(r.actor?.ip).toBe('127.0.0.1');
  });

  it('an unsampled traceparent cannot opt out of the audit', async () => {
    const id = rid('unsampled');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = pipe.spans.getFinishedSpans().length;
    await get('/admin/secret', { headers: { 'x-request-id': id, traceparent: `00-${traceId}-00f067aa0ba902b7-00` } });
    const r = await pipe.recordOf(id);
    expect(r.request?.trace_id).toBe(traceId);
    // Tracing itself is unchanged: the span is recorded for the audit but not sampled, so not exported.
    await tick(20);
    expect(pipe.spans.getFinishedSpans().slice(before).some((s) => s.spanContext().traceId === traceId)).toBe(false);
  });

  it('actor from an unverified JWT sub and from an API key fingerprint; credentials never recorded', async () => {
    const a = rid('jwt');
    const token = jwt({ sub: 'user-42', role: 'admin' });
    await get('/admin/jwt', { headers: { 'x-request-id': a, authorization: `Bearer ${token}` } });
    const rj = await pipe.recordOf(a);
    expect(rj.actor).toMatchObject({ id: 'user-42', type: 'user' });
    expect(rj.details).toMatchObject({ actor_source: 'jwt_unverified' });
    expect(JSON.stringify(rj)).not.toContain(token.split('.')[1]!);

    // The client writes an unverified sub: a credential in it is masked, and the record says so.
    const c = rid('jwt-cred');
    await get('/admin/jwt', { headers: { 'x-request-id': c, authorization: `Bearer ${jwt({ sub: 'ghp_0123456789abcdefghijABCDEFGHIJ012345' })}` } });
    const d = rid('jwt-pair');
    await get('/admin/jwt', { headers: { 'x-request-id': d, authorization: `Bearer ${jwt({ sub: 'alice password=hunter2hunter2' })}` } });
    const [rc, rd] = [await pipe.recordOf(c), await pipe.recordOf(d)];
    expect([rc.actor?.id, rd.actor?.id]).toEqual(['ghp_***', 'alice password=***']);
    expect(rc.details).toMatchObject({ actor_source: 'jwt_unverified' });
    expect([rc.redacted, rd.redacted]).toEqual([['/actor/id'], ['/actor/id']]);

    const b = rid('key');
    const apiKey = 'sk_live_abcdefghijklmnop';
    await get('/admin/key', { headers: { 'x-request-id': b, 'x-api-key': apiKey } });
    const rk = await pipe.recordOf(b);
    expect(rk.actor?.type).toBe('api_key');
    expect(rk.actor?.id).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const text = JSON.stringify(rk);
    expect(text).not.toContain(apiKey);
    expect(text).not.toContain('sk_live');
  });

  it('hostile headers and paths: huge user agent, control characters, traversal, malformed escapes', async () => {
    const id = rid('hostile');
    const status = await rawRequest('/x/../admin//./%61dmin-tools/%E0%A4%A', { 'x-request-id': id, 'user-agent': 'A\tB' + 'u'.repeat(12_000) });
    expect(status).toBe(200);
    const r = await pipe.recordOf(id);
    expect(r.type).toBe('admin');
    expect(r.request?.endpoint).toBe('/admin/admin-tools/%E0%A4%A');
    expect(r.actor?.user_agent?.length).toBeLessThanOrEqual(512);
    expect(r.actor?.user_agent?.startsWith('A\ufffdB')).toBe(true);
  });

  it('a malformed request line gets the server 400, and the server keeps serving', async () => {
    const port = (server.address() as AddressInfo).port;
    const reply = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write('GET /admin/x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'));
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const id = rid('after-bad');
    expect((await get('/admin/ok', { headers: { 'x-request-id': id } })).res.status).toBe(200);
    await pipe.recordOf(id);
  });

  it('a connection closed before any response is recorded with outcome unknown', async () => {
    const id = rid('abort');
    await expect(fetch(base + '/admin/../slow-abort', { method: 'POST', headers: { 'x-request-id': id } })).rejects.toThrow();
    const r = await pipe.recordOf(id);
    expect(r.outcome).toBe('unknown');
  });

  it('a record the app logs from a span nested below the server span carries the request id', async () => {
    const { res, body } = await get('/admin/nested', { method: 'POST', headers: { 'x-request-id': 'nested-1' } });
    expect(res.status).toBe(200);
    const http = await pipe.recordOf('nested-1');
    const explicit = pipe.records().find((r) => r.id === (JSON.parse(body) as { id: string }).id)!;
    expect(explicit.request?.id).toBe('nested-1');
    expect(explicit.request?.trace_id).toBe(http.request?.trace_id);
    expect(explicit.request?.span_id).not.toBe(http.request?.span_id); // logged in the db span, two levels down
  });

  it('every record chains in the sink', async () => {
    const recs = pipe.sink.records.map((x) => x.record);
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.seq).toBe(recs[i - 1]!.seq + 1);
  });
});
