/**
 * LogRecords the processor writes itself — checkpoints (DESIGN §4.3: "also
 * emitted as a log record") and the system records it seals — emitted
 * through a Logger so they travel downstream beside the records they cover.
 * Emission is deferred to a microtask, never done inside another record's
 * `onEmit`, and flagged so the processor ignores its own records when they
 * come back through the provider.
 */
import type { Logger, LogRecord } from '@opentelemetry/api-logs';
import { logs } from '@opentelemetry/api-logs';
import { globalErrorHandler } from '@opentelemetry/core';

/** The processor's own LogRecords, waiting for the next microtask. */
export class Outbox {
  readonly #logger: Logger | undefined;
  readonly #scopeName: string;
  readonly #onError: (error: Error) => void;
  #records: LogRecord[] = [];
  #scheduled = false;
  /** True while emitting: records seen by `onEmit` now are the outbox's own. */
  emitting = false;
  readonly #drain = (): void => this.flush();

  /** `logger` default: the global logger provider's logger of `scopeName`, looked up at each flush. */
  constructor(logger: Logger | undefined, scopeName: string, onError: (error: Error) => void = (e) => globalErrorHandler(e)) {
    this.#logger = logger;
    this.#scopeName = scopeName;
    this.#onError = onError;
  }

  add(record: LogRecord): void {
    this.#records.push(record);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#drain);
    }
  }

  /** Emit everything added so far. Never throws. */
  flush(): void {
    this.#scheduled = false;
    if (this.#records.length === 0) return;
    const records = this.#records;
    this.#records = [];
    this.emitting = true;
    try {
      const logger = this.#logger ?? logs.getLogger(this.#scopeName);
      for (const r of records) logger.emit(r);
    } catch (e) {
      this.#onError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.emitting = false;
    }
  }
}
