/**
 * Test helpers: a provider wired to a processor, a sink that fails on
 * demand, and verification of what a sink holds with core's Verifier.
 */
import { LoggerProvider, InMemoryLogRecordExporter, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { Keyring, Verifier, generateNoteKey, type AuditBatch, type ChainHead, type VerificationReport } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink, type AuditLogRecordProcessorOptions } from '../src/index.js';

export const KEYS = generateNoteKey('test.example/audit');

export function setup(options: Partial<AuditLogRecordProcessorOptions> & { sinks?: AuditLogRecordProcessorOptions['sinks'] } = {}) {
  const sink = new InMemoryAuditSink();
  const processor = new AuditLogRecordProcessor({ stream: 'test/1', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 20, ...options });
  const provider = new LoggerProvider({ processors: [processor] });
  const logger = provider.getLogger('otel-audit');
  return { sink, processor, provider, logger };
}

/**
 * A processor followed by a SimpleLogRecordProcessor into an in-memory
 * exporter (what travels downstream), on a provider added to `providers`
 * for the caller to shut down.
 */
export function withDownstream(providers: LoggerProvider[], options: Parameters<typeof setup>[0] = {}) {
  const sink = new InMemoryAuditSink();
  const processor = new AuditLogRecordProcessor({ stream: 'test/1', signerKey: KEYS.signerKey, sinks: [sink], flushIntervalMillis: 20, ...options });
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [processor, new SimpleLogRecordProcessor({ exporter })] });
  providers.push(provider);
  return { sink, processor, exporter, provider, audit: provider.getLogger('otel-audit'), app: provider.getLogger('app') };
}

/** A sink that fails while `failing` is true (or for the next `failNext` calls). */
export class FlakySink extends InMemoryAuditSink {
  failing = false;
  failNext = 0;
  attempts = 0;
  failures = 0;
  override async append(batch: AuditBatch): Promise<void> {
    this.attempts++;
    if (this.failing || this.failNext > 0) {
      if (this.failNext > 0) this.failNext--;
      this.failures++;
      throw new Error('sink unavailable');
    }
    return super.append(batch);
  }
  override async head(stream: string): Promise<ChainHead | undefined> {
    return super.head(stream);
  }
}

/** Verify everything a sink holds, checkpoints included, against the test key. */
export function verifySink(sink: InMemoryAuditSink, trusted = true): VerificationReport {
  const v = new Verifier(trusted ? { keyring: Keyring.from([KEYS.verifierKey]) } : {});
  for (const c of sink.checkpoints) v.addCheckpoint(c.note);
  for (const r of sink.records) v.addRecord(r.canonical, r.hash);
  return v.finish();
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond()` holds (polling), failing after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await tick(5);
  }
}
