/**
 * Purged archives are the only copy of their records (DESIGN §6 retention):
 * store verify must notice one deleted, replaced by forged records under a
 * checkpoint no trusted key signed, or vouched for only by an earlier
 * checkpoint; `verifyArchive` must judge an archive by its own stream and
 * the checkpoint at its cut. The attacker writes the file with the
 * append-only triggers dropped.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AuditChain, CompactRange, generateNoteKey, parseSignerKey, type SealedRecord } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore, verifyArchive } from '../src/index.js';
import { attacker, codes, fullEvent, keyring, MINUTE, sealBatch, signer, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

const at = (minutes: number) => T0 + BigInt(minutes) * MINUTE;

/** A signer with the trusted key's name but another key: nobody trusts it. */
const untrusted = parseSignerKey(generateNoteKey('test.example/audit').signerKey);

/** 100 records of r/1, archived 20 at a time and purged up to seq `20 * archives - 1`. */
async function purgedStore(archives = 2) {
  const tmp = tempDb();
  let store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  store.appendSync(sealBatch(new AuditChain({ stream: 'r/1' }), 100));
  const olderThan = at(20 * archives + 5);
  store.archive({ olderThan, maxRecordsPerArchive: 20 });
  await store.purge({ olderThan, signers: [signer], nowUnixNano: at(200) });
  expect(store.archives().map((a) => [a.archiveId, a.firstSeq, a.lastSeq, a.purged])).toEqual(Array.from({ length: archives }, (_, i) => [i + 1, 20 * i, 20 * i + 19, true]));
  const intact = await store.verify({ keyring });
  expect(intact.ok, JSON.stringify(codes(intact))).toBe(true);
  /** Let the attacker write the closed file, then reopen it. */
  const tamper = (edit: (db: ReturnType<typeof attacker>) => void): SqliteAuditStore => {
    store.close();
    const db = attacker(tmp.file);
    try {
      edit(db);
    } finally {
      db.close();
    }
    store = new SqliteAuditStore(tmp.file);
    return store;
  };
  return { file: tmp.file, store: () => store, tamper };
}

