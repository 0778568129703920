/**
 * A `node:cluster` service under the register hook, stopped the way
 * systemd (KillMode=control-group, its default), `docker stop` with an init
 * that signals the group, or Ctrl-C in a terminal stop it: SIGTERM to every
 * process of the group at once. Fresh-eyes cluster review (helper report
 * "cluster-review", finding C1).
 *
 * The workers do what docs/operations.md §7 asks of an app: on SIGTERM stop
 * accepting, let the requests in flight finish, then `await shutdownAudit()`.
 * The primary is the plain `cluster.fork()` loop of the Node.js docs, with no
 * signal handler of its own; it is started with the same `--import` (the
 * register hook runs in it too), so the hook handles its SIGTERM: it flushes
 * the primary's (empty) pipeline in a few ms and ends the primary by the
 * signal. Node's cluster worker code then sees the IPC channel close and
 * calls `process.exit(0)` in every worker that is still shutting down
 * (lib/internal/cluster/child.js: an unexpected disconnect exits at once):
 * the request that was being let finish is cut, its record and every record
 * still queued are lost, and the worker's stream ends without
 * `pipeline_stopped` and without a final signed checkpoint (verify: an
 * `unsigned_tail` warning, exit 0).
 *
 * Fixed in the register hook: a cluster primary stopped by a signal first
 * disconnects its workers and waits for them to stop
 * (packages/node/src/internal/cluster-primary.ts). The second case signals
 * the primary alone: before the fix its workers were ended the same way.
 * Real processes, a real SQLite file in a temp dir, loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Keyring, generateNoteKey } from '@otel-audit/core';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const REGISTER = join(ROOT, 'packages', 'node', 'dist', 'register.js');
const NODE_INDEX = pathToFileURL(join(ROOT, 'packages', 'node', 'dist', 'index.js')).href;

const dir = mkdtempSync(join(tmpdir(), 'otel-audit-cluster-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const keys = generateNoteKey('cluster-test.example');
writeFileSync(join(dir, 'audit.key'), `${keys.signerKey}\n`, { mode: 0o600 });
writeFileSync(join(dir, 'otel-config.yaml'), `
resource: { service.name: cluster-test }
receivers:
  http:
    rules:
      - { match: { path: /** }, level: metadata, type: api }
  api: {}
processors:
  chain:
    signer_key_file: ./audit.key
    checkpoint: { every_records: 1000, interval: 10s }
    delivery: { batch_size: 100, flush_interval: 1s }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [http, api], processors: [chain], exporters: [sqlite] }
`);
writeFileSync(join(dir, 'app.mjs'), `
import cluster from 'node:cluster';
import { createServer } from 'node:http';
if (cluster.isPrimary) {
  // The Node.js docs' primary: fork, replace nothing, no signal handling.
  for (let i = 0; i < 2; i++) cluster.fork();
  // An app that replaces every worker that exits, without checking worker.exitedAfterDisconnect.
  if (process.env.REFORK === '1') cluster.on('exit', () => cluster.fork());
} else {
  const { shutdownAudit } = await import(${JSON.stringify(NODE_INDEX)});
  const server = createServer((req, res) => {
    const wait = req.url === '/slow' ? 1500 : 0;
    setTimeout(() => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(String(process.pid)); }, wait);
  });
  server.listen(0, '127.0.0.1', () => console.log('listening ' + process.pid + ' ' + server.address().port));
  // docs/operations.md §7: stop accepting, let the requests finish, then await shutdownAudit().
  process.once('SIGTERM', () => {
    server.close(async () => { await shutdownAudit(); process.exit(0); });
    server.closeIdleConnections();
  });
}
`);

/** GET `path` on a new connection (so the primary hands it to the next worker); status and body, or the error code. */
function get(port: number, path: string): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((done) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode!, body }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, millis: number): Promise<void> {
  const end = Date.now() + millis;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Start the cluster in a fresh copy of the files, send it traffic, SIGTERM
 * the whole group or only the primary while one slow request per worker is
 * in flight, and check what was answered, recorded and verified.
 */
function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch {
    return true;
  }
}

