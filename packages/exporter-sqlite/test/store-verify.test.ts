import { AuditChain, canonicalize, leafHash } from '@otel-audit/core';
import { describe, expect, it, vi } from 'vitest';
import { attacker, codes, keyring, MINUTE, sealBatch, signer, storesPerTest, T0 } from './helpers.js';

const setup = storesPerTest();

/** Every column of audit_logs, the edit an attacker makes to row seq 5, and the finding expected there. */
const COLUMN_EDITS: [column: string, sql: string, expected: string][] = [
  ['stream', "'svc/2'", 'seq_gap@5'],
  ['seq', '5000', 'seq_gap@5'],
  ['event_id', "'01890000-0000-7000-8000-000000000000'", 'hash_mismatch@5'],
  ['hash_alg', "'sha384'", 'hash_mismatch@5'],
  ['time_unix_nano', 'time_unix_nano + 1', 'hash_mismatch@5'],
  ['timestamp', "'2020-01-01T00:00:00.000000000Z'", 'hash_mismatch@5'],
  ['event_type', "'admin'", 'hash_mismatch@5'],
  ['event_action', "'delete'", 'hash_mismatch@5'],
  ['event_result', "'error'", 'hash_mismatch@5'],
  ['severity', "'critical'", 'hash_mismatch@5'],
  ['actor_id', "'mallory'", 'hash_mismatch@5'],
  ['actor_type', "'service'", 'hash_mismatch@5'],
  ['actor_ip', "'6.6.6.6'", 'hash_mismatch@5'],
  ['actor_user_agent', "'curl/8'", 'hash_mismatch@5'],
  ['target_type', "'user'", 'hash_mismatch@5'],
  ['target_id', "'99'", 'hash_mismatch@5'],
  ['target_name', "'other'", 'hash_mismatch@5'],
  ['request_id', "'req-x'", 'hash_mismatch@5'],
  ['session_id', "'sess-x'", 'hash_mismatch@5'],
  ['api_endpoint', "'/x'", 'hash_mismatch@5'],
  ['http_method', "'GET'", 'hash_mismatch@5'],
  ['trace_id', "'00000000000000000000000000000001'", 'hash_mismatch@5'],
  ['span_id', "'0000000000000001'", 'hash_mismatch@5'],
  ['details', `'{"i":5,"note":"edited"}'`, 'hash_mismatch@5'],
  ['error_message', "'none'", 'hash_mismatch@5'],
  ['old_values', `'{"name":"x"}'`, 'hash_mismatch@5'],
  ['new_values', `'{"name":"y"}'`, 'hash_mismatch@5'],
  ['redacted', `'[]'`, 'hash_mismatch@5'],
  ['checksum', `'${'0'.repeat(64)}'`, 'hash_mismatch@5'],
  ['previous_checksum', `'${'0'.repeat(64)}'`, 'chain_break@5'],
  ['details', `'{not json'`, 'hash_mismatch@5'],
  ['details', 'NULL', 'hash_mismatch@5'],
  ['actor_id', 'NULL', 'hash_mismatch@5'],
  // Not part of the record, but a store that was never encrypted has no key to name: edited (and verification goes on).
  ['enc_key_id', "'k1'", 'hash_mismatch@5'],
];

/**
 * Splices an attacker makes to row seq 5 (a failed request, so error_message
 * is set): a member's text moved into the JSON column before it and its own
 * column emptied, so that pasting the columns gives the record's text again.
 */
const SPLICES: [what: string, sql: string][] = [
  ['error into details', `details = details || ',"error":' || json_quote(error_message), error_message = NULL`],
  ['old into new_values', `new_values = new_values || ',"old":' || old_values, old_values = NULL`],
  ['request into redacted', `redacted = redacted || ',"request":{"endpoint":' || json_quote(api_endpoint) || ',"id":' || json_quote(request_id)
    || ',"method":' || json_quote(http_method) || ',"session_id":' || json_quote(session_id) || ',"span_id":' || json_quote(span_id)
    || ',"trace_id":' || json_quote(trace_id) || '}', api_endpoint = NULL, request_id = NULL, http_method = NULL, session_id = NULL, span_id = NULL, trace_id = NULL`],
];

