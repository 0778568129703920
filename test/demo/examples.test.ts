/**
 * Issue 6, "examples/": the Express example using the explicit API and the
 * forwarding example, each run as a real child process on loopback. The
 * Express app's records (login outcomes, authorization decisions, changes
 * with before/after values) are read back from its SQLite store and verified
 * with the `otel-audit` command; the forwarding configuration ships to a
 * stand-in collector that appends each OTLP/HTTP JSON request as one line —
 * what the Collector's file exporter writes — and `otel-audit verify` checks
 * that file, intact and then with one record edited. The own-sdk example
 * (otel-audit wired by hand into a NodeSDK) makes its own signing key, and
 * its HTTP and explicit records are checked and verified the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { generateNoteKey } from '@otel-audit/core';
import { main, type Writer } from '@otel-audit/cli';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-examples-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function keys(dir: string): { signer: string; verifier: string } {
  const { signerKey, verifierKey } = generateNoteKey('examples.test/audit');
  const signer = path.join(dir, 'audit.key');
  const verifier = path.join(dir, 'audit.vkey');
  fs.writeFileSync(signer, signerKey, { mode: 0o600 });
  fs.writeFileSync(verifier, verifierKey);
  return { signer, verifier };
}

/** Start `args` in `cwd`; resolves with its base URL once it printed `listening on`. */
async function startApp(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${stderr}`)));
  });
  return { url, child, stderr: () => stderr };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

async function call(url: string, method: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const sink: Writer = { isTTY: false, write: (s: string) => (stdout += s) };
  const code = await main(argv, { stdout: sink, stderr: sink, env: process.env, cwd: REPO });
  return { code, stdout };
}

describe('examples/express-explicit', () => {
  it('records logins, decisions and changes with before/after values, and they verify', async () => {
    const dir = tempDir();
    const { signer, verifier } = keys(dir);
    const db = path.join(dir, 'audit.db');
    const app = await startApp(['app.mjs'], path.join(REPO, 'examples/express-explicit'), { OTEL_AUDIT_DB: db, OTEL_AUDIT_SIGNER_KEY_FILE: signer });
    const carol = await call(`${app.url}/login`, 'POST', { username: 'carol', password: 'carol-demo-password' });
    expect(carol.status).toBe(200);
    expect((await call(`${app.url}/login`, 'POST', { username: 'carol', password: 'wrong' })).status).toBe(401);
    const dave = await call(`${app.url}/login`, 'POST', { username: 'dave', password: 'dave-demo-password' });
    expect((await call(`${app.url}/documents/doc-1`, 'PUT', { classification: 'public' }, String(dave.json!['token']))).status).toBe(403);
    const put = await call(`${app.url}/documents/doc-1`, 'PUT', { classification: 'public' }, String(carol.json!['token']));
    expect(put.status).toBe(200);
    expect(put.json!['audit']).toMatchObject({ seq: expect.any(Number) });
    expect(await stop(app.child), app.stderr()).toBe(0);

    const verified = await cli(['verify', db, '--key', verifier]);
    expect(verified.code, verified.stdout).toBe(0);
    const dump = await cli(['query', '--db', db, '--order', 'oldest', '--ndjson']);
    const records = dump.stdout.trim().split('\n').map((l) => JSON.parse(l) as { record: Record<string, unknown> }).map((r) => r.record ?? r);
    expect(records).toContainEqual(expect.objectContaining({ type: 'auth', action: 'login', outcome: 'failure', details: { reason: 'bad password' } }));
    expect(records).toContainEqual(expect.objectContaining({ type: 'access', action: 'update', outcome: 'failure', details: expect.objectContaining({ decision: 'deny', policy: 'documents.write requires role editor' }) }));
    expect(records).toContainEqual(expect.objectContaining({ type: 'crud', action: 'update', old: { classification: 'internal' }, new: { classification: 'public' } }));
    expect(dump.stdout).not.toContain('carol-demo-password');
  });
});

describe('examples/own-sdk', () => {
  it('audits through a hand-wired NodeSDK: HTTP records of audited routes, explicit login and change records, none for health; they verify', async () => {
    const dir = tempDir();
    const app = await startApp(['--import', './instrumentation.mjs', 'app.mjs'], path.join(REPO, 'examples/own-sdk'), {
      OWN_SDK_OUTPUT: dir, OTEL_AUDIT_SIGNER_KEY_FILE: undefined, OTEL_AUDIT_STREAM: undefined, OTEL_EXPORTER_OTLP_ENDPOINT: '',
    });
    // First run without a key: the example made one in its output directory, the signer owner-only.
    const db = path.join(dir, 'audit.db');
    const verifier = path.join(dir, 'own-sdk.example.vkey');
    expect(fs.statSync(path.join(dir, 'own-sdk.example.key')).mode & 0o077).toBe(0);
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect((await call(`${app.url}/healthz`, 'GET')).status).toBe(200);
    expect((await call(`${app.url}/auth/login`, 'POST', { username: 'alice', password: 'not-her-password' })).status).toBe(401);
    const alice = await call(`${app.url}/auth/login`, 'POST', { username: 'alice', password: 'alice-demo-password' });
    expect(alice.status).toBe(200);
    const token = String(alice.json!['token']);
    // A client asking not to be sampled (`traceparent` flags 00) is audited all the same (AlwaysRecordSampler).
    const unsampled = await fetch(`${app.url}/api/reports`, { headers: { authorization: `Bearer ${token}`, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00' } });
    expect(unsampled.status).toBe(200);
    await unsampled.text();
    const put = await call(`${app.url}/admin/settings/retention_days`, 'PUT', { value: 90 }, token);
    expect(put.status).toBe(200);
    expect(put.json!['audit']).toMatchObject({ seq: expect.any(Number) });
    expect(await stop(app.child), app.stderr()).toBe(0);

    const verified = await cli(['verify', db, '--key', verifier]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/INTACT/);
    expect(verified.stdout).toMatch(/own-sdk\/local\s+sha256/);
    const dump = await cli(['query', '--db', db, '--order', 'oldest', '--ndjson']);
    const records = dump.stdout.trim().split('\n').map((l) => JSON.parse(l) as { record: Record<string, unknown> }).map((r) => r.record);
    // The explicit API: both login outcomes with the actor, the change with old/new.
    expect(records).toContainEqual(expect.objectContaining({ type: 'auth', action: 'login', outcome: 'failure', actor: expect.objectContaining({ id: 'alice' }), details: { reason: 'bad password' } }));
    expect(records).toContainEqual(expect.objectContaining({ type: 'auth', action: 'login', outcome: 'success', actor: expect.objectContaining({ id: 'alice' }), details: { reason: 'password' } }));
    expect(records).toContainEqual(expect.objectContaining({
      type: 'crud', action: 'update', actor: expect.objectContaining({ id: 'alice' }), target: { type: 'setting', id: 'retention_days' }, old: { value: 30 }, new: { value: 90 },
    }));
    // The HTTP policy: one record per audited request (all of them, though the SDK samples 10% of traces), none for /healthz.
    const http = records.filter((r) => (r['request'] as { endpoint?: string } | undefined)?.endpoint !== undefined);
    const endpoints = http.map((r) => `${(r['request'] as { method: string }).method} ${(r['request'] as { endpoint: string }).endpoint} ${String(r['outcome'])}`);
    expect(endpoints.sort()).toEqual(['GET /api/reports success', 'POST /auth/login failure', 'POST /auth/login success', 'PUT /admin/settings/retention_days success']);
    expect(http).toContainEqual(expect.objectContaining({ type: 'api', action: 'view', actor: expect.objectContaining({ id: 'alice' }), details: expect.objectContaining({ route: '/api/reports', status_code: 200 }) }));
    expect(http).toContainEqual(expect.objectContaining({ type: 'admin', action: 'update', target: { type: 'setting', id: 'retention_days' }, details: expect.objectContaining({ route: '/admin/settings/:name' }) }));
    expect(http).toContainEqual(expect.objectContaining({ type: 'auth', action: 'login', outcome: 'success', actor: expect.objectContaining({ id: 'alice' }) }));
    expect(dump.stdout).not.toContain('healthz');
    // The explicit record and the HTTP record of one request share its request id.
    const change = records.find((r) => r['type'] === 'crud')!;
    const adminHttp = http.find((r) => r['type'] === 'admin')!;
    expect((change['request'] as { id: string }).id).toBe((adminHttp['request'] as { id: string }).id);
    // The final checkpoint came after the pipeline_stopped record, so every record is signed for.
    expect(records.at(-1)).toMatchObject({ type: 'system', action: 'pipeline_stopped' });
    // No password anywhere in the database files.
    for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('audit.db'))) {
      const bytes = fs.readFileSync(path.join(dir, f));
      expect(bytes.includes('alice-demo-password'), f).toBe(false);
      expect(bytes.includes('not-her-password'), f).toBe(false);
    }
  });
});

describe('examples/forwarding', () => {
  let collector: Server | undefined;
  afterEach(() => collector?.close());

  it('ships records and checkpoints over OTLP/HTTP JSON; the file-exporter lines verify, and an edit is caught', async () => {
    const dir = tempDir();
    const { signer, verifier } = keys(dir);
    const lines = path.join(dir, 'audit.jsonl');
    collector = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => {
        fs.appendFileSync(lines, `${JSON.stringify(JSON.parse(body))}\n`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector!.listen(0, '127.0.0.1', r));
    const port = (collector.address() as { port: number }).port;
    const app = await startApp(['--import', '@otel-audit/node/register', '../http-service/server.mjs'], path.join(REPO, 'examples/forwarding'), {
      OTEL_AUDIT_CONFIG: 'otel-config.yaml', OTEL_AUDIT_SIGNER_KEY_FILE: signer,
      OTEL_AUDIT_OUTBOX: path.join(dir, 'outbox.db'), OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    });
    expect((await call(`${app.url}/auth/login`, 'POST', { username: 'bob', password: 'nope' })).status).toBe(401);
    const alice = await call(`${app.url}/auth/login`, 'POST', { username: 'alice', password: 'correct-horse-battery-staple' });
    expect((await call(`${app.url}/admin/tools/1`, 'PUT', { enabled: false }, String(alice.json!['token']))).status).toBe(200);
    expect(await stop(app.child), app.stderr()).toBe(0);

    const intact = await cli(['verify', lines, '--key', verifier]);
    expect(intact.code, intact.stdout).toBe(0);
    expect(intact.stdout).toMatch(/http-service\/forwarding\s+sha256\s+\d+/);
    expect(intact.stdout).toMatch(/INTACT/);

    const text = fs.readFileSync(lines, 'utf8');
    expect(text).toContain('\\"reason\\":\\"bad password\\"');
    const edited = path.join(dir, 'edited.jsonl');
    fs.writeFileSync(edited, text.replace('\\"reason\\":\\"bad password\\"', '\\"reason\\":\\"password\\"'));
    const caught = await cli(['verify', edited, '--key', verifier]);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain('hash_mismatch');
  });
});
