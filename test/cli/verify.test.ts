/**
 * `otel-audit verify` end to end (issue 6, DESIGN §4.4): a store built by
 * the real pipeline and one sealed by core's AuditChain verify intact (exit
 * 0); tampered copies exit 1 with the finding at the right seq; an
 * unreadable or foreign path exits 2; bundles and the Collector file
 * exporter's JSON lines verify too, and a removed line shows as a gap.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditChain, recordHash, type SealedCheckpoint, type SealedRecord } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { chainStore, MINUTE, pipelineStore, runBin, runCli, seal, T0, tamper, tempDir, writeKeys } from './helpers.js';

describe('otel-audit verify', () => {
  it('a store written by the real pipeline is intact with the verifier key (exit 0), table and --json', async () => {
    const { dir, db } = await pipelineStore({ n: 12 });
    const { vkey } = writeKeys(dir);
    const table = await runCli(['verify', db, '--key', vkey]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^INTACT: \d+ records in 1 stream/m);
    expect(table.stdout).toMatch(/pipeline\/1\s+sha256/);
    const json = await runCli(['verify', db, '--key', vkey, '--json']);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, kind: 'sqlite', errors: 0 });
    expect(report.streams[0].checkpoints.verified).toBeGreaterThan(0);
    expect(report.streams[0].records).toBeGreaterThanOrEqual(12);
  });

  it('without a key the signed checkpoints are untrusted: exit 1, unknown_key, and a hint to pass --key', async () => {
    const { db } = chainStore(20);
    const run = await runCli(['verify', db]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('unknown_key');
    expect(run.stdout).toContain('pass --key');
  });

  const tamperings = [
    { name: 'an edited column', sql: "UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 7", finding: /hash_mismatch\s+7\b/ },
    { name: 'a deleted row', sql: 'DELETE FROM audit_logs WHERE seq = 12', finding: /seq_gap\s+12\b/ },
    { name: 'deleted newest rows', sql: 'DELETE FROM audit_logs WHERE seq >= 25', finding: /truncated/ },
  ];
  for (const t of tamperings) {
    it(`a copy with ${t.name} exits 1 and names the finding`, async () => {
      const { dir, db } = chainStore(30);
      const { vkey } = writeKeys(dir);
      const copy = path.join(dir, 'copy.db');
      fs.copyFileSync(db, copy);
      tamper(copy, t.sql);
      const run = await runCli(['verify', copy, '--key', vkey]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^PROBLEMS FOUND/m);
      expect(run.stdout).toMatch(t.finding);
      expect((await runCli(['verify', db, '--key', vkey])).code).toBe(0);
    });
  }

  it('--json of a tampered store lists the finding with its seq and evidence', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    tamper(db, "UPDATE audit_logs SET details = '{\"i\":3,\"note\":\"forged\"}' WHERE seq = 3");
    const run = await runCli(['verify', db, '--key', vkey, '--json']);
    expect(run.code).toBe(1);
    const findings = JSON.parse(run.stdout).streams[0].findings;
    expect(findings[0]).toMatchObject({ code: 'hash_mismatch', seq: 3, severity: 'error' });
    expect(findings[0].expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--since/--until verify a time range of a store; a tampered record outside the range is not looked at', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    tamper(db, "UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 2");
    const run = await runCli(['verify', db, '--key', vkey, '--since', '2023-11-14T22:23:20Z', '--until', '2023-11-14T22:33:20Z', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).streams[0]).toMatchObject({ firstSeq: 10, lastSeq: 19, records: 10 });
    expect((await runCli(['verify', db, '--key', vkey])).code).toBe(1);
  });

  it('--since past a forged row (a REAL seq, a seq stored twice) exits 1 with the finding, not 2; export of a bundle from after it is refused naming the row and `otel-audit verify`', async () => {
    const copy = (from: number, seq: string) => `INSERT INTO audit_logs SELECT NULL, stream, ${seq}, '01890000-0000-7000-8000-0000000000ee', hash_alg, time_unix_nano, timestamp, event_type,
      'delete', event_result, severity, actor_id, actor_type, actor_ip, actor_user_agent, target_type, target_id, target_name, request_id, session_id, api_endpoint, http_method,
      trace_id, span_id, details, error_message, old_values, new_values, redacted, checksum, previous_checksum, enc_key_id FROM audit_logs WHERE seq = ${from}`; // forged after the checkpoint at 10, whose compact range is kept
    for (const [sql, finding] of [[copy(12, '12.5'), /malformed\s.*seq 12\.5 \(real\)/], [copy(13, 'seq'), /duplicate\s+13\b/]] as const) {
      const { dir, db } = chainStore(30);
      const { vkey } = writeKeys(dir);
      tamper(db, 'DROP INDEX audit_logs_stream_seq');
      tamper(db, sql);
      const run = await runCli(['verify', db, '--key', vkey, '--since', '2023-11-14T22:28:20Z']);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^PROBLEMS FOUND/m);
      expect(run.stdout).toMatch(finding);
      const bundle = await runCli(['export', '--db', db, '--format', 'bundle', '--from-seq', '15', '--out', path.join(dir, 'part.json')]);
      expect(bundle.code).toBe(2);
      expect(bundle.stderr).toContain('01890000-0000-7000-8000-0000000000ee');
      expect(bundle.stderr).toMatch(/fix: run `otel-audit verify` on the database/);
      expect(fs.existsSync(path.join(dir, 'part.json'))).toBe(false);
    }
  });

  it('cannot run → exit 2 with the problem and the fix: missing path, directory, not a database, bad key, private key', async () => {
    const { dir, db } = chainStore(5);
    const { key } = writeKeys(dir);
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'hello\n');
    const cases: [string[], RegExp][] = [
      [['verify', path.join(dir, 'nope.db')], /cannot read .*nope\.db \(ENOENT\)/],
      [['verify', dir], /is a directory, not a file\n  fix: pass the database, bundle or JSON-lines file itself, not the directory it is in\n/],
      [['verify', text], /not an audit database, an export bundle or OTLP JSON lines/],
      [['verify', db, '--key', 'nobody+12345678+AAAA'], /not a valid verifier key/],
      [['verify', db, '--key', key], /holds a signer \(private\) key/],
      [['verify', db, '--since', 'yesterday'], /ISO-8601/],
    ];
    for (const [argv, message] of cases) {
      const run = await runCli(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toMatch(/fix: /);
      expect(run.stderr).not.toContain('PRIVATE+KEY');
    }
    expect(fs.existsSync(path.join(dir, 'nope.db'))).toBe(false);
  });

  it('an export bundle verifies alone, and a forged record in it is found', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    const bundle = path.join(dir, 'evidence.json');
    expect((await runCli(['export', '--db', db, '--format', 'bundle', '--out', bundle])).code).toBe(0);
    const ok = await runCli(['verify', bundle, '--key', vkey]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('(export bundle)');
    fs.writeFileSync(bundle + '.forged', fs.readFileSync(bundle, 'utf8').replace('"change 4"', '"change 44"'));
    const forged = await runCli(['verify', bundle + '.forged', '--key', vkey]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/hash_mismatch\s+4\b/);
  });

  it('the Collector file exporter JSON lines of the pipeline verify intact; re-delivered lines are de-duplicated; a removed line is a gap', async () => {
    const { dir, jsonl } = await pipelineStore({ n: 12 });
    const { vkey } = writeKeys(dir);
    const lines = fs.readFileSync(jsonl, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(JSON.parse(lines[0]!).resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue).toMatch(/^\{"action":/);

    const intact = await runCli(['verify', jsonl, '--key', vkey, '--json']);
    expect(intact.code).toBe(0);
    const report = JSON.parse(intact.stdout);
    expect(report).toMatchObject({ ok: true, kind: 'jsonl' });
    expect(report.streams[0].checkpoints.verified).toBeGreaterThan(0);

    // Retries deliver lines twice, and the file need not be in seq order.
    const shuffled = path.join(dir, 'shuffled.jsonl');
    fs.writeFileSync(shuffled, [...lines].reverse().concat(lines.slice(0, 2)).join('\n') + '\n');
    const again = await runCli(['verify', shuffled, '--key', vkey]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/re-delivered record\(s\) de-duplicated by id/);

    // Drop a line holding records in the middle of the stream.
    const withRecords = lines.map((l, i) => ({ l, i })).filter(({ l }) => !l.includes('audit.checkpoint'));
    const victim = withRecords[1]!.i;
    const gap = path.join(dir, 'gap.jsonl');
    fs.writeFileSync(gap, lines.filter((_, i) => i !== victim).join('\n') + '\n');
    const run = await runCli(['verify', gap, '--key', vkey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/seq_gap|root_mismatch/);
    expect(run.stdout).toContain('seq_gap');
  });

  it('reads Collector output written without eventName (older collectors), ignores other scopes, and reports unreadable lines', async () => {
    const dir = tempDir();
    const { vkey } = writeKeys(dir);
    const chain = new AuditChain({ stream: 'col/1' });
    const { records, checkpoints } = seal(chain, 12, 4);
    const str = (v: string) => ({ stringValue: v });
    const line = (logRecords: object[], scope = 'otel-audit') => JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: str('svc') }] }, scopeLogs: [{ scope: { name: scope }, logRecords }] }] });
    const recordLog = (r: SealedRecord) => ({
      timeUnixNano: r.record.time, severityNumber: 9, severityText: 'info', body: str(r.canonical), traceId: '', spanId: '',
      attributes: [{ key: 'audit.record.id', value: str(r.record.id) }, { key: 'audit.sequence.number', value: { intValue: String(r.record.seq) } }, { key: 'audit.record.hash', value: str(r.hash) }],
    });
    const checkpointLog = (c: SealedCheckpoint) => ({ timeUnixNano: String(c.timeUnixNano), body: str(c.note), attributes: [{ key: 'audit.checkpoint.size', value: { intValue: String(c.size) } }] });
    const lines = [
      ...records.map((r) => line([recordLog(r)])),
      ...checkpoints.map((c) => line([checkpointLog(c)])),
      line([{ body: str('GET /healthz 200') }], 'http-server'),
    ];
    const file = path.join(dir, 'collector.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const intact = await runCli(['verify', file, '--key', vkey, '--json']);
    expect(intact.code, intact.stdout).toBe(0);
    expect(JSON.parse(intact.stdout).streams[0]).toMatchObject({ stream: 'col/1', records: 12, checkpoints: { verified: 3 } });

    fs.appendFileSync(file, '{not json\n');
    const broken = await runCli(['verify', file, '--key', vkey]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/malformed\s+-\s+line 17: not JSON/);
  });

  it('a JSON file of which no line is an OTLP logs request is refused as input (exit 2); one bad line beside requests stays a finding (exit 1)', async () => {
    const dir = tempDir();
    const other = path.join(dir, 'some.json');
    fs.writeFileSync(other, '{"a":1}\n');
    const run = await runCli(['verify', other]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${other} is not an audit database, bundle or OTLP JSON-lines file: line 1 is not an OTLP logs request (no resourceLogs)`);
    expect(run.stderr).toMatch(/fix: pass the SQLite file of exporters\.sqlite, a bundle .* or the OTLP JSON lines the Collector file exporter writes/);
    expect((await runCli(['verify', other, '--json'])).code).toBe(2);

    const { jsonl } = await pipelineStore({ n: 6 });
    const lines = fs.readFileSync(jsonl, 'utf8').trimEnd().split('\n');
    fs.appendFileSync(jsonl, '{"a":1}\n');
    const mixed = await runCli(['verify', jsonl]);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toMatch(new RegExp(`malformed\\s+-\\s+line ${lines.length + 1}: not an OTLP logs request \\(no resourceLogs\\)`));
    expect(mixed.stdout).toMatch(/^PROBLEMS FOUND/m);
  });

  it('SIGNED and UNSIGNED count the records present: a deleted row or a bundle starting past seq 0 adds up to RECORDS', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    /** RECORDS, SEQ, SIGNED and UNSIGNED of the stream row of the table. */
    const row = (stdout: string) => {
      const cells = stdout.split('\n').find((l) => l.startsWith('svc/1 '))!.trim().split(/\s+/);
      return { records: Number(cells[2]), seq: cells[3], signed: Number(cells[6]), unsigned: Number(cells[7]) };
    };
    const copy = path.join(dir, 'copy.db');
    fs.copyFileSync(db, copy);
    tamper(copy, 'DELETE FROM audit_logs WHERE seq = 12');
    // The checkpoint at 10 still verifies; 20 and 30 cannot (seq 12 is gone): 0..9 signed, 10, 11, 13..29 not.
    expect(row((await runCli(['verify', copy, '--key', vkey])).stdout)).toEqual({ records: 29, seq: '0..29', signed: 10, unsigned: 19 });
    expect(row((await runCli(['verify', copy])).stdout)).toEqual({ records: 29, seq: '0..29', signed: 0, unsigned: 29 });

    const bundle = path.join(dir, 'part.json');
    expect((await runCli(['export', '--db', db, '--format', 'bundle', '--from-seq', '10', '--to-seq', '24', '--out', bundle])).code).toBe(0);
    // The bundle's end proves the checkpoint at 30 over seq 10..24: all 15 are signed.
    expect(row((await runCli(['verify', bundle, '--key', vkey])).stdout)).toEqual({ records: 15, seq: '10..24', signed: 15, unsigned: 0 });
    expect(row((await runCli(['verify', bundle])).stdout)).toEqual({ records: 15, seq: '10..24', signed: 0, unsigned: 15 });
  });

  it('draws a progress bar on a TTY and stays quiet when piped', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    const tty = await runCli(['verify', db, '--key', vkey], { tty: true });
    expect(tty.stderr).toContain('verifying');
    const piped = await runCli(['verify', db, '--key', vkey]);
    expect(piped.stderr).toBe('');
  });
});

