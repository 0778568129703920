/**
 * What keeps the process alive while a caller awaits the pipeline (DESIGN §5
 * "never a silent drop", STYLE "Timers are unref'd"): every timer of the
 * pipeline is unref'd, so an idle pipeline or fire-and-forget records never
 * keep a host alive — but when such a timer (a retry backoff, the flush
 * interval, the head lookup's backoff) is all that is left while a script
 * awaits `forceFlush()` or `shutdown()`, Node would end the process under the
 * await (exit 0 from a CommonJS main, 13 from an ESM top-level await) and the
 * queued records would never be written, without a word. So while at least
 * one such await is pending, one ref'd timer is held; it is cleared when the
 * last one settles. Receipts are not held here: their producer bounds its
 * wait with a timeout of its own (`audit.log()`'s receiptTimeoutMillis, a
 * ref'd timer), after which the process may end — a hold kept by the
 * processor would outlive a producer that gave up, and with a sink that
 * never recovers keep the host alive for ever.
 */

/** Longest period `setInterval` takes (ms): the timer only has to exist, never to fire. */
const IDLE_PERIOD_MILLIS = 2 ** 31 - 1;
const noop = (): void => undefined;

/** A count of pending awaits and the ref'd timer held while it is above zero. */
export class KeepAlive {
  #count = 0;
  #handle: NodeJS.Timeout | undefined;

  hold(): void {
    if (this.#count++ === 0) this.#handle = setInterval(noop, IDLE_PERIOD_MILLIS);
  }

  release(): void {
    if (this.#count === 0) return;
    if (--this.#count === 0) {
      clearInterval(this.#handle);
      this.#handle = undefined;
    }
  }

  /** What `p()` returns, with the process kept alive until it settles. */
  async during<T>(p: () => Promise<T>): Promise<T> {
    this.hold();
    try {
      return await p();
    } finally {
      this.release();
    }
  }
}