/** Archive data (gzip NDJSON) of `records`, with its SHA-256. */
function archiveData(records: readonly { record: unknown; checksum: string }[]): { data: Buffer; sha256: string } {
  const data = gzipSync(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return { data, sha256: createHash('sha256').update(data).digest('hex') };
}

/** 20 records of r/1 from genesis in which every actor is "nobody", and a checkpoint at size 20 signed by the untrusted key. */
function forgedPrefix(): { lines: { record: unknown; checksum: string }[]; note: string; last: SealedRecord; compactRange: string } {
  const chain = new AuditChain({ stream: 'r/1' });
  const lines: { record: unknown; checksum: string }[] = [];
  let last: SealedRecord | undefined;
  for (let i = 0; i < 20; i++) {
    last = chain.append({ ...fullEvent(i), actor: { id: 'nobody', type: 'user' } });
    lines.push({ record: last.record, checksum: last.hash });
  }
  const range = new CompactRange('sha256');
  for (const l of lines) range.appendHex(l.checksum);
  return { lines, note: chain.checkpoint(at(19), [untrusted]), last: last!, compactRange: JSON.stringify(range.state()) };
}

/**
 * A purged store whose archive 1 (seq 0..19) holds forged records under a
 * checkpoint an untrusted key signed; `storedNoteToo` also puts that note in
 * audit_checkpoints in place of the genuine one.
 */
async function forgedFirstArchive(options: { storedNoteToo: boolean }) {
  const purged = await purgedStore();
  const forged = forgedPrefix();
  const { data, sha256 } = archiveData(forged.lines);
  purged.tamper((db) => {
    db.prepare('UPDATE audit_log_archives SET data = ?, sha256 = ?, checkpoint_note = ?, last_checksum = ?, compact_range = ? WHERE archive_id = 1')
      .run(data, sha256, forged.note, forged.last.hash, forged.compactRange);
    if (options.storedNoteToo) db.prepare("UPDATE audit_checkpoints SET note = ? WHERE stream = 'r/1' AND size = 20").run(forged.note);
  });
  return purged;
}

describe('store verify of purged archives', () => {
  it('yields to the event loop before each purged archive (each is a synchronous gunzip and rehash of its records)', async () => {
    const p = await purgedStore(4);
    let turns = 0;
    let running = true;
    const count = (): void => { if (running) { turns++; setImmediate(count); } };
    setImmediate(count);
    try {
      expect((await p.store().verify({ keyring })).ok).toBe(true);
    } finally {
      running = false;
    }
    // 4 archives, 21 live records (fewer than a slice of live rows: those alone never yield).
    expect(turns).toBeGreaterThanOrEqual(4);
  });
});

describe('purged archives in store verify', () => {
  it('reports the first purged archive deleted with its purge row: the purged records 0..19 are in no archive (seq_gap), with key and without', async () => {
    const { store, tamper } = await purgedStore();
    tamper((db) => {
      db.prepare('DELETE FROM audit_log_purges WHERE archive_id = 1').run();
      db.prepare('DELETE FROM audit_log_archives WHERE archive_id = 1').run();
    });
    for (const report of [await store().verify({ keyring }), await store().verify()]) {
      expect(report.ok).toBe(false);
      const gap = report.streams.flatMap((s) => s.findings).find((f) => f.code === 'seq_gap');
      expect(gap).toMatchObject({ severity: 'error', stream: 'r/1', seq: 0 });
      expect(gap!.message).toContain('archive 2 (seq 20..39, purged from the log)');
      expect(gap!.message).toContain('records seq 0..19 were purged and no purged archive holds them');
    }
  });

  it('reports a purged archive deleted between two others as seq_gap naming both neighbours', async () => {
    const { store, tamper } = await purgedStore(3);
    tamper((db) => {
      db.prepare('DELETE FROM audit_log_purges WHERE archive_id = 2').run();
      db.prepare('DELETE FROM audit_log_archives WHERE archive_id = 2').run();
    });
    const report = await store().verify({ keyring });
    expect(report.ok).toBe(false);
    expect(codes(report)).toContain('seq_gap@20');
    const gap = report.streams.flatMap((s) => s.findings).find((f) => f.code === 'seq_gap')!;
    expect(gap.message).toBe('records seq 20..39, between archive 1 (seq 0..19, purged from the log) and archive 3 (seq 40..59, purged from the log), were purged and no purged archive holds them (an archive or its purge row was deleted)');
  });

  it('reports forged records in a purged archive whose checkpoint an untrusted key re-signed: unknown_key, a checkpoint the store does not hold, and a broken link to the next archive', async () => {
    const { store } = await forgedFirstArchive({ storedNoteToo: false });
    // The archive alone is internally consistent: only its checkpoint's signer gives it away.
    expect(codes(verifyArchive(store().readArchive(1), keyring))).toEqual(['unknown_key@20', 'unsigned_tail@0']);
    const report = await store().verify({ keyring });
    expect(report.ok).toBe(false);
    const found = report.streams.flatMap((s) => s.findings);
    expect(found.every((f) => f.severity === 'error')).toBe(true);
    expect(found.map((f) => f.code)).toEqual(expect.arrayContaining(['unknown_key', 'unsigned_tail', 'hash_mismatch', 'chain_break']));
    expect(found.find((f) => f.code === 'unknown_key')!.message).toMatch(/^archive 1 \(seq 0\.\.19, purged from the log\): /);
    expect(found.find((f) => f.code === 'hash_mismatch')!.message).toContain('its checkpoint is not the one the store holds for the stream at its cut');
    expect(found.find((f) => f.code === 'chain_break')!.message).toBe("archive 2 (seq 20..39, purged from the log) does not link to archive 1 (seq 0..19, purged from the log): its first record's prev is not the checksum of seq 19");
  });

  it('reports the forgery when the forged note also replaced the stored checkpoint: unknown_key with a key, and the broken link even without one', async () => {
    const { store } = await forgedFirstArchive({ storedNoteToo: true });
    const keyed = await store().verify({ keyring });
    expect(keyed.ok).toBe(false);
    expect(keyed.streams.flatMap((s) => s.findings).filter((f) => f.message.startsWith('archive 1 ')).map((f) => f.code)).toEqual(['unknown_key', 'unsigned_tail']);
    const keyless = await store().verify();
    expect(keyless.streams.flatMap((s) => s.findings).filter((f) => f.code === 'chain_break').map((f) => f.seq)).toEqual([20]);
  });

  it('reports a purged archive whose checkpoint was replaced by a genuine earlier one of its stream, its tail rewritten (truncated)', async () => {
    const { store, tamper } = await purgedStore();
    const genuine = store().readArchive(1);
    const cp10 = store().database.prepare("SELECT note FROM audit_checkpoints WHERE stream = 'r/1' AND size = 10").pluck().get() as string;
    const lines = gunzipSync(genuine.data).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: unknown; checksum: string });
    const range = new CompactRange('sha256');
    for (let i = 0; i < 10; i++) range.appendHex(lines[i]!.checksum);
    const tail = new AuditChain({ stream: 'r/1', head: { stream: 'r/1', alg: 'sha256', size: 10, prev: lines[9]!.checksum, compactRange: range.state() } });
    let last: SealedRecord | undefined;
    for (let i = 10; i < 20; i++) {
      last = tail.append({ ...fullEvent(i), actor: { id: 'nobody', type: 'user' } });
      lines[i] = { record: last.record, checksum: last.hash };
    }
    const { data, sha256 } = archiveData(lines);
    tamper((db) => {
      db.prepare('UPDATE audit_log_archives SET data = ?, sha256 = ?, checkpoint_note = ?, last_checksum = ? WHERE archive_id = 1').run(data, sha256, cp10, last!.hash);
    });
    const alone = verifyArchive(store().readArchive(1), keyring);
    expect(alone.ok).toBe(false);
    expect(alone.streams[0]!.findings.find((f) => f.code === 'truncated')!.message).toBe("the archive's checkpoint is at size 10, not at its cut (size 20): records seq 10..19 are vouched for by no checkpoint");
    const report = await store().verify({ keyring });
    expect(report.ok).toBe(false);
    expect(codes(report)).toContain('truncated@10');
  });
});