describe('otel-audit verify exits non-zero when nothing was verified', () => {
  it('an unknown --stream exits 2 naming it and listing the streams the input holds (store, bundle and JSON lines)', async () => {
    const { dir, db } = chainStore(30, { stream: 'billing/api-1' });
    const { vkey } = writeKeys(dir);
    const bundle = path.join(dir, 'evidence.json');
    expect(runBin(['export', '--db', db, '--format', 'bundle', '--out', bundle]).code).toBe(0);
    const { jsonl } = await pipelineStore({ n: 3, stream: 'billing/api-1' });
    for (const input of [db, bundle, jsonl]) {
      const run = runBin(['verify', input, '--key', vkey, '--stream', 'billing/api-l']);
      expect(run.code, input).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('has no stream "billing/api-l"; it holds 1 stream: "billing/api-1"');
      expect(run.stderr).toContain('fix: pass --stream with one of the streams listed');
    }
    expect(runBin(['verify', db, '--key', vkey, '--stream', 'billing/api-1']).code).toBe(0);
  });

  it('a store with no records exits 1 NOT VERIFIED, and so does a time range holding none', async () => {
    const dir = tempDir();
    const { vkey } = writeKeys(dir);
    const empty = path.join(dir, 'empty.db');
    new SqliteAuditStore(empty).close();
    const run = runBin(['verify', empty, '--key', vkey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT VERIFIED: 0 records in 0 streams/m);
    expect(run.stdout).toContain('not verified: the input holds no audit records, so nothing was verified');
    const json = runBin(['verify', empty, '--key', vkey, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ intact: false, ok: true, records: 0, notVerified: [expect.stringContaining('no audit records')] });

    const { db } = chainStore(30, { dir });
    const range = runBin(['verify', db, '--key', vkey, '--until', '2000-01-01T00:00:00Z']);
    expect(range.code, range.stderr).toBe(1);
    expect(range.stdout).toContain('no audit records in the selected streams and time range');
  });

  it('with --key, a store whose checkpoints were all deleted is NOT VERIFIED (exit 1), not intact, and is not told to pass --key', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    expect(runBin(['verify', db, '--key', vkey]).code).toBe(0);
    tamper(db, 'DELETE FROM audit_checkpoints');
    const run = runBin(['verify', db, '--key', vkey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT VERIFIED: 30 records in 1 stream, 0 signed checkpoints verified, 0 errors, 1 warning$/m);
    expect(run.stdout).toContain('not verified: stream "svc/1": no checkpoint verified with the given key: it holds no checkpoint (were they deleted?)');
    expect(run.stdout).not.toContain('INTACT');
    expect(run.stdout).not.toContain('pass --key');
    const json = JSON.parse(runBin(['verify', db, '--key', vkey, '--json']).stdout);
    expect(json).toMatchObject({ intact: false, ok: true, notVerified: [expect.stringContaining('no checkpoint verified')] });

    // A record rewritten once the checkpoints are gone is itself found: the
    // verdict turns from NOT VERIFIED to PROBLEMS FOUND, naming seq 29.
    tamper(db, "UPDATE audit_logs SET actor_id = 'mallory' WHERE seq = 29");
    const [rewritten] = JSON.parse((await runCli(['query', '--db', db, '--actor', 'mallory', '--json'])).stdout).records;
    expect(rewritten.record.seq).toBe(29);
    const after = runBin(['verify', db, '--key', vkey]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/^PROBLEMS FOUND: 30 records in 1 stream, 0 signed checkpoints verified, 1 error, 1 warning$/m);
    expect(after.stdout).toMatch(/^error\s+svc\/1\s+hash_mismatch\s+29\s+record seq 29 does not hash to its stored hash/m);
    expect(after.stdout).toContain(`id ${rewritten.record.id}`);
    const afterJson = JSON.parse(runBin(['verify', db, '--key', vkey, '--json']).stdout);
    expect(afterJson).toMatchObject({ intact: false, ok: false, errors: 1 });
    expect(afterJson.streams[0].findings.filter((f: { severity: string }) => f.severity === 'error')).toEqual([
      expect.objectContaining({ code: 'hash_mismatch', seq: 29, id: rewritten.record.id, expected: rewritten.checksum }),
    ]);

    // Re-hashed as well (seq 29 is the tail: nothing chains to it), the rewrite
    // is invisible record by record; only the missing checkpoints still refuse it.
    tamper(db, 'UPDATE audit_logs SET checksum = ? WHERE seq = 29', recordHash(rewritten.record));
    const rehashed = runBin(['verify', db, '--key', vkey]);
    expect(rehashed.code).toBe(1);
    expect(rehashed.stdout).toMatch(/^NOT VERIFIED: 30 records in 1 stream, 0 signed checkpoints verified, 0 errors, 1 warning$/m);
    expect(rehashed.stdout).toContain('it holds no checkpoint (were they deleted?)');
  });

  it('with --key, every stream needs a verified checkpoint: one stream stripped of its checkpoints fails although another is signed, unless named --unsigned-ok', () => {
    const { dir, db } = chainStore(20, { stream: 'billing/api-1' });
    chainStore(20, { stream: 'billing/worker-1', dir });
    const { vkey } = writeKeys(dir);
    expect(runBin(['verify', db, '--key', vkey]).code).toBe(0);
    tamper(db, "DELETE FROM audit_checkpoints WHERE stream = 'billing/worker-1'");
    const run = runBin(['verify', db, '--key', vkey]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('not verified: stream "billing/worker-1": no checkpoint verified with the given key');
    expect(run.stdout).not.toContain('stream "billing/api-1": no checkpoint');
    expect(runBin(['verify', db, '--key', vkey, '--unsigned-ok', 'billing/worker-1']).code).toBe(0);
  });

  it('with --key, a time range between two checkpoints of an intact store is verified by its records (exit 0)', () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    const iso = (i: number) => new Date(Number((T0 + BigInt(i) * MINUTE) / 1_000_000n)).toISOString();
    const run = runBin(['verify', db, '--key', vkey, '--since', iso(12), '--until', iso(16)]);
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^INTACT/m);
  });

  it('with --key, a record of a time range rewritten with a fresh checksum is caught at the record after the range and the checkpoint covering it; a range no checkpoint covers yet is NOT VERIFIED', async () => {
    const { dir, db } = chainStore(25);
    const { vkey } = writeKeys(dir);
    const iso = (i: number) => new Date(Number((T0 + BigInt(i) * MINUTE) / 1_000_000n)).toISOString();
    // The last record of the range 12..15 names another actor, with a checksum recomputed to match (no key needed).
    const store = new SqliteAuditStore(db, { readOnly: true });
    const original = (await store.query({ order: 'oldest', limit: 100 })).records.find((r) => r.record.seq === 15)!.record;
    store.close();
    const forged = { ...original, actor: { ...original.actor, id: 'mallory' } };
    tamper(db, "UPDATE audit_logs SET actor_id = 'mallory', checksum = ? WHERE seq = 15", recordHash(forged as never));
    const run = runBin(['verify', db, '--key', vkey, '--since', iso(12), '--until', iso(16)]);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/^PROBLEMS FOUND/m);
    expect(run.stdout).toMatch(/chain_break +16 .*the record after the range \(seq 16, not verified itself\)/);
    expect(run.stdout).toMatch(/root_mismatch/);
    // Records 20..24 come after the last checkpoint (size 20): nothing vouches for them yet.
    const open = runBin(['verify', db, '--key', vkey, '--since', iso(21)]);
    expect(open.code, open.stdout).toBe(1);
    expect(open.stdout).toMatch(/^NOT VERIFIED/m);
    expect(open.stdout).toContain('no checkpoint verified with the given key covers its records seq 21..24 in the range yet');
    expect(open.stdout).toContain('end the range earlier with --until');
  });

  it('without --key nothing is vouched for: an unsigned store is NOT VERIFIED (exit 1) unless --unsigned-ok names its streams', () => {
    const { db } = chainStore(12, { every: 1_000 });
    const run = runBin(['verify', db]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT VERIFIED: 12 records/m);
    expect(run.stdout).toContain('no --key given: without the signer\'s verifier key no checkpoint can be trusted, so nothing shows that the records of stream "svc/1" were not rewritten');
    expect(run.stdout).toContain('pass --key VKEY');
    for (const named of ['svc/1', 'svc/*', '*']) {
      const ok = runBin(['verify', db, '--unsigned-ok', named]);
      expect(ok.code, named).toBe(0);
      expect(ok.stdout).toMatch(/^INTACT \(with warnings\): 12 records/m);
    }
    expect(runBin(['verify', db, '--unsigned-ok', 'other/*']).code).toBe(1);
  });

  it('stripping the signatures never improves the verdict: without --key both are exit 1, with it the stripped copy is bad_signature (clean-room review W1)', async () => {
    const { dir, db } = chainStore(20);
    const { vkey } = writeKeys(dir);
    const stripped = path.join(dir, 'stripped.db');
    fs.copyFileSync(db, stripped);
    // The attacker keeps each note's text and drops its signature lines.
    tamper(stripped, "UPDATE audit_checkpoints SET note = substr(note, 1, instr(note, char(10) || char(10)) + 1)");
    const keyless = [await runCli(['verify', db]), await runCli(['verify', stripped])];
    expect(keyless.map((r) => r.code)).toEqual([1, 1]);
    expect(keyless[0]!.stdout).toMatch(/unknown_key/);
    expect(keyless[1]!.stdout).toMatch(/^NOT VERIFIED/m);
    expect((await runCli(['verify', db, '--key', vkey])).code).toBe(0);
    const keyed = await runCli(['verify', stripped, '--key', vkey]);
    expect(keyed.code).toBe(1);
    expect(keyed.stdout).toMatch(/bad_signature/);
  });
});
