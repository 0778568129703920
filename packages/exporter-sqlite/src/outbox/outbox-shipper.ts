/**
 * The background half of the outbox (DESIGN §5): ships the committed rows
 * in commit order, one request at a time, through the inner
 * LogRecordExporter; deletes them once the receiver accepted; on a
 * retryable failure waits (exponential backoff with full jitter, or the
 * receiver's `Retry-After`) and tries the same rows again, until the oldest
 * is older than the maximum age — by the wall clock and by the monotonic
 * time it has been failing in this process (`#failingFor`), so a clock step
 * cannot expire the outbox; moves refused rows to the dead-letter
 * table. A partial success that rejected records, or a 413 (the request
 * was too large for the receiver), is narrowed down by re-sending that batch
 * one record at a time (receivers de-duplicate by record id), so exactly the
 * refused records are dead-lettered. A row that
 * cannot be decoded (a damaged file) is dead-lettered at once, never
 * retried. The loop never rejects: an unexpected failure (the file gone
 * read-only, a throwing callback) goes to the OpenTelemetry global error
 * handler and the loop backs off and tries again. Every message it stores
 * (`last_error`, a dead letter's reason), logs or hands to `onDeadLetter`
 * has its secrets masked (`classifyExportError`, `redactSecrets`). After a
 * drain (and at most once a minute while shipping without one) it gives the
 * space of shipped rows back to the file system, in slices that yield to the
 * event loop (`#compact`), so an outage's backlog does not stay on disk.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { context, diag } from '@opentelemetry/api';
import { ExportResultCode, globalErrorHandler, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { maskedError, redactSecrets } from '@otel-audit/core';
import { classifyExportError, type ExportFailure } from './export-failure.js';
import { decodeLog, decodeResource } from './log-record-codec.js';
import type { OutboxDb, OutboxRow } from './outbox-db.js';

/** What was given up to the dead-letter table. */
export interface DeadLetterInfo {
  /** Records moved. */
  records: number;
  /** HTTP status of the refusal, when known. */
  status?: number;
  /** Why: the receiver's answer, or `expired` after the maximum age. */
  reason: string;
  /** Outbox row ids of the first and last record moved. */
  firstRowId: number;
  lastRowId: number;
}

/** Tuning of the shipper (validated by the exporter). */
export interface ShipperSettings {
  maxBatchSize: number;
  maxAgeMillis: number;
  initialBackoffMillis: number;
  maxBackoffMillis: number;
  exportTimeoutMillis: number;
  onDeadLetter?: (info: DeadLetterInfo) => void;
  onShipped?: (records: number) => void;
  onRetry?: (failure: ExportFailure) => void;
}

/**
 * Pages given back per slice, and slices per checkpoint (which truncates the
 * file). Measured on an emptied 71k-page (296 MB) outbox: 70 slices of
 * 1,024 pages took 1.5–2.7 ms each; a TRUNCATE checkpoint every 8 slices
 * (32 MiB) took up to 19 ms; the whole at once blocked 0.8 s, and one final
 * checkpoint of the 296 MB ~100 ms.
 */
const VACUUM_SLICE_PAGES = 1024;
const SLICES_PER_CHECKPOINT = 8;
/** While shipping without a drain, look at the free pages at most this often. */
const COMPACT_CHECK_MILLIS = 60_000;

