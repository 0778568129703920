/**
 * `otel-audit query` and `tail` end to end (issue 6, DESIGN §6): the
 * store's filters as options, pages with a cursor, table / --json /
 * --ndjson output, and `tail -f` printing records committed while it runs
 * (by another connection, also when the database is not writable by the
 * user running it), each exactly once.
 */
import * as fs from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { main } from '@otel-audit/cli';
import { chainStore, event, runCli, seal, startBin, tamper, tempDir, until, writeKeys, type RunningBin } from './helpers.js';

describe('otel-audit query', () => {
  it('filters by actor, type and outcome; --json holds the records and the next cursor, which pages on', async () => {
    const { db } = chainStore(40);
    const first = await runCli(['query', '--db', db, '--actor', 'user-1', '--type', 'crud', '--limit', '5', '--json']);
    expect(first.code).toBe(0);
    const page = JSON.parse(first.stdout);
    expect(page.records).toHaveLength(5);
    for (const r of page.records) expect(r.record).toMatchObject({ actor: { id: 'user-1' }, type: 'crud' });
    expect(page.records[0].record.seq).toBeGreaterThan(page.records[4].record.seq);
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = JSON.parse((await runCli(['query', '--db', db, '--actor', 'user-1', '--type', 'crud', '--limit', '5', '--cursor', page.nextCursor, '--json'])).stdout);
    expect(second.records[0].record.seq).toBeLessThan(page.records[4].record.seq);
    const failures = JSON.parse((await runCli(['query', '--db', db, '--outcome', 'failure', '--order', 'oldest', '--json'])).stdout);
    expect(failures.records.map((r: { record: { seq: number } }) => r.record.seq)).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
  });

  it('prints a table with the event, actor and target, and the cursor of the next page on stderr', async () => {
    const { db } = chainStore(12);
    const run = await runCli(['query', '--db', db, '--limit', '3']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+STREAM\s+SEQ\s+EVENT\s+OUTCOME/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/svc\/1\s+11\s+crud\.update\s+success\s+info\s+user-2\s+tool:4\s+PUT \/admin\/tools\/:id/);
    expect(run.stderr).toMatch(/more records: --cursor \S+/);
  });

  it('--ndjson prints one stored record per line; --since bounds by time', async () => {
    const { db } = chainStore(10);
    const run = await runCli(['query', '--db', db, '--since', '2023-11-14T22:20:00Z', '--order', 'oldest', '--ndjson']);
    const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.record.seq)).toEqual([7, 8, 9]);
    expect(rows[0].checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(run.stderr).not.toMatch(/more records/);
  });

  it('--ndjson says on stderr when more records match than the page holds (stdout stays records only)', async () => {
    const { db } = chainStore(12);
    const run = await runCli(['query', '--db', db, '--limit', '5', '--ndjson']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l).record.seq)).toHaveLength(5);
    expect(run.stderr).toMatch(/^more records: --cursor \S+ \(this page: 5; -n\/--limit up to 1000, or otel-audit export for all\)$/m);
  });

  it('shows a forged seq as stored (TEXT, REAL, an integer past 2^53) in the table and --json, not NaN or a rounded number', async () => {
    const { db } = chainStore(5);
    for (const [i, seq] of ["'x'", '2.5', '9007199254740993'].entries()) {
      tamper(db, `INSERT INTO audit_logs SELECT NULL, stream, ${seq}, '01890000-0000-7000-8000-00000000000${i}', hash_alg, time_unix_nano + ${i + 1}, timestamp, event_type, event_action,
        event_result, severity, 'mallory', actor_type, actor_ip, actor_user_agent, target_type, target_id, target_name, request_id, session_id, api_endpoint, http_method,
        trace_id, span_id, details, error_message, old_values, new_values, redacted, checksum, previous_checksum, enc_key_id FROM audit_logs WHERE seq = 4`);
    }
    const table = await runCli(['query', '--db', db, '--actor', 'mallory']);
    expect(table.code).toBe(0);
    const seqs = table.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[2]);
    expect(seqs).toEqual(['9007199254740993', '2.5', 'x']);
    const json = await runCli(['query', '--db', db, '--actor', 'mallory', '--json']);
    expect(JSON.parse(json.stdout).records.map((r: { record: { seq: unknown } }) => r.record.seq)).toEqual(['9007199254740993', 2.5, 'x']);
    const ndjson = await runCli(['query', '--db', db, '--actor', 'mallory', '--ndjson']);
    expect(ndjson.stdout).toContain('"seq":"9007199254740993"');
    for (const format of ['ndjson', 'csv']) {
      const exported = await runCli(['export', '--db', db, '--format', format, '--actor', 'mallory']);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain('9007199254740993');
      expect(exported.stdout).not.toContain('9007199254740992');
    }
  });

  it('a bad date or cursor exits 2 naming the option; a missing database exits 2 and is not created', async () => {
    const { dir, db } = chainStore(3);
    const date = await runCli(['query', '--db', db, '--since', 'last week']);
    expect(date.code).toBe(2);
    expect(date.stderr).toContain('--since');
    const cursor = await runCli(['query', '--db', db, '--cursor', 'bogus']);
    expect(cursor.code).toBe(2);
    expect(cursor.stderr).toMatch(/cursor/);
    const missing = await runCli(['query', '--db', `${dir}/nope.db`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
  });
});

