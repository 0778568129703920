import { AuditChain, canonicalize, leafHash } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { BundleExportError, BundleFormatError, verifyBundle, type AuditBundle } from '../src/index.js';
import { attacker, codes, collectText, keyring, sealBatch, storesPerTest } from './helpers.js';

const setup = storesPerTest();

const FORGED = '01890000-0000-7000-8000-0000000000dd';
/** The columns of a row after stream, seq and event_id, copied as they are. */
const COPY = `hash_alg, time_unix_nano, timestamp, event_type, 'delete', event_result, severity, actor_id, actor_type, actor_ip, actor_user_agent, target_type, target_id,
  target_name, request_id, session_id, api_endpoint, http_method, trace_id, span_id, details, error_message, old_values, new_values, redacted, checksum, previous_checksum, enc_key_id`;

describe('bundles', () => {
  async function bundleOf(s: ReturnType<typeof setup>, options: Record<string, unknown> = {}): Promise<AuditBundle> {
    return JSON.parse(await collectText(s.store.export({ format: 'bundle', ...options })));
  }

  it('exports every stream as a bundle that verifies on its own', async () => {
    const s = setup(30);
    s.store.appendSync(sealBatch(new AuditChain({ stream: 'svc/2' }), 12));
    const bundle = await bundleOf(s);
    expect(bundle).toMatchObject({ format: 'otel-audit-bundle', version: 1 });
    expect(bundle.streams.map((x) => [x.stream, x.records.length, x.checkpoints.length, x.start])).toEqual([['svc/1', 30, 3, null], ['svc/2', 12, 1, null]]);
    const report = verifyBundle(JSON.stringify(bundle), keyring);
    expect(report.ok).toBe(true);
    expect(codes(report)).toEqual(['unsigned_tail@10']);
    expect(report.streams[0]!.checkpoints.verified).toBe(3);
  });

  it('exports a seq range with the compact range and prev at its start, verified against the checkpoints inside it', async () => {
    const s = setup(50);
    const bundle = await bundleOf(s, { streams: ['svc/1'], fromSeq: 13, toSeq: 39 });
    const st = bundle.streams[0]!;
    // Records follow the range: the next one's prev travels with it (the checkpoint at 40 covers seq 39 already).
    expect(bundle.version).toBe(2);
    expect(st.end).toEqual({ prev: s.batch.records[39]!.hash, hashes: [] });
    expect(st.start).toMatchObject({ seq: 13, prev: s.batch.records[12]!.hash });
    expect(st.start!.compactRange.size).toBe(13);
    expect(st.records.map((r) => r.record.seq)).toEqual(Array.from({ length: 27 }, (_, i) => 13 + i));
    const report = verifyBundle(Buffer.from(JSON.stringify(bundle)), keyring);
    expect(report.ok).toBe(true);
    expect(report.streams[0]!.checkpoints).toMatchObject({ verified: 3, lastVerifiedSize: 40 });
    const byTime = await bundleOf(s, { since: BigInt(s.batch.records[5]!.record.time), until: BigInt(s.batch.records[20]!.record.time) });
    expect(byTime.streams[0]!.records.map((r) => r.record.seq)).toEqual(Array.from({ length: 15 }, (_, i) => 5 + i));
    expect(verifyBundle(byTime, keyring).ok).toBe(true);
  });

  it('a range that ends between checkpoints carries the checksums up to the one covering it: a record rewritten with a fresh checksum, or the end stripped, does not pass', async () => {
    const s = setup(50);
    const bundle = await bundleOf(s, { streams: ['svc/1'], fromSeq: 13, toSeq: 35 });
    const st = bundle.streams[0]!;
    expect(st.end).toEqual({ prev: s.batch.records[35]!.hash, hashes: s.batch.records.slice(36, 40).map((r) => r.hash) });
    expect(st.checkpoints).toHaveLength(3); // sizes 20 and 30, inside the range, and 40, the one covering seq 35
    const intact = verifyBundle(bundle, keyring);
    expect(codes(intact)).toEqual([]);
    expect(intact.streams[0]!.checkpoints).toMatchObject({ lastVerifiedSize: 40 });
    const pristine = JSON.stringify(bundle);
    const forge = (b: AuditBundle) => {
      const r = b.streams[0]!.records.at(-1)!;
      (r.record as { details: unknown }).details = { forged: true };
      r.checksum = leafHash('sha256', canonicalize(r.record)).toString('hex');
      return b;
    };
    expect(codes(verifyBundle(forge(JSON.parse(pristine)), keyring))).toEqual(['chain_break@36', 'root_mismatch@39', 'unsigned_tail@30']);
    const stripped = JSON.parse(pristine) as AuditBundle;
    delete stripped.streams[0]!.end;
    expect(codes(verifyBundle(stripped, keyring))).toEqual(['truncated@36', 'unsigned_tail@30']);
  });

  it('detects an edited, removed, reordered or cut record in a bundle', async () => {
    const s = setup(30);
    const pristine = JSON.stringify(await bundleOf(s));
    const edit = (f: (b: AuditBundle) => void) => { const b = JSON.parse(pristine); f(b); return codes(verifyBundle(b, keyring)); };
    expect(edit((b) => { (b.streams[0]!.records[4]!.record as { actor: { id: string } }).actor.id = 'mallory'; })).toContain('hash_mismatch@4');
    expect(edit((b) => { b.streams[0]!.records.splice(7, 1); })).toContain('seq_gap@7');
    expect(edit((b) => { b.streams[0]!.records.splice(25); })).toContain('truncated@25');
    expect(edit((b) => { b.streams[0]!.start = { seq: 0, prev: '0'.repeat(64), compactRange: { size: 0, hashes: [] } }; })).toContain('chain_break@0');
    expect(edit((b) => { b.streams[0]!.checkpoints[1] = b.streams[0]!.checkpoints[1]!.replace('\n20\n', '\n21\n'); })).toContain('bad_signature@21');
  });

  it('refuses a range whose start the rows before it break (a REAL seq, a seq stored twice, deleted records) with BundleExportError naming the row; the whole stream still exports', async () => {
    // Between the compact range stored with the checkpoint at 10 and the range's first seq, 17.
    const forgeries: [sql: string, named: RegExp][] = [
      [`INSERT INTO audit_logs SELECT NULL, stream, 12.5, '${FORGED}', ${COPY} FROM audit_logs WHERE seq = 12`, /row with seq 12\.5 \(id "01890000-0000-7000-8000-0000000000dd"\) has a seq that is no integer/],
      [`INSERT INTO audit_logs SELECT NULL, stream, seq, '${FORGED}', ${COPY} FROM audit_logs WHERE seq = 13`, /seq 13 is stored in more than one row \(the second has id "01890000-0000-7000-8000-0000000000dd"\)/],
      ['DELETE FROM audit_logs WHERE seq IN (14, 15)', /records seq 14\.\.15 are missing/],
    ];
    for (const [sql, named] of forgeries) {
      const s = setup(30);
      const db = attacker(s.file);
      db.exec('DROP INDEX audit_logs_stream_seq');
      db.exec(sql);
      db.close();
      await expect(bundleOf(s, { fromSeq: 17 })).rejects.toThrow(BundleExportError);
      await expect(bundleOf(s, { fromSeq: 17 })).rejects.toMatchObject({ code: 'AUDIT_EXPORT_REFUSED', stream: 'svc/1', message: expect.stringMatching(named) });
      expect(verifyBundle(await bundleOf(s), keyring).ok).toBe(false);
    }
  });

  it('refuses what is not a bundle with BundleFormatError', () => {
    expect(() => verifyBundle('not json', keyring)).toThrow(BundleFormatError);
    expect(() => verifyBundle('{"format":"x"}', keyring)).toThrow(/"format": "otel-audit-bundle"/);
    expect(() => verifyBundle('{"format":"otel-audit-bundle","version":3,"streams":[]}', keyring)).toThrow(/version 3 is not supported \(expected 1 or 2\)/);
    expect(() => verifyBundle('{"format":"otel-audit-bundle","version":2,"streams":[{"stream":"x","alg":"sha256","start":null,"checkpoints":[],"records":[],"end":{"prev":"x","hashes":["zz"]}}]}', keyring)).toThrow(/streams\[0\]\.end is not a valid end/);
    expect(() => verifyBundle('{"format":"otel-audit-bundle","version":1,"streams":[{}]}', keyring)).toThrow(/streams\[0\]/);
    const report = verifyBundle('{"format":"otel-audit-bundle","version":1,"streams":[{"stream":"x","alg":"sha256","start":null,"checkpoints":[],"records":[1,{"record":null}]}]}', keyring);
    expect(report.ok).toBe(false);
  });
});
