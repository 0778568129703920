/**
 * `otel-audit proof` and `verify-proof` end to end (issue 6, DESIGN §4.2,
 * §4.3): a proof of one record against the newest signed checkpoint checks
 * offline with the verifier key; any flipped byte, a foreign key or a
 * tampered store fails; records whose rows were purged by retention still
 * get proofs from their archives.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateNoteKey } from '@otel-audit/core';
import { chainStore, pipelineStore, runCli, tamper, writeKeys } from './helpers.js';

describe('otel-audit proof / verify-proof', () => {
  it('proof → verify-proof is valid with the key; a flipped byte anywhere is invalid (exit 1)', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    const run = await runCli(['proof', '--db', db, '--seq', '12']);
    expect(run.code).toBe(0);
    const proof = JSON.parse(run.stdout);
    expect(proof).toMatchObject({ stream: 'svc/1', leafIndex: 12, treeSize: 30, record: { seq: 12 } });
    expect(proof.recordHash).toMatch(/^[0-9a-f]{64}$/);
    expect(proof.proof.length).toBeGreaterThan(0);
    expect(proof.checkpoint).toMatch(/^svc\/1\n30\n/);
    const file = path.join(dir, 'proof.json');
    fs.writeFileSync(file, run.stdout);
    const ok = await runCli(['verify-proof', file, '--key', vkey]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('VALID');

    const flip = (hex: string) => `${hex.slice(0, 10)}${hex[10] === '0' ? '1' : '0'}${hex.slice(11)}`;
    const mutations: [string, (p: typeof proof) => void, RegExp][] = [
      ['proof hash', (p) => { p.proof[0] = flip(p.proof[0]); }, /audit path does not lead/],
      ['record hash', (p) => { p.recordHash = flip(p.recordHash); }, /hashes to/],
      ['record member', (p) => { p.record.actor.id = 'mallory'; }, /hashes to/],
      ['root hash', (p) => { p.rootHash = flip(p.rootHash); }, /root/],
      ['checkpoint signature', (p) => { p.checkpoint = p.checkpoint.replace(/(— \S+ .{30})(.)/, (_m: string, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')); }, /bad_signature/],
    ];
    for (const [name, mutate, message] of mutations) {
      const copy = JSON.parse(run.stdout);
      mutate(copy);
      const bad = path.join(dir, `bad-${name.replace(/ /g, '-')}.json`);
      fs.writeFileSync(bad, JSON.stringify(copy));
      const result = await runCli(['verify-proof', bad, '--key', vkey]);
      expect(result.code, name).toBe(1);
      expect(result.stdout, name).toMatch(message);
    }
    const other = generateNoteKey('someone.else');
    const foreign = await runCli(['verify-proof', file, '--key', other.verifierKey, '--json']);
    expect(foreign.code).toBe(1);
    expect(JSON.parse(foreign.stdout)).toMatchObject({ ok: false, signature: 'unknown_key' });
  });

  it('refuses a tampered store (exit 1), an uncovered seq, a seq past the end or an unknown stream, and a non-proof file (exit 2)', async () => {
    const { dir, db } = chainStore(25);
    // Another first byte (a checksum may already start with aa).
    tamper(db, "UPDATE audit_logs SET checksum = (CASE WHEN substr(checksum, 1, 2) = 'aa' THEN 'bb' ELSE 'aa' END) || substr(checksum, 3) WHERE seq = 2");
    const tampered = await runCli(['proof', '--db', db, '--seq', '4']);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('run `otel-audit verify`');
    const uncovered = await runCli(['proof', '--db', db, '--seq', '22']);
    expect(uncovered.code).toBe(2);
    expect(uncovered.stderr).toContain('no checkpoint');
    const pastEnd = await runCli(['proof', '--db', db, '--seq', '99']);
    expect(pastEnd.code).toBe(2);
    expect(pastEnd.stderr).toContain('stream "svc/1" has no record seq 99: it holds seq 0..24');
    expect(pastEnd.stderr).toContain('fix: pass a --seq in that range');
    expect(pastEnd.stderr).not.toContain('checkpoint');
    const otherStream = await runCli(['proof', '--db', db, '--seq', '3', '--stream', 'svc/2']);
    expect(otherStream.code).toBe(2);
    expect(otherStream.stderr).toContain('the store has no stream "svc/2"; it holds "svc/1"');
    const notProof = path.join(dir, 'x.json');
    fs.writeFileSync(notProof, '{"hello":1}');
    const bad = await runCli(['verify-proof', notProof]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a proof document');
  });

  it('refuses (exit 1, nothing on stdout, no --out file) a record edited in place after sealing, which verify-proof would reject', async () => {
    const { dir, db } = chainStore(30);
    // Seq 5 is a failure (event(5)); its checksum and the Merkle root stay as sealed.
    tamper(db, "UPDATE audit_logs SET event_result = 'success' WHERE seq = 5");
    const edited = await runCli(['proof', '--db', db, '--seq', '5']);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toBe('');
    expect(edited.stderr).toContain('the stored record "svc/1" seq 5 no longer hashes to its checksum (it was edited after sealing)');
    expect(edited.stderr).toContain('run `otel-audit verify`');
    const out = path.join(dir, 'edited.json');
    expect((await runCli(['proof', '--db', db, '--seq', '5', '--out', out])).code).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('a signed stream whose checkpoints were all deleted is said to be so (exit 1), not told to wait for the next checkpoint', async () => {
    const { db } = await pipelineStore({ n: 6 });
    tamper(db, 'DELETE FROM audit_checkpoints');
    const run = await runCli(['proof', '--db', db, '--seq', '2']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/stream "pipeline\/1" holds no checkpoint, although its start record names checkpoint key cli\.example\/audit\+[0-9a-f]{8}: its checkpoints were deleted/);
    expect(run.stderr).not.toMatch(/wait for the next checkpoint/);
  });

  it('records purged by retention still get a valid proof from their archive', async () => {
    const { dir, db } = chainStore(30);
    const { key, vkey } = writeKeys(dir);
    expect((await runCli(['retention', '--db', db, '--apply', '--signer-key', key, '--trust-clock'])).code).toBe(0);
    const run = await runCli(['proof', '--db', db, '--seq', '5', '--out', path.join(dir, 'p.json')]);
    expect(run.code).toBe(0);
    expect((await runCli(['verify-proof', path.join(dir, 'p.json'), '--key', vkey])).code).toBe(0);
  });
});
