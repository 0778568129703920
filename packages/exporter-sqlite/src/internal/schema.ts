/**
 * The SQLite schema of the store (DESIGN §6) and its versioned migrations.
 * `PRAGMA user_version` holds the schema version and `PRAGMA application_id`
 * marks the file as an otel-audit store; opening applies the missing
 * migrations in one transaction and refuses a newer schema without touching
 * it. Append-only is enforced by triggers: UPDATE is always refused, DELETE
 * only for rows the retention path has first archived and announced with a
 * `system/retention_purge` record (see retention.ts). Someone with write
 * access to the file can drop the triggers — they keep honest code and
 * casual `sqlite3` sessions from rewriting history; `verify` is what catches
 * a determined attacker.
 */
import type Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';

/** 'OAAD' — marks otel-audit databases (PRAGMA application_id). */
export const APPLICATION_ID = 0x4f414144;

const V1 = `
CREATE TABLE audit_logs (
  log_id            INTEGER PRIMARY KEY,
  stream            TEXT NOT NULL,
  seq               INTEGER NOT NULL,
  event_id          TEXT NOT NULL,
  hash_alg          TEXT NOT NULL,
  time_unix_nano    INTEGER NOT NULL,
  timestamp         TEXT NOT NULL,
  event_type        TEXT NOT NULL,
  event_action      TEXT NOT NULL,
  event_result      TEXT NOT NULL,
  severity          TEXT NOT NULL,
  actor_id          TEXT,
  actor_type        TEXT,
  actor_ip          TEXT,
  actor_user_agent  TEXT,
  target_type       TEXT,
  target_id         TEXT,
  target_name       TEXT,
  request_id        TEXT,
  session_id        TEXT,
  api_endpoint      TEXT,
  http_method       TEXT,
  trace_id          TEXT,
  span_id           TEXT,
  details           TEXT,
  error_message     TEXT,
  old_values        TEXT,
  new_values        TEXT,
  redacted          TEXT,
  checksum          TEXT NOT NULL,
  previous_checksum TEXT NOT NULL,
  enc_key_id        TEXT
);
-- verify and export (a stream in seq order), retention prefixes, the stream
-- filter; also refuses a second record at the same (stream, seq).
CREATE UNIQUE INDEX audit_logs_stream_seq ON audit_logs (stream, seq);
-- idempotent append (a retried record is found by id) and lookup by id.
-- UUIDv7 ids are time-ordered, so this index grows at its right edge.
CREATE UNIQUE INDEX audit_logs_event_id ON audit_logs (event_id);
-- every time-window query: newest/oldest-first listing with keyset cursor
-- (time_unix_nano, log_id), and the dashboard's stats over a window —
-- counts by type, action, result and severity at the window's edges, time
-- buckets, distinct actors — answered from the index alone. Time-led, so it
-- grows at its right edge whatever the other columns hold.
CREATE INDEX audit_logs_time ON audit_logs (time_unix_nano, event_type, event_action, event_result, severity, actor_id);
-- "what did this actor do" (actor_id filter, newest first): the dashboard's
-- per-actor view. A random-key index, kept because that query is the most
-- common investigation.
CREATE INDEX audit_logs_actor ON audit_logs (actor_id, time_unix_nano) WHERE actor_id IS NOT NULL;
-- "what happened to this object" (target_type [+ target_id] filter).
CREATE INDEX audit_logs_target ON audit_logs (target_type, target_id, time_unix_nano) WHERE target_type IS NOT NULL;

CREATE TABLE audit_checkpoints (
  checkpoint_id  INTEGER PRIMARY KEY,
  stream         TEXT NOT NULL,
  size           INTEGER NOT NULL,
  root_hash      TEXT NOT NULL,
  time_unix_nano INTEGER NOT NULL,
  note           TEXT NOT NULL
);
-- the checkpoints of a stream in size order (verify, bundles, retention
-- cuts); the note in the key makes a re-delivered checkpoint a no-op.
CREATE UNIQUE INDEX audit_checkpoints_stream_size ON audit_checkpoints (stream, size, note);

CREATE TABLE audit_stream_heads (
  stream        TEXT PRIMARY KEY,
  hash_alg      TEXT NOT NULL,
  size          INTEGER NOT NULL,
  prev          TEXT NOT NULL,
  compact_range TEXT NOT NULL
);

CREATE TABLE audit_log_archives (
  archive_id          INTEGER PRIMARY KEY,
  stream              TEXT NOT NULL,
  hash_alg            TEXT NOT NULL,
  first_seq           INTEGER NOT NULL,
  last_seq            INTEGER NOT NULL,
  record_count        INTEGER NOT NULL,
  first_time_unix_nano INTEGER NOT NULL,
  last_time_unix_nano INTEGER NOT NULL,
  prev                TEXT NOT NULL,
  last_checksum       TEXT NOT NULL,
  start_compact_range TEXT NOT NULL,
  compact_range       TEXT NOT NULL,
  checkpoint_note     TEXT NOT NULL,
  created_unix_nano   INTEGER NOT NULL,
  sha256              TEXT NOT NULL,
  enc_key_id          TEXT,
  data                BLOB NOT NULL
);
-- the archives of a stream in order (next cut, verify's start, purge).
CREATE UNIQUE INDEX audit_log_archives_stream_seq ON audit_log_archives (stream, last_seq);

CREATE TABLE audit_log_purges (
  archive_id       INTEGER PRIMARY KEY REFERENCES audit_log_archives (archive_id),
  stream           TEXT NOT NULL,
  purge_record_id  TEXT NOT NULL,
  purged_unix_nano INTEGER NOT NULL
);

-- One row at most, present only inside a purge transaction.
CREATE TABLE audit_retention_grant (
  grant_id        INTEGER PRIMARY KEY CHECK (grant_id = 1),
  archive_id      INTEGER NOT NULL,
  stream          TEXT NOT NULL,
  purge_record_id TEXT NOT NULL
);

-- Derived counts per hour for the dashboard (stats over whole hours without
-- scanning the rows); kept in the append and purge transactions. Not part
-- of the integrity format: verify never reads it.
CREATE TABLE audit_stats_hourly (
  hour         INTEGER NOT NULL,
  event_type   TEXT NOT NULL,
  event_action TEXT NOT NULL,
  event_result TEXT NOT NULL,
  severity     TEXT NOT NULL,
  n            INTEGER NOT NULL,
  PRIMARY KEY (hour, event_type, event_action, event_result, severity)
) WITHOUT ROWID;

CREATE TABLE audit_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_logs is append-only; UPDATE refused'); END;

CREATE TRIGGER audit_logs_no_delete BEFORE DELETE ON audit_logs
WHEN NOT EXISTS (
  SELECT 1 FROM audit_retention_grant g
  JOIN audit_log_archives a ON a.archive_id = g.archive_id
  WHERE g.stream = OLD.stream AND a.stream = OLD.stream
    AND OLD.seq BETWEEN a.first_seq AND a.last_seq
    AND EXISTS (SELECT 1 FROM audit_logs p WHERE p.event_id = g.purge_record_id AND p.stream = OLD.stream
                AND p.event_type = 'system' AND p.event_action = 'retention_purge' AND p.seq > a.last_seq))
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_logs is append-only; DELETE refused outside an archived, announced retention purge'); END;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_checkpoints is append-only; UPDATE refused'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_checkpoints is append-only; DELETE refused'); END;
CREATE TRIGGER audit_log_archives_no_update BEFORE UPDATE ON audit_log_archives
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_log_archives is append-only; UPDATE refused'); END;
CREATE TRIGGER audit_log_archives_no_delete BEFORE DELETE ON audit_log_archives
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_log_archives is append-only; DELETE refused'); END;
CREATE TRIGGER audit_log_purges_no_update BEFORE UPDATE ON audit_log_purges
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_log_purges is append-only; UPDATE refused'); END;
CREATE TRIGGER audit_log_purges_no_delete BEFORE DELETE ON audit_log_purges
BEGIN SELECT RAISE(ABORT, 'otel-audit: audit_log_purges is append-only; DELETE refused'); END;
`;