/** Copy row seq `from` of svc/1 as a new row with these column values (SQL expressions), e.g. a forged seq. */
function forgeRow(db: ReturnType<typeof attacker>, from: number, set: Record<string, string>): void {
  const cols = (db.prepare('PRAGMA table_info(audit_logs)').all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'log_id');
  db.prepare(`INSERT INTO audit_logs (${cols.join(', ')}) SELECT ${cols.map((c) => set[c] ?? c).join(', ')} FROM audit_logs WHERE stream = 'svc/1' AND seq = ?`).run(from);
}

const FORGED_ID = "'01890000-0000-7000-8000-0000000000cc'";

describe('SqliteAuditStore.verify', () => {
  it('passes an intact store, with progress and the counts of each stream', async () => {
    const s = setup(30);
    const seen: number[] = [];
    const report = await s.store.verify({ keyring, onProgress: (p) => seen.push(p.records), progressEveryRecords: 10 });
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual([]);
    expect(report.streams[0]).toMatchObject({ stream: 'svc/1', records: 30, firstSeq: 0, lastSeq: 29 });
    expect(report.streams[0]!.checkpoints).toMatchObject({ seen: 3, verified: 3, lastVerifiedSize: 30 });
    expect(seen).toEqual([10, 20, 30, 30]);
  });

  it('yields to the event loop once a slice has held it 20 ms, not only every 5,000 records', async () => {
    const s = setup(1_000);
    // A slow machine: every look at the clock finds 30 ms gone.
    let t = 0;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => (t += 30));
    let turns = 0;
    let running = true;
    const count = (): void => { if (running) { turns++; setImmediate(count); } };
    setImmediate(count);
    try {
      const report = await s.store.verify({ keyring });
      expect(report.ok).toBe(true);
    } finally {
      running = false;
      clock.mockRestore();
    }
    // 1,000 records, a look at the clock every 256: three slices, each yielding.
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  it('reports records after the last checkpoint as unsigned_tail, a warning', async () => {
    const s = setup(25);
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual(['unsigned_tail@20']);
  });

  it('reports unknown_key for signed checkpoints without a keyring', async () => {
    const s = setup(10);
    expect(codes(await s.store.verify())).toContain('unknown_key@10');
  });

  it('verifies every column: editing any column of a row is detected and classified', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    for (const [column, value, expected] of COLUMN_EDITS) {
      const logId = db.prepare("SELECT log_id FROM audit_logs WHERE stream = 'svc/1' AND seq = 5").pluck().get();
      const original = db.prepare(`SELECT ${column} FROM audit_logs WHERE log_id = ?`).pluck().safeIntegers().get(logId);
      db.prepare(`UPDATE audit_logs SET ${column} = ${value} WHERE log_id = ?`).run(logId);
      const report = await s.store.verify({ keyring });
      db.prepare(`UPDATE audit_logs SET ${column} = ? WHERE log_id = ?`).run(original, logId);
      expect(report.ok, `${column} = ${value}`).toBe(false);
      expect(codes(report), `${column} = ${value}`).toContain(expected);
    }
    db.close();
    expect((await s.store.verify({ keyring })).ok).toBe(true);
  });

  it('reports a member moved into the JSON column before it (the pasted columns give the original text) as hash_mismatch', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    const original = db.prepare('SELECT * FROM audit_logs WHERE seq = 5').get() as Record<string, unknown>;
    const restore = db.prepare(`UPDATE audit_logs SET ${Object.keys(original).map((c) => `${c} = @${c}`).join(', ')} WHERE log_id = @log_id`);
    for (const [what, sql] of SPLICES) {
      db.exec(`UPDATE audit_logs SET ${sql} WHERE seq = 5`);
      const report = await s.store.verify({ keyring });
      restore.run(original);
      expect(report.ok, what).toBe(false);
      expect(codes(report), what).toContain('hash_mismatch@5');
    }
    db.close();
    expect((await s.store.verify({ keyring })).ok).toBe(true);
  });

  it('reports every row whose seq verify does not read (beyond 2^53, TEXT, negative, REAL), in whole-store and ranged runs', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    for (const seq of [String(2n ** 62n), "'x'", "x'00'", '-1', '3.5', '1e300']) {
      forgeRow(db, 29, { seq, event_id: FORGED_ID, actor_id: "'mallory'" });
      const whole = await s.store.verify({ keyring });
      const ranged = await s.store.verify({ keyring, fromSeq: 0, toSeq: 19 });
      db.exec(`DELETE FROM audit_logs WHERE event_id = ${FORGED_ID}`);
      for (const report of [whole, ranged]) {
        expect(report.ok, seq).toBe(false);
        expect(report.streams[0]!.findings, seq).toEqual([expect.objectContaining({ code: 'malformed', id: FORGED_ID.slice(1, -1), message: expect.stringMatching(/^a row has seq .*not verified$/) })]);
      }
    }
    db.close();
    expect((await s.store.verify({ keyring })).ok).toBe(true);
  });

  it('reports a row inserted at a seq of a purged range as duplicate', async () => {
    const s = setup(30);
    s.store.archive({ olderThan: T0 + 15n * MINUTE });
    await s.store.purge({ olderThan: T0 + 15n * MINUTE, signers: [signer] });
    expect((await s.store.verify({ keyring })).ok).toBe(true);
    const db = attacker(s.file);
    forgeRow(db, 20, { seq: '5', event_id: FORGED_ID, actor_id: "'mallory'" });
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.findings).toEqual([expect.objectContaining({ code: 'duplicate', seq: 5, id: FORGED_ID.slice(1, -1) })]);
  });

  it('reports an exact copy of a row (unique indexes dropped) as duplicate', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec('DROP INDEX audit_logs_stream_seq; DROP INDEX audit_logs_event_id');
    forgeRow(db, 3, {});
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['duplicate@3']);
  });

  it('reports a column retyped so that queries miss the row (a BLOB actor id or time), though the record reads the same', async () => {
    const s = setup(30);
    const actor = s.store.query({ order: 'oldest', limit: 1000 }).records[4]!.record.actor!.id!;
    const before = s.store.query({ actorId: actor, limit: 1000 }).records.length;
    const db = attacker(s.file);
    db.exec('UPDATE audit_logs SET actor_id = CAST(actor_id AS BLOB) WHERE seq = 4; UPDATE audit_logs SET time_unix_nano = CAST(CAST(time_unix_nano AS TEXT) AS BLOB) WHERE seq = 9');
    db.close();
    expect(s.store.query({ actorId: actor, limit: 1000 }).records.length).toBe(before - 1);
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['hash_mismatch@4', 'hash_mismatch@9']);
    const findings = report.streams[0]!.findings;
    expect(findings[0]!.message).toBe('column actor_id holds blob where the store writes text: the record reads the same, but queries by that column no longer find the row');
    expect(findings[1]!.message).toBe('column time_unix_nano holds blob where the store writes an integer: the record reads the same, but queries by that column no longer find the row');
  });

  it('reports a row whose stream is not text (a BLOB copy of a row) under no stream', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec('DROP INDEX audit_logs_event_id');
    forgeRow(db, 29, { stream: 'CAST(stream AS BLOB)' });
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(report.streams.map((x) => [x.stream, x.errors])).toEqual([['(unknown)', 1], ['svc/1', 0]]);
    expect(report.streams[0]!.findings[0]).toMatchObject({ code: 'malformed', message: expect.stringMatching(/^a row \(seq 29\) has stream X'7376632F31'; a stream id is text/) });
    expect(s.store.streams().map((x) => x.stream)).toEqual(['svc/1']);
  });

  it('classifies a row rewritten with a fresh checksum as chain_break and root_mismatch', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    const record = { ...(s.batch.records[12]!.record as object), outcome: 'failure' };
    const hash = leafHash('sha256', canonicalize(record)).toString('hex');
    db.prepare("UPDATE audit_logs SET event_result = 'failure', checksum = ? WHERE seq = 12").run(hash);
    db.close();
    expect(codes(await s.store.verify({ keyring }))).toEqual(['chain_break@13', 'root_mismatch@19', 'root_mismatch@29', 'unsigned_tail@10']);
  });

  it('classifies a deleted row as seq_gap', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec('DELETE FROM audit_logs WHERE seq IN (4, 5)');
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.findings.find((f) => f.code === 'seq_gap')).toMatchObject({ seq: 4, lastSeq: 5 });
  });

  it('classifies an inserted row as duplicate', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec('DROP INDEX audit_logs_stream_seq');
    const forged = { ...(s.batch.records[3]!.record as object), id: '01890000-0000-7000-8000-0000000000aa', action: 'delete' };
    const hash = leafHash('sha256', canonicalize(forged)).toString('hex');
    db.prepare(`INSERT INTO audit_logs SELECT NULL, stream, seq, '01890000-0000-7000-8000-0000000000aa', hash_alg, time_unix_nano, timestamp, event_type, 'delete',
      event_result, severity, actor_id, actor_type, actor_ip, actor_user_agent, target_type, target_id, target_name, request_id, session_id, api_endpoint,
      http_method, trace_id, span_id, details, error_message, old_values, new_values, redacted, ?, previous_checksum, enc_key_id FROM audit_logs WHERE seq = 3`).run(hash);
    db.close();
    expect(codes(await s.store.verify({ keyring }))).toEqual(['duplicate@3']);
  });

  it('a row forged far beyond the head is reported without walking the gap to it', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.prepare(`INSERT INTO audit_logs SELECT NULL, stream, 1000000000000000, '01890000-0000-7000-8000-0000000000bb', hash_alg, time_unix_nano, timestamp, event_type, event_action,
      event_result, severity, actor_id, actor_type, actor_ip, actor_user_agent, target_type, target_id, target_name, request_id, session_id, api_endpoint,
      http_method, trace_id, span_id, details, error_message, old_values, new_values, redacted, checksum, previous_checksum, enc_key_id FROM audit_logs WHERE seq = 29`).run();
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(report.records).toBe(31);
    expect(report.streams[0]!.findings.some((f) => f.seq === 1e15 || f.lastSeq === 1e15 - 1)).toBe(true);
  });

  it('classifies reordered rows (seqs swapped) as hash_mismatch of both', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec('UPDATE audit_logs SET seq = -1 WHERE seq = 3; UPDATE audit_logs SET seq = 3 WHERE seq = 4; UPDATE audit_logs SET seq = 4 WHERE seq = -1');
    db.close();
    const found = codes(await s.store.verify({ keyring }));
    expect(found).toEqual(expect.arrayContaining(['hash_mismatch@3', 'hash_mismatch@4', 'root_mismatch@9']));
  });

  it('classifies deleting the newest rows as truncated', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec('DELETE FROM audit_logs WHERE seq >= 25');
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(codes(report)).toContain('truncated@25');
  });

  it('classifies a forged checkpoint as bad_signature and a deleted checkpoint no longer vouches', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    const note = db.prepare('SELECT note FROM audit_checkpoints WHERE size = 20').pluck().get() as string;
    db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = 20').run(note.replace('\n20\n', '\n21\n'));
    db.exec('DELETE FROM audit_checkpoints WHERE size = 30');
    db.close();
    const report = await s.store.verify({ keyring });
    expect(codes(report)).toEqual(expect.arrayContaining(['bad_signature@21', 'unsigned_tail@10']));
  });

  it('reports a checkpoint row whose unsigned columns were edited (root hash, time, size) against its signed note', async () => {
    const s = setup(30);
    const db = attacker(s.file);
    db.exec("UPDATE audit_checkpoints SET root_hash = '00' || substr(root_hash, 3) WHERE size = 20");
    db.exec('UPDATE audit_checkpoints SET time_unix_nano = time_unix_nano + 1 WHERE size = 10');
    db.close();
    const report = await s.store.verify({ keyring });
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['hash_mismatch@10', 'hash_mismatch@20']);
    const findings = report.streams[0]!.findings;
    expect(findings[0]!.message).toMatch(/^checkpoint at size 10: its time_unix_nano column .* differs from its signed note .*: the column was edited$/);
    expect(findings[1]).toMatchObject({ size: 20, actual: expect.stringMatching(/^00/), expected: expect.not.stringMatching(/^00/) });
    // The records and the signatures are intact: only the columns disagree.
    expect(report.streams[0]!.checkpoints).toMatchObject({ verified: 3, mismatched: 0 });
  });

  it('verifies a seq range or a time range only, trusting the stored checksums before it', async () => {
    const s = setup(40);
    const db = attacker(s.file);
    db.exec("UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 35");
    db.close();
    const early = await s.store.verify({ keyring, fromSeq: 10, toSeq: 29 });
    expect(early.ok).toBe(true);
    expect(early.streams[0]).toMatchObject({ records: 20, firstSeq: 10, lastSeq: 29 });
    expect(early.streams[0]!.checkpoints).toMatchObject({ verified: 3, lastVerifiedSize: 30, unchecked: 1 });
    const late = await s.store.verify({ keyring, fromSeq: 30 });
    expect(codes(late)).toContain('hash_mismatch@35');
    const byTime = await s.store.verify({ keyring, since: new Date(Number((s.batch.records[12]!.record.time as unknown as string).slice(0, 13))), until: s.batch.records[20]!.record.time.toString() ? BigInt(s.batch.records[20]!.record.time) : undefined });
    expect(byTime.ok).toBe(true);
    expect(byTime.streams[0]).toMatchObject({ firstSeq: 12, lastSeq: 19 });
    // A time range after the last record holds nothing: reported as no records, not thrown.
    const after = await s.store.verify({ keyring, since: new Date(Date.now() + 86_400_000) });
    expect(after.streams.reduce((n, x) => n + x.records, 0)).toBe(0);
    await expect(s.store.verify({ fromSeq: -1 })).rejects.toThrow(/^options.fromSeq/);
    await expect(s.store.verify({ since: 'yesterday' })).rejects.toThrow(/^options.since/);
  });

  it('a ranged run reports the rows before its range that break its start (a REAL seq, a seq stored twice, deleted records) as a whole-store run does, instead of throwing', async () => {
    // The start of seq 17 is built from the compact range stored with the checkpoint at 10 and the rows 10..16.
    const forgeries: [what: string, sql: (db: ReturnType<typeof attacker>) => void, expected: string[]][] = [
      ['a REAL seq', (db) => forgeRow(db, 29, { seq: '12.5', event_id: FORGED_ID, actor_id: "'mallory'" }), ['malformed@undefined']],
      ['a seq stored twice', (db) => { db.exec('DROP INDEX audit_logs_stream_seq'); forgeRow(db, 13, { event_id: FORGED_ID, actor_id: "'mallory'" }); }, ['duplicate@13']],
      ['deleted records', (db) => db.exec('DELETE FROM audit_logs WHERE seq IN (14, 15)'), ['seq_gap@14']],
    ];
    for (const [what, forge, expected] of forgeries) {
      const s = setup(30);
      const db = attacker(s.file);
      forge(db);
      db.close();
      const since = new Date(Number(BigInt(s.batch.records[17]!.record.time) / 1_000_000n));
      for (const range of [{ fromSeq: 17 }, { fromSeq: 17, toSeq: 19 }, { since }]) {
        const report = await s.store.verify({ keyring, ...range });
        expect(report.ok, what).toBe(false);
        expect(codes(report), what).toEqual(expected);
      }
      if (what === 'a REAL seq') expect((await s.store.verify({ keyring, fromSeq: 17 })).streams[0]!.findings[0]).toMatchObject({ id: FORGED_ID.slice(1, -1), actual: '12.5' });
      // Rows before the compact range stored at 20 lie outside a window from 20 on: not read by it (a whole-store run reports them).
      if (what === 'deleted records') expect((await s.store.verify({ keyring, fromSeq: 20 })).ok).toBe(true);
    }
  });

  it('a ranged run past deleted newest rows reports them as a seq_gap; a fromSeq beyond the end stays a RangeError', async () => {
    const s = setup(30);
    expect((await s.store.verify({ keyring, fromSeq: 30 })).ok).toBe(true);
    await expect(s.store.verify({ keyring, fromSeq: 31 })).rejects.toThrow(/^options.fromSeq 31 lies beyond the end of stream "svc\/1" \(its last seq is 29\)$/);
    const db = attacker(s.file);
    db.exec('DELETE FROM audit_logs WHERE seq >= 20');
    db.close();
    const report = await s.store.verify({ keyring, fromSeq: 25 });
    expect(report.ok).toBe(false);
    expect(report.streams[0]!.findings).toEqual([expect.objectContaining({ code: 'seq_gap', seq: 20, lastSeq: 29 })]);
  });

  it('a record of a range rewritten with a fresh checksum is caught: the next record does not link to it and the checkpoint covering the range disagrees', async () => {
    const s = setup(40);
    const intact = await s.store.verify({ keyring, fromSeq: 10, toSeq: 17 });
    expect(intact.ok).toBe(true);
    // The checkpoint at size 20 covers the range; it is reached through the stored checksums of 18 and 19.
    expect(intact.streams[0]!.checkpoints).toMatchObject({ lastVerifiedSize: 20 });
    const db = attacker(s.file);
    for (const seq of [17, 14]) {
      const original = s.batch.records[seq]!.record as unknown as { actor: object };
      const record = { ...original, actor: { ...original.actor, id: 'mallory' } };
      db.prepare("UPDATE audit_logs SET actor_id = 'mallory', checksum = ? WHERE seq = ?").run(leafHash('sha256', canonicalize(record)).toString('hex'), seq);
      if (seq === 17) {
        // The last record of the range: nothing inside the range links to it.
        const last = await s.store.verify({ keyring, fromSeq: 10, toSeq: 17 });
        expect(last.ok).toBe(false);
        expect(codes(last)).toEqual(['chain_break@18', 'root_mismatch@19']);
        const t = (seq: number) => BigInt(s.batch.records[seq]!.record.time as unknown as string);
        expect(codes(await s.store.verify({ keyring, since: t(10), until: t(18) }))).toEqual(['chain_break@18', 'root_mismatch@19']);
      }
    }
    db.close();
    expect(codes(await s.store.verify({ keyring, fromSeq: 10, toSeq: 17 }))).toEqual(['chain_break@15', 'chain_break@18', 'root_mismatch@19']);
  });

  it('verifies several streams, each with its own algorithm, and only the streams asked for', async () => {
    const s = setup(20);
    const other = new AuditChain({ stream: 'svc/2', alg: 'sha512' });
    s.store.appendSync(sealBatch(other, 20));
    const all = await s.store.verify({ keyring });
    expect(all.ok).toBe(true);
    expect(all.streams.map((x) => [x.stream, x.alg, x.records])).toEqual([['svc/1', 'sha256', 20], ['svc/2', 'sha512', 20]]);
    const one = await s.store.verify({ keyring, streams: ['svc/2'] });
    expect(one.streams.map((x) => x.stream)).toEqual(['svc/2']);
  });
});
