/**
 * `await audit.log()` as a script's last await, in a real child process
 * (fixtures/awaiting-log-child.ts): while the record waits for a retry of a
 * failing sink, the pipeline's timers are unref'd, so the receipt's own
 * timeout keeps the process alive — the await settles (committed once the
 * sink recovers, or AuditReceiptTimeoutError when it does not) instead of
 * Node ending the process under it (exit 13, nothing written, nothing said).
 * The same holds when the queue is full (overflow `block`) and the call
 * first waits for queue space: that wait is held by the same timer and
 * counts against the same timeout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./fixtures/awaiting-log-child.ts', import.meta.url));

function runChild(fails: number, timeoutMillis: number, full = false): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, String(fails), String(timeoutMillis), full ? '1' : '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
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

  it('under overflow block with a full queue: waits for space, then settles with the receipt once the sink recovers', async () => {
    const r = await runChild(3, 10_000, true);
    expect(r.stdout).toMatch(/^queue full$/m);
    expect(r.stdout).toMatch(/^committed seq \d+ after \d+ ms$/m);
    expect(r.code).toBe(0); // 13: the wait for queue space held nothing alive
  });

  it('under overflow block with a full queue that never drains: rejects with AuditReceiptTimeoutError after the receipt timeout', async () => {
    const r = await runChild(-1, 1_000, true);
    expect(r.stdout).toMatch(/^queue full$/m);
    const m = /^rejected AuditReceiptTimeoutError after (\d+) ms$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(3_000); // the capacity wait counts against receiptTimeoutMillis
    expect(r.code).toBe(0);
  });
});
