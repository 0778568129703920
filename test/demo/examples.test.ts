/**
 * Issue 6, "examples/": the Express example using the explicit API and the
 * forwarding example, each run as a real child process on loopback. The
 * Express app's records (login outcomes, authorization decisions, changes
 * with before/after values) are read back from its SQLite store and verified
 * with the `otel-audit` command; the forwarding configuration ships to a
 * stand-in collector that appends each OTLP/HTTP JSON request as one line —
 * what the Collector's file exporter writes — and `otel-audit verify` checks
 * that file, intact and then with one record edited.
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
