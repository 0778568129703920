import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setGlobalErrorHandler } from '@opentelemetry/core';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { requestReceipt, type AuditBatch } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink, type AuditLogRecordProcessorOptions } from '../../src/index.js';
import { SpillWriter } from '../../src/internal/spill-writer.js';
import { FlakySink, KEYS, tick, until, verifySink } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-spill-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const errors: string[] = [];
beforeEach(() => {
  errors.length = 0;
  setGlobalErrorHandler((e) => errors.push(String((e as Error)?.message ?? e)));
});
afterEach(() => setGlobalErrorHandler(() => undefined));

class GatedSink extends InMemoryAuditSink {
  open = false;
  override async append(batch: AuditBatch) {
    await until(() => this.open, 30_000);
    return super.append(batch);
  }
}

/** A processor whose spill file lies in `spillDir` (removed by the test: the file cannot be written, as on a full disk). */
async function start(spillDir: string, sink: InMemoryAuditSink, stream: string, options: Partial<AuditLogRecordProcessorOptions> = {}) {
  mkdirSync(spillDir, { recursive: true });
  const spillPath = join(spillDir, 'q.spill');
  const processor = new AuditLogRecordProcessor({
    stream, sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxQueueSize: 5, maxBatchSize: 5, flushIntervalMillis: 5, checkpointEveryRecords: 1000, shutdownTimeoutMillis: 300, ...options,
  });
  const provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  const logger = provider.getLogger('otel-audit');
  const emit = (i: number): Promise<string> => {
    const body = { type: 'api', action: 'call', details: { i } };
    const settled = requestReceipt(body).then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');
    logger.emit({ body });
    return settled;
  };
  return { processor, provider, spillPath, emit };
}

describe('spill file that cannot be written (a full disk)', () => {
  it('keeps what was spilled in memory and retries; beyond the queue bound drops before sealing with a records_dropped record; recovers when the file can be written', async () => {
    const sink = new GatedSink();
    const spillDir = join(dir, 'full');
    const { provider, spillPath, emit } = await start(spillDir, sink, 's/full');
    rmSync(spillDir, { recursive: true });
    const receipts: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) receipts.push(emit(i)); // 5 queued, 7 spilled: the write fails
    await until(() => errors.some((m) => m.includes(`writing the spill file ${spillPath} failed`)));
    for (let i = 12; i < 20; i++) {
      receipts.push(emit(i)); // the file cannot take them and memory is at its bound: dropped, loss counted
      await tick(1);
    }
    const dropped = await Promise.all(receipts.slice(12));
    expect(dropped).toEqual(Array(8).fill('AUDIT_QUEUE_FULL'));

    mkdirSync(spillDir); // space again: the retry writes the file, the queue drains it
    await until(() => errors.some((m) => m.includes(`the spill file ${spillPath} is written again`)));
    sink.open = true;
    expect(await Promise.all(receipts.slice(0, 12))).toEqual(Array(12).fill('ok'));
    expect(statSync(spillPath).mode & 0o777).toBe(0o600);
    expect(await emit(20)).toBe('ok'); // a record logged after the disk freed is stored
    await provider.shutdown();

    const calls = sink.records.filter((r) => r.record.action === 'call').map((r) => (r.record.details as { i: number }).i);
    expect(calls).toEqual([...Array.from({ length: 12 }, (_, i) => i), 20]);
    const drops = sink.records.filter((r) => r.record.action === 'records_dropped');
    expect(drops).toHaveLength(1);
    expect((drops[0]!.record.details as { count: number }).count).toBe(8);
    expect(sink.records.map((r) => r.record.seq)).toEqual(Array.from({ length: sink.records.length }, (_, i) => i));
    expect(verifySink(sink).ok).toBe(true);
  });

  it('shutdown while the file still cannot be written: every receipt settles and the loss is reported as LOST, not as kept in the file', async () => {
    const sink = new GatedSink();
    const spillDir = join(dir, 'never');
    const { provider, spillPath, emit } = await start(spillDir, sink, 's/never');
    rmSync(spillDir, { recursive: true });
    const receipts: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) receipts.push(emit(i));
    await until(() => errors.some((m) => m.includes('failed')));
    await provider.shutdown();
    const settled = await Promise.race([Promise.all(receipts), tick(2000).then(() => 'some receipts never settled')]);
    expect(settled).toEqual(Array(12).fill('AUDIT_SHUTDOWN'));
    expect(errors.filter((m) => m.includes('kept in the spill file'))).toEqual([]);
    const lost = errors.find((m) => m.includes('LOST'));
    expect(lost).toContain(`not written to the spill file ${spillPath}`);
    // stream_started, the 12 records, pipeline_stopped and the final checkpoint: none reached a sink or the file
    expect(lost).toMatch(/with 15 item\(s\)/);
    sink.open = true;
  });
});

