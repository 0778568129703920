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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from './support/run-node.js';

const APP_DIR = join(import.meta.dirname, 'fixtures', 'worker-app');
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-register-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An otel-config.yaml in `folder`: the API receiver into stream `stream` of ./audit.db; its path. */
function configIn(folder: string, stream: string): string {
  const file = join(folder, 'otel-config.yaml');
  writeFileSync(file, `
resource: { service.name: worker-test }
receivers: { api: {} }
processors:
  chain: { stream: ${stream}, delivery: { batch_size: 10, flush_interval: 20ms } }
exporters:
  sqlite: { path: ./audit.db }
service:
  pipelines:
    audit: { receivers: [api], processors: [chain], exporters: [sqlite] }
`);
  return file;
}

const run = (env: Record<string, string>, app = 'app.mjs') => runNode(['--import', '@otel-audit/node/register', app], APP_DIR, env);

describe('node --import @otel-audit/node/register with worker threads', () => {
  it('audits from the main thread only: one pipeline, workers refused with AUDIT_NO_PIPELINE, said once on stderr, the log verifies', async () => {
    const r = await run({ OTEL_AUDIT_CONFIG: configIn(dir, 'worker-test/1') });
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
    const r = await run({ OTEL_AUDIT_CONFIG: configIn(sub, 'worker-test/eval') }, 'eval-app.mjs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/^main ok seq=\d+$/gm)).toHaveLength(1);
    expect(r.stdout.match(/^eval worker refused AUDIT_NO_PIPELINE$/gm)).toHaveLength(2);
    expect(r.stderr.match(/^otel-audit: auditing is not started in worker threads .*log audit records from the main thread, e\.g\. post the event to it$/gm)).toHaveLength(1);
  });
});
