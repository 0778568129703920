/**
 * No audit loop and no double counting (DESIGN §3): with the default policy,
 * OTLP traffic into the same process is never audited, the app's own
 * outgoing requests (CLIENT spans) never become records, and requests sent
 * while tracing is suppressed (the exporters' own I/O) create no record on
 * the sending side.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rid, setupPipeline, tick, type Pipeline } from './helpers.js';

let pipe: Pipeline;
let server: Server;
let port: number;
// The CommonJS export object, so the instrumentation's client-side patch applies.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

beforeAll(async () => {
  pipe = await setupPipeline(); // default rules
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await pipe.shutdown();
});

function send(path: string, headers: Record<string, string>, method = 'POST', impl: typeof httpRequest = http.request): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = impl({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('pipeline traffic', () => {
  it('OTLP requests into the process are not audited; an outgoing request yields one record (the server side)', async () => {
    const before = pipe.records().length;
    await send('/v1/logs', { 'content-type': 'application/json' });
    await send('/v1/traces', { 'content-type': 'application/json' });
    const id = rid('out');
    expect(await send('/api/things', { 'x-request-id': id })).toBe(200);
    await pipe.recordOf(id);
    await tick(50);
    expect(pipe.records().length).toBe(before + 1);
    expect(pipe.spans.getFinishedSpans().some((s) => s.kind === 2 /* CLIENT */)).toBe(true);
  });

  it('a request sent while tracing is suppressed still reaches the server and is audited there once', async () => {
    const id = rid('suppressed');
    await context.with(suppressTracing(context.active()), () => send('/api/x', { 'x-request-id': id }));
    await pipe.recordOf(id);
    await tick(30);
    expect(pipe.records().filter((r) => r.request?.id === id)).toHaveLength(1);
  });
});
