// The tampering part of the demo (DESIGN §4.4, §6): copies of the database
// are changed the way someone with write access to the file could — the
// append-only triggers dropped first, as such a person would — and each
// copy is verified with the `otel-audit` command, which must exit 1 and
// name the right finding. The original database is never touched.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const TRIGGERS = ['audit_logs_no_update', 'audit_logs_no_delete'];

/**
 * A tampering of one row: the oldest record matching `where` (fixed SQL of
 * this file, no input) gets `statement` applied to its `seq`.
 */
function rowTampering({ file, title, finding, where, what, statement, note }) {
  return {
    file, title, finding,
    apply(db) {
      const row = db.prepare(`SELECT seq, actor_id FROM audit_logs WHERE ${where} ORDER BY seq LIMIT 1`).get();
      if (row === undefined) throw new Error(`no ${what} to tamper with`);
      db.prepare(statement).run(row.seq);
      return `${statement.replace('?', String(row.seq))}   -- ${row.actor_id}${note}`;
    },
  };
}

/**
 * The three tamperings: each has a title, the finding verify must report,
 * and `apply(db)` that changes an opened copy and returns what it did.
 *
 * @example
 * for (const t of TAMPERINGS) console.log(t.title, '→', t.finding);
 */
export const TAMPERINGS = Object.freeze([
  rowTampering({
    file: 'edited.db',
    title: 'A failed login rewritten as a success (one column edited in place)',
    finding: 'hash_mismatch',
    where: "event_type = 'auth' AND event_action = 'login' AND event_result = 'failure'",
    what: 'failed login',
    statement: "UPDATE audit_logs SET event_result = 'success' WHERE seq = ?",
    note: "'s failed login",
  }),
  rowTampering({
    file: 'deleted.db',
    title: 'A denied authorization removed (one record row deleted)',
    finding: 'seq_gap',
    where: "event_type = 'access' AND event_result = 'failure'",
    what: 'denied authorization',
    statement: 'DELETE FROM audit_logs WHERE seq = ?',
    note: ' was denied',
  }),
  {
    file: 'truncated.db',
    title: 'The newest records cut off (the end of the log deleted)',
    finding: 'truncated',
    apply(db) {
      const { last } = db.prepare('SELECT max(seq) AS last FROM audit_logs').get();
      const from = Math.max(1, last - 9);
      db.prepare('DELETE FROM audit_logs WHERE seq >= ?').run(from);
      return `DELETE FROM audit_logs WHERE seq >= ${from}   -- the last ${last - from + 1} records`;
    },
  },
]);

/**
 * Make a tampered copy of `dbPath` in `dir` (the WAL file too, if any).
 * Returns `{ path, sql }`.
 *
 * @example
 * const { path, sql } = tamperCopy('demo-output/audit.db', 'demo-output/tampered', TAMPERINGS[0]);
 */
export function tamperCopy(dbPath, dir, tampering) {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, tampering.file);
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  copyFileSync(dbPath, path);
  if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${path}-wal`);
  const db = new Database(path);
  try {
    for (const t of TRIGGERS) db.exec(`DROP TRIGGER IF EXISTS ${t}`);
    const sql = tampering.apply(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { path, sql };
  } finally {
    db.close();
  }
}