describe('filter values and page sizes are checked against what the option takes', () => {
  it('an outcome or severity outside the vocabulary exits 2 with the allowed values and the closest one, for query, tail and export', async () => {
    const { db } = chainStore(10);
    const cases: [string[], string, string][] = [
      [['query', '--db', db, '--outcome', 'failur'], '--outcome must be one of success, failure, error, unknown, got "failur"', 'did you mean --outcome failure?'],
      [['query', '--db', db, '--outcome', 'failed'], '--outcome must be one of success, failure, error, unknown, got "failed"', 'did you mean --outcome failure?'],
      [['query', '--db', db, '--severity', 'warn'], '--severity must be one of debug, info, warning, error, critical, got "warn"', 'did you mean --severity warning?'],
      [['tail', '--db', db, '--severity', 'WARNING'], '--severity must be one of debug, info, warning, error, critical, got "WARNING"', 'did you mean --severity warning?'],
      [['export', '--db', db, '--format', 'ndjson', '--outcome', 'ok'], '--outcome must be one of success, failure, error, unknown, got "ok"', 'pass one of success, failure, error, unknown'],
    ];
    for (const [argv, message, fix] of cases) {
      const run = await runCli(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stdout, argv.join(' ')).toBe('');
      expect(run.stderr, argv.join(' ')).toContain(message);
      expect(run.stderr, argv.join(' ')).toContain(`fix: ${fix}`);
      expect(run.stderr, argv.join(' ')).not.toContain('no records match');
    }
    // The type is an open vocabulary, stored as written: any value is a fair query.
    const type = await runCli(['query', '--db', db, '--type', 'Auth']);
    expect(type.code).toBe(0);
    expect(type.stderr).toContain('no records match');
  });

  it('a bad page size names the option the verb takes (-n/--limit, -n/--lines) with a fix about it, not about dates', async () => {
    const { db } = chainStore(5);
    const query = await runCli(['query', '--db', db, '--limit', '0']);
    expect(query.code).toBe(2);
    expect(query.stderr).toContain('otel-audit query: -n/--limit must be an integer in 1..1000; got 0');
    expect(query.stderr).toContain('fix: pass -n/--limit within that range');
    const tail = await runCli(['tail', '--db', db, '-n', '0']);
    expect(tail.code).toBe(2);
    expect(tail.stderr).toContain('otel-audit tail: -n/--lines must be an integer in 1..1000; got 0');
    expect(tail.stderr).toContain('fix: pass -n/--lines within that range');
    for (const run of [query, tail]) {
      expect(run.stderr).not.toContain('query.limit');
      expect(run.stderr).not.toContain('ISO-8601');
    }
    const since = await runCli(['query', '--db', db, '--since', 'yesterday']);
    expect(since.stderr).toContain('otel-audit query: --since must be an ISO-8601 date-time');
    expect(since.stderr).toContain('fix: write --since as an ISO-8601 time');
  });
});

