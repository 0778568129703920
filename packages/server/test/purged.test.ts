/**
 * Purged records in the query API (DESIGN §6 retention): once retention has
 * purged a prefix of a stream, `GET /api/audit/logs` carries `purged` next
 * to the records and `GET /api/audit/export` the `Audit-Purged` header,
 * naming the stream, the purged seq and time range, when it was purged and
 * the archives that hold it — and both stay empty for a range of live
 * records only. A real store in a temp dir, purged by its own retention,
 * behind the real server on 127.0.0.1:0.
 */
import { createRecordId } from '@otel-audit/core';
import type { PurgedRange } from '@otel-audit/exporter-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURGED_HEADER, PURGED_OMITTED_HEADER } from '../src/index.js';
import { MAX_PURGED_HEADER_CHARS, purgedHeaders } from '../src/internal/purged-header.js';
import { ADMIN_TOKEN, appendEvents, AUDITOR_TOKEN, call, startFixture, STREAM, type Fixture } from './helpers.js';

let fx: Fixture;
let archiveId: number;
let purgeRecordId: string;
/** Since 4 hours ago: reaches the purged records. */
const wide = () => new Date(Date.now() - 4 * 3_600_000).toISOString();
/** Since 30 s ago: live records only. */
let liveSince: string;

beforeAll(async () => {
  // 20 records 191..1 minutes old, signed at size 20; then 10 new ones, signed at 30.
  fx = await startFixture(20);
  liveSince = new Date(Date.now() - 30_000).toISOString();
  appendEvents(fx.store, fx.chain, Array.from({ length: 10 }, (_, i) => ({ id: createRecordId(), time: new Date(Date.now() + i), type: 'crud', action: 'fresh', actor: { id: 'carol' } })));
  const [archive] = fx.store.archive({ olderThan: liveSince, streams: [STREAM] });
  const [purge] = await fx.store.purge({ olderThan: liveSince, streams: [STREAM] });
  archiveId = archive!.archiveId;
  purgeRecordId = purge!.purgeRecordId;
  expect(purge).toMatchObject({ firstSeq: 0, lastSeq: 19, archiveIds: [archiveId] });
});
afterAll(async () => { await fx.close(); });

/** The run the purge left, as JSON carries it (bigints as decimal strings). */
function expectPurgedRun(purged: unknown): void {
  expect(purged).toEqual([{
    stream: STREAM, firstSeq: 0, lastSeq: 19, records: 20, firstTimeUnixNano: expect.stringMatching(/^\d+$/), lastTimeUnixNano: expect.stringMatching(/^\d+$/),
    firstPurgedUnixNano: expect.stringMatching(/^\d+$/), lastPurgedUnixNano: expect.stringMatching(/^\d+$/), purgeRecordIds: [purgeRecordId], archiveIds: [archiveId],
  }]);
  const run = (purged as Record<string, string>[])[0]!;
  expect(BigInt(run.firstTimeUnixNano!) < BigInt(run.lastTimeUnixNano!)).toBe(true);
  expect(Math.abs(Number(BigInt(run.lastPurgedUnixNano!) / 1_000_000n) - Date.now())).toBeLessThan(60_000);
}

describe('GET /api/audit/logs after a purge', () => {
  it('carries the purged run next to the records when the range reaches into it', async () => {
    const res = await call(fx, `/api/audit/logs?stream=svc%2F1&since=${wide()}&limit=1000`, AUDITOR_TOKEN);
    expect(res.status).toBe(200);
    const body = await res.json();
    // Only the live records come back: 10 fresh ones and the retention_purge record.
    expect(body.records.map((i: { record: { seq: number } }) => i.record.seq).sort((a: number, b: number) => a - b)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(body).toMatchObject({ nextCursor: null, since: expect.any(String), until: null });
    expectPurgedRun(body.purged);
    // The default window (7 days) reaches it too, whatever the other filters.
    expectPurgedRun((await (await call(fx, '/api/audit/logs?type=auth', AUDITOR_TOKEN)).json()).purged);
  });

  it('carries an empty purged over live records only, or another stream', async () => {
    const live = await (await call(fx, `/api/audit/logs?stream=svc%2F1&since=${liveSince}`, AUDITOR_TOKEN)).json();
    expect(live.records.length).toBeGreaterThan(0);
    expect(live.purged).toEqual([]);
    expect((await (await call(fx, `/api/audit/logs?stream=otel-audit-server%2Ftest&since=${wide()}`, ADMIN_TOKEN)).json()).purged).toEqual([]);
  });
});

describe('GET /api/audit/export after a purge', () => {
  it('names the purged run in Audit-Purged, the body unchanged, for records and bundles', async () => {
    const json = await call(fx, `/api/audit/export?format=json&stream=svc%2F1&since=${wide()}`, AUDITOR_TOKEN);
    expect(json.status).toBe(200);
    expectPurgedRun(JSON.parse(json.headers.get(PURGED_HEADER)!));
    expect(json.headers.has(PURGED_OMITTED_HEADER)).toBe(false);
    const items = (await json.json()) as { record: { seq: number } }[];
    expect(Array.isArray(items)).toBe(true);
    expect(items[0]!.record.seq).toBe(20);
    const bundle = await call(fx, '/api/audit/export?format=bundle&stream=svc%2F1&from_seq=5&to_seq=25', ADMIN_TOKEN);
    expect(bundle.status).toBe(200);
    expectPurgedRun(JSON.parse(bundle.headers.get(PURGED_HEADER)!));
    await bundle.text();
  });

  it('sends Audit-Purged: [] for live records only', async () => {
    const csv = await call(fx, `/api/audit/export?format=csv&stream=svc%2F1&since=${liveSince}`, ADMIN_TOKEN);
    expect(csv.status).toBe(200);
    expect(csv.headers.get(PURGED_HEADER)).toBe('[]');
    await csv.text();
    const bundle = await call(fx, '/api/audit/export?format=bundle&stream=svc%2F1&from_seq=20', ADMIN_TOKEN);
    expect(bundle.headers.get(PURGED_HEADER)).toBe('[]');
    await bundle.text();
  });
});

describe('purgedHeaders', () => {
  const run = (stream: string, firstSeq: number): PurgedRange => ({
    stream, firstSeq, lastSeq: firstSeq + 9, records: 10, firstTimeUnixNano: 1n, lastTimeUnixNano: 2n, firstPurgedUnixNano: 3n, lastPurgedUnixNano: 3n,
    purgeRecordIds: ['0190a0a0-0000-7000-8000-000000000000'], archiveIds: [1],
  });

  it('writes other characters than ASCII as JSON escapes, so the value stays JSON', () => {
    const headers = purgedHeaders([run('zürich/😀\u2028', 0)]);
    expect(headers[PURGED_HEADER]).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(headers[PURGED_HEADER]!)[0].stream).toBe('zürich/😀\u2028');
  });

  it('leaves out the runs past its bound and counts them', () => {
    const runs = Array.from({ length: 200 }, (_, i) => run(`s/${i}`, 0));
    const headers = purgedHeaders(runs);
    expect(headers[PURGED_HEADER]!.length).toBeLessThanOrEqual(MAX_PURGED_HEADER_CHARS);
    const kept = JSON.parse(headers[PURGED_HEADER]!) as unknown[];
    expect(kept.length).toBeGreaterThan(0);
    expect(Number(headers[PURGED_OMITTED_HEADER])).toBe(200 - kept.length);
  });
});
