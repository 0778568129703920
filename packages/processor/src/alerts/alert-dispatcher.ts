/**
 * Runs notifiers off the hot path (DESIGN §9): `dispatch` only schedules
 * and returns; each notifier runs on a later microtask, bounded by a cap on
 * pending deliveries per notifier (a hung receiver does not starve the
 * others) and, at shutdown, by a timeout (a receiver that never answers
 * cannot hold shutdown). Failures — a notifier that rejects or throws, an
 * alert dropped at the cap, a delivery abandoned at the shutdown timeout —
 * go to `onError` as `AlertNotifyError`, which the processor turns into a
 * record; nothing is thrown into the pipeline.
 */
import { diag } from '@opentelemetry/api';
import type { AlertEvent } from './alert-event.js';
import type { AlertNotifier } from './alert-notifier.js';
import { AlertNotifyError } from './errors.js';

/** Default of `shutdown({ timeoutMillis })`: the processor's own shutdown default, well above a webhook attempt's 5 s. */
const DEFAULT_DISPATCHER_SHUTDOWN_TIMEOUT_MILLIS = 30_000;

/** A delivery in flight: which notifier, which alert, and whether shutdown gave up on it. */
interface Delivery {
  readonly notifier: number;
  readonly alert: AlertEvent;
  abandoned: boolean;
}

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
  readonly #pending = new Map<Promise<void>, Delivery>();
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

  /** Counts of deliveries that succeeded, failed (abandoned at the shutdown timeout included), and were dropped at the cap or after shutdown. */
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
      const entry: Delivery = { notifier: i, alert, abandoned: false };
      const delivery: Promise<void> = Promise.resolve()
        .then(() => notifier.notify(alert))
        .then(
          () => {
            // Given up at the shutdown timeout: already counted and reported as failed.
            if (!entry.abandoned) this.#delivered++;
          },
          (e: unknown) => {
            if (entry.abandoned) return;
            this.#failed++;
            this.#report(
              e instanceof AlertNotifyError
                ? e
                : new AlertNotifyError('AUDIT_ALERT_NOTIFY_FAILED', notifier.name, alert, 1, `notifier "${notifier.name}" failed to deliver alert ${alert.rule} (${alert.id}): ${e instanceof Error ? e.message : String(e)}`, e),
            );
          },
        )
        .finally(() => {
          // An abandoned delivery left the books at the timeout.
          if (this.#pending.delete(delivery)) this.#pendingOf[i]!--;
        });
      this.#pending.set(delivery, entry);
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
    while (this.#pending.size > 0) await Promise.all([...this.#pending.keys()]);
  }

  /**
   * Stop accepting alerts, tell the notifiers to stop retrying, and wait
   * for pending deliveries to finish — at most `timeoutMillis` (default
   * 30,000). What has not settled by then (a receiver that never answers, a
   * callback that never settles, a notifier's `shutdown` that hangs) is
   * abandoned: each such delivery is counted as failed and reported to
   * `onError` as `AUDIT_ALERT_NOTIFY_FAILED`, its message saying how many
   * deliveries were abandoned and to which notifiers; its late outcome is
   * ignored. Idempotent: later calls return the first call's promise (and
   * bound). The bound is per call, not per dispatcher, because the caller
   * often knows its budget only then (@otel-audit/node gives it what is left
   * of the pipeline's shutdown timeout), as with OpenTelemetry's
   * `MetricReader.shutdown({ timeoutMillis })`. Never rejects.
   *
   * @example
   * await dispatcher.shutdown({ timeoutMillis: 5000 }); // resolves within ~5 s, whatever the receivers do
   */
  shutdown(options: { timeoutMillis?: number } = {}): Promise<void> {
    const timeout = options?.timeoutMillis ?? DEFAULT_DISPATCHER_SHUTDOWN_TIMEOUT_MILLIS;
    if (typeof timeout !== 'number') throw new TypeError(`options.timeoutMillis must be a number of milliseconds, got ${typeof timeout}`);
    if (!Number.isFinite(timeout) || timeout < 0) {
      throw new RangeError(`options.timeoutMillis must be a finite number of milliseconds >= 0, got ${String(timeout)}; the default is ${DEFAULT_DISPATCHER_SHUTDOWN_TIMEOUT_MILLIS}`);
    }
    return (this.#shutdown ??= this.#stop(timeout));
  }

  async #stop(timeoutMillis: number): Promise<void> {
    const stopped = (async () => {
      await Promise.all([this.flush(), ...this.#notifiers.map((n) => Promise.resolve().then(() => n.shutdown?.()).catch(() => undefined))]);
      await this.flush();
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMillis);
      timer.unref();
    });
    try {
      if (await Promise.race([stopped.then(() => true, () => true), late])) return;
    } finally {
      clearTimeout(timer);
    }
    this.#abandon(timeoutMillis);
  }

  /** Give up every delivery still pending at the shutdown timeout, and say so once per delivery. */
  #abandon(timeoutMillis: number): void {
    const given = [...this.#pending.values()];
    if (given.length === 0) return;
    const perNotifier = new Map<string, number>();
    for (const d of given) {
      const name = this.#notifiers[d.notifier]!.name;
      perNotifier.set(name, (perNotifier.get(name) ?? 0) + 1);
    }
    const summary = `${given.length} deliver${given.length === 1 ? 'y' : 'ies'} abandoned (${[...perNotifier].map(([name, n]) => `"${name}": ${n}`).join(', ')})`;
    this.#pending.clear();
    this.#pendingOf.fill(0);
    this.#failed += given.length;
    for (const d of given) {
      d.abandoned = true;
      const name = this.#notifiers[d.notifier]!.name;
      this.#report(new AlertNotifyError(
        'AUDIT_ALERT_NOTIFY_FAILED', name, d.alert, 1,
        `notifier "${name}" did not deliver alert ${d.alert.rule} (${d.alert.id}) within the shutdown timeout (${timeoutMillis} ms): abandoned; ${summary}`,
      ));
    }
  }

  #report(error: AlertNotifyError): void {
    try {
      this.#onError(error);
    } catch {
      // onError must not throw; a throw here must not reach the pipeline either.
    }
  }
}
