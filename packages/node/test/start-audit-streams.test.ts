/**
 * startAudit without a configured stream id (the default
 * <service.name>/<instance>), its warnings, a locked store, webhooks and
 * limits, and a pipeline without a chain processor.
 */
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { globalErrorHandler } from '@opentelemetry/core';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, audit, auditHealthy, startAudit, type AuditHandle } from '../src/index.js';
import { get, keys, setup, setupEdited, until, verified, withoutStream, within } from './start-audit-fixture.js';

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('startAudit without processors.chain.stream', () => {
  it('starts with the stream <service.name>/<a per-process id>, logs, stops, and the log verifies', async () => {
    const { dir, path } = setupEdited(withoutStream);
    running = await within(startAudit({ path }), 5_000, 'startAudit');
    const receipt = await within(audit.log({ type: 'crud', action: 'view', outcome: 'success' }), 5_000, 'audit.log');
    expect(receipt.stream).toMatch(/^start-test\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(running.processor?.stream).toBe(receipt.stream);
    await within(running.shutdown(), 5_000, 'shutdown');

    const { report, rows } = await verified(join(dir, 'audit.db'));
    expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0 });
    expect(report.streams.map((s) => s.stream)).toEqual([receipt.stream]);
    expect(rows.map((r) => `${r.event_type}/${r.event_action}`)).toEqual(['system/stream_started', 'crud/view', 'system/pipeline_stopped']);
  });

  it('takes the instance part from service.instance.id, so a restart resumes the same stream', async () => {
    const { dir, path } = setupEdited(withoutStream);
    const env = { OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7' };
    running = await within(startAudit({ path, env }), 5_000, 'startAudit');
    expect((await audit.log({ type: 'crud', action: 'view', outcome: 'success' })).stream).toBe('start-test/pod-7');
    await running.shutdown();
    running = await within(startAudit({ path, env }), 5_000, 'startAudit after a restart');
    expect((await audit.log({ type: 'crud', action: 'view', outcome: 'success' })).stream).toBe('start-test/pod-7');
    await running.shutdown();

    const { report, rows } = await verified(join(dir, 'audit.db'));
    expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0 });
    expect(report.streams.map((s) => s.stream)).toEqual(['start-test/pod-7']);
    expect(rows.filter((r) => r.event_type === 'system').map((r) => r.event_action)).toEqual(['stream_started', 'pipeline_stopped', 'pipeline_started', 'pipeline_stopped']);
  });

  it('startup warnings go to options.onWarning when given, and a signed pipeline has none', async () => {
    const { dir } = setup();
    const path = join(dir, 'otel-config.yaml');
    const messages: string[] = [];
    running = await within(startAudit({ path }, { onWarning: (m) => messages.push(m) }), 5_000, 'startAudit');
    expect(messages).toEqual([]);
    await within(running.shutdown(), 5_000, 'shutdown');
    const unsigned = setupEdited((t) => t.replace('    signer_key_file: ./signer.key\n', ''));
    running = await within(startAudit({ path: unsigned.path }, { onWarning: (m) => messages.push(m) }), 5_000, 'startAudit');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^otel-audit: no checkpoint signer key is configured \(processors\.chain\.signer_key_file or signer_key_env in .*\): checkpoints are written unsigned/);
    expect(messages[0]).not.toContain("list chain in the pipeline's processors");
  });

  it('a store another process holds locked is said on stderr (onWarning) once, and so is its recovery; nothing is lost', async () => {
    const { dir, path } = setupEdited((t) => t.replace('sqlite: { path: ./audit.db }', 'sqlite: { path: ./audit.db, busy_timeout: 100ms }'));
    const lines: string[] = [];
    running = await within(startAudit({ path }, { onWarning: (m) => lines.push(m) }), 5_000, 'startAudit');
    await within(audit.log({ type: 'api', action: 'view' }), 5_000, 'audit.log');
    expect(auditHealthy()).toBe(true);
    const other = new Database(join(dir, 'audit.db'));
    other.exec('BEGIN EXCLUSIVE');
    const pending = [1, 2, 3].map((i) => audit.log({ type: 'api', action: 'view', details: { i } }));
    await until(() => lines.some((l) => l.includes('failed (attempt 1)')), 5_000);
    // The fail-closed guards' health: an app on the register hook answers 503 now.
    expect(auditHealthy()).toBe(false);
    other.exec('COMMIT');
    other.close();
    await within(Promise.all(pending), 10_000, 'receipts after the lock');
    await until(() => lines.some((l) => l.includes('recovered after')), 5_000);
    expect(auditHealthy()).toBe(true);
    const failed = lines.filter((l) => l.includes('failed (attempt'));
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0]).toMatch(/^otel-audit: audit sink "[^"]+" failed \(attempt 1\): .*(locked|busy)/i);
    expect(lines.filter((l) => l.includes('recovered after'))).toHaveLength(1);
    await within(running.shutdown(), 5_000, 'shutdown');
    expect(auditHealthy()).toBe(false);
    // After shutdown the global error handler is OpenTelemetry's own again: nothing more reaches onWarning.
    const count = lines.length;
    globalErrorHandler(new Error('after shutdown'));
    expect(lines).toHaveLength(count);
    running = undefined;
    const { report } = await verified(join(dir, 'audit.db'));
    expect(report.ok).toBe(true);
  });

  it('with registerGlobal: false a failing store is said to onWarning too, without a global error handler', async () => {
    const { dir, path } = setupEdited((t) => t.replace('sqlite: { path: ./audit.db }', 'sqlite: { path: ./audit.db, busy_timeout: 100ms }'));
    const lines: string[] = [];
    running = await within(startAudit({ path }, { registerGlobal: false, onWarning: (m) => lines.push(m) }), 5_000, 'startAudit');
    await within(running.audit.log({ type: 'api', action: 'view' }), 5_000, 'audit.log');
    const other = new Database(join(dir, 'audit.db'));
    other.exec('BEGIN EXCLUSIVE');
    const pending = running.audit.log({ type: 'api', action: 'view', details: { locked: true } });
    try {
      await until(() => lines.some((l) => l.includes('failed (attempt 1)')), 5_000);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    await within(pending, 10_000, 'receipt after the lock');
    expect(lines.find((l) => l.includes('failed (attempt 1)'))).toMatch(/^otel-audit: audit sink "[^"]+" failed \(attempt 1\): .*(locked|busy)/i);
    // Nothing was installed globally: an error raised elsewhere does not reach this pipeline's onWarning.
    const count = lines.length;
    globalErrorHandler(new Error('not this pipeline'));
    expect(lines).toHaveLength(count);
  });

  it('a webhook URL outside allowed_urls is refused in the YAML names, with its path; a trailing /** in allowed_urls means the prefix', async () => {
    const hooked = (allowed: string) => setupEdited((t) => t.replace(
      'alerts: { builtins: { failed_logins: 3 } }',
      `alerts: { builtins: { failed_logins: 3 }, notifiers: [{ type: webhook, url: "http://127.0.0.1:9/hooks/audit", allowed_urls: ["${allowed}"], secret_env: HOOK_SECRET }] }`,
    ));
    const env = { ...process.env, HOOK_SECRET: 'h'.repeat(32) };
    const refused = await startAudit({ path: hooked('http://127.0.0.1:9/other').path, env }, { onWarning: () => undefined }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([expect.objectContaining({ path: 'processors.alerts.notifiers[0].url', message: 'not on the allow-list', fix: 'add its prefix to allowed_urls, or correct the URL' })]);
    running = await within(startAudit({ path: hooked('http://127.0.0.1:9/**').path, env }, { onWarning: () => undefined }), 5_000, 'startAudit');
  });

  it('a second start in the same process audits HTTP requests again; of two running pipelines the later one audits HTTP, also after the first stops', async () => {
    const server: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const endpoints = (db: string) => {
      const d = new Database(db, { readonly: true });
      try {
        return (d.prepare("SELECT api_endpoint FROM audit_logs WHERE event_type = 'api' ORDER BY seq").all() as { api_endpoint: string }[]).map((r) => r.api_endpoint);
      } finally {
        d.close();
      }
    };
    try {
      const first = setup().dir;
      running = await within(startAudit({ path: join(first, 'otel-config.yaml') }), 5_000, 'startAudit');
      await get(port, '/api/first');
      await within(running.shutdown(), 5_000, 'shutdown');
      running = await within(startAudit({ path: join(first, 'otel-config.yaml') }), 5_000, 'startAudit again');
      await get(port, '/api/again');
      const other = setup().dir;
      const later = await within(startAudit({ path: join(other, 'otel-config.yaml') }, { registerGlobal: false }), 5_000, 'a second pipeline');
      try {
        await get(port, '/api/both');
        await within(running.shutdown(), 5_000, 'shutdown of the first');
        await get(port, '/api/later');
      } finally {
        await within(later.shutdown(), 5_000, 'shutdown of the second');
      }
      await get(port, '/api/none');
      expect(endpoints(join(first, 'audit.db'))).toEqual(['/api/first', '/api/again']);
      expect(endpoints(join(other, 'audit.db'))).toEqual(['/api/both', '/api/later']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a webhook that fails leaves alert_notify_failed in the chain, outside the request that raised the alert (no trace or request id of it)', async () => {
    let posts = 0;
    const hook: Server = createServer((req, res) => {
      posts++;
      req.resume();
      req.on('end', () => res.writeHead(500).end('down'));
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/audit`;
    const { dir, path } = setupEdited((t) => t.replace(
      'alerts: { builtins: { failed_logins: 3 } }',
      `alerts: { builtins: { failed_logins: 1 }, notifiers: [{ type: webhook, url: "${hookUrl}", secret_env: HOOK_SECRET, max_attempts: 1 }] }`,
    ));
    running = await within(startAudit({ path, env: { ...process.env, HOOK_SECRET: 'h'.repeat(32) } }, { onWarning: () => undefined }), 5_000, 'startAudit');
    // The failed login is logged inside an audited request: the alert it raises is dispatched (and fails) from that request's context.
    const app: Server = createServer((_req, res) => {
      void audit.login({ actor: 'mallory', outcome: 'failure' }).then(() => res.end('no'), () => res.end('no'));
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    try {
      expect(await get((app.address() as AddressInfo).port, '/api/login')).toBe(200);
      const db = new Database(join(dir, 'audit.db'), { readonly: true });
      try {
        await until(() => db.prepare("SELECT 1 FROM audit_logs WHERE event_action = 'alert_notify_failed'").get() !== undefined, 5_000);
      } finally {
        db.close();
      }
    } finally {
      await new Promise<void>((r) => app.close(() => r()));
      await new Promise<void>((r) => hook.close(() => r()));
    }
    await within(running.shutdown(), 5_000, 'shutdown');
    expect(posts).toBe(1);

    const { report } = await verified(join(dir, 'audit.db'));
    expect(report.ok).toBe(true);
    const db = new Database(join(dir, 'audit.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT event_id, event_type, event_action, target_id, trace_id, request_id FROM audit_logs ORDER BY seq').all() as { event_id: string; event_type: string; event_action: string; target_id: string | null; trace_id: string | null; request_id: string | null }[];
      const login = rows.find((r) => r.event_type === 'auth' && r.event_action === 'login')!;
      const alert = rows.find((r) => r.event_type === 'alert' && r.event_action === 'failed_logins')!;
      const failed = rows.find((r) => r.event_action === 'alert_notify_failed')!;
      // The login belongs to the request (its trace and request id)...
      expect(login.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(login.request_id).not.toBeNull();
      // ...the notifier's failure does not: it names the alert, not the request that happened to raise it.
      expect(failed).toMatchObject({ event_type: 'system', trace_id: null, request_id: null });
      expect(failed.target_id).toBe(alert.event_id);
    } finally {
      db.close();
    }
  });

  it('processors.chain.limits raises the size limit of a record, for the explicit API and the processor alike; without it the refusal names the setting', async () => {
    const big = { blob: 'x'.repeat(2_000_000) };
    const { dir } = setup();
    running = await within(startAudit({ path: join(dir, 'otel-config.yaml') }, { onWarning: () => undefined }), 5_000, 'startAudit');
    await expect(audit.log({ type: 'api', action: 'upload', details: big })).rejects.toThrow(/larger than the maxLength limit.*processors\.chain\.limits\.max_length/);
    await within(running.shutdown(), 5_000, 'shutdown');
    const raised = setupEdited((t) => t.replace('    stream: start-test/1\n', '    stream: start-test/1\n    limits: { max_length: 4194304 }\n'));
    running = await within(startAudit({ path: raised.path }, { onWarning: () => undefined }), 5_000, 'startAudit');
    const receipt = await within(audit.log({ type: 'api', action: 'upload', details: big }), 10_000, 'audit.log');
    expect(receipt.seq).toBeGreaterThan(0);
  });

  it('starts without any chain processor in the pipeline, and the log verifies', async () => {
    const { dir, path } = setupEdited((t) => t.replace('processors: [redact, alerts, chain]', 'processors: [redact]'));
    // The unsigned checkpoints are said once at start, in the config's words, on stderr by default.
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      running = await within(startAudit({ path }), 5_000, 'startAudit');
    } finally {
      process.stderr.write = write;
    }
    const warned = written.filter((w) => w.includes('no checkpoint signer key is configured'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain(`in ${path}`);
    expect(warned[0]).toContain('otel-audit keygen --name <service> --out keys');
    expect(warned[0]).toContain("and list chain in the pipeline's processors");
    const receipt = await within(audit.log({ type: 'crud', action: 'view', outcome: 'success' }), 5_000, 'audit.log');
    expect(receipt.stream).toMatch(/^start-test\/[0-9a-f-]{36}$/);
    await within(running.shutdown(), 5_000, 'shutdown');

    const { report, rows } = await verified(join(dir, 'audit.db'), { signed: false });
    expect(report).toMatchObject({ ok: true, errors: 0 });
    // No chain processor, so no signer key: the checkpoints are unsigned, which verification reports as a warning.
    expect(report.streams[0]!.findings.map((f) => f.code)).toEqual(['unsigned_tail']);
    expect(rows.map((r) => `${r.event_type}/${r.event_action}`)).toEqual(['system/stream_started', 'crud/view', 'system/pipeline_stopped']);
  });
});
