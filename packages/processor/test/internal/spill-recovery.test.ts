import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { AuditChain, Keyring, Verifier, createRecordId } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink, type AuditLogRecordProcessorOptions } from '../../src/index.js';
import { FileSink } from '../fixtures/file-sink.js';
import { KEYS } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-spill-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = fileURLToPath(new URL('../fixtures/spill-child.ts', import.meta.url));

/** Run the child until it says it spilled, then SIGKILL it. */
function runAndKill(sinkPath: string, spillPath: string, records: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, sinkPath, spillPath, String(records), KEYS.signerKey], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('spilled')) p.kill('SIGKILL');
    });
    p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

/**
 * A processor over `options` emits `records` calls, then shuts down within
 * 200 ms while its primary sink commits nothing; the messages it gave the
 * global error handler.
 */
async function stuckShutdown(options: Pick<AuditLogRecordProcessorOptions, 'stream' | 'sinks' | 'overflow' | 'spillPath'>, records: number): Promise<string[]> {
  const errors: string[] = [];
  setGlobalErrorHandler((e) => errors.push(String((e as Error)?.message ?? e)));
  try {
    const stuck = new AuditLogRecordProcessor({ ...options, signerKey: KEYS.signerKey, maxBatchSize: 10, flushIntervalMillis: 5, shutdownTimeoutMillis: 200 });
    const provider = new LoggerProvider({ processors: [stuck] });
    await stuck.ready();
    for (let i = 0; i < records; i++) provider.getLogger('otel-audit').emit({ body: { type: 'api', action: 'call', details: { i } } });
    await provider.shutdown();
  } finally {
    setGlobalErrorHandler(loggingErrorHandler());
  }
  return errors;
}

