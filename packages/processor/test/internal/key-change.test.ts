import { describe, expect, it } from 'vitest';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import { Keyring, Verifier, generateNoteKey, noteKeyId, parseNote, parseSignerKey } from '@otel-audit/core';
import { AuditLogRecordProcessor, InMemoryAuditSink } from '../../src/index.js';
import { KEYS } from '../helpers.js';

const OTHER = generateNoteKey('test.example/audit-next');
const idOf = (signerKey: string) => {
  const s = parseSignerKey(signerKey);
  return noteKeyId(s.name, s.keyHash);
};

async function run(sink: InMemoryAuditSink, signerKey: string | undefined, body?: (p: AuditLogRecordProcessor) => void, checkpointEveryRecords?: number) {
  sink.reopen();
  const processor = new AuditLogRecordProcessor({ stream: 'keys/1', sinks: [sink], signerKey, flushIntervalMillis: 5, ...(checkpointEveryRecords ? { checkpointEveryRecords } : {}) });
  const provider = new LoggerProvider({ processors: [processor] });
  await processor.ready();
  provider.getLogger('otel-audit').emit({ body: { type: 'admin', action: 'update' } });
  body?.(processor);
  await provider.shutdown();
}

function verify(sink: InMemoryAuditSink) {
  const v = new Verifier({ keyring: Keyring.from([KEYS.verifierKey, OTHER.verifierKey]) });
  for (const c of sink.checkpoints) v.addCheckpoint(c.note);
  for (const r of sink.records) v.addRecord(r.canonical, r.hash);
  return v.finish();
}

const keyChanges = (sink: InMemoryAuditSink) => sink.records.filter((r) => r.record.action === 'key_changed');

describe('key changes are audit records', () => {
  it('a stream resumed under another signer key gets a key_changed record (old and new key ids, no key material) before its next checkpoint', async () => {
    const sink = new InMemoryAuditSink();
    await run(sink, KEYS.signerKey);
    await run(sink, KEYS.signerKey);
    expect(keyChanges(sink)).toHaveLength(0); // same key: nothing to record
    const before = sink.records.length;
    await run(sink, OTHER.signerKey);
    const [change] = keyChanges(sink);
    expect(change?.record.details).toEqual({ old_key_ids: [idOf(KEYS.signerKey)], new_key_id: idOf(OTHER.signerKey), reason: 'resumed_with_other_key' });
    expect(change!.record.severity).toBe('warning');
    expect(change!.record.seq).toBeGreaterThanOrEqual(before);
    // The first checkpoint after it is signed by the new key and covers it.
    const next = sink.checkpoints.find((c) => c.size > change!.record.seq)!;
    expect(parseNote(next.note).signatures.map((s) => noteKeyId(s.name, s.keyHash))).toEqual([idOf(OTHER.signerKey)]);
    for (const r of sink.records) {
      expect(r.canonical).not.toContain(KEYS.signerKey.split('+').slice(4).join('+'));
      expect(r.canonical).not.toContain(OTHER.signerKey.split('+').slice(4).join('+'));
    }
    expect(verify(sink).ok).toBe(true);
  });

  it('rotateSignerKey() seals key_changed, a handover checkpoint signed by both keys, then signs with the new key only', async () => {
    const sink = new InMemoryAuditSink();
    let rotated: boolean[] = [];
    await run(sink, KEYS.signerKey, (p) => {
      rotated = [p.rotateSignerKey(OTHER.signerKey), p.rotateSignerKey(OTHER.signerKey)];
    });
    expect(rotated).toEqual([true, false]);
    const [change] = keyChanges(sink);
    expect(change?.record.details).toEqual({ old_key_ids: [idOf(KEYS.signerKey)], new_key_id: idOf(OTHER.signerKey), reason: 'rotated' });
    const signers = sink.checkpoints.map((c) => parseNote(c.note).signatures.map((s) => noteKeyId(s.name, s.keyHash)));
    // The new stream's first checkpoint (over stream_started), the handover, then the new key only.
    expect(signers).toEqual([[idOf(KEYS.signerKey)], [idOf(KEYS.signerKey), idOf(OTHER.signerKey)], [idOf(OTHER.signerKey)]]);
    expect(sink.checkpoints[1]!.size).toBe(change!.record.seq + 1);
    expect(verify(sink).ok).toBe(true);
    expect(() => new AuditLogRecordProcessor({ sinks: [sink] }).rotateSignerKey(42 as never)).toThrow(TypeError);
  });

  it('the handover checkpoint is signed by both keys even when the key_changed record itself reaches the checkpoint interval', async () => {
    for (const every of [1, 2, 3, 4]) {
      const sink = new InMemoryAuditSink();
      await run(sink, KEYS.signerKey, (p) => p.rotateSignerKey(OTHER.signerKey), every);
      const [change] = keyChanges(sink);
      const handover = sink.checkpoints.find((c) => c.size === change!.record.seq + 1);
      expect(handover, `checkpoint every ${every}`).toBeDefined();
      expect(parseNote(handover!.note).signatures.map((s) => noteKeyId(s.name, s.keyHash)), `checkpoint every ${every}`).toEqual([idOf(KEYS.signerKey), idOf(OTHER.signerKey)]);
      expect(verify(sink).ok).toBe(true);
    }
  });
});
