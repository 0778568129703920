/**
 * The producer side of receipts and backpressure (DESIGN §1 use 2, §5): how
 * a producer that emits an audit record through OpenTelemetry learns when
 * the record is durable, and how it waits while the pipeline is full — without
 * importing the processor (DESIGN §2: they meet through core).
 *
 * Receipts travel on the record itself: the producer attaches a pair of
 * callbacks to the event object it passes as the LogRecord body, under a
 * non-enumerable `Symbol.for` key (so two copies of core agree, and JSON
 * serialization never sees it); the processor takes them in `onEmit` and
 * settles them when the primary sink has committed the record (or rejects
 * them if the record was invalid or lost). Nothing is kept in a global
 * registry, so an event nobody processes leaks nothing — but its promise never
 * settles: producers that await should apply their own timeout.
 *
 * Backpressure is one process-wide gate: a processor whose queue is full
 * marks itself congested; `whenAuditCapacity()` returns a promise that
 * resolves when no processor is congested any more (or `undefined` at once
 * when none is, so the fast path allocates nothing). A processor that shuts
 * down while congested rejects the waiters instead (when no other processor
 * holds them back): their records would only reach a pipeline that no
 * longer takes records, and a waiter must not sit out its own timeout.
 */

/** What a producer gets once its record is committed: where it sits in which stream. */
export interface AuditReceipt {
  /** The record id. */
  readonly id: string;
  /** The stream (checkpoint origin). */
  readonly stream: string;
  /** The record's 0-based index in the stream. */
  readonly seq: number;
  /** The record hash, lowercase hex (its `checksum`). */
  readonly hash: string;
}

/** The callbacks a processor settles; each is called at most once, only one of them. */
export interface ReceiptCallbacks {
  resolve(receipt: AuditReceipt): void;
  reject(reason: Error): void;
  /**
   * The producer is waiting for this receipt: deliver without waiting for
   * the flush interval (records awaited in the same tick still share one
   * commit).
   */
  readonly awaited?: boolean;
  /** Set when a processor took the record (`receiptCallbacksOf`): someone will settle the receipt. */
  taken?: boolean;
}

/** The key under which receipt callbacks ride on an event body. */
export const AUDIT_RECEIPT_KEY: unique symbol = Symbol.for('@otel-audit/core.receipt') as never;

/**
 * Attach receipt callbacks to `body` (the event object about to be emitted
 * as a LogRecord body) and return the promise they settle. Call before
 * `logger.emit`. The body must be an extensible object. `awaited: true`
 * when the producer waits for the receipt (`await audit.log()`): the
 * processor then commits at once instead of at its flush interval.
 *
 * @example
 * const body = { id: createRecordId(), type: 'auth', action: 'login', outcome: 'success' };
 * const receipt = requestReceipt(body, { awaited: true });
 * logger.emit({ body, eventName: 'audit.auth.login' });
 * const { stream, seq, hash } = await receipt;
 */
export function requestReceipt(body: object, options: { awaited?: boolean } = {}): Promise<AuditReceipt> {
  if (typeof body !== 'object' || body === null) throw new TypeError(`body must be an object; got ${body === null ? 'null' : typeof body}`);
  if (!Object.isExtensible(body)) throw new TypeError('body must be extensible (not frozen or sealed) to carry a receipt');
  let callbacks!: ReceiptCallbacks;
  const promise = new Promise<AuditReceipt>((resolve, reject) => {
    callbacks = options.awaited === true ? { resolve, reject, awaited: true, taken: false } : { resolve, reject, taken: false };
  });
  Object.defineProperty(body, AUDIT_RECEIPT_KEY, { value: callbacks, enumerable: false, configurable: true, writable: false });
  return promise;
}

/**
 * The receipt callbacks attached to `body`, if any (processor side).
 * Calling it takes the record: from then on {@link isReceiptTaken} is true,
 * and the processor must settle the receipt.
 *
 * @example
 * const callbacks = receiptCallbacksOf(logRecord.body);
 * callbacks?.resolve({ id, stream, seq, hash });
 */
