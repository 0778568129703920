/**
 * Errors of @otel-audit/server and the one table that maps every error
 * code to an HTTP status (STYLE "CLI and server": the server maps each
 * error `code` to an HTTP status in one place). Route code throws
 * `HttpError` (or lets store errors through); `errorResponse` turns any
 * thrown value into a status and a JSON body `{ error: { code, message } }`
 * without leaking internals: unknown errors become a generic 500.
 */
import { AuditError } from '@otel-audit/core';

/**
 * Stable error codes of the server; each maps to one HTTP status ({@link statusOf}).
 *
 * @example
 * const code: ServerErrorCode = 'AUDIT_HTTP_BUSY'; // 429
 */
export type ServerErrorCode =
  | 'AUDIT_HTTP_BAD_REQUEST'
  | 'AUDIT_HTTP_UNAUTHENTICATED'
  | 'AUDIT_HTTP_FORBIDDEN'
  | 'AUDIT_HTTP_NOT_FOUND'
  | 'AUDIT_HTTP_METHOD_NOT_ALLOWED'
  | 'AUDIT_HTTP_URI_TOO_LONG'
  | 'AUDIT_HTTP_MISDIRECTED'
  | 'AUDIT_HTTP_RANGE_TOO_LARGE'
  | 'AUDIT_HTTP_BUSY'
  | 'AUDIT_PROOF_UNAVAILABLE'
  | 'AUDIT_ACCESS_NOT_RECORDED';

/**
 * A request the server refuses, with a stable code (its HTTP status comes
 * from {@link statusOf}).
 *
 * @example
 * throw new HttpError('AUDIT_HTTP_BAD_REQUEST', 'limit must be an integer in 1..1000; got "100000"');
 */
export class HttpError extends AuditError {
  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HttpError';
  }
}

/** Every known code and its HTTP status: the one place this mapping lives. */
const STATUS_OF_CODE: Readonly<Record<string, number>> = Object.freeze({
  AUDIT_HTTP_BAD_REQUEST: 400,
  AUDIT_QUERY_CURSOR_INVALID: 400,
  AUDIT_OTLP_MALFORMED: 400,
  AUDIT_OTLP_LIMIT: 400,
  AUDIT_HTTP_UNAUTHENTICATED: 401,
  AUDIT_HTTP_FORBIDDEN: 403,
  AUDIT_HTTP_NOT_FOUND: 404,
  AUDIT_HTTP_METHOD_NOT_ALLOWED: 405,
  AUDIT_PROOF_UNAVAILABLE: 409,
  AUDIT_OTLP_TOO_LARGE: 413,
  AUDIT_HTTP_URI_TOO_LONG: 414,
  AUDIT_HTTP_MISDIRECTED: 421,
  AUDIT_HTTP_RANGE_TOO_LARGE: 422,
  AUDIT_HTTP_BUSY: 429,
  AUDIT_STORE_KEY_INVALID: 500,
  AUDIT_ACCESS_NOT_RECORDED: 503,
  AUDIT_STORE_WRITE_FAILED: 503,
});

/**
 * The HTTP status of an error code; 500 for codes the table does not know.
 *
 * @example
 * statusOf('AUDIT_HTTP_BUSY') // 429
 */
export function statusOf(code: string): number {
  return STATUS_OF_CODE[code] ?? 500;
}

/** What the server answers for a thrown value. */
export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
}

/**
 * Status, code and message for anything thrown by a route: an `AuditError`
 * gets the status of its code and its message; anything else — a
 * `TypeError` from a bug as much as an I/O error — is a generic 500 whose
 * message reveals nothing (the server's `onError` gets the error itself).
 * A request's own bad input reaches here as an `HttpError`: the routes
 * validate their parameters, and {@link callerInput} turns the store's
 * argument checks into one.
 *
 * @example
 * errorResponse(new HttpError('AUDIT_HTTP_BAD_REQUEST', 'limit must be ...')) // 400
 * errorResponse(new TypeError("Cannot read properties of undefined (reading 'x')")) // 500, 'internal error; see the server log'
 */
export function errorResponse(error: unknown): ErrorResponse {
  if (error instanceof AuditError) return { status: statusOf(error.code), code: error.code, message: error.message };
  return { status: 500, code: 'AUDIT_HTTP_INTERNAL', message: 'internal error; see the server log' };
}

/**
 * Call a store method whose arguments come from the request. The store
 * checks its arguments first and throws `TypeError`/`RangeError` naming
 * the bad one (a filter, a date, a limit): that is the caller's fault, so
 * it becomes a 400 `HttpError` with the store's message. Only what `call`
 * throws synchronously is mapped; errors of the work it starts are not.
 *
 * @example
 * const page = callerInput(() => store.query({ ...filter, limit }));
 */
export function callerInput<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', e.message, { cause: e });
    throw e;
  }
}

/**
 * {@link callerInput} for a store call that runs elsewhere (a search worker)
 * and rejects with the error the store threw there: a `TypeError` or
 * `RangeError` becomes the same 400 `HttpError`.
 *
 * @example
 * const page = await callerInputAsync(() => pool.query({ ...filter, text, limit }));
 */
export async function callerInputAsync<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) throw new HttpError('AUDIT_HTTP_BAD_REQUEST', e.message, { cause: e });
    throw e;
  }
}
