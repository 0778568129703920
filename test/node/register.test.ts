/**
 * `node --import @otel-audit/node/register` on a real child-process service
 * (DESIGN §1.1, §3, §7): an ESM app (`import http from 'node:http'`) and a
 * CommonJS app (`require('node:http')`) serve HTTP on 127.0.0.1:0; after
 * requests and SIGTERM, the SQLite file holds the HTTP records and the
 * explicit audit.login record, ends with the final checkpoint and verifies
 * intact. An app with its own SIGTERM handler owns shutdown: the pipeline
 * keeps recording after the signal and stops when the app is done. A
 * signal-exit style library does not keep the process alive, and a second
 * SIGTERM ends a shutdown that is stuck on a locked store. A broken
 * configuration stops the process with exit code 1 and the problems on
 * stderr before the app runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const keys = generateNoteKey('register-e2e');

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIT_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];
afterEach(() => {
  // A test that failed must not leave its service running.
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function run(app: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', '@otel-audit/node/register', app], { cwd: FIXTURES, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function portOf(r: Run): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < 15_000) {
    const m = /LISTENING (\d+)/.exec(r.stdout());
    if (m) return Number(m[1]);
    if (r.child.exitCode !== null) throw new Error(`child exited early: ${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`child did not listen: ${r.stderr()}`);
}

/** `promise`, or a failure after `ms`: a process that never ends fails the test with a message. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** A temp dir with the signer key, and the env the fixture configs read. */
function prepare(): { db: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'otel-audit-register-'));
  writeFileSync(join(dir, 'signer.key'), keys.signerKey);
  const db = join(dir, 'audit.db');
  return { db, env: { OTEL_AUDIT_CONFIG: './otel-config.yaml', E2E_SIGNER_KEY_FILE: join(dir, 'signer.key'), E2E_DB: db } };
}

/** The rows of the log, after checking that it verifies intact with a final checkpoint covering every record. */
async function verifiedRows(db: string): Promise<Record<string, unknown>[]> {
  const store = new SqliteAuditStore(db);
  try {
    const rows = store.database.prepare('SELECT seq, event_type, event_action, request_id, details FROM audit_logs ORDER BY seq').all() as Record<string, unknown>[];
    const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
    expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0, records: rows.length });
    expect(rows.at(-1)).toMatchObject({ event_type: 'system', event_action: 'pipeline_stopped' });
    expect(store.database.prepare('SELECT MAX(size) AS size FROM audit_checkpoints').get()).toEqual({ size: rows.length });
    return rows;
  } finally {
    store.close();
  }
}

