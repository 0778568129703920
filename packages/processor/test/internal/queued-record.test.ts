import { describe, expect, it } from 'vitest';
import { AuditChain, canonicalize, createRecordId } from '@otel-audit/core';
import { QueuedRecord, keyOf } from '../../src/internal/queued-record.js';

describe('QueuedRecord', () => {
  it('keeps id/stream/seq at hand and gives back a record equal to the one hashed', () => {
    const chain = new AuditChain({ stream: 'q/1' });
    chain.append({ id: createRecordId(), time: '1', type: 't', action: 'a' });
    const sealed = chain.append({
      id: createRecordId(), time: '2', type: 'crud', action: 'update',
      details: { n: 0.1, big: 9007199254740991, e: 1e-7, s: '\u2028é', arr: [null, true], '10': 'x', a: 1 },
    });
    const q = QueuedRecord.of(sealed);
    expect(keyOf(q)).toBe(q);
    expect({ id: q.id, stream: q.stream, seq: q.seq }).toEqual({ id: sealed.record.id, stream: 'q/1', seq: 1 });
    expect(q.record).toEqual(sealed.record);
    expect(canonicalize(q.record)).toBe(sealed.canonical);
    expect(q.record).toBe(q.record); // parsed once
    expect(keyOf(sealed)).toBe(sealed.record);
    const p = QueuedRecord.parse(sealed.canonical, sealed.hash);
    expect(p).toMatchObject({ id: q.id, stream: 'q/1', seq: 1, hash: sealed.hash });
  });
});