describe('spill file after a crash', () => {
  it('records spilled by a process killed with SIGKILL are replayed by the next one, before new records, and the stream verifies', async () => {
    const sinkPath = join(dir, 'sink.jsonl');
    const spillPath = join(dir, 'audit.spill');
    await runAndKill(sinkPath, spillPath, 300);
    const before = new FileSink(sinkPath).lines().filter((l) => l.c !== undefined).length;
    expect(before).toBeLessThan(50); // the sink stopped committing early: the rest was only in the queue and the file
    expect(existsSync(spillPath)).toBe(true);

    const sink = new FileSink(sinkPath);
    const processor = new AuditLogRecordProcessor({ stream: 'crash/1', sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxQueueSize: 20, maxBatchSize: 10, flushIntervalMillis: 5 });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    provider.getLogger('otel-audit').emit({ body: { type: 'api', action: 'after-crash' } });
    await provider.shutdown();

    const records = sink.lines().filter((l) => l.c !== undefined).map((l) => JSON.parse(l.c!) as { seq: number; action: string; details?: { i?: number } });
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    expect(records.filter((r) => r.action === 'call').map((r) => r.details!.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const actions = records.map((r) => r.action);
    expect(actions.indexOf('spill_replayed')).toBeGreaterThan(actions.lastIndexOf('call'));
    expect(actions.indexOf('after-crash')).toBeGreaterThan(actions.indexOf('spill_replayed'));
    const v = new Verifier({ keyring: Keyring.from([KEYS.verifierKey]) });
    for (const l of sink.lines()) (l.note !== undefined ? v.addCheckpoint(l.note) : v.addRecord(l.c!, l.h!));
    const report = v.finish();
    expect(report.ok).toBe(true);
    expect(existsSync(spillPath)).toBe(false);
  }, 30_000);

  it('a shutdown that times out with records only in the queue (nothing spilled yet) writes them to the spill file, and the next start replays them', async () => {
    const sinkPath = join(dir, 'stuck-sink.jsonl');
    const spillPath = join(dir, 'stuck.spill');
    // The primary sink takes nothing: every append hangs (a database locked by another process).
    const errors = await stuckShutdown({ stream: 'stuck/1', sinks: [new FileSink(sinkPath, { hangAfterAppends: 0 })], overflow: 'spill', spillPath }, 5);
    expect(existsSync(spillPath)).toBe(true);
    expect(errors.some((m) => /item\(s\) not committed by the primary sink are kept in the spill file .*stuck\.spill/.test(m))).toBe(true);
    expect(errors.some((m) => m.includes('LOST'))).toBe(false);

    const sink = new FileSink(sinkPath);
    const processor = new AuditLogRecordProcessor({ stream: 'stuck/1', sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, maxBatchSize: 10, flushIntervalMillis: 5 });
    const provider = new LoggerProvider({ processors: [processor] });
    await processor.ready();
    await provider.shutdown();
    const records = sink.lines().filter((l) => l.c !== undefined).map((l) => JSON.parse(l.c!) as { seq: number; action: string; details?: { i?: number } });
    expect(records.filter((r) => r.action === 'call').map((r) => r.details!.i)).toEqual([0, 1, 2, 3, 4]);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    const v = new Verifier({ keyring: Keyring.from([KEYS.verifierKey]) });
    for (const l of sink.lines()) (l.note !== undefined ? v.addCheckpoint(l.note) : v.addRecord(l.c!, l.h!));
    expect(v.finish().ok).toBe(true);
    expect(existsSync(spillPath)).toBe(false);
  }, 30_000);

  it('without a spill file, records a timed-out shutdown could not commit are reported LOST, with the fix', async () => {
    const errors = await stuckShutdown({ stream: 'stuck/2', sinks: [new FileSink(join(dir, 'stuck2.jsonl'), { hangAfterAppends: 0 })] }, 3);
    expect(errors.find((m) => m.includes('LOST'))).toMatch(/shutdown after 200 ms with \d+ record\(s\) not committed by the primary sink: they are LOST .*configure overflow: spill with a spill_path/);
  });

  it('a spill file that does not follow the stored head (records between were lost) is moved aside and the loss is recorded', async () => {
    const chain = new AuditChain({ stream: 'gap/1' });
    let last;
    for (let i = 0; i < 6; i++) last = chain.append({ id: createRecordId(), time: '1', type: 'api', action: 'call' });
    const spillPath = join(dir, 'gap.spill');
    writeFileSync(spillPath, JSON.stringify({ c: last!.canonical, h: last!.hash }) + '\n');
    const sink = new InMemoryAuditSink();
    const processor = new AuditLogRecordProcessor({ stream: 'gap/1', sinks: [sink], overflow: 'spill', spillPath, flushIntervalMillis: 5 });
    await processor.ready();
    await processor.shutdown();
    const lost = sink.records.find((r) => r.record.action === 'spill_not_replayed');
    expect(lost?.record.details).toMatchObject({ records: 1 });
    expect(sink.records.map((r) => r.record.seq)).toEqual(sink.records.map((_, i) => i));
    expect(sink.records.some((r) => r.record.action === 'call')).toBe(false);
    expect(existsSync(spillPath)).toBe(false);
    expect(readdirSync(dir).some((f) => f.startsWith('gap.spill.unreplayable-'))).toBe(true);
  });

  /** The spill lines of `n` records sealed into a new stream (what a process that spilled them from the start leaves). */
  function spilledLines(stream: string, n: number): string[] {
    const chain = new AuditChain({ stream });
    return Array.from({ length: n }, (_, i) => {
      const sealed = chain.append({ id: createRecordId(), time: '1', type: 'api', action: 'call', details: { i } });
      return JSON.stringify({ c: sealed.canonical, h: sealed.hash }) + '\n';
    });
  }

  /** Start a processor on `spillPath` and shut it down; its sink and the errors it reported. */
  async function restart(stream: string, spillPath: string) {
    const sink = new InMemoryAuditSink();
    const errors: string[] = [];
    const processor = new AuditLogRecordProcessor({ stream, sinks: [sink], overflow: 'spill', spillPath, flushIntervalMillis: 5, onError: (e) => errors.push(e.message) });
    await processor.ready();
    await processor.shutdown();
    return { sink, errors };
  }

  it('a spill file that fails to parse part-way is counted in lines, and spill_not_replayed says the count is of lines', async () => {
    const lines = spilledLines('garbled/1', 5);
    lines[2] = '\0'.repeat(300) + '\n'; // a zero-filled block (a crash on a journaled file system)
    const spillPath = join(dir, 'garbled.spill');
    writeFileSync(spillPath, lines.join(''));
    const { sink, errors } = await restart('garbled/1', spillPath);
    const lost = sink.records.find((r) => r.record.action === 'spill_not_replayed');
    expect(lost?.record.details).toMatchObject({ records: 5, count_of: 'lines', reason: expect.stringMatching(/1 of its 5 line\(s\) cannot be parsed \(line 3: /) });
    expect(errors.find((m) => m.includes('cannot be replayed'))).toMatch(/^otel-audit: 5 line\(s\) \(counted as lines: the file could not be parsed completely/);
    expect(sink.records.some((r) => r.record.action === 'call')).toBe(false);
    expect(readdirSync(dir).some((f) => f.startsWith('garbled.spill.unreplayable-'))).toBe(true);
  });

  it('spill_replayed counts the records the replay adds to the store, not those of the file it already held', async () => {
    const chain = new AuditChain({ stream: 'held/1' });
    const sealed = Array.from({ length: 5 }, (_, i) => chain.append({ id: createRecordId(), time: '1', type: 'api', action: 'call', details: { i } }));
    const spillPath = join(dir, 'held.spill');
    writeFileSync(spillPath, sealed.map((r) => JSON.stringify({ c: r.canonical, h: r.hash }) + '\n').join(''));
    const sink = new InMemoryAuditSink();
    await sink.append({ records: sealed.slice(0, 3), checkpoints: [] }); // committed before the process died
    const processor = new AuditLogRecordProcessor({ stream: 'held/1', sinks: [sink], signerKey: KEYS.signerKey, overflow: 'spill', spillPath, flushIntervalMillis: 5 });
    await processor.ready();
    await processor.shutdown();
    expect(sink.records.filter((r) => r.record.action === 'call').map((r) => r.record.details)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(sink.records.find((r) => r.record.action === 'spill_replayed')?.record.details).toEqual({ records: 2, file: spillPath });
    expect(sink.records.map((r) => r.record.seq)).toEqual(sink.records.map((_, i) => i));
    expect(existsSync(spillPath)).toBe(false);
  });

  it('a spill file cut mid-line replays the complete records, keeps the cut bytes in a side file and records truncated_bytes', async () => {
    const lines = spilledLines('cut/1', 6);
    const partial = lines[5]!.slice(0, Math.floor(lines[5]!.length / 2));
    const spillPath = join(dir, 'cut.spill');
    writeFileSync(spillPath, lines.slice(0, 5).join('') + partial);
    const { sink, errors } = await restart('cut/1', spillPath);
    expect(sink.records.filter((r) => r.record.action === 'call').map((r) => r.record.details)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    const replayed = sink.records.find((r) => r.record.action === 'spill_replayed');
    const sideFile = readdirSync(dir).find((f) => f.startsWith('cut.spill.truncated-'));
    expect(sideFile).toBeDefined();
    expect(replayed?.record.details).toEqual({ records: 5, file: spillPath, truncated_bytes: Buffer.byteLength(partial), truncated_to: join(dir, sideFile!) });
    expect(readFileSync(join(dir, sideFile!), 'utf8')).toBe(partial);
    expect(errors.find((m) => m.includes('partial line'))).toMatch(new RegExp(`ends in a partial line \\(${Buffer.byteLength(partial)} byte\\(s\\).*not replayed \\(moved to .*cut\\.spill\\.truncated-\\d+\\)`));
    expect(errors.find((m) => m.includes('partial line'))).toMatch(/the complete line\(s\) before them are replayed, 5 record\(s\) of them not yet in the primary sink$/);
    expect(sink.records.map((r) => r.record.seq)).toEqual(sink.records.map((_, i) => i));
    expect(existsSync(spillPath)).toBe(false);
  });
});
