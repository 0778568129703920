/**
 * What a failed OTLP export means for the outbox (DESIGN §5): retry it
 * (429, 502, 503, 504, timeouts, refused or reset connections — honouring
 * `Retry-After`), give it up to the dead-letter table (400, 401, 403, 413 and
 * every other final answer), or, for a partial success that rejected
 * records, find the rejected ones. The errors of {@link createOtlpHttpTransport}
 * carry the status, `Retry-After` and the partial-success counts; the stock
 * exporter's `OTLPExporterError` carries the status of final answers only
 * (its retryable answers and network errors arrive without it, and it
 * reports partial success as success — see the outbox README section).
 * The message of every classified failure is masked (`redactSecrets`): it
 * is what the outbox stores, dead-letters, logs and reports.
 */
import { AuditError, redactSecrets } from '@otel-audit/core';

/**
 * The receiver answered an OTLP export with an HTTP error status.
 *
 * @example
 * if (e instanceof OtlpHttpError && e.status === 401) console.error('check the exporter headers');
 */
export class OtlpHttpError extends AuditError {
  /** HTTP status code of the answer. */
  readonly status: number;
  /** Delay asked for by `Retry-After`, if any. */
  readonly retryAfterMillis: number | undefined;

  constructor(status: number, message: string, retryAfterMillis?: number) {
    super('AUDIT_OTLP_HTTP_STATUS', message);
    this.name = 'OtlpHttpError';
    this.status = status;
    this.retryAfterMillis = retryAfterMillis;
  }
}

/**
 * The receiver accepted the request but rejected some of its records
 * (OTLP `partialSuccess.rejectedLogRecords > 0`): a failure for those
 * records, never a success.
 *
 * @example
 * if (e instanceof OtlpPartialSuccessError) console.error(`${e.rejected} records refused: ${e.message}`);
 */
export class OtlpPartialSuccessError extends AuditError {
  /** Records the receiver rejected. */
  readonly rejected: number;

  constructor(rejected: number, errorMessage: string) {
    super('AUDIT_OTLP_PARTIAL_SUCCESS', `the receiver rejected ${rejected} log record(s): ${errorMessage || '(no message)'}`);
    this.name = 'OtlpPartialSuccessError';
    this.rejected = rejected;
  }
}

/** The outbox's reading of one failed export. */
export type ExportFailure =
  | { kind: 'retry'; status?: number; retryAfterMillis?: number; message: string }
  | { kind: 'dead'; status?: number; message: string }
  | { kind: 'partial'; rejected: number; message: string };

/** HTTP statuses the OTLP specification says to retry. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

const RETRYABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/**
 * Classify what an exporter's result carried. Anything not recognised as
 * final is retried (until the outbox's maximum age): an unknown error must
 * never lose a record. The message has its secrets masked: any exporter's
 * error may quote the URL, a header or a body that echoes them.
 *
 * @example
 * classifyExportError(new OtlpHttpError(401, 'unauthorized')) // { kind: 'dead', status: 401, ... }
 */
export function classifyExportError(error: unknown): ExportFailure {
  const message = redactSecrets(error instanceof Error ? error.message || error.name : String(error ?? 'export failed'));
  if (error instanceof OtlpPartialSuccessError) return { kind: 'partial', rejected: error.rejected, message };
  if (error instanceof OtlpHttpError) {
    if (RETRYABLE_STATUSES.has(error.status)) return { kind: 'retry', status: error.status, ...(error.retryAfterMillis !== undefined ? { retryAfterMillis: error.retryAfterMillis } : {}), message };
    return { kind: 'dead', status: error.status, message };
  }
  // The stock exporter's OTLPExporterError: a numeric `code` is the HTTP
  // status of a final (non-retryable) answer.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code >= 300 && code < 600) {
    return RETRYABLE_STATUSES.has(code) ? { kind: 'retry', status: code, message } : { kind: 'dead', status: code, message: `HTTP ${code}: ${message}` };
  }
  if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return { kind: 'retry', message: `${code}: ${message}` };
  return { kind: 'retry', message };
}

/**
 * Parse a `Retry-After` header (seconds or an HTTP date) into milliseconds.
 *
 * @example
 * parseRetryAfter('3') // 3000
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