describe('encryption at rest', () => {
  it('verify and query read an encrypted store with AUDIT_LOG_ENCRYPTION_KEY; without the key they cannot run', async () => {
    const hexKey = 'ab'.repeat(32);
    const { dir, db } = chainStore(12, { encryption: { keyId: 'k1', key: Buffer.from(hexKey, 'hex') } });
    const { vkey } = writeKeys(dir);
    const env = { AUDIT_LOG_ENCRYPTION: 'true', AUDIT_LOG_ENCRYPTION_KEY: hexKey, AUDIT_LOG_ENCRYPTION_KEY_ID: 'k1' };
    expect((await runCli(['verify', db, '--key', vkey], { env })).code).toBe(0);
    const page = JSON.parse((await runCli(['query', '--db', db, '--limit', '1', '--json'], { env })).stdout);
    expect(page.records[0].record.details).toEqual({ i: 11, note: 'change 11' });
    const without = await runCli(['verify', db, '--key', vkey]);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/encrypted with key id "k1"[\s\S]*fix: set AUDIT_LOG_ENCRYPTION=true/);
    const wrong = await runCli(['query', '--db', db], { env: { ...env, AUDIT_LOG_ENCRYPTION_KEY: 'cd'.repeat(32) } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('AUDIT_LOG_ENCRYPTION_KEY');
  });
});

describe('otel-audit tail', () => {
  it('shows the newest records oldest first', async () => {
    const { db } = chainStore(10);
    const run = await runCli(['tail', '--db', db, '-n', '3', '--ndjson']);
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l).record.seq)).toEqual([7, 8, 9]);
  });

  it('-f prints records committed after it started, once each, until aborted', async () => {
    const { db } = chainStore(4, { make: (i) => event(i, BigInt(Date.now()) * 1_000_000n) });
    let out = '';
    const controller = new AbortController();
    const running = main(['tail', '--db', db, '-f', '--interval', '20', '--ndjson'], {
      stdout: { write: (s: string) => { out += s; return true; } },
      stderr: { write: () => true },
      env: {},
      signal: controller.signal,
    });
    const until = async (predicate: () => boolean) => {
      for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => out.split('\n').filter(Boolean).length >= 4);
    const writer = new SqliteAuditStore(db);
    const chain = new AuditChain({ stream: 'svc/1', head: await writer.head('svc/1') });
    writer.appendSync(seal(chain, 3, 100, (i) => event(i, BigInt(Date.now()) * 1_000_000n)));
    writer.close();
    await until(() => out.split('\n').filter(Boolean).length >= 7);
    controller.abort();
    expect(await running).toBe(0);
    expect(out.trim().split('\n').map((l) => JSON.parse(l).record.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('otel-audit tail -f (the built bin)', () => {
  const nowNanos = (offsetMillis = 0): bigint => BigInt(Date.now() + offsetMillis) * 1_000_000n;
  const seqs = (run: RunningBin): number[] => run.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l).record.seq as number);
  const lines = (run: RunningBin): string[] => run.stderr().split('\n').filter(Boolean);

  /** Appends `n` records stamped now to the stream, from a connection of its own (the service). */
  async function appendNow(writer: SqliteAuditStore, n: number): Promise<void> {
    const chain = new AuditChain({ stream: 'svc/1', head: await writer.head('svc/1') });
    writer.appendSync(seal(chain, n, 1_000, (i) => event(i, nowNanos())));
  }

  /**
   * The file at `db` readable again after 3 records were committed to it: tail
   * says so (its second stderr line) and shows them; 2 more are committed;
   * tail stops with seqs 0-9, each once, and exactly `stderr` on stderr.
   */
  async function catchesUpAndStops(tail: RunningBin, db: string, said: string, stderr: string[]): Promise<void> {
    await until(() => lines(tail).length >= 2, said);
    await until(() => seqs(tail).length >= 8, 'the 3 records committed meanwhile');
    await commitAndSee(db, 2, tail, 10, 'the 2 records committed after');
    const stopped = await tail.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(seqs(tail)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lines(tail)).toEqual(stderr);
  }

  /** The service commits `n` records to the file at `db`; waits until `tail` shows `total` seqs, and a few polls more (a repeat would show). */
  async function commitAndSee(db: string, n: number, tail: RunningBin, total: number, what: string): Promise<void> {
    const service = new SqliteAuditStore(db);
    try {
      await appendNow(service, n);
      await until(() => seqs(tail).length >= total, what);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      service.close();
    }
  }

  it('does not print again, on its first polls, the records of the last minute it skipped at start; new records appear once each', async () => {
    // 50 records one second apart, all within a minute of the newest: 20 are shown first.
    const { db } = chainStore(50, { every: 1_000, make: (i) => event(i, nowNanos(-55_000 + i * 1_000)) });
    const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson']);
    await until(() => seqs(tail).length >= 20, 'the first 20 records');
    await new Promise((r) => setTimeout(r, 500)); // twenty polls
    expect(seqs(tail)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
    const writer = new SqliteAuditStore(db);
    try {
      await appendNow(writer, 3);
      await until(() => seqs(tail).length >= 23, 'the 3 new records');
      await appendNow(writer, 2);
      await until(() => seqs(tail).length >= 25, 'the 2 newer records');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      writer.close();
    }
    const stopped = await tail.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(seqs(tail)).toEqual(Array.from({ length: 25 }, (_, i) => 30 + i));
  });

  it('follows a database in a directory its user cannot write: records a running service commits later appear once each', async () => {
    const { dir, db } = chainStore(5, { every: 1_000, make: (i) => event(i, nowNanos(-5_000 + i * 100)) });
    fs.chmodSync(db, 0o644); // the store is created 0600: read access for the auditor is granted deliberately
    fs.chmodSync(dir, 0o555);
    try {
      const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson'], { unprivileged: true });
      await until(() => seqs(tail).length >= 5 || tail.stderr() !== '', 'the first 5 records');
      expect(tail.stderr()).toBe('');
      const writer = new SqliteAuditStore(db);
      try {
        await appendNow(writer, 3);
        await until(() => seqs(tail).length >= 8, 'the 3 records of the service');
        await appendNow(writer, 2);
        await until(() => seqs(tail).length >= 10, 'the 2 newer records');
        await new Promise((r) => setTimeout(r, 300));
        const stopped = await tail.stop();
        expect(stopped.code, stopped.stderr).toBe(0);
      } finally {
        writer.close();
      }
      expect(seqs(tail)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      fs.chmodSync(dir, 0o755);
    }
  });

  it('through a copy, a database it cannot copy again is reported once on stderr, not at every poll; tail keeps following, says when it can read it again, and then shows what was committed meanwhile and after', async () => {
    const { dir, db } = chainStore(5, { every: 1_000, make: (i) => event(i, nowNanos(-5_000 + i * 100)) });
    fs.chmodSync(db, 0o644); // the store is created 0600: read access for the auditor is granted deliberately
    const moved = `${db}.rotated`;
    const warning = `otel-audit tail: warning: cannot read ${db} again (cannot read ${db} (ENOENT)); still following, newer records will show once it can be read (retrying every 25 ms)`;
    const recovered = `otel-audit tail: ${db} can be read again; following it`;
    fs.chmodSync(dir, 0o555);
    try {
      const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson'], { unprivileged: true });
      await until(() => seqs(tail).length >= 5 || tail.stderr() !== '', 'the first 5 records');
      expect(tail.stderr()).toBe('');
      // Moved away (a botched rotation): the next copy cannot be taken; the service goes on committing to it.
      fs.renameSync(db, moved);
      await until(() => tail.stderr() !== '', 'the warning');
      const writer = new SqliteAuditStore(moved);
      try {
        await appendNow(writer, 3);
      } finally {
        writer.close();
      }
      await new Promise((r) => setTimeout(r, 500)); // twenty polls that fail
      expect(lines(tail)).toEqual([warning]);
      expect(seqs(tail)).toEqual([0, 1, 2, 3, 4]);
      fs.renameSync(moved, db);
      await catchesUpAndStops(tail, db, 'the line saying it can read the database again', [warning, recovered]);
    } finally {
      if (fs.existsSync(moved)) fs.renameSync(moved, db);
      fs.chmodSync(dir, 0o755);
    }
  });

  it('a poll that fails in SQLite (a page of the records torn under it) is retried, said once on stderr, and the records come once the file reads again', async () => {
    const { db } = chainStore(5, { every: 1_000, make: (i) => event(i, nowNanos(-5_000 + i * 100)) });
    // The page holding the records' table (read from a copy elsewhere, not to leave a -shm beside the file).
    const probe = `${tempDir()}/probe.db`;
    fs.copyFileSync(db, probe);
    const raw = new Database(probe, { readonly: true });
    const [root, pageSize] = [raw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'audit_logs'").pluck().get() as number, raw.pragma('page_size', { simple: true }) as number];
    raw.close();
    const warning = `otel-audit tail: warning: cannot read ${db} again (database disk image is malformed); still following, newer records will show once it can be read (retrying every 25 ms)`;
    const recovered = `otel-audit tail: ${db} can be read again; following it`;
    const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson']);
    await until(() => seqs(tail).length >= 5 || tail.stderr() !== '', 'the first 5 records');
    expect(tail.stderr()).toBe('');
    const fd = fs.openSync(db, 'r+');
    const good = Buffer.alloc(pageSize);
    try {
      fs.readSync(fd, good, 0, pageSize, (root - 1) * pageSize);
      fs.writeSync(fd, Buffer.alloc(pageSize, 0xff), 0, pageSize, (root - 1) * pageSize);
      // A commit elsewhere in the file makes tail's next read take a new snapshot, and read the torn page.
      const other = new Database(db);
      other.exec('CREATE TABLE scratch (x)');
      other.close();
      await until(() => tail.stderr() !== '', 'the warning');
      await new Promise((r) => setTimeout(r, 300)); // a dozen polls that fail
      expect(lines(tail)).toEqual([warning]);
    } finally {
      fs.writeSync(fd, good, 0, pageSize, (root - 1) * pageSize);
      fs.closeSync(fd);
    }
    await until(() => lines(tail).length >= 2, 'the line saying it can read the database again');
    await commitAndSee(db, 2, tail, 7, 'the 2 records committed after');
    const stopped = await tail.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(seqs(tail)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(lines(tail)).toEqual([warning, recovered]);
  });

  it('in place, a database replaced at its path by a file that continues it (moved away, then a copy that went on put there) is said once on stderr and followed: its new records appear once each, none again', async () => {
    const { db } = chainStore(5, { every: 1_000, make: (i) => event(i, nowNanos(-5_000 + i * 100)) });
    const moved = `${db}.rotated`;
    const next = `${db}.next`;
    const warning = `otel-audit tail: warning: cannot read ${db} again (cannot read ${db} (ENOENT)); still following, newer records will show once it can be read (retrying every 25 ms)`;
    const replaced = `otel-audit tail: ${db} was replaced by another file; following the new one, which continues the records shown`;
    const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson']);
    await until(() => seqs(tail).length >= 5 || tail.stderr() !== '', 'the first 5 records');
    expect(tail.stderr()).toBe('');
    // Moved away; for a few polls nothing is at the path. The new file is the old one, gone on by seqs 5-7.
    fs.renameSync(db, moved);
    await until(() => tail.stderr() !== '', 'the warning that the path cannot be read');
    fs.copyFileSync(moved, next);
    const writer = new SqliteAuditStore(next);
    try {
      await appendNow(writer, 3);
    } finally {
      writer.close();
    }
    fs.renameSync(next, db);
    await catchesUpAndStops(tail, db, 'the line saying the file was replaced', [warning, replaced]);
  });

  it('in place, a database replaced by another history (the stream begun again, older than what was shown) is said once on stderr; its newest records appear, then those committed to it, once each', async () => {
    const { db } = chainStore(5, { every: 1_000, make: (i) => event(i, nowNanos(-5_000 + i * 100)) });
    const next = `${db}.next`;
    // Seqs 0-2 again, ten minutes old: behind the watermark, so only shown as the new file's newest records.
    const other = new SqliteAuditStore(next);
    try {
      other.appendSync(seal(new AuditChain({ stream: 'svc/1' }), 3, 1_000, (i) => event(i, nowNanos(-600_000 + i * 100))));
    } finally {
      other.close();
    }
    const tail = startBin(['tail', '--db', db, '-f', '--interval', '25', '--ndjson']);
    await until(() => seqs(tail).length >= 5 || tail.stderr() !== '', 'the first 5 records');
    fs.renameSync(db, `${db}.rotated`);
    fs.renameSync(next, db);
    await until(() => seqs(tail).length >= 8, 'the 3 records of the other file');
    await commitAndSee(db, 2, tail, 10, 'the 2 records committed to it after');
    const stopped = await tail.stop();
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(seqs(tail)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    const ids = tail.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l).record.id as string);
    expect(new Set(ids).size).toBe(10);
    expect(stopped.stderr.split('\n').filter(Boolean)).toEqual([
      `otel-audit tail: ${db} was replaced by another file; following the new one, which does not continue the records shown: its newest records not shown yet come first`,
    ]);
  });
});
