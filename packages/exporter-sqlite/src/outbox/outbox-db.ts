/**
 * The outbox's SQLite file (DESIGN §5): `outbox_records` holds what is
 * waiting to be shipped, in commit order (`id`); `outbox_resources` the
 * resources they share; `outbox_dead_letters` what a receiver refused for
 * good, with the status and reason; `outbox_state` the last error and the
 * last success, for `otel-audit status`. WAL, `synchronous=NORMAL` by
 * default (survives a process crash), one writer process per file. A new
 * outbox file (and so its -wal and -shm) is created owner-only, 0600.
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

  constructor(path: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL') {
    if (typeof path !== 'string' || path === '' || path === ':memory:') throw new TypeError('options.path must be the path of the outbox database file');
    try {
      createPrivateFile(path);
      this.db = new Database(path);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.exec(SCHEMA);
    } catch (e) {
      throw new StoreOpenError('AUDIT_STORE_OPEN_FAILED', path, `cannot open outbox ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.path = path;
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
    this.#depth = this.db.prepare('SELECT count(*) AS depth, min(enqueued_at) AS oldest FROM outbox_records');
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

  /** Insert rows (call inside a transaction). */
  insert(enqueuedAt: number, resourceId: number, log: string): void {
    this.#insert.run(enqueuedAt, resourceId, log);
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

  depth(): { depth: number; oldest: number | null } {
    return this.#depth.get() as { depth: number; oldest: number | null };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
