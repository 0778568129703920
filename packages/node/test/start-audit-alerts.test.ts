/**
 * startAudit with `processors.alerts.max_clock_skew` (DESIGN §9): the alert
 * rules' clock follows record times, capped at the wall clock plus this
 * skew. Observed the way a user would: by the alert records in the store.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { audit, startAudit, type AuditHandle } from '../src/index.js';
import { setupEdited, verified } from './start-audit-fixture.js';

let running: AuditHandle | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

const HOUR = 3_600_000;

/** failed_logins alerts in the store after two failed logins of one actor dated 1 h and 2 h ahead, under `alerts` as the alerts section. */
async function alertsAfterFutureLogins(alerts: string): Promise<number> {
  const { dir, path } = setupEdited((t) => t.replace('alerts: { builtins: { failed_logins: 3 } }', alerts));
  running = await startAudit({ path, env: {} });
  const now = Date.now();
  for (const ahead of [1, 2]) await audit.login({ actor: 'mallory', outcome: 'failure', time: new Date(now + ahead * HOUR) });
  await running.shutdown();
  running = undefined;
  const { report, rows } = await verified(join(dir, 'audit.db'));
  expect(report.ok).toBe(true);
  return rows.filter((r) => r.event_type === 'alert' && r.event_action === 'failed_logins').length;
}

describe('processors.alerts.max_clock_skew', () => {
  it('sets how far ahead a record may move the alert clock: 3h keeps logins dated 1 h and 2 h ahead an hour apart, the default 5m counts both as of now + 5 m', async () => {
    const rule = 'builtins: { failed_logins: { threshold: 2, window: 1m } }';
    // Each counts as of its own time: an hour apart, never two inside one minute.
    expect(await alertsAfterFutureLogins(`alerts: { ${rule}, max_clock_skew: 3h }`)).toBe(0);
    // Both capped at the wall clock + 5 m: two inside one minute, an alert.
    expect(await alertsAfterFutureLogins(`alerts: { ${rule} }`)).toBe(1);
  });
});

describe('processors.alerts.max_groups_per_rule', () => {
  /** alert_groups_evicted records in the store after failed logins of `actors` distinct actors. */
  async function evictionAlertsAfter(alerts: string, actors: number): Promise<Array<Record<string, unknown>>> {
    const { dir, path } = setupEdited((t) => t.replace('alerts: { builtins: { failed_logins: 3 } }', alerts));
    running = await startAudit({ path, env: {} });
    for (let i = 0; i < actors; i++) await audit.login({ actor: `user-${i}`, outcome: 'failure' });
    await running.shutdown();
    running = undefined;
    const { report, rows } = await verified(join(dir, 'audit.db'));
    expect(report.ok).toBe(true);
    return rows.filter((r) => r.event_type === 'alert' && r.event_action === 'alert_groups_evicted');
  }

  it('caps the groups a rule keeps, and a rule that evicts raises alert_groups_evicted into the chain', async () => {
    const evicted = await evictionAlertsAfter('alerts: { builtins: { failed_logins: 3 }, max_groups_per_rule: 2 }', 3);
    // failed_logins (per actor) evicted user-0 for user-2; so did brute_force_success. Per IP, one group: nothing evicted.
    expect(evicted.map((r) => JSON.parse(r.details as string).group.rule).sort()).toEqual(['brute_force_success', 'failed_logins']);
    // Without the key, 10,000 groups: none evicted.
    expect(await evictionAlertsAfter('alerts: { builtins: { failed_logins: 4 } }', 3)).toEqual([]);
  });
});
