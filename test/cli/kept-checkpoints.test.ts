/**
 * Checkpoints kept apart from the store (threat model: "delete the newest
 * records and their checkpoints"): whoever can write the store can cut its
 * tail back to an earlier checkpoint, and what is left verifies. A checkpoint
 * saved elsewhere with `otel-audit checkpoints`, or the collector's copy,
 * shows the cut when `verify --checkpoints` is given it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chainStore, pipelineStore, runCli, tamper, tempDir, writeKeys } from './helpers.js';

/** The attacker's cut: records from `seq` on, the checkpoints beyond them and the stream's head, gone. */
function cutTail(db: string, stream: string, seq: number): void {
  tamper(db, 'DELETE FROM audit_logs WHERE stream = ? AND seq >= ?', stream, seq);
  tamper(db, 'DELETE FROM audit_checkpoints WHERE stream = ? AND size > ?', stream, seq);
  tamper(db, 'DELETE FROM audit_stream_heads WHERE stream = ?', stream);
}

/** `otel-audit checkpoints INPUT` written to a file, as an operator keeps them. */
async function keep(input: string, file: string, ...args: string[]): Promise<string> {
  const run = await runCli(['checkpoints', input, ...args]);
  expect(run.code).toBe(0);
  fs.writeFileSync(file, run.stdout);
  return file;
}

describe('otel-audit verify --checkpoints: checkpoints kept apart', () => {
  it('a tail cut back to an earlier checkpoint passes on its own, and is truncated against the checkpoint kept before the cut', async () => {
    const { dir, db } = chainStore(30); // checkpoints at 10, 20, 30
    const { vkey } = writeKeys(dir);
    const kept = await keep(db, path.join(dir, 'kept.txt'));
    cutTail(db, 'svc/1', 20);

    const alone = await runCli(['verify', db, '--key', vkey]);
    expect(alone.code).toBe(0); // what the cut achieves without a kept checkpoint

    const run = await runCli(['verify', db, '--key', vkey, '--checkpoints', kept]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/truncated .*a checkpoint signed by a trusted key covers 30 records but only 20 are present.*checkpoint kept in/);
    expect(run.stdout).toContain(`checked also against 1 checkpoint(s) kept apart in ${kept}`);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--checkpoints', kept, '--json'])).stdout);
    expect(json).toMatchObject({ intact: false, keptCheckpoints: [{ file: kept, kind: 'notes', checkpoints: 1 }] });
    expect(json.streams[0].findings).toEqual([expect.objectContaining({ code: 'truncated', expected: '30', actual: '20' })]);
  });

  it('a history rewritten and signed again under the same stream id is a root_mismatch against the checkpoint kept before', async () => {
    const first = chainStore(20);
    const { vkey } = writeKeys(first.dir);
    const kept = await keep(first.db, path.join(first.dir, 'kept.txt'));
    const rewritten = chainStore(20); // same stream id, other records, signed by the same key (its holder rewrote it)
    expect((await runCli(['verify', rewritten.db, '--key', vkey])).code).toBe(0);
    const json = JSON.parse((await runCli(['verify', rewritten.db, '--key', vkey, '--checkpoints', kept, '--json'])).stdout);
    expect(json.intact).toBe(false);
    expect(json.streams[0].findings.map((f: { code: string }) => f.code)).toContain('root_mismatch');
  });

  it('a stream deleted whole is reported with no records against its kept checkpoint', async () => {
    const { dir, db } = chainStore(20, { stream: 'svc/1' });
    chainStore(20, { stream: 'svc/2', dir });
    const { vkey } = writeKeys(dir);
    const kept = await keep(db, path.join(dir, 'kept.txt'));
    expect(fs.readFileSync(kept, 'utf8').match(/^svc\/\d$/gm)).toEqual(['svc/1', 'svc/2']);
    cutTail(db, 'svc/2', 0);
    expect((await runCli(['verify', db, '--key', vkey])).code).toBe(0);
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--checkpoints', kept, '--json'])).stdout);
    expect(json.intact).toBe(false);
    const gone = json.streams.find((s: { stream: string }) => s.stream === 'svc/2');
    expect(gone).toMatchObject({ records: 0, findings: [expect.objectContaining({ code: 'truncated', expected: '20', actual: '0' })] });
    // Only the stream asked for is checked against them.
    expect((await runCli(['verify', db, '--key', vkey, '--checkpoints', kept, '--stream', 'svc/1'])).code).toBe(0);
  });

  it('the collector\'s copy is a source as it is: its JSON lines or an export bundle', async () => {
    const { dir, db, jsonl } = await pipelineStore({ n: 12 }); // checkpoints every 5 records and at shutdown
    const { vkey } = writeKeys(dir);
    const bundle = path.join(dir, 'all.bundle.json');
    expect((await runCli(['export', '--db', db, '--format', 'bundle', '--out', bundle])).code).toBe(0);
    const sizes = JSON.parse((await runCli(['checkpoints', db, '--all', '--json'])).stdout).map((c: { size: number }) => c.size);
    const cut = sizes[sizes.length - 2] as number; // back to the checkpoint before the last
    cutTail(db, 'pipeline/1', cut);
    expect((await runCli(['verify', db, '--key', vkey])).code).toBe(0);
    for (const source of [jsonl, bundle]) {
      const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--checkpoints', source, '--json'])).stdout);
      expect(json.intact).toBe(false);
      expect(json.streams[0].findings).toContainEqual(expect.objectContaining({ code: 'truncated', actual: String(cut) }));
    }
    // And the other way round: a bundle is checked against checkpoints kept from the store.
    const kept = await keep(bundle, path.join(dir, 'kept.txt'));
    expect((await runCli(['verify', bundle, '--key', vkey, '--checkpoints', kept])).code).toBe(0);
  });

  it('of a collector\'s store, which holds other services\' streams too, only the input\'s streams count, unless --stream names one', async () => {
    const host = chainStore(30, { stream: 'svc/1' });
    const { vkey } = writeKeys(host.dir);
    const collectorDir = tempDir();
    fs.copyFileSync(host.db, path.join(collectorDir, 'audit.db')); // the collector received svc/1 as it was
    const collector = chainStore(20, { stream: 'other/9', dir: collectorDir }).db;
    cutTail(host.db, 'svc/1', 20);
    const run = await runCli(['verify', host.db, '--key', vkey, '--checkpoints', collector]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/truncated .*covers 30 records but only 20 are present/);
    expect(run.stdout).not.toContain('other/9');
    expect(run.stdout).toContain('checked also against 3 checkpoint(s) kept apart in');
    expect(run.stdout).toContain('(2 of other streams left aside; name a stream with --stream to require it)');
    const json = JSON.parse((await runCli(['verify', host.db, '--key', vkey, '--checkpoints', collector, '--stream', 'other/9', '--json'])).stdout);
    expect(json.keptCheckpoints).toEqual([expect.objectContaining({ kind: 'sqlite', checkpoints: 5, used: 2 })]);
    expect(json.streams).toEqual([expect.objectContaining({ stream: 'other/9', records: 0, findings: expect.arrayContaining([expect.objectContaining({ code: 'truncated', expected: '20' })]) })]);
  });

  it('copies of the stored checkpoints are not counted twice, and an intact store stays intact', async () => {
    const { dir, db } = chainStore(30);
    const { vkey } = writeKeys(dir);
    const all = await keep(db, path.join(dir, 'all.txt'), '--all');
    const json = JSON.parse((await runCli(['verify', db, '--key', vkey, '--checkpoints', all, '--checkpoints', db, '--json'])).stdout);
    expect(json).toMatchObject({ intact: true, keptCheckpoints: [{ kind: 'notes', checkpoints: 3 }, { kind: 'sqlite', checkpoints: 3 }] });
    expect(json.streams[0].checkpoints).toMatchObject({ seen: 3, verified: 3 });
  });
});

