/**
 * Runs notifiers off the hot path (DESIGN §9): `dispatch` only schedules
 * and returns; each notifier runs on a later microtask, bounded by a cap on
 * pending deliveries per notifier (a hung receiver does not starve the
 * others). Failures — a notifier that rejects or throws, an
 * alert dropped at the cap — go to `onError` as `AlertNotifyError`, which
 * the processor turns into a record; nothing is thrown into the pipeline.
 */
import { diag } from '@opentelemetry/api';
import type { AlertEvent } from './alert-event.js';
import type { AlertNotifier } from './alert-notifier.js';
import { AlertNotifyError } from './errors.js';

/** Options of {@link AlertDispatcher}. */
export interface AlertDispatcherOptions {
  notifiers: readonly AlertNotifier[];
  /** Receives every failure; default `diag.error`. Must not throw (if it does, the throw is swallowed). */
  onError?: (error: AlertNotifyError) => void;
  /**
   * Most deliveries in flight per notifier; beyond, that notifier's new ones
   * are dropped and reported. Default 1000. Per notifier, so that a receiver
   * that hangs cannot starve the other notifiers.
   */
  maxPendingDeliveries?: number;
}

/**
 * Fans alerts out to notifiers without blocking the caller.
 *
 * @example
 * const dispatcher = new AlertDispatcher({ notifiers: [webhook, new ConsoleNotifier()], onError: (e) => processor.recordNotifierFailure(e) });
 * for (const alert of engine.evaluate(record)) dispatcher.dispatch(alert);
 * await dispatcher.shutdown();
 */
export class AlertDispatcher {
  readonly #notifiers: readonly AlertNotifier[];
  readonly #onError: (error: AlertNotifyError) => void;
  readonly #max: number;
  readonly #pending = new Set<Promise<void>>();
  /** Deliveries in flight per notifier (same order as `#notifiers`). */
  readonly #pendingOf: number[];
  #delivered = 0;
  #failed = 0;
  #dropped = 0;
  #shutdown: Promise<void> | undefined;

  constructor(options: AlertDispatcherOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (!Array.isArray(options.notifiers) || !options.notifiers.every((n) => typeof n?.notify === 'function' && typeof n.name === 'string')) {
      throw new TypeError('options.notifiers must be an array of notifiers ({ name, notify(alert) })');
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('options.onError must be a function');
    const max = options.maxPendingDeliveries ?? 1000;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`options.maxPendingDeliveries must be a whole number >= 1, got ${max}`);
    this.#notifiers = [...options.notifiers];
    this.#pendingOf = this.#notifiers.map(() => 0);
    this.#onError = options.onError ?? ((e) => diag.error(e.message));
    this.#max = max;
  }

  /** Deliveries in flight. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Counts of deliveries that succeeded, failed, and were dropped at the cap or after shutdown. */
  get counts(): { delivered: number; failed: number; dropped: number } {
    return { delivered: this.#delivered, failed: this.#failed, dropped: this.#dropped };
  }

  /**
   * Schedule delivery of `alert` to every notifier and return at once.
   * Never throws.
   *
   * @example
   * dispatcher.dispatch(alert);
   */
  dispatch(alert: AlertEvent): void {
    for (let i = 0; i < this.#notifiers.length; i++) {
      const notifier = this.#notifiers[i]!;
      if (this.#shutdown !== undefined || this.#pendingOf[i]! >= this.#max) {
        this.#dropped++;
        const why = this.#shutdown !== undefined ? 'the dispatcher is shut down' : `${this.#max} deliveries to it are already pending (raise maxPendingDeliveries, or check the receiver)`;
        this.#report(new AlertNotifyError('AUDIT_ALERT_QUEUE_FULL', notifier.name, alert, 0, `alert ${alert.rule} (${alert.id}) not sent to notifier "${notifier.name}": ${why}`));
        continue;
      }
      const delivery: Promise<void> = Promise.resolve()
        .then(() => notifier.notify(alert))
        .then(
          () => {
            this.#delivered++;
          },
          (e: unknown) => {
            this.#failed++;
            this.#report(
              e instanceof AlertNotifyError
                ? e
                : new AlertNotifyError('AUDIT_ALERT_NOTIFY_FAILED', notifier.name, alert, 1, `notifier "${notifier.name}" failed to deliver alert ${alert.rule} (${alert.id}): ${e instanceof Error ? e.message : String(e)}`, e),
            );
          },
        )
        .finally(() => {
          this.#pending.delete(delivery);
          this.#pendingOf[i]!--;
        });
      this.#pending.add(delivery);
      this.#pendingOf[i]!++;
    }
  }

  /**
   * Resolve when every delivery scheduled so far has finished (delivered or
   * reported).
   *
   * @example
   * await dispatcher.flush();
   */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Stop accepting alerts, tell the notifiers to stop retrying, and wait
   * for pending deliveries to finish. Idempotent. It waits as long as the
   * slowest notifier takes (a callback that never settles: for ever), so
   * bound it with a timeout where shutdown must end, as @otel-audit/node does.
   *
   * @example
   * await Promise.race([dispatcher.shutdown(), new Promise((r) => setTimeout(r, 5000).unref())]);
   */
  shutdown(): Promise<void> {
    return (this.#shutdown ??= (async () => {
      await Promise.all([this.flush(), ...this.#notifiers.map((n) => Promise.resolve().then(() => n.shutdown?.()).catch(() => undefined))]);
      await this.flush();
    })());
  }

  #report(error: AlertNotifyError): void {
    try {
      this.#onError(error);
    } catch {
      // onError must not throw; a throw here must not reach the pipeline either.
    }
  }
}
