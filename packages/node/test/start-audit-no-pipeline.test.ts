/**
 * An app started without the register hook (plain `node app.mjs`), in a real
 * child process: no audit pipeline runs, so the fail_closed guard
 * (`health: auditHealthy`) answers 503 on every audited route — failing
 * closed is right — and says once on stderr why, with the fix, instead of
 * nothing (the AuditPipelineMissingError that names the fix is never
 * reached: the guard answers before any handler runs).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const APP_DIR = join(import.meta.dirname, 'fixtures', 'no-hook-app');
const BODY = '{"error":"audit_unavailable","message":"the audit log is unavailable; retry later"}';

function run(framework: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDIT_') && !k.startsWith('OTEL_') && k !== 'NODE_OPTIONS') env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['app.mjs', framework], { cwd: APP_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('fail_closed without an audit pipeline (no --import @otel-audit/node/register)', () => {
  it.each(['express', 'fastify'])('%s: audited routes answer 503, and stderr says once that no pipeline was started and how to start one', async (framework) => {
    const r = await run(framework);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `/api/items/1 503 ${BODY}`,
      `/api/items/2 503 ${BODY}`,
      `/api/items/3 503 ${BODY}`,
      '/public 200 hello',
    ]);
    const lines = r.stderr.split('\n').filter((l) => l.includes('no audit pipeline was started'));
    expect(lines).toEqual([
      'otel-audit: no audit pipeline was started in this process, so audited routes answer 503 (fail_closed): '
        + 'start the app with `node --import @otel-audit/node/register app.js`, or call startAudit() before serving',
    ]);
  }, 40_000);
});
