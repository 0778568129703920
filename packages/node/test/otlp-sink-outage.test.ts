/**
 * A receiver outage is not silent (otlp-sink.ts, internal/outage-notice.ts):
 * a service forwarding through the `exporters.otlphttp` sink to a real
 * loopback receiver that refuses connections for a while and then accepts
 * prints exactly one outage line (how many records the outbox holds, and
 * its file) and one recovery line (how long it was down, how many were
 * delivered) through `onWarning` — startAudit's printer, stderr by default —
 * never the endpoint's path, query, userinfo or headers. A single failed
 * attempt that the next one repairs prints nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { generateNoteKey } from '@otel-audit/core';
import { AuditLogRecordProcessor } from '@otel-audit/processor';
import { afterAll, describe, expect, it } from 'vitest';
import { createOtlpSink } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-node-outage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEYS = generateNoteKey('outage.test/audit');

/** A receiver on `port` (0: any) that answers each request with `status(n)` (n counts from 1), and records the records it took. */
async function listen(port: number, status: (n: number) => number = () => 200): Promise<{ server: Server; port: number; requests: number }> {
  const state = { server: createServer(), port: 0, requests: 0 };
  state.server.on('request', (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(status(++state.requests), { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((r) => state.server.listen(port, '127.0.0.1', () => r()));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

const close = (s: Server): Promise<void> => new Promise((r) => { s.close(() => r()); s.closeAllConnections(); });

/** A service whose only sink is the OTLP sink, its lines collected. */
function service(port: number, outboxPath: string) {
  const lines: string[] = [];
  const sink = createOtlpSink(
    {
      logs_endpoint: `http://audit:Zq8userinfo@127.0.0.1:${port}/tenant-Zq8path/v1/logs?api_key=Zq8query`,
      headers: { authorization: 'Bearer Zq8header-token' }, protocol: 'http/protobuf', timeout: '2s',
      outbox: { path: outboxPath, retry_initial: '50ms', retry_max: '200ms' },
    },
    { onWarning: (m) => lines.push(m), outageNoticeMillis: 400 },
  );
  const processor = new AuditLogRecordProcessor({ stream: 'svc', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 20, checkpointEveryRecords: 1_000 });
  const provider = new LoggerProvider({ processors: [processor] });
  const logger = provider.getLogger('otel-audit');
  return {
    lines,
    emit: (i: number) => logger.emit({ body: { type: 'crud', action: 'update', actor: { id: 'u1' }, target: { type: 'doc', id: String(i) } } }),
    shutdown: () => provider.shutdown(),
  };
}

async function until(cond: () => boolean, timeoutMillis = 10_000): Promise<void> {
  const end = Date.now() + timeoutMillis;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMillis} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the OTLP sink announces a receiver outage once, and its end once', () => {
  it('connections refused for 1.5 s, then accepted: one outage line, one recovery line, no secret in them', async () => {
    // A port nobody listens on (yet): the collector is down.
    const probe = await listen(0);
    const port = probe.port;
    await close(probe.server);
    const outboxPath = join(dir, 'refused.db');
    const svc = service(port, outboxPath);
    let rx: Awaited<ReturnType<typeof listen>> | undefined;
    try {
      for (let i = 0; i < 20; i++) {
        svc.emit(i);
        await sleep(50);
      }
      await sleep(500);
      const during = svc.lines.filter((l) => l.includes('OTLP delivery'));
      expect(during).toHaveLength(1);
      expect(during[0]).toMatch(new RegExp(`^otel-audit: OTLP delivery to http://127\\.0\\.0\\.1:${port} has been failing for \\d+ s \\(last: ECONNREFUSED\\); nothing is lost: \\d+ audit record\\(s\\) are held in the outbox `));
      expect(during[0]).toContain(outboxPath);
      expect(Number(/: (\d+) audit record/.exec(during[0]!)![1])).toBeGreaterThanOrEqual(1);

      rx = await listen(port);
      await until(() => svc.lines.some((l) => l.includes('recovered after')));
    } finally {
      await svc.shutdown();
      if (rx !== undefined) await close(rx.server);
    }
    const notices = svc.lines.filter((l) => l.includes('OTLP delivery'));
    expect(notices).toHaveLength(2);
    expect(notices[1]).toMatch(new RegExp(`^otel-audit: OTLP delivery to http://127\\.0\\.0\\.1:${port} recovered after \\d+ s down; the \\d+ audit record\\(s\\) held in the outbox meanwhile were delivered in \\d+ s$`));
    expect(Number(/the (\d+) audit record/.exec(notices[1]!)![1])).toBeGreaterThanOrEqual(20);
    expect(rx!.requests).toBeGreaterThan(0);
    expect(svc.lines.join('\n')).not.toMatch(/Zq8|api_key|authorization|Bearer|tenant|\/v1\/logs/i);
  });

  it('one 503 that the next attempt repairs: no line at all', async () => {
    const rx = await listen(0, (n) => (n === 1 ? 503 : 200));
    const svc = service(rx.port, join(dir, 'transient.db'));
    try {
      svc.emit(1);
      await until(() => rx.requests >= 2);
      svc.emit(2);
      await sleep(800); // past the 400 ms after which a lasting failure is announced
    } finally {
      await svc.shutdown();
      await close(rx.server);
    }
    expect(rx.requests).toBeGreaterThanOrEqual(3);
    expect(svc.lines.filter((l) => l.includes('OTLP delivery'))).toEqual([]);
  });
});
