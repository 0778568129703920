/**
 * startAudit builds the whole pipeline from a configuration (DESIGN §1, §3,
 * §7): HTTP requests and explicit calls land in a real SQLite file, redacted,
 * chained and covered by a signed final checkpoint that `store.verify()`
 * reports intact; a restart resumes the stream; alerts are sealed in the
 * chain; shutdown is idempotent; `enabled: false` starts nothing.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globalErrorHandler } from '@opentelemetry/core';
import Database from 'better-sqlite3';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, audit, auditHealthy, loadConfig, startAudit, type AuditHandle } from '../src/index.js';

const keys = generateNoteKey('node-test');

function setup(extra = ''): { dir: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-start-'));
  writeFileSync(join(dir, 'signer.key'), `${keys.signerKey}\n`, { mode: 0o600 });
  const text = `
resource: { service.name: start-test }
receivers:
  http:
    rules:
      - { match: { path: /api/** }, level: metadata, type: api }
      - { match: { path: /** }, level: none }
  api: {}
processors:
  redact: { mode: mask }
  alerts: { builtins: { failed_logins: 3 } }
  chain:
    stream: start-test/1
    signer_key_file: ./signer.key
    delivery: { batch_size: 10, flush_interval: 20ms }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [http, api], processors: [redact, alerts, chain], exporters: [sqlite] }
${extra}`;
  writeFileSync(join(dir, 'otel-config.yaml'), text);
  return { dir, text };
}

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function verified(path: string, options: { signed?: boolean } = {}) {
  const store = new SqliteAuditStore(path);
  try {
    const report = await store.verify(options.signed === false ? {} : { keyring: Keyring.from([keys.verifierKey]) });
    const rows = store.database.prepare('SELECT seq, event_type, event_action, event_result, details FROM audit_logs ORDER BY seq').all() as { seq: number; event_type: string; event_action: string; event_result: string; details: string | null }[];
    return { report, rows };
  } finally {
    store.close();
  }
}

/** `promise`, or a failure after `ms`: a regression that hangs fails with a message instead of waiting for the test timeout. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Polls `condition` until it holds, or fails after `ms`. */
async function until(condition: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The setup() config with `edit` applied to its text. */
function setupEdited(edit: (text: string) => string): { dir: string; path: string } {
  const { dir, text } = setup();
  const path = join(dir, 'otel-config.yaml');
  const edited = edit(text);
  expect(edited).not.toBe(text);
  writeFileSync(path, edited);
  return { dir, path };
}

const withoutStream = (text: string) => text.replace('    stream: start-test/1\n', '');

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
    await running.shutdown();
    running = await startAudit({ path: join(dir, 'otel-config.yaml'), env: { AUDIT_LOG_INTEGRITY_CHECKS: 'true' } });
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
    await running.shutdown();
    expect((await lastCheck()).event_result).toBe('failure');
    expect(JSON.parse((await lastCheck()).details).findings).toHaveProperty('unknown_key');

    writeFileSync(join(dir, 'earlier.vkey'), `# the signer key used until the rotation\n${keys.verifierKey}\n`);
    writeFileSync(config, readFileSync(config, 'utf8').replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db, verifier_keys_file: ./earlier.vkey }'));
    running = await startAudit({ path: config, env });
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

describe('startAudit with OTEL_EXPORTER_OTLP_(LOGS_)ENDPOINT', () => {
  /** A loopback OTLP/HTTP receiver that records the path of every request. */
  async function receiver(): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        paths.push(req.url ?? '');
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  /** The request paths the receiver saw for a pipeline [sqlite, otlphttp] started with `env`. */
  async function pathsWith(env: (url: string) => NodeJS.ProcessEnv): Promise<string[]> {
    const r = await receiver();
    try {
      const { path } = setupEdited((t) =>
        t.replace('exporters: [sqlite] }', 'exporters: [sqlite, otlphttp] }').replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db }\n  otlphttp: { endpoint: "http://127.0.0.1:9", protocol: http/json }'),
      );
      running = await startAudit({ path, env: { ...env(r.url) } });
      await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
      for (let i = 0; i < 200 && r.paths.length === 0; i++) await new Promise((res) => setTimeout(res, 25));
      await running.shutdown();
      return [...new Set(r.paths)];
    } finally {
      await r.close();
    }
  }

  it('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is the logs URL as written: nothing is appended', async () => {
    expect(await pathsWith((url) => ({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${url}/custom/logs` }))).toEqual(['/custom/logs']);
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: /v1/logs is appended', async () => {
    expect(await pathsWith((url) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `${url}/base/` }))).toEqual(['/base/v1/logs']);
  });

  it('the logs endpoint wins over the base endpoint', async () => {
    expect(await pathsWith((url) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${url}/ingest` }))).toEqual(['/ingest']);
  });
});

