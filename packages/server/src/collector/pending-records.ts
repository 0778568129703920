/**
 * Records that arrived before their predecessors (DESIGN §5), waiting in
 * `collector_pending` beside the central store — durable, so an accepted
 * request is never lost. Several records may wait at one seq (a forged one
 * cannot take a genuine one's place; how many, ParkedCandidates decides):
 * the table is keyed on record id and hash, and keeps each record's `prev`
 * so the one a successor names can be told from the others. How many wait
 * in all is counted as they come and go (read again at each request's
 * start), so bounding the table costs no scan per record.
 */
import type Database from 'better-sqlite3';

/** A record waiting in `collector_pending`. */
export interface Parked {
  record_id: string;
  hash: string;
  prev: string;
  body: string;
}

/** A stream with records waiting: the lowest seq waiting and when the oldest one arrived. */
export interface WaitingStream {
  stream: string;
  first: number;
  since: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS collector_pending (
  record_id TEXT NOT NULL, hash TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL, prev TEXT NOT NULL, body TEXT NOT NULL,
  received_at INTEGER NOT NULL, PRIMARY KEY (record_id, hash));
CREATE INDEX IF NOT EXISTS collector_pending_seq ON collector_pending (stream, seq);`;

/**
 * Create `collector_pending`, or bring one of an earlier version (one row
 * per record id, so a forged record could take a genuine one's place) to
 * the current shape, keeping what waits in it.
 */
function open(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(collector_pending)').all() as { name: string }[]).map((c) => c.name);
  if (columns.length === 0 || columns.includes('prev')) {
    db.exec(SCHEMA);
    return;
  }
  db.transaction(() => {
    db.exec('DROP INDEX IF EXISTS collector_pending_seq; ALTER TABLE collector_pending RENAME TO collector_pending_v0;');
    db.exec(SCHEMA);
    db.exec(`INSERT OR IGNORE INTO collector_pending (record_id, hash, stream, seq, prev, body, received_at)
      SELECT record_id, hash, stream, seq, coalesce(json_extract(body, '$.prev'), ''), body, received_at FROM collector_pending_v0 WHERE json_valid(body);
      DROP TABLE collector_pending_v0;`);
  }).immediate();
}

/** The waiting records of one central store (called inside the ingest transaction). */
export class PendingRecords {
  readonly #hashesOf: Database.Statement;
  readonly #park: Database.Statement;
  readonly #at: Database.Statement;
  readonly #countAt: Database.Statement;
  readonly #before: Database.Statement;
  readonly #successor: Database.Statement;
  readonly #unpark: Database.Statement;
  readonly #count: Database.Statement;
  readonly #first: Database.Statement;
  readonly #oldest: Database.Statement;
  readonly #streams: Database.Statement;
  /** Rows in the table, as of {@link PendingRecords.recount} plus what parked and left since. */
  #total = 0;

  constructor(db: Database.Database) {
    open(db);
    this.#hashesOf = db.prepare('SELECT hash FROM collector_pending WHERE record_id = ?').pluck();
    this.#park = db.prepare('INSERT OR IGNORE INTO collector_pending (record_id, hash, stream, seq, prev, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.#at = db.prepare('SELECT record_id, hash, prev, body FROM collector_pending WHERE stream = ? AND seq = ? ORDER BY received_at, rowid');
    this.#countAt = db.prepare('SELECT count(*) FROM collector_pending WHERE stream = ? AND seq = ?').pluck();
    this.#before = db.prepare('SELECT record_id, hash, seq FROM collector_pending WHERE stream = ? AND seq < ?');
    this.#successor = db.prepare('SELECT 1 FROM collector_pending WHERE stream = ? AND seq = ? AND prev = ? LIMIT 1').pluck();
    this.#unpark = db.prepare('DELETE FROM collector_pending WHERE record_id = ? AND hash = ?');
    this.#count = db.prepare('SELECT count(*) FROM collector_pending').pluck();
    this.#first = db.prepare('SELECT min(seq) FROM collector_pending WHERE stream = ?').pluck();
    this.#oldest = db.prepare('SELECT min(received_at) FROM collector_pending WHERE stream = ?').pluck();
    this.#streams = db.prepare('SELECT stream, min(seq) AS first, min(received_at) AS since FROM collector_pending GROUP BY stream');
    this.recount();
  }

  /** Count the records waiting again (a request starts: one that rolled back left the running count wrong). */
  recount(): void {
    this.#total = this.count();
  }

  /** Records waiting, counted as they parked and left since the last {@link PendingRecords.recount}. */
  total(): number {
    return this.#total;
  }

  /** Hashes of the records waiting under `id`. */
  hashesOf(id: string): string[] {
    return this.#hashesOf.all(id) as string[];
  }

  park(id: string, hash: string, stream: string, seq: number, prev: string, body: string): void {
    this.#total += this.#park.run(id, hash, stream, seq, prev, body, Date.now()).changes;
  }

  /** The records waiting at `seq` of `stream`, oldest first. */
  at(stream: string, seq: number): Parked[] {
    return this.#at.all(stream, seq) as Parked[];
  }

  /** How many records wait at `seq` of `stream`. */
  countAt(stream: string, seq: number): number {
    return this.#countAt.get(stream, seq) as number;
  }

  /** The records waiting for a seq below `seq` (which the stream already holds). */
  before(stream: string, seq: number): (Parked & { seq: number })[] {
    return this.#before.all(stream, seq) as (Parked & { seq: number })[];
  }

  /** Whether a record waiting at `seq` names `prev` as its predecessor's hash. */
  hasSuccessor(stream: string, seq: number, prev: string): boolean {
    return this.#successor.get(stream, seq, prev) !== undefined;
  }

  unpark(id: string, hash: string): void {
    this.#total -= this.#unpark.run(id, hash).changes;
  }

  /** Records waiting, read from the table. */
  count(): number {
    return this.#count.get() as number;
  }

  /** The lowest seq waiting in `stream`, or null. */
  firstSeq(stream: string): number | null {
    return this.#first.get(stream) as number | null;
  }

  /** When the oldest record waiting in `stream` arrived (ms), or null. */
  oldestArrival(stream: string): number | null {
    return this.#oldest.get(stream) as number | null;
  }

  /** Every stream with records waiting. */
  streams(): WaitingStream[] {
    return this.#streams.all() as WaitingStream[];
  }
}
