/**
 * The instrumentation-http hooks on their own: the level attribute the
 * sampler reads, request-id adoption and generation, the echo on the
 * response, and that client-side calls are ignored.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ATTR_OTEL_AUDIT_LEVEL, createHttpAuditHooks, createHttpAuditInstrumentation } from '../src/index.js';

function incoming(method: string, url: string, headers: Record<string, string> = {}): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  req.headers = headers;
  return req;
}

const span = {} as Span;

describe('createHttpAuditHooks', () => {
  it('marks the span with the policy level before it starts', () => {
    const hooks = createHttpAuditHooks();
    expect(hooks.startIncomingSpanHook(incoming('GET', '/admin/users'))).toEqual({ [ATTR_OTEL_AUDIT_LEVEL]: 'metadata' });
    expect(hooks.startIncomingSpanHook(incoming('GET', '/'))).toEqual({ [ATTR_OTEL_AUDIT_LEVEL]: 'none' });
  });

  it('adopts a well-formed request id from the configured header, replaces a bad one, echoes it', () => {
    const hooks = createHttpAuditHooks(undefined, { requestIdHeader: 'X-Correlation-Id' });
    const req = incoming('GET', '/api/x', { 'x-correlation-id': 'abc-123' });
    hooks.startIncomingSpanHook(req);
    const res = new ServerResponse(req);
    hooks.responseHook(span, res);
    expect(res.getHeader('x-correlation-id')).toBe('abc-123');

    const bad = incoming('GET', '/api/x', { 'x-correlation-id': 'a b\u0001' });
    hooks.startIncomingSpanHook(bad);
    const res2 = new ServerResponse(bad);
    hooks.responseHook(span, res2);
    expect(res2.getHeader('x-correlation-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('echoRequestId: false leaves the response alone; client-side calls are ignored', () => {
    const hooks = createHttpAuditHooks(undefined, { echoRequestId: false });
    const req = incoming('GET', '/api/x');
    hooks.startIncomingSpanHook(req);
    const res = new ServerResponse(req);
    hooks.responseHook(span, res);
    expect(res.getHeader('x-request-id')).toBeUndefined();
    expect(() => hooks.requestHook(span, {} as never)).not.toThrow();
    expect(() => hooks.responseHook(span, incoming('GET', '/'))).not.toThrow();
  });

  it('refuses a bad header name and a policy without a catch-all', () => {
    expect(() => createHttpAuditHooks(undefined, { requestIdHeader: 'bad header' })).toThrow(/requestIdHeader/);
    expect(() => createHttpAuditInstrumentation({ rules: [{ match: { path: '/a' }, level: 'none' }] })).toThrow(/catch-all/);
  });

  it('composes with the caller’s own hooks', () => {
    const seen: string[] = [];
    const inst = createHttpAuditInstrumentation(undefined, {
      config: { enabled: false, startIncomingSpanHook: () => ({ mine: 1 }), responseHook: () => void seen.push('user') },
    });
    const config = inst.getConfig();
    expect(config.startIncomingSpanHook!(incoming('GET', '/admin'))).toEqual({ mine: 1, [ATTR_OTEL_AUDIT_LEVEL]: 'metadata' });
    const req = incoming('GET', '/admin');
    config.responseHook!(span, new ServerResponse(req));
    expect(seen).toEqual(['user']);
  });
});
