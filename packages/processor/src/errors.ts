/**
 * Domain errors of @otel-audit/processor, each with a stable `code`. They
 * reach producers through rejected receipts and the OpenTelemetry global
 * error handler — never as exceptions thrown from `onEmit`, `forceFlush` or
 * `shutdown`. Misuse of the constructor throws `TypeError`/`RangeError`.
 */
import { AuditError, maskedError, redactSecrets } from '@otel-audit/core';

/**
 * The record was not admitted: the queue was full under the `drop` policy.
 * A `system/records_dropped` record in the chain counts it.
 *
 * @example
 * await receipt.catch((e) => { if (e instanceof AuditQueueFullError) retryLater(); });
 */
export class AuditQueueFullError extends AuditError {
  /** The queue bound that was reached. */
  readonly maxQueueSize: number;

  constructor(maxQueueSize: number) {
    super('AUDIT_QUEUE_FULL', `audit queue is full (${maxQueueSize} records waiting for a sink); the record was dropped and the loss recorded`);
    this.name = 'AuditQueueFullError';
    this.maxQueueSize = maxQueueSize;
  }
}

/**
 * A sink rejected a batch. Reported to the global error handler on the first
 * failure of a streak; the batch is retried with backoff. The cause's
 * message is quoted with secrets masked (a forwarding sink's error may echo
 * its URL or a header), and `cause` is a masked copy (core's maskedError).
 *
 * @example
 * setGlobalErrorHandler((e) => { if (e instanceof AuditSinkError) page(e.sink); });
 */
export class AuditSinkError extends AuditError {
  /** The sink's name. */
  readonly sink: string;
  /** Consecutive failures so far. */
  readonly attempts: number;

  constructor(sink: string, attempts: number, cause: unknown) {
    super('AUDIT_SINK_FAILED', `audit sink "${sink}" failed (attempt ${attempts}): ${redactSecrets(cause instanceof Error ? cause.message : String(cause))}; retrying with backoff`, { cause: maskedError(cause) });
    this.name = 'AuditSinkError';
    this.sink = sink;
    this.attempts = attempts;
  }
}

/**
 * The producer's record was invalid; it was sealed as an `error`-outcome
 * `system/record_rejected` record instead. `pointer` names the bad value.
 *
 * @example
 * try { await receipt } catch (e) { if (e instanceof AuditRecordRejectedError) console.error(e.pointer); }
 */
export class AuditRecordRejectedError extends AuditError {
  /** RFC 6901 pointer of the offending value in the event. */
  readonly pointer: string;
  /** Id of the `record_rejected` record that stands in the chain instead. */
  readonly rejectionId: string | undefined;

  constructor(message: string, pointer: string, rejectionId: string | undefined, cause: unknown) {
    super('AUDIT_RECORD_REJECTED', message, { cause });
    this.name = 'AuditRecordRejectedError';
    this.pointer = pointer;
    this.rejectionId = rejectionId;
  }
}

/**
 * The processor shut down (or gave up at its shutdown timeout) before the
 * record was committed by the primary sink.
 *
 * @example
 * await provider.shutdown(); // pending receipts reject with AuditShutdownError
 */
export class AuditShutdownError extends AuditError {
  constructor(message: string) {
    super('AUDIT_SHUTDOWN', message);
    this.name = 'AuditShutdownError';
  }
}
