/**
 * The outbox's SQLite file (DESIGN §5): `outbox_records` holds what is
 * waiting to be shipped, in commit order (`id`); `outbox_resources` the
 * resources they share; `outbox_dead_letters` what a receiver refused for
 * good, with the status and reason; `outbox_state` the last error and the
 * last success, for `otel-audit status`. WAL, `synchronous=NORMAL` by
 * default (survives a process crash), one writer process per file. A new
 * outbox file (and so its -wal and -shm) is created owner-only, 0600.
 * The file gives back the space of shipped rows: new files are created with
 * `auto_vacuum=INCREMENTAL`, and the shipper calls {@link OutboxDb.vacuumStep}
 * in slices once {@link OutboxDb.reclaimablePages} says enough is free; a file
 * made before that (`auto_vacuum=NONE`) is converted by one `VACUUM` at open
 * when no record waits in it and what it holds is small (see
 * {@link CONVERT_MAX_USED_PAGES}).
 */
import Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';
import { createPrivateFile } from '../internal/private-file.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox_resources (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS outbox_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  enqueued_at INTEGER NOT NULL,
  resource_id INTEGER NOT NULL REFERENCES outbox_resources (id),
  log TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  record_id INTEGER NOT NULL,
  enqueued_at INTEGER NOT NULL,
  dead_at INTEGER NOT NULL,
  status INTEGER,
  reason TEXT NOT NULL,
  resource_id INTEGER NOT NULL,
  log TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/**
 * An `auto_vacuum=NONE` file is converted at open (one `VACUUM`, which
 * rewrites what the file holds, not its free pages: measured 0.6 ms for an
 * empty outbox with 71k free pages) only when it holds at most this many
 * used pages (64 MiB at 4 KiB), so the open is never held up for long and the
 * temporary copy stays small. Larger files (many dead letters) stay as they
 * are; they are converted at an open after their dead letters were cleared.
 */
export const CONVERT_MAX_USED_PAGES = 16_384;

/** Free pages are given back only past both: a quarter of the file and 8 MiB. */
const RECLAIM_MIN_FRACTION = 0.25;
const RECLAIM_MIN_BYTES = 8 * 1024 * 1024;

/** A waiting row. */
export interface OutboxRow {
  id: number;
  enqueued_at: number;
  resource_id: number;
  log: string;
}

/** The open outbox file and its prepared statements. */
export class OutboxDb {
  readonly db: Database.Database;
  readonly path: string;
  readonly #insert: Database.Statement;
  readonly #resourceId: Database.Statement;
  readonly #insertResource: Database.Statement;
  readonly #resourceBody: Database.Statement;
  readonly #batch: Database.Statement;
  readonly #deleteUpTo: Database.Statement;
  readonly #copyDead: Database.Statement;
  readonly #setState: Database.Statement;
  readonly #depth: Database.Statement;
  /** Whether the file gives free pages back (`auto_vacuum=INCREMENTAL`), and its page size: fixed once open. */
  readonly #incremental: boolean;
  readonly #pageSize: number;

