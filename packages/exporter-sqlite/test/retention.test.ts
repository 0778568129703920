import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { AuditChain, type AuditEventInput } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionError, retentionFromEnv, SqliteAuditStore, verifyArchive } from '../src/index.js';
import { attacker, codes, fullEvent, keyring, MINUTE, sealBatch, signer, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

/** 100 records one minute apart, signed every 10. */
function setup(n = 100) {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  const chain = new AuditChain({ stream: 'r/1' });
  store.appendSync(sealBatch(chain, n));
  return { ...tmp, store, chain };
}

const at = (minutes: number) => T0 + BigInt(minutes) * MINUTE;

/** Put an archive's data back as it was written. */
function restoreArchive(file: string, archive: { archiveId: number; data: Buffer; sha256: string }): void {
  const db = attacker(file);
  db.prepare('UPDATE audit_log_archives SET data = ?, sha256 = ? WHERE archive_id = ?').run(archive.data, archive.sha256, archive.archiveId);
  db.close();
}

describe('retention', () => {
  it('archives whole prefixes cut at checkpoints, each verifiable on its own', () => {
    const { store } = setup();
    const created = store.archive({ olderThan: at(45), maxRecordsPerArchive: 25 });
    expect(created.map((a) => [a.firstSeq, a.lastSeq, a.records])).toEqual([[0, 19, 20], [20, 39, 20]]);
    expect(created[1]).toMatchObject({ stream: 'r/1', alg: 'sha256', purged: false, startCompactRange: { size: 20 } });
    expect(created[1]!.compactRange.size).toBe(40);
    expect(created[1]!.checkpoint).toMatch(/^r\/1\n40\n/);
    for (const a of created) {
      const report = verifyArchive(store.readArchive(a.archiveId), keyring);
      expect(report.ok, JSON.stringify(report.streams[0]?.findings)).toBe(true);
      expect(codes(report)).toEqual([]);
      expect(report.streams[0]!.checkpoints.verified).toBe(1);
    }
    expect(store.archive({ olderThan: at(45) })).toEqual([]);
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(100);
  });

  it('purges exactly the archived prefix after a retention_purge record, and the store still verifies', async () => {
    const { store } = setup();
    store.archive({ olderThan: at(45) });
    const [result] = await store.purge({ olderThan: at(45), signers: [signer], nowUnixNano: at(200) });
    expect(result).toMatchObject({ stream: 'r/1', firstSeq: 0, lastSeq: 39, records: 40 });
    const seqs = store.database.prepare('SELECT min(seq), max(seq), count(*) FROM audit_logs').raw().get();
    expect(seqs).toEqual([40, 100, 61]);
    const purge = store.query({ eventType: 'system', eventAction: 'retention_purge' }).records[0]!.record;
    expect(purge).toMatchObject({ seq: 100, id: result!.purgeRecordId, actor: { type: 'system' }, details: { first_seq: 0, last_seq: 39, records: 40 } });
    const report = await store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual([]);
    expect(report.streams[0]).toMatchObject({ firstSeq: 40, lastSeq: 100, records: 61 });
    expect(report.streams[0]!.checkpoints).toMatchObject({ verified: 8, lastVerifiedSize: 101 });
    expect(store.archives().every((a) => a.purged)).toBe(true);
    // The archives still verify on their own after the purge.
    for (const a of store.archives()) expect(verifyArchive(store.readArchive(a.archiveId), keyring).ok).toBe(true);
    // Now the only copy of seq 0..39, an archive altered after the purge is caught by the store's verify.
    const archive = store.readArchive(store.archives()[0]!.archiveId);
    const lines = gunzipSync(archive.data).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: { actor?: { id?: string } } });
    lines[3]!.record.actor = { ...lines[3]!.record.actor, id: 'mallory' };
    const forged = gzipSync(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const db = attacker(store.path);
    db.prepare('UPDATE audit_log_archives SET data = ?, sha256 = ? WHERE archive_id = ?').run(forged, createHash('sha256').update(forged).digest('hex'), archive.archiveId);
    db.close();
    const tampered = await store.verify({ keyring });
    expect(tampered.ok).toBe(false);
    expect(tampered.streams[0]!.findings[0]).toMatchObject({ code: 'hash_mismatch', seq: 3 });
    expect(tampered.streams[0]!.findings[0]!.message).toMatch(/^archive \d+ \(seq 0\.\.\d+, purged from the log\): /);
    restoreArchive(store.path, archive);
    // Later records archive and purge from the cut on.
    store.archive({ olderThan: at(75) });
    await store.purge({ olderThan: at(75) });
    expect((await store.verify({ keyring })).streams[0]).toMatchObject({ firstSeq: 70, lastSeq: 101 });
    expect((await store.verify({ keyring })).errors).toBe(0);
  });

  it('does not purge what was not archived or is not yet old enough', async () => {
    const { store } = setup();
    expect(await store.purge({ olderThan: at(1000) })).toEqual([]);
    store.archive({ olderThan: at(45) });
    expect(await store.purge({ olderThan: at(30) })).toEqual([]);
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(100);
  });

  it('lets the processor seal the retention record through a callback, and refuses when it was not committed', async () => {
    const { store, chain } = setup();
    store.archive({ olderThan: at(25) });
    const events: AuditEventInput[] = [];
    const results = await store.purge({
      olderThan: at(25),
      appendRecord: async (stream, event) => {
        expect(stream).toBe('r/1');
        events.push(event);
        await store.append({ records: [chain.append(event)], checkpoints: [] });
      },
    });
    expect(results[0]!.purgeRecordId).toBe(events[0]!.id);
    expect((await store.verify({ keyring })).errors).toBe(0);
    store.archive({ olderThan: at(45) });
    await expect(store.purge({ olderThan: at(45), appendRecord: async () => {} })).rejects.toThrow(RetentionError);
    expect(store.database.prepare('SELECT min(seq) FROM audit_logs').pluck().get()).toBe(20);
  });

  it('refuses to archive rows that no longer match their checksums or checkpoint', () => {
    const { store, file } = setup();
    const db = attacker(file);
    db.exec("UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 5");
    db.close();
    expect(() => store.archive({ olderThan: at(45) })).toThrow(/seq 5: the record does not hash to its stored checksum; nothing was archived/);
    expect(store.archives()).toEqual([]);
  });

  it('reports a tampered archive', () => {
    const { store } = setup();
    const [a] = store.archive({ olderThan: at(25) });
    const archive = store.readArchive(a!.archiveId);
    const flipped = Buffer.from(archive.data);
    flipped[flipped.length - 10]! ^= 1;
    expect(verifyArchive({ ...archive, data: flipped }, keyring).ok).toBe(false);
    expect(codes(verifyArchive({ ...archive, lastSeq: 25 }, keyring))).toContain('truncated@undefined');
  });

  it('reports an archive whose description columns disagree with its records; an edited last time neither makes a purge early nor passes a due one', async () => {
    const { store, file } = setup();
    const [a] = store.archive({ olderThan: at(25) });
    const archive = store.readArchive(a!.archiveId);
    expect(verifyArchive(archive, keyring).ok).toBe(true);
    for (const [column, edited] of [
      ['records', { records: archive.records + 1 }],
      ['firstTimeUnixNano', { firstTimeUnixNano: archive.firstTimeUnixNano + 1n }],
      ['lastTimeUnixNano', { lastTimeUnixNano: at(0) }],
      ['lastChecksum', { lastChecksum: '0'.repeat(64) }],
    ] as const) {
      const report = verifyArchive({ ...archive, ...edited }, keyring);
      expect(report.ok, column).toBe(false);
      expect(report.streams[0]!.findings.map((f) => f.code), column).toEqual(['hash_mismatch']);
    }
    // Records of 0..19 are minutes 0..19: a last time edited to minute 0 does not make the archive old enough for a purge at 5 (its youngest record decides)…
    const db = attacker(file);
    db.prepare('UPDATE audit_log_archives SET last_time_unix_nano = ? WHERE archive_id = ?').run(at(0), a!.archiveId);
    db.close();
    expect(await store.purge({ olderThan: at(5), signers: [signer], nowUnixNano: at(300) })).toEqual([]);
    // …and once the purge is due, the edited column is caught before anything is deleted.
    const err = await store.purge({ olderThan: at(25), signers: [signer], nowUnixNano: at(300) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionError);
    expect((err as Error).message).toMatch(/does not verify \(hash_mismatch: the archive's last_time_unix_nano column says \d+, its records say \d+\)/);
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(100);
  });

  it('does not archive (so never purges) a stream whose checkpoints carry no signature, unless allowUnsigned', async () => {
    const tmp = tempDb();
    const store = new SqliteAuditStore(tmp.file);
    cleanups.push(() => { store.close(); tmp.cleanup(); });
    const chain = new AuditChain({ stream: 'u/1' });
    const records = Array.from({ length: 30 }, (_, i) => chain.append(fullEvent(i)));
    const time = at(19);
    // One checkpoint, written without a signer (a deployment that never configured a key).
    store.appendSync({ records, checkpoints: [{ stream: 'u/1', size: 30, rootHash: chain.rootHex(), timeUnixNano: time, note: chain.checkpoint(time, []) }] });
    expect(store.archive({ olderThan: at(1000) })).toEqual([]);
    expect(await store.purge({ olderThan: at(1000) })).toEqual([]);
    expect(store.archive({ olderThan: at(1000), allowUnsigned: true }).map((a) => [a.firstSeq, a.lastSeq])).toEqual([[0, 29]]);
  });

  it('refuses to purge live records whose archive was altered after archiving (a record rewritten, its SHA-256 recomputed), and keeps them', async () => {
    const { store, file } = setup();
    const [a] = store.archive({ olderThan: at(25) });
    const archive = store.readArchive(a!.archiveId);
    const lines = gunzipSync(archive.data).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: { actor?: { id?: string } }; checksum: string });
    lines[10]!.record.actor = { ...lines[10]!.record.actor, id: 'mallory' };
    const forged = gzipSync(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const db = attacker(file);
    db.prepare('UPDATE audit_log_archives SET data = ?, sha256 = ? WHERE archive_id = ?').run(forged, createHash('sha256').update(forged).digest('hex'), a!.archiveId);
    db.close();
    const err = await store.purge({ olderThan: at(200), signers: [signer], nowUnixNano: at(300) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetentionError);
    expect((err as Error).message).toMatch(/^stream "r\/1": archive \d+ \(seq 0\.\.19\) does not verify \(hash_mismatch at seq 10: .*\); it was altered after it was written, so nothing was purged and the live records are kept/);
    expect(store.database.prepare('SELECT count(*) FROM audit_logs').pluck().get()).toBe(100);
    expect((await store.verify({ keyring })).ok).toBe(true);
  });

  it('keeps archives append-only and the delete path closed outside a purge', () => {
    const { store, file } = setup();
    store.archive({ olderThan: at(25) });
    const raw = new Database(file);
    expect(() => raw.exec('DELETE FROM audit_log_archives')).toThrow(/append-only/);
    expect(() => raw.exec('UPDATE audit_log_archives SET sha256 = 1')).toThrow(/append-only/);
    // An archive exists, but without the purge record in the chain the trigger still refuses.
    raw.exec("INSERT INTO audit_retention_grant VALUES (1, 1, 'r/1', 'made-up')");
    expect(() => raw.exec('DELETE FROM audit_logs WHERE seq = 0')).toThrow(/DELETE refused/);
    raw.close();
  });

  it('detects a prefix deleted by someone who dropped the triggers (no purge recorded)', async () => {
    const { store, file } = setup();
    store.archive({ olderThan: at(45) });
    const db = attacker(file);
    db.exec('DELETE FROM audit_logs WHERE seq < 20');
    db.close();
    expect(codes(await store.verify({ keyring }))).toContain('seq_gap@0');
  });

  it('reads the retention periods from the environment', () => {
    expect(retentionFromEnv({})).toEqual({ archiveAfterDays: 30, retentionDays: 90 });
    expect(retentionFromEnv({ AUDIT_LOG_ARCHIVE_AFTER_DAYS: '7', AUDIT_LOG_RETENTION_DAYS: '14' })).toEqual({ archiveAfterDays: 7, retentionDays: 14 });
    expect(() => retentionFromEnv({ AUDIT_LOG_RETENTION_DAYS: 'forever' })).toThrow(/^AUDIT_LOG_RETENTION_DAYS must be/);
    expect(() => retentionFromEnv({ AUDIT_LOG_ARCHIVE_AFTER_DAYS: '100' })).toThrow(/must not be less than/);
  });

  it('uses 30 and 90 days by default', async () => {
    const { store } = setup(10);
    // All records are from 2023: old enough for both defaults.
    expect(store.archive()).toHaveLength(1);
    expect(await store.purge()).toHaveLength(1);
    void fullEvent;
  });
});
