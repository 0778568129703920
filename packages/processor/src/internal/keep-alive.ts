/**
 * What keeps the process alive while a caller awaits the pipeline (DESIGN §5
 * "never a silent drop", STYLE "Timers are unref'd"): every timer of the
 * pipeline is unref'd, so an idle pipeline or fire-and-forget records never
 * keep a host alive — but when such a timer (a retry backoff, the flush
 * interval, the head lookup's backoff) is all that is left while a script
 * awaits `forceFlush()` or `shutdown()`, Node would end the process under the
 * await (exit 0 from a CommonJS main, 13 from an ESM top-level await) and the
 * queued records would never be written, without a word. So a pending
 * `forceFlush()` holds a ref'd timer until it settles (shutdown's own
 * timeouts are ref'd for the same reason). Receipts are not held here:
 * their producer bounds its wait with a timeout of its own (`audit.log()`'s receiptTimeoutMillis, a
 * ref'd timer), after which the process may end — a hold kept by the
 * processor would outlive a producer that gave up, and with a sink that
 * never recovers keep the host alive for ever.
 */

/** Longest period `setInterval` takes (ms): the timer only has to exist, never to fire. */
const IDLE_PERIOD_MILLIS = 2 ** 31 - 1;
const noop = (): void => undefined;

/**
 * What `work()` returns, with the process kept alive by a ref'd timer of
 * its own until it settles.
 *
 * @example
 * forceFlush(): Promise<void> { return keepingAlive(() => this.#flush()); }
 */
export async function keepingAlive<T>(work: () => Promise<T>): Promise<T> {
  const hold = setInterval(noop, IDLE_PERIOD_MILLIS);
  try {
    return await work();
  } finally {
    clearInterval(hold);
  }
}
