/**
 * The verdict of `otel-audit verify` as an auditor reads it (auditor review,
 * helper 76): without --key an honest signed store must not read worse than
 * a copy stripped of its checkpoints; --unsigned-ok cannot wave through a
 * stream whose own start record says it was signed; findings about
 * checkpoints kept apart say so and do not become hints about the input's
 * signer; --json carries the verdict and every hint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateNoteKey, signCheckpoint, parseSignerKey } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { pipelineStore, runCli, tamper, writeKeys } from './helpers.js';

/** A signed pipeline store, and a copy whose checkpoints an insider deleted. */
async function signedAndStripped() {
  const { dir, db } = await pipelineStore({ n: 12 });
  const { vkey } = writeKeys(dir);
  const stripped = path.join(dir, 'stripped.db');
  fs.copyFileSync(db, stripped);
  tamper(stripped, 'DELETE FROM audit_checkpoints');
  return { dir, db, vkey, stripped };
}

describe('otel-audit verify: the verdict', () => {
  it('without --key, the honest store and the stripped copy get the same verdict, NOT VERIFIED, and the hint names the signer key', async () => {
    const { db, stripped } = await signedAndStripped();
    for (const input of [db, stripped]) {
      const run = await runCli(['verify', input]);
      expect(run.code, input).toBe(1);
      expect(run.stdout, input).toMatch(/^NOT VERIFIED: \d+ records in 1 stream, 0 signed checkpoints verified, 0 errors/m);
      expect(run.stdout).toMatch(/its start record names checkpoint key cli\.example\/audit\+[0-9a-f]{8}: pass --key with its \.vkey/);
      const json = JSON.parse((await runCli(['verify', input, '--json'])).stdout);
      expect(json).toMatchObject({ verdict: 'NOT_VERIFIED', intact: false, errors: 0 });
    }
    const honest = await runCli(['verify', db]);
    expect(honest.stdout).toMatch(/warning +pipeline\/1 +unknown_key .*\(not checked: no --key given\)/);
    expect(JSON.parse((await runCli(['verify', db, '--json'])).stdout).hints).toContain('hint: the checkpoints are signed; pass --key with the verifier key (.vkey) to trust them');
  });

  it('--unsigned-ok does not pass a stream whose start record names a checkpoint key: its checkpoints were deleted', async () => {
    const { vkey, stripped } = await signedAndStripped();
    for (const args of [['--key', vkey, '--unsigned-ok', 'pipeline/1'], ['--unsigned-ok', '*']]) {
      const run = await runCli(['verify', stripped, ...args]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stdout).toMatch(/^NOT VERIFIED/m);
      expect(run.stdout).not.toMatch(/pass --unsigned-ok/);
    }
    // The Collector's JSON lines say the same through their start record.
    const { jsonl } = await pipelineStore({ n: 6 });
    const lines = await runCli(['verify', jsonl, '--unsigned-ok', '*']);
    expect(lines.code).toBe(1);
    expect(lines.stdout).toMatch(/its start record names checkpoint key cli\.example\/audit\+[0-9a-f]{8}: pass --key with its \.vkey/);
    const keyed = await runCli(['verify', stripped, '--key', vkey, '--unsigned-ok', 'pipeline/1']);
    expect(keyed.stdout).toMatch(/its start record names checkpoint key cli\.example\/audit\+[0-9a-f]{8}, so it was signed \(--unsigned-ok does not apply to it\); it holds no checkpoint \(were they deleted\?\)/);
    expect(JSON.parse((await runCli(['verify', stripped, '--key', vkey, '--json'])).stdout)).toMatchObject({ verdict: 'NOT_VERIFIED', ok: true });
  });

  it('names, per stream, the seq range, the times of its first and last record and the checkpoint that vouches for it, with its key id', async () => {
    const { db, vkey } = await signedAndStripped();
    const run = await runCli(['verify', db, '--key', vkey]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^stream "pipeline\/1": seq 0\.\.(\d+), \d{4}-\d\d-\d\dT[\d:.]+Z to \d{4}-\d\d-\d\dT[\d:.]+Z; vouched for up to seq \1 by the checkpoint of \d{4}-[\d\-T:.]+Z signed by cli\.example\/audit\+[0-9a-f]{8}$/m);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--json'])).stdout);
    expect(json.summaries).toEqual([expect.objectContaining({ stream: 'pipeline/1', firstSeq: 0, vouchedBy: expect.objectContaining({ keys: [expect.stringMatching(/^cli\.example\/audit\+/)] }) })]);
    const keyless = await runCli(['verify', db]);
    expect(keyless.stdout).toMatch(/^stream "pipeline\/1": seq 0\.\.\d+, .*; no checkpoint verified with a trusted key$/m);
  });

  it('a checkpoint kept apart that another key signed is named as kept, and gives no hint about the input\'s signer', async () => {
    const { dir, db, vkey } = await signedAndStripped();
    const other = parseSignerKey(generateNoteKey('other.example/audit').signerKey);
    const forged = signCheckpoint({ origin: 'pipeline/1', size: 3, rootHash: Buffer.alloc(32, 7), timeUnixNano: 1n }, [other]);
    const kept = path.join(dir, 'other.txt');
    fs.writeFileSync(kept, forged);
    const run = await runCli(['verify', db, '--key', vkey, '--checkpoints', kept]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`unknown_key .*checkpoint kept in ${kept.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(run.stdout).not.toMatch(/^hint:/m);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--checkpoints', kept, '--json'])).stdout);
    expect(json.verdict).toBe('PROBLEMS_FOUND');
    expect(json.streams[0].findings).toContainEqual(expect.objectContaining({ code: 'unknown_key', size: 3, source: kept }));
    expect(json).not.toHaveProperty('hints');
  });
});
