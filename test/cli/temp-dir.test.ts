/**
 * Temporary copies of a database (DESIGN §6 `retention --dry-run`): the
 * copy holds every record, so it is created 0600 in a 0700 directory and
 * removed on every exit path, Ctrl-C included — the built bin is sent
 * SIGINT once its preview copy exists, and the temp dir must be empty
 * after it exits.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, chainStore, event, tempDir, until } from './helpers.js';

/** The files under `dir`, with their modes. */
function listing(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => `${(fs.statSync(path.join(dir, f)).mode & 0o777).toString(8)} ${f}`);
}

describe('retention --dry-run temporary copy', () => {
  it('is 0600 and removed when the process gets SIGINT', async () => {
    // Large enough for the dry run to take a while: the signal comes while it runs.
    const { db } = chainStore(1500, { make: (i) => ({ ...event(i), details: { i, pad: 'x'.repeat(20_000) } }) });
    const tmp = tempDir();
    const child = spawn(process.execPath, [BIN, 'retention', '--db', db, '--dry-run'], { env: { PATH: process.env['PATH'], TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let seen: string[] = [];
    await until(() => (seen = listing(tmp)).some((f) => f.endsWith('preview.db')), 'the preview copy');
    child.kill('SIGINT');
    const { code, signal } = await exited;
    expect(signal ?? code).toBe('SIGINT');
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(seen.filter((f) => f.endsWith('preview.db'))).toEqual([expect.stringMatching(/^600 otel-audit-retention-\w+\/preview\.db$/)]);
  }, 60_000);
});