describe('checkpoint.every_seconds (DESIGN §4.3)', () => {
  it('writes a checkpoint that often while the tree grows, however few records came', async () => {
    const { dir, path } = setupEdited((t) => t.replace('    stream: start-test/1\n', '    stream: start-test/1\n    checkpoint: { every_records: 100000, every_seconds: 0.1 }\n'));
    running = await startAudit({ path });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    const db = new Database(join(dir, 'audit.db'), { readonly: true });
    try {
      const checkpoints = () => db.prepare("SELECT count(*) FROM audit_checkpoints WHERE stream = 'start-test/1'").pluck().get() as number;
      const deadline = Date.now() + 5_000;
      while (checkpoints() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(checkpoints()).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('is refused beside interval, which says the same', async () => {
    const { path } = setupEdited((t) => t.replace('    stream: start-test/1\n', '    stream: start-test/1\n    checkpoint: { interval: 5s, every_seconds: 5 }\n'));
    await expect(startAudit({ path })).rejects.toThrow(/processors\.chain\.checkpoint\.every_seconds.*says the same as interval \(5s\).*keep one of interval and every_seconds/s);
  });
});

describe('startAudit after an encryption key rotation', () => {
  const oldKey = Buffer.alloc(32, 3).toString('base64');
  const newKey = Buffer.alloc(32, 4).toString('hex');
  /** The config file at `path` with the store's key id switched from k-old to k-new. */
  const toNewKeyId = (path: string) => {
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('key_id: k-old');
    writeFileSync(path, text.replace('key_id: k-old', 'key_id: k-new'));
  };

  it('opens the store with the new key when the earlier keys are listed (previous_keys_file), and each row stays readable', async () => {
    const { dir, path } = setupEdited((t) => t.replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db, encryption: { enabled: true, key_env: DB_KEY, key_id: k-old } }'));
    running = await startAudit({ path, env: { DB_KEY: oldKey } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success', details: { note: 'sealed-by-old' } });
    await running.shutdown();

    // The new key alone is refused: rows sealed by k-old would become unreadable.
    toNewKeyId(path);
    await expect(startAudit({ path, env: { DB_KEY: newKey } })).rejects.toThrow(/k-old/);
    running = undefined;

    writeFileSync(join(dir, 'previous.keys'), `k-old:${oldKey}\n`, { mode: 0o600 });
    writeFileSync(path, readFileSync(path, 'utf8').replace('key_id: k-new', 'key_id: k-new, previous_keys_file: ./previous.keys'));
    running = await startAudit({ path, env: { DB_KEY: newKey } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success', details: { note: 'sealed-by-new' } });
    await running.shutdown();
    running = undefined;

    const store = new SqliteAuditStore(join(dir, 'audit.db'), {
      readOnly: true,
      encryption: { keyId: 'k-new', key: Buffer.from(newKey, 'hex'), previousKeys: [{ keyId: 'k-old', key: Buffer.from(oldKey, 'base64') }] },
    });
    try {
      const views = store.query({ eventAction: 'view', order: 'oldest' }).records;
      expect(views.map((r) => r.record.details)).toEqual([{ note: 'sealed-by-old' }, { note: 'sealed-by-new' }]);
      const ids = store.database.prepare("SELECT enc_key_id FROM audit_logs WHERE event_action = 'view' ORDER BY log_id").pluck().all();
      expect(ids).toEqual(['k-old', 'k-new']);
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report.ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS lists them too; a bad entry is refused by its position, never shown', async () => {
    const { dir, path } = setupEdited((t) => t.replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db, encryption: { enabled: true, key_env: DB_KEY, key_id: k-old } }'));
    running = await startAudit({ path, env: { DB_KEY: oldKey } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    await running.shutdown();
    running = undefined;
    toNewKeyId(path);

    const bad = 'Zq8-not-a-key-secret';
    const refused = await startAudit({ path, env: { DB_KEY: newKey, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `k-old:${oldKey},${bad}` } }).then(() => undefined, (e: unknown) => e as Error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused!.message).toMatch(/exporters\.sqlite\.encryption\.previous_keys_env.*entry 2 is not a 32-byte key.*AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS/s);
    expect(refused!.message).not.toContain(bad);
    expect(refused!.message).not.toContain(oldKey);

    running = await startAudit({ path, env: { DB_KEY: newKey, AUDIT_LOG_ENCRYPTION_PREVIOUS_KEYS: `k-old:${oldKey}` } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success' });
    await running.shutdown();
    running = undefined;
    const db = new Database(join(dir, 'audit.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT enc_key_id FROM audit_logs WHERE event_action = 'view' ORDER BY log_id").pluck().all()).toEqual(['k-old', 'k-new']);
    } finally {
      db.close();
    }
  });
});

describe('startAudit with two sqlite exporters', () => {
  it('encrypts each store with its own encryption settings', async () => {
    const key = Buffer.alloc(32, 9).toString('base64');
    const { dir, path } = setupEdited((t) =>
      t
        .replace('exporters: [sqlite] }', 'exporters: [sqlite, sqlite/secure] }')
        .replace('  sqlite: { path: ./audit.db }', '  sqlite: { path: ./audit.db }\n  sqlite/secure: { path: ./secure.db, encryption: { enabled: true, key_env: SECURE_DB_KEY, key_id: secure-1 } }'),
    );
    running = await startAudit({ path, env: { SECURE_DB_KEY: key } });
    await audit.log({ type: 'crud', action: 'view', outcome: 'success', details: { note: 'plain-or-sealed' } });
    await running.shutdown();

    const stored = (file: string) => {
      const store = new SqliteAuditStore(join(dir, file), { readOnly: true }); // a writer without the key is refused on an encrypted store
      try {
        return store.database.prepare("SELECT enc_key_id, details FROM audit_logs WHERE event_action = 'view'").get() as { enc_key_id: string | null; details: string };
      } finally {
        store.close();
      }
    };
    expect(stored('audit.db')).toEqual({ enc_key_id: null, details: JSON.stringify({ note: 'plain-or-sealed' }) });
    const secure = stored('secure.db');
    expect(secure.enc_key_id).toBe('secure-1');
    expect(secure.details).not.toContain('plain-or-sealed');
  });
});
