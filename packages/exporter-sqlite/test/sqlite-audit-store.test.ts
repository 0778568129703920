import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordConflictError, SCHEMA_VERSION, SqliteAuditStore, StoreOpenError, StoreWriteError } from '../src/index.js';
import { collectText, fullEvent, keyring, MINUTE, sealBatch, signer, storeWith, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

function fresh() {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  return { ...tmp, store };
}

describe('SqliteAuditStore schema', () => {
  it('creates the §6 tables and columns, WAL, synchronous NORMAL and the schema version', () => {
    const { store } = fresh();
    const db = store.database;
    const cols = (db.prepare("SELECT name FROM pragma_table_info('audit_logs')").pluck().all() as string[]);
    for (const c of ['event_id', 'timestamp', 'event_type', 'event_action', 'event_result', 'severity', 'actor_id', 'actor_type', 'actor_ip',
      'actor_user_agent', 'target_type', 'target_id', 'target_name', 'request_id', 'session_id', 'api_endpoint', 'http_method', 'details',
      'error_message', 'old_values', 'new_values', 'checksum', 'previous_checksum', 'stream', 'seq', 'time_unix_nano', 'hash_alg', 'trace_id', 'span_id', 'redacted']) {
      expect(cols).toContain(c);
    }
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['audit_logs', 'audit_checkpoints', 'audit_log_archives', 'audit_stream_heads']));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  it('uses synchronous FULL when asked and refuses other values', () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const store = new SqliteAuditStore(tmp.file, { synchronous: 'FULL', busyTimeoutMillis: 250 });
    expect(store.database.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.database.pragma('busy_timeout', { simple: true })).toBe(250);
    store.close();
    expect(() => new SqliteAuditStore(tmp.file, { synchronous: 'OFF' as never })).toThrow(/options.synchronous/);
  });

  it('reopens an existing store without migrating it again and keeps its data', async () => {
    const s = storeWith(25);
    s.store.close();
    const again = new SqliteAuditStore(s.file);
    expect((await again.head('svc/1'))!.size).toBe(25);
    again.close();
    s.cleanup();
  });

  it('refuses a newer schema with a clear message and leaves the file untouched', () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    new SqliteAuditStore(tmp.file).close();
    const raw = new Database(tmp.file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    let error: unknown;
    try { new SqliteAuditStore(tmp.file); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as StoreOpenError).code).toBe('AUDIT_STORE_SCHEMA_NEWER');
    expect((error as Error).message).toMatch(new RegExp(`newer than the ${SCHEMA_VERSION} this version .* understands; upgrade`));
    const check = new Database(tmp.file);
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    check.close();
  });

  it('refuses a corrupt file and a database of another application', () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    writeFileSync(tmp.file, 'this is not a database, just text '.repeat(200));
    expect(() => new SqliteAuditStore(tmp.file)).toThrow(expect.objectContaining({ code: 'AUDIT_STORE_OPEN_FAILED' }));
    const other = tmp.file + '.other';
    const raw = new Database(other);
    raw.exec('CREATE TABLE users (id INTEGER)');
    raw.close();
    const before = readFileSync(other);
    expect(() => new SqliteAuditStore(other)).toThrow(/another schema/);
    // Refused before anything touched it (not even the switch to WAL).
    expect(readFileSync(other).equals(before)).toBe(true);
  });

  it('refuses misuse with the argument name first', () => {
    expect(() => new SqliteAuditStore('')).toThrow(TypeError);
    expect(() => new SqliteAuditStore(':memory:')).toThrow(/^path/);
    const { store } = fresh();
    expect(() => store.appendSync(null as never)).toThrow(/^batch/);
    expect(() => store.appendSync({ records: 'x' } as never)).toThrow(/^batch.records/);
  });
});

