/**
 * Validation and defaults of {@link AuditLogRecordProcessorOptions} (DESIGN
 * §5, §7): every option checked once at construction, misuse thrown
 * synchronously with the option's name first (TypeError for a wrong type,
 * RangeError for a wrong value), and the result as plain values the
 * processor reads on its hot path.
 */
import { globalErrorHandler } from '@opentelemetry/core';
import { diag } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import {
  DEFAULT_HASH_ALGORITHM,
  assertHashAlgorithm,
  noteKeyId,
  parseSignerKey,
  streamIdProblem,
  type AuditSink,
  type HashAlgorithm,
  type NormalizeOptions,
  type NoteSigner,
} from '@otel-audit/core';
import type { AuditLogRecordProcessorOptions, AuditProcessorWarning, OverflowPolicy } from '../audit-log-record-processor-options.js';
import { AUDIT_SCOPE_NAME } from '../semconv.js';
import { AuditShutdownError } from '../errors.js';
import { Redactor } from './redactor.js';

/** The options after validation, with every default applied. */
export interface ResolvedOptions {
  sinks: readonly AuditSink[];
  stream: string | undefined;
  scopeName: string;
  select: ((r: ReadWriteLogRecord) => boolean) | undefined;
  alg: HashAlgorithm;
  previousStream: string | undefined;
  redactor: Redactor;
  limits: NormalizeOptions;
  maxQueueSize: number;
  overflow: OverflowPolicy;
  spillPath: string | undefined;
  checkpointEvery: number;
  checkpointIntervalMillis: number;
  shutdownTimeoutMillis: number;
  signers: NoteSigner[];
  keyId: string | undefined;
  logger: Logger | undefined;
  onSealed: AuditLogRecordProcessorOptions['onSealed'];
  onWarning: (warning: AuditProcessorWarning) => void;
  onError: (error: Error) => void;
  maxBatchSize: number;
  flushIntervalMillis: number;
  retryInitialMillis: number;
  retryMaxMillis: number;
}

