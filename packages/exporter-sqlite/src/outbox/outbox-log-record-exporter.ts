/**
 * The SQLite outbox in front of an OTLP exporter (DESIGN §1 use 3, §5): a
 * `LogRecordExporter` whose `export` commits the records to the outbox file
 * in one transaction and reports success only after that commit — so the
 * audit processor's receipt for this sink means "durable in the outbox" —
 * while {@link OutboxShipper} sends them on, in order, through the inner
 * exporter (the stock OTLP exporter, or one built on
 * `createOtlpHttpTransport`). Rows left at shutdown or by a crash are sent
 * after the next start. Depth and age of the oldest row are observable
 * gauges (the age on the monotonic clock for the rows this process
 * enqueued, `EnqueueTimes`); shipped, retried and dead-lettered records are
 * counters.
 */
import { diag, metrics, type BatchObservableCallback, type MeterProvider } from '@opentelemetry/api';
import type Database from 'better-sqlite3';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { EnqueueTimes } from './enqueue-times.js';
import { encodeLog, encodeResource } from './log-record-codec.js';
import type { ChainHead } from '@otel-audit/core';
import { OutboxDb } from './outbox-db.js';
import { OutboxHeads } from './outbox-heads.js';
import { OutboxShipper, type DeadLetterInfo } from './outbox-shipper.js';
import type { ExportFailure } from './export-failure.js';

/**
 * Options of {@link OutboxLogRecordExporter}.
 *
 * @example
 * const options: OutboxLogRecordExporterOptions = { path: 'outbox.db', exporter: new OTLPLogExporter(), maxAgeMillis: 7 * 86_400_000 };
 */
export interface OutboxLogRecordExporterOptions {
  /** SQLite file of the outbox (created when missing). */
  path: string;
  /** Where the records go: an OTLP LogRecordExporter. */
  exporter: LogRecordExporter;
  /** Records per request. Default 512. */
  maxBatchSize?: number;
  /** A retryable failure older than this dead-letters the batch. Default 7 days. */
  maxAgeMillis?: number;
  /** First backoff cap; doubles per failed attempt. Default 500. */
  initialBackoffMillis?: number;
  /** Largest backoff. Default 30,000. */
  maxBackoffMillis?: number;
  /** An export not answered in this time is retried. Default 30,000. */
  exportTimeoutMillis?: number;
  /** How long `shutdown` keeps trying to ship before it leaves the rest for the next start. Default 5,000. */
  shutdownTimeoutMillis?: number;
  /** `FULL` also survives power loss. Default `NORMAL`. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Called when records were moved to the dead-letter table (turn it into an audit record). */
  onDeadLetter?: (info: DeadLetterInfo) => void;
  /** Called after each failed attempt that will be retried (for an outage notice; secrets masked). */
  onRetry?: (failure: ExportFailure) => void;
  /** Called with the number of records the receiver accepted, after each accepted request. */
  onShipped?: (records: number) => void;
  /**
   * Told, in a line for people, what shutdown left in the outbox for the
   * next start (the receiver did not take it in time). Default: `diag.warn`.
   */
  onWarning?: (message: string) => void;
  /** Metrics go here. Default: the global MeterProvider. */
  meterProvider?: MeterProvider;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`options.${name} must be a positive integer; got ${String(value)}`);
  return v;
}

/**
 * Durable, ordered, retrying forwarding of audit LogRecords.
 *
 * @example
 * const outbox = new OutboxLogRecordExporter({ path: 'outbox.db', exporter: new OTLPLogExporter({ url: 'http://collector:4318/v1/logs' }) });
 * new AuditLogRecordProcessor({ sinks: [store, new LogRecordExporterSink({ exporter: outbox })] });
 */
export class OutboxLogRecordExporter implements LogRecordExporter {
  readonly #db: OutboxDb;
  readonly #heads: OutboxHeads;
  readonly #inner: LogRecordExporter;
  readonly #shipper: OutboxShipper;
  readonly #resourceIds = new WeakMap<object, number>();
  readonly #insertAll: Database.Transaction<(logs: ReadableLogRecord[]) => { from: number; upTo: number }>;
  readonly #enqueueTimes = new EnqueueTimes();
  readonly #shutdownTimeoutMillis: number;
  readonly #onWarning: (message: string) => void;
  #shutdown: Promise<void> | undefined;
  #unobserve: () => void = () => undefined;

