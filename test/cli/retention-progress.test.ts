/**
 * `otel-audit retention` reports its progress (scale review F6): on a TTY
 * the bar counts the records archived, then the records purged, as each
 * archive is created and purged; piped, stderr stays empty.
 */
import { describe, expect, it } from 'vitest';
import { chainStore, runCli, writeKeys } from './helpers.js';

describe('otel-audit retention progress', () => {
  it('counts records archived and purged on a TTY, and stays quiet when piped', async () => {
    // 60 records of 2023, signed every 10: everything is old enough to archive and purge.
    const { dir, db } = chainStore(60);
    const { key } = writeKeys(dir);
    const args = ['retention', '--db', db, '--archive-after-days', '30', '--retention-days', '30', '--signer-key', key, '--trust-clock'];
    const dry = await runCli([...args.slice(0, 3), '--dry-run'], { tty: true });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/previewing: archiving records [1-9]\d*/);
    const run = await runCli([...args, '--apply'], { tty: true });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('60 record(s) were purged');
    expect(run.stderr).toMatch(/\rarchiving records [1-9]\d*/);
    expect(run.stderr).toMatch(/\rpurging archived records [1-9]\d*/);
    expect(run.stderr).toContain('purging archived records 60');
    const piped = await runCli([...args.slice(0, 3), '--dry-run']);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });
});
