/**
 * `GET /api/audit/stats` buckets (routes/stats.ts): over a window beyond
 * 14 days the counts come per UTC day — a 6-month window is 180 points,
 * not 4,380 hours — adding up to the total; the dashboard's 7-day window
 * keeps hours; an explicit `bucket` wins.
 */
import { randomBytes } from 'node:crypto';
import { createRecordId } from '@otel-audit/core';
import { describe, expect, it } from 'vitest';
import { appendEvents, AUDITOR_TOKEN, call, fixturesPerTest, seededEvent } from './helpers.js';

const fixture = fixturesPerTest();
const DAY_MS = 86_400_000;

describe('stats buckets', () => {
  it('over a window beyond 14 days are days (UTC), adding up to the total; the 7-day window keeps hours', async () => {
    const fx = await fixture(5);
    // One record a day for 30 days, at varying hours: 30 days of the series, 5 recent records in the last one.
    appendEvents(fx.store, fx.chain, Array.from({ length: 30 }, (_, d) => ({ ...seededEvent(d, 0), id: createRecordId(), time: new Date(Date.now() - (d + 1) * DAY_MS - (d % 5) * 3_600_000) })));
    const since = new Date(Date.now() - 40 * DAY_MS).toISOString();
    const res = await call(fx, `/api/audit/stats?since=${since}`, AUDITOR_TOKEN);
    expect(res.status).toBe(200);
    const stats = await res.json();
    expect(stats.bucket).toBe('day');
    const starts = [...stats.series.map((p: any) => p.start), ...stats.buckets.map((b: any) => b.start)];
    expect(starts.every((s: string) => /T00:00:00\.0+Z$/.test(s)), starts.join(' ')).toBe(true);
    expect(stats.series.length).toBeLessThanOrEqual(41);
    expect(stats.series.length).toBeGreaterThanOrEqual(30);
    const seriesSum = stats.series.reduce((n: number, p: any) => n + Object.values(p.counts as Record<string, number>).reduce((a, b) => a + b, 0), 0);
    expect(seriesSum).toBe(stats.total);
    expect(stats.buckets.reduce((n: number, b: any) => n + b.count, 0)).toBe(stats.total);
    expect(stats.total).toBeGreaterThanOrEqual(35);

    const week = await (await call(fx, `/api/audit/stats?since=${new Date(Date.now() - 7 * DAY_MS).toISOString()}`, AUDITOR_TOKEN)).json();
    expect(week.bucket).toBe('hour');
    // An explicit bucket still wins.
    const days = await (await call(fx, `/api/audit/stats?since=${new Date(Date.now() - 2 * DAY_MS).toISOString()}&bucket=day`, AUDITOR_TOKEN)).json();
    expect(days.bucket).toBe('day');
  });

  it('are answered on a store encrypted at rest: the worker reads no sealed column, so it needs no key', async () => {
    const fx = await fixture(10, {}, { encryption: { keyId: 'k1', key: randomBytes(32) } });
    const res = await call(fx, `/api/audit/stats?since=${new Date(Date.now() - 30 * DAY_MS).toISOString()}`, AUDITOR_TOKEN);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ total: 10, bucket: 'day', distinctActors: 3 });
  });
});
