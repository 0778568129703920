/**
 * When this process put rows into the outbox, on the monotonic clock, for
 * the age of the oldest waiting record (`otel_audit.outbox.oldest_age`,
 * DESIGN §5). A row's stored `enqueued_at` is wall time — it spans restarts
 * and is what `otel-audit status` shows — so an NTP step or a VM resume
 * would make a record of a few seconds read as days old (or as enqueued in
 * the future). Rows of an earlier process, or requeued by `otel-audit
 * status --requeue`, are not known here: their age stays the wall-clock one.
 *
 * Kept as runs of row ids, in row order (ids only grow: the table is
 * AUTOINCREMENT). At most {@link MAX_RUNS} runs: when full, the two
 * neighbouring runs closest in time become one with the earlier time, so an
 * age is never understated and the memory stays bounded through an outage
 * of any length.
 */

/** Runs kept; each is three numbers. */
const MAX_RUNS = 256;
/** Inserts this close to the last one join its run (the gauge is in seconds). */
const JOIN_MILLIS = 100;

interface Run {
  from: number;
  upTo: number;
  /** `performance.now()` when the run's first rows were enqueued. */
  at: number;
}

/** Monotonic enqueue times of the rows this process inserted. */
export class EnqueueTimes {
  readonly #runs: Run[] = [];

  /** Rows `from`..`upTo` were committed at `at` (monotonic milliseconds). */
  note(from: number, upTo: number, at: number): void {
    const last = this.#runs[this.#runs.length - 1];
    if (last !== undefined && at - last.at < JOIN_MILLIS) {
      last.upTo = Math.max(last.upTo, upTo);
      return;
    }
    this.#runs.push({ from, upTo, at });
    if (this.#runs.length > MAX_RUNS) this.#mergeClosest();
  }

  /**
   * Milliseconds since row `id` was enqueued, or undefined when this
   * process did not enqueue it. Forgets the runs of rows before `id` (the
   * oldest waiting row: those have left the outbox).
   */
  ageOf(id: number, now: number): number | undefined {
    while (this.#runs.length > 0 && this.#runs[0]!.upTo < id) this.#runs.shift();
    const run = this.#runs[0];
    return run !== undefined && run.from <= id ? Math.max(0, now - run.at) : undefined;
  }

  /** The outbox is empty: nothing to remember. */
  clear(): void {
    this.#runs.length = 0;
  }

  #mergeClosest(): void {
    let best = 0;
    for (let i = 1; i < this.#runs.length - 1; i++) {
      if (this.#runs[i + 1]!.at - this.#runs[i]!.at < this.#runs[best + 1]!.at - this.#runs[best]!.at) best = i;
    }
    const [a, b] = [this.#runs[best]!, this.#runs[best + 1]!];
    this.#runs.splice(best, 2, { from: a.from, upTo: b.upTo, at: a.at });
  }
}