describe('otel-audit checkpoints', () => {
  it('prints the newest signed note of each stream, every one with --all, and JSON with --json', async () => {
    const { dir, db } = chainStore(30);
    const newest = await runCli(['checkpoints', db]);
    // A comment line says where and when; then the note as signed.
    expect(newest.stdout).toMatch(/^# otel-audit checkpoints of .*audit\.db, read \d{4}-\d\d-\d\dT[^:]+:\d\d:\d\d\.\d{3}Z: keep apart; check with otel-audit verify DB --key VKEY --checkpoints THIS_FILE\nsvc\/1\n30\n[A-Za-z0-9+/]+=*\ntime \d+\n\n— cli\.example\/audit [A-Za-z0-9+/]+=*\n$/);
    const note = newest.stdout.slice(newest.stdout.indexOf('\n') + 1);
    const all = (await runCli(['checkpoints', db, '--all'])).stdout;
    expect(all.match(/^svc\/1\n(\d+)$/gm)).toEqual(['svc/1\n10', 'svc/1\n20', 'svc/1\n30']);
    const json = JSON.parse((await runCli(['checkpoints', db, '--json'])).stdout);
    expect(json).toEqual([{ stream: 'svc/1', size: 30, time: expect.stringMatching(/^\d+$/), timeIso: expect.stringMatching(/^\d{4}-/), note }]);
    // What it printed reads back, CRLF line ends too.
    fs.writeFileSync(path.join(dir, 'crlf.txt'), all.replace(/\n/g, '\r\n'));
    const back = JSON.parse((await runCli(['checkpoints', path.join(dir, 'crlf.txt'), '--all', '--json'])).stdout);
    expect(back.map((c: { size: number }) => c.size)).toEqual([10, 20, 30]);
  });

  it('refuses what holds no checkpoint or a broken note, naming the line and what it takes (exit 2)', async () => {
    const dir = tempDir();
    const { db } = chainStore(30, { dir });
    const unknown = await runCli(['checkpoints', db, '--stream', 'nope/1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/holds no checkpoint of stream "nope\/1"; it holds checkpoints of "svc\/1"/);
    const good = (await runCli(['checkpoints', db])).stdout;
    const broken = path.join(dir, 'broken.txt');
    fs.writeFileSync(broken, `${good}\nsvc/1\nthirty\nroot\n\n— k abc\n`);
    const run = await runCli(['verify', db, '--checkpoints', broken]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/broken\.txt: the note starting at line 9 is not a checkpoint/);
    expect(run.stderr).toMatch(/otel-audit checkpoints/);
    // The kept file given as the input: told to pass it with --checkpoints.
    const kept = path.join(dir, 'kept.txt');
    fs.writeFileSync(kept, good);
    const swapped = await runCli(['verify', kept]);
    expect(swapped.code).toBe(2);
    expect(swapped.stderr).toMatch(/kept\.txt is a file of checkpoint notes .*, not a log to verify\n  fix: verify the store, bundle or JSON lines and pass this file with --checkpoints/);
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '\n\n');
    expect((await runCli(['verify', db, '--checkpoints', empty])).stderr).toMatch(/holds no checkpoint note/);
  });
});
