import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { genesisPrev, type AuditRecord } from '@otel-audit/core';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import { builtinAlertRules } from '../../src/alerts/builtin-rules.js';
import { T0_SECONDS } from './helpers.js';

// The fast suite floods 100,000 actors (alert-engine.test.ts); this is the
// 1,000,000 of the issue, run with `npm run test:slow`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
describe('AlertEngine flood (slow)', () => {
  it('keeps memory bounded through 1,000,000 distinct actors and IPs', () => {
    const maxGroupsPerRule = 10_000;
    const engine = new AlertEngine({ rules: builtinAlertRules({ offHoursAdmin: true }), maxGroupsPerRule });
    const prev = genesisPrev('sha256');
    const baseNanos = BigInt(T0_SECONDS) * 1_000_000_000n;
    const N = 1_000_000;
    let heapAfterWarmup = 0;
    for (let i = 0; i < N; i++) {
      const hex = i.toString(16).padStart(12, '0');
      const record = {
        v: 1, alg: 'sha256', stream: 'flood/1', seq: i, prev,
        id: `019b8b7d-5348-7000-8000-${hex}`,
        time: (baseNanos + BigInt(i) * 100_000n).toString(), // 10,000 records/s: all within one 5-minute window
        type: i % 3 === 0 ? 'crud' : 'auth',
        action: i % 3 === 0 ? 'view' : 'login',
        outcome: i % 3 === 0 ? 'success' : 'failure',
        severity: 'info',
        actor: { id: `actor-${i}`, type: 'user', ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
      } as AuditRecord;
      engine.evaluate(record);
      if (i === 4 * maxGroupsPerRule) {
        gc();
        heapAfterWarmup = process.memoryUsage().heapUsed;
      }
    }
    const stats = engine.stats();
    for (const r of stats.rules) expect(r.groups).toBeLessThanOrEqual(maxGroupsPerRule);
    const evicted = Object.fromEntries(stats.rules.map((r) => [r.name, r.evictedGroups]));
    const logins = N - Math.ceil(N / 3);
    expect(evicted.failed_logins).toBe(logins - maxGroupsPerRule);
    expect(evicted.failed_logins_by_ip).toBe(logins - maxGroupsPerRule);
    expect(evicted.brute_force_success).toBe(logins - maxGroupsPerRule);
    expect(evicted.data_exfiltration).toBe(Math.ceil(N / 3) - maxGroupsPerRule);
    expect(stats.evictedGroups).toBe(engine.evictedGroups);
    expect(stats.alerts).toBe(0);
    gc();
    // Growth after the caps were reached stays small (no per-actor leak).
    expect(process.memoryUsage().heapUsed - heapAfterWarmup).toBeLessThan(16 * 1024 * 1024);
  });
});
