/**
 * Where sealed items go, and what happens when the queue is full (DESIGN
 * §5): into the delivery queue, or — under the `spill` policy, once the
 * queue is full or the file is in use — into the spill file, so sinks still
 * see seq order; `block`/`drop` admission through the queue bound; as the
 * queue drains, the spill file is replayed (and removed once everything is
 * committed), a pending loss is sealed as `records_dropped` and producers
 * waiting for capacity are released; at shutdown, what was not committed is
 * reported (and kept in the spill file when there is one). While the spill
 * file cannot be written (a full disk), records beyond the queue bound are
 * dropped before they are sealed, as under `drop`: the chain stays whole and
 * the loss is sealed as `records_dropped` (reason `spill_failed`, with the
 * error code) once the file takes lines again. The shutdown report counts
 * as LOST, besides the records not committed, those dropped earlier whose
 * `records_dropped` record was not committed either.
 */
import type { ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { ReceiptCallbacks } from '@otel-audit/core';
import { AuditShutdownError } from '../errors.js';
import type { Delivery, QueueItem } from './delivery.js';
import { writePending } from './outgoing.js';
import { hrTimeToNanosText } from './log-record-event.js';
import type { QueueBound } from './queue-bound.js';
import type { Redactor } from './redactor.js';
import type { Spill } from './spill.js';
import type { DropCause } from './system-events.js';

/** Why a record is dropped while the spill file cannot be written: `spill_failed`, with the error's code when it has one. */
function spillFailed(failure: Error | undefined): DropCause {
  const code = (failure as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code !== '' ? { reason: 'spill_failed', errorCode: code.slice(0, 64) } : { reason: 'spill_failed' };
}

/** Routing of one processor's items (see file comment). */
export class QueueRouter {
  readonly #delivery: Delivery;
  #spill: Spill | undefined;
  readonly #bound: QueueBound;
  readonly #max: number;
  readonly #maxBatch: number;
  readonly #redactor: Redactor;
  readonly #sealDrops: () => void;
  readonly #onError: (error: Error) => void;
  /** What the spill file must hold first when spilling starts. */
  readonly #queuedItems = (): Iterable<QueueItem> => this.#delivery.uncommitted();

  /** `sealDrops` seals the bound's pending loss into the chain. */
  constructor(delivery: Delivery, spill: Spill | undefined, bound: QueueBound, limits: { maxQueueSize: number; maxBatchSize: number; redactor: Redactor; onError: (error: Error) => void }, sealDrops: () => void) {
    this.#delivery = delivery;
    this.#spill = spill;
    this.#bound = bound;
    this.#max = limits.maxQueueSize;
    this.#maxBatch = limits.maxBatchSize;
    this.#redactor = limits.redactor;
    this.#sealDrops = sealDrops;
    this.#onError = limits.onError;
  }

  /**
   * Stop using the spill file (before anything was spilled): it belongs to
   * another live pipeline of the same configuration. Records beyond the
   * queue bound are then dropped and counted, as under `drop`.
   */
  leaveSpill(): void {
    this.#spill = undefined;
  }

  /** Room in the queue now. */
  get room(): number {
    return this.#max - this.#delivery.depth;
  }

  /** To the queue, or to the spill file when it is full or already in use (so order is kept). */
  readonly enqueue = (item: QueueItem): void => {
    const spill = this.#spill;
    if (spill !== undefined && (spill.active || this.#delivery.depth >= this.#max)) spill.add(item, this.#queuedItems);
    else this.#delivery.push(item);
  };

  /** Applies the overflow policy before a record is sealed; false when it is dropped. */
  admit(receipt: ReceiptCallbacks | undefined, logRecord: ReadWriteLogRecord): boolean {
    const spill = this.#spill;
    if (spill !== undefined) {
      if (!spill.full(this.#max)) {
        if (this.#bound.hasDrops) this.#sealDrops();
        return true;
      }
      this.#bound.drop(receipt, hrTimeToNanosText(logRecord.hrTime), spillFailed(spill.failure));
      writePending(logRecord, this.#redactor, '', 'audit.dropped');
      return false;
    }
    if (this.#delivery.depth >= this.#max) this.#delivery.skipLaggards();
    const depth = this.#delivery.depth;
    if (depth < this.#max) {
      if (this.#bound.hasDrops) this.#sealDrops();
      return true;
    }
    if (this.#bound.admit(depth, receipt, logRecord.hrTime)) return true;
    // The live record must not travel downstream looking audited, nor carry secrets.
    writePending(logRecord, this.#redactor, '', 'audit.dropped');
    return false;
  }

  /** Items left the queue: replay spilled ones, or record a loss and release waiting producers. */
  drained(): void {
    const depth = this.#delivery.depth;
    if (depth >= this.#max) return;
    const spill = this.#spill;
    if (spill !== undefined) {
      if (spill.active) {
        void spill.replay(this.#max - depth);
        return;
      }
      if (depth === 0) spill.discard();
    }
    if (this.#bound.hasDrops) this.#sealDrops();
    this.#bound.relieve();
  }

  /** Move spilled items into the queue while it has room (the periodic tick). */
  replaySome(): void {
    const room = this.room;
    if (this.#spill?.active && room > 0) void this.#spill.replay(room);
  }

  /** Spilled items first (in chunks the queue can take), then the queue. */
  async flushAll(): Promise<void> {
    const spill = this.#spill;
    while (spill !== undefined && spill.active) {
      const before = spill.pending;
      await spill.written();
      await spill.replay(Math.max(this.#maxBatch, this.room));
      await this.#delivery.flush();
      if (spill.active && spill.pending === before) {
        const why = spill.failure !== undefined ? `cannot be written to ${spill.path}: ${spill.failure.message}` : `in ${spill.path} cannot be replayed`;
        throw new Error(`otel-audit: ${before} spilled item(s) ${why}`);
      }
    }
    await this.#delivery.flush();
  }

  /**
   * At shutdown, after the final flush (or its timeout): reject the receipts
   * still pending, shut the sinks down, keep the spill file when anything
   * was lost (the next processor with the same path replays it), report.
   * `unrecordedDrops` (read once the receipts were rejected): records
   * dropped earlier whose records_dropped record the primary sink has not
   * committed — lost as well, with no other trace.
   */
  async close(timedOut: boolean, timeoutMillis: number, unrecordedDrops: () => number): Promise<void> {
    const reason = new AuditShutdownError('the audit processor shut down before the primary sink committed the record');
    const spill = this.#spill;
    // Nothing spilled yet: the uncommitted queue exists only in memory. Write it to
    // the spill file first, so the next processor replays it (the file is then kept).
    let kept = 0;
    if (spill !== undefined && !spill.active) {
      try {
        kept = spill.keep(this.#delivery.uncommitted());
      } catch (e) {
        this.#onError(new AuditShutdownError(`otel-audit: could not write the uncommitted records to the spill file ${spill.path}: ${(e as Error).message}`));
      }
    }
    await spill?.stop();
    let lost = await this.#delivery.close(reason);
    const dropped = unrecordedDrops();
    if (spill !== undefined) {
      const active = spill.active;
      const left = await spill.close(reason, lost > 0 || timedOut || kept > 0);
      // The queue's items are in the file when it was kept, or when spilling wrote them there.
      const queueInFile = active ? left.queueInFile : kept > 0;
      const inFile = left.inFile + (queueInFile ? lost : 0);
      lost = left.unwritten + (queueInFile ? 0 : lost);
      if (inFile > 0) {
        this.#onError(new AuditShutdownError(`otel-audit: shutdown after ${timeoutMillis} ms: ${inFile} item(s) not committed by the primary sink are kept in the spill file ${spill.path}; a processor started with the same spillPath replays them`));
      }
      if (lost > 0) {
        // Whether the records_dropped records are among the lost items or in the file is not known here: "up to".
        const drops = dropped > 0 ? `; with them, up to ${dropped} record(s) dropped earlier (queue full or spill file not writable), counted only in system/records_dropped record(s) not committed` : '';
        this.#onError(new AuditShutdownError(`otel-audit: shutdown after ${timeoutMillis} ms with ${lost} item(s) not committed by the primary sink and not written to the spill file ${spill.path}`
          + `${spill.failure !== undefined ? ` (${spill.failure.message})` : ''}: they are LOST (their receipts were rejected)${drops}`));
      }
      return;
    }
    if (timedOut || lost > 0 || dropped > 0) {
      const drops = dropped > 0 ? `, and ${dropped} record(s) dropped earlier because the queue was full (max_queue_size ${this.#max}) whose system/records_dropped record(s) were not committed either` : '';
      this.#onError(new AuditShutdownError(`otel-audit: shutdown after ${timeoutMillis} ms with ${lost} record(s) not committed by the primary sink${drops}: `
        + `they are LOST (${lost + dropped} record(s) in all; their receipts were rejected); configure overflow: spill with a spill_path to keep them for the next start`));
    }
  }
}
