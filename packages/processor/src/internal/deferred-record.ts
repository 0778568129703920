/**
 * Records emitted before the stream head is known (DESIGN §3: nothing can be
 * sealed until the primary sink told where the stream stands). Each is
 * normalised and redacted at once, so a producer mutating its object later
 * changes nothing, and waits here — with its receipt, time and trace context
 * — to be sealed in emit order once the stream is open.
 */
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { canonicalize, normalizeEvent, type AuditEvent, type AuditEventInput, type NormalizeOptions, type ReceiptCallbacks } from '@otel-audit/core';
import { hrTimeToNanosText } from './log-record-event.js';
import { writePending } from './outgoing.js';
import type { QueueBound } from './queue-bound.js';
import type { Redactor } from './redactor.js';

/** One record waiting for the stream head. */
export interface DeferredRecord {
  /** The normalised, redacted event; undefined when it was invalid. */
  event: AuditEvent | undefined;
  /** Why it was invalid. */
  error: unknown;
  receipt: ReceiptCallbacks | undefined;
  timeText: string;
  traceId: string | undefined;
  spanId: string | undefined;
}

/**
 * The deferred form of an audit LogRecord whose event input was read (or
 * failed to be read: `error`).
 *
 * @example
 * const d = deferredRecord(logRecord, eventInputOf(logRecord), undefined, receipt, limits);
 */
export function deferredRecord(
  logRecord: ReadWriteLogRecord,
  input: Record<string, unknown> | undefined,
  error: unknown,
  receipt: ReceiptCallbacks | undefined,
  limits: NormalizeOptions,
): DeferredRecord {
  let event: AuditEvent | undefined;
  if (input !== undefined) {
    try {
      event = normalizeEvent(input as unknown as AuditEventInput, limits);
    } catch (e) {
      error = e;
    }
  }
  const sc = logRecord.spanContext;
  return { event, error, receipt, timeText: hrTimeToNanosText(logRecord.hrTime), traceId: sc?.traceId, spanId: sc?.spanId };
}

/** The records waiting for the stream head, bounded like the queue. */
export class DeferredRecords {
  #list: DeferredRecord[] = [];
  readonly #bound: QueueBound;
  readonly #redactor: Redactor;
  readonly #limits: NormalizeOptions;

  constructor(bound: QueueBound, redactor: Redactor, limits: NormalizeOptions) {
    this.#bound = bound;
    this.#redactor = redactor;
    this.#limits = limits;
  }

  get length(): number {
    return this.#list.length;
  }

  /**
   * Hold one record (or drop it, beyond the bound) and rewrite the live
   * LogRecord as `audit.pending` with the redacted event (`audit.dropped`).
   */
  add(logRecord: ReadWriteLogRecord, input: Record<string, unknown> | undefined, error: unknown, receipt: ReceiptCallbacks | undefined): void {
    if (this.#list.length >= this.#bound.deferLimit) {
      this.#bound.drop(receipt, hrTimeToNanosText(logRecord.hrTime));
      writePending(logRecord, this.#redactor, '', 'audit.dropped');
      return;
    }
    const d = deferredRecord(logRecord, input, error, receipt, this.#limits);
    this.#list.push(d);
    writePending(logRecord, this.#redactor, d.event !== undefined ? canonicalize(d.event) : '', 'audit.pending');
  }

  /** Everything held, in emit order; the list is emptied. */
  take(): DeferredRecord[] {
    const list = this.#list;
    this.#list = [];
    return list;
  }
}
