/**
 * Alert rules run in each process on that process's records only. Under
 * `node:cluster` every worker has its own engine, so a threshold is met per
 * worker: the cluster review (helper 99, C2) needed 17 failed logins of one
 * account over new connections before `failed_logins` (5) fired with 4
 * workers. A security team must be told: the first worker says so once at
 * start (packages/node/src/internal/switch-offs.ts), a process that is not a
 * cluster worker says nothing. Real processes, real SQLite files.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const NODE_INDEX = pathToFileURL(resolve(import.meta.dirname, '..', '..', 'packages', 'node', 'dist', 'index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-cluster-alerts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(join(dir, 'otel-config.yaml'), `
receivers:
  api: {}
processors:
  alerts: { builtins: { failed_logins: 5 } }
  chain: {}
exporters:
  sqlite: { path: "./audit-\${env:SLOT}.db" }
service:
  pipelines:
    audit: { receivers: [api], processors: [alerts, chain], exporters: [sqlite] }
`);
// Each worker (or the lone process) starts and stops the pipeline; the primary forks two.
writeFileSync(join(dir, 'app.mjs'), `
import cluster from 'node:cluster';
const alone = process.argv[2] === 'alone';
if (cluster.isPrimary && !alone) {
  for (let i = 0; i < 2; i++) cluster.fork({ SLOT: String(i) });
} else {
  const { startAudit } = await import(${JSON.stringify(NODE_INDEX)});
  const handle = await startAudit({ path: 'otel-config.yaml' }, { registerGlobal: false });
  await handle.shutdown();
  // A worker's IPC channel keeps it alive: let it go once done.
  if (cluster.isWorker) cluster.worker.disconnect();
}
`);

async function stderrOf(args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIT_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  env.SLOT = 'alone';
  const { stderr } = await run(process.execPath, ['app.mjs', ...args], { cwd: dir, env, timeout: 30_000 });
  return stderr;
}

describe('alert rules under node:cluster', () => {
  it('the first worker says once that thresholds count per worker, naming the fix', async () => {
    const lines = (await stderrOf([])).split('\n').filter((l) => l.includes('alert rules count per process'));
    expect(lines).toEqual([expect.stringMatching(/^otel-audit: warning: alert rules count per process: this is worker 1 of a node:cluster service, .*up to N×\(T−1\) matching records .*fix: set thresholds to what one worker should see/)]);
  });

  it('a process that is not a cluster worker says nothing of it', async () => {
    expect(await stderrOf(['alone'])).not.toContain('alert rules count per process');
  });
});
