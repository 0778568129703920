/**
 * startAudit builds the whole pipeline from a configuration (DESIGN §1, §3,
 * §7): HTTP requests and explicit calls land in a real SQLite file, redacted,
 * chained and covered by a signed final checkpoint that `store.verify()`
 * reports intact; a restart resumes the stream; alerts are sealed in the
 * chain; shutdown is idempotent; `enabled: false` starts nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateNoteKey } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, audit, loadConfig, startAudit, type AuditHandle } from '../src/index.js';
import { get, keys, setup, setupEdited, until, verified, within } from './start-audit-fixture.js';

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('startAudit', () => {
  it('records HTTP requests and explicit calls in SQLite, redacted, with a signed final checkpoint', async () => {
    const { dir } = setup();
    running = await startAudit({ path: join(dir, 'otel-config.yaml') });
    expect(running.store?.path).toBe(join(dir, 'audit.db'));
    const server: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    expect(await get(port, '/api/things/7')).toBe(200);
    expect(await get(port, '/healthz')).toBe(200);
    await new Promise<void>((r) => server.close(() => r()));
    const receipt = await audit.log({ type: 'admin', action: 'update', outcome: 'success', actor: { id: 'alice', type: 'user' }, details: { password: 'hunter2', note: 'rotated' } });
    expect(receipt).toMatchObject({ stream: 'start-test/1', seq: expect.any(Number) });
    await running.shutdown();
    await running.shutdown(); // idempotent

    const { report, rows } = await verified(join(dir, 'audit.db'));
    expect(report.ok).toBe(true);
    expect(report.warnings).toBe(0); // no unsigned tail: the final checkpoint covers everything
    expect(report.streams[0]!.checkpoints.verified).toBeGreaterThanOrEqual(1);
    expect(report.streams[0]!.checkpoints.lastVerifiedSize).toBe(rows.length);
    const kinds = rows.map((r) => `${r.event_type}/${r.event_action}`);
    expect(kinds).toContain('api/view');
    expect(kinds).toContain('admin/update');
    expect(kinds.at(-1)).toBe('system/pipeline_stopped');
    expect(kinds.filter((k) => k.startsWith('http/') || k.includes('healthz'))).toEqual([]);
    const explicit = rows.find((r) => r.event_action === 'update')!;
    expect(JSON.parse(explicit.details!)).toEqual({ password: '[REDACTED]', note: 'rotated' });
  });

  it('after shutdown the exported audit and the handle\'s own refuse instead of waiting, saying the pipeline stopped', async () => {
    const { dir } = setup();
    running = await startAudit({ path: join(dir, 'otel-config.yaml') });
    await running.shutdown();
    await expect(audit.log({ type: 'auth', action: 'login' })).rejects.toMatchObject({ code: 'AUDIT_PIPELINE_STOPPED' });
    await expect(running.audit.log({ type: 'auth', action: 'login' })).rejects.toMatchObject({ code: 'AUDIT_PIPELINE_STOPPED' });
    expect(() => running!.audit.logNowait({ type: 'auth', action: 'login' })).toThrow(/was shut down/);
  });

  it('callers waiting for queue space (overflow block) when the pipeline shuts down are told it stopped (AUDIT_PIPELINE_STOPPED)', async () => {
    const { dir, path } = setupEdited((t) => t
      .replace('sqlite: { path: ./audit.db }', 'sqlite: { path: ./audit.db, busy_timeout: 50ms }')
      .replace('delivery: { batch_size: 10, flush_interval: 20ms }', 'delivery: { batch_size: 10, flush_interval: 20ms, max_queue_size: 2, overflow: block, shutdown_timeout: 300ms }'));
    const lines: string[] = [];
    running = await within(startAudit({ path }, { onWarning: (m) => lines.push(m) }), 5_000, 'startAudit');
    const other = new Database(join(dir, 'audit.db'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      for (let i = 0; i < 3; i++) audit.logNowait({ type: 'api', action: 'view', details: { i } });
      const waiting = [audit.log({ type: 'api', action: 'view', details: { waiting: 1 } }), running.audit.log({ type: 'api', action: 'view', details: { waiting: 2 } })];
      const outcomes = Promise.allSettled(waiting);
      await new Promise((r) => setTimeout(r, 100));
      await within(running.shutdown(), 5_000, 'shutdown');
      const settled = await within(outcomes, 5_000, 'the waiting calls');
      for (const s of settled) {
        expect(s.status).toBe('rejected');
        expect((s as PromiseRejectedResult).reason).toMatchObject({ code: 'AUDIT_PIPELINE_STOPPED' });
      }
    } finally {
      other.exec('COMMIT');
      other.close();
    }
  });

  it('a restart resumes the same stream, and alerts are sealed in the chain', async () => {
    const { dir } = setup();
    const config = loadConfig({ path: join(dir, 'otel-config.yaml') });
    running = await startAudit(config);
    const first = await audit.login({ actor: 'mallory', outcome: 'failure' });
    await running.shutdown();
    running = await startAudit(config);
    for (let i = 0; i < 3; i++) await running.audit.login({ actor: 'mallory', outcome: 'failure' });
    await running.shutdown();

    const { report, rows } = await verified(join(dir, 'audit.db'));
    expect(report.ok).toBe(true);
    expect(report.streams).toHaveLength(1);
    expect(rows.filter((r) => r.seq > first.seq).length).toBeGreaterThan(3);
    expect(rows.some((r) => r.event_type === 'alert' && r.event_action === 'failed_logins')).toBe(true);
    const lifecycle = rows.filter((r) => r.event_type === 'system').map((r) => r.event_action);
    expect(lifecycle).toEqual(['stream_started', 'pipeline_stopped', 'pipeline_started', 'pipeline_stopped']);
  });

  it('AUDIT_LOG_INTEGRITY_CHECKS=true verifies the store at start and records the result', async () => {
    const { dir } = setup();
    running = await startAudit({ path: join(dir, 'otel-config.yaml') });
    await running.verifyOnStart;
    await running.shutdown();
    running = await startAudit({ path: join(dir, 'otel-config.yaml'), env: { AUDIT_LOG_INTEGRITY_CHECKS: 'true' } });
    await running.verifyOnStart;
    await running.shutdown();
    const { rows } = await verified(join(dir, 'audit.db'));
    const check = rows.find((r) => r.event_type === 'system' && r.event_action === 'verify');
    expect(check?.event_result).toBe('success');
    expect(JSON.parse(check!.details!)).toMatchObject({ errors: 0, records: 2 });
  });

  it('after a signer key rotation, verify_on_start trusts the earlier key listed in verifier_keys_file (without it, every start reported a failure)', async () => {
    const { dir } = setup();
    const config = join(dir, 'otel-config.yaml');
    running = await startAudit({ path: config });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    await running.verifyOnStart;
    await running.shutdown();
    const rotated = generateNoteKey('node-test-rotated');
    writeFileSync(join(dir, 'signer.key'), `${rotated.signerKey}\n`);
    const env = { AUDIT_LOG_INTEGRITY_CHECKS: 'true' };
    const lastCheck = async () => {
      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      try {
        return db.prepare("SELECT event_result, details FROM audit_logs WHERE event_type = 'system' AND event_action = 'verify' ORDER BY log_id DESC LIMIT 1").get() as { event_result: string; details: string };
      } finally {
        db.close();
      }
    };
    running = await startAudit({ path: config, env });
    await running.verifyOnStart;
    await running.shutdown();
    expect((await lastCheck()).event_result).toBe('failure');
    expect(JSON.parse((await lastCheck()).details).findings).toHaveProperty('unknown_key');

    writeFileSync(join(dir, 'earlier.vkey'), `# the signer key used until the rotation\n${keys.verifierKey}\n`);
    writeFileSync(config, readFileSync(config, 'utf8').replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db, verifier_keys_file: ./earlier.vkey }'));
    running = await startAudit({ path: config, env });
    await running.verifyOnStart;
    await running.shutdown();
    const check = await lastCheck();
    expect(check.event_result).toBe('success');
    expect(JSON.parse(check.details)).toMatchObject({ errors: 0 });

    writeFileSync(join(dir, 'earlier.vkey'), `${keys.signerKey}\n`);
    const refused = await startAudit({ path: config, env }).then(() => undefined, (e: unknown) => e as Error);
    running = undefined;
    expect(refused?.message).toMatch(/exporters\.sqlite\.verifier_keys_file.*line 1 of "\.\/earlier\.vkey" holds a signer \(private\) key/s);
    expect(refused?.message).not.toContain(keys.signerKey.split('+').slice(4).join('+'));
  });

  it('exporters.otlphttp ships the records to an OTLP/HTTP receiver beside the store', async () => {
    const bodies: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (req.url === '/v1/logs') bodies.push(body);
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const { dir } = setup();
    const text = readFileSync(join(dir, 'otel-config.yaml'), 'utf8')
      .replace('exporters: [sqlite] }', 'exporters: [sqlite, otlphttp] }')
      .replace('  sqlite: { path: ./audit.db }', `  sqlite: { path: ./audit.db }\n  otlphttp: { endpoint: "${url}", protocol: http/json }`);
    writeFileSync(join(dir, 'otel-config.yaml'), text);
    running = await startAudit({ path: join(dir, 'otel-config.yaml') });
    const receipt = await audit.log({ type: 'admin', action: 'delete', outcome: 'success', target: { type: 'tool', id: '9' } });
    for (let i = 0; i < 200 && !bodies.some((b) => b.includes(receipt.id)); i++) await new Promise((r) => setTimeout(r, 25));
    await running.shutdown();
    await new Promise<void>((r) => receiver.close(() => r()));
    expect(bodies.some((b) => b.includes(receipt.id))).toBe(true);
  });

  it('enabled: false starts nothing and audit calls resolve at once', async () => {
    const { dir } = setup('enabled: false\n');
    const warnings: string[] = [];
    running = await startAudit({ path: join(dir, 'otel-config.yaml'), env: {} }, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([`otel-audit: auditing is DISABLED by enabled: false in ${join(dir, 'otel-config.yaml')}: no audit record is written until it is enabled again`]);
    expect(running.enabled).toBe(false);
    expect(running.processor).toBeUndefined();
    expect(await audit.log({ type: 'auth', action: 'login' })).toMatchObject({ stream: 'disabled', seq: -1 });
    expect(existsSync(join(dir, 'audit.db'))).toBe(false);
  });

  it('AUDIT_LOG_ENABLED=false does the same from the environment', async () => {
    const { dir } = setup();
    const warnings: string[] = [];
    running = await startAudit({ path: join(dir, 'otel-config.yaml'), env: { AUDIT_LOG_ENABLED: 'no' } }, { onWarning: (m) => warnings.push(m) });
    expect(running.enabled).toBe(false);
    expect(existsSync(join(dir, 'audit.db'))).toBe(false);
    // Never silently: the operators are told once.
    expect(warnings).toEqual(['otel-audit: auditing is DISABLED by AUDIT_LOG_ENABLED=no: no audit record is written until it is enabled again']);
  });

  it('a broken configuration is refused before anything is opened', async () => {
    const { dir } = setup();
    writeFileSync(join(dir, 'otel-config.yaml'), 'exporters:\n  sqlite: { path: ./audit.db }\nprocessors:\n  chain: { signer_key_file: ./gone.key }\nservice:\n  pipelines:\n    audit: { processors: [chain], exporters: [sqlite] }\n');
    await expect(startAudit({ path: join(dir, 'otel-config.yaml') })).rejects.toBeInstanceOf(ConfigError);
    expect(existsSync(join(dir, 'audit.db'))).toBe(false);
  });
});
