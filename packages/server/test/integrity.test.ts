/**
 * Integrity, proofs, checkpoints and stats through the API (issue 7,
 * DESIGN §4.4): the verification report of a range and of a tampered
 * store, ranges too large refused with a message naming a smaller range,
 * NDJSON progress, one verification at a time, inclusion proofs that check
 * against the signed checkpoint, checkpoint signature status and age, and
 * the stats with their series by type and outcome.
 */
import { createRecordId, verifyCheckpoint } from '@otel-audit/core';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { describe, expect, it } from 'vitest';
import { accessRecords, ADMIN_TOKEN, appendEvents, AUDITOR_TOKEN, call, fixturesPerTest, keyring, seededEvent, signer } from './helpers.js';

const fixture = fixturesPerTest();

/** The attacker with write access to the file: the append-only triggers dropped, then `sql`. */
function tamper(store: SqliteAuditStore, sql: string, ...args: unknown[]): void {
  const db = store.database;
  for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
  db.prepare(sql).run(...args);
}

/** The stored checkpoint row of svc/1 and what its signed note says. */
function storedCheckpoint(store: SqliteAuditStore) {
  const row = store.database.prepare("SELECT root_hash, CAST(time_unix_nano AS TEXT) AS time, note FROM audit_checkpoints WHERE stream = 'svc/1'").get() as { root_hash: string; time: string; note: string };
  const signed = verifyCheckpoint(row.note, keyring).checkpoint!;
  return { row, signedRoot: signed.rootHash.toString('hex'), signedTime: signed.timeUnixNano };
}

/** `hex` with its first digit changed: a root hash the note does not hold. */
const otherRoot = (hex: string): string => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

