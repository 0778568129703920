/**
 * A stream left by a process that was killed (SIGKILL, the OOM killer):
 * with the default per-process stream id nobody resumes it, so the records
 * it committed after its last checkpoint used to stay `unsigned_tail` for
 * ever — and removing them went undetected — and its claim row stayed too.
 * Now the next pipeline started on the host seals it: a
 * `system/stream_abandoned` record and a signed checkpoint, then gives the
 * claim up. Verification then reports the stream intact with no unsigned
 * tail, and cutting its former tail is caught.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Keyring } from '@otel-audit/core';
import { AuditLogRecordProcessor, type AuditProcessorWarning } from '@otel-audit/processor';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { createAuditLogger } from '@otel-audit/instrumentation';
import { KEYS, runCli, writeKeys } from './cli/helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/**
 * A process that writes stream `api/crashed` — its start record and first
 * checkpoint, then 5 committed records with no checkpoint after them — and
 * is SIGKILLed before it can stop. Resolves with its (now dead) pid.
 */
async function crashedWriter(file: string): Promise<number> {
  const script = `
    import { LoggerProvider } from '@opentelemetry/sdk-logs';
    import { AuditLogRecordProcessor } from '@otel-audit/processor';
    import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
    import { createAuditLogger } from '@otel-audit/instrumentation';
    const processor = new AuditLogRecordProcessor({
      stream: 'api/crashed', sinks: [new SqliteAuditStore(process.env.AUDIT_DB)], signerKey: process.env.AUDIT_KEY,
      flushIntervalMillis: 5, checkpointEveryRecords: 1000, checkpointIntervalMillis: 3600000,
    });
    const audit = createAuditLogger({ loggerProvider: new LoggerProvider({ processors: [processor] }) });
    for (let i = 0; i < 5; i++) await audit.log({ type: 'crud', action: 'update', actor: { id: 'alice' }, details: { i } });
    process.stdout.write('committed');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), env: { ...process.env, AUDIT_DB: file, AUDIT_KEY: KEYS.signerKey } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before committing: ${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return child.pid!;
}

function pipeline(file: string, stream: string) {
  const store = new SqliteAuditStore(file);
  const warnings: AuditProcessorWarning[] = [];
  const errors: string[] = [];
  const processor = new AuditLogRecordProcessor({
    stream, sinks: [store], signerKey: KEYS.signerKey, flushIntervalMillis: 5,
    onWarning: (w) => warnings.push(w), onError: (e) => errors.push(e.message),
  });
  const provider = new LoggerProvider({ processors: [processor] });
  const audit = createAuditLogger({ loggerProvider: provider, receiptTimeoutMillis: 5_000 });
  cleanups.push(() => store.close());
  return { store, processor, provider, audit, warnings, errors };
}

async function verify(file: string) {
  const store = new SqliteAuditStore(file, { readOnly: true });
  try {
    return await store.verify({ keyring: Keyring.from([KEYS.verifierKey]) });
  } finally {
    store.close();
  }
}

const claimOf = (file: string, stream: string): unknown => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT value FROM audit_meta WHERE key = ?').pluck().get(`writer:${stream}`);
  } finally {
    db.close();
  }
};

describe('streams left by a killed process', () => {
  it('the next pipeline of the host seals them: stream_abandoned, a signed checkpoint, the claim given up; verification finds no unsigned tail, and a cut tail is caught', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-abandoned-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'audit.db');
    const { vkey } = writeKeys(dir);
    const deadPid = await crashedWriter(file);

    // As the killed process left it: records 1..5 under no checkpoint, its claim kept.
    const before = (await verify(file)).streams.find((s) => s.stream === 'api/crashed')!;
    expect(before.findings.map((f) => f.code)).toEqual(['unsigned_tail']);
    expect(claimOf(file, 'api/crashed')).toMatch(new RegExp(`"pid":${deadPid}`));

    const b = pipeline(file, 'api/next');
    const own = await b.audit.log({ type: 'auth', action: 'login', actor: { id: 'bob' } });
    expect(own.stream).toBe('api/next');
    await vi.waitFor(() => expect(b.warnings.map((w) => w.code)).toContain('streams_abandoned'), { timeout: 5_000 });
    expect(b.warnings.find((w) => w.code === 'streams_abandoned')!.message).toMatch(
      new RegExp(`^otel-audit: sealed 1 stream\\(s\\) left by processes that ended without stopping: "api/crashed" \\(pid ${deadPid} on host ${os.hostname()}, since \\S+, last seq 5\\)`),
    );
    // Given up once the seal is committed, not held until this pipeline stops: a process replacing the dead one may resume it.
    await vi.waitFor(() => expect(claimOf(file, 'api/crashed')).toBeUndefined(), { timeout: 5_000 });
    await b.provider.shutdown();
    expect(b.errors).toEqual([]);

    const report = await verify(file);
    expect(report.ok).toBe(true);
    expect(report.streams.flatMap((s) => s.findings)).toEqual([]);
    const crashed = report.streams.find((s) => s.stream === 'api/crashed')!;
    expect(crashed).toMatchObject({ records: 7, lastSeq: 6 });
    expect(crashed.checkpoints.lastVerifiedSize).toBe(7);
    const cli = await runCli(['verify', file, '--key', vkey]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/INTACT: .*0 errors, 0 warnings/);
    expect(cli.stdout).toMatch(/stream "api\/crashed": seq 0\.\.6, .*vouched for up to seq 6 by the checkpoint/);

    const ro = new SqliteAuditStore(file, { readOnly: true });
    try {
      const sealed = ro.query({ stream: 'api/crashed', eventType: 'system', eventAction: 'stream_abandoned' }).records;
      expect(sealed).toHaveLength(1);
      expect(sealed[0]!.record).toMatchObject({
        seq: 6, outcome: 'failure', severity: 'warning',
        // Records 1..5 had no checkpoint of their writer's: vouched for from here on as the store held them.
        details: { pid: deadPid, host: os.hostname(), since: expect.any(String), last_seq: 5, unsigned_from_seq: 1, adopted_by: { stream: 'api/next', pid: process.pid } },
      });
    } finally {
      ro.close();
    }

    // Nothing is left for the next start.
    const c = pipeline(file, 'api/third');
    await c.processor.ready();
    await c.provider.shutdown();
    expect(c.warnings.filter((w) => w.code === 'streams_abandoned')).toEqual([]);
    expect((await verify(file)).streams.find((s) => s.stream === 'api/crashed')!.records).toBe(7);

    // Cutting the adopted stream's tail now breaks a signed checkpoint.
    const attacker = new Database(file);
    for (const name of attacker.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) attacker.exec(`DROP TRIGGER "${name}"`);
    attacker.prepare("DELETE FROM audit_logs WHERE stream = 'api/crashed' AND seq = (SELECT max(seq) FROM audit_logs WHERE stream = 'api/crashed')").run();
    attacker.close();
    const cut = await verify(file);
    expect(cut.ok).toBe(false);
    expect(cut.streams.find((s) => s.stream === 'api/crashed')!.findings.map((f) => f.code)).toContain('truncated');
    expect((await runCli(['verify', file, '--key', vkey])).code).toBe(1);
  });

  it('a pipeline resuming the killed process\'s own stream id records that its writer ended without stopping, and signs the tail', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-abandoned-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'audit.db');
    const deadPid = await crashedWriter(file);
    const b = pipeline(file, 'api/crashed');
    const own = await b.audit.log({ type: 'auth', action: 'login', actor: { id: 'bob' } });
    expect(own).toMatchObject({ stream: 'api/crashed', seq: 7 });
    await b.provider.shutdown();
    expect(b.warnings.filter((w) => w.code === 'streams_abandoned' || w.code === 'stream_in_use')).toEqual([]);

    const report = await verify(file);
    expect(report.streams.flatMap((s) => s.findings)).toEqual([]);
    const ro = new SqliteAuditStore(file, { readOnly: true });
    try {
      const started = ro.query({ stream: 'api/crashed', eventType: 'system', eventAction: 'pipeline_started' }).records.map((r) => r.record);
      expect(started).toHaveLength(1);
      expect(started[0]).toMatchObject({
        seq: 6,
        details: { resumed_at_seq: 5, pid: process.pid, previous_writer_ended_without_stopping: { pid: deadPid, host: os.hostname(), since: expect.any(String), unsigned_from_seq: 1 } },
      });
    } finally {
      ro.close();
    }
  });

  it('removing the former unsigned tail (records 5 and on) after adoption is caught', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-abandoned-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'audit.db');
    await crashedWriter(file);
    const b = pipeline(file, 'api/next');
    await b.processor.ready();
    await vi.waitFor(() => expect(b.warnings.map((w) => w.code)).toContain('streams_abandoned'), { timeout: 5_000 });
    await b.provider.shutdown();
    expect((await verify(file)).ok).toBe(true);

    const attacker = new Database(file);
    for (const name of attacker.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) attacker.exec(`DROP TRIGGER "${name}"`);
    // Record 5 was the killed process's last, under no checkpoint until the adoption; the chain after it is rewritten too.
    attacker.prepare("DELETE FROM audit_logs WHERE stream = 'api/crashed' AND seq >= 5").run();
    attacker.close();
    const cut = await verify(file);
    expect(cut.ok).toBe(false);
    expect(cut.streams.find((s) => s.stream === 'api/crashed')!.findings.map((f) => f.code)).toContain('truncated');
  });
});
