/**
 * Express end to end: the adapter gives the route template, parameters,
 * authenticated user and parsed body; explicit calls inside a handler share
 * the request's trace; errors thrown by the app are audited and the app's
 * responses are what Express would send anyway; fail_closed answers 503.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditExpress, auditExpressErrors, createAuditLogger, setAuditContext } from '../src/index.js';
import { rid, setupPipeline, type Pipeline } from './helpers.js';

let pipe: Pipeline;
let server: Server;
let base: string;
let healthy = true;

const RULES = {
  rules: [
    { match: { path: '/api/tools/:toolId' }, level: 'request' as const, type: 'admin', target: { type: 'tool', idParam: 'toolId' } },
    { match: { path: '/api/**' }, level: 'metadata' as const, type: 'api' },
    { match: { path: '/**' }, level: 'none' as const },
  ],
};

beforeAll(async () => {
  pipe = await setupPipeline(RULES, { maxBodyLength: 2000 });
  const audit = createAuditLogger({ loggerProvider: pipe.loggerProvider });
  const app = express();
  app.use(auditExpress({ health: () => healthy }));
  app.use(express.json({ limit: '50kb' }));
  app.use((req, _res, next) => {
    const user = req.header('x-test-user');
    if (user !== undefined) (req as unknown as { user: unknown }).user = { id: user, name: 'Test' };
    next();
  });
  const tools = new Map<string, Record<string, unknown>>([['t1', { name: 'saw', owner: 'ann' }]]);
  app.get('/api/tools/:toolId', (req, res) => {
    const tool = tools.get(req.params.toolId);
    if (tool === undefined) return void res.status(404).json({ error: 'not found' });
    res.json(tool);
  });
  app.put('/api/tools/:toolId', async (req, res) => {
    const before = tools.get(req.params.toolId);
    const after = { ...(before ?? {}), ...(req.body as object) };
    tools.set(req.params.toolId, after);
    const receipt = await audit.change({ actor: { id: 'handler' }, target: { type: 'tool', id: req.params.toolId }, old: before, new: after });
    res.json({ seq: receipt.seq });
  });
  app.delete('/api/tools/:toolId', (req, res) => {
    tools.delete(req.params.toolId);
    res.status(204).end();
  });
  app.post('/api/boom', () => {
    throw new Error('database password=hunter2 unreachable');
  });
  app.get('/api/context', (req, res) => {
    setAuditContext(req, { target: { type: 'report', id: 'r9' }, sessionId: 's-1', details: { rows: 12 } });
    res.json({ ok: true });
  });
  // An app that records the client's body as details, then refuses.
  app.post('/api/orders/refuse', (req, res) => {
    setAuditContext(req, { details: req.body as Record<string, unknown> });
    res.status(403).json({ error: 'forbidden' });
  });
  // A route parameter the policy's pattern (/api/**) does not name.
  app.get('/api/invites/:inviteCode/accept', (_req, res) => void res.json({ ok: true }));
  app.get('/public', (_req, res) => void res.send('hello'));
  app.get('/api/typed-boom', (req) => {
    throw new TypeError(`cannot read the row of ${req.query.conn ?? 'postgres://app:hunter2@db/app'}`);
  });
  // Errors passed on to an error handler of the app's own, after the audit's.
  const failing = express.Router();
  failing.get('/api/handled-boom', (_req, _res, next) => next(new RangeError('limit password=hunter2')));
  app.use(failing);
  app.use(auditExpressErrors());
  app.use('/api/handled-boom', (err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(502).json({ failed: err.name }));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await pipe.shutdown();
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(base + path, { method, headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers, ...(body !== undefined ? { body } : {}) });
  return { res, text: await res.text() };
}

describe('Express adapter', () => {
  it('route template, params, user and the parsed body at request level', async () => {
    const id = rid('ex-put');
    const { res, text } = await call('PUT', '/api/tools/t1', { 'x-request-id': id, 'x-test-user': 'u-5' }, JSON.stringify({ owner: 'bob', password: 'p4ss' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(id);
    const http = await pipe.recordOf(id);
    expect(http).toMatchObject({
      type: 'admin', action: 'update', outcome: 'success',
      actor: { id: 'u-5', type: 'user' },
      target: { type: 'tool', id: 't1' },
      details: { route: '/api/tools/:toolId', actor_source: 'framework', body: { owner: 'bob', password: '[REDACTED]' } },
    });
    expect(JSON.stringify(http)).not.toContain('p4ss');
    // The explicit change() in the handler: old/new, and the same trace as the HTTP record.
    const change = pipe.records().find((r) => r.type === 'crud' && r.seq === JSON.parse(text).seq)!;
    expect(change).toMatchObject({ action: 'update', old: { owner: 'ann' }, new: { owner: 'bob', password: '[REDACTED]' }, details: { changed: ['owner', 'password'] } });
    expect(change.request?.trace_id).toBe(http.request?.trace_id);
    // ...and the request id, so alert rules count the request once.
    expect(change.request?.id).toBe(id);
  });

  it('CRUD: view, delete, 404', async () => {
    const v = rid('ex-view');
    const d = rid('ex-del');
    const n = rid('ex-404');
    expect((await call('GET', '/api/tools/t2', { 'x-request-id': n })).res.status).toBe(404);
    await call('PUT', '/api/tools/t2', {}, '{"name":"drill"}');
    expect((await call('GET', '/api/tools/t2', { 'x-request-id': v })).res.status).toBe(200);
    expect((await call('DELETE', '/api/tools/t2', { 'x-request-id': d })).res.status).toBe(204);
    expect(await pipe.recordOf(v)).toMatchObject({ action: 'view', outcome: 'success', target: { id: 't2' } });
    expect(await pipe.recordOf(d)).toMatchObject({ action: 'delete', outcome: 'success', target: { id: 't2' } });
    expect(await pipe.recordOf(n)).toMatchObject({ action: 'view', outcome: 'failure', target: { id: 't2' } });
  });

  it('a body over the cap is left out, not truncated; malformed JSON is the app’s 400, audited', async () => {
    const big = rid('ex-big');
    const bad = rid('ex-bad');
    const huge = rid('ex-huge');
    expect((await call('PUT', '/api/tools/t3', { 'x-request-id': big }, JSON.stringify({ blob: 'x'.repeat(5000) }))).res.status).toBe(200);
    const malformed = await call('PUT', '/api/tools/t3', { 'x-request-id': bad }, '{"name": ');
    expect(malformed.res.status).toBe(400);
    const tooLarge = await call('PUT', '/api/tools/t3', { 'x-request-id': huge }, JSON.stringify({ blob: 'y'.repeat(100_000) }));
    expect(tooLarge.res.status).toBe(413);
    const rb = await pipe.recordOf(big);
    expect(rb.details).not.toHaveProperty('body');
    expect(rb.details).toMatchObject({ body_omitted: expect.stringMatching(/^larger than 2000/) });
    expect(await pipe.recordOf(bad)).toMatchObject({ outcome: 'failure', details: { status_code: 400 } });
    expect(await pipe.recordOf(huge)).toMatchObject({ outcome: 'failure', details: { status_code: 413 } });
  });

  it('a body refused for a bad member name says why and where, without quoting the client’s member names', async () => {
    const id = rid('ex-badname');
    const name = 'acct-9f2Kq7Lw';
    expect((await call('DELETE', '/api/tools/t4', { 'x-request-id': id }, `{"list": [{"${name}\\ud800": 1}]}`)).res.status).toBe(204);
    const r = await pipe.recordOf(id);
    expect(r.details).not.toHaveProperty('body');
    expect(r.details).toMatchObject({ body_omitted: 'invalid: /details/body/*/0/*: member name contains a lone UTF-16 surrogate' });
    expect(JSON.stringify(r)).not.toContain(name);
  });

  it('a secret-named route parameter of the framework (/invites/:inviteCode) is masked in request.endpoint', async () => {
    const id = rid('ex-invite');
    expect((await call('GET', '/api/invites/inv-7Qx9ZpL2/accept', { 'x-request-id': id })).res.status).toBe(200);
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ type: 'api', request: { endpoint: '/api/invites/***/accept' }, details: { route: '/api/invites/:inviteCode/accept' } });
    expect(r.redacted).toEqual(['/request/endpoint']);
    expect(JSON.stringify(r)).not.toContain('inv-7Qx9ZpL2');
  });

  it('an app that throws: Express answers 500 as usual, the record says error without the message', async () => {
    const id = rid('ex-boom');
    const { res, text } = await call('POST', '/api/boom', { 'x-request-id': id });
    expect(res.status).toBe(500);
    expect(text).toContain('<title>Error</title>'); // Express's own default error page
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ type: 'api', action: 'create', outcome: 'error', severity: 'error', error: 'HTTP 500 (Error)' });
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });

  it('with auditExpressErrors mounted, the record names the exception type (never its message), and the response is what Express or the app makes of it', async () => {
    const id = rid('ex-typed');
    const { res, text } = await call('GET', '/api/typed-boom', { 'x-request-id': id });
    expect(res.status).toBe(500);
    expect(text).toContain('<title>Error</title>'); // still Express's default error page
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ outcome: 'error', error: 'HTTP 500 (TypeError)' });
    expect(JSON.stringify(r)).not.toMatch(/hunter2|postgres|cannot read/);
    const handled = rid('ex-handled');
    const h = await call('GET', '/api/handled-boom', { 'x-request-id': handled });
    expect(h.res.status).toBe(502);
    expect(JSON.parse(h.text)).toEqual({ failed: 'RangeError' }); // the app's own error handler got the error unchanged
    const rh = await pipe.recordOf(handled);
    expect(rh).toMatchObject({ outcome: 'error', error: 'HTTP 502 (RangeError)' });
    expect(JSON.stringify(rh)).not.toContain('hunter2');
  });

  it('setAuditContext sets target, session and details', async () => {
    const id = rid('ex-ctx');
    await call('GET', '/api/context', { 'x-request-id': id });
    expect(await pipe.recordOf(id)).toMatchObject({ target: { type: 'report', id: 'r9' }, request: { session_id: 's-1' }, details: { rows: 12, route: '/api/context' } });
  });

  it('details from the client cannot overwrite what was observed: status, the decision it implies, route, actor source, a fail_closed refusal', async () => {
    const id = rid('ex-spoof');
    const spoof = { status_code: 200, decision: 'allow', route: '/elsewhere', actor_source: 'verified', refused: 'no', reason: 'client says fine', note: 'kept' };
    const { res } = await call('POST', '/api/orders/refuse', { 'x-request-id': id, 'content-type': 'application/json' }, JSON.stringify(spoof));
    expect(res.status).toBe(403);
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ outcome: 'failure', details: { status_code: 403, decision: 'deny', route: '/api/orders/refuse', actor_source: 'anonymous', note: 'kept', reason: 'client says fine' } });
    expect((r as { details: Record<string, unknown> }).details).not.toHaveProperty('refused');
  });

  it('unaudited routes: response unchanged except X-Request-ID, no record', async () => {
    const before = pipe.records().length;
    const { res, text } = await call('GET', '/public');
    expect(res.status).toBe(200);
    expect(text).toBe('hello');
    const names = [...res.headers.keys()].sort();
    expect(names).toEqual(['connection', 'content-length', 'content-type', 'date', 'etag', 'keep-alive', 'x-powered-by', 'x-request-id']);
    await new Promise((r) => setTimeout(r, 50));
    expect(pipe.records().length).toBe(before);
  });

  it('fail_closed: 503 on audited routes while the sink is unhealthy, unaudited routes still served', async () => {
    healthy = false;
    try {
      const id = rid('ex-503');
      const { res, text } = await call('GET', '/api/tools/t1', { 'x-request-id': id });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(JSON.parse(text)).toMatchObject({ error: 'audit_unavailable' });
      expect((await call('GET', '/public')).res.status).toBe(200);
      expect(await pipe.recordOf(id)).toMatchObject({ outcome: 'error', details: { status_code: 503, refused: expect.any(String) } });
    } finally {
      healthy = true;
    }
    expect((await call('GET', '/api/tools/t1')).res.status).toBe(200);
  });
});