function send(port: number, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { 'x-request-id': `e2e-${method}-${path}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(['app.mjs', 'app.cjs'])('register hook on %s', (app) => {
  it('audits HTTP and explicit calls, and SIGTERM leaves a verified, checkpointed log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-register-'));
    writeFileSync(join(dir, 'signer.key'), keys.signerKey);
    const db = join(dir, 'audit.db');
    const r = run(app, { OTEL_AUDIT_CONFIG: './otel-config.yaml', E2E_SIGNER_KEY_FILE: join(dir, 'signer.key'), E2E_DB: db });
    const port = await portOf(r);
    expect(await send(port, 'GET', '/api/tools/3')).toBe(200);
    expect(await send(port, 'POST', '/auth/login')).toBe(401);
    expect(await send(port, 'GET', '/healthz')).toBe(200);
    r.child.kill('SIGTERM');
    const exit = await r.exit;
    expect(exit.signal ?? exit.code).toBe('SIGTERM');

    const store = new SqliteAuditStore(db);
    try {
      const rows = store.database.prepare('SELECT seq, event_type, event_action, event_result, request_id, api_endpoint FROM audit_logs ORDER BY seq').all() as Record<string, unknown>[];
      expect(rows).toContainEqual(expect.objectContaining({ event_type: 'api', event_action: 'view', event_result: 'success', request_id: 'e2e-GET-/api/tools/3', api_endpoint: '/api/tools/3' }));
      expect(rows).toContainEqual(expect.objectContaining({ event_type: 'auth', event_action: 'login', event_result: 'failure', request_id: 'e2e-POST-/auth/login' }));
      // the explicit audit.login() inside the handler: the request's id too, without the HTTP-level endpoint
      expect(rows.filter((x) => x.event_type === 'auth' && x.request_id === 'e2e-POST-/auth/login').map((x) => x.api_endpoint ?? null).sort()).toEqual(['/auth/login', null]);
      expect(rows.some((x) => x.api_endpoint === '/healthz')).toBe(false);
      expect(rows.at(-1)).toMatchObject({ event_type: 'system', event_action: 'pipeline_stopped' });
      const checkpoint = store.database.prepare('SELECT MAX(size) AS size FROM audit_checkpoints').get() as { size: number };
      expect(checkpoint.size).toBe(rows.length);
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report).toMatchObject({ ok: true, errors: 0, warnings: 0, records: rows.length });
    } finally {
      store.close();
    }
  });
});

describe('register hook with an app that handles SIGTERM itself', () => {
  it('flushes and checkpoints, and lets the app end the process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-register-'));
    writeFileSync(join(dir, 'signer.key'), keys.signerKey);
    const db = join(dir, 'audit.db');
    const r = run('app-own-signal.mjs', { OTEL_AUDIT_CONFIG: './otel-config.yaml', E2E_SIGNER_KEY_FILE: join(dir, 'signer.key'), E2E_DB: db });
    const port = await portOf(r);
    expect(await send(port, 'GET', '/api/own')).toBe(200);
    r.child.kill('SIGTERM');
    expect(await r.exit).toEqual({ code: 0, signal: null });
    expect(r.stdout()).toContain('APP SIGTERM');
    const store = new SqliteAuditStore(db);
    try {
      const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
      expect(report).toMatchObject({ ok: true, warnings: 0 });
      expect(store.database.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE request_id = 'e2e-GET-/api/own'").get()).toEqual({ n: 1 });
    } finally {
      store.close();
    }
  });
});

describe('register hook with an app that keeps serving after SIGTERM', () => {
  it('keeps auditing after the signal, stops the pipeline when the app is done, and the process ends by itself', async () => {
    const { db, env } = prepare();
    const r = run('app-keeps-serving.mjs', env);
    const port = await portOf(r);
    expect(await send(port, 'POST', '/api/record')).toBe(200);
    r.child.kill('SIGTERM');
    await until(() => r.stdout().includes('APP SIGTERM'), 'the app seeing SIGTERM');
    await sleep(300); // long enough for a pipeline that (wrongly) stops at the signal to have stopped
    for (let i = 0; i < 3; i++) expect(await send(port, 'POST', '/api/record')).toBe(200);
    expect(await send(port, 'GET', '/api/after-signal')).toBe(200);
    expect(await send(port, 'GET', '/close')).toBe(200);
    expect(await within(r.exit, 15_000, 'the process ending by itself')).toEqual({ code: 0, signal: null });

    const rows = await verifiedRows(db);
    const explicit = rows.filter((x) => x.event_type === 'admin').map((x) => JSON.parse(x.details as string) as { after_sigterm: boolean });
    expect(explicit).toEqual([{ after_sigterm: false }, { after_sigterm: true }, { after_sigterm: true }, { after_sigterm: true }]);
    expect(rows.filter((x) => x.request_id === 'e2e-GET-/api/after-signal')).toHaveLength(1);
    expect(rows.filter((x) => x.event_action === 'pipeline_stopped')).toHaveLength(1);
  });
});

describe('register hook with a signal-exit style onExit and no signal handler of its own', () => {
  it('flushes, runs the onExit callbacks and ends the process by SIGTERM', async () => {
    const { db, env } = prepare();
    const r = run('app-signal-exit.mjs', env);
    const port = await portOf(r);
    expect(await send(port, 'GET', '/api/before-exit')).toBe(200);
    r.child.kill('SIGTERM');
    const exit = await within(r.exit, 15_000, 'the process ending');
    expect(exit.signal ?? exit.code).toBe('SIGTERM');
    expect(r.stdout()).toContain('ONEXIT null SIGTERM');
    const rows = await verifiedRows(db);
    expect(rows.filter((x) => x.request_id === 'e2e-GET-/api/before-exit')).toHaveLength(1);
  });
});

describe('register hook shutting down on a store that stays locked', () => {
  it('a second SIGTERM ends the process without waiting for the shutdown timeout', async () => {
    const { db, env } = prepare();
    const r = run('app.mjs', { ...env, OTEL_AUDIT_CONFIG: './otel-config-slow-store.yaml' });
    const port = await portOf(r);
    expect(await send(port, 'GET', '/api/first')).toBe(200);
    const holder = new SqliteAuditStore(db);
    try {
      holder.database.exec('BEGIN EXCLUSIVE'); // the child's writes now fail and are retried
      expect(await send(port, 'GET', '/api/while-locked')).toBe(200);
      r.child.kill('SIGTERM');
      await sleep(1_000);
      expect(r.child.exitCode).toBeNull(); // the shutdown is waiting for the store (up to 30 s)
      r.child.kill('SIGTERM');
      const exit = await within(r.exit, 5_000, 'the forced exit after a second SIGTERM');
      expect(exit.signal ?? exit.code).toBe('SIGTERM');
    } finally {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      holder.database.exec('ROLLBACK');
      holder.close();
    }
  });
});

describe('register hook with a broken configuration', () => {
  it('exits 1 with every problem on stderr before the app starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otel-audit-register-'));
    const r = run('app.mjs', { OTEL_AUDIT_CONFIG: './broken-config.yaml', E2E_DB: join(dir, 'audit.db') });
    const exit = await r.exit;
    expect(exit.code).toBe(1);
    expect(r.stdout()).not.toContain('LISTENING');
    expect(r.stderr()).toContain('receivers.http.rules (line 5): has no catch-all rule');
    expect(r.stderr()).toContain('processors.chain.signer_key_file (line 8): file "./does-not-exist.key" does not exist');
    expect(r.stderr()).toContain('run `otel-audit keygen --name does-not-exist --out .` in the config file\'s directory (it writes ./does-not-exist.key), or fix the path');
  });
});