describe('spill file that cannot be written while the sink fails, then the sink recovers (the spill disk stays full)', () => {
  const unwritable: [string, (spillPath: string) => void][] = [
    ['a path in a directory that does not exist', (spillPath) => rmSync(dirname(spillPath), { recursive: true })],
    ['a path that is a directory', (spillPath) => mkdirSync(spillPath)],
  ];
  for (const [name, breakPath] of unwritable) {
    it(`${name}: every spilled record reaches the sink in seq order, the drops are sealed, shutdown writes pipeline_stopped and a final checkpoint`, async () => {
      const sink = new FlakySink();
      sink.failing = true;
      const { provider, spillPath, emit } = await start(join(dir, `stuck-${unwritable.findIndex(([n]) => n === name)}`), sink, `s/stuck/${name}`, { retryMaxMillis: 50 }); // the store is retried often: it is back as soon as it recovers
      breakPath(spillPath);
      const receipts: Promise<string>[] = [];
      for (let i = 0; i < 12; i++) receipts.push(emit(i)); // 5 queued, the rest spilled: the write fails
      await until(() => errors.some((m) => m.includes(`writing the spill file ${spillPath} failed`)));
      for (let i = 12; i < 20; i++) {
        receipts.push(emit(i)); // beyond the bound while the file cannot take lines: dropped, loss counted
        await tick(1);
      }
      expect(await Promise.all(receipts.slice(12))).toEqual(Array(8).fill('AUDIT_QUEUE_FULL'));

      sink.failing = false; // the store recovers; the spill path stays unwritable
      const settled = await Promise.race([Promise.all(receipts.slice(0, 12)), tick(5000).then(() => 'spilled receipts never settled')]);
      expect(settled).toEqual(Array(12).fill('ok'));
      expect(await Promise.race([emit(20), tick(5000).then(() => 'a later record was never committed')])).toBe('ok');
      await provider.shutdown();

      const calls = sink.records.filter((r) => r.record.action === 'call').map((r) => (r.record.details as { i: number }).i);
      expect(calls).toEqual([...Array.from({ length: 12 }, (_, i) => i), 20]);
      const drops = sink.records.filter((r) => r.record.action === 'records_dropped');
      expect(drops.map((r) => (r.record.details as { count: number }).count)).toEqual([8]);
      expect(sink.records.map((r) => r.record.seq)).toEqual(Array.from({ length: sink.records.length }, (_, i) => i));
      expect(sink.records.at(-1)!.record.action).toBe('pipeline_stopped');
      expect(sink.checkpoints.at(-1)!.size).toBe(sink.records.length);
      expect(verifySink(sink).ok).toBe(true);
      expect(errors.filter((m) => m.includes('LOST') || m.includes('cannot be written to'))).toEqual([]);
    });
  }
});

describe('a write cut short by a full disk', () => {
  it('leaves no partial line: the file is cut back to its last complete line, and the retry appends there', async () => {
    const path = join(dir, 'partial.spill');
    const fh = await open(path, 'w+');
    let diskFull = false;
    // A real file on a disk that takes half of a write, then ENOSPC (as write(2) does when it fills up).
    const disk = new Proxy(fh, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key);
        if (key !== 'write') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (buf: Buffer, off: number, len: number, pos: number) => {
          if (!diskFull) return target.write(buf, off, len, pos);
          await target.write(buf, off, Math.floor(len / 2), pos);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        };
      },
    }) as FileHandle;
    const failures: string[] = [];
    const writer = new SpillWriter(path, () => Promise.resolve(disk), () => undefined, (e) => failures.push(e.message));
    writer.push('{"a":1}\n');
    await writer.settled();
    diskFull = true;
    writer.push('{"b":2}\n');
    await writer.settled();
    expect(failures[0]).toContain('ENOSPC');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n');
    diskFull = false;
    await writer.close(); // the last attempt lands at the cut
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
    await fh.close();
  });
});

describe('spill file permissions', () => {
  it('the spill file is created readable by its owner only (0600)', async () => {
    const sink = new GatedSink();
    const { provider, spillPath, emit } = await start(join(dir, 'mode'), sink, 's/mode');
    const receipts = Array.from({ length: 12 }, (_, i) => emit(i));
    await until(() => { try { return statSync(spillPath).size > 0; } catch { return false; } });
    expect(statSync(spillPath).mode & 0o777).toBe(0o600);
    sink.open = true;
    expect(await Promise.all(receipts)).toEqual(Array(12).fill('ok'));
    await provider.shutdown();
  });
});
