/**
 * What a shutdown lost, for what it says and what it leaves for the next
 * start (DESIGN §5 "never a silent drop"). Records dropped at the queue
 * bound are counted only in the `system/records_dropped` record sealed for
 * them: until the primary sink commits that record, the loss is known only
 * in memory, so a shutdown that cannot commit it must count those records
 * as LOST too (`LossLedger.unrecordedDrops`). And a pipeline whose
 * `pipeline_stopped` record the primary sink never committed did not end
 * its stream in the store: it keeps its stream claim, so the next start
 * over the store records `previous_writer_ended_without_stopping`, as after
 * a crash (`LossLedger.stopCommitted`). Also: the loss of records held
 * before the stream head was known (`abandonHeld`).
 */
import type { ReceiptCallbacks } from '@otel-audit/core';
import { AuditShutdownError } from '../errors.js';
import type { DeferredRecords } from './deferred-record.js';
import type { QueueBound } from './queue-bound.js';

/** Receipts the processor puts on its own records to learn whether the primary sink committed them. */
export class LossLedger {
  #unrecorded = 0;
  #stopCommitted = false;

  /** The receipt of a records_dropped record standing for `count` dropped records. */
  dropsSealed(count: number): ReceiptCallbacks {
    this.#unrecorded += count;
    return { resolve: () => void (this.#unrecorded -= count), reject: () => undefined };
  }

  /** The receipt of the pipeline_stopped record. */
  stopSealed(): ReceiptCallbacks {
    return { resolve: () => void (this.#stopCommitted = true), reject: () => undefined };
  }

  /** Dropped records whose records_dropped record the primary sink has not committed. */
  get unrecordedDrops(): number {
    return this.#unrecorded;
  }

  /** Whether the primary sink committed pipeline_stopped (and so everything before it). */
  get stopCommitted(): boolean {
    return this.#stopCommitted;
  }
}

/**
 * Shutdown before the stream head was known: the held records were never
 * sealed, so they cannot go to a sink — nor to the spill file, which holds
 * sealed lines only (its recovery checks them against the stored chain).
 * They are lost: say so, with the count, like a shutdown that could not
 * commit sealed records. Returns how many were lost.
 */
export function abandonHeld(deferred: DeferredRecords, bound: QueueBound, o: { shutdownTimeoutMillis: number; onError: (e: Error) => void }, stream: string | undefined, spilling: boolean): number {
  const held = deferred.take();
  const reason = new AuditShutdownError('the audit processor shut down before the stream head was known');
  for (const d of held) d.receipt?.reject(reason);
  // Drops past the hold limit can only be sealed into a chain, and there is none.
  const dropped = bound.takeDrops()?.count ?? 0;
  if (held.length + dropped === 0) return 0;
  const spill = spilling ? ' nor to the spill file, which holds sealed records only' : '';
  o.onError(new AuditShutdownError(`otel-audit: shutdown after ${o.shutdownTimeoutMillis} ms before the head of stream "${stream}" could be read from the primary sink: `
    + `${held.length} held record(s) were never sealed${dropped > 0 ? ` and ${dropped} more were dropped past the hold limit of ${bound.deferLimit}` : ''}; `
    + `they are LOST (not written to any sink${spill}; their receipts were rejected)`));
  return held.length + dropped;
}