function positiveInt(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`options.${name} must be a number; got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`options.${name} must be a positive integer; got ${value}`);
  return value;
}

function assertSinks(sinks: unknown): asserts sinks is readonly AuditSink[] {
  if (!Array.isArray(sinks) || sinks.length === 0) throw new TypeError('options.sinks must be a non-empty array of AuditSink (the first is primary)');
  sinks.forEach((s: unknown, i) => {
    const sink = s as Partial<AuditSink> | null;
    if (typeof sink !== 'object' || sink === null || typeof sink.append !== 'function' || typeof sink.head !== 'function') {
      throw new TypeError(`options.sinks[${i}] must implement AuditSink (append(batch), head(stream))`);
    }
  });
}

/** The per-record shutdown error (audit-log-record-processor.ts): said once per process, not per record. */
export const EMITTED_AFTER_SHUTDOWN = 'audit record emitted after the audit processor was shut down; it was not written';

/** A process warning on stderr, once per process for `key` (a flag on globalThis, shared by copies of this package). */
function warnOnce(key: string, message: string, code: string): void {
  const slots = globalThis as Record<symbol, unknown>;
  const flag = Symbol.for(`@otel-audit/processor.${key}`);
  if (slots[flag] === true) return;
  slots[flag] = true;
  process.emitWarning(message, { code });
}

/**
 * Errors without an `onError`: the OpenTelemetry global error handler, silent
 * unless one is set. What shutdown could not deliver (records LOST, kept in
 * the spill file for the next start) is also a process warning on stderr,
 * every time, since it can be said nowhere else: no chain is left to seal it
 * into; a record emitted after shutdown, which comes per record, once per
 * process.
 */
function defaultOnError(e: Error): void {
  globalErrorHandler(e);
  if (!(e instanceof AuditShutdownError)) return;
  if (e.message === EMITTED_AFTER_SHUTDOWN) warnOnce('emitted-after-shutdown-said', e.message, e.code);
  else process.emitWarning(e.message, { code: e.code });
}

/**
 * Warnings without an `onWarning`: the diag logger, silent unless one is set.
 * Checkpoints written unsigned (no signer key) protect nothing against an
 * editor of the store, so that is also a process warning on stderr, once
 * per process.
 */
function DIAG_WARNING(w: AuditProcessorWarning): void {
  diag.warn(w.message);
  if (w.code === 'unsigned_checkpoints') warnOnce('unsigned-warning-said', w.message, 'OTEL_AUDIT_UNSIGNED_CHECKPOINTS');
}

/** How long `shutdown()` waits for the sinks by default. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 30_000;

/** The checkpoint signer of `signerKey` (none: unsigned checkpoints, and a warning once through `warn`). */
export function signerOf(signerKey: unknown, name = 'options.signerKey', warn: (w: AuditProcessorWarning) => void = DIAG_WARNING): { signers: NoteSigner[]; keyId: string | undefined } {
  if (signerKey === undefined) {
    warn({ code: 'unsigned_checkpoints', message: 'otel-audit: no checkpoint signer key configured (options.signerKey); checkpoints are written unsigned and verification will report the stream as unsigned' });
    return { signers: [], keyId: undefined };
  }
  if (typeof signerKey !== 'string') throw new TypeError(`${name} must be a PRIVATE+KEY+... string; got ${typeof signerKey}`);
  const signer = parseSignerKey(signerKey);
  return { signers: [signer], keyId: noteKeyId(signer.name, signer.keyHash) };
}

/**
 * Validate `options` and apply the defaults (README / options doc).
 *
 * @example
 * const o = resolveOptions({ sinks: [new InMemoryAuditSink()] }); // o.maxBatchSize === 100
 */
export function resolveOptions(options: AuditLogRecordProcessorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object with at least sinks');
  assertSinks(options.sinks);
  const scopeName = options.scopeName ?? AUDIT_SCOPE_NAME;
  if (typeof scopeName !== 'string' || scopeName === '') throw new TypeError('options.scopeName must be a non-empty string');
  if (options.select !== undefined && typeof options.select !== 'function') throw new TypeError('options.select must be a function (logRecord) => boolean');
  if (options.previousStream !== undefined && typeof options.previousStream !== 'string') throw new TypeError('options.previousStream must be a string');
  const overflow = options.overflow ?? 'block';
  if (overflow !== 'block' && overflow !== 'drop' && overflow !== 'spill') throw new RangeError(`options.overflow must be "block", "drop" or "spill"; got ${JSON.stringify(overflow)}`);
  if (options.spillPath !== undefined && (typeof options.spillPath !== 'string' || options.spillPath === '')) throw new TypeError('options.spillPath must be a non-empty file path');
  if (options.logger !== undefined && (typeof options.logger !== 'object' || typeof options.logger.emit !== 'function')) throw new TypeError('options.logger must be an OpenTelemetry Logger');
  if (options.onSealed !== undefined && typeof options.onSealed !== 'function') throw new TypeError('options.onSealed must be a function (record) => events to seal');
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new TypeError('options.onWarning must be a function ({ code, message }) => void');
  const onWarning = options.onWarning ?? DIAG_WARNING;
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('options.onError must be a function (error) => void');
  const onError = options.onError ?? defaultOnError;
  if (options.stream !== undefined && (typeof options.stream !== 'string' || options.stream === '')) throw new TypeError('options.stream must be a non-empty string');
  const streamProblem = options.stream === undefined ? undefined : streamIdProblem(options.stream);
  if (streamProblem !== undefined) throw new RangeError(`options.stream ${JSON.stringify(options.stream!.slice(0, 200))} is not a valid stream id: it ${streamProblem}`);
  const alg = assertHashAlgorithm(options.alg ?? DEFAULT_HASH_ALGORITHM, 'options.alg');
  const redactor = new Redactor(options.redaction);
  const maxQueueSize = positiveInt(options.maxQueueSize, 10_000, 'maxQueueSize');
  const checkpointEvery = positiveInt(options.checkpointEveryRecords, 1000, 'checkpointEveryRecords');
  const checkpointIntervalMillis = positiveInt(options.checkpointIntervalMillis, 10_000, 'checkpointIntervalMillis');
  const shutdownTimeoutMillis = positiveInt(options.shutdownTimeoutMillis, DEFAULT_SHUTDOWN_TIMEOUT_MILLIS, 'shutdownTimeoutMillis');
  const { signers, keyId } = signerOf(options.signerKey, 'options.signerKey', onWarning);
  return {
    sinks: [...options.sinks],
    stream: options.stream,
    scopeName,
    select: options.select,
    alg,
    previousStream: options.previousStream,
    redactor,
    limits: { ...options.limits, redact: redactor.hook },
    maxQueueSize,
    overflow,
    spillPath: options.spillPath,
    checkpointEvery,
    checkpointIntervalMillis,
    shutdownTimeoutMillis,
    signers,
    keyId,
    logger: options.logger,
    onSealed: options.onSealed,
    onWarning,
    onError,
    maxBatchSize: positiveInt(options.maxBatchSize, 100, 'maxBatchSize'),
    flushIntervalMillis: positiveInt(options.flushIntervalMillis, 5000, 'flushIntervalMillis'),
    retryInitialMillis: positiveInt(options.retryInitialMillis, 100, 'retryInitialMillis'),
    retryMaxMillis: positiveInt(options.retryMaxMillis, 30_000, 'retryMaxMillis'),
  };
}