/**
 * Version 2: indexes a store of millions of records needs (a scale review,
 * 3M records): the stream filter, newest first, sorted a whole stream per
 * page (8–10 s a page) and the integrity badge's time-to-seq lookup read a
 * whole stream; a request id was a full-table scan (5–7 s). Built once when
 * a writer first opens an older store (seconds on millions of rows). Also a
 * nullable column, the compact range stored with a checkpoint: a window
 * deep in a stream hashed every stored checksum before it (7.9 s for ten
 * records at seq 740,000; the badge was refused outright).
 */
const V2 = `
-- one stream's records by time (the stream filter of query, export and the
-- dashboard, newest or oldest first, with the (time, log_id) cursor — log_id
-- is the rowid every index entry ends with), and a time's seq in a stream.
CREATE INDEX audit_logs_stream_time ON audit_logs (stream, time_unix_nano);
-- "everything of this request" (request_id filter).
CREATE INDEX audit_logs_request ON audit_logs (request_id, time_unix_nano) WHERE request_id IS NOT NULL;
-- the Merkle compact range of the stream at the checkpoint's size (JSON of
-- CompactRangeState), as the appender held it when that size was reached in
-- the batch it wrote; NULL when it could not place the size (older rows, a
-- checkpoint delivered after later records). A window deep in a stream is
-- verified from the nearest one (stream-start.ts), not from seq 0. Unsigned:
-- a forged one makes the window's root mismatch its signed checkpoint.
ALTER TABLE audit_checkpoints ADD COLUMN compact_range TEXT;
`;

