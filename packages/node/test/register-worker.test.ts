/**
 * The register hook in an app that starts `worker_threads` Workers (DESIGN
 * §1.1, §5), in a real child process: Node runs `--import` again in each
 * Worker; the hook starts a pipeline in the main thread only (a second one
 * in a worker would write the same stream to the same SQLite file, and the
 * two would refuse each other's records), says once on stderr that workers
 * are not audited, and a worker's `audit.log()` rejects with
 * AUDIT_NO_PIPELINE instead of being lost. The main thread's records are all
 * in the one stream, which verifies intact.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterAll, describe, expect, it } from 'vitest';

const APP_DIR = join(import.meta.dirname, 'fixtures', 'worker-app');
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-register-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIT_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

function run(env: Record<string, string>, app = 'app.mjs'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', '@otel-audit/node/register', app], { cwd: APP_DIR, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('node --import @otel-audit/node/register with worker threads', () => {
  it('audits from the main thread only: one pipeline, workers refused with AUDIT_NO_PIPELINE, said once on stderr, the log verifies', async () => {
    writeFileSync(join(dir, 'otel-config.yaml'), `
resource: { service.name: worker-test }
receivers: { api: {} }
processors:
  chain: { stream: worker-test/1, delivery: { batch_size: 10, flush_interval: 20ms } }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [api], processors: [chain], exporters: [sqlite] }
`);
    const r = await run({ OTEL_AUDIT_CONFIG: join(dir, 'otel-config.yaml') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^main ok seq=\d+$/gm)).toHaveLength(5);
    expect(r.stdout.match(/^worker refused AUDIT_NO_PIPELINE$/gm)).toHaveLength(2);
    expect(r.stderr.match(/auditing is not started in worker threads/g)).toHaveLength(1);

    const store = new SqliteAuditStore(join(dir, 'audit.db'));
    try {
      const rows = store.database.prepare('SELECT stream, event_type, event_action, actor_id FROM audit_logs ORDER BY seq').all() as { stream: string; event_type: string; event_action: string; actor_id: string | null }[];
      // One pipeline: one start and one stop record, and every app record is the main thread's.
      expect(rows.filter((x) => x.event_action === 'pipeline_started' || x.event_action === 'stream_started')).toHaveLength(1);
      expect(rows.filter((x) => x.event_action === 'pipeline_stopped')).toHaveLength(1);
      expect(rows.filter((x) => x.event_type === 'app').map((x) => x.actor_id)).toEqual(['main', 'main', 'main', 'main', 'main']);
      expect((await store.verify()).ok).toBe(true);
    } finally {
      store.close();
    }
  });

  it('an eval worker (where Node does not run --import) says the same once on stderr, and its audit.log() rejects with AUDIT_NO_PIPELINE', async () => {
    const sub = join(dir, 'eval');
    mkdirSync(sub);
    writeFileSync(join(sub, 'otel-config.yaml'), `
resource: { service.name: worker-test }
receivers: { api: {} }
processors:
  chain: { stream: worker-test/eval, delivery: { batch_size: 10, flush_interval: 20ms } }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [api], processors: [chain], exporters: [sqlite] }
`);
    const r = await run({ OTEL_AUDIT_CONFIG: join(sub, 'otel-config.yaml') }, 'eval-app.mjs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^main ok seq=\d+$/gm)).toHaveLength(1);
    expect(r.stdout.match(/^eval worker refused AUDIT_NO_PIPELINE$/gm)).toHaveLength(2);
    expect(r.stderr.match(/^otel-audit: auditing is not started in worker threads .*log audit records from the main thread, e\.g\. post the event to it$/gm)).toHaveLength(1);
  });
});
