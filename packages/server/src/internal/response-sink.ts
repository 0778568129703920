/**
 * The Writable an export is piped into (issue 7 export; the store's
 * `exportTo`, which counts the records it writes, so the access record's
 * count is the store's own, whatever the records contain). It holds the
 * first byte back until `start()` has run — the access record committed
 * and the headers written, so no data leaves without a record — then
 * writes each chunk to the HTTP response (rewritten first, when a rewrite
 * is given: withholding sealed members) with backpressure, and cuts off a
 * client that takes nothing for `drainTimeoutMillis`, so it cannot hold
 * the export's read transaction open.
 */
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';

/** A rewrite of the export text, chunk by chunk, with a tail at the end. */
export interface ChunkRewrite {
  push(chunk: string): string;
  end(): string;
}

/** Options of {@link ResponseSink}. */
export interface ResponseSinkOptions {
  drainTimeoutMillis: number;
  /** Runs once, before the first byte (or the end of an empty export); a rejection fails the export before anything is sent. */
  start(): Promise<void>;
  rewrite?: ChunkRewrite;
}

/**
 * Resolve when `res` has drained; reject when it closes first or nothing
 * was taken for `timeoutMillis`. Either way no listener is left behind (an
 * export waits thousands of times on one response).
 */
function drained(res: ServerResponse, timeoutMillis: number): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('client went away'));
  if (!res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(new Error('client went away'));
    const timer = setTimeout(() => settle(new Error(`the client read nothing for ${timeoutMillis} ms`)), timeoutMillis);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** The HTTP response as the destination of `store.exportTo`. */
export class ResponseSink extends Writable {
  readonly #res: ServerResponse;
  readonly #options: ResponseSinkOptions;
  #started: Promise<void> | undefined;
  #sent = false;

  constructor(res: ServerResponse, options: ResponseSinkOptions) {
    super({ decodeStrings: false });
    this.#res = res;
    this.#options = options;
  }

  /**
   * Whether `start()` succeeded, i.e. the response's headers have gone out,
   * once a `start()` in progress has settled.
   */
  async sent(): Promise<boolean> {
    await this.#started?.catch(() => undefined);
    return this.#sent;
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.#send(() => this.#options.rewrite?.push(text) ?? text).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#send(() => this.#options.rewrite?.end() ?? '').then(() => {
      this.#res.end();
      callback();
    }, callback);
  }

  /** Start if not started, then write what `next()` gives (rewritten already). */
  async #send(next: () => string): Promise<void> {
    this.#started ??= this.#options.start().then(() => { this.#sent = true; });
    await this.#started;
    const text = next();
    if (this.#res.destroyed) throw new Error('client went away');
    if (text.length > 0 && !this.#res.write(text)) await drained(this.#res, this.#options.drainTimeoutMillis);
  }
}
