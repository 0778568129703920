/**
 * The messages between the audit server and its search worker
 * (search-pool.ts, search-worker.ts) — queries, exports and stats — and the rebuilding of a worker's
 * error on the main thread as the class the store would have thrown there:
 * `TypeError`/`RangeError` (a bad filter: a 400 through `callerInput`),
 * `InvalidCursorError` (400); anything else — the worker's store failing to
 * open, a locked or damaged file — a plain `Error` naming the original class
 * and code: a generic 500 whose message stays in the server log, as a
 * failure of the store's own connection is.
 */
import { InvalidCursorError } from '@otel-audit/exporter-sqlite';
import type { WindowStatsOptions } from './window-stats.js';

/** Main thread → worker. */
export type SearchJob =
  | { id: number; kind: 'query'; query: Record<string, unknown> }
  | { id: number; kind: 'export'; options: Record<string, unknown> }
  /** The stats answer of a window (window-stats.ts). */
  | { id: number; kind: 'stats'; options: WindowStatsOptions }
  /** The chunk of export `id` was taken: produce the next. */
  | { id: number; kind: 'ack' }
  /** Stop export `id` (the client went away): its read transaction ends. */
  | { id: number; kind: 'cancel' };

/** An error as it crosses the thread boundary. */
export interface WorkerError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Worker → main thread. */
export type SearchReply =
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'chunk'; chunk: string }
  | { id: number; kind: 'error'; error: WorkerError };

/**
 * The error the main thread throws for `e`, of the class the store throws.
 *
 * @example
 * rebuildError({ name: 'InvalidCursorError', code: 'AUDIT_QUERY_CURSOR_INVALID', message: 'query.cursor ...' }) // an InvalidCursorError: 400
 * rebuildError({ name: 'SqliteError', code: 'SQLITE_BUSY', message: 'database is locked' }) // an Error: 500
 */
export function rebuildError(e: WorkerError): Error {
  let error: Error;
  if (e.name === 'TypeError') error = new TypeError(e.message);
  else if (e.name === 'RangeError') error = new RangeError(e.message);
  else if (e.code === 'AUDIT_QUERY_CURSOR_INVALID') error = new InvalidCursorError(e.message);
  else error = new Error(`search worker: ${e.name}${e.code === undefined ? '' : ` (${e.code})`}: ${e.message}`);
  if (e.stack !== undefined) error.stack = `${error.name}: ${error.message}\n    (in the search worker)\n${e.stack.split('\n').slice(1).join('\n')}`;
  return error;
}
