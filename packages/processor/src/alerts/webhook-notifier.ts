/**
 * The webhook notifier (DESIGN §9): POSTs each alert as JSON with an
 * `X-Audit-Signature: sha256=<hex HMAC-SHA256 of the body>` header, under a
 * per-attempt timeout, retrying network errors, timeouts, 408, 429 and 5xx
 * with exponential backoff and jitter (each wait drawn from [d/2, d], so
 * notifiers that failed together do not retry in lockstep), or after the
 * receiver's `Retry-After` (seconds or an HTTP date) when it sends one. The URL must be on an allow-list given in the
 * same configuration, redirects are not followed (they would leave the
 * allow-list), and neither the secret nor the URL's path or query — which
 * often carry a token — appears in errors.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AlertEvent } from './alert-event.js';
import type { AlertNotifier } from './alert-notifier.js';
import { AlertConfigError, AlertNotifyError } from './errors.js';

/** Options of {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** Where to POST; must start with an entry of `allowedUrls`. */
  url: string;
  /** URL prefixes alerts may be sent to (same scheme, host and port; path prefix at a `/`). */
  allowedUrls: readonly string[];
  /** HMAC-SHA256 key of the signature header, at least 16 bytes. */
  secret: string | Uint8Array;
  /** Per attempt; default 5000. */
  timeoutMillis?: number;
  /** Attempts in all, first included; default 4. */
  maxAttempts?: number;
  /** Wait before the first retry, doubled each time; default 500. */
  initialBackoffMillis?: number;
  /** Longest wait between attempts; default 30000. */
  maxBackoffMillis?: number;
  /** Longest `Retry-After` honoured (a longer one is cut to this); default 120000. */
  maxRetryAfterMillis?: number;
  /** Name in error reports; default `webhook`. */
  name?: string;
}

/** Header carrying the body's signature. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Audit-Signature';

/**
 * The signature header value of a body: `sha256=<lowercase hex HMAC-SHA256>`
 * over the body's exact bytes (a string as UTF-8), keyed with the secret (a
 * string as UTF-8). No timestamp is signed: receivers refuse replays by the
 * alert `id` in the body. Verify the raw body before parsing it.
 *
 * @example
 * signWebhookBody('{"rule":"failed_logins"}', secret) // 'sha256=5f1c…'
 */
export function signWebhookBody(body: string | Uint8Array, secret: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Check a received signature header in constant time (for receivers).
 *
 * @example
 * if (!verifyWebhookSignature(rawBody, req.headers['x-audit-signature'], secret)) res.writeHead(401).end();
 */
export function verifyWebhookSignature(body: string | Uint8Array, header: unknown, secret: string | Uint8Array): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signWebhookBody(body, secret));
  const actual = Buffer.from(header);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** What an error shows of a setting that may hold URLs: nothing of them, not even masked (their paths carry tokens). */
function notShown(value: unknown): unknown {
  return typeof value === 'string' || (typeof value === 'object' && value !== null && !(Array.isArray(value) && value.length === 0)) ? '(not shown)' : value;
}

function parseUrl(text: unknown, path: string, fix: string): URL {
  let url: URL | undefined;
  try {
    url = typeof text === 'string' ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new AlertConfigError(path, notShown(text), 'not an http(s) URL', fix);
  if (url.username !== '' || url.password !== '') throw new AlertConfigError(path, url.origin, 'credentials in the URL', 'remove user:password from the URL; the body is authenticated by the signature');
  return url;
}

function allowed(url: URL, entry: URL): boolean {
  if (url.origin !== entry.origin) return false;
  const prefix = entry.pathname;
  return prefix === '/' || url.pathname === prefix || url.pathname.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

function count(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > 86_400_000) throw new RangeError(`${name} must be a whole number from ${min} to 86400000, got ${value}`);
  return value;
}

/** Why one attempt failed, whether to try again, and when the receiver asked us to. */
class AttemptError extends Error {
  constructor(message: string, readonly retry: boolean, readonly retryAfterMillis?: number) {
    super(message);
  }
}

/**
 * Milliseconds a `Retry-After` header asks to wait (RFC 9110 §10.2.3:
 * delay-seconds or an HTTP date); undefined when absent or unreadable.
 *
 * @example
 * parseRetryAfter('120') // 120000
 */
export function parseRetryAfter(header: string | string[] | undefined, nowMillis: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMillis);
}

/**
 * Sends alerts to an HTTP endpoint.
 *
 * @example
 * const webhook = new WebhookNotifier({ url: 'https://hooks.example.com/audit', allowedUrls: ['https://hooks.example.com/'], secret: process.env.ALERT_WEBHOOK_SECRET! });
 */
export class WebhookNotifier implements AlertNotifier {
  readonly name: string;
  readonly #url: URL;
  readonly #secret: Buffer;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #backoff: number;
  readonly #maxBackoff: number;
  readonly #maxRetryAfter: number;
  readonly #sleepers = new Set<() => void>();
  #closed = false;

