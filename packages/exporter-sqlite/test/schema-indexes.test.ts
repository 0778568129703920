/**
 * Schema version 2 (src/internal/schema.ts): the indexes a store of
 * millions of records needs — a scale review of a 3M-record store measured
 * 8–10 s a page for the stream filter (the whole stream sorted per page) and
 * 5–7 s for a request id (a full-table scan). Checked on the statements the
 * store really runs, by SQLite's own query plan; and a store of version 1 is
 * still read by a read-only open, and migrated by a writer (which also adds
 * the checkpoints' compact_range column, see checkpoint-snapshot.test.ts).
 */
import Database from 'better-sqlite3';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteAuditStore } from '../src/index.js';
import { sealBatch, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups.splice(0).reverse()) c(); });

function storeOf(n: number): { file: string; store: SqliteAuditStore } {
  const tmp = tempDb();
  cleanups.push(tmp.cleanup);
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => store.close());
  store.appendSync(sealBatch(new AuditChain({ stream: 'svc/1' }), n));
  return { file: tmp.file, store };
}

/** The plans of the SELECTs on audit_logs that `run` makes the store prepare. */
function plansOf(store: SqliteAuditStore, run: () => unknown): string[] {
  const db = store.database;
  const prepare = db.prepare.bind(db);
  const sql: string[] = [];
  db.prepare = ((source: string) => {
    sql.push(source);
    return prepare(source);
  }) as typeof db.prepare;
  try {
    run();
  } finally {
    db.prepare = prepare as typeof db.prepare;
  }
  const selects = sql.filter((s) => /^\s*SELECT[\s\S]*FROM audit_logs\b/.test(s));
  expect(selects.length).toBeGreaterThan(0);
  return selects.map((s) => db.prepare(`EXPLAIN QUERY PLAN ${s}`).all(...Array(s.split('?').length - 1).fill('x')).map((r) => (r as { detail: string }).detail).join(' | '));
}

describe('schema version 2: the stream and request id filters use an index', () => {
  it('pages one stream newest first, and by its cursor, without sorting the stream', () => {
    const { store } = storeOf(30);
    let cursor: string | undefined;
    const first = plansOf(store, () => { cursor = store.query({ stream: 'svc/1', limit: 10 }).nextCursor; });
    const next = plansOf(store, () => store.query({ stream: 'svc/1', limit: 10, cursor: cursor! }));
    for (const plan of [...first, ...next]) {
      expect(plan).toContain('USING INDEX audit_logs_stream_time');
      expect(plan).not.toContain('TEMP B-TREE');
    }
  });

  it('finds the records of a request id through its index', () => {
    const { store } = storeOf(5);
    for (const plan of plansOf(store, () => store.query({ requestId: 'req-1', limit: 10 }))) {
      expect(plan).toContain('USING INDEX audit_logs_request');
      expect(plan).not.toContain('SCAN audit_logs');
    }
  });
});

describe('a store of schema version 1', () => {
  function versionOne(): string {
    const { file, store } = storeOf(12);
    store.close();
    const raw = new Database(file);
    raw.exec('DROP INDEX audit_logs_stream_time; DROP INDEX audit_logs_request; ALTER TABLE audit_checkpoints DROP COLUMN compact_range;');
    raw.pragma('user_version = 1');
    raw.close();
    return file;
  }

  it('is read as it is by a read-only open (verify, query), not refused', async () => {
    const file = versionOne();
    const reader = new SqliteAuditStore(file, { readOnly: true });
    try {
      expect(reader.query({ stream: 'svc/1', limit: 50 }).records).toHaveLength(12);
      expect(reader.database.pragma('user_version', { simple: true })).toBe(1);
    } finally {
      reader.close();
    }
  });

  it('is migrated by a writer: the indexes are built and the version is current', () => {
    const file = versionOne();
    const writer = new SqliteAuditStore(file);
    try {
      expect(writer.database.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const names = writer.database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_logs'").pluck().all();
      expect(names).toEqual(expect.arrayContaining(['audit_logs_stream_time', 'audit_logs_request']));
      expect(writer.database.prepare("SELECT 1 FROM pragma_table_info('audit_checkpoints') WHERE name = 'compact_range'").get()).toBeDefined();
      expect(writer.query({ stream: 'svc/1', limit: 50 }).records).toHaveLength(12);
    } finally {
      writer.close();
    }
  });
});
