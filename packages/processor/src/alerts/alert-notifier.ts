/**
 * The notifier contract (DESIGN §9): where alerts go besides the chain —
 * a webhook, the console or diag logger, a callback. Notifiers run off the
 * hot path through `AlertDispatcher`; a failing one never blocks or throws
 * into the pipeline.
 */
import type { AlertEvent } from './alert-event.js';

/**
 * Delivers alerts somewhere. `notify` resolves when delivered and rejects
 * (after its own retries) when it gave up.
 *
 * @example
 * const pager: AlertNotifier = { name: 'pager', notify: async (alert) => { if (alert.severity === 'critical') await page(alert) } };
 */
export interface AlertNotifier {
  /** Short name used in error reports, e.g. `webhook`. */
  readonly name: string;
  notify(alert: AlertEvent): Promise<void>;
  /** Stop retrying and release resources; pending deliveries reject. */
  shutdown?(): Promise<void>;
}
