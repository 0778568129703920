/**
 * Fastify end to end: the adapter gives the route template, parameters and
 * parsed body; errors are Fastify's own 500; 401/429 from the app; huge and
 * malformed bodies are Fastify's 413/400, audited; fail_closed answers 503.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFastifyAudit } from '../src/index.js';
import { rid, setupPipeline, type Pipeline } from './helpers.js';

let pipe: Pipeline;
let app: FastifyInstance;
let base: string;
let healthy = true;

beforeAll(async () => {
  pipe = await setupPipeline({
    rules: [
      { match: { path: '/admin/tools/:id' }, level: 'request', type: 'admin', target: 'tool' },
      { match: { path: '/admin/**' }, level: 'metadata', type: 'admin' },
      { match: { path: '/**' }, level: 'none' },
    ],
  });
  app = Fastify({ bodyLimit: 10_000 });
  registerFastifyAudit(app, { health: () => healthy });
  app.addHook('preHandler', async (request) => {
    const u = request.headers['x-test-user'];
    if (typeof u === 'string') (request as unknown as { user: unknown }).user = { username: u };
  });
  app.post('/admin/tools/:id', async (request) => ({ got: request.body }));
  app.get('/admin/denied', async (_request, reply) => reply.code(403).send({ error: 'forbidden' }));
  app.get('/admin/limited', async (_request, reply) => reply.code(429).send({ error: 'slow down' }));
  app.get('/admin/boom', async () => {
    throw new Error('secret detail');
  });
  app.get('/admin/typed-boom', async () => {
    throw new TypeError('cannot connect to postgres://app:hunter2@db/app');
  });
  app.get('/open', async () => 'open');
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  expect((app.server.address() as AddressInfo).port).toBeGreaterThan(0);
});

afterAll(async () => {
  await app.close();
  await pipe.shutdown();
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(base + path, { method, headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers, ...(body !== undefined ? { body } : {}) });
  return { res, text: await res.text() };
}

describe('Fastify adapter', () => {
  it('route template, params, user and body at request level', async () => {
    const id = rid('fy-post');
    const { res, text } = await call('POST', '/admin/tools/k9', { 'x-request-id': id, 'x-test-user': 'zoe' }, JSON.stringify({ color: 'red', api_key: 'abc' }));
    expect(res.status).toBe(200);
    expect(JSON.parse(text)).toEqual({ got: { color: 'red', api_key: 'abc' } });
    expect(res.headers.get('x-request-id')).toBe(id);
    expect(await pipe.recordOf(id)).toMatchObject({
      type: 'admin', action: 'create', outcome: 'success',
      actor: { id: 'zoe', type: 'user' },
      target: { type: 'tool', id: 'k9' },
      details: { route: '/admin/tools/:id', body: { color: 'red', api_key: '[REDACTED]' } },
    });
  });

  it('403, 429 and a thrown error', async () => {
    const d = rid('fy-403');
    const l = rid('fy-429');
    const b = rid('fy-500');
    expect((await call('GET', '/admin/denied', { 'x-request-id': d })).res.status).toBe(403);
    expect((await call('GET', '/admin/limited', { 'x-request-id': l })).res.status).toBe(429);
    const boom = await call('GET', '/admin/boom', { 'x-request-id': b });
    expect(boom.res.status).toBe(500);
    expect(JSON.parse(boom.text)).toMatchObject({ statusCode: 500, message: 'secret detail' }); // Fastify's own answer, unchanged
    expect(await pipe.recordOf(d)).toMatchObject({ outcome: 'failure', details: { decision: 'deny', reason: 'forbidden' } });
    expect(await pipe.recordOf(l)).toMatchObject({ type: 'security', action: 'rate_limit', outcome: 'failure' });
    const rb = await pipe.recordOf(b);
    expect(rb).toMatchObject({ outcome: 'error', error: 'HTTP 500 (Error)' });
    expect(JSON.stringify(rb)).not.toContain('secret detail');
  });

  it('a thrown TypeError: the record names the type, never the message; Fastify answers as it would anyway', async () => {
    const id = rid('fy-typed');
    const { res, text } = await call('GET', '/admin/typed-boom', { 'x-request-id': id });
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toMatchObject({ statusCode: 500, error: 'Internal Server Error', message: 'cannot connect to postgres://app:hunter2@db/app' });
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ outcome: 'error', error: 'HTTP 500 (TypeError)' });
    expect(JSON.stringify(r)).not.toMatch(/hunter2|postgres|cannot connect/);
  });

  it('huge and malformed bodies: Fastify’s 413/400, audited without the body', async () => {
    const h = rid('fy-413');
    const m = rid('fy-400');
    expect((await call('POST', '/admin/tools/k1', { 'x-request-id': h }, JSON.stringify({ x: 'z'.repeat(50_000) }))).res.status).toBe(413);
    expect((await call('POST', '/admin/tools/k1', { 'x-request-id': m }, '{bad json')).res.status).toBe(400);
    const rh = await pipe.recordOf(h);
    expect(rh).toMatchObject({ outcome: 'failure', details: { status_code: 413 } });
    expect(rh.details).not.toHaveProperty('body');
    expect(await pipe.recordOf(m)).toMatchObject({ outcome: 'failure', details: { status_code: 400 } });
  });

  it('fail_closed: 503 on audited routes only', async () => {
    healthy = false;
    try {
      const id = rid('fy-503');
      const r = await call('GET', '/admin/denied', { 'x-request-id': id });
      expect(r.res.status).toBe(503);
      expect(JSON.parse(r.text)).toMatchObject({ error: 'audit_unavailable' });
      expect((await call('GET', '/open')).text).toBe('open');
      expect(await pipe.recordOf(id)).toMatchObject({ outcome: 'error', details: { refused: expect.any(String) } });
    } finally {
      healthy = true;
    }
  });
});
