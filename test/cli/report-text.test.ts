/**
 * The verdict line of `otel-audit verify` (src/internal/report-text.ts,
 * DESIGN §4.4) reads as English: one record is "1 record", any other count
 * "N records", as the streams, checkpoints, errors and warnings already do.
 */
import { describe, expect, it } from 'vitest';
import { chainStore, runCli, writeKeys } from './helpers.js';

describe('otel-audit verify verdict line', () => {
  it('says "1 record" for a one-record store and "2 records" for two', async () => {
    const one = chainStore(1, { every: 1 });
    const { vkey } = writeKeys(one.dir);
    const single = await runCli(['verify', one.db, '--key', vkey]);
    expect(single.code, single.stderr).toBe(0);
    expect(single.stdout).toMatch(/^INTACT: 1 record in 1 stream, 1 signed checkpoint verified, 0 errors, 0 warnings$/m);

    const two = chainStore(2, { every: 2 });
    const pair = await runCli(['verify', two.db, '--key', writeKeys(two.dir).vkey]);
    expect(pair.code, pair.stderr).toBe(0);
    expect(pair.stdout).toMatch(/^INTACT: 2 records in 1 stream, 1 signed checkpoint verified, 0 errors, 0 warnings$/m);
  });
});
