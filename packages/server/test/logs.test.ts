/**
 * `GET /api/audit/logs` (issue 7): every filter narrows the page to
 * matching records, keyset cursors walk the whole window without overlap,
 * the default window is 7 days, and a table of hostile or malformed inputs
 * is answered with a 400 that names the problem — never a 500, never
 * records it should not return.
 */
import { createRecordId } from '@otel-audit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRecords, ADMIN_TOKEN, AUDITOR_TOKEN, appendEvents, call, startFixture, type Fixture } from './helpers.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture(40);
  // One record 8 days old: outside the default window.
  appendEvents(fx.store, fx.chain, [{ id: createRecordId(), time: new Date(Date.now() - 8 * 86_400_000), type: 'crud', action: 'ancient', actor: { id: 'old-timer' } }]);
});
afterAll(async () => { await fx.close(); });

type Item = { record: Record<string, any>; checksum: string; timestamp: string };
async function logs(query: string, token = ADMIN_TOKEN): Promise<{ records: Item[]; nextCursor: string | null }> {
  const res = await call(fx, `/api/audit/logs?${query}`, token);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

describe('filters', () => {
  it.each([
    ['type=auth', (r: any) => r.type === 'auth', 16],
    ['action=config_change', (r: any) => r.action === 'config_change', 8],
    ['outcome=failure', (r: any) => r.outcome === 'failure', 8],
    ['severity=error', (r: any) => r.severity === 'error', 8],
    ['actor=user-1', (r: any) => r.actor?.id === 'user-1', 13],
    ['target_type=tool&target_id=2', (r: any) => r.target?.type === 'tool' && r.target?.id === '2', 10],
    ['request_id=req-7', (r: any) => r.request?.id === 'req-7', 1],
    ['q=needle', (r: any) => r.details?.note === 'needle in details', 6],
    ['stream=svc%2F1&type=crud&outcome=error', (r: any) => r.type === 'crud' && r.outcome === 'error', 8],
  ])('%s returns exactly the matching records', async (query, match, expected) => {
    const page = await logs(`${query}&limit=1000`);
    expect(page.records.length).toBe(expected);
    expect(page.records.every((i) => match(i.record))).toBe(true);
  });

  it('time range: since/until bound the records', async () => {
    const since = new Date(Date.now() - 100 * 60_000).toISOString();
    const until = new Date(Date.now() - 30 * 60_000).toISOString();
    const page = await logs(`stream=svc%2F1&since=${since}&until=${until}`);
    expect(page.records.length).toBe(7);
    for (const i of page.records) {
      expect(Date.parse(i.timestamp)).toBeGreaterThanOrEqual(Date.parse(since));
      expect(Date.parse(i.timestamp)).toBeLessThan(Date.parse(until));
    }
  });

  it('defaults to the last 7 days; an explicit since reaches older records', async () => {
    expect((await logs('action=ancient')).records).toEqual([]);
    const old = await logs(`action=ancient&since=${new Date(Date.now() - 9 * 86_400_000).toISOString()}`);
    expect(old.records.map((i) => i.record.actor.id)).toEqual(['old-timer']);
  });

  it('SQL metacharacters in values are matched literally', async () => {
    for (const value of ["' OR 1=1 --", '%', '_', "user-1' --", '"; DROP TABLE audit_logs; --']) {
      expect((await logs(`actor=${encodeURIComponent(value)}`)).records).toEqual([]);
      expect((await logs(`stream=svc%2F1&q=${encodeURIComponent(value)}`)).records).toEqual([]);
    }
    expect((await logs('limit=1000&stream=svc%2F1')).records.length).toBe(40);
  });
});

describe('keyset cursors', () => {
  it('pages through every record once, newest first, then oldest first', async () => {
    for (const order of ['newest', 'oldest']) {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { records: Item[]; nextCursor: string | null } = await logs(`stream=svc%2F1&limit=7&order=${order}${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.records.map((i) => i.record.seq));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(pages).toBe(6);
      const expected = Array.from({ length: 40 }, (_, i) => i);
      expect(seen).toEqual(order === 'newest' ? expected.reverse() : expected);
    }
  });

  it('refuses a cursor of the other order or a forged one', async () => {
    const { nextCursor } = await logs('stream=svc%2F1&limit=5&order=newest');
    const res = await call(fx, `/api/audit/logs?limit=5&order=oldest&cursor=${nextCursor}`, ADMIN_TOKEN);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('AUDIT_QUERY_CURSOR_INVALID');
  });
});

describe('bad input', () => {
  it.each([
    ['limit=100000', /limit must be an integer in 1\.\.1000/],
    ['limit=0', /limit must be an integer in 1\.\.1000/],
    ['limit=ten', /limit must be an integer/],
    ['limit=1e3', /limit must be an integer/],
    ['since=yesterday', /since must be an ISO-8601/],
    ['since=2026-02-30T00:00:00Z', /since/],
    ['until=2026-13-01', /until/],
    ["since=2026-01-01'--", /since must be an ISO-8601/],
    ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', /since must not be after until/],
    ['outcome=maybe', /outcome must be one of success, failure, error, unknown/],
    ['severity=%3Cscript%3E', /severity must be one of/],
    ['order=sideways', /order must be one of newest, oldest/],
    ['cursor=%27%20OR%201%3D1', /cursor/],
    ['actor=', /actor must be 1\.\.1024 characters/],
    [`actor=${'a'.repeat(1025)}`, /actor must be 1\.\.1024 characters/],
    ['limit=5&limit=6', /limit is given 2 times/],
    ['typo=1&also=2', /unknown parameters "typo", "also"; this route accepts type, action/],
    ['__proto__=1', /unknown parameter "__proto__"/],
  ])('%s → 400 naming the problem', async (query, message) => {
    const res = await call(fx, `/api/audit/logs?${query}`, AUDITOR_TOKEN);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(400);
    expect(body.error.message).toMatch(message);
  });

  it('refuses an overlong URL with 414', async () => {
    const res = await call(fx, `/api/audit/logs?q=${'x'.repeat(5000)}`, ADMIN_TOKEN);
    expect(res.status).toBe(414);
  });

  it('audits a refused query as a failed request with its status and reason, and every read with who, route, filters and count', async () => {
    const before = accessRecords(fx.store).length;
    // The record is committed before the answer: it is there when the 400 arrives.
    const res = await call(fx, '/api/audit/logs?limit=100000', AUDITOR_TOKEN);
    expect(res.status).toBe(400);
    expect(accessRecords(fx.store).slice(before)).toMatchObject([{
      type: 'access', action: 'request', outcome: 'failure', severity: 'warning', actor: { id: 'bob', type: 'api_key' }, request: { endpoint: '/api/audit/logs', method: 'GET' },
      details: { role: 'auditor', status: 400, code: 'AUDIT_HTTP_BAD_REQUEST', reason: expect.stringMatching(/limit must be an integer in 1\.\.1000/), query: 'limit=100000' },
    }]);
    await logs('type=auth&limit=3', AUDITOR_TOKEN);
    const last = accessRecords(fx.store).at(-1)!;
    expect(last).toMatchObject({
      type: 'access', action: 'view', outcome: 'success', actor: { id: 'bob', type: 'api_key', ip: '127.0.0.1' },
      request: { endpoint: '/api/audit/logs', method: 'GET' }, details: { role: 'auditor', query: { type: 'auth', limit: 3 }, count: 3 },
    });
  });
});
