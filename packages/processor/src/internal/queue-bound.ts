/**
 * The bound on the delivery queue for the `block` and `drop` overflow
 * policies (DESIGN §5 "never a silent drop"): `block` marks the processor
 * congested (producers awaiting core's `whenAuditCapacity()` hold back) and
 * still admits up to twice the bound; `drop` — and `block` beyond twice the
 * bound — drops the record, rejects its receipt with `AuditQueueFullError`,
 * counts it in the `records.dropped` metric and in the loss that the
 * processor seals as a `system/records_dropped` record once there is room.
 */
import type { HrTime } from '@opentelemetry/api';
import { setAuditCongestion, type ReceiptCallbacks } from '@otel-audit/core';
import { AuditQueueFullError } from '../errors.js';
import { hrTimeToNanosText } from './log-record-event.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Drops } from './system-events.js';

/** Admission against the queue bound, and the loss not yet recorded. */
export class QueueBound {
  readonly #owner: object;
  readonly #max: number;
  readonly #hard: number;
  readonly #block: boolean;
  readonly #deferLimit: number;
  readonly #metrics: ProcessorMetrics;
  #drops: Drops | undefined;
  #congested = false;

  /** `owner` is the processor (the congestion flag of core is keyed by it). */
  constructor(owner: object, maxQueueSize: number, overflow: 'block' | 'drop' | 'spill', metrics: ProcessorMetrics) {
    this.#owner = owner;
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

  /** Count one lost record at `timeText` and reject its receipt. */
  drop(receipt: ReceiptCallbacks | undefined, timeText: string): void {
    const d = this.#drops;
    if (d === undefined) this.#drops = { count: 1, firstTime: timeText, lastTime: timeText };
    else {
      d.count++;
      d.lastTime = timeText;
    }
    this.#metrics.droppedFromChain(1);
    receipt?.reject(new AuditQueueFullError(this.#max));
  }

  /** The loss to seal now (and forget); undefined when none. */
  takeDrops(): Drops | undefined {
    const d = this.#drops;
    this.#drops = undefined;
    return d;
  }

  /** The queue has room again: producers may go on. */
  relieve(): void {
    if (this.#congested) {
      this.#congested = false;
      setAuditCongestion(this.#owner, false);
    }
  }
}
