/**
 * An app started without the register hook (plain `node app.mjs`), in a real
 * child process: no audit pipeline runs, so the fail_closed guard
 * (`health: auditHealthy`) answers 503 on every audited route — failing
 * closed is right — and says once on stderr why, with the fix, instead of
 * nothing (the AuditPipelineMissingError that names the fix is never
 * reached: the guard answers before any handler runs).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from './support/run-node.js';

const APP_DIR = join(import.meta.dirname, 'fixtures', 'no-hook-app');
const BODY = '{"error":"audit_unavailable","message":"the audit log is unavailable; retry later"}';

const run = (framework: string) => runNode(['app.mjs', framework], APP_DIR);

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
