/**
 * Output on a full disk (DESIGN §7: exit 2 means could not run): records
 * redirected to a file that cannot take them all — stdout on /dev/full
 * (every write fails with ENOSPC) or on a file past the size limit of
 * `ulimit -f` (a real short write, then EFBIG, as on a nearly full disk) —
 * end with a message naming the reason and exit 2, never with exit 0 and a
 * cut file nor with a stack trace; `--out` files say which file and what
 * to do. A reader that goes away (`| head`) still ends the command quietly.
 * The built bin runs as a child process with its stdout opened by the test.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, chainStore, runCli, writeKeys, type CliRun } from './helpers.js';

const HAS_DEV_FULL = fs.existsSync('/dev/full');

/** Runs the bin with stdout written to `outFile` (opened for writing, not created), and `ulimit -f` blocks when given. */
function binTo(outFile: string, argv: string[], fileLimitBlocks?: number): CliRun {
  const fd = fs.openSync(outFile, fs.existsSync(outFile) ? 'w' : 'wx');
  try {
    const [cmd, args] = fileLimitBlocks === undefined
      ? [process.execPath, [BIN, ...argv]]
      : ['/bin/sh', ['-c', `ulimit -f ${fileLimitBlocks} && exec "$@"`, 'sh', process.execPath, BIN, ...argv]];
    const run = spawnSync(cmd, args, { stdio: ['ignore', fd, 'pipe'], env: { PATH: process.env['PATH'] }, encoding: 'utf8' });
    if (run.error) throw run.error;
    return { code: run.status ?? -1, stdout: '', stderr: run.stderr };
  } finally {
    fs.closeSync(fd);
  }
}

/** `ulimit -f` blocks (KiB in bash, 512 bytes in dash): above SQLite's 32 KiB shared-memory file, below the output. */
const LIMIT = 128;

/** 400 records (about 280 KB as NDJSON) archived and purged into archive 1 by `retention --apply`. */
async function archivedStore(): Promise<{ dir: string; db: string; vkey: string }> {
  const { dir, db } = chainStore(400);
  const { key, vkey } = writeKeys(dir);
  const apply = await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--json', '--trust-clock']);
  expect(apply.code, apply.stderr).toBe(0);
  return { dir, db, vkey };
}

describe('otel-audit output on a full disk', () => {
  it('query --json cut short by the file size limit (a short write, then EFBIG) exits 2 saying the output is incomplete', () => {
    const { dir, db } = chainStore(1000);
    const out = path.join(dir, 'q.json');
    const run = binTo(out, ['query', '--db', db, '--json', '-n', '1000'], LIMIT);
    expect(run.stderr).toBe('otel-audit query: writing standard output failed: file too large; the output is incomplete\n'
      + '  fix: standard output goes to a file larger than this process may write (ulimit -f): raise the limit or redirect the output elsewhere, then run the command again\n');
    expect(run.code).toBe(2);
    expect(fs.statSync(out).size).toBeGreaterThan(0); // the short write did land: the file is cut, and the command says so
  });

  it.skipIf(!HAS_DEV_FULL)('query --json, export and archives --read on /dev/full exit 2 naming ENOSPC, with no stack trace and no "verified" line', async () => {
    const { db: archived, vkey } = await archivedStore();
    const { db } = chainStore(30);
    const enospc = 'writing standard output failed: no space left on device; the output is incomplete\n'
      + '  fix: free space on the filesystem standard output is redirected to, or redirect it elsewhere, then run the command again\n';
    const query = binTo('/dev/full', ['query', '--db', db, '--json']);
    expect(query.stderr).toBe(`otel-audit query: ${enospc}`);
    expect(query.code).toBe(2);
    const exported = binTo('/dev/full', ['export', '--db', db, '--format', 'ndjson']);
    expect(exported.stderr).toBe(`otel-audit export: ${enospc}`);
    expect(exported.code).toBe(2);
    const archive = binTo('/dev/full', ['archives', '--db', archived, '--read', '1', '--key', vkey, '--ndjson']);
    expect(archive.stderr).toBe(`otel-audit archives: ${enospc}`);
    expect(archive.code).toBe(2);
  });

  it('a reader that goes away (| head) still ends the command quietly with exit 0', async () => {
    const { db } = chainStore(400);
    const child = spawn(process.execPath, [BIN, 'query', '--db', db, '--ndjson', '-n', '1000'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('export --out and archives --out past the file size limit name the file and the fix, and leave no partial file', async () => {
    const { dir, db, vkey } = await archivedStore();
    const more = chainStore(1000);
    const exportOut = path.join(dir, 'export.ndjson');
    const exported = binTo(path.join(dir, 'stdout.txt'), ['export', '--db', more.db, '--format', 'ndjson', '--out', exportOut], LIMIT);
    expect(exported.stderr).toBe(`otel-audit export: cannot write ${exportOut}: file too large (EFBIG); the partial file was removed\n`
      + `  fix: ${exportOut} grew past the size this process may write (ulimit -f): raise the limit or choose another --out, then run the command again\n`);
    expect(exported.code).toBe(2);
    expect(fs.existsSync(exportOut)).toBe(false);

    const archiveOut = path.join(dir, 'archive-1.ndjson');
    const archive = binTo(path.join(dir, 'stdout2.txt'), ['archives', '--db', db, '--read', '1', '--key', vkey, '--out', archiveOut], LIMIT);
    expect(archive.stderr).toBe(`otel-audit archives: cannot write ${archiveOut}: file too large (EFBIG); the partial file was removed\n`
      + `  fix: ${archiveOut} grew past the size this process may write (ulimit -f): raise the limit or choose another --out, then run the command again\n`);
    expect(archive.code).toBe(2);
    expect(fs.existsSync(archiveOut)).toBe(false);
  });
});