describe('verifyArchive on its own stream', () => {
  it('reports records of another stream in an archive, and a checkpoint of another stream, instead of verifying them as that stream', () => {
    const tmp = tempDb();
    const store = new SqliteAuditStore(tmp.file);
    cleanups.push(() => { store.close(); tmp.cleanup(); });
    store.appendSync(sealBatch(new AuditChain({ stream: 'a/1' }), 40));
    store.appendSync(sealBatch(new AuditChain({ stream: 'r/1' }), 40));
    store.archive({ olderThan: at(25), maxRecordsPerArchive: 20 });
    const donor = store.readArchive(store.archives('a/1')[0]!.archiveId);
    const target = store.readArchive(store.archives('r/1')[0]!.archiveId);
    const donorLines = gunzipSync(donor.data).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: unknown; checksum: string });
    const forged = forgedPrefix();
    const mixed = { ...target, ...archiveData([...donorLines, ...forged.lines]), checkpoint: donor.checkpoint, lastChecksum: forged.last.hash, records: 40 };
    const report = verifyArchive(mixed, keyring);
    expect(report.ok).toBe(false);
    const own = report.streams.find((s) => s.stream === 'r/1')!;
    expect(own.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['malformed', 'hash_mismatch']));
    expect(own.findings.find((f) => f.code === 'malformed')!.message).toContain('the archive holds 20 record(s) of another stream (the first: seq 0 of "a/1")');
    expect(own.findings.find((f) => f.message.includes('checkpoint is of stream'))!.message).toBe('the archive\'s checkpoint is of stream "a/1", not of the archive\'s stream: it vouches for none of its records');

    // Only another stream's records, its checkpoint signed: nothing of r/1 was read, so its seq range is missing.
    const foreign = { ...target, ...archiveData(donorLines), checkpoint: donor.checkpoint, lastChecksum: donor.lastChecksum };
    const only = verifyArchive(foreign, keyring);
    expect(only.ok).toBe(false);
    expect(only.streams.find((s) => s.stream === 'r/1')!.findings.map((f) => f.code)).toContain('truncated');
  });
});
