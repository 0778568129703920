/**
 * Verifier edge cases: size-0 checkpoints, many mismatching checkpoints,
 * record text that is not canonical, sparse gaps, and misuse.
 */
import { describe, expect, it } from 'vitest';
import { AuditChain, type SealedRecord } from '../src/audit-chain.js';
import { canonicalize } from '../src/canonical.js';
import { createRecordId } from '../src/record-id.js';
import { emptyHash, leafHash } from '../src/hash.js';
import { signCheckpoint } from '../src/checkpoint.js';
import { CompactRange } from '../src/merkle-tree.js';
import { Verifier } from '../src/verifier.js';
import { unvouchedStreams, type FindingCode } from '../src/verification-report.js';
import { build, codes, keyring, rows, signer, T0, verify } from './support/verifier-fixture.js';

describe('Verifier: edge cases', () => {
  it('compares a size-0 checkpoint with the empty tree\'s root, whenever it arrives', () => {
    const b = build(20);
    const sizeOneRoot = b.records[0]!.hash;
    const empty = (rootHash: string | Buffer, stream = 'svc/1') => signCheckpoint({ origin: stream, size: 0, rootHash, timeUnixNano: T0 }, [signer]);
    const forged = empty(sizeOneRoot);
    const genuine = empty(emptyHash('sha256'));
    expect(genuine).toBe(new AuditChain({ stream: 'svc/1' }).checkpoint(T0, [signer]));

    // Fed first (the recommended order), after the records, and below an archived start.
    const first = verify([forged, ...b.checkpoints], rows(b));
    expect(first.ok).toBe(false);
    expect(first.streams[0]!.findings).toEqual([expect.objectContaining({ code: 'root_mismatch', size: 0, expected: sizeOneRoot, actual: emptyHash('sha256').toString('hex') })]);
    expect(first.streams[0]!.findings[0]!.seq).toBeUndefined();
    expect(first.streams[0]!.checkpoints).toMatchObject({ verified: 2, mismatched: 1, unchecked: 0 });
    const late = new Verifier({ keyring });
    for (const c of b.checkpoints) late.addCheckpoint(c);
    for (const r of rows(b)) late.addRecord(r.record, r.checksum);
    late.addCheckpoint(forged);
    expect(codes(late.finish())).toEqual(['root_mismatch@0']);
    const prefix = new CompactRange('sha256');
    for (const r of b.records.slice(0, 5)) prefix.appendHex(r.hash);
    const archived = new Verifier({ keyring });
    archived.addCheckpoint(forged);
    archived.startStream('svc/1', { alg: 'sha256', prev: b.records[4]!.hash, compactRange: prefix.state() });
    for (const r of rows(b).slice(5)) archived.addRecord(r.record, r.checksum);
    expect(codes(archived.finish())).toEqual(['root_mismatch@0', 'unsigned_tail@5']);

    // A genuine one verifies, but vouches for no record.
    const only = verify([genuine], rows(b));
    expect(only.ok).toBe(true);
    expect(only.streams[0]!.checkpoints).toEqual({ seen: 1, verified: 1, lastVerifiedSize: 0, mismatched: 0, unchecked: 0 });
    expect(codes(only)).toEqual(['unsigned_tail@0']);
    expect(unvouchedStreams(only, { ranged: false }).map((s) => s.stream)).toEqual(['svc/1']);
    expect(unvouchedStreams(verify([genuine, ...b.checkpoints], rows(b)), { ranged: false })).toEqual([]);

    // A stream of which no record was given: its algorithm is unknown, any H("") of the root's length will do.
    const alone = new Verifier({ keyring });
    alone.addCheckpoint(empty(emptyHash('sha3-256'), 'quiet/1'));
    alone.addCheckpoint(empty(sizeOneRoot, 'forged/1'));
    const report = alone.finish();
    expect(report.streams.map((s) => [s.stream, s.checkpoints.verified, s.checkpoints.mismatched, s.checkpoints.unchecked])).toEqual([
      ['forged/1', 0, 1, 0],
      ['quiet/1', 1, 0, 0],
    ]);
    expect(codes(report)).toEqual(['root_mismatch@0']);
  });

  it('lists every mismatching checkpoint once per size, the first 100 sizes, and counts the rest', () => {
    const b = build(20);
    // A history forked at seq 3 whose checkpoints at 10 and 20 were signed with the trusted key.
    const fork = new AuditChain({ stream: 'svc/1' });
    const forged: string[] = [];
    for (const [i, r] of b.records.entries()) {
      const { v: _v, alg: _alg, stream: _stream, seq: _seq, prev: _prev, ...event } = r.record;
      fork.append({ ...event, ...(i === 3 ? { outcome: 'failure' } : {}) });
      if ((i + 1) % 10 === 0) forged.push(fork.checkpoint(T0 + BigInt(i), [signer]));
    }
    const report = verify([...forged, forged[0]!], rows(b));
    expect(codes(report)).toEqual(['root_mismatch@9', 'root_mismatch@19', 'unsigned_tail@0']);
    expect(report.streams[0]!.findings.map((f) => f.size)).toEqual([10, 20, undefined]);
    expect(report.streams[0]!.checkpoints).toMatchObject({ seen: 3, verified: 0, mismatched: 3 });

    // 150 checkpoints after one changed record: 100 listed, 50 counted, and the last listed says so.
    const many = build(150, 1);
    const input = rows(many);
    input[0]!.record.action = 'delete';
    const flood = verify(many.checkpoints, input);
    const s = flood.streams[0]!;
    const mismatches = s.findings.filter((f) => f.code === 'root_mismatch');
    expect(mismatches.map((f) => f.size)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(mismatches[99]!.message).toMatch(/50 more mismatching checkpoints are not listed/);
    expect(s.checkpoints.mismatched).toBe(150);
    expect(s.findingsOmitted).toBe(50);
    expect(s.errors).toBe(1 + 150);
    expect(s.findings.at(-1)!.code).toBe('unsigned_tail');
  });

  it('reports record text that is not exactly its canonical form, and only such text', () => {
    const b = build(20);
    const nonCanonical = (r: SealedRecord, text: string, claimed = r.hash) => {
      expect(text).not.toBe(r.canonical);
      expect(canonicalize(JSON.parse(text))).toBe(r.canonical);
      const v = new Verifier({ keyring });
      for (const c of b.checkpoints) v.addCheckpoint(c);
      for (const x of b.records) v.addRecord(x === r ? text : x.canonical, x === r ? claimed : x.hash);
      return v.finish();
    };
    const r5 = b.records[5]!;
    // A duplicate member: JSON.parse keeps the last ("success"), a first-wins reader sees "failure".
    const twoOutcomes = nonCanonical(r5, r5.canonical.replace('{', '{"outcome":"failure",'));
    expect(twoOutcomes.ok).toBe(false);
    expect(twoOutcomes.streams[0]!.findings).toEqual([expect.objectContaining({
      code: 'hash_mismatch', seq: 5, id: r5.record.id, expected: r5.hash,
      actual: leafHash('sha256', r5.canonical.replace('{', '{"outcome":"failure",')).toString('hex'),
    })]);
    expect(twoOutcomes.streams[0]!.checkpoints).toMatchObject({ verified: 2, mismatched: 0 });
    expect(codes(nonCanonical(r5, JSON.stringify(JSON.parse(r5.canonical), null, 1)))).toEqual(['hash_mismatch@5']);
    expect(codes(nonCanonical(r5, r5.canonical.replace('"i":5', '"i":5.0')))).toEqual(['hash_mismatch@5']);
    expect(codes(nonCanonical(r5, r5.canonical.replace('"update"', '"\\u0075pdate"')))).toEqual(['hash_mismatch@5']);
    // The last record, members out of order, its stored hash rewritten to match those bytes: no later record links to it.
    const last = b.records[19]!;
    const { v: version, ...rest } = JSON.parse(last.canonical) as Record<string, unknown>;
    const reordered = JSON.stringify({ v: version, ...rest });
    expect(codes(nonCanonical(last, reordered, leafHash('sha256', reordered).toString('hex')))).toEqual(['hash_mismatch@19', 'hash_mismatch@19']);

    // Canonical text the fast check cannot vouch for (a backslash before "ud", index-like member names) still verifies.
    const chain = new AuditChain({ stream: 'odd/1' });
    const odd = [
      chain.append({ id: createRecordId(), time: '1', type: 'a', action: 'b', details: { path: 'C:\\udata' } }),
      chain.append({ id: createRecordId(), time: '2', type: 'a', action: 'b', details: { 10: 'x', 9: 'y' } }),
    ];
    const v = new Verifier({ keyring });
    v.addCheckpoint(chain.checkpoint(T0, [signer]));
    for (const r of odd) v.addRecord(r.canonical, r.hash);
    for (const r of odd) v.addRecord(r.canonical);
    expect(odd[0]!.canonical).toContain('\\\\udata');
    expect(codes(v.finish())).toEqual([]);
  });

  it('gives up on sparse gaps without rescanning the reorder buffer for every record', () => {
    // Every other seq missing, a window of 50,000: each record past the
    // window gives up on one gap. Scanning all held seqs for the smallest
    // took 15-25 s here; the heap takes under one.
    const prev = '0'.repeat(64);
    const started = performance.now();
    const v = new Verifier({ reorderWindow: 50_000 });
    for (let i = 0; i < 100_000; i++) {
      v.addRecord({ v: 1, alg: 'sha256', stream: 's', seq: 1 + 2 * i, prev, id: `id${i}`, time: '1', type: 'a', action: 'b', outcome: 'success', severity: 'info' });
    }
    const report = v.finish();
    expect(performance.now() - started).toBeLessThan(5_000);
    const s = report.streams[0]!;
    const gaps = s.findings.filter((f) => f.code === 'seq_gap');
    expect(gaps.slice(0, 3).map((f) => [f.seq, f.lastSeq])).toEqual([[0, 0], [2, 2], [4, 4]]);
    expect(gaps.at(-1)).toMatchObject({ seq: gaps.length * 2 - 2 });
    expect(s).toMatchObject({ records: 100_000, firstSeq: 1, lastSeq: 199_999 });
  }, 60_000);

  it('throws on misuse only', () => {
    const v = new Verifier();
    expect(() => v.addRecord(42 as never)).toThrow(TypeError);
    v.finish();
    expect(() => v.finish()).toThrow(/already/);
    expect(() => new Verifier({ reorderWindow: 0 })).toThrow(RangeError);
  });
});

export type { FindingCode };
