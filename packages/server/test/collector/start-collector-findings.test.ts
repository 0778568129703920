/**
 * startCollector: what it refuses and reports as findings — altered, forged,
 * conflicting and invalid records, checkpoints that do not match or that no
 * trusted key signed, and the collector's own finding records.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditChain, Keyring, createRecordId, generateNoteKey, genesisPrev, parseSignerKey, signCheckpoint, type SealedCheckpoint } from '@otel-audit/core';
import { startCollector } from '../../src/collector/index.js';
import { KEYS, signer, T0, cleanups, collector, batchOf, logsOf, post, keyring, selfConsistentLog } from './start-collector-support.js';

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('startCollector', () => {
  it('refuses an altered record (hash_mismatch, partial success) and reports a record it never got as seq_gap', async () => {
    const c = await collector({ gapGraceMillis: 100 });
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 10, 100));
    const altered = { ...logs[3]!, body: String(logs[3]!.body).replace('"alice"', '"mallory"') };
    const res = await post(c, [...logs.slice(0, 3), altered, ...logs.slice(4)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/does not hash/) } });
    await new Promise((r) => setTimeout(r, 400));
    const codes = c.findings().map((f) => [f.code, f.seq]);
    expect(codes).toEqual([['hash_mismatch', 3], ['seq_gap', 3]]);
    // The findings are audit records of the collector's own stream, too.
    const own = c.store.query({ eventType: 'system', limit: 10 }).records;
    expect(own.map((r) => r.record.action)).toEqual(['integrity_failure', 'integrity_failure']);
    expect(own.map((r) => (r.record.details as Record<string, unknown>)['subject'])).toEqual([undefined, undefined]);
    expect(c.pending()).toBe(6);
    // The real record arrives late (a retry): the stream heals and verifies.
    expect((await post(c, [logs[3]!])).status).toBe(200);
    expect(c.pending()).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')!.errors).toBe(0);
  });

  it('commits each finding record with a signed checkpoint of its own stream when given signerKey, so verifying with both keys needs no exception', async () => {
    const own = generateNoteKey('collector.test/findings');
    for (const signerKey of [own.signerKey, undefined]) {
      const c = await collector({ ...(signerKey !== undefined ? { signerKey } : {}), stream: 'collector/test' });
      const chain = new AuditChain({ stream: 'svc/1' });
      const logs = await logsOf(batchOf(chain, 5, 5));
      const altered = { ...logs[1]!, body: String(logs[1]!.body).replace('"alice"', '"mallory"') };
      expect((await post(c, [logs[0]!, altered])).status).toBe(200);
      expect((await post(c, [logs[1]!])).status).toBe(200); // the genuine record: svc/1 heals
      const report = await c.store.verify({ keyring: Keyring.from([KEYS.verifierKey, own.verifierKey]) });
      const mine = report.streams.find((s) => s.stream === 'collector/test')!;
      expect(mine.errors, JSON.stringify(mine.findings)).toBe(0);
      expect(mine.records).toBe(1);
      // Without a key the stream has no checkpoint (an unsigned one would be an error to a verifier given keys).
      expect(mine.checkpoints.verified).toBe(signerKey !== undefined ? 1 : 0);
      expect(mine.findings.map((f) => f.code)).toEqual(signerKey !== undefined ? [] : ['unsigned_tail']);
    }
    await expect(startCollector({ port: 0, dbPath: path.join(os.tmpdir(), 'never-created.db'), signerKey: own.verifierKey })).rejects.toThrow(/PRIVATE\+KEY/);
    expect(fs.existsSync(path.join(os.tmpdir(), 'never-created.db'))).toBe(false);
  });

  it('answers 409 and records a duplicate finding when a record id comes back with other content', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 3, 100));
    expect((await post(c, logs)).status).toBe(200);
    const forged = new AuditChain({ stream: 'svc/1' });
    const first = JSON.parse(String(logs[0]!.body)) as { id: string };
    const other = forged.append({ id: first.id, time: T0, type: 'crud', action: 'delete', actor: { id: 'mallory' } });
    const res = await post(c, await logsOf({ records: [other], checkpoints: [] }), 'proto');
    expect(res.status).toBe(409);
    expect(c.findings().map((f) => f.code)).toEqual(['duplicate']);
  });

  it('reports a checkpoint whose root differs from the stored records, and one signed by an unknown key', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 4, 100));
    const other = new AuditChain({ stream: 'svc/1' });
    batchOf(other, 4, 100);
    const wrongRoot = other.checkpoint(T0 + 9n, [signer]);
    const stranger = parseSignerKey(generateNoteKey('stranger.test/audit').signerKey);
    const unknown = chain.checkpoint(T0 + 9n, [stranger]);
    const cps = await logsOf({ records: [], checkpoints: [wrongRoot, unknown].map((note) => ({ stream: 'svc/1', size: 4, rootHash: '', timeUnixNano: T0 + 9n, note })) });
    expect((await post(c, [...logs, ...cps])).status).toBe(200);
    expect(c.findings().map((f) => f.code).sort()).toEqual(['root_mismatch', 'unknown_key']);
    // Its own records say they are about checkpoints, so a verifier lists no record loss for them.
    const own = c.store.query({ eventType: 'system', eventAction: 'integrity_failure', limit: 10 }).records;
    expect(own.map((r) => (r.record.details as Record<string, unknown>)['subject'])).toEqual(['checkpoint', 'checkpoint']);
  });

  it('refuses a self-consistent record that is not a valid audit record on its own (partial success) and stores the rest of the request', async () => {
    const c = await collector();
    const good = new AuditChain({ stream: 'svc-a/1' });
    const logs = await logsOf(batchOf(good, 5, 100));
    // Hashes to its audit.record.hash and is canonical, but time is "soon" and type is missing.
    const bad = { v: 1, alg: 'sha256', stream: 'svc-b/1', seq: 0, prev: genesisPrev('sha256'), id: createRecordId(), time: 'soon', action: 'update', outcome: 'success', severity: 'info' };
    for (const as of ['json', 'proto'] as const) {
      const res = await post(c, [...logs.slice(0, 2), selfConsistentLog(logs[0]!, bad), ...logs.slice(2)], as);
      expect(res.status).toBe(200);
      if (as === 'json') expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/not a valid audit record: \/time/) } });
    }
    expect(c.store.query({ stream: 'svc-a/1', since: '2000-01-01T00:00:00Z', limit: 100 }).records).toHaveLength(5);
    expect(c.store.streams().map((s) => s.stream)).not.toContain('svc-b/1');
    // Sent twice, reported once.
    expect(c.findings().map((f) => [f.code, f.stream, f.id])).toEqual([['malformed', 'svc-b/1', bad.id]]);
    // Not canonical once normalised (an uppercase id) is refused the same way.
    const upper = { ...bad, id: createRecordId().toUpperCase(), time: '1700000000000000000', type: 'crud' };
    const res = await post(c, [selfConsistentLog(logs[0]!, upper)]);
    expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/normal form/) } });
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc-a/1')!.errors).toBe(0);
  });

  it.each(['its own id', "the genuine record's id"])('a forged record waiting at a seq (with %s) does not hold the stream up: the genuine records are stored, the forgery is a finding', async (idOf) => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 10, 100));
    const genuine5 = JSON.parse(String(logs[5]!.body)) as Record<string, unknown>;
    // Valid and self-consistent, but it does not continue record 4.
    const forged = { ...genuine5, id: idOf === 'its own id' ? createRecordId() : genuine5.id, prev: 'ab'.repeat(32), action: 'delete' };
    expect((await post(c, [selfConsistentLog(logs[5]!, forged)])).status).toBe(200);
    expect((await post(c, logs.slice(5))).status).toBe(200);
    expect(c.pending()).toBe(6);
    expect((await post(c, logs.slice(0, 5))).status).toBe(200);
    expect(c.pending()).toBe(0);
    const report = await c.store.verify({ keyring });
    expect(report.streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 10, errors: 0 });
    expect(c.findings().map((f) => [f.code, f.seq, f.id])).toEqual([['chain_break', 5, forged.id]]);
  });

  it('keeps the genuine record when a forged one that also continues the chain waits at the same seq: the one its successor names', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 8, 100));
    const forged = { ...(JSON.parse(String(logs[5]!.body)) as Record<string, unknown>), id: createRecordId(), action: 'delete' };
    expect((await post(c, [selfConsistentLog(logs[5]!, forged)])).status).toBe(200);
    expect((await post(c, logs.slice(5))).status).toBe(200);
    expect((await post(c, logs.slice(0, 5))).status).toBe(200);
    expect(c.pending()).toBe(0);
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 8, errors: 0 });
    expect(c.findings().map((f) => [f.code, f.seq, f.id])).toEqual([['duplicate', 5, forged.id]]);
  });

  it('answers 200 with partial success, not 409, when a conflicting record comes with records it takes: only the conflict is refused', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 5, 100));
    expect((await post(c, logs.slice(0, 3))).status).toBe(200);
    const first = JSON.parse(String(logs[0]!.body)) as { id: string };
    const other = new AuditChain({ stream: 'svc/1' }).append({ id: first.id, time: T0, type: 'crud', action: 'delete', actor: { id: 'mallory' } });
    const [conflicting] = await logsOf({ records: [other], checkpoints: [] });
    const res = await post(c, [conflicting!, ...logs.slice(3)]);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ partialSuccess: { rejectedLogRecords: '1', errorMessage: expect.stringMatching(/different content/) } });
    expect((await c.store.verify({ keyring })).streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 5, errors: 0 });
    // Alone, it is still a 409.
    expect((await post(c, [conflicting!])).status).toBe(409);
  });

  it('refuses one record id sent in two streams of one request as a conflict, and stores the rest (not a 503 for ever)', async () => {
    const c = await collector();
    const a = new AuditChain({ stream: 'svc-a/1' });
    const b = new AuditChain({ stream: 'svc-b/1' });
    const logsA = await logsOf(batchOf(a, 3, 100));
    const id = (JSON.parse(String(logsA[0]!.body)) as { id: string }).id;
    const twin = b.append({ id, time: T0, type: 'crud', action: 'update', actor: { id: 'bob' } });
    const logsB = await logsOf({ records: [twin, ...batchOf(b, 2, 100).records], checkpoints: [] });
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await post(c, [...logsA, ...logsB]);
      expect(res.status, res.body).toBe(200);
    }
    const streams = (await c.store.verify({ keyring })).streams;
    expect(streams.find((s) => s.stream === 'svc-a/1')).toMatchObject({ records: 3, errors: 0 });
    // svc-b's first record was refused, so its followers wait for a seq 0 that never comes.
    expect(streams.find((s) => s.stream === 'svc-b/1')).toBeUndefined();
    expect(c.findings().some((f) => f.code === 'duplicate' && f.stream === 'svc-b/1' && f.id === id)).toBe(true);
  });

  it('stores a checkpoint no trusted key signed as evidence, reports it, and does not compare roots with it', async () => {
    const c = await collector();
    const chain = new AuditChain({ stream: 'svc/1' });
    const batch = batchOf(chain, 4, 100);
    const stranger = parseSignerKey(generateNoteKey('stranger.example/audit').signerKey);
    // Signed by an unknown key, over a root the stream will never have (now, or at size 6 later).
    const forged = (size: number): SealedCheckpoint => {
      const note = signCheckpoint({ origin: 'svc/1', size, rootHash: Buffer.alloc(32, 7), timeUnixNano: T0 }, [stranger]);
      return { stream: 'svc/1', size, rootHash: '07'.repeat(32), timeUnixNano: T0, note };
    };
    expect((await post(c, await logsOf({ records: batch.records, checkpoints: [forged(4), forged(6)] }))).status).toBe(200);
    expect((await post(c, await logsOf(batchOf(chain, 2, 100)))).status).toBe(200);
    expect(c.findings().map((f) => f.code)).toEqual(['unknown_key', 'unknown_key']);
    expect(c.store.database.prepare("SELECT count(*) FROM audit_checkpoints WHERE stream = 'svc/1'").pluck().get()).toBe(2);
  });

  it('a finding the store could not take while the request committed is recorded on the next tick, once', async () => {
    const c = await collector({ gapGraceMillis: 100 });
    const chain = new AuditChain({ stream: 'svc/1' });
    const logs = await logsOf(batchOf(chain, 5, 100));
    const altered = { ...logs[4]!, body: String(logs[4]!.body).replace('"alice"', '"mallory"') };
    const other = new Database(c.file);
    other.exec("CREATE TRIGGER refuse_findings BEFORE INSERT ON audit_logs WHEN NEW.event_action = 'integrity_failure' BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    const res = await post(c, [...logs.slice(0, 4), altered]);
    expect(res.status).toBe(200); // the four good records were committed
    expect(c.findings()).toEqual([]);
    other.exec('DROP TRIGGER refuse_findings');
    other.close();
    await new Promise((r) => setTimeout(r, 700));
    expect(c.findings().map((f) => [f.code, f.seq])).toEqual([['hash_mismatch', 4]]);
    const report = await c.store.verify({ keyring });
    expect(report.streams.find((s) => s.stream === 'svc/1')).toMatchObject({ records: 4, errors: 0 });
    // The collector's own stream holds the finding's record, in one unbroken chain.
    expect(report.streams.filter((s) => s.stream !== 'svc/1').map((s) => [s.records, s.errors])).toEqual([[1, 0]]);
  });
});
