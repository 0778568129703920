/**
 * An `AuditSink` over any OpenTelemetry `LogRecordExporter` (DESIGN §1 use
 * 3, §5), so the stock OTLP exporter can be a sink without the
 * BatchLogRecordProcessor in between (it drops on overflow and failure,
 * §3). Each batch becomes one `export` call: records as LogRecords of §4.6
 * (body = canonical text), then checkpoints as `audit.checkpoint` LogRecords.
 * `SUCCESS` commits; `FAILED`, a thrown error, or no answer within
 * `exportTimeoutMillis` rejects (the processor retries the batch; receivers
 * de-duplicate by record id). The result callback is honoured once: a late
 * or second call is ignored. An exporter cannot tell a stream's head unless
 * it has a `head(stream)` method (the SQLite outbox has one); without it,
 * this sink is never a good primary unless the stream is new each start.
 */
import { trace, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { AuditBatch, AuditSink, ChainHead } from '@otel-audit/core';
import { logRecordOfCheckpoint, logRecordOfSealed } from './internal/outgoing.js';
import { AUDIT_SCOPE_NAME } from './semconv.js';

/**
 * Options of {@link LogRecordExporterSink}.
 *
 * @example
 * const options: LogRecordExporterSinkOptions = { exporter: new OTLPLogExporter(), resource: detectedResource };
 */
export interface LogRecordExporterSinkOptions {
  exporter: LogRecordExporter;
  /** Resource of the exported records. Default: empty. */
  resource?: ReadableLogRecord['resource'];
  /** Instrumentation scope name. Default `otel-audit`. */
  scopeName?: string;
  /** A batch not answered within this time is failed (and retried). Default 30,000. */
  exportTimeoutMillis?: number;
  /** Default `otlp`. */
  name?: string;
}

/**
 * Feeds an OpenTelemetry LogRecordExporter.
 *
 * @example
 * const sink = new LogRecordExporterSink({ exporter: new OTLPLogExporter({ url: 'http://collector:4318/v1/logs' }) });
 * new AuditLogRecordProcessor({ sinks: [sqliteSink, sink] });
 */
export class LogRecordExporterSink implements AuditSink {
  readonly name: string;
  /** Records travel one by one; the receiver (e.g. `otel-audit collect`) reports a missing seq. */
  readonly acceptsGaps = true;
  readonly #exporter: LogRecordExporter;
  readonly #resource: ReadableLogRecord['resource'];
  readonly #scope: ReadableLogRecord['instrumentationScope'];
  readonly #timeoutMillis: number;

  constructor(options: LogRecordExporterSinkOptions) {
    const exporter = options?.exporter;
    if (typeof exporter !== 'object' || exporter === null || typeof exporter.export !== 'function') {
      throw new TypeError('options.exporter must be a LogRecordExporter');
    }
    const timeout = options.exportTimeoutMillis ?? 30_000;
    if (!Number.isSafeInteger(timeout) || timeout < 1) throw new RangeError(`options.exportTimeoutMillis must be a positive integer; got ${String(timeout)}`);
    this.#exporter = exporter;
    this.#resource = options.resource ?? emptyResource();
    this.#scope = { name: options.scopeName ?? AUDIT_SCOPE_NAME };
    this.#timeoutMillis = timeout;
    this.name = options.name ?? 'otlp';
  }

  append(batch: AuditBatch): Promise<void> {
    const logs: ReadableLogRecord[] = [];
    for (const r of batch.records) logs.push(this.#readable(logRecordOfSealed(r)));
    for (const c of batch.checkpoints) logs.push(this.#readable(logRecordOfCheckpoint(c)));
    if (logs.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => finish({ code: ExportResultCode.FAILED, error: new Error(`exporter did not answer within ${this.#timeoutMillis} ms`) }), this.#timeoutMillis);
      timer.unref();
      const finish = (result: ExportResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (result?.code === ExportResultCode.SUCCESS) resolve();
        else reject(result?.error ?? new Error(`exporter failed (result code ${String(result?.code)})`));
      };
      try {
        this.#exporter.export(logs, finish);
      } catch (e) {
        finish({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
      }
    });
  }

  /** The exporter's `head(stream)` when it has one (the SQLite outbox); otherwise undefined: exporters cannot read back. */
  async head(stream: string): Promise<ChainHead | undefined> {
    const exporter = this.#exporter as LogRecordExporter & { head?: (stream: string) => ChainHead | undefined | Promise<ChainHead | undefined> };
    return typeof exporter.head === 'function' ? exporter.head(stream) : undefined;
  }

  async shutdown(): Promise<void> {
    await this.#exporter.shutdown();
  }

  #readable(r: ReturnType<typeof logRecordOfSealed>): ReadableLogRecord {
    const time = r.timestamp as HrTime;
    return {
      hrTime: time,
      hrTimeObserved: time,
      severityNumber: r.severityNumber,
      severityText: r.severityText,
      body: r.body,
      eventName: r.eventName,
      resource: this.#resource,
      instrumentationScope: this.#scope,
      attributes: r.attributes ?? {},
      droppedAttributesCount: 0,
      // The record's trace and span ids (§4.6), so the backend links it to its trace.
      ...(r.context !== undefined ? { spanContext: trace.getSpanContext(r.context) } : {}),
    };
  }
}
