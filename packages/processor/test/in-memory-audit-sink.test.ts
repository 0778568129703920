import { describe, expect, it } from 'vitest';
import { AuditChain, createRecordId, merkleRoot } from '@otel-audit/core';
import { InMemoryAuditSink } from '../src/index.js';

const event = (i: number) => ({ id: createRecordId(), time: String(i + 1), type: 'api', action: 'call' });

describe('InMemoryAuditSink', () => {
  it('commits idempotently on record id and reports a head a new chain can resume from', async () => {
    const chain = new AuditChain({ stream: 's/1' });
    const records = Array.from({ length: 5 }, (_, i) => chain.append(event(i)));
    const sink = new InMemoryAuditSink();
    await sink.append({ records: records.slice(0, 3), checkpoints: [] });
    await sink.append({ records: records.slice(0, 5), checkpoints: [] }); // retried batch overlapping the first
    expect(sink.records.map((r) => r.record.seq)).toEqual([0, 1, 2, 3, 4]);
    const head = (await sink.head('s/1'))!;
    expect(head).toEqual(chain.head());
    const resumed = new AuditChain({ stream: 's/1', head });
    const next = resumed.append(event(5));
    expect(next.record.seq).toBe(5);
    expect(next.record.prev).toBe(records[4]!.hash);
    expect(await sink.head('other')).toBeUndefined();
    void merkleRoot;
  });

  it('rejects a batch that skips a seq and then holds nothing of it', async () => {
    const chain = new AuditChain({ stream: 's/1' });
    const records = Array.from({ length: 3 }, (_, i) => chain.append(event(i)));
    const sink = new InMemoryAuditSink();
    await expect(sink.append({ records: [records[0]!, records[2]!], checkpoints: [] })).rejects.toThrow(/expects seq 1, got 2/);
    expect(sink.records).toHaveLength(0);
  });

  it('refuses appends after shutdown until reopened', async () => {
    const sink = new InMemoryAuditSink({ name: 'm' });
    await sink.shutdown();
    await expect(sink.append({ records: [], checkpoints: [] })).rejects.toThrow(/shut down/);
    sink.reopen();
    await expect(sink.append({ records: [], checkpoints: [] })).resolves.toBeUndefined();
  });
});
