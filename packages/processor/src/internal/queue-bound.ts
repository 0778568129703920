/**
 * The bound on the delivery queue for the `block` and `drop` overflow
 * policies (DESIGN §5 "never a silent drop"): `block` marks the processor
 * congested (producers awaiting core's `whenAuditCapacity()` hold back) and
 * still admits up to twice the bound; `drop` — and `block` beyond twice the
 * bound — drops the record, rejects its receipt with `AuditQueueFullError`,
 * counts it in the `records.dropped` metric and in the loss that the
 * processor seals as a `system/records_dropped` record once there is room.
 * The first drop of an outage is said once on the error path (drops are
 * otherwise only in the chain, which a failing store may not take); the
 * sink's recovery message gives the count dropped meanwhile. At shutdown,
 * producers still waiting for capacity are rejected at once.
 */
import type { HrTime } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { setAuditCongestion, type ReceiptCallbacks } from '@otel-audit/core';
import { AuditQueueFullError } from '../errors.js';
import { hrTimeToNanosText } from './log-record-event.js';
import type { ProcessorMetrics } from './metrics.js';
import type { DropCause, Drops } from './system-events.js';

/** A drop warning is said again, while drops go on without a recovery between, at most this often. */
const REWARN_MILLIS = 60_000;

/** Admission against the queue bound, and the loss not yet recorded. */
export class QueueBound {
  readonly #owner: object;
  readonly #max: number;
  readonly #hard: number;
  readonly #block: boolean;
  readonly #deferLimit: number;
  readonly #metrics: ProcessorMetrics;
  readonly #overflow: string;
  readonly #onError: (error: Error) => void;
  #drops: Drops | undefined;
  #congested = false;
  /** Drops since the last {@link takeOutageDrops}; and when (monotonic) the last warning was said. */
  #outageDrops = 0;
  #warnedAt: number | undefined;

  /** `owner` is the processor (the congestion flag of core is keyed by it); `onError` gets the drop warning. */
  constructor(owner: object, maxQueueSize: number, overflow: 'block' | 'drop' | 'spill', metrics: ProcessorMetrics, onError: (error: Error) => void) {
    this.#owner = owner;
    this.#overflow = overflow;
    this.#onError = onError;
    this.#max = maxQueueSize;
    this.#hard = maxQueueSize * 2;
    this.#block = overflow === 'block';
    this.#deferLimit = overflow === 'drop' ? maxQueueSize : this.#hard;
    this.#metrics = metrics;
  }

  /** Records emitted before the stream head is known that may wait in memory. */
  get deferLimit(): number {
    return this.#deferLimit;
  }

  /** A loss waits to be sealed. */
  get hasDrops(): boolean {
    return this.#drops !== undefined;
  }

  /** Whether a record may be queued at `depth`; false when it was dropped (receipt rejected, loss counted). */
  admit(depth: number, receipt: ReceiptCallbacks | undefined, hrTime: HrTime): boolean {
    if (depth < this.#max) return true;
    if (this.#block) {
      if (!this.#congested) {
        this.#congested = true;
        setAuditCongestion(this.#owner, true);
      }
      if (depth < this.#hard) return true;
    }
    this.drop(receipt, hrTimeToNanosText(hrTime));
    return false;
  }

  /**
   * Count one lost record at `timeText` and reject its receipt. `cause`:
   * why (default the queue bound; `spill_failed` when the spill file cannot
   * be written): the first drop's, with the other in `alsoReason` when the
   * pending loss went on for it too.
   */
  drop(receipt: ReceiptCallbacks | undefined, timeText: string, cause?: DropCause): void {
    const d = this.#drops;
    if (d === undefined) this.#drops = { count: 1, firstTime: timeText, lastTime: timeText, ...(cause ?? { reason: 'queue_full' }) };
    else {
      d.count++;
      d.lastTime = timeText;
      const reason = cause?.reason ?? 'queue_full';
      if (reason !== d.reason) d.alsoReason = reason;
    }
    this.#outageDrops++;
    if (this.#warnedAt === undefined || performance.now() - this.#warnedAt >= REWARN_MILLIS) this.#warn(cause);
    this.#metrics.droppedFromChain(1);
    receipt?.reject(new AuditQueueFullError(this.#max));
  }

  #warn(cause: DropCause | undefined): void {
    this.#warnedAt = performance.now();
    const why = cause?.reason === 'spill_failed'
      ? `the spill file cannot be written${cause.errorCode !== undefined ? ` (${cause.errorCode})` : ''} and the audit queue is full (max_queue_size ${this.#max})`
      : `the audit queue is full (max_queue_size ${this.#max}, overflow ${this.#overflow}) because the sinks do not keep up`;
    this.#onError(new Error(`otel-audit: ${why}: records are being dropped and counted; each loss is sealed as a system/records_dropped record with its count, `
      + 'and the sink\'s recovery message gives the total (said once per outage); fix: see the sink errors, or raise max_queue_size, or use overflow: spill with a spill_path on a disk with room'));
  }

  /** Records dropped since the last call (the sink recovered: the outage is over, a new one is warned about again). */
  takeOutageDrops(): number {
    const n = this.#outageDrops;
    this.#outageDrops = 0;
    this.#warnedAt = undefined;
    return n;
  }

  /** The loss to seal now (and forget); undefined when none. */
  takeDrops(): Drops | undefined {
    const d = this.#drops;
    this.#drops = undefined;
    return d;
  }

  /** The pipeline shuts down: producers waiting for capacity are rejected with `reason` at once. */
  close(reason: Error): void {
    if (this.#congested) {
      this.#congested = false;
      setAuditCongestion(this.#owner, false, reason);
    }
  }

  /** The queue has room again: producers may go on. */
  relieve(): void {
    if (this.#congested) {
      this.#congested = false;
      setAuditCongestion(this.#owner, false);
    }
  }
}
