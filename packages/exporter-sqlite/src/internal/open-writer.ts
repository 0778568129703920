/**
 * The store's options and opening its connection (DESIGN §6): argument
 * checks, WAL, `synchronous` NORMAL or FULL, the busy timeout, migrations, and the
 * encryption key check (key-check.ts) — with every failure turned into a `StoreOpenError`
 * (or `EncryptionKeyError`) that names the file, and the connection closed.
 * A read-only open writes nothing: no journal-mode switch, no migration, no
 * key check value recorded, and (a read-only connection never checkpoints)
 * the WAL of a WAL database is read, not folded into the file on close.
 * A store file this code creates is created owner-only (0600), and SQLite
 * gives its -wal and -shm the same mode.
 */
import Database from 'better-sqlite3';
import { EncryptionKeyError, StoreOpenError } from '../errors.js';
import { RowCipher, type EncryptionKey } from './row-cipher.js';
import { checkStoreKeys } from './key-check.js';
import { createPrivateFile } from './private-file.js';
import { migrate, MIN_READABLE_VERSION, refuseForeign, SCHEMA_VERSION } from './schema.js';
import { describe } from './describe.js';
import { filesystemHint } from './filesystem-hint.js';

/** Options of {@link SqliteAuditStore}. */
export interface SqliteAuditStoreOptions {
  /** `NORMAL` (default: a commit survives a process crash) or `FULL` (also a power loss). */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * How long a statement waits for a lock held by another connection.
   * Default: 5,000 ms to open and for reads, 250 ms for writes — a write
   * runs on the event loop, so a long wait would freeze the service; a busy
   * write fails with SQLITE_BUSY and the processor retries it with backoff.
   */
  busyTimeoutMillis?: number;
  /**
   * Encryption at rest of details, old/new values and the user agent
   * (AES-256-GCM). `previousKeys` open rows sealed before a key rotation.
   */
  encryption?: EncryptionKey & { previousKeys?: readonly EncryptionKey[] };
  /**
   * Open an existing store without writing to it: a read-only connection,
   * no switch to WAL, no migration, no checkpoint of the WAL on close (its
   * records are read where they are). `append`, `archive` and `purge`
   * throw a `StoreWriteError`. The file must exist and hold the current
   * schema. Default false.
   *
   * @example
   * const evidence = new SqliteAuditStore('evidence.db', { readOnly: true });
   */
  readOnly?: boolean;
}

/** The open writer. */
export interface OpenedWriter {
  db: Database.Database;
  cipher: RowCipher | undefined;
  busyTimeoutMillis: number;
}

/** How long a write waits for another connection's lock by default (opening waits 5 s). */
export const DEFAULT_WRITE_BUSY_MILLIS = 250;

export function openWriter(path: string, options: SqliteAuditStoreOptions): OpenedWriter {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be the path of a database file');
  if (path === ':memory:' || path.startsWith('file:')) throw new RangeError('path must be a file path (verify and export read through a second connection)');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const sync = options.synchronous ?? 'NORMAL';
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new RangeError(`options.synchronous must be 'NORMAL' or 'FULL'; got ${describe(sync)}`);
  const busy = options.busyTimeoutMillis ?? 5_000;
  if (!Number.isSafeInteger(busy) || busy < 0) throw new RangeError(`options.busyTimeoutMillis must be a non-negative integer; got ${describe(busy)}`);
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') throw new TypeError(`options.readOnly must be a boolean; got ${describe(options.readOnly)}`);
  const cipher = options.encryption === undefined ? undefined : new RowCipher(options.encryption, options.encryption.previousKeys ?? []);
  if (options.readOnly === true) return { db: openReadOnly(path, busy, cipher), cipher, busyTimeoutMillis: busy };
  let db: Database.Database | undefined;
  try {
    createPrivateFile(path);
    db = new Database(path);
    db.pragma(`busy_timeout = ${busy}`);
    refuseForeign(db, path);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync}`);
    migrate(db, path);
    checkStoreKeys(db, path, cipher);
    // Writes run on the caller's thread (better-sqlite3 is synchronous): waiting 5 s for
    // another process's lock would freeze the service's event loop for as long, at every
    // retry. Unless told otherwise, a write waits briefly and the processor retries it
    // with backoff instead (SQLITE_BUSY is retryable).
    if (options.busyTimeoutMillis === undefined) db.pragma(`busy_timeout = ${DEFAULT_WRITE_BUSY_MILLIS}`);
  } catch (e) {
    db?.close();
    if (e instanceof StoreOpenError || e instanceof EncryptionKeyError) throw e;
    throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `cannot open audit store ${path}: ${(e as Error).message}${filesystemHint(path, (e as { code?: unknown }).code)}`, { cause: e });
  }
  return { db, cipher, busyTimeoutMillis: busy };
}

function openReadOnly(path: string, busy: number, cipher: RowCipher | undefined): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${busy}`);
    refuseForeign(db, path);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < MIN_READABLE_VERSION) {
      throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `${path} holds no audit store (schema version ${version}, not ${MIN_READABLE_VERSION} to ${SCHEMA_VERSION}); a read-only open neither creates nor migrates one`);
    }
    checkStoreKeys(db, path, cipher, false);
  } catch (e) {
    db?.close();
    if (e instanceof StoreOpenError || e instanceof EncryptionKeyError) throw e;
    throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `cannot open audit store ${path} read-only: ${(e as Error).message}`, { cause: e });
  }
  return db;
}
