/**
 * `exclude_stream=` (the store's `excludeStream` filter) over the real API: the
 * logs leave the server's own access stream out while keyset paging stays
 * exact (every other record once, in order, across pages), the exports
 * (json, ndjson, csv — a CSV cell holding CRLF included) leave it out and
 * their closing access record counts what was sent, and without the
 * parameter nothing changes: the access records stay reachable.
 */
import { createRecordId } from '@otel-audit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRecords, ADMIN_TOKEN, appendEvents, call, startFixture, STREAM, until, type Fixture } from './helpers.js';

const OWN = 'otel-audit-server/test';
let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture(30);
  // Interleave: many access records newer than the seeded ones, then one more service record with CRLF and quotes in its actor id.
  for (let i = 0; i < 40; i++) expect((await call(fx, '/api/audit/stats', ADMIN_TOKEN)).status).toBe(200);
  appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(), type: 'crud', action: 'multi-line', actor: { id: 'carol\r\n"x",y' }, details: { tag: 'crlf-needle' } }], false);
  for (let i = 0; i < 5; i++) expect((await call(fx, '/api/audit/stats', ADMIN_TOKEN)).status).toBe(200);
});
afterAll(async () => { await fx.close(); });

type Page = { records: { record: { stream: string; seq: number } }[]; nextCursor: string | null; purged: unknown[] };
async function logs(query: string): Promise<Page> {
  const res = await call(fx, `/api/audit/logs?${query}`, ADMIN_TOKEN);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe('exclude_stream on /api/audit/logs', () => {
  it('leaves the stream out of the first page, which fills with the other records', async () => {
    const page = await logs(`exclude_stream=${encodeURIComponent(OWN)}&limit=10`);
    expect(page.records).toHaveLength(10);
    expect(page.records.every((r) => r.record.stream === STREAM)).toBe(true);
    expect(page.records[0]!.record.seq).toBe(30);
    expect(page.nextCursor).not.toBeNull();
    // Without it, the newest records are the server's own.
    const all = await logs('limit=5');
    expect(all.records.every((r) => r.record.stream === OWN)).toBe(true);
  });

  it('pages through every other record exactly once, in order, and ends', async () => {
    for (const [order, limit] of [['newest', 7], ['oldest', 4], ['newest', 31]] as const) {
      const seen: number[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 20; i++) {
        const page: Page = await logs(`exclude_stream=${encodeURIComponent(OWN)}&order=${order}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.records.every((r) => r.record.stream === STREAM)).toBe(true);
        seen.push(...page.records.map((r) => r.record.seq));
        cursor = page.nextCursor;
        if (cursor === null) break;
      }
      const want = Array.from({ length: 31 }, (_, i) => i);
      expect(seen, `${order} limit ${limit}`).toEqual(order === 'newest' ? want.reverse() : want);
    }
  });

  it('combines with the other filters and free text, and excluding another stream keeps the server\'s', async () => {
    const page = await logs(`exclude_stream=${encodeURIComponent(OWN)}&q=multi&limit=5`);
    expect(page.records).toHaveLength(0);
    const text = await logs(`exclude_stream=${encodeURIComponent(OWN)}&q=crlf-needle&limit=5`);
    expect(text.records.map((r) => r.record.seq)).toEqual([30]);
    const other = await logs(`exclude_stream=${encodeURIComponent(STREAM)}&limit=1000`);
    expect(other.records.length).toBeGreaterThan(40);
    expect(other.records.every((r) => r.record.stream === OWN)).toBe(true);
  });

  it('refuses an empty or repeated value', async () => {
    expect((await call(fx, '/api/audit/logs?exclude_stream=', ADMIN_TOKEN)).status).toBe(400);
    expect((await call(fx, '/api/audit/logs?exclude_stream=a&exclude_stream=b', ADMIN_TOKEN)).status).toBe(400);
    expect((await call(fx, '/api/audit/export?format=bundle&exclude_stream=a', ADMIN_TOKEN)).status).toBe(400);
  });
});

describe('exclude_stream on /api/audit/export', () => {
  it.each(['json', 'ndjson', 'csv'] as const)('%s leaves the stream out and counts what it sent', async (format) => {
    const res = await call(fx, `/api/audit/export?format=${format}&exclude_stream=${encodeURIComponent(OWN)}`, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).not.toContain(OWN);
    if (format === 'json') expect((JSON.parse(body) as unknown[]).length).toBe(31);
    if (format === 'ndjson') expect(body.trim().split('\n').map((l) => JSON.parse(l).record.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i));
    if (format === 'csv') {
      expect(body.startsWith('event_id,')).toBe(true);
      expect(body).toContain(',"carol\r\n""x"",y",');
      // Header + 31 records; the record with CRLF in a cell is one record of two lines.
      expect(body.split('\r\n').filter((l) => l !== '').length).toBe(1 + 31 + 1);
    }
    // The closing access record is committed after the last byte: wait for it.
    const closing = () => accessRecords(fx.store).filter((r) => r.action === 'export' && (r.details as { phase?: string; query?: { format?: string } }).phase === 'finished'
      && (r.details as { query?: { format?: string } }).query?.format === format);
    await until(() => closing().length > 0, 10_000, 'the closing export record');
    expect((closing().at(-1)!.details as { count?: number }).count).toBe(31);
    // Without the parameter the export holds the access records too.
    const all = await (await call(fx, `/api/audit/export?format=${format}`, ADMIN_TOKEN)).text();
    expect(all).toContain(OWN);
  });
});
