/**
 * processor-throughput: records/s through logger.emit() →
 * AuditLogRecordProcessor → InMemoryAuditSink (until every record is
 * committed), beside the same run's baseline logger.emit() →
 * SimpleLogRecordProcessor → no-op exporter. 200,000 realistic records
 * (~600 bytes canonical, core's bench fixtures); producers emit in chunks of
 * 1000 and yield between chunks (the audit side also waits on
 * whenAuditCapacity() when the queue is full). ratio = ours / baseline.
 * Also measured in the same run, to say where the time goes: core's
 * AuditChain.append alone over the same bodies (normalise + redact-free
 * canonicalize + hash + Merkle append), the floor under any audit processor.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { AuditChain } from '@otel-audit/core';
import { InMemoryAuditSink } from '../src/index.js';
import { CountingSink, timeProcessor } from './processor-run.js';
import { realisticEvent } from '../../core/bench/fixtures.js';

const N = Number(process.env.BENCH_RECORDS ?? 200_000);
const CHUNK = 1000;
const bodies = Array.from({ length: N }, (_, i) => realisticEvent(i));
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

const noopExporter: LogRecordExporter = {
  export: (_logs, cb) => cb({ code: ExportResultCode.SUCCESS }),
  shutdown: async () => {},
  forceFlush: async () => {},
};

async function baseline(): Promise<number> {
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: noopExporter })] });
  const logger = provider.getLogger('otel-audit');
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    logger.emit({ body: bodies[i] as never });
    if (i % CHUNK === CHUNK - 1) await yieldNow();
  }
  await provider.forceFlush();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await provider.shutdown();
  return N / secs;
}

/** BENCH_SINK=count: a sink that keeps nothing, to separate our cost from the in-memory sink's retention (GC). */
async function ours(): Promise<{ rate: number; committed: number }> {
  const sink = process.env.BENCH_SINK === 'count' ? new CountingSink() : new InMemoryAuditSink();
  const rate = await timeProcessor(sink, bodies);
  return { rate, committed: sink instanceof CountingSink ? sink.records : sink.records.length };
}

function coreOnly(): number {
  const chain = new AuditChain({ stream: 'bench/core' });
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) chain.append(bodies[i]!);
  return N / (Number(process.hrtime.bigint() - start) / 1e9);
}

// Warm up both paths, then alternate and keep the best of three each.
await baseline();
await ours();
let b = 0;
let o = { rate: 0, committed: 0 };
let c = 0;
for (let r = 0; r < 3; r++) {
  b = Math.max(b, await baseline());
  c = Math.max(c, coreOnly());
  const x = await ours();
  if (x.rate > o.rate) o = x;
  if (global.gc) global.gc();
}
if (o.committed < N) throw new Error(`only ${o.committed} of ${N} records committed`);
console.log(`processor-throughput: ours ${Math.round(o.rate)} records/s (emit → audit processor → in-memory sink, committed), baseline (emit → SimpleLogRecordProcessor → no-op exporter) ${Math.round(b)} records/s; core AuditChain.append alone ${Math.round(c)} records/s (ours is ${(o.rate / c).toFixed(2)}× of it)`);
console.log(JSON.stringify({ name: 'processor-throughput', unit: 'records/s', ours: Math.round(o.rate), baseline: Math.round(b), ratio: Number((o.rate / b).toFixed(3)), records: N, coreAppendOnly: Math.round(c), ratioToCoreAppend: Number((o.rate / c).toFixed(3)) }));
