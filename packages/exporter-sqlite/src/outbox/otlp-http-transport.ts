/**
 * An OTLP/HTTP transport that tells the outbox what the receiver said
 * (DESIGN §3, §5). It has the shape of `IExporterTransport` of
 * `@opentelemetry/otlp-exporter-base`, so the stock exporter machinery
 * (`OTLPExporterBase` + `createOtlpNetworkExportDelegate` + the stock
 * JSON/protobuf serializers) runs on it unchanged; unlike the stock HTTP
 * transport it does not retry on its own (the outbox does, durably), keeps
 * the status code and `Retry-After` of retryable answers, and turns a
 * partial success that rejected records into a failure. What the receiver
 * says (status text, body, partial-success message) enters an error only
 * through `redactSecrets`, and with every configured credential (header
 * values, the URL's password and query values) replaced: a proxy that
 * echoes the request URL or its Authorization header, or a receiver that
 * answers "invalid API key <key>", must not put them into the outbox, a
 * record or a log.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { gzipSync } from 'node:zlib';
import { redactSecrets, redactUrl } from '@otel-audit/core';
import { OtlpHttpError, OtlpPartialSuccessError, parseRetryAfter, RETRYABLE_STATUSES } from './export-failure.js';
import { statusMessage } from './rpc-status.js';

/** `ExportResponse` of otlp-exporter-base, structurally. */
export type OtlpTransportResponse =
  | { status: 'success'; data?: Uint8Array }
  | { status: 'failure'; error: Error }
  | { status: 'retryable'; retryInMillis?: number; error?: Error };

/**
 * Options of {@link createOtlpHttpTransport}.
 *
 * @example
 * const options: OtlpHttpTransportOptions = { url: 'http://127.0.0.1:4318/v1/logs', contentType: 'application/x-protobuf' };
 */
export interface OtlpHttpTransportOptions {
  url: string;
  /** `application/json` or `application/x-protobuf`. */
  contentType: string;
  /** Extra headers (authorization ...), or a function giving them per request. */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  compression?: 'gzip' | 'none';
  /** Read `partialSuccess` from a response body (the serializer's `deserializeResponse`). */
  deserializeResponse?: (data: Uint8Array) => unknown;
}

/** The transport: `send` never rejects. */
export interface OtlpHttpTransport {
  send(data: Uint8Array, timeoutMillis: number): Promise<OtlpTransportResponse>;
  shutdown(): void;
}

function rejectedOf(response: unknown): { rejected: number; message: string } | undefined {
  const ps = (response as { partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown } } | null)?.partialSuccess;
  if (ps === undefined || ps === null) return undefined;
  const rejected = Number(String(ps.rejectedLogRecords ?? 0));
  return rejected > 0 ? { rejected, message: typeof ps.errorMessage === 'string' ? ps.errorMessage : '' } : undefined;
}

/** Shortest configured value that is hidden in what the receiver says (shorter ones would hide ordinary words). */
const MIN_HIDDEN_LENGTH = 4;

/**
 * The configured values a receiver may quote back, longest first: each
 * header value, its token after a scheme (`Bearer <token>`), a Basic
 * credential decoded, the URL's password, and its query values of 8 or more
 * characters.
 */
