/**
 * The callback notifier (DESIGN §9): hands each alert to application code.
 * A throwing or rejecting callback is reported like any notifier failure.
 */
import type { AlertEvent } from './alert-event.js';
import type { AlertNotifier } from './alert-notifier.js';

/**
 * Calls `callback` with each alert (awaited when it returns a promise).
 *
 * @example
 * new AlertDispatcher({ notifiers: [new CallbackNotifier((alert) => metrics.alerts.add(1, { rule: alert.rule }))] });
 */
export class CallbackNotifier implements AlertNotifier {
  readonly name: string;
  readonly #callback: (alert: AlertEvent) => void | Promise<void>;

  constructor(callback: (alert: AlertEvent) => void | Promise<void>, options: { name?: string } = {}) {
    if (typeof callback !== 'function') throw new TypeError(`callback must be a function, got ${typeof callback}`);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new TypeError('options.name must be a non-empty string');
    this.#callback = callback;
    this.name = options.name ?? 'callback';
  }

  async notify(alert: AlertEvent): Promise<void> {
    await this.#callback(alert);
  }
}