describe('SqliteAuditStore append and head', () => {
  it('commits records and checkpoints of several streams in one batch and returns the heads', async () => {
    const { store } = fresh();
    const a = new AuditChain({ stream: 'a/1' });
    const b = new AuditChain({ stream: 'b/1', alg: 'sha384' });
    const ba = sealBatch(a, 12);
    const bb = sealBatch(b, 7);
    const result = await store.appendBatch({ records: [...ba.records, ...bb.records], checkpoints: [...ba.checkpoints, ...bb.checkpoints] });
    expect(result).toMatchObject({ inserted: 19, skipped: 0, checkpoints: 1 });
    expect(result.heads).toEqual([a.head(), b.head()]);
    expect(await store.head('a/1')).toEqual(a.head());
    expect(await store.head('b/1')).toEqual(b.head());
    expect(await store.head('nope')).toBeUndefined();
    expect(store.streams()).toEqual([{ stream: 'a/1', size: 12 }, { stream: 'b/1', size: 7 }]);
  });

  it('a write that meets another process\'s lock gives up after ~250 ms by default (SQLITE_BUSY, retried by the processor), not after 5 s of a frozen event loop', async () => {
    const { store, file } = fresh();
    const chain = new AuditChain({ stream: 'busy/1' });
    await store.append(sealBatch(chain, 2));
    const other = new Database(file);
    other.exec('BEGIN EXCLUSIVE');
    const started = Date.now();
    const err = await store.append(sealBatch(chain, 2)).catch((e: unknown) => e);
    const waited = Date.now() - started;
    other.exec('ROLLBACK');
    other.close();
    expect(err).toMatchObject({ sqliteCode: 'SQLITE_BUSY', retryable: true });
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(2_000);
    expect(await store.head('busy/1')).toMatchObject({ size: 2 });
  });

  it('restores a chain from the stored head after reopening, and the continued stream verifies', async () => {
    const s = storeWith(15);
    s.store.close();
    const store = new SqliteAuditStore(s.file);
    const chain = new AuditChain({ stream: 'svc/1', head: await store.head('svc/1') });
    expect(chain.size).toBe(15);
    expect(chain.rootHex()).toBe(s.chain.rootHex());
    await store.append(sealBatch(chain, 5));
    const report = await store.verify({ keyring: (await import('./helpers.js')).keyring });
    expect(report.ok).toBe(true);
    expect(report.streams[0]).toMatchObject({ records: 20, firstSeq: 0, lastSeq: 19 });
    store.close();
    s.cleanup();
  });

  it('skips a retried batch (same ids, same checksums) without duplicating anything', async () => {
    const { store } = fresh();
    const chain = new AuditChain({ stream: 's' });
    const batch = sealBatch(chain, 10);
    await store.append(batch);
    const again = await store.appendBatch(batch);
    expect(again).toMatchObject({ inserted: 0, skipped: 10, checkpoints: 0 });
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(10);
    expect(store.database.prepare('SELECT count(*) FROM audit_checkpoints').pluck().get()).toBe(1);
  });

  it('refuses the same id with different content, naming the id, and commits nothing of the batch', async () => {
    const { store } = fresh();
    const chain = new AuditChain({ stream: 's' });
    const first = sealBatch(chain, 3);
    await store.append(first);
    const other = new AuditChain({ stream: 's', head: chain.head() });
    const reused = other.append({ ...fullEvent(3), id: first.records[1]!.record.id });
    const bad = await store.append({ records: [reused], checkpoints: [] }).catch((e) => e);
    expect(bad).toBeInstanceOf(RecordConflictError);
    expect(bad.code).toBe('AUDIT_STORE_ID_CONFLICT');
    expect(bad.message).toContain(first.records[1]!.record.id);
    expect(bad.recordId).toBe(first.records[1]!.record.id);
    // A retry of an old record with changed content is refused too.
    const tampered = { ...first.records[0]!, hash: 'f'.repeat(64) };
    await expect(store.append({ records: [tampered], checkpoints: [] })).rejects.toMatchObject({ code: 'AUDIT_STORE_ID_CONFLICT' });
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(3);
  });

  it('refuses a record that does not continue the stored head (gap, fork, other algorithm)', async () => {
    const { store } = fresh();
    const chain = new AuditChain({ stream: 's' });
    await store.append(sealBatch(chain, 3));
    chain.append(fullEvent(3)); // never delivered: the next one leaves a gap
    const gap = sealBatch(chain, 1);
    await expect(store.append(gap)).rejects.toMatchObject({ code: 'AUDIT_STORE_CHAIN_CONFLICT', seq: 4 });
    const fork = new AuditChain({ stream: 's' });
    sealBatch(fork, 3, 100, (i) => ({ ...fullEvent(i), details: { forked: true } }));
    await expect(store.append(sealBatch(fork, 1))).rejects.toThrow(/does not continue stream "s": its prev/);
    expect((await store.head('s'))!.size).toBe(3);
  });

  it('reports a locked database as a retryable StoreWriteError and commits nothing', async () => {
    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    const store = new SqliteAuditStore(tmp.file, { busyTimeoutMillis: 50 });
    const other = new Database(tmp.file);
    other.exec('BEGIN IMMEDIATE');
    const chain = new AuditChain({ stream: 's' });
    const err = await store.append(sealBatch(chain, 2)).catch((e) => e);
    expect(err).toBeInstanceOf(StoreWriteError);
    expect(err).toMatchObject({ code: 'AUDIT_STORE_WRITE_FAILED', sqliteCode: 'SQLITE_BUSY', retryable: true });
    other.exec('ROLLBACK');
    other.close();
    expect(await store.head('s')).toBeUndefined();
    store.close();
  });
});

