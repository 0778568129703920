/**
 * Options of the audit LogRecordProcessor (DESIGN §3–§5, §7): sinks, stream,
 * redaction, batching, queue and overflow policy, checkpoints, lifecycle.
 * Durations are in milliseconds; validation (with the option named in each
 * error) happens in the processor's constructor.
 */
import type { MeterProvider } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { AuditEventInput, AuditSink, HashAlgorithm, NormalizeOptions, SealedRecord } from '@otel-audit/core';
import type { RedactionOptions } from './redaction.js';

/** What happens when the queue is full. */
export type OverflowPolicy = 'block' | 'drop' | 'spill';

/**
 * Options of {@link AuditLogRecordProcessor}. Durations are in milliseconds.
 *
 * @example
 * const options: AuditLogRecordProcessorOptions = { sinks: [sqliteSink, otlpSink], stream: 'billing-api/eu-1', signerKey: process.env.AUDIT_SIGNER_KEY };
 */
export interface AuditLogRecordProcessorOptions {
  /** Where records go; the first is the primary (receipts, stream head). At least one. */
  sinks: readonly AuditSink[];
  /** Stream id. Default `<service.name>/<service.instance.id or a per-process UUIDv7>` from the record's resource. */
  stream?: string;
  /** The stream this one follows, named in its `stream_started` record. */
  previousStream?: string;
  /** Hash algorithm of a new stream. Default `sha256`; a resumed stream keeps its own. */
  alg?: HashAlgorithm;
  /** Which LogRecords are audit records. Default: instrumentation scope name === `scopeName`. */
  select?: (logRecord: ReadWriteLogRecord) => boolean;
  /** Default `otel-audit`. */
  scopeName?: string;
  redaction?: RedactionOptions;
  /** Records per batch; a full batch goes at once. Default 100. */
  maxBatchSize?: number;
  /** A partial batch goes after this long. Default 5000. */
  flushIntervalMillis?: number;
  /** Records and checkpoints waiting for a sink before the overflow policy applies. Default 10,000. */
  maxQueueSize?: number;
  /**
   * `block` (default): the processor marks itself congested (producers waiting
   * on core's `whenAuditCapacity()` hold back) and still admits records up to
   * twice `maxQueueSize`; `drop`: records beyond `maxQueueSize` are dropped.
   * Every drop is counted in a `system/records_dropped` record and a metric,
   * and the record's receipt rejects with `AuditQueueFullError`; `spill`:
   * records beyond `maxQueueSize` are sealed as usual and appended to a local
   * file (`spillPath`), replayed in order as the queue drains — nothing is
   * dropped and memory stays bounded. A file left by a crashed process is
   * replayed by the next processor started with the same `spillPath` (README).
   *
   * Under `block` and `drop`, a failing secondary sink (any but the first)
   * that accepts gaps (`AuditSink.acceptsGaps`, e.g. `LogRecordExporterSink`)
   * does not hold the queue full for the primary: when the queue reaches
   * `maxQueueSize`, it gives up the records the primary has committed — they
   * stay in the chain and the primary, that sink misses them — and a
   * `system/records_dropped` record with `details.sink`, the count and the
   * seq range says so — one record per sink and checkpoint interval (the
   * sink receives it once it recovers). A sink skips only between attempts:
   * one whose export hangs until its timeout holds the queue meanwhile.
   * Under `spill` every sink gets every record.
   */
  overflow?: OverflowPolicy;
  /**
   * File for the `spill` policy. Default: `<os tmpdir>/otel-audit-<pid>-<uuid>.spill`
   * (unique per process, so nothing is replayed after a crash: set a fixed path for that).
   */
  spillPath?: string;
  /** First retry delay after a sink failure. Default 100. */
  retryInitialMillis?: number;
  /** Largest retry delay. Default 30,000. */
  retryMaxMillis?: number;
  /** Checkpoint after this many records. Default 1000. */
  checkpointEveryRecords?: number;
  /** Checkpoint this often when the tree grew. Default 10,000. */
  checkpointIntervalMillis?: number;
  /** Ed25519 signer key `PRIVATE+KEY+<name>+<hash>+<base64>` (DESIGN §4.3). Without one, checkpoints are unsigned. */
  signerKey?: string;
  /** How long shutdown waits for sinks. Default 30,000. */
  shutdownTimeoutMillis?: number;
  /** Normalisation limits (depth, size, field length). */
  limits?: Omit<NormalizeOptions, 'redact'>;
  /** For the processor's metrics. Default: the global MeterProvider. */
  meterProvider?: MeterProvider;
  /**
   * Where the processor emits the LogRecords it writes itself (checkpoints,
   * system records). Default: the global logger provider's `otel-audit` logger.
   */
  logger?: Logger;
  /**
   * Called synchronously right after each record is sealed, in seal order —
   * the place for the alert engine (DESIGN §9). Events it returns are sealed
   * at once after that record, in the same chain, and emitted downstream;
   * records sealed that way are not passed to it again. It must not throw
   * (errors go to the global error handler) nor do I/O.
   */
  onSealed?: (record: SealedRecord['record']) => readonly AuditEventInput[] | undefined | void;
  /**
   * Receives the processor's warnings: at startup, checkpoints without a
   * signer key (`unsigned_checkpoints`) and a resumed stream keeping its own
   * hash algorithm (`stream_algorithm_kept`), streams left by processes
   * that ended without stopping, sealed by this one (`streams_abandoned`);
   * later, a sink that commits
   * again after failing (`sink_recovered`; its failures go to the
   * OpenTelemetry global error handler). Default: the OpenTelemetry diag
   * logger (`diag.warn`), silent unless one is set up; @otel-audit/node
   * prints them on stderr.
   */
  onWarning?: (warning: AuditProcessorWarning) => void;
  /**
   * Receives the processor's errors: a sink failing, records not written at
   * shutdown, a spill file that cannot be written or replayed. Default: the
   * OpenTelemetry global error handler (silent unless one is set); pass a
   * function to see them without registering a global handler.
   */
  onError?: (error: Error) => void;
}

/** A startup warning of the processor (see `onWarning`). */
export interface AuditProcessorWarning {
  code: 'unsigned_checkpoints' | 'stream_algorithm_kept' | 'sink_recovered' | 'stream_in_use' | 'streams_abandoned';
  /** One sentence, starting with `otel-audit:`. */
  message: string;
}
