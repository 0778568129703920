/**
 * Domain errors of @otel-audit/exporter-sqlite. Each class extends core's
 * `AuditError` and carries a stable `code` the processor, the server and the
 * CLI switch on, plus the evidence (record id, versions, paths). Misuse of
 * the API throws `TypeError`/`RangeError` instead; tampering found by
 * `verify` is reported, never thrown.
 */
import { AuditError } from '@otel-audit/core';

/**
 * The database cannot be opened as an otel-audit store: a newer schema than
 * this code understands (`AUDIT_STORE_SCHEMA_NEWER`, never altered), a file
 * that belongs to another application or is not a database
 * (`AUDIT_STORE_OPEN_FAILED`).
 *
 * @example
 * try { SqliteAuditStore.open('audit.db') } catch (e) {
 *   if (e instanceof StoreOpenError && e.code === 'AUDIT_STORE_SCHEMA_NEWER') console.error(e.message);
 * }
 */
export class StoreOpenError extends AuditError {
  /** The database file. */
  readonly path: string;

  constructor(code: 'AUDIT_STORE_SCHEMA_NEWER' | 'AUDIT_STORE_OPEN_FAILED', path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StoreOpenError';
    this.path = path;
  }
}

/**
 * A batch that would rewrite or fork history was refused and nothing of it
 * was committed: the same record id with different content
 * (`AUDIT_STORE_ID_CONFLICT`), or a record that does not continue its
 * stream's stored head (`AUDIT_STORE_CHAIN_CONFLICT`).
 *
 * @example
 * await store.append(batch).catch((e) => { if (e instanceof RecordConflictError) console.error(e.recordId) });
 */
export class RecordConflictError extends AuditError {
  readonly recordId: string;
  readonly stream: string;
  readonly seq: number;

  constructor(code: 'AUDIT_STORE_ID_CONFLICT' | 'AUDIT_STORE_CHAIN_CONFLICT', evidence: { recordId: string; stream: string; seq: number }, message: string) {
    super(code, message);
    this.name = 'RecordConflictError';
    this.recordId = evidence.recordId;
    this.stream = evidence.stream;
    this.seq = evidence.seq;
  }
}

/**
 * SQLite could not commit (`AUDIT_STORE_WRITE_FAILED`): the database is
 * locked beyond the busy timeout, the disk is full or read-only, or an I/O
 * error occurred. Nothing of the batch was committed; `retryable` tells the
 * processor whether its retry policy applies.
 *
 * @example
 * catch (e) { if (e instanceof StoreWriteError && e.retryable) scheduleRetry() }
 */
export class StoreWriteError extends AuditError {
  /** The SQLite error code, e.g. `SQLITE_BUSY`, `SQLITE_FULL`. */
  readonly sqliteCode: string | undefined;
  readonly retryable: boolean;

  constructor(sqliteCode: string | undefined, message: string, options?: { cause?: unknown }) {
    super('AUDIT_STORE_WRITE_FAILED', message, options);
    this.name = 'StoreWriteError';
    this.sqliteCode = sqliteCode;
    this.retryable = sqliteCode !== undefined && /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN)/.test(sqliteCode);
  }
}

/**
 * A query cursor that this store did not produce, or produced for another
 * sort order (`AUDIT_QUERY_CURSOR_INVALID`).
 *
 * @example
 * store.query({ cursor: 'garbage' }) // throws InvalidCursorError
 */
export class InvalidCursorError extends AuditError {
  constructor(message: string) {
    super('AUDIT_QUERY_CURSOR_INVALID', message);
    this.name = 'InvalidCursorError';
  }
}

/**
 * Encryption at rest cannot proceed: no key for the key id stored on a row,
 * or a key whose check value differs from the one the store was created
 * with, i.e. the wrong key (`AUDIT_STORE_KEY_INVALID`). Never includes key
 * material.
 *
 * @example
 * SqliteAuditStore.open(path, { encryption: { keyId: 'k1', key: wrongKey } }) // throws EncryptionKeyError
 */
export class EncryptionKeyError extends AuditError {
  readonly keyId: string;

  constructor(keyId: string, message: string) {
    super('AUDIT_STORE_KEY_INVALID', message);
    this.name = 'EncryptionKeyError';
    this.keyId = keyId;
  }
}

/**
 * Retention could not run as asked (`AUDIT_RETENTION_REFUSED`): e.g. the
 * retention record was not committed, or an archive fails its own checksum.
 *
 * @example
 * await store.purge({ olderThan }).catch((e) => { if (e instanceof RetentionError) console.error(e.message) });
 */
export class RetentionError extends AuditError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AUDIT_RETENTION_REFUSED', message, options);
    this.name = 'RetentionError';
  }
}

/**
 * A bundle or archive whose container cannot be read at all
 * (`AUDIT_BUNDLE_MALFORMED`); what is inside is verified and reported.
 *
 * @example
 * verifyBundle('not json', keyring) // throws BundleFormatError
 */
export class BundleFormatError extends AuditError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AUDIT_BUNDLE_MALFORMED', message, options);
    this.name = 'BundleFormatError';
  }
}

/**
 * A bundle export refused (`AUDIT_EXPORT_REFUSED`): the stored rows before a
 * stream's range do not give it a verifiable start (a seq stored twice or
 * no integer, a record missing), so the bundle would vouch for records it
 * cannot tie to the stream's history. `otel-audit verify` reports the rows.
 *
 * @example
 * await collect(store.export({ format: 'bundle', fromSeq: 10 })).catch((e) => { if (e instanceof BundleExportError) console.error(e.stream, e.message) });
 */
export class BundleExportError extends AuditError {
  /** The stream whose range has no verifiable start. */
  readonly stream: string;

  constructor(stream: string, message: string) {
    super('AUDIT_EXPORT_REFUSED', message);
    this.name = 'BundleExportError';
    this.stream = stream;
  }
}