describe('disk full', () => {
  it('reports a full disk as a retryable StoreWriteError, commits nothing, and recovers when space returns', async () => {
    const { store } = fresh();
    const chain = new AuditChain({ stream: 's' });
    await store.append(sealBatch(chain, 10));
    const pages = store.database.pragma('page_count', { simple: true }) as number;
    store.database.pragma(`max_page_count = ${pages}`); // the "disk" is now full
    const batch = sealBatch(chain, 500);
    const err = await store.append(batch).catch((e) => e);
    expect(err).toBeInstanceOf(StoreWriteError);
    expect(err).toMatchObject({ sqliteCode: 'SQLITE_FULL', retryable: true });
    expect(err.message).toMatch(/the batch was not committed/);
    expect((await store.head('s'))!.size).toBe(10);
    store.database.pragma('max_page_count = 1073741823');
    await store.append(batch);
    expect((await store.head('s'))!.size).toBe(510);
  });
});

describe('append-only triggers', () => {
  it('refuse UPDATE and DELETE from a casual sqlite3 session', () => {
    const s = storeWith(10);
    cleanups.push(s.close);
    const raw = new Database(s.file);
    expect(() => raw.exec("UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 1")).toThrow(/append-only; UPDATE refused/);
    expect(() => raw.exec('DELETE FROM audit_logs WHERE seq = 4')).toThrow(/DELETE refused/);
    expect(() => raw.exec('DELETE FROM audit_checkpoints')).toThrow(/append-only/);
    expect(() => raw.exec('UPDATE audit_checkpoints SET note = 1')).toThrow(/append-only/);
    // A grant alone does not authorise a delete: the rows must be archived and the purge announced in the chain.
    raw.exec("INSERT INTO audit_retention_grant (grant_id, archive_id, stream, purge_record_id) VALUES (1, 1, 'svc/1', 'x')");
    expect(() => raw.exec('DELETE FROM audit_logs WHERE seq = 0')).toThrow(/DELETE refused/);
    raw.close();
    expect(s.store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(10);
  });
});

describe('SqliteAuditStore readOnly', () => {
  const digest = (file: string): string => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'absent');

  /**
   * A WAL store whose newest 10 records are only in its -wal file, as a copy
   * taken from a running or crashed service holds them; and a copy of the
   * same store in rollback-journal (DELETE) mode.
   */
  function evidence() {
    const s = storeWith(20);
    cleanups.push(s.close);
    s.store.database.pragma('wal_autocheckpoint = 0');
    s.store.database.pragma('wal_checkpoint(TRUNCATE)');
    s.store.appendSync(sealBatch(s.chain, 10));
    const wal = `${s.dir}/wal.db`;
    copyFileSync(s.file, wal);
    copyFileSync(`${s.file}-wal`, `${wal}-wal`);
    const rollback = `${s.dir}/delete.db`;
    s.store.database.prepare('VACUUM INTO ?').run(rollback);
    const raw = new Database(rollback);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    return { wal, rollback };
  }

  it('reads a WAL store with the records of its -wal file, and leaves the .db and -wal byte for byte as they were', async () => {
    const { wal, rollback } = evidence();
    for (const file of [wal, rollback]) {
      const before = [digest(file), digest(`${file}-wal`)];
      const store = new SqliteAuditStore(file, { readOnly: true });
      expect(store.streams()).toEqual([{ stream: 'svc/1', size: 30 }]);
      expect(store.query({ limit: 100 }).records).toHaveLength(30);
      expect(await store.verify({ keyring })).toMatchObject({ ok: true, records: 30 });
      expect((await collectText(store.export({ format: 'ndjson' }))).trim().split('\n')).toHaveLength(30);
      expect((await store.lastCheckpoint('svc/1'))!.size).toBe(30);
      store.close();
      expect([digest(file), digest(`${file}-wal`)], file).toEqual(before);
    }
    const raw = new Database(rollback, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('delete');
    raw.close();
  });

  it('refuses to write (StoreWriteError, nothing committed) and refuses a missing, empty or foreign file without creating or changing it', async () => {
    const { wal } = evidence();
    const store = new SqliteAuditStore(wal, { readOnly: true });
    cleanups.push(() => store.close());
    const chain = new AuditChain({ stream: 'other' });
    expect(() => store.appendSync(sealBatch(chain, 1))).toThrow(StoreWriteError);
    expect(() => store.archive()).toThrow(/opened read-only/);
    await expect(store.purge()).rejects.toThrow(/opened read-only/);
    expect(store.streams()).toHaveLength(1);

    const tmp = tempDb();
    cleanups.push(tmp.cleanup);
    expect(() => new SqliteAuditStore(tmp.file, { readOnly: true })).toThrow(expect.objectContaining({ code: 'AUDIT_STORE_OPEN_FAILED' }));
    expect(existsSync(tmp.file)).toBe(false);
    const empty = new Database(tmp.file);
    empty.pragma('user_version = 0');
    empty.close();
    const before = digest(tmp.file);
    expect(() => new SqliteAuditStore(tmp.file, { readOnly: true })).toThrow(/neither creates nor migrates/);
    expect(digest(tmp.file)).toBe(before);
    expect(() => new SqliteAuditStore(tmp.file, { readOnly: 'yes' as never })).toThrow(/^options.readOnly/);
  });

  it('checks the encryption key without recording its check value', () => {
    const key = { keyId: 'k1', key: Buffer.alloc(32, 7) };
    const s = storeWith(5, { encryption: key });
    cleanups.push(s.close);
    s.store.close();
    const before = digest(s.file);
    expect(() => new SqliteAuditStore(s.file, { readOnly: true, encryption: { keyId: 'k1', key: Buffer.alloc(32, 8) } })).toThrow(expect.objectContaining({ name: 'EncryptionKeyError' }));
    const other = new SqliteAuditStore(s.file, { readOnly: true, encryption: { keyId: 'k2', key: Buffer.alloc(32, 9), previousKeys: [key] } });
    expect(other.query().records[0]!.record.details).toMatchObject({ note: 'a "quoted" value' });
    other.close();
    expect(digest(s.file)).toBe(before);
  });
});

describe('SqliteAuditStore rangeStartCost', () => {
  it('counts the stored hashes a ranged verify or bundle reads to build its start: from seq 0, from the nearest archive, none at a purge\'s cut', async () => {
    const { store } = fresh();
    // One a minute from T0, signed every 10 — in a later batch, so no compact range is stored with the checkpoints (see checkpoint-snapshot.test.ts).
    const { records, checkpoints } = sealBatch(new AuditChain({ stream: 'svc/1' }), 100);
    store.appendSync({ records, checkpoints: [] });
    store.appendSync({ records: [], checkpoints: checkpoints.slice(0, -1) });
    // One record deep in the stream: its start hashes the 70 before it.
    expect(store.rangeStartCost({ streams: ['svc/1'], fromSeq: 70, toSeq: 70 })).toEqual({ rows: 70, longest: { stream: 'svc/1', seq: 70, from: 0, rows: 70, base: 'start' } });
    // A time range starts at its first record; a seq past the end costs the rows there are; a range from seq 0 costs nothing.
    expect(store.rangeStartCost({ since: T0 + 50n * MINUTE })).toMatchObject({ rows: 50, longest: { seq: 50 } });
    expect(store.rangeStartCost({ streams: ['svc/1'], fromSeq: 5_000 })).toMatchObject({ rows: 100, longest: { seq: 5_000, from: 0 } });
    expect(store.rangeStartCost({ toSeq: 70 })).toEqual({ rows: 0, longest: undefined });
    // Records 0..39 archived: the start is built from the archive's end.
    expect(store.archive({ olderThan: T0 + 45n * MINUTE })).toMatchObject([{ lastSeq: 39 }]);
    expect(store.rangeStartCost({ fromSeq: 70 })).toMatchObject({ rows: 30, longest: { seq: 70, from: 40, base: 'archive' } });
    // The checkpoint at 100 arrives while the head stands at 100: stored with its compact range, the start of seq 100 reads no stored hash.
    store.appendSync({ records: [], checkpoints: checkpoints.slice(-1) });
    expect(store.rangeStartCost({ fromSeq: 100 })).toEqual({ rows: 0, longest: undefined });
    expect(store.rangeStartCost({ fromSeq: 70 })).toMatchObject({ rows: 30, longest: { from: 40, base: 'archive' } });
    // Purged: a range reaching into the purged prefix starts at the cut, which the archive holds.
    await store.purge({ olderThan: T0 + 45n * MINUTE, signers: [signer], nowUnixNano: T0 + 200n * MINUTE });
    expect(store.rangeStartCost({ format: 'bundle', streams: ['svc/1'], fromSeq: 20 })).toEqual({ rows: 0, longest: undefined });
    expect(() => store.rangeStartCost({ fromSeq: -1 })).toThrow(/^options\.fromSeq must be a non-negative integer/);
    expect(() => store.rangeStartCost({ from: 1 } as never)).toThrow(/^options\.from is not a bound of a range/);
  });
});
