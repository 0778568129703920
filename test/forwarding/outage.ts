/**
 * The outage scenario shared by forwarding.test.ts (~3 s) and
 * forwarding-outage.slow.test.ts (30 s): the service logs steadily while the
 * receiver is down, the receiver comes back on the same port and store, and
 * every record must arrive exactly once in a verifiable stream — with the
 * service's emit calls never blocked meanwhile.
 */
import * as path from 'node:path';
import { readOutboxStatus } from '@otel-audit/exporter-sqlite';
import type { StreamReport } from '@otel-audit/core';
import { collector, keyring, serviceRecords, startService, tempDir, until } from './support.js';

/**
 * The longest one synchronous emit may take here. A blocked emit waits for
 * the outbox's SQLite lock (busy timeout 5 s) or a retry (backoff ≥ 1 s);
 * on this shared 2-core machine a GC pause or a WAL write under load has
 * reached 62 ms, so the bound sits well above that and well below both.
 */
export const MAX_EMIT_MILLIS = 200;

export async function outageScenario(downMillis: number, cleanups: (() => unknown)[]) {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const db = path.join(tmp.dir, 'central.db');
  const outboxPath = path.join(tmp.dir, 'outbox.db');
  let c = await collector(db);
  const port = Number(new URL(c.url).port);
  const svc = startService({ endpoint: c.url, outboxPath });
  cleanups.push(() => svc.shutdown());
  let maxEmitMillis = 0;
  const burst = (): void => {
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      svc.emit();
      maxEmitMillis = Math.max(maxEmitMillis, performance.now() - t);
    }
  };
  for (let i = 0; i < 5; i++) {
    burst();
    await new Promise((r) => setTimeout(r, 20));
  }
  await c.close();
  const until0 = Date.now() + downMillis;
  while (Date.now() < until0) {
    burst();
    await new Promise((r) => setTimeout(r, 50));
  }
  const depthDuringOutage = readOutboxStatus(outboxPath).depth;
  c = await collector(db, { port });
  cleanups.push(() => c.close());
  for (let i = 0; i < 5; i++) {
    burst();
    await new Promise((r) => setTimeout(r, 20));
  }
  await svc.shutdown();
  const collectorNow = c;
  await until(() => serviceRecords(collectorNow) === svc.emitted, 60_000, 'every record delivered');
  const report = await c.store.verify({ keyring });
  const stream = report.streams.find((s) => s.stream === 'svc') as StreamReport;
  return { emitted: svc.emitted, delivered: serviceRecords(c), maxEmitMillis, report: stream, findings: c.findings(), depthDuringOutage };
}