function configuredSecrets(url: URL, headers: Record<string, string>): string[] {
  const found = new Set<string>();
  const add = (v: string): void => {
    if (v.length >= MIN_HIDDEN_LENGTH) found.add(v);
  };
  for (const value of Object.values(headers)) {
    if (typeof value !== 'string') continue;
    add(value.trim());
    const m = /^(\S+)\s+(\S.*)$/.exec(value.trim());
    if (m === null) continue;
    add(m[2]!);
    if (m[1]!.toLowerCase() === 'basic') {
      const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
      add(decoded);
      add(decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  if (url.password !== '') {
    add(url.password);
    try {
      add(decodeURIComponent(url.password));
    } catch {
      // A malformed escape: the raw form is hidden.
    }
  }
  for (const [, value] of url.searchParams) if (value.length >= 8) add(value);
  return [...found].sort((a, b) => b.length - a.length);
}

/** `text` with every configured secret replaced by `***`, then credential forms masked. */
function hideSecrets(text: string, secrets: readonly string[]): string {
  for (const secret of secrets) if (text.includes(secret)) text = text.split(secret).join('***');
  return redactSecrets(text);
}

/**
 * Create the transport.
 *
 * @example
 * const transport = createOtlpHttpTransport({ url, contentType: 'application/json', deserializeResponse: (d) => JsonLogsSerializer.deserializeResponse(d) });
 * const exporter = new OTLPExporterBase(createOtlpNetworkExportDelegate(shared, JsonLogsSerializer, metrics, transport));
 */
export function createOtlpHttpTransport(options: OtlpHttpTransportOptions): OtlpHttpTransport {
  if (typeof options.url !== 'string') throw new TypeError(`options.url must be a string, got ${typeof options.url}`);
  // Checked before parsing: the URL constructor's error would carry the URL, credentials and all, as its `input`.
  const url = URL.canParse(options.url) ? new URL(options.url) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new RangeError(`options.url must be an http(s) URL; got ${redactUrl(options.url)}`);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const gzip = options.compression === 'gzip';
  return {
    async send(data, timeoutMillis) {
      const extra = typeof options.headers === 'function' ? await options.headers() : options.headers ?? {};
      const secrets = configuredSecrets(url, extra);
      const body = gzip ? gzipSync(data) : data;
      return new Promise<OtlpTransportResponse>((resolve) => {
        const req = request(url, {
          method: 'POST',
          headers: { ...extra, 'Content-Type': options.contentType, 'Content-Length': body.byteLength, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}) },
        }, (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= 4 * 1024 * 1024) chunks.push(c);
          });
          res.on('error', (error) => resolve({ status: 'retryable', error }));
          res.on('end', () => resolve(answer(res, Buffer.concat(chunks), options.deserializeResponse, secrets)));
        });
        req.setTimeout(timeoutMillis, () => {
          req.destroy();
          resolve({ status: 'retryable', error: new Error(`no answer from ${url.origin} within ${timeoutMillis} ms`) });
        });
        req.on('error', (error) => resolve({ status: 'retryable', error }));
        req.end(body);
      });
    },
    shutdown() {},
  };
}

/** How much of an error body is read for the message (500 characters are kept). */
const BODY_SCAN_BYTES = 64 * 1024;

function answer(res: IncomingMessage, data: Buffer, deserialize: ((data: Uint8Array) => unknown) | undefined, secrets: readonly string[]): OtlpTransportResponse {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) {
    if (deserialize !== undefined && data.length > 0) {
      let parsed: unknown;
      try {
        parsed = deserialize(data);
      } catch {
        // An unreadable 2xx body is still an acceptance (the OTLP spec).
      }
      const rejected = rejectedOf(parsed);
      if (rejected) return { status: 'failure', error: new OtlpPartialSuccessError(rejected.rejected, hideSecrets(rejected.message, secrets).slice(0, 500)) };
    }
    return { status: 'success', data };
  }
  // Masked before it is cut, so a secret straddling the cut is not left half shown.
  // A Status (OTLP/HTTP failures) is quoted by its message; anything else as text.
  const said = statusMessage(data.subarray(0, BODY_SCAN_BYTES), res.headers['content-type']) ?? data.toString('utf8', 0, BODY_SCAN_BYTES);
  const text = hideSecrets(said, secrets).slice(0, 500);
  const statusText = res.statusMessage ? ` ${hideSecrets(res.statusMessage, secrets)}` : '';
  const message = `the receiver answered HTTP ${status}${statusText}${text ? `: ${text}` : ''}`;
  if (RETRYABLE_STATUSES.has(status)) {
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    return { status: 'retryable', error: new OtlpHttpError(status, message, retryAfter), ...(retryAfter !== undefined ? { retryInMillis: retryAfter } : {}) };
  }
  return { status: 'failure', error: new OtlpHttpError(status, message) };
}
