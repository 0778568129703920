/**
 * The collector's gap grace (src/collector/gap-watch.ts, stream-ingest.ts)
 * runs on the monotonic clock: a wall-clock step (an NTP correction, a VM
 * resumed) neither turns a record that is a few seconds late into a
 * `seq_gap` signed into the collector's stream, nor hides a record that is
 * really missing for the length of the step. The step is simulated by
 * replacing Date.now while timers run on; a real collector on loopback.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditChain } from '@otel-audit/core';
import { cleanups, collector, batchOf, logsOf, post } from './start-collector-support.js';

afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** From now on Date.now is `stepMillis` off, as after an NTP step. */
function stepWallClock(stepMillis: number): void {
  const real = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => real() + stepMillis);
}

const gaps = (findings: { code: string; stream: string; seq?: number }[]) => findings.filter((f) => f.code === 'seq_gap').map((f) => `${f.stream}@${f.seq}`);

describe('gap grace and the wall clock', () => {
  it('a record 2 s late is no gap when the wall clock steps forward an hour meanwhile (grace 4 s)', async () => {
    const c = await collector({ gapGraceMillis: 4_000 });
    const logs = await logsOf(batchOf(new AuditChain({ stream: 'svc/1' }), 8, 100));
    expect((await post(c, [...logs.slice(0, 3), ...logs.slice(4)])).status).toBe(200); // 3 is late: 4 records wait
    stepWallClock(3_600_000);
    await sleep(2_500); // a collector tick (every 2 s) passes
    expect(gaps(c.findings())).toEqual([]);
    expect((await post(c, [logs[3]!])).status).toBe(200); // the late record: the stream heals
    expect(c.pending()).toBe(0);
    expect(c.findings()).toEqual([]);
    const own = c.store.query({ eventType: 'system', limit: 10 }).records.map((r) => r.record.action);
    expect(own).toEqual([]);
  });

  it('a stream let go from memory keeps its grace too when the wall clock steps forward an hour (grace 4 s)', async () => {
    const c = await collector({ gapGraceMillis: 4_000, maxLiveStreams: 1 });
    const a = await logsOf(batchOf(new AuditChain({ stream: 'svc-a/1' }), 4, 100));
    const b = await logsOf(batchOf(new AuditChain({ stream: 'svc-b/1' }), 2, 100));
    expect((await post(c, [a[0]!, ...a.slice(2)])).status).toBe(200); // seq 1 of svc-a is late
    expect((await post(c, b)).status).toBe(200); // svc-a's state is let go
    stepWallClock(3_600_000);
    await sleep(2_500);
    expect(gaps(c.findings())).toEqual([]);
    expect((await post(c, [a[1]!])).status).toBe(200);
    expect(c.pending()).toBe(0);
    expect(c.findings()).toEqual([]);
  });

  it('a record really missing is reported after the grace when the wall clock steps back an hour meanwhile (grace 1 s)', async () => {
    const c = await collector({ gapGraceMillis: 1_000 });
    const logs = await logsOf(batchOf(new AuditChain({ stream: 'svc/2' }), 8, 100));
    expect((await post(c, [...logs.slice(0, 3), ...logs.slice(4)])).status).toBe(200);
    stepWallClock(-3_600_000);
    await sleep(2_500);
    expect(gaps(c.findings())).toEqual(['svc/2@3']);
  });
});
