/**
 * The timed run shared by the processor benchmarks: `logger.emit()` of every
 * body → AuditLogRecordProcessor → `sink`, producers emitting in chunks of
 * 1000 and waiting on whenAuditCapacity() (or yielding) between chunks,
 * until every record is committed.
 */
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { whenAuditCapacity, type AuditBatch, type AuditEventInput, type AuditSink } from '@otel-audit/core';
import { AuditLogRecordProcessor, type AuditLogRecordProcessorOptions } from '../src/index.js';

const CHUNK = 1000;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/**
 * Counts what is committed and keeps nothing, so no side pays for retention.
 * It reads nothing of the records either: a queued record's object is parsed
 * from its canonical text on first use, a cost (~20% of a run) a sink that
 * stores the text does not pay.
 */
export class CountingSink implements AuditSink {
  readonly name = 'count';
  records = 0;
  async append(batch: AuditBatch): Promise<void> {
    this.records += batch.records.length;
  }
  async head(): Promise<undefined> {
    return undefined;
  }
}

/** Records/s from the first emit until everything is committed; the processor is shut down afterwards. */
export async function timeProcessor(sink: AuditSink, bodies: readonly AuditEventInput[], options: Partial<AuditLogRecordProcessorOptions> = {}): Promise<number> {
  const processor = new AuditLogRecordProcessor({ sinks: [sink], stream: 'bench/1', checkpointEveryRecords: 1000, maxBatchSize: 100, ...options });
  const provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  const logger = provider.getLogger('otel-audit');
  const start = process.hrtime.bigint();
  for (let i = 0; i < bodies.length; i++) {
    logger.emit({ body: bodies[i] as never });
    if (i % CHUNK === CHUNK - 1) await (whenAuditCapacity() ?? yieldNow());
  }
  await processor.forceFlush();
  const rate = bodies.length / (Number(process.hrtime.bigint() - start) / 1e9);
  await provider.shutdown();
  return rate;
}