describe('GET /api/audit/integrity', () => {
  it('reports an intact range, and records the check', async () => {
    const fx = await fixture(30);
    const body = await (await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=5&to_seq=20', AUDITOR_TOKEN)).json();
    expect(body.report).toMatchObject({ ok: true, errors: 0 });
    expect(body.intact).toBe(true);
    expect(body.report.streams[0]).toMatchObject({ stream: 'svc/1', firstSeq: 5, lastSeq: 20 });
    expect(accessRecords(fx.store).at(-1)).toMatchObject({ action: 'verify', outcome: 'success', details: { ok: true, records: 16, query: { stream: 'svc/1', from_seq: 5, to_seq: 20 } } });
  });

  it("signs the server's own access records before a windowed check, so the requests that led to it are not an unsigned tail", async () => {
    // A checkpoint interval far away: without the check's own checkpoint, these reads would be unvouched.
    const fx = await fixture(10, { checkpointIntervalMillis: 3_600_000 });
    for (let i = 0; i < 3; i++) expect((await call(fx, '/api/audit/logs', AUDITOR_TOKEN)).status).toBe(200);
    const body = await (await call(fx, `/api/audit/integrity?since=${encodeURIComponent(new Date(Date.now() - 3_600_000 * 24).toISOString())}`, AUDITOR_TOKEN)).json();
    expect(body.notVerified).toBeUndefined();
    expect(body.intact).toBe(true);
  });

  it('an unknown stream is 404 naming the streams held; a range holding no records is not intact, and says so', async () => {
    const fx = await fixture(30);
    const unknown = await call(fx, '/api/audit/integrity?stream=svc%2F9', ADMIN_TOKEN);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('no stream \\"svc/9\\" in this store; it holds \\"');
    const empty = await (await call(fx, `/api/audit/integrity?since=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`, ADMIN_TOKEN)).json();
    expect(empty).toMatchObject({ intact: false, notVerified: [expect.stringContaining('hold no audit records')] });
    expect(empty.report.ok).toBe(true);
    expect(accessRecords(fx.store).at(-1)).toMatchObject({ action: 'verify', outcome: 'failure', details: { intact: false } });
  });

  it('without verifier keys nothing is intact: a copy stripped of its signatures must not pass where the signed store fails', async () => {
    const fx = await fixture(30, { verifierKeys: [] });
    const signed = await (await call(fx, '/api/audit/integrity?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(signed.intact).toBe(false);
    tamper(fx.store, "UPDATE audit_checkpoints SET note = substr(note, 1, instr(note, char(10) || char(10)) + 1) WHERE stream = 'svc/1'");
    const stripped = await (await call(fx, '/api/audit/integrity?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(stripped.report.ok).toBe(true);
    expect(stripped).toMatchObject({ intact: false, notVerified: [expect.stringContaining('the server has no verifier key')] });
  });

  it('reports tampering with the seq and code', async () => {
    const fx = await fixture(30);
    const db = fx.store.database;
    for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
    db.prepare("UPDATE audit_logs SET actor_id = 'mallory' WHERE stream = 'svc/1' AND seq = 7").run();
    const body = await (await call(fx, '/api/audit/integrity?stream=svc%2F1', ADMIN_TOKEN)).json();
    expect(body.report.ok).toBe(false);
    expect(body.report.streams[0].findings).toContainEqual(expect.objectContaining({ code: 'hash_mismatch', seq: 7 }));
    expect(accessRecords(fx.store).at(-1)).toMatchObject({ action: 'verify', outcome: 'failure' });
  });

  it('refuses a range above the limit with 422 naming a smaller range, and streams NDJSON progress on request', async () => {
    const fx = await fixture(30, { maxIntegrityRecords: 20 });
    const res = await call(fx, '/api/audit/integrity', ADMIN_TOKEN);
    expect(res.status).toBe(422);
    expect((await res.json()).error.message).toMatch(/holds \d+ records, more than 20 .*since\/until, or stream with from_seq\/to_seq/);
    const ok = await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=0&to_seq=9&progress=true', ADMIN_TOKEN);
    expect(ok.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await ok.text()).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-2)).toEqual({ progress: { records: 10, of: 10 } });
    expect(lines.at(-1).report).toMatchObject({ ok: true, records: 10 });
  });

  it('counts the records read to build the start of a range deep in a stream against the limit, from the nearest archive on', async () => {
    // 20 records, then 10 fresh ones; the checkpoints at 20 and 30 stored after them, so the one at 20 has
    // no compact range stored with it (integrity-deep-window.test.ts starts from one).
    const fx = await fixture(0, { maxIntegrityRecords: 20 });
    appendEvents(fx.store, fx.chain, Array.from({ length: 20 }, (_, i) => seededEvent(i, 60 + (20 - i) * 10)), false);
    const time = BigInt(Date.now()) * 1_000_000n;
    const at20 = { stream: fx.chain.stream, size: 20, rootHash: fx.chain.rootHex(), timeUnixNano: time, note: fx.chain.checkpoint(time, [signer]) };
    const fresh = new Date(Date.now() - 30_000).toISOString();
    appendEvents(fx.store, fx.chain, Array.from({ length: 10 }, (_, i) => ({ id: createRecordId(), time: new Date(Date.now() + i), type: 'crud', action: 'fresh' })), false);
    fx.store.appendSync({ records: [], checkpoints: [at20, { stream: fx.chain.stream, size: 30, rootHash: fx.chain.rootHex(), timeUnixNano: time + 1n, note: fx.chain.checkpoint(time + 1n, [signer]) }] });
    // One record, but its start is built from the hashes of the 25 before it.
    const deep = await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=25&to_seq=25', AUDITOR_TOKEN);
    expect(deep.status).toBe(422);
    expect((await deep.json()).error.message).toMatch(
      /holds 1 records, but it starts deep in stream "svc\/1": at seq 25, with 25 records before it back to seq 0, .* 26 records in all, more than 20 per request; verify it offline with otel-audit verify .*, or raise the server's maxIntegrityRecords/);
    // A time range starts where its first record is: the same walk.
    expect((await call(fx, `/api/audit/integrity?since=${fresh}`, AUDITOR_TOKEN)).status).toBe(422);
    const shallow = await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=10&to_seq=12', AUDITOR_TOKEN);
    expect(shallow.status).toBe(200);
    expect((await shallow.json()).report.records).toBe(3);
    // Records 0..19 archived: the start is built from the archive's end, 5 records before seq 25.
    expect(fx.store.archive({ olderThan: fresh, streams: ['svc/1'] })).toMatchObject([{ lastSeq: 19 }]);
    const archived = await call(fx, '/api/audit/integrity?stream=svc%2F1&from_seq=25&to_seq=25', AUDITOR_TOKEN);
    expect(archived.status).toBe(200);
    expect((await archived.json()).report).toMatchObject({ ok: true, records: 1 });
  });

  it('runs one verification at a time (429 for a second) and keeps serving other requests meanwhile', async () => {
    const fx = await fixture(20);
    const chain = fx.chain;
    for (let b = 0; b < 6; b++) {
      appendEvents(fx.store, chain, Array.from({ length: 5000 }, (_, i) => ({ id: createRecordId(), time: new Date(Date.now() - 3_600_000 + b * 5000 + i), type: 'api', action: 'call' })), b === 5);
    }
    // With progress=true the response starts with the first progress line: the verification is under way.
    const first = await call(fx, '/api/audit/integrity?stream=svc%2F1&progress=true', ADMIN_TOKEN);
    const [second, health] = await Promise.all([call(fx, '/api/audit/integrity?stream=svc%2F1', ADMIN_TOKEN), call(fx, '/healthz')]);
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(health.status).toBe(200);
    const last = JSON.parse((await first.text()).trimEnd().split('\n').at(-1)!);
    expect(last.report).toMatchObject({ ok: true, records: 30_020 });
  });

  it('refuses seq bounds without a stream and reversed bounds', async () => {
    const fx = await fixture(5);
    for (const q of ['from_seq=1', 'stream=svc%2F1&from_seq=5&to_seq=1', 'since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'progress=yes']) {
      expect((await call(fx, `/api/audit/integrity?${q}`, ADMIN_TOKEN)).status).toBe(400);
    }
  });
});

describe('GET /api/audit/proof and /checkpoints', () => {
  it('proves inclusion in the signed checkpoint; reports the unsigned tail; 404 for a missing record', async () => {
    const fx = await fixture(12);
    const proof = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=5', AUDITOR_TOKEN)).json();
    expect(proof).toMatchObject({ seq: 5, included: true, checkpoint: { size: 12, status: 'valid' } });
    expect(proof.hash).toBe(fx.store.query({ stream: 'svc/1', requestId: 'req-5' }).records[0]!.checksum);
    expect(proof.proof.length).toBe(4);
    appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(), type: 'crud', action: 'tail' }], false);
    const tail = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=12', AUDITOR_TOKEN)).json();
    expect(tail.included).toBeNull();
    expect(tail.message).toMatch(/unsigned tail/);
    expect((await call(fx, '/api/audit/proof?stream=svc%2F1&seq=99', AUDITOR_TOKEN)).status).toBe(404);
    expect((await call(fx, '/api/audit/proof?stream=svc%2F1', AUDITOR_TOKEN)).status).toBe(400);
    expect((await call(fx, '/api/audit/proof?stream=svc%2F1&seq=-1', AUDITOR_TOKEN)).status).toBe(400);
  });

  it('proves a record after a purge, reading the purged prefix from its archive', async () => {
    const fx = await fixture(12);
    appendEvents(fx.store, fx.chain, Array.from({ length: 12 }, (_, i) => ({ id: createRecordId(), time: new Date(), type: 'crud', action: 'later', details: { i } })));
    // Records 0..11 are minutes old, 12..23 just written: archive and purge the first twelve only.
    expect(fx.store.archive({ olderThan: new Date(Date.now() - 30_000), maxRecordsPerArchive: 12 }).map((a) => [a.firstSeq, a.lastSeq])).toEqual([[0, 11]]);
    expect((await fx.store.purge({ olderThan: new Date(Date.now() - 30_000) })).map((p) => [p.firstSeq, p.lastSeq])).toEqual([[0, 11]]);
    const proof = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=15', AUDITOR_TOKEN)).json();
    expect(proof).toMatchObject({ seq: 15, included: true, checkpoint: { size: 24, status: 'valid' } });
  });

  it('says NOT included when the stored checksum was changed under the checkpoint, and refuses oversized proofs', async () => {
    const fx = await fixture(12, { maxProofLeaves: 8 });
    expect((await call(fx, '/api/audit/proof?stream=svc%2F1&seq=1', AUDITOR_TOKEN)).status).toBe(422);
    const fx2 = await fixture(12);
    const db = fx2.store.database;
    db.exec('DROP TRIGGER audit_logs_no_update');
    db.prepare("UPDATE audit_logs SET checksum = ? WHERE stream = 'svc/1' AND seq = 3").run('0'.repeat(64));
    const proof = await (await call(fx2, '/api/audit/proof?stream=svc%2F1&seq=3', AUDITOR_TOKEN)).json();
    expect(proof.included).toBe(false);
  });

  it('says recordMatchesHash false for a record whose columns were edited under an untouched checksum, true otherwise', async () => {
    const fx = await fixture(12);
    expect((await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=4', AUDITOR_TOKEN)).json()).recordMatchesHash).toBe(true);
    // The attacker rewrites who did it; the checksum column, and so the proof of it, stays as signed.
    tamper(fx.store, "UPDATE audit_logs SET actor_id = 'someone-else' WHERE stream = 'svc/1' AND seq = 4");
    const proof = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=4', AUDITOR_TOKEN)).json();
    expect(proof).toMatchObject({ included: true, recordMatchesHash: false });
    expect((await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=5', AUDITOR_TOKEN)).json()).recordMatchesHash).toBe(true);
  });

  it('lists checkpoints with their signature status and the age of the newest valid one', async () => {
    const fx = await fixture(5);
    const body = await (await call(fx, '/api/audit/checkpoints?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(body.checkpoints).toHaveLength(1);
    expect(body.checkpoints[0]).toMatchObject({ stream: 'svc/1', size: 5, status: 'valid' });
    expect(body.latestValid.ageSeconds).toBeLessThan(60);
    const unkeyed = await fixture(5, { verifierKeys: [] });
    const none = await (await call(unkeyed, '/api/audit/checkpoints', AUDITOR_TOKEN)).json();
    expect(none).toMatchObject({ latestValid: null, verifierKeys: false });
    expect(none.checkpoints[0].status).toBe('no_keys');
  });

  it('takes the largest checkpoint as latestValid and lists a stream largest first when the clock stepped back an hour after the first one', async () => {
    const fx = await fixture(5); // its checkpoint, size 5, dated now
    for (let k = 1; k <= 3; k++) {
      const records = [fx.chain.append({ id: createRecordId(), time: new Date(Date.now() - 3_600_000), type: 'crud', action: 'after_step', details: { k } })];
      const time = BigInt(Date.now() - 3_600_000 + k * 1_000) * 1_000_000n;
      fx.store.appendSync({ records, checkpoints: [{ stream: 'svc/1', size: fx.chain.size, rootHash: fx.chain.rootHex(), timeUnixNano: time, note: fx.chain.checkpoint(time, [signer]) }] });
    }
    const body = await (await call(fx, '/api/audit/checkpoints?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(body.checkpoints.map((c: { size: number }) => c.size)).toEqual([8, 7, 6, 5]);
    expect(body.latestValid).toMatchObject({ stream: 'svc/1', size: 8, status: 'valid' });
    expect(body.latestValid.ageSeconds).toBeGreaterThan(3_500);
    const page = await (await call(fx, '/api/audit/checkpoints?stream=svc%2F1&limit=2', AUDITOR_TOKEN)).json();
    expect(page.checkpoints.map((c: { size: number }) => c.size)).toEqual([8, 7]);
    // Of all streams, the order stored: the newest commit first, whatever its time.
    const all = await (await call(fx, '/api/audit/checkpoints', AUDITOR_TOKEN)).json();
    expect(all.checkpoints.filter((c: { stream: string }) => c.stream === 'svc/1').map((c: { size: number }) => c.size)).toEqual([8, 7, 6, 5]);
  });
});

describe('checkpoint columns against the signed note', () => {
  it('shows the root and time of the signed note, not the edited root_hash column, and calls the row mismatch, never valid', async () => {
    const fx = await fixture(5);
    const { row, signedRoot, signedTime } = storedCheckpoint(fx.store);
    expect(row.root_hash).toBe(signedRoot);
    tamper(fx.store, "UPDATE audit_checkpoints SET root_hash = ? WHERE stream = 'svc/1'", otherRoot(signedRoot));
    const body = await (await call(fx, '/api/audit/checkpoints?stream=svc%2F1', AUDITOR_TOKEN)).json();
    expect(body.checkpoints[0]).toMatchObject({
      stream: 'svc/1', size: 5, rootHash: signedRoot, time: new Date(Number(signedTime / 1_000_000n)).toISOString(),
      status: 'mismatch', signature: 'valid', mismatches: [{ column: 'root_hash', stored: otherRoot(signedRoot), signed: signedRoot }],
    });
    expect(body.checkpoints[0].problem).toMatch(/root_hash is "[0-9a-f]{64}" in the database, "[0-9a-f]{64}" in the note/);
    expect(body.latestValid).toBeNull();
    expect(accessRecords(fx.store).at(-1)).toMatchObject({ action: 'view', details: { count: 1, mismatched: 1 } });
  });

  it('names every edited column (size, time) and says mismatch without verifier keys too', async () => {
    const fx = await fixture(5, { verifierKeys: [] });
    const { signedTime } = storedCheckpoint(fx.store);
    tamper(fx.store, "UPDATE audit_checkpoints SET size = 7, time_unix_nano = time_unix_nano + 3600000000000 WHERE stream = 'svc/1'");
    const [cp] = (await (await call(fx, '/api/audit/checkpoints?stream=svc%2F1', AUDITOR_TOKEN)).json()).checkpoints;
    expect(cp).toMatchObject({ size: 5, time: new Date(Number(signedTime / 1_000_000n)).toISOString(), status: 'mismatch', signature: 'no_keys' });
    expect(cp.mismatches.map((m: { column: string }) => m.column)).toEqual(['size', 'time_unix_nano']);
  });

  it('reports a note that does not parse as malformed with nothing shown from the columns, and a non-numeric time column without a 500', async () => {
    const fx = await fixture(5);
    tamper(fx.store, "UPDATE audit_checkpoints SET note = 'not a note', time_unix_nano = 'soon' WHERE stream = 'svc/1'");
    const res = await call(fx, '/api/audit/checkpoints?stream=svc%2F1', AUDITOR_TOKEN);
    expect(res.status).toBe(200);
    expect((await res.json()).checkpoints[0]).toMatchObject({ size: null, rootHash: null, time: null, status: 'malformed' });
    const proof = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=2', AUDITOR_TOKEN)).json();
    expect(proof).toMatchObject({ included: null, checkpoint: { status: 'malformed' } });
    expect(proof.message).toMatch(/no readable signed note/);
  });

  it('proves against the signed root and size, and says mismatch, when the columns were edited', async () => {
    const fx = await fixture(12);
    const { signedRoot } = storedCheckpoint(fx.store);
    tamper(fx.store, "UPDATE audit_checkpoints SET root_hash = ? WHERE stream = 'svc/1'", otherRoot(signedRoot));
    const proof = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=5', AUDITOR_TOKEN)).json();
    expect(proof).toMatchObject({ included: true, checkpoint: { size: 12, rootHash: signedRoot, status: 'mismatch', signature: 'valid' } });
    // A size column raised over the unsigned tail does not make the tail look covered.
    appendEvents(fx.store, fx.chain, [0, 1, 2].map((i) => ({ id: createRecordId(), time: new Date(), type: 'crud', action: `tail-${i}` })), false);
    tamper(fx.store, "UPDATE audit_checkpoints SET size = 20 WHERE stream = 'svc/1'");
    const tail = await (await call(fx, '/api/audit/proof?stream=svc%2F1&seq=13', AUDITOR_TOKEN)).json();
    expect(tail).toMatchObject({ included: null, checkpoint: { size: 12, status: 'mismatch' } });
    expect(tail.message).toMatch(/signed for 12 records only/);
  });
});

describe('GET /api/audit/stats', () => {
  it('returns the store stats of the window and a series by type and outcome that adds up', async () => {
    const fx = await fixture(30);
    const since = new Date(Date.now() - 6 * 3_600_000).toISOString();
    const stats = await (await call(fx, `/api/audit/stats?since=${since}&bucket=hour`, AUDITOR_TOKEN)).json();
    expect(stats).toMatchObject({ total: 30, failedLogins: 6, configChanges: 6, distinctActors: 3, bucket: 'hour' });
    const sum = (stats.series as { counts: Record<string, number> }[]).reduce((n, p) => n + Object.values(p.counts).reduce((a, b) => a + b, 0), 0);
    expect(sum).toBe(30);
    const byKey: Record<string, number> = {};
    for (const p of stats.series) for (const [k, n] of Object.entries(p.counts as Record<string, number>)) byKey[k] = (byKey[k] ?? 0) + n;
    expect(byKey['auth/failure']).toBe(6);
    expect(byKey['crud/error']).toBe(6);
    const minute = await call(fx, `/api/audit/stats?since=${new Date(Date.now() - 3 * 86_400_000).toISOString()}&bucket=minute`, AUDITOR_TOKEN);
    expect(minute.status).toBe(400);
    expect((await minute.json()).error.message).toMatch(/bucket=minute is limited to windows of at most one day/);
  });
});
