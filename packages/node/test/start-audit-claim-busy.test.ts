/**
 * The claim of the stream at start (processor's stream opener) when
 * another process holds the store's write lock for a while: the claim waits
 * for the lock, with backoff, instead of giving up at once — a stream
 * written unclaimed would let a second writer of it go undetected.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startAudit, type AuditHandle } from '../src/index.js';
import { setup, within } from './start-audit-fixture.js';
import { runNode } from './support/run-node.js';

const handles: AuditHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.shutdown();
});

/**
 * A store with its tables (started once, then given up: the next start
 * claims the stream anew), write-locked by another connection for `millis`
 * — longer than a write's busy timeout (250 ms), so a claim's first attempt
 * fails with SQLITE_BUSY.
 */
async function storeLockedFor(millis: number): Promise<{ dir: string; path: string; release: Promise<void> }> {
  const { dir } = setup();
  const path = join(dir, 'otel-config.yaml');
  const first = await within(startAudit({ path }, { registerGlobal: false }), 5_000, 'startAudit');
  await first.shutdown();
  const other = new Database(join(dir, 'audit.db'));
  other.exec('BEGIN IMMEDIATE');
  const release = new Promise<void>((resolve) => setTimeout(() => {
    other.exec('COMMIT');
    other.close();
    resolve();
  }, millis));
  return { dir, path, release };
}

describe('startAudit while another process holds the store write-locked', () => {
  it('claims the stream once the lock is released, so a second pipeline on the same stream is told it is in use', async () => {
    const { path, release } = await storeLockedFor(700);
    const lines: string[] = [];
    handles.push(await within(startAudit({ path }, { registerGlobal: false, onWarning: (m) => lines.push(m) }), 15_000, 'startAudit under a lock'));
    await release;
    expect(lines.filter((l) => /unclaimed/.test(l))).toEqual([]);

    const second: string[] = [];
    handles.push(await within(startAudit({ path }, { registerGlobal: false, onWarning: (m) => second.push(m) }), 5_000, 'a second startAudit'));
    expect(second.some((l) => /stream "start-test\/1" is being written by another pipeline/.test(l)), second.join('\n')).toBe(true);
  }, 30_000);

  it('keeps a service whose first await is startAudit running while the claim waits, instead of ending it silently with exit code 0', async () => {
    const { dir, path, release } = await storeLockedFor(1_500);
    try {
      // The built package (a child process runs dist): nothing but startAudit keeps this script alive.
      const entry = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
      const script = `import { startAudit } from ${JSON.stringify(entry)};
        const handle = await startAudit({ path: ${JSON.stringify(path)} }, { registerGlobal: false });
        console.log('started');
        await handle.shutdown();
        console.log('stopped');`;
      const run = await runNode(['--input-type=module', '-e', script], dir);
      expect({ code: run.code, stdout: run.stdout.trim().split('\n') }, run.stderr).toEqual({ code: 0, stdout: ['started', 'stopped'] });
    } finally {
      await release;
    }
  }, 30_000);
});
