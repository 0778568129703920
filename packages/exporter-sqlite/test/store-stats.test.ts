import { AuditChain } from '@otel-audit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditStore } from '../src/index.js';
import { fullEvent, MINUTE, sealBatch, T0, tempDb } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => { while (cleanups.length) cleanups.pop()!(); });

const KINDS = [
  ['auth', 'login', 'failure', 'warning'], ['auth', 'login', 'success', 'info'], ['admin', 'update', 'success', 'info'],
  ['admin', 'config_change', 'success', 'warning'], ['admin', 'grant', 'success', 'critical'], ['crud', 'view', 'success', 'info'],
] as const;

function setup() {
  const tmp = tempDb();
  const store = new SqliteAuditStore(tmp.file);
  cleanups.push(() => { store.close(); tmp.cleanup(); });
  const chain = new AuditChain({ stream: 'st/1' });
  // 120 records, one every 30 s starting at T0 (one hour); kinds cycle; actors cycle over 4 ids.
  store.appendSync(sealBatch(chain, 120, 1000, (i) => {
    const [type, action, outcome, severity] = KINDS[i % KINDS.length]!;
    return { ...fullEvent(i, T0 + BigInt(i) * (MINUTE / 2n)), type, action, outcome, severity, actor: { id: `actor-${i % 4}` } };
  }));
  return store;
}

describe('SqliteAuditStore.stats', () => {
  it('counts by type, action, result and severity, failed logins, config changes and distinct actors', () => {
    const store = setup();
    const s = store.stats({ since: T0, until: T0 + 60n * MINUTE });
    expect(s.total).toBe(120);
    expect(s.byType).toEqual({ auth: 40, admin: 60, crud: 20 });
    expect(s.byAction).toEqual({ login: 40, update: 20, config_change: 20, grant: 20, view: 20 });
    expect(s.byResult).toEqual({ failure: 20, success: 100 });
    expect(s.bySeverity).toEqual({ warning: 40, info: 60, critical: 20 });
    expect(s.failedLogins).toBe(20);
    expect(s.configChanges).toBe(40);
    expect(s.distinctActors).toBe(4);
    expect(s.since).toBe('2023-11-14T22:13:20.000000000Z');
  });

  it('buckets per minute and per hour, and respects the window bounds', () => {
    const store = setup();
    const perMinute = store.stats({ since: T0, until: T0 + 60n * MINUTE, bucket: 'minute' });
    expect(perMinute.buckets).toHaveLength(60);
    expect(perMinute.buckets.every((b) => b.count === 2)).toBe(true);
    expect(perMinute.buckets[0]!.start).toBe('2023-11-14T22:13:00.000000000Z');
    const perHour = store.stats({ since: T0, until: T0 + 60n * MINUTE });
    expect(perHour.buckets.reduce((n, b) => n + b.count, 0)).toBe(120);
    const window = store.stats({ since: T0 + 10n * MINUTE, until: T0 + 20n * MINUTE, stream: 'st/1' });
    expect(window.total).toBe(20);
    expect(store.stats({ since: T0, until: T0 + 60n * MINUTE, stream: 'other' }).total).toBe(0);
  });

  it('gives the same answer from the hourly counts as from the rows, at any window edges, also after a purge', async () => {
    const tmp = tempDb();
    const store = new SqliteAuditStore(tmp.file);
    cleanups.push(() => { store.close(); tmp.cleanup(); });
    const chain = new AuditChain({ stream: 'h/1' });
    // 600 records 7 minutes apart: about 70 hours.
    store.appendSync(sealBatch(chain, 600, 50, (i) => {
      const [type, action, outcome, severity] = KINDS[(i * 5) % KINDS.length]!;
      return { ...fullEvent(i, T0 + BigInt(i) * 7n * MINUTE), type, action, outcome, severity };
    }));
    const check = (since: bigint, until: bigint) => {
      const global = store.stats({ since, until });
      const rows = store.stats({ since, until, stream: 'h/1' }); // one stream: computed from the rows only
      expect(global).toEqual(rows);
      // Day buckets (UTC): the same from both, midnight-aligned, adding up to the total.
      const days = store.stats({ since, until, bucket: 'day' });
      expect(days).toEqual(store.stats({ since, until, bucket: 'day', stream: 'h/1' }));
      expect(days.buckets.every((d) => d.start.endsWith('T00:00:00.000000000Z'))).toBe(true);
      expect(days.buckets.reduce((n, d) => n + d.count, 0)).toBe(global.total);
      return global;
    };
    const all = check(T0, T0 + 5000n * MINUTE);
    expect(all.total).toBe(600);
    expect(all.buckets.length).toBeGreaterThan(60);
    // T0 is 22:13 UTC: about 70 hours reach 4 calendar days.
    expect(store.stats({ since: T0, until: T0 + 5000n * MINUTE, bucket: 'day' }).buckets.map((d) => d.start.slice(0, 10))).toEqual(['2023-11-14', '2023-11-15', '2023-11-16', '2023-11-17']);
    check(T0 + 17n * MINUTE + 3n, T0 + 1333n * MINUTE + 11n);
    check(T0 + 60n * MINUTE, T0 + 120n * MINUTE);
    store.archive({ olderThan: T0 + 2000n * MINUTE });
    await store.purge({ olderThan: T0 + 2000n * MINUTE, nowUnixNano: T0 + 4300n * MINUTE });
    const after = check(T0, T0 + 5000n * MINUTE);
    expect(after.total).toBe(600 - 250 + 1);
    expect(store.database.prepare('SELECT count(*) FROM audit_stats_hourly WHERE n <= 0').pluck().get()).toBe(0);
  });

  it('counts distinct actors the same way with few actors (index seeks) and many (window scan)', () => {
    for (const actors of [7, 1_300]) {
      const tmp = tempDb();
      const store = new SqliteAuditStore(tmp.file);
      cleanups.push(() => { store.close(); tmp.cleanup(); });
      store.appendSync(sealBatch(new AuditChain({ stream: 'a/1' }), 1_400, 1_000, (i) => ({ ...fullEvent(i, T0 + BigInt(i) * MINUTE), actor: { id: `actor-${i % actors}` } })));
      for (const [from, to] of [[0, 1_400], [100, 400], [1_399, 1_400], [2_000, 3_000]] as const) {
        const window = { since: T0 + BigInt(from) * MINUTE, until: T0 + BigInt(to) * MINUTE };
        const expected = new Set(Array.from({ length: Math.max(0, Math.min(to, 1_400) - from) }, (_, k) => (from + k) % actors)).size;
        expect(store.stats(window).distinctActors, `${actors} actors, ${from}..${to}`).toBe(expected);
        expect(store.stats({ ...window, stream: 'a/1' }).distinctActors).toBe(expected);
      }
    }
  });

  it('refuses bad windows and options', () => {
    const store = setup();
    expect(() => store.stats({ since: 'last week' })).toThrow(/^options.since/);
    expect(() => store.stats({ since: T0 + MINUTE, until: T0 })).toThrow(/^options.since must not be after/);
    expect(() => store.stats({ since: 0n, until: T0, bucket: 'minute' })).toThrow(/^options.bucket 'minute' over this window/);
    expect(() => store.stats({ bucket: 'week' as never })).toThrow(/^options.bucket must be 'minute', 'hour' or 'day'/);
    expect(() => store.stats({ actor: 'x' } as never)).toThrow(/^options.actor is not a known option/);
  });
});