  constructor(path: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL') {
    if (typeof path !== 'string' || path === '' || path === ':memory:') throw new TypeError('options.path must be the path of the outbox database file');
    try {
      createPrivateFile(path);
      this.db = new Database(path);
      this.db.pragma('busy_timeout = 5000');
      // Must come before the first table: a no-op on a file that has tables already.
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.exec(SCHEMA);
      this.#convertLegacy();
    } catch (e) {
      throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `cannot open outbox ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.path = path;
    this.#incremental = this.db.pragma('auto_vacuum', { simple: true }) === 2;
    this.#pageSize = this.db.pragma('page_size', { simple: true }) as number;
    this.#insert = this.db.prepare('INSERT INTO outbox_records (enqueued_at, resource_id, log) VALUES (?, ?, ?)');
    this.#resourceId = this.db.prepare('SELECT id FROM outbox_resources WHERE body = ?').pluck();
    this.#insertResource = this.db.prepare('INSERT INTO outbox_resources (body) VALUES (?)');
    this.#resourceBody = this.db.prepare('SELECT body FROM outbox_resources WHERE id = ?').pluck();
    this.#batch = this.db.prepare('SELECT id, enqueued_at, resource_id, log FROM outbox_records WHERE id > ? ORDER BY id LIMIT ?');
    this.#deleteUpTo = this.db.prepare('DELETE FROM outbox_records WHERE id >= ? AND id <= ?');
    this.#copyDead = this.db.prepare(
      `INSERT INTO outbox_dead_letters (record_id, enqueued_at, dead_at, status, reason, resource_id, log)
       SELECT id, enqueued_at, ?, ?, ?, resource_id, log FROM outbox_records WHERE id >= ? AND id <= ? ORDER BY id`);
    this.#setState = this.db.prepare('INSERT INTO outbox_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#depth = this.db.prepare('SELECT count(*) AS depth, min(enqueued_at) AS oldest, min(id) AS firstId FROM outbox_records');
  }

  /** The id of a resource body, inserting it when new. */
  resourceId(body: string): number {
    const id = this.#resourceId.get(body) as number | undefined;
    return id ?? Number(this.#insertResource.run(body).lastInsertRowid);
  }

  /** The body of resource row `id`, or undefined when there is none. */
  resourceBody(id: number): string | undefined {
    return this.#resourceBody.get(id) as string | undefined;
  }

  /** Insert a row (call inside a transaction); returns its id. */
  insert(enqueuedAt: number, resourceId: number, log: string): number {
    return Number(this.#insert.run(enqueuedAt, resourceId, log).lastInsertRowid);
  }

  /** Up to `limit` rows after `afterId`, oldest first. */
  batch(afterId: number, limit: number): OutboxRow[] {
    return this.#batch.all(afterId, limit) as OutboxRow[];
  }

  /** Remove shipped rows `from..to`. */
  deleteRange(from: number, to: number): void {
    this.#deleteUpTo.run(from, to);
  }

  /** Move rows `from..to` to the dead-letter table, in one transaction. */
  deadLetter(from: number, to: number, status: number | undefined, reason: string, now: number): void {
    this.db.transaction(() => {
      this.#copyDead.run(now, status ?? null, reason, from, to);
      this.#deleteUpTo.run(from, to);
    }).immediate();
  }

  setState(key: string, value: string): void {
    this.#setState.run(key, value);
  }

  /** Rows waiting, the earliest `enqueued_at` (wall time) and the first row's id. */
  depth(): { depth: number; oldest: number | null; firstId: number | null } {
    return this.#depth.get() as { depth: number; oldest: number | null; firstId: number | null };
  }

  /**
   * Free pages worth giving back to the file system now (0 when the file
   * cannot shrink by itself, or when less than a quarter of it and less
   * than 8 MiB are free: those pages are soon reused by new records).
   */
  reclaimablePages(): number {
    if (!this.#incremental) return 0;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    return free > pages * RECLAIM_MIN_FRACTION && free * this.#pageSize > RECLAIM_MIN_BYTES ? free : 0;
  }

  /**
   * Give up to `pages` free pages back (`incremental_vacuum`), and with
   * `checkpoint` also truncate the file and its -wal (the file shrinks only
   * at a checkpoint in WAL mode). Never waits for a lock: when `status
   * --requeue` or a reader holds one, it does less or throws SQLITE_BUSY
   * and the caller tries again later. `pages` 0: only the checkpoint.
   * Returns the free pages left.
   */
  vacuumStep(pages: number, checkpoint: boolean): number {
    this.db.pragma('busy_timeout = 0');
    try {
      // incremental_vacuum(0) would free every page at once.
      if (pages >= 1) this.db.pragma(`incremental_vacuum(${Math.floor(pages)})`);
      if (checkpoint) this.db.pragma('wal_checkpoint(TRUNCATE)');
      return this.db.pragma('freelist_count', { simple: true }) as number;
    } finally {
      this.db.pragma('busy_timeout = 5000');
    }
  }

  /**
   * A file made without auto_vacuum never shrinks: convert it while nothing
   * waits in it and it is small. Best effort — a busy file is converted at a
   * later open.
   */
  #convertLegacy(): void {
    if (this.db.pragma('auto_vacuum', { simple: true }) !== 0) return;
    if (this.db.prepare('SELECT EXISTS (SELECT 1 FROM outbox_records)').pluck().get() === 1) return;
    const used = (this.db.pragma('page_count', { simple: true }) as number) - (this.db.pragma('freelist_count', { simple: true }) as number);
    if (used > CONVERT_MAX_USED_PAGES) return;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Another process has the file open in a transaction: try at the next open.
    } finally {
      this.db.pragma('busy_timeout = 5000');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