async function stopMidRequest(target: 'group' | 'primary', refork = false): Promise<void> {
  const cwd = mkdtempSync(join(dir, `${target}-`));
  for (const file of ['audit.key', 'otel-config.yaml', 'app.mjs']) copyFileSync(join(dir, file), join(cwd, file));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIT_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  env.OTEL_AUDIT_CONFIG = join(cwd, 'otel-config.yaml');
  if (refork) env.REFORK = '1';
  // detached: its own process group, as under systemd or a container init.
  const primary = spawn(process.execPath, ['--import', REGISTER, 'app.mjs'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(primary);
  let stdout = '';
  let stderr = '';
  primary.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  primary.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const listening = () => [...stdout.matchAll(/listening (\d+) (\d+)/g)];
  await until('two workers listening', () => listening().length === 2, 30_000);
  const workers = listening().map((m) => Number(m[1]));
  const port = Number(listening()[0]![2]);

  // Some ordinary traffic (round-robin over both workers), committed before the stop.
  const fast = await Promise.all(Array.from({ length: 6 }, () => get(port, '/fast')));
  expect(fast.every((r) => r.status === 200)).toBe(true);
  // One slow request per worker in flight, then SIGTERM to the whole group.
  const slow = [get(port, '/slow'), get(port, '/slow')];
  await new Promise((r) => setTimeout(r, 300));
  process.kill(target === 'group' ? -primary.pid! : primary.pid!, 'SIGTERM');
  const signalled = Date.now();
  const slowAnswers = await Promise.all(slow);
  await until('the primary and both workers to exit', () => primary.exitCode !== null || primary.signalCode !== null ? workers.every((p) => !alive(p)) : false, 20_000);
  // Well within a container's grace period (docker stop: 10 s), not the 35 s deadline.
  expect(Date.now() - signalled).toBeLessThan(10_000);
  // Replacements forked during the stop end on their own: wait for every process of the group.
  await until('every process of the group to exit', () => groupGone(primary.pid!), 20_000);

  // The requests let finish by the app were answered (the docs' shutdown promises it)…
  expect(slowAnswers, `stderr:\n${stderr}`).toEqual([{ status: 200, body: expect.any(String) }, { status: 200, body: expect.any(String) }]);

  const store = new SqliteAuditStore(join(cwd, 'audit.db'), { readOnly: true });
  try {
    const all = store.query({ limit: 1000 }).records.map((r) => r.record);
    const http = all.filter((r) => r.request?.endpoint === '/fast' || r.request?.endpoint === '/slow');
    // …and recorded, once each.
    expect(http.filter((r) => r.request?.endpoint === '/fast')).toHaveLength(6);
    expect(http.filter((r) => r.request?.endpoint === '/slow')).toHaveLength(2);
    // Each worker's stream ends with pipeline_stopped.
    for (const pid of workers) {
      const own = all.filter((r) => (r.details as { pid?: number } | undefined)?.pid === pid && r.type === 'system');
      expect(own.map((r) => r.action), `worker ${pid}`).toContain('pipeline_stopped');
    }
    // The store verifies with no unsigned tail: every stream closed by a signed checkpoint.
    const report = await store.verify({ keyring: Keyring.from([keys.verifierKey]) });
    expect(report.ok).toBe(true);
    expect(report.streams.flatMap((s) => s.findings.map((f) => `${s.stream}: ${f.code} ${f.message}`))).toEqual([]);
  } finally {
    store.close();
  }
}

describe('node:cluster service under the register hook, stopped by SIGTERM', () => {
  it('to the process group: every worker finishes its in-flight request, records it, and ends its stream with pipeline_stopped and a signed checkpoint', async () => {
    await stopMidRequest('group');
  });

  it('to the primary only: the workers are disconnected, finish their requests and stop their pipelines before the primary ends', async () => {
    await stopMidRequest('primary');
  });

  it('a primary that forks a replacement for every worker that exits still stops once the workers it had have stopped', async () => {
    await stopMidRequest('primary', true);
  });
});