  constructor(options: WebhookNotifierOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (!Array.isArray(options.allowedUrls) || options.allowedUrls.length === 0) {
      throw new AlertConfigError('allowedUrls', notShown(options.allowedUrls), 'no allow-list', 'list the URL prefixes alerts may be sent to, e.g. ["https://hooks.example.com/audit"]');
    }
    // A trailing `*` or `**` says "anything below": the same as the prefix itself.
    const entries = options.allowedUrls.map((u, i) => parseUrl(typeof u === 'string' ? u.replace(/\*+$/, '') : u, `allowedUrls[${i}]`, 'write an http(s) URL prefix'));
    const url = parseUrl(options.url, 'url', 'write the http(s) URL of the receiver');
    if (!entries.some((e) => allowed(url, e))) {
      throw new AlertConfigError('url', `${url.origin}/…`, 'not on the allow-list', 'add its prefix to allowedUrls, or correct the URL');
    }
    const secret = options.secret;
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) throw new AlertConfigError('secret', '[REDACTED]', 'not a string or bytes', 'set the HMAC secret shared with the receiver');
    if (Buffer.byteLength(secret) < 16) throw new AlertConfigError('secret', '[REDACTED]', 'shorter than 16 bytes', 'use a random secret of at least 32 bytes');
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) throw new TypeError('options.name must be a non-empty string');
    this.name = options.name ?? 'webhook';
    this.#url = url;
    this.#secret = Buffer.from(secret);
    this.#timeout = count(options.timeoutMillis, 'options.timeoutMillis', 5000, 1);
    this.#attempts = count(options.maxAttempts, 'options.maxAttempts', 4, 1);
    this.#backoff = count(options.initialBackoffMillis, 'options.initialBackoffMillis', 500, 0);
    this.#maxBackoff = count(options.maxBackoffMillis, 'options.maxBackoffMillis', 30_000, 0);
    this.#maxRetryAfter = count(options.maxRetryAfterMillis, 'options.maxRetryAfterMillis', 120_000, 0);
  }

  /**
   * POST the alert, retrying with backoff; rejects with `AlertNotifyError`
   * when every attempt failed, a non-retryable status came back, or the
   * notifier was shut down while waiting to retry.
   *
   * @example
   * await webhook.notify(alert);
   */
  async notify(alert: AlertEvent): Promise<void> {
    const body = JSON.stringify(alert);
    const signature = signWebhookBody(body, this.#secret);
    let last = '';
    let retryAfter: number | undefined;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (this.#closed) return this.#fail(alert, attempt - 1, `shut down before delivery (${last || 'no attempt made'})`);
      try {
        await this.#post(body, signature, alert.id);
        return;
      } catch (e) {
        const error = e as AttemptError;
        last = error.message;
        retryAfter = error.retryAfterMillis;
        if (!error.retry) return this.#fail(alert, attempt, last);
      }
      if (attempt < this.#attempts) await this.#sleep(this.#delay(attempt, retryAfter));
    }
    return this.#fail(alert, this.#attempts, last);
  }

  /** Stop retrying: deliveries waiting for a retry fail at once. In-flight attempts finish. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#sleepers) wake();
  }

  #fail(alert: AlertEvent, attempts: number, reason: string): never {
    throw new AlertNotifyError('AUDIT_ALERT_NOTIFY_FAILED', this.name, alert, attempts, `webhook ${this.#url.origin} did not accept alert ${alert.rule} (${alert.id}) after ${attempts} attempt(s): ${reason}`);
  }

  /** The receiver's Retry-After when given (capped), else exponential backoff with equal jitter. */
  #delay(attempt: number, retryAfter: number | undefined): number {
    if (retryAfter !== undefined) return Math.min(retryAfter, this.#maxRetryAfter);
    const exp = Math.min(this.#maxBackoff, this.#backoff * 2 ** (attempt - 1));
    return exp / 2 + Math.random() * (exp / 2);
  }

  #sleep(millis: number): Promise<void> {
    // Shut down while the attempt was in flight: no wait (a Retry-After can ask for minutes).
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, millis);
      timer.unref();
      this.#sleepers.add(wake);
    });
  }

  #post(body: string, signature: string, alertId: string): Promise<void> {
    const url = this.#url;
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'otel-audit-alerts',
          [WEBHOOK_SIGNATURE_HEADER]: signature,
          'X-Audit-Alert-Id': alertId,
        },
      });
      const timer = setTimeout(() => req.destroy(new AttemptError(`timed out after ${this.#timeout} ms`, true)), this.#timeout);
      timer.unref();
      req.on('error', (e) => {
        clearTimeout(timer);
        reject(e instanceof AttemptError ? e : new AttemptError((e as NodeJS.ErrnoException).code ?? e.message, true));
      });
      req.on('response', (res) => {
        res.resume(); // the body is not used; drain it so the socket is freed
        let ended = false;
        res.on('error', () => undefined);
        res.on('close', () => {
          clearTimeout(timer);
          if (!ended) reject(new AttemptError('connection closed before the response ended', true));
        });
        res.on('end', () => {
          ended = true;
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new AttemptError(`HTTP ${status}`, status === 408 || status === 429 || status >= 500, status === 429 || status === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined));
        });
      });
      req.end(body);
    });
  }
}
