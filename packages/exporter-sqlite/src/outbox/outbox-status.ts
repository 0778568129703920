/**
 * `readOutboxStatus`: what `otel-audit status` shows about an outbox file
 * (DESIGN §5) — records waiting, age of the oldest, dead letters, the last
 * error and the last success — read through a read-only connection, so it
 * works beside the running service. The last error is masked again as it is
 * read (`redactSecrets`): a file written before the outbox masked what
 * receivers said may still hold an echoed token.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { redactSecrets } from '@otel-audit/core';
import { StoreOpenError } from '../errors.js';

/**
 * The state of an outbox.
 *
 * @example
 * const s: OutboxStatus = readOutboxStatus('outbox.db'); // { depth: 0, oldestAgeMillis: 0, deadLetters: 0 }
 */
export interface OutboxStatus {
  path: string;
  /** Records waiting to be shipped. */
  depth: number;
  /** Age of the oldest waiting record (0 when empty). */
  oldestAgeMillis: number;
  /** Records in the dead-letter table. */
  deadLetters: number;
  /** The last failed export, if any since the file was created; its message with secrets masked. */
  lastError?: { at: string; message: string; status?: number };
  /** When the receiver last accepted a batch. */
  lastSuccessAt?: string;
}

/**
 * Read the status of the outbox at `path`. Throws `StoreOpenError` when the
 * file does not exist or is not an outbox.
 *
 * @example
 * const { depth, oldestAgeMillis, deadLetters } = readOutboxStatus('/var/lib/app/outbox.db');
 */
export function readOutboxStatus(path: string, now = Date.now()): OutboxStatus {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be the path of an outbox file');
  if (!existsSync(path)) throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `no outbox at ${path}: check exporters.otlphttp.outbox.path`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const q = db.prepare('SELECT count(*) AS depth, min(enqueued_at) AS oldest FROM outbox_records').get() as { depth: number; oldest: number | null };
    const dead = db.prepare('SELECT count(*) FROM outbox_dead_letters').pluck().get() as number;
    const state = new Map((db.prepare('SELECT key, value FROM outbox_state').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const status: OutboxStatus = { path, depth: q.depth, oldestAgeMillis: q.oldest === null ? 0 : Math.max(0, now - q.oldest), deadLetters: dead };
    const err = state.get('last_error');
    if (err !== undefined) {
      const e = JSON.parse(err) as { at: number; message: string; status?: number };
      status.lastError = { at: new Date(e.at).toISOString(), message: redactSecrets(String(e.message)), ...(e.status !== undefined ? { status: e.status } : {}) };
    }
    const ok = state.get('last_success_at');
    if (ok !== undefined) status.lastSuccessAt = new Date(Number(ok)).toISOString();
    return status;
  } catch (e) {
    if (e instanceof StoreOpenError) throw e;
    throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `${path} is not an otel-audit outbox: ${(e as Error).message}`, { cause: e });
  } finally {
    db?.close();
  }
}

/**
 * Move every dead-lettered record of the outbox at `path` back into its
 * queue, oldest first, once the cause (a bad token, a receiver refusing the
 * format) is fixed; returns how many. Their age starts over, so
 * `outbox.max_age` does not dead-letter them again at once. A running
 * service ships them with its next export (or at its next start); the
 * receiver places them by seq, so a stream's gap closes.
 *
 * @example
 * const n = requeueDeadLetters('/var/lib/app/outbox.db'); // 12
 */
export function requeueDeadLetters(path: string, now = Date.now()): number {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be the path of an outbox file');
  if (!existsSync(path)) throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `no outbox at ${path}: check exporters.otlphttp.outbox.path`);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const conn = db;
    return conn.transaction(() => {
      const moved = conn.prepare('INSERT INTO outbox_records (enqueued_at, resource_id, log) SELECT ?, resource_id, log FROM outbox_dead_letters ORDER BY record_id, id').run(now).changes;
      conn.prepare('DELETE FROM outbox_dead_letters').run();
      return moved;
    }).immediate();
  } catch (e) {
    throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `cannot requeue the dead letters of ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    db?.close();
  }
}