export function receiptCallbacksOf(body: unknown): ReceiptCallbacks | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const c = (body as { [AUDIT_RECEIPT_KEY]?: unknown })[AUDIT_RECEIPT_KEY];
  if (typeof c !== 'object' || c === null) return undefined;
  const cb = c as Partial<ReceiptCallbacks>;
  if (typeof cb.resolve !== 'function' || typeof cb.reject !== 'function') return undefined;
  cb.taken = true;
  return cb as ReceiptCallbacks;
}

/**
 * Whether a processor took the receipt riding on `body` (it called
 * {@link receiptCallbacksOf}). Processors take it synchronously inside
 * `logger.emit()`, so a producer can tell right after emitting that no
 * audit processor received the record — instead of waiting for a receipt
 * that will never come.
 *
 * @example
 * const receipt = requestReceipt(body, { awaited: true });
 * logger.emit({ body });
 * if (!isReceiptTaken(body)) throw new Error('no audit processor is installed');
 */
export function isReceiptTaken(body: object): boolean {
  const c = (body as { [AUDIT_RECEIPT_KEY]?: { taken?: boolean } })[AUDIT_RECEIPT_KEY];
  return c?.taken === true;
}

interface Gate {
  readonly congested: Set<object>;
  waiters: (() => void)[];
  promise: Promise<void> | undefined;
  /**
   * Rejects `promise`. Optional: the gate is shared through `globalThis`
   * with other copies of core, and one created by an older copy has none
   * (its waiters are then released instead, and meet the shut-down pipeline).
   */
  fail?: ((reason: Error) => void) | undefined;
}

const GATE_KEY = Symbol.for('@otel-audit/core.backpressure');

function gate(): Gate {
  const g = globalThis as { [GATE_KEY]?: Gate };
  return (g[GATE_KEY] ??= { congested: new Set(), waiters: [], promise: undefined });
}

/**
 * `undefined` when every audit pipeline has room, otherwise a promise that
 * resolves when none is congested any more. Producers that can wait call it
 * before emitting: `const wait = whenAuditCapacity(); if (wait) await wait;`.
 *
 * @example
 * const wait = whenAuditCapacity();
 * if (wait) await wait;
 * logger.emit({ body });
 */
export function whenAuditCapacity(): Promise<void> | undefined {
  const g = gate();
  if (g.congested.size === 0) return undefined;
  if (g.promise === undefined) {
    g.promise = new Promise<void>((resolve, reject) => {
      g.waiters.push(resolve);
      g.fail = reject;
    });
    // A caller may only ask whether a pipeline is congested and drop the promise: its rejection at
    // a shutdown must not be unhandled (Node would end the process in the middle of that shutdown).
    // Callers that await it still get the rejection.
    g.promise.catch(() => {});
  }
  return g.promise;
}

/**
 * Mark `owner` (a processor) congested or not. When the last congested owner
 * clears, every waiter of {@link whenAuditCapacity} resumes — or, when the
 * owner clears because it shuts down (`shutdownReason` given), rejects with
 * that reason.
 *
 * @example
 * setAuditCongestion(this, queueLength >= maxQueueSize);
 * setAuditCongestion(this, false, new Error('the audit pipeline shut down; the record was not written'));
 */
export function setAuditCongestion(owner: object, congested: boolean, shutdownReason?: Error): void {
  const g = gate();
  if (congested) {
    g.congested.add(owner);
    return;
  }
  if (!g.congested.delete(owner) || g.congested.size > 0) return;
  const waiters = g.waiters;
  const fail = g.fail;
  g.waiters = [];
  g.promise = undefined;
  g.fail = undefined;
  if (shutdownReason !== undefined && fail !== undefined) fail(shutdownReason);
  else for (const w of waiters) w();
}
