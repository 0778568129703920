import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readOutboxStatus } from '@otel-audit/exporter-sqlite';
import { collector, keyring, serviceRecords, startService, tempDir, until } from './support.js';
import { MAX_EMIT_MILLIS, outageScenario } from './outage.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('service → outbox → OTLP → collect', () => {
  it.each([['http/protobuf', 'gzip'], ['http/json', 'none']] as const)('over %s (%s): the central store holds every record once and verifies intact', async (protocol, compression) => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const c = await collector(path.join(tmp.dir, 'central.db'));
    cleanups.push(() => c.close());
    const svc = startService({ endpoint: c.url, protocol, compression, outboxPath: path.join(tmp.dir, 'outbox.db') });
    for (let i = 0; i < 300; i++) svc.emit();
    await svc.shutdown();
    await until(() => serviceRecords(c) === 300);
    const report = await c.store.verify({ keyring });
    const stream = report.streams.find((s) => s.stream === 'svc')!;
    expect(stream).toMatchObject({ records: 302, errors: 0, warnings: 0 }); // + pipeline start and stop
    expect(stream.checkpoints.verified).toBeGreaterThanOrEqual(6);
    expect(c.findings()).toEqual([]);
    expect(readOutboxStatus(path.join(tmp.dir, 'outbox.db'))).toMatchObject({ depth: 0, deadLetters: 0 });
  });

  it('keeps logging without blocking while the receiver is down for ~3 s, then delivers every record exactly once', async () => {
    const result = await outageScenario(3_000, cleanups);
    expect(result.delivered).toBe(result.emitted);
    expect(result.maxEmitMillis).toBeLessThan(MAX_EMIT_MILLIS);
    expect(result.report.errors).toBe(0);
    expect(result.findings).toEqual([]);
    expect(result.depthDuringOutage).toBeGreaterThan(0);
  });

  it.each([400, 401, 403, 413])('puts records the receiver answers %i into the dead-letter table and reports them', async (status) => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status).end('refused'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const dead: number[] = [];
    const outboxPath = path.join(tmp.dir, 'outbox.db');
    const svc = startService({ endpoint: `http://127.0.0.1:${port}`, outboxPath, onDeadLetter: (i) => dead.push(i.status ?? 0) });
    for (let i = 0; i < 20; i++) svc.emit();
    await until(() => readOutboxStatus(outboxPath).deadLetters >= 20);
    await svc.shutdown();
    const s = readOutboxStatus(outboxPath);
    expect(s).toMatchObject({ depth: 0, lastError: { status } });
    expect(s.deadLetters).toBeGreaterThanOrEqual(20);
    expect(new Set(dead)).toEqual(new Set([status]));
  });
});
