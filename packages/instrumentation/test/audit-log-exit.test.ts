/**
 * `await audit.log()` as a script's last await, in a real child process
 * (fixtures/awaiting-log-child.ts): while the record waits for a retry of a
 * failing sink, the pipeline's timers are unref'd, so the receipt's own
 * timeout keeps the process alive — the await settles (committed once the
 * sink recovers, or AuditReceiptTimeoutError when it does not) instead of
 * Node ending the process under it (exit 13, nothing written, nothing said).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/awaiting-log-child.ts', import.meta.url));

function runChild(fails: number, timeoutMillis: number): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, String(fails), String(timeoutMillis)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout });
    });
  });
}

describe.concurrent('await audit.log() as a script\'s last await while the sink fails', () => {
  it('settles with the receipt once the sink recovers on a retry, then the process ends', async () => {
    const r = await runChild(2, 10_000);
    expect(r.stdout).toMatch(/^committed seq 1 after \d+ ms$/m); // seq 0 is stream_started
    expect(r.code).toBe(0); // 13: Node ended the process under the unsettled await
  });

  it('rejects with AuditReceiptTimeoutError when the sink never recovers, then the process ends', async () => {
    const r = await runChild(-1, 1_000);
    expect(r.stdout).toMatch(/^rejected AuditReceiptTimeoutError after \d+ ms$/m);
    expect(r.code).toBe(0);
  });
});