/** Migration i brings the schema from version i to i + 1. */
const MIGRATIONS: readonly string[] = [V1, V2];

/**
 * The schema version this code writes and understands (`PRAGMA user_version`).
 *
 * @example
 * db.pragma('user_version', { simple: true }) <= SCHEMA_VERSION
 */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * The oldest schema a read-only open reads: later versions only added
 * indexes and a nullable column that readers look for before using, so an
 * older store is read as it is (more slowly), never refused.
 */
export const MIN_READABLE_VERSION = 1;

/**
 * Refuses a database this code must not touch: another application's, a
 * newer schema, or a non-empty file of another schema. Reads only, so it
 * runs before anything (even the switch to WAL) changes the file.
 */
export function refuseForeign(db: Database.Database, path: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (appId !== 0 && appId !== APPLICATION_ID) {
    throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `${path} is a SQLite database of another application (application_id ${appId}); refusing to use it as an audit store`);
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreOpenError('AUDIT_STORE_SCHEMA_NEWER', path,
      `${path} has audit store schema version ${version}, newer than the ${SCHEMA_VERSION} this version of @otel-audit/exporter-sqlite understands; upgrade the package (the database was not modified)`);
  }
  if (version === 0 && appId === 0) {
    const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
    if (tables.n > 0) {
      throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `${path} already holds tables of another schema; refusing to add the audit store to it (the file was not modified)`);
    }
  }
}

/**
 * Bring `db` to {@link SCHEMA_VERSION}, or refuse it unchanged if it is newer
 * or belongs to another application. Runs inside one IMMEDIATE transaction,
 * so two processes opening a new file at once migrate it once.
 */
export function migrate(db: Database.Database, path: string): void {
  // A current store needs no write transaction: taking one at every open made a
  // service's start wait for any long writer (retention) and fail with SQLITE_BUSY.
  if ((db.pragma('user_version', { simple: true }) as number) === SCHEMA_VERSION) return;
  const run = db.transaction(() => {
    // Again inside the write transaction: another process may have changed the file since.
    refuseForeign(db, path);
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version < SCHEMA_VERSION) {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
  });
  run.immediate();
}
