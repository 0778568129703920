/**
 * Refused requests in the access stream (src/internal/refusal-log.ts): an
 * outsider sending bad tokens uses up only the budget of unknown
 * credentials (401), so an auditor's refused attempts (403: a decrypted
 * export on an encrypted store) are still recorded under the auditor's own
 * budget; what a budget suppressed is written as a summary record when the
 * window ends, with no further refusal needed, or on close().
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessRecords, AUDITOR_TOKEN, call, fixturesPerTest, until, type Fixture } from './helpers.js';

const ENCRYPTED = { encryption: { keyId: 'k1', key: randomBytes(32) } };
const fixture = fixturesPerTest();
afterEach(() => {
  vi.restoreAllMocks();
});

/** `n` requests with a made-up bearer token, all answered. */
async function badTokens(fx: Fixture, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const res = await call(fx, '/api/audit/logs', `junk-token-${i}`);
    expect(res.status).toBe(401);
    await res.arrayBuffer();
  }));
}

/** `n` decrypted exports asked for by the auditor, each refused. */
async function forbiddenExports(fx: Fixture, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await call(fx, '/api/audit/export?format=csv', AUDITOR_TOKEN);
    expect(res.status).toBe(403);
    await res.arrayBuffer();
  }
}

const of = (fx: Fixture, action: string) => accessRecords(fx.store).filter((r) => r.action === action);

describe('refused requests', () => {
  it('records an auditor\'s 403s even after outsiders used up the 401 budget, and summarises the suppressed 401s when the window ends', async () => {
    const fx = await fixture(5, { refusalWindowMillis: 3_000 }, ENCRYPTED);
    await badTokens(fx, 70);
    await forbiddenExports(fx, 3);
    expect(of(fx, 'authenticate').length).toBe(60);
    const refused = of(fx, 'authorize');
    expect(refused.map((r) => [r.actor?.id, r.request?.endpoint, (r.details as { status: number }).status])).toEqual(Array(3).fill(['bob', '/api/audit/export', 403]));
    // No further refusal comes: the window's end alone writes the summary.
    await until(() => of(fx, 'refusals_suppressed').length > 0, 10_000, 'the summary of the window');
    const [summary] = of(fx, 'refusals_suppressed');
    expect(summary).toMatchObject({ outcome: 'failure', severity: 'warning', details: { suppressed: 10, unauthenticated: 10, forbidden: 0, byPrincipal: {}, maxPerWindow: 60 } });
    const { windowStart, windowEnd } = summary!.details as { windowStart: string; windowEnd: string };
    expect(Date.parse(windowEnd) - Date.parse(windowStart)).toBe(3_000);
  });

  it('gives each principal its own budget and counts its suppressed 403s by name', async () => {
    const fx = await fixture(5, { refusalWindowMillis: 60_000 }, ENCRYPTED);
    await forbiddenExports(fx, 62);
    expect(of(fx, 'authorize').length).toBe(60);
    // The 401 budget is untouched by the auditor's refusals.
    await badTokens(fx, 1);
    expect(of(fx, 'authenticate').length).toBe(1);
    await fx.server.close();
    expect(of(fx, 'refusals_suppressed').map((r) => r.details)).toMatchObject([{ suppressed: 2, unauthenticated: 0, forbidden: 2, byPrincipal: { bob: 2 } }]);
  });

  it('writes the summary on close() when the window has not ended, and none when nothing was suppressed', async () => {
    const quiet = await fixture(5);
    await badTokens(quiet, 3);
    await quiet.server.close();
    expect(of(quiet, 'authenticate').length).toBe(3);
    expect(of(quiet, 'refusals_suppressed')).toEqual([]);

    const fx = await fixture(5);
    await badTokens(fx, 61);
    expect(of(fx, 'refusals_suppressed')).toEqual([]);
    await fx.server.close();
    expect(of(fx, 'refusals_suppressed').map((r) => r.details)).toMatchObject([{ suppressed: 1, unauthenticated: 1, forbidden: 0 }]);
    // The summary is covered by the final signed checkpoint like every access record.
    const last = fx.store.query({ stream: 'otel-audit-server/test', limit: 1, since: '2000-01-01T00:00:00Z' }).records[0]!.record;
    expect(last.action).toBe('refusals_suppressed');
  });
  it('keeps its window when the wall clock steps back an hour: the budget renews and the summary is written when the window ends', async () => {
    const fx = await fixture(5, { refusalWindowMillis: 3_000 });
    await badTokens(fx, 10);
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() - 3_600_000); // NTP steps the clock back 1 h
    await badTokens(fx, 70);
    expect(of(fx, 'authenticate').length).toBe(60);
    await until(() => of(fx, 'refusals_suppressed').length > 0, 8_000, 'the summary of the window');
    const [summary] = of(fx, 'refusals_suppressed');
    expect(summary!.details).toMatchObject({ suppressed: 20, unauthenticated: 20 });
    // The labels are wall time, and the window they name is as long as configured.
    const { windowStart, windowEnd } = summary!.details as { windowStart: string; windowEnd: string };
    expect(Date.parse(windowEnd) - Date.parse(windowStart)).toBe(3_000);
    // A new window after it: the next refusals are recorded again.
    await badTokens(fx, 5);
    expect(of(fx, 'authenticate').length).toBe(65);
  });
});
