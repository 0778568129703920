/**
 * A cluster primary stopping its workers (packages/node/src/internal/
 * cluster-primary.ts `stopClusterWorkers`) keeps to its timeout when the wall
 * clock steps meanwhile (an NTP correction, a VM resumed): the deadline is
 * monotonic. Here a worker ignores the request to disconnect and the clock
 * steps back an hour half a second in; the worker is killed at the 1.5 s
 * timeout, not an hour later. A real primary and worker; Date.now is stepped
 * in the primary, timers run on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const PRIMARY = pathToFileURL(join(ROOT, 'packages', 'node', 'dist', 'internal', 'cluster-primary.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'otel-audit-cluster-step-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('kills a worker that does not stop at the timeout even when the wall clock steps back an hour meanwhile', () => {
  const script = join(dir, 'primary.mjs');
  writeFileSync(script, `
import cluster from 'node:cluster';
import { stopClusterWorkers } from ${JSON.stringify(PRIMARY)};
if (cluster.isPrimary) {
  const worker = cluster.fork();
  worker.on('online', async () => {
    const real = Date.now.bind(Date);
    let step = 0;
    Date.now = () => real() + step;
    setTimeout(() => { step = -3_600_000; }, 500);
    const t0 = performance.now();
    const guard = setTimeout(() => { console.log(JSON.stringify({ stillWaitingAfterMillis: Math.round(performance.now() - t0) })); worker.process.kill('SIGKILL'); process.exit(1); }, 6_000);
    await stopClusterWorkers('SIGKILL', 1_500);
    clearTimeout(guard);
    const stoppedAfterMillis = Math.round(performance.now() - t0);
    const signal = worker.isDead() ? worker.process.signalCode : await new Promise((r) => worker.once('exit', (_code, s) => r(s)));
    console.log(JSON.stringify({ stoppedAfterMillis, workerEndedBy: signal }));
    process.exit(0);
  });
} else {
  setInterval(() => {}, 1_000); // a worker whose shutdown never ends
}
`);
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 20_000 });
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  expect(out).toEqual({ stoppedAfterMillis: expect.any(Number), workerEndedBy: 'SIGKILL' });
  expect(out['stoppedAfterMillis']).toBeGreaterThanOrEqual(1_400);
  expect(out['stoppedAfterMillis']).toBeLessThan(3_000);
}, 30_000);
