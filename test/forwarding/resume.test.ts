import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readOutboxStatus } from '@otel-audit/exporter-sqlite';
import { collector, keyring, serviceRecords, startService, tempDir, until } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a forwarding-only service restarted under the same stream id', () => {
  it('resumes the stream from the outbox head: the central store holds one unforked stream that verifies', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const c = await collector(path.join(tmp.dir, 'central.db'));
    cleanups.push(() => c.close());
    const outboxPath = path.join(tmp.dir, 'outbox.db');
    for (let run = 0; run < 3; run++) {
      const svc = startService({ endpoint: c.url, outboxPath, stream: 'svc/fixed', checkpointEveryRecords: 7 });
      await svc.processor.ready();
      for (let i = 0; i < 20; i++) svc.emit({ run });
      await svc.shutdown();
    }
    await until(() => serviceRecords(c) === 60, 20_000, 'all 60 records at the collector');
    const report = await c.store.verify({ keyring });
    const stream = report.streams.find((s) => s.stream === 'svc/fixed')!;
    // 60 records + a pipeline start and stop per run, in one chain from seq 0.
    expect(stream).toMatchObject({ records: 66, firstSeq: 0, lastSeq: 65, errors: 0, warnings: 0 });
    expect(c.findings()).toEqual([]);
    expect(readOutboxStatus(outboxPath)).toMatchObject({ depth: 0, deadLetters: 0 });
  });
});
