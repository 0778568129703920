/**
 * A script whose last await is on the pipeline, in a real child process
 * (fixtures/awaiting-child.ts), while the primary sink fails its first
 * appends so the commit waits for a retry on an unref'd timer: the await
 * settles with the record committed instead of Node ending the process under
 * it (exit 13, nothing written, nothing said); a shutdown started at
 * `beforeExit` retries until the sink commits or its timeout reports the
 * loss, instead of ending silently. An idle pipeline and
 * fire-and-forget records still never keep the process alive.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KEYS } from '../helpers.js';

const child = fileURLToPath(new URL('../fixtures/awaiting-child.ts', import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the child's "settled" line to its exit (undefined without the line). */
  exitAfterSettledMillis: number | undefined;
}

function runChild(mode: string, fails: number, ...rest: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, mode, String(fails), KEYS.signerKey, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settledAt: number | undefined;
    const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (settledAt === undefined && stdout.includes('settled')) settledAt = Date.now();
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, exitAfterSettledMillis: settledAt === undefined ? undefined : Date.now() - settledAt });
    });
  });
}

describe.concurrent('awaiting the pipeline as a script\'s last await while the primary sink recovers on a retry', () => {
  it.each([
    ['await processor.forceFlush()', 'flush'],
    ['await processor.shutdown()', 'shutdown'],
  ])('%s settles with the record committed, then the process ends at once', async (_, mode) => {
    const r = await runChild(mode, 2);
    expect(r.stdout).toMatch(/^settled \d+ logins 1$/m);
    expect(r.code).toBe(0); // 13: Node ended the process under the unsettled top-level await
    expect(r.exitAfterSettledMillis).toBeLessThan(5_000); // the hold is released once the await settled
  });

  it('a shutdown started at beforeExit (the register hook\'s) gets its retries: the record is committed before the process ends', async () => {
    const r = await runChild('beforeExit', 2);
    expect(r.stdout).toMatch(/^settled \d+ logins 1$/m); // printed at exit
    expect(r.code).toBe(0);
  });

  it('forceFlush also waits through the backoff of a failed head lookup at start', async () => {
    const r = await runChild('flush', 1, 'head');
    expect(r.stderr).toContain('could not read the head');
    expect(r.stdout).toMatch(/^settled \d+ logins 1$/m);
    expect(r.code).toBe(0);
  });

  it('shutdown on a sink that never recovers still ends at its timeout and says what was lost', async () => {
    const r = await runChild('shutdown', 1_000_000);
    const ms = Number(/^settled (\d+) logins 0$/m.exec(r.stdout)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(3_000);
    expect(r.stderr).toMatch(/shutdown after 1500 ms with \d+ record\(s\) not committed .* LOST/);
    expect(r.code).toBe(0);
  });

  it('fire-and-forget records on a failing sink do not keep the process alive', async () => {
    const r = await runChild('nowait', 1_000_000);
    expect(r.stdout).toMatch(/^settled \d+ logins 0$/m);
    expect(r.code).toBe(0);
    expect(r.exitAfterSettledMillis).toBeLessThan(5_000);
  });
});
