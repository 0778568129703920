/**
 * fail_closed on a plain node:http server (no instrumentation in this
 * process: the guard classifies the request with the policy itself).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FAIL_CLOSED_BODY, createAuditGuard, setAuditPipelineMissing } from '../src/index.js';

let server: Server;
let base: string;
let healthy = true;
let healthCalls = 0;

beforeAll(async () => {
  const guard = createAuditGuard({
    health: () => {
      healthCalls++;
      if (healthy === null) throw new Error('health check crashed');
      return healthy;
    },
    retryAfterSeconds: 7,
  });
  server = createServer((req, res) => {
    if (guard(req, res)) return;
    res.end('served');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('createAuditGuard', () => {
  it('serves while healthy; 503 with Retry-After on audited routes while unhealthy; never checks unaudited routes', async () => {
    expect(await (await fetch(base + '/admin/x')).text()).toBe('served');
    healthy = false;
    const refused = await fetch(base + '/admin/x');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(await refused.text()).toBe(FAIL_CLOSED_BODY);
    const calls = healthCalls;
    expect(await (await fetch(base + '/index.html')).text()).toBe('served');
    expect(healthCalls).toBe(calls);
    healthy = null as never; // a crashing health check counts as unhealthy
    expect((await fetch(base + '/api/y', { method: 'POST' })).status).toBe(503);
    healthy = true;
    expect((await fetch(base + '/admin/x')).status).toBe(200);
  });

  it('an unhealthy sink refuses without a word; "no pipeline was ever started" is said once, on diag and on stderr', async () => {
    const errors: string[] = [];
    const logger = { error: (m: string) => errors.push(m), warn: () => {}, info: () => {}, debug: () => {}, verbose: () => {} } as DiagLogger;
    diag.setLogger(logger, DiagLogLevel.ERROR);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let missing = false;
    const guard = createAuditGuard({
      health: () => {
        setAuditPipelineMissing(missing ? 'otel-audit: no audit pipeline was started in this process (test)' : undefined);
        return false;
      },
    });
    const own = createServer((req, res) => void (guard(req, res) || res.end('served')));
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/admin/x`;
    try {
      expect((await fetch(url)).status).toBe(503); // a started pipeline whose sink fails: nothing said
      expect(errors).toEqual([]);
      missing = true;
      for (let i = 0; i < 3; i++) expect((await fetch(url)).status).toBe(503);
      expect(errors).toEqual(['otel-audit: no audit pipeline was started in this process (test)']);
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual(['otel-audit: no audit pipeline was started in this process (test)\n']);
    } finally {
      stderr.mockRestore();
      diag.disable();
      await new Promise<void>((r) => own.close(() => r()));
    }
  });

  it('refuses misuse', () => {
    expect(() => createAuditGuard({} as never)).toThrow(/options\.health/);
    expect(() => createAuditGuard({ health: () => true, retryAfterSeconds: -1 })).toThrow(RangeError);
  });
});