export class OutboxShipper {
  readonly #db: OutboxDb;
  readonly #exporter: LogRecordExporter;
  readonly #s: ShipperSettings;
  readonly #resources = new Map<number, ReadableLogRecord['resource']>();
  #running: Promise<void> | undefined;
  #attempt = 0;
  #isolateUntil = 0;
  #stopped = false;
  #dirty = false;
  /** Monotonic (`performance.now()`): a wall-clock step must not start or skip a compaction. */
  #compactCheckedAt = performance.now();
  /**
   * When rows first failed in this process, by monotonic time: runs of rows
   * in row order, each `{ upTo: last row id of the run, since }`. Rows are
   * sent in row order, so a failed batch adds at most one run (its rows not
   * seen failing before) and the runs stay few.
   */
  readonly #failingSince: { upTo: number; since: number }[] = [];
  #sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(db: OutboxDb, exporter: LogRecordExporter, settings: ShipperSettings) {
    this.#db = db;
    this.#exporter = exporter;
    this.#s = settings;
  }

  /** True while the shipper waits to retry. */
  get backingOff(): boolean {
    return this.#sleep !== undefined;
  }

  /** Start shipping if idle (a backoff in progress is respected). */
  kick(): void {
    this.#dirty = true;
    if (this.#running !== undefined || this.#stopped) return;
    this.#running = this.#loop().catch((e: unknown) => this.#failed(e)).finally(() => {
      this.#running = undefined;
      // Rows committed after the loop saw an empty table but before this ran.
      if (this.#dirty) this.kick();
    });
  }

  /** The loop stopped on something unexpected: report it, wait, and let the next run try again. */
  async #failed(e: unknown): Promise<void> {
    const error = new Error(`otel-audit outbox ${this.#db.path}: shipping failed and will be retried: ${redactSecrets(e instanceof Error ? e.message : String(e))}`, { cause: maskedError(e) });
    try {
      globalErrorHandler(error);
    } catch {
      // A throwing error handler must not stop the outbox either.
    }
    if (this.#stopped || !this.#db.db.open) return;
    await this.#backoff(undefined);
    this.#dirty = true;
  }

  /** Cut a backoff wait short and try again now (shutdown's last attempts). */
  retryNow(): void {
    this.#sleep?.wake();
  }

  /** Resolve once the current run ended (queue empty, or stopped). */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Stop after the request in flight, cancelling any backoff wait. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#sleep?.wake();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      this.#dirty = false;
      const isolating = this.#isolateUntil > 0;
      const rows = this.#db.batch(0, isolating ? 1 : this.#s.maxBatchSize);
      if (rows.length === 0) return this.#compact();
      if (isolating && rows[0]!.id > this.#isolateUntil) {
        this.#isolateUntil = 0;
        continue;
      }
      const decoded = this.#decode(rows);
      if (decoded === undefined) continue; // undecodable rows were dead-lettered: read the batch again
      const sentAt = performance.now();
      const result = await this.#send(decoded);
      if (this.#stopped && !this.#db.db.open) return;
      const first = rows[0]!.id;
      const last = rows[rows.length - 1]!.id;
      if (result.code === ExportResultCode.SUCCESS) {
        this.#db.deleteRange(first, last);
        this.#db.setState('last_success_at', String(Date.now()));
        this.#attempt = 0;
        this.#forgetFailures(last);
        this.#s.onShipped?.(rows.length);
        if (performance.now() - this.#compactCheckedAt > COMPACT_CHECK_MILLIS) await this.#compact();
        continue;
      }
      const failure = classifyExportError(result.error);
      this.#db.setState('last_error', JSON.stringify({ at: Date.now(), message: failure.message, ...('status' in failure && failure.status !== undefined ? { status: failure.status } : {}) }));
      // A partial success, or a request too large for the receiver (413): the same rows one at
      // a time, so only a record refused (or too large) on its own is dead-lettered.
      if ((failure.kind === 'partial' || (failure.kind === 'dead' && failure.status === 413)) && rows.length > 1) {
        this.#isolateUntil = last;
        continue;
      }
      if (failure.kind === 'retry') {
        this.#noteFailure(first, last, sentAt);
        const wallNow = Date.now();
        const monoNow = performance.now();
        const age = wallNow - rows[0]!.enqueued_at;
        const failing = this.#failingFor(first, monoNow);
        if (!this.#expired(rows[0]!, wallNow, monoNow)) {
          this.#s.onRetry?.(failure);
          await this.#backoff(failure.retryAfterMillis);
          continue;
        }
        // Only the rows past the maximum age are given up; younger ones in the batch keep trying.
        let expired = 1;
        while (expired < rows.length && this.#expired(rows[expired]!, wallNow, monoNow)) expired++;
        // Both exceed max_age; the smaller is the one a clock step cannot have inflated.
        this.#dead(rows.slice(0, expired), undefined, `expired: still failing after ${Math.round(Math.min(age, failing) / 1000)} s (${failure.message})`);
        continue;
      }
      this.#dead(rows, failure.kind === 'dead' ? failure.status : undefined, failure.message);
    }
  }

  /**
   * A row has expired when both its wall-clock age (`enqueued_at`, stored, so
   * it spans restarts) and the monotonic time it has been failing in this
   * process exceed max_age. Either alone is wrong: the wall clock steps (an
   * NTP fix of +8 days would expire the whole outbox at once, a VM resume
   * too), and the monotonic time starts over with each process. Requiring
   * both is the conservative choice: after a restart, a row enqueued days
   * ago by the previous process is kept for up to max_age more of failing,
   * rather than given up because of a clock we cannot trust.
   */
  #expired(row: OutboxRow, wallNow: number, monoNow: number): boolean {
    return wallNow - row.enqueued_at > this.#s.maxAgeMillis && this.#failingFor(row.id, monoNow) > this.#s.maxAgeMillis;
  }

  /** Rows `first`..`last` failed in an attempt sent at `since` (monotonic). */
  #noteFailure(first: number, last: number, since: number): void {
    // Runs wholly before `first` are rows that left the table (shipped or dead-lettered).
    while (this.#failingSince.length > 0 && this.#failingSince[0]!.upTo < first) this.#failingSince.shift();
    const tail = this.#failingSince[this.#failingSince.length - 1];
    if (tail === undefined || tail.upTo < last) this.#failingSince.push({ upTo: last, since });
  }

  /** Rows up to `last` were accepted. */
  #forgetFailures(last: number): void {
    while (this.#failingSince.length > 0 && this.#failingSince[0]!.upTo <= last) this.#failingSince.shift();
  }

  /** Monotonic milliseconds row `id` has been failing in this process (0 if it has not failed yet). */
  #failingFor(id: number, monoNow: number): number {
    for (const run of this.#failingSince) if (run.upTo >= id) return monoNow - run.since;
    return 0;
  }

  /**
   * Give the free pages back, a slice per event-loop turn (records are
   * committed in between), until none is left or the shipper stops. A
   * failure (the file busy with `status --requeue`) is left for next time.
   */
  async #compact(): Promise<void> {
    this.#compactCheckedAt = performance.now();
    try {
      if (this.#stopped || !this.#db.db.open || this.#db.reclaimablePages() === 0) return;
      for (let slice = 1; ; slice++) {
        const left = this.#db.vacuumStep(VACUUM_SLICE_PAGES, slice % SLICES_PER_CHECKPOINT === 0);
        await nextTurn();
        if (this.#stopped || !this.#db.db.open) return;
        if (left === 0) break;
      }
      this.#db.vacuumStep(0, true);
    } catch (e) {
      diag.warn(`otel-audit outbox ${this.#db.path}: giving free space back failed, tried again later: ${redactSecrets(e instanceof Error ? e.message : String(e))}`);
    }
  }

  #dead(rows: OutboxRow[], status: number | undefined, reason: string): void {
    const first = rows[0]!.id;
    const last = rows[rows.length - 1]!.id;
    this.#db.deadLetter(first, last, status, reason, Date.now());
    this.#attempt = 0;
    const info: DeadLetterInfo = { records: rows.length, reason, firstRowId: first, lastRowId: last, ...(status !== undefined ? { status } : {}) };
    diag.error(`otel-audit outbox: ${rows.length} record(s) moved to the dead-letter table of ${this.#db.path}: ${reason}`);
    try {
      this.#s.onDeadLetter?.(info);
    } catch (e) {
      diag.error('otel-audit outbox: onDeadLetter threw', e);
    }
  }

  #backoff(retryAfterMillis: number | undefined): Promise<void> {
    const cap = Math.min(this.#s.maxBackoffMillis, this.#s.initialBackoffMillis * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    // Full jitter (uniform in [0, cap]) spreads many services' retries; a
    // longer Retry-After from the receiver wins, a shorter one does not: a
    // proxy answering `Retry-After: 0` (or a past date) to every request
    // would otherwise get hundreds of requests a second.
    const jittered = Math.random() * cap;
    const delay = retryAfterMillis !== undefined && retryAfterMillis >= 0 ? Math.max(jittered, Math.min(retryAfterMillis, this.#s.maxBackoffMillis * 10)) : jittered;
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleep = undefined;
        resolve();
      };
      const timer = setTimeout(wake, delay);
      timer.unref();
      this.#sleep = { timer, wake };
    });
  }

  /**
   * The records of `rows`, or undefined after moving the rows that cannot be
   * decoded to the dead-letter table (no receiver will ever take them, and
   * retrying would hold up every row behind them).
   */
  #decode(rows: OutboxRow[]): ReadableLogRecord[] | undefined {
    const logs: ReadableLogRecord[] = [];
    let bad = false;
    for (const row of rows) {
      try {
        logs.push(decodeLog(row.log, this.#resource(row.resource_id)));
      } catch (e) {
        bad = true;
        const reason = `undecodable outbox row ${row.id}: ${redactSecrets(e instanceof Error ? e.message : String(e))}`;
        this.#db.setState('last_error', JSON.stringify({ at: Date.now(), message: reason }));
        this.#dead([row], undefined, reason);
      }
    }
    return bad ? undefined : logs;
  }

  #send(logs: ReadableLogRecord[]): Promise<ExportResult> {
    return new Promise<ExportResult>((resolve) => {
      let done = false;
      const finish = (r: ExportResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => finish({ code: ExportResultCode.FAILED, error: new Error(`exporter did not answer within ${this.#s.exportTimeoutMillis} ms`) }), this.#s.exportTimeoutMillis);
      timer.unref();
      try {
        context.with(suppressTracing(context.active()), () => this.#exporter.export(logs, finish));
      } catch (e) {
        finish({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
      }
    });
  }

  #resource(id: number): ReadableLogRecord['resource'] {
    let r = this.#resources.get(id);
    if (r === undefined) {
      const body = this.#db.resourceBody(id);
      if (body === undefined) throw new Error(`its resource row ${id} is missing`);
      r = decodeResource(body);
      this.#resources.set(id, r);
    }
    return r;
  }
}
