/**
 * Benchmark `otlp-forward` (DESIGN §5; issue "forward without losing a
 * record"): audit records per second sustained from the processor through
 * the SQLite outbox and OTLP/HTTP protobuf to `collect` on loopback, until
 * the central store has verified and stored every one — beside the same
 * run's stock path: the same audit processor (so the records are sealed and
 * the receiver does the same work) with the stock BatchLogRecordProcessor
 * and the stock OTLP protobuf exporter, no outbox. Also reports the
 * receiver's own verify-and-store rate (pre-encoded protobuf requests of 512
 * records posted one after another). Target: ours >= 0.5 x baseline. The
 * receiver runs in a child process (this file with `collector DB`), as it
 * would on its own machine; arrivals are counted through a read-only
 * connection to its store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { BatchLogRecordProcessor, InMemoryLogRecordExporter, LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AuditChain, createRecordId, generateNoteKey, Keyring } from '@otel-audit/core';
import { createOtlpSink } from '@otel-audit/node';
import { SqliteAuditStore } from '../src/index.js';
import { AuditLogRecordProcessor, InMemoryAuditSink, LogRecordExporterSink } from '@otel-audit/processor';
// @otel-audit/server's index gains `startCollector` from the lead; reached by path until then.
import { startCollector } from '@otel-audit/server';

const N = Number(process.env.OTLP_FORWARD_RECORDS ?? 20_000);
const KEYS = generateNoteKey('bench.otlp-forward/audit');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-otlp-forward-'));

if (process.argv[2] === 'collector') {
  const c = await startCollector({ port: 0, dbPath: process.argv[3]!, ...(process.argv[4] ? { verifierKeys: [process.argv[4]] } : {}) });
  process.stdout.write(`${c.url}\n`);
  process.on('SIGTERM', () => void c.close().then(() => process.exit(0)));
  await new Promise(() => undefined);
}

/** A receiver in a child process; `accepted()` counts stored + parked crud records. */
async function receiverProcess(db: string, verifierKey?: string): Promise<{ url: string; accepted(): number; close(): Promise<void>; reader(): Database.Database }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, 'collector', db, ...(verifierKey ? [verifierKey] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString('utf8').trim()));
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}`)));
  });
  const reader = new Database(db, { readonly: true });
  const stored = reader.prepare("SELECT count(*) FROM audit_logs WHERE event_type = 'crud'").pluck();
  let parked: Database.Statement | undefined;
  return {
    url,
    reader: () => reader,
    // The stock path never sends the processor's own `stream_started` record (seq 0: it goes to
    // sinks, not through the LoggerProvider), so there every record is durably parked behind that gap.
    accepted: () => (stored.get() as number) + ((parked ??= reader.prepare('SELECT count(*) FROM collector_pending').pluck()).get() as number),
    close: async () => {
      reader.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function until(cond: () => boolean, what: string, timeoutMs = 300_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: timed out`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Emit N records in chunks (yielding so the pipeline's I/O runs), then wait until the receiver stored all. */
async function run(label: string, extra: (endpoint: string) => LogRecordProcessor[], sinks: (endpoint: string) => ConstructorParameters<typeof AuditLogRecordProcessor>[0]['sinks']): Promise<number> {
  const c = await receiverProcess(path.join(dir, `${label}.db`), KEYS.verifierKey);
  const processor = new AuditLogRecordProcessor({ stream: label, signerKey: KEYS.signerKey, sinks: sinks(c.url), maxQueueSize: N * 2, maxBatchSize: 512, flushIntervalMillis: 20, checkpointEveryRecords: 1000 });
  const provider = new LoggerProvider({ processors: [processor, ...extra(c.url)] });
  const logger = provider.getLogger('otel-audit');
  // Until the processor knows its stream's head it cannot seal (it marks records pending), and the
  // stock batch processor would export those unsealed: start both runs with a ready processor.
  await new Promise((r) => setTimeout(r, 300));
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    logger.emit({ body: { type: 'crud', action: 'update', actor: { id: `user-${i % 50}`, ip: '10.0.0.1' }, target: { type: 'doc', id: String(i) }, details: { i, note: 'x'.repeat(64) } } });
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await until(() => c.accepted() >= N, label);
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (c.accepted() !== N) throw new Error(`${label}: ${c.accepted()} records stored, expected ${N}`);
  await provider.shutdown();
  await c.close();
  const store = new SqliteAuditStore(path.join(dir, `${label}.db`));
  const report = await store.verify({ keyring: Keyring.from([KEYS.verifierKey]) });
  store.close();
  const stream = report.streams.find((s) => s.stream === label);
  if (label === 'ours' && stream?.errors !== 0) throw new Error(`${label}: the central store does not verify: ${JSON.stringify(stream?.findings.slice(0, 3))}`);
  return N / secs;
}

/** The receiver alone: pre-encoded protobuf requests of 512 sealed records, posted one after another. */
async function receiverRate(): Promise<number> {
  const chain = new AuditChain({ stream: 'receiver' });
  const mem = new InMemoryLogRecordExporter();
  const sink = new LogRecordExporterSink({ exporter: mem });
  const bodies: Uint8Array[] = [];
  for (let done = 0; done < N; done += 512) {
    const records = Array.from({ length: Math.min(512, N - done) }, (_, i) => chain.append({ id: createRecordId(), time: new Date(), type: 'crud', action: 'update', actor: { id: `user-${i % 50}` }, details: { i: done + i, note: 'x'.repeat(64) } }));
    mem.reset();
    await sink.append({ records, checkpoints: [] });
    bodies.push(ProtobufLogsSerializer.serializeRequest(mem.getFinishedLogRecords())!);
  }
  const c = await receiverProcess(path.join(dir, 'receiver.db'));
  const t = process.hrtime.bigint();
  for (const body of bodies) {
    const res = await fetch(`${c.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
    await res.arrayBuffer();
  }
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (c.accepted() !== N) throw new Error(`receiver stored ${c.accepted()}`);
  await c.close();
  return N / secs;
}

try {
  const ours = await run('ours', () => [], (url) => [createOtlpSink({ endpoint: url, protocol: 'http/protobuf', outbox: { path: path.join(dir, 'outbox.db') } }, { onDeadLetter: () => undefined })]);
  const baseline = await run('stock', (url) => [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${url}/v1/logs` }), maxQueueSize: N * 2, maxExportBatchSize: 512, scheduledDelayMillis: 20 })], () => [new InMemoryAuditSink()]);
  const receiver = await receiverRate();
  const ratio = ours / baseline;
  console.log(`otlp-forward: ours (processor -> outbox -> OTLP protobuf -> collect, stored and verified) ${Math.round(ours)} records/s; baseline (same processor, stock BatchLogRecordProcessor + stock OTLP proto exporter, no outbox) ${Math.round(baseline)} records/s; ratio ${ratio.toFixed(3)} (target >= 0.5); receiver verify-and-store ${Math.round(receiver)} records/s`);
  console.log(JSON.stringify({ name: 'otlp-forward', unit: 'records/s', ours: Math.round(ours), baseline: Math.round(baseline), ratio: Number(ratio.toFixed(3)), records: N, receiverVerifyAndStore: Math.round(receiver), target: 0.5 }));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
