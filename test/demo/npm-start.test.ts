/**
 * Issue 6, "The demo: npm start": runs what `npm start -- --out DIR` runs
 * (`node examples/http-service/demo.mjs --out DIR`) as a real child process
 * from the repository root — the example service under
 * `--import @otel-audit/node/register`, real HTTP traffic, a real SQLite
 * store — and checks what a user sees: exit code 0, the summary table, the
 * intact verification, the three tamperings each caught with its finding,
 * and files in DIR that the `otel-audit` command re-verifies afterwards.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = path.join(REPO, 'packages/cli/bin/otel-audit.js');

async function otelAudit(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, ...args], { cwd: REPO });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '' };
  }
}

describe('npm start (examples/http-service/demo.mjs)', () => {
  let out: string;
  let result: { code: number; stdout: string; stderr: string; millis: number };

  beforeAll(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-audit-demo-'));
    const started = Date.now();
    try {
      const { stdout, stderr } = await run(process.execPath, ['examples/http-service/demo.mjs', '--out', out], { cwd: REPO, timeout: 55_000 });
      result = { code: 0, stdout, stderr, millis: Date.now() - started };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      result = { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '', millis: Date.now() - started };
    }
  }, 60_000);
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('exits 0 well under a minute, with no stack trace', () => {
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.millis).toBeLessThan(45_000);
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(result.stdout).toMatch(/every tampering was caught/);
  });

  it('drives the scripted traffic: failed logins, forbidden calls and a rate-limited burst', () => {
    expect(result.stdout).toMatch(/401 POST\s+\/auth\/login\s+alice, wrong password/);
    expect(result.stdout).toMatch(/403 DELETE \/admin\/tools\/2\s+bob tries to delete/);
    expect(result.stdout).toMatch(/a burst of 8 guesses: 1 × 401, then 7 × 429/);
    expect(result.stdout).not.toMatch(/^\s+! /m);
  });

  it('prints a summary table of what was recorded', () => {
    const summary = result.stdout.slice(result.stdout.indexOf('4. What was recorded'), result.stdout.indexOf('5. otel-audit verify'));
    expect(summary).toMatch(/type\s+action\s+outcome\s+records/);
    expect(summary).toMatch(/auth\s+login\s+failure\s+\d+/);
    expect(summary).toMatch(/access\s+delete\s+failure\s+1/);
    expect(summary).toMatch(/admin\s+update\s+success\s+\d+/);
    expect(summary).toMatch(/security\s+rate_limit\s+failure\s+\d+/);
    // Only the HTTP instrumentation records reads: the register hook patched node:http in this ESM app.
    expect(summary).toMatch(/admin\s+view\s+success\s+\d+/);
    expect(summary).toMatch(/\d+ records in 1 stream\(s\) \(http-service\/demo\), [1-9]\d* signed checkpoint/);
  });

  it('verifies the untouched log as intact and catches each of the three tamperings', () => {
    const verify = result.stdout.slice(result.stdout.indexOf('5. otel-audit verify'), result.stdout.indexOf('6. Tampering'));
    expect(verify).toMatch(/INTACT/);
    expect(verify).toMatch(/exit code 0 \(intact\)/);
    const tamper = result.stdout.slice(result.stdout.indexOf('6. Tampering'), result.stdout.indexOf('7. Explore'));
    for (const finding of ['hash_mismatch', 'seq_gap', 'truncated']) {
      expect(tamper).toMatch(new RegExp(`error\\s+http-service/demo\\s+${finding}`));
      expect(tamper).toContain(`exit code 1: caught (${finding})`);
    }
  });

  it('prints the commands to explore, with the paths it wrote', () => {
    const explore = result.stdout.slice(result.stdout.indexOf('7. Explore'));
    expect(explore).toContain(`npx otel-audit verify ${path.join(out, 'audit.db')} --key ${path.join(out, 'audit.vkey')}`);
    expect(explore).toMatch(/npx otel-audit query --db \S+audit\.db/);
    expect(explore).toMatch(/npx otel-audit serve --db \S+audit\.db/);
  });

  it('leaves a database, a verifier key and a 0600 signer key that `otel-audit verify` re-checks', async () => {
    expect((fs.statSync(path.join(out, 'audit.key')).mode & 0o777).toString(8)).toBe('600');
    expect(fs.readFileSync(path.join(out, 'audit.vkey'), 'utf8')).toMatch(/^http-service\.demo\.otel-audit\/checkpoints\+[0-9a-f]{8}\+/);
    const intact = await otelAudit(['verify', path.join(out, 'audit.db'), '--key', path.join(out, 'audit.vkey')]);
    expect(intact.code, intact.stdout).toBe(0);
    expect(intact.stdout).toMatch(/INTACT/);
    const edited = await otelAudit(['verify', path.join(out, 'tampered', 'edited.db'), '--key', path.join(out, 'audit.vkey')]);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain('hash_mismatch');
  });

  it('never lets a password reach the log', async () => {
    const dump = await otelAudit(['query', '--db', path.join(out, 'audit.db'), '--limit', '1000', '--ndjson']);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('"bad password"');
    for (const secret of ['correct-horse-battery-staple', 'tr0ub4dor&3', 'password123', 'guess-0']) expect(dump.stdout).not.toContain(secret);
  });
});
