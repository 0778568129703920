import { describe, expect, it } from 'vitest';
import { AuditChain, type SealedRecord } from '../src/audit-chain.js';
import { Keyring } from '../src/keyring.js';
import { generateNoteKey } from '../src/note-keys.js';
import { createRecordId } from '../src/record-id.js';
import { CompactRange } from '../src/merkle-tree.js';
import { Verifier } from '../src/verifier.js';
import { build, codes, keyring, keys, rehash, rows, signer, T0, verify, type Row } from './support/verifier-fixture.js';

describe('Verifier', () => {
  it('reports an intact, fully signed stream as ok with its counts', () => {
    const b = build(50);
    const report = verify(b.checkpoints, rows(b));
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual([]);
    const s = report.streams[0]!;
    expect(s).toMatchObject({ stream: 'svc/1', alg: 'sha256', records: 50, firstSeq: 0, lastSeq: 49 });
    expect(s.checkpoints).toEqual({ seen: 5, verified: 5, lastVerifiedSize: 50, mismatched: 0, unchecked: 0 });
  });

  it('warns about records after the last signed checkpoint but stays ok', () => {
    const b = build(25);
    const report = verify(b.checkpoints, rows(b));
    expect(report.ok).toBe(true);
    expect(report.warnings).toBe(1);
    expect(report.streams[0]!.findings[0]).toMatchObject({ code: 'unsigned_tail', severity: 'warning', seq: 20, lastSeq: 24 });
  });

  it('classifies a changed member as hash_mismatch at that record only', () => {
    const b = build(30);
    const input = rows(b);
    (input[7]!.record.actor as Record<string, unknown>).id = 'mallory';
    const report = verify(b.checkpoints, input);
    expect(report.ok).toBe(false);
    // Every checkpoint after the change is a signed claim the records contradict: each is listed.
    expect(codes(report)).toEqual(['hash_mismatch@7', 'root_mismatch@9', 'root_mismatch@19', 'root_mismatch@29', 'unsigned_tail@0']);
    expect(report.streams[0]!.checkpoints).toMatchObject({ verified: 0, mismatched: 3 });
    const f = report.streams[0]!.findings[0]!;
    expect(f.expected).toBe(b.records[7]!.hash);
    expect(f.actual).toBe(rehash(input[7]!.record));
    expect(f.id).toBe(b.records[7]!.record.id);
  });

  it('classifies a record whose alg was changed as hash_mismatch there, placed all the same (no seq_gap: it is present)', () => {
    const b = build(30);
    const input = rows(b);
    input[7]!.record.alg = 'sha512';
    const report = verify(b.checkpoints, input);
    expect(codes(report)).toEqual(['hash_mismatch@7', 'root_mismatch@9', 'root_mismatch@19', 'root_mismatch@29', 'unsigned_tail@0']);
    expect(report.streams[0]!.findings[0]).toMatchObject({ expected: 'sha256', actual: 'sha512', message: 'record uses sha512 but the stream uses sha256' });
    expect(report.streams[0]).toMatchObject({ alg: 'sha256', records: 30, firstSeq: 0, lastSeq: 29 });
    // With a checksum recomputed for the changed record, the next record no longer links to it.
    input[7]!.checksum = rehash(input[7]!.record);
    expect(codes(verify(b.checkpoints, input))).toEqual(['hash_mismatch@7', 'chain_break@8', 'root_mismatch@9', 'root_mismatch@19', 'root_mismatch@29', 'unsigned_tail@0']);
  });

  it('classifies a record rewritten with a fresh hash as chain_break and root_mismatch', () => {
    const b = build(30);
    const input = rows(b);
    input[12]!.record.outcome = 'failure';
    input[12]!.checksum = rehash(input[12]!.record);
    expect(codes(verify(b.checkpoints, input))).toEqual(['chain_break@13', 'root_mismatch@19', 'root_mismatch@29', 'unsigned_tail@10']);
  });

  it('reports deleted records as seq_gap', () => {
    const b = build(30);
    const input = rows(b).filter((_, i) => i !== 4 && i !== 5);
    expect(codes(verify(b.checkpoints, input))).toContain('seq_gap@4');
    const gap = verify(b.checkpoints, input).streams[0]!.findings.find((f) => f.code === 'seq_gap')!;
    expect(gap.lastSeq).toBe(5);
  });

  it('reports an inserted record claiming an existing seq as duplicate', () => {
    const b = build(30);
    const input = rows(b);
    const forged = { ...input[3]!.record, id: createRecordId(), action: 'delete' };
    input.splice(4, 0, { record: forged, checksum: rehash(forged) });
    expect(codes(verify(b.checkpoints, input))).toEqual(['duplicate@3']);
  });

  it('reports the same id on two records as duplicate', () => {
    const b = build(20);
    const input = rows(b);
    input[6]!.record.id = input[5]!.record.id;
    input[6]!.checksum = rehash(input[6]!.record);
    expect(codes(verify(b.checkpoints, input))).toEqual(['duplicate@6', 'chain_break@7', 'root_mismatch@9', 'root_mismatch@19', 'unsigned_tail@0']);
  });

  it('ignores exact re-deliveries and accepts any arrival order within the window', () => {
    const b = build(40);
    const input = rows(b);
    const shuffled = [...input, input[3]!, input[17]!].reverse();
    const report = verify(b.checkpoints, shuffled);
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.duplicatesIgnored).toBe(2);
  });

  it('reports a gap when a seq stays missing beyond the reorder window', () => {
    const b = build(40);
    const input = rows(b).filter((_, i) => i !== 2);
    const report = verify(b.checkpoints, input, { window: 5 });
    expect(codes(report)).toEqual(['seq_gap@2', 'unsigned_tail@0']);
    expect(report.streams[0]!.checkpoints.unchecked).toBe(4);
  });

  it('reports removed newest records covered by a signed checkpoint as truncated', () => {
    const b = build(30);
    const report = verify(b.checkpoints, rows(b).slice(0, 26));
    expect(codes(report)).toEqual(['truncated@26', 'unsigned_tail@20']);
    expect(report.streams[0]!.findings[0]).toMatchObject({ size: 30, expected: '30', actual: '26' });
  });

  it('reports checkpoint signature problems', () => {
    const b = build(20);
    const tampered = b.checkpoints[0]!.replace('\n10\n', '\n11\n');
    expect(codes(verify([tampered, b.checkpoints[1]!], rows(b)))).toEqual(['bad_signature@11']);
    const other = Keyring.from([generateNoteKey('other').verifierKey]);
    const unknown = verify(b.checkpoints, rows(b), { keyring: other });
    expect(codes(unknown)).toEqual(['unknown_key@10', 'unknown_key@20', 'unsigned_tail@0']);
    // The signer is named as data, not only in the message.
    expect(unknown.streams[0]!.findings[0]!.keys).toEqual([keys.verifierKey.split('+').slice(0, 2).join('+')]);
    const expired = new Keyring();
    expired.add(keys.verifierKey, { notAfter: T0 });
    expect(codes(verify(b.checkpoints, rows(b), { keyring: expired }))).toEqual(['key_out_of_window@10', 'key_out_of_window@20', 'unsigned_tail@0']);
  });

  it('fails unsigned checkpoints when trusted keys are given, and only warns without keys', () => {
    const chain = new AuditChain({ stream: 's' });
    const input: Row[] = [];
    for (let i = 0; i < 10; i++) {
      const r = chain.append({ id: createRecordId(), time: '1', type: 'a', action: 'b' });
      input.push({ record: JSON.parse(r.canonical), checksum: r.hash });
    }
    const unsigned = chain.checkpoint(T0, []);
    expect(codes(verify([unsigned], input))).toEqual(['bad_signature@10', 'unsigned_tail@0']);
    const keyless = verify([unsigned], input, { keyring: new Keyring() });
    expect(keyless.ok).toBe(true);
    expect(codes(keyless)).toEqual(['unsigned_tail@0']);
    expect(keyless.streams[0]!.checkpoints).toMatchObject({ seen: 1, verified: 0, mismatched: 0 });
    input[3]!.record.action = 'x';
    input[3]!.checksum = rehash(input[3]!.record);
    expect(codes(verify([unsigned], input, { keyring: new Keyring() }))).toEqual(['chain_break@4', 'root_mismatch@9', 'unsigned_tail@0']);
  });

  it('checks checkpoints that arrive after the records they cover', () => {
    const b = build(1000, 100);
    const v = new Verifier({ keyring });
    for (const r of rows(b)) v.addRecord(r.record, r.checksum);
    for (const c of b.checkpoints) v.addCheckpoint(c);
    const report = v.finish();
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints).toEqual({ seen: 10, verified: 10, lastVerifiedSize: 1000, mismatched: 0, unchecked: 0 });
  });

  it('accepts canonical text with its placement on the fast path, and declines anything else', () => {
    const b = build(20);
    const v = new Verifier({ keyring });
    for (const c of b.checkpoints) v.addCheckpoint(c);
    for (const [i, r] of b.records.entries()) {
      const placement = { stream: r.record.stream, seq: r.record.seq, id: r.record.id, prev: r.record.prev, alg: r.record.alg };
      if (i === 5) {
        const edited = r.canonical.replace('"update"', '"delete"');
        expect(v.tryAddCanonical(edited, r.hash, placement)).toBe(false);
        v.addRecord(JSON.parse(edited), r.hash);
      } else {
        expect(v.tryAddCanonical(r.canonical, r.hash, placement)).toBe(true);
      }
    }
    expect(codes(v.finish())).toEqual(['hash_mismatch@5', 'root_mismatch@9', 'root_mismatch@19', 'unsigned_tail@0']);
    const w = new Verifier({ keyring });
    expect(w.tryAddCanonical('{}', 'ab', { stream: '', seq: 0, id: 'x', prev: '', alg: 'sha256' })).toBe(false);
    expect(w.tryAddCanonical('{}', 'ab', { stream: 's', seq: 0, id: 'x', prev: '', alg: 'md5' })).toBe(false);
  });

  it('reads records as canonical JSON text', () => {
    const b = build(20);
    const v = new Verifier({ keyring });
    for (const c of b.checkpoints) v.addCheckpoint(c);
    for (const r of b.records) v.addRecord(r.canonical, r.hash);
    expect(v.finish().ok).toBe(true);
  });

  it('resumes from a compact range at an archived cut', () => {
    const chain = new AuditChain({ stream: 's' });
    const sealed: SealedRecord[] = [];
    let head;
    for (let i = 0; i < 30; i++) {
      if (i === 13) head = chain.head();
      sealed.push(chain.append({ id: createRecordId(), time: '1', type: 'a', action: 'b' }));
    }
    const note = chain.checkpoint(T0, [signer]);
    const v = new Verifier({ keyring });
    v.startStream('s', { alg: 'sha256', prev: head!.prev, compactRange: head!.compactRange });
    v.addCheckpoint(note);
    for (const r of sealed.slice(13)) v.addRecord(r.record, r.hash);
    const report = v.finish();
    expect(codes(report)).toEqual([]);
    expect(report.streams[0]).toMatchObject({ firstSeq: 13, records: 17 });
  });

  it('checks a range against the stored hashes after it: the next record must link to it and the checkpoint covering it must match', () => {
    const b = build(30);
    const prefix = new CompactRange('sha256');
    for (const r of b.records.slice(0, 5)) prefix.appendHex(r.hash);
    const start = { prev: b.records[4]!.hash, compactRange: prefix.state() };
    const rangeOf = (input: Row[]) => {
      const v = new Verifier({ keyring, partial: true });
      for (const c of b.checkpoints) v.addCheckpoint(c);
      v.startStream('svc/1', { alg: 'sha256', prev: start.prev, compactRange: start.compactRange });
      for (const r of input) v.addRecord(r.record, r.checksum);
      // Records 13..19 as stored: their checksums and the prev of 13, not their bodies.
      v.endStream('svc/1', { prev: b.records[13]!.record.prev, hashes: b.records.slice(13, 20).map((r) => r.hash.toUpperCase()) });
      return v.finish();
    };
    const range = rows(b).slice(5, 13);
    const intact = rangeOf(range);
    expect(codes(intact)).toEqual([]);
    expect(intact.streams[0]).toMatchObject({ records: 8, firstSeq: 5, lastSeq: 12, checkpoints: { verified: 2, lastVerifiedSize: 20, unchecked: 1 } });
    // Record 12, the last of the range, rewritten with a fresh hash: nothing in the range links to it.
    const forged = { ...range[7]!.record, outcome: 'failure' };
    const report = rangeOf([...range.slice(0, 7), { record: forged, checksum: rehash(forged) }]);
    expect(report.ok).toBe(false);
    expect(codes(report)).toEqual(['chain_break@13', 'root_mismatch@19']);
    // Without endStream the same input passes: only the range is seen.
    const blind = new Verifier({ keyring, partial: true });
    blind.startStream('svc/1', { alg: 'sha256', prev: start.prev, compactRange: start.compactRange });
    for (const r of [...range.slice(0, 7), { record: forged, checksum: rehash(forged) }]) blind.addRecord(r.record, r.checksum);
    expect(blind.finish().ok).toBe(true);
    const misuse = new Verifier();
    expect(() => misuse.endStream('svc/1', { prev: 'x', hashes: ['not hex'] })).toThrow(/^end\.hashes\[0\] must be a hash digest in hex/);
    misuse.endStream('svc/1', { prev: 'x', hashes: [] });
    expect(() => misuse.endStream('svc/1', { prev: 'x', hashes: [] })).toThrow(/endStream was already called/);
  });

  it('reports a missing stream head once, whether records arrive in order or not', () => {
    const b = build(20);
    const late = rows(b).slice(3);
    expect(codes(verify([], late)).filter((c) => c.startsWith('seq_gap'))).toEqual(['seq_gap@0']);
    const v = new Verifier({ keyring });
    for (const r of late) v.addRecord(r.record, r.checksum);
    const s = v.finish().streams[0]!;
    expect(s.findings.filter((f) => f.code === 'seq_gap')).toEqual([expect.objectContaining({ seq: 0, lastSeq: 2 })]);
  });

  it('reports a missing stream head as the gap only: the first record after it links to a record not given, which is no chain_break', () => {
    const late = rows(build(20)).slice(3);
    for (const order of [late, [...late].reverse()]) {
      const errors = codes(verify([], order)).filter((c) => !c.startsWith('unsigned_tail') && !c.startsWith('truncated') && !c.startsWith('root_mismatch'));
      expect(errors).toEqual(['seq_gap@0']);
    }
  });

  it('reports malformed input without throwing', () => {
    const v = new Verifier({ keyring });
    v.addRecord('{not json');
    v.addRecord({ stream: 's', seq: 'x' });
    v.addCheckpoint('garbage');
    const report = v.finish();
    expect(report.ok).toBe(false);
    expect(report.streams.flatMap((s) => s.findings.map((f) => f.code))).toEqual(['malformed', 'malformed', 'malformed']);
  });

  it('reports a stream\'s first record without alg as malformed (no TypeError)', () => {
    const first = rows(build(3, 10, 'noalg/1'))[0]!;
    const { alg: _alg, ...withoutAlg } = first.record as Record<string, unknown>;
    const v = new Verifier({ keyring });
    expect(() => v.addRecord(withoutAlg, first.checksum)).not.toThrow();
    const findings = v.finish().streams.flatMap((s) => s.findings);
    expect(findings[0]).toMatchObject({ code: 'malformed', seq: 0 });
  });

  it('keeps streams apart and caps listed findings', () => {
    const a = build(20, 10, 'a/1');
    const b = build(20, 10, 'b/1');
    const input = [...rows(a), ...rows(b)];
    for (const r of input.slice(0, 5)) r.record.type = 'x';
    const v = new Verifier({ keyring, maxFindingsPerStream: 2 });
    for (const c of [...a.checkpoints, ...b.checkpoints]) v.addCheckpoint(c);
    for (const r of input) v.addRecord(r.record, r.checksum);
    const report = v.finish();
    expect(report.streams.map((s) => [s.stream, s.errors, s.findings.length, s.findingsOmitted])).toEqual([
      ['a/1', 7, 2, 6],
      ['b/1', 0, 0, 0],
    ]);
  });
});
