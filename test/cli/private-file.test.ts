/**
 * Files the CLI writes that hold audit data (DESIGN §7): `export --out`,
 * `proof --out`, `archives --read --out` and keygen's signer key are
 * created new with mode 0600 whatever the umask, so the decrypted records
 * of an encrypted store are not left readable by every local user. Real
 * stores and files in a temp dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainStore, runCli, writeKeys } from './helpers.js';

const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

describe('files written by otel-audit', () => {
  let umask: number;
  beforeEach(() => { umask = process.umask(0o022); });
  afterEach(() => { process.umask(umask); });

  it('export --out, proof --out, archives --read --out and keygen\'s .key are 0600, and never overwrite', async () => {
    const { dir, db } = chainStore(30);
    const { key, vkey } = writeKeys(dir);
    const written: string[] = [];
    for (const format of ['ndjson', 'bundle']) {
      const out = path.join(dir, `export.${format}`);
      const run = await runCli(['export', '--db', db, '--format', format, '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      written.push(out);
    }
    const proof = path.join(dir, 'proof.json');
    const proofRun = await runCli(['proof', '--db', db, '--seq', '5', '--out', proof]);
    expect(proofRun.code, proofRun.stderr).toBe(0);
    written.push(proof);
    expect((await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--json', '--trust-clock'])).code).toBe(0);
    const archive = path.join(dir, 'archive-1.ndjson');
    const archiveRun = await runCli(['archives', '--db', db, '--read', '1', '--key', vkey, '--out', archive]);
    expect(archiveRun.code, archiveRun.stderr).toBe(0);
    written.push(archive);
    const keys = path.join(dir, 'keys');
    expect((await runCli(['keygen', '--name', 'modes.example', '--out', keys])).code).toBe(0);
    written.push(path.join(keys, 'modes.example.key'));

    expect(Object.fromEntries(written.map((f) => [path.basename(f), modeOf(f)]))).toEqual({
      'export.ndjson': '600', 'export.bundle': '600', 'proof.json': '600', 'archive-1.ndjson': '600', 'modes.example.key': '600',
    });
    expect(modeOf(path.join(keys, 'modes.example.vkey'))).toBe('644'); // the public verifier key
    expect(fs.readFileSync(archive, 'utf8').trim().split('\n')).toHaveLength(30);

    const again = await runCli(['proof', '--db', db, '--seq', '5', '--out', proof]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('proof never overwrites a file');
  });

  it('refuses a symlink planted at --out instead of writing through it', async () => {
    const { dir, db } = chainStore(10);
    const target = path.join(dir, 'elsewhere.json');
    fs.writeFileSync(target, 'kept\n');
    const out = path.join(dir, 'proof.json');
    fs.symlinkSync(target, out);
    const run = await runCli(['proof', '--db', db, '--seq', '1', '--out', out]);
    expect(run.code).toBe(2);
    expect(fs.readFileSync(target, 'utf8')).toBe('kept\n');
  });
});
