/**
 * Member names that come from the client reach the record as data: a JSON
 * body with a `"__proto__"` member, handed to `setAuditContext` as details or
 * to `audit.change()` as the new value, over a real node:http server on
 * 127.0.0.1 with Express and with Fastify, the real OpenTelemetry SDK and the
 * audit processor over an in-memory sink. The request's HTTP record keeps
 * its actor, endpoint, request id and status — a client cannot turn it into
 * a bare `system/record_rejected` — and the member is stored as a member.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditExpress, createAuditLogger, registerFastifyAudit, setAuditContext } from '../../src/index.js';
import { setOwnMember } from '@otel-audit/core';
import { assignOwnMembers } from '../../src/internal/own-member.js';
import { rid, setupPipeline, type Pipeline } from '../helpers.js';

let pipe: Pipeline;
let server: Server;
let fastify: FastifyInstance;
const base = { express: '', fastify: '' };
const PROTO_BODY = '{"order":"A-2","__proto__":{"isAdmin":true}}';

beforeAll(async () => {
  pipe = await setupPipeline({
    rules: [
      { match: { path: '/api/tools/:id' }, level: 'request', type: 'admin', target: 'tool' },
      { match: { path: '/api/**' }, level: 'metadata', type: 'api' },
      { match: { path: '/**' }, level: 'none' },
    ],
  });
  const audit = createAuditLogger({ loggerProvider: pipe.loggerProvider });
  const tools = new Map<string, Record<string, unknown>>([['t1', { name: 'saw' }]]);
  const app = express();
  app.use(auditExpress());
  app.use(express.json());
  app.use((req, _res, next) => {
    (req as unknown as { user: unknown }).user = { id: req.header('x-test-user') ?? 'nobody' };
    next();
  });
  app.post('/api/ctx', (req, res) => {
    setAuditContext(req, { details: req.body as Record<string, unknown> });
    res.json({ ok: true });
  });
  app.put('/api/tools/:id', async (req, res) => {
    const before = tools.get(req.params.id);
    const after = { ...before, ...(req.body as object) };
    tools.set(req.params.id, after);
    const receipt = await audit.change({ target: { type: 'tool', id: req.params.id }, old: before, new: after });
    res.json({ seq: receipt.seq });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  base.express = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // An app that lets "__proto__" through its JSON parser (Fastify refuses it by default).
  fastify = Fastify({ onProtoPoisoning: 'ignore' });
  registerFastifyAudit(fastify, { user: (request) => ({ id: request.raw.headers['x-test-user'] }) });
  fastify.post('/api/ctx', async (request) => {
    setAuditContext(request, { details: request.body as Record<string, unknown> });
    return { ok: true };
  });
  fastify.post('/api/tools/:id', async (request) => ({ got: request.body }));
  base.fastify = await fastify.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await fastify.close();
  await pipe.shutdown();
});

async function post(url: string, method: string, requestId: string, body: string): Promise<number> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-test-user': 'mallory' }, body });
  await res.text();
  return res.status;
}

/** The stored canonical text of a record: `"__proto__"` must be in it as a member. */
function canonicalOf(id: string): string {
  return pipe.sink.records.find((r) => r.record.id === id)!.canonical;
}

const rejections = () => pipe.sink.records.filter((r) => r.record.type === 'system' && r.record.action === 'record_rejected').length;

describe.each(['express', 'fastify'] as const)('a client "__proto__" member (%s)', (framework) => {
  it('in setAuditContext details: the HTTP record keeps actor, endpoint, request id and status, and the member as data', async () => {
    const id = rid(`${framework}-proto-ctx`);
    const rejectedBefore = rejections();
    expect(await post(`${base[framework]}/api/ctx`, 'POST', id, PROTO_BODY)).toBe(200);
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({
      type: 'api', action: 'create', outcome: 'success',
      actor: { id: 'mallory', type: 'user' },
      request: { id, endpoint: '/api/ctx', method: 'POST' },
      details: { status_code: 200, order: 'A-2' },
    });
    expect(Object.hasOwn(r.details as object, '__proto__')).toBe(true);
    expect(canonicalOf(r.id)).toContain('"__proto__":{"isAdmin":true}');
    expect(rejections()).toBe(rejectedBefore);
  });

  it('in a request-level body: recorded under details.body as data', async () => {
    const id = rid(`${framework}-proto-body`);
    const status = await post(`${base[framework]}/api/tools/t1`, framework === 'express' ? 'PUT' : 'POST', id, PROTO_BODY);
    expect(status).toBe(200);
    const r = await pipe.recordOf(id);
    expect(r).toMatchObject({ type: 'admin', actor: { id: 'mallory' }, target: { type: 'tool', id: 't1' }, request: { id, endpoint: '/api/tools/t1' }, details: { status_code: 200, body: { order: 'A-2' } } });
    expect(canonicalOf(r.id)).toContain('"body":{"__proto__":{"isAdmin":true},"order":"A-2"}');
  });
});

it('audit.change() with a client "__proto__" member: the change is recorded with it, and the request succeeds', async () => {
  const id = rid('express-proto-change');
  await fetch(`${base.express}/api/tools/t2`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name":"drill"}' });
  const res = await fetch(`${base.express}/api/tools/t2`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: '{"__proto__":{"owner":"eve"}}' });
  expect(res.status).toBe(200);
  const { seq } = (await res.json()) as { seq: number };
  const change = pipe.sink.records.find((r) => r.record.seq === seq)!;
  expect(change.record).toMatchObject({ type: 'crud', action: 'update', request: { id }, details: { changed: ['__proto__'] } });
  expect(change.canonical).toContain('"new":{"__proto__":{"owner":"eve"}}');
  expect(change.canonical).toContain('"old":{}');
});

describe('setOwnMember / assignOwnMembers', () => {
  it('define "__proto__" as an own member instead of setting the prototype', () => {
    const source = JSON.parse('{"a":1,"__proto__":{"b":2}}') as Record<string, unknown>;
    const target: Record<string, unknown> = { keep: true };
    assignOwnMembers(target, source);
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
    expect(Object.keys(target)).toEqual(['keep', 'a', '__proto__']);
    expect(target.b).toBeUndefined();
    const one: Record<string, unknown> = {};
    setOwnMember(one, '__proto__', { c: 3 });
    expect(Object.getOwnPropertyDescriptor(one, '__proto__')).toEqual({ value: { c: 3 }, enumerable: true, writable: true, configurable: true });
  });
});