  constructor(options: OutboxLogRecordExporterOptions) {
    const inner = options?.exporter;
    if (typeof inner !== 'object' || inner === null || typeof inner.export !== 'function') throw new TypeError('options.exporter must be a LogRecordExporter');
    const settings = {
      maxBatchSize: positive(options.maxBatchSize, 512, 'maxBatchSize'),
      maxAgeMillis: positive(options.maxAgeMillis, 7 * 86_400_000, 'maxAgeMillis'),
      initialBackoffMillis: positive(options.initialBackoffMillis, 500, 'initialBackoffMillis'),
      maxBackoffMillis: positive(options.maxBackoffMillis, 30_000, 'maxBackoffMillis'),
      exportTimeoutMillis: positive(options.exportTimeoutMillis, 30_000, 'exportTimeoutMillis'),
    };
    this.#shutdownTimeoutMillis = positive(options.shutdownTimeoutMillis, 5_000, 'shutdownTimeoutMillis');
    this.#onWarning = options.onWarning ?? ((m) => diag.warn(m));
    this.#db = new OutboxDb(options.path, options.synchronous);
    this.#inner = inner;
    const meter = (options.meterProvider ?? metrics).getMeter('@otel-audit/exporter-sqlite');
    const shipped = meter.createCounter('otel_audit.outbox.shipped', { description: 'Audit log records the receiver accepted', unit: '{record}' });
    const dead = meter.createCounter('otel_audit.outbox.dead_letters', { description: 'Audit log records moved to the dead-letter table', unit: '{record}' });
    const retries = meter.createCounter('otel_audit.outbox.retries', { description: 'Exports retried after a retryable failure', unit: '{export}' });
    const depth = meter.createObservableGauge('otel_audit.outbox.depth', { description: 'Audit log records waiting in the outbox', unit: '{record}' });
    const age = meter.createObservableGauge('otel_audit.outbox.oldest_age', { description: 'Age of the oldest record waiting in the outbox', unit: 's' });
    const observe: BatchObservableCallback = (result) => {
      if (!this.#db.db.open) return;
      const d = this.#db.depth();
      result.observe(depth, d.depth);
      if (d.firstId === null || d.oldest === null) {
        this.#enqueueTimes.clear();
        result.observe(age, 0);
        return;
      }
      // The wall-clock age only for rows enqueued before this process started (or requeued by another).
      const millis = this.#enqueueTimes.ageOf(d.firstId, performance.now()) ?? Math.max(0, Date.now() - d.oldest);
      result.observe(age, millis / 1000);
    };
    meter.addBatchObservableCallback(observe, [depth, age]);
    this.#unobserve = () => meter.removeBatchObservableCallback(observe, [depth, age]);
    this.#shipper = new OutboxShipper(this.#db, inner, {
      ...settings,
      onShipped: (n) => {
        shipped.add(n);
        options.onShipped?.(n);
      },
      onRetry: (failure) => {
        retries.add(1);
        options.onRetry?.(failure);
      },
      onDeadLetter: (info) => {
        dead.add(info.records);
        options.onDeadLetter?.(info);
      },
    });
    const db = this.#db;
    const heads = (this.#heads = new OutboxHeads(db.db));
    this.#insertAll = db.db.transaction((logs: ReadableLogRecord[]) => {
      const now = Date.now();
      let from = 0;
      let upTo = 0;
      for (const log of logs) {
        upTo = db.insert(now, this.#resourceIdOf(log.resource), encodeLog(log));
        if (from === 0) from = upTo;
        heads.follow(log);
      }
      heads.write();
      return { from, upTo };
    });
    // Rows left by a previous run (a crash, or shutdown while the receiver was down).
    this.#shipper.kick();
  }

  /** The outbox file. */
  get path(): string {
    return this.#db.path;
  }

  /**
   * Records waiting in the outbox (0 once it is closed). Counts the rows:
   * for occasional use, not per export.
   *
   * @example
   * outbox.waiting() // 71234 during a receiver outage
   */
  waiting(): number {
    return this.#db.db.open ? this.#db.depth().depth : 0;
  }

  /**
   * Commit `logs` to the outbox; `resultCallback` gets SUCCESS only after
   * the commit, exactly once.
   *
   * @example
   * outbox.export(logs, (r) => console.log(r.code === ExportResultCode.SUCCESS ? 'durable' : r.error));
   */
  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    let result: ExportResult;
    try {
      if (this.#shutdown !== undefined) throw new Error('OutboxLogRecordExporter was shut down');
      if (logs.length > 0) {
        const rows = this.#insertAll.immediate(logs);
        this.#enqueueTimes.note(rows.from, rows.upTo, performance.now());
      }
      this.#heads.committed();
      result = { code: ExportResultCode.SUCCESS };
    } catch (e) {
      this.#heads.rollback();
      result = { code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) };
    }
    resultCallback(result);
    if (result.code === ExportResultCode.SUCCESS) this.#shipper.kick();
  }

  /**
   * The head of `stream` after the last record committed to this outbox
   * (kept when rows are shipped and deleted), so that an outbox used as the
   * processor's primary sink resumes the stream after a restart; undefined
   * when the outbox never saw the stream from its first record.
   *
   * @example
   * new LogRecordExporterSink({ exporter: outbox }).head('billing/api-1') // asks outbox.head()
   */
  head(stream: string): ChainHead | undefined {
    if (!this.#db.db.open) return undefined;
    return this.#heads.head(stream);
  }

  /**
   * Wait until the outbox is empty, or until the shipper backs off after a
   * failure (the records stay durable and are sent later).
   *
   * @example
   * await outbox.forceFlush();
   */
  async forceFlush(): Promise<void> {
    if (this.#shutdown !== undefined || !this.#db.db.open) return;
    this.#shipper.kick();
    while (this.#db.depth().depth > 0 && !this.#shipper.backingOff) {
      // Ref'd, unlike the shipper's timers: it lives only while a caller awaits, and without
      // it a script's last `await forceFlush()` ended (exit 13) as soon as the shipper backed off.
      let poll: NodeJS.Timeout | undefined;
      await Promise.race([this.#shipper.idle(), new Promise((r) => (poll = setTimeout(r, 50)))]);
      clearTimeout(poll);
      if (!this.#db.db.open) return;
      this.#shipper.kick();
    }
  }

  /**
   * Ship for up to `shutdownTimeoutMillis`, then stop and close the file; the
   * rest stays durable in the outbox and is sent after the next start.
   * Resolves within `shutdownTimeoutMillis` even when the receiver is down
   * and nothing else keeps the process alive. Idempotent.
   *
   * @example
   * await provider.shutdown();
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  async #close(): Promise<void> {
    // One deadline bounds every wait of shutdown. Its timer is ref'd, unlike the
    // shipper's: a caller awaiting shutdown (a script's last await) must get an answer
    // even when nothing else keeps the event loop alive and the receiver is down.
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const deadline = new Promise<void>((r) => {
      timer = setTimeout(() => {
        timedOut = true;
        r();
      }, this.#shutdownTimeoutMillis);
    });
    const bounded = (p: Promise<unknown>): Promise<unknown> => Promise.race([p, deadline]);
    try {
      await bounded((async () => {
        while (!timedOut && this.#db.depth().depth > 0) {
          this.#shipper.kick();
          await Promise.race([this.#shipper.idle(), new Promise((r) => setTimeout(r, 100).unref())]);
          // Last attempts do not wait out a long backoff.
          if (!timedOut) this.#shipper.retryNow();
        }
      })());
    } finally {
      // A request still in flight at the deadline is not waited for: its rows stay in
      // the outbox (committed, not deleted) and are sent after the next start.
      await bounded(this.#shipper.stop());
      this.#unobserve();
      this.#reportLeft();
      this.#db.close();
      await bounded(this.#inner.shutdown().catch((e: unknown) => diag.error('otel-audit outbox: inner exporter shutdown failed', e)));
      clearTimeout(timer);
    }
  }

  /** Records shutdown leaves behind are not lost, but a person should know they wait. */
  #reportLeft(): void {
    let left: number;
    try {
      left = this.#db.depth().depth;
    } catch {
      return; // the file is gone or broken: what it holds is not known here
    }
    if (left === 0) return;
    this.#onWarning(`otel-audit outbox ${this.#db.path}: ${left} record(s) the receiver has not taken yet stay in the outbox;`
      + ' they are sent after the next start (`otel-audit status` shows them and the last error)');
  }

  #resourceIdOf(resource: ReadableLogRecord['resource']): number {
    let id = this.#resourceIds.get(resource);
    if (id === undefined) {
      id = this.#db.resourceId(encodeResource(resource));
      this.#resourceIds.set(resource, id);
    }
    return id;
  }
}
