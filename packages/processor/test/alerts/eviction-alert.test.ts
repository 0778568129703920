import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import { compileRules, type AlertRuleConfig } from '../../src/alerts/alert-rule.js';
import { AlertConfigError } from '../../src/alerts/errors.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { failedLogin } from './helpers.js';

const failures: AlertRuleConfig = {
  name: 'fails',
  match: { type: 'auth', action: 'login', outcome: 'failure' },
  group_by: ['actor.id'],
  window: '5m',
  condition: 'count >= 5',
};

const evictionAlerts = (alerts: readonly AlertEvent[]) => alerts.filter((a) => a.rule === 'alert_groups_evicted');

describe('alert_groups_evicted', () => {
  it('tells the team when junk actors push a victim\'s partial count out of a full rule', () => {
    const engine = new AlertEngine({ rules: [failures], maxGroupsPerRule: 100 });
    const raised: AlertEvent[] = [];
    for (let s = 0; s < 4; s++) raised.push(...engine.evaluate(failedLogin('alice', '10.0.0.1', s)));
    // 100 junk actors, one failure each: alice's group is the least recently active and goes first.
    let first: ReturnType<typeof failedLogin> | undefined;
    for (let i = 0; i < 100; i++) {
      const r = failedLogin(`junk-${i}`, '10.9.9.9', 10 + i / 100);
      first ??= i === 99 ? r : undefined;
      raised.push(...engine.evaluate(r));
    }
    // alice's fifth failure inside the window no longer reaches the threshold…
    raised.push(...engine.evaluate(failedLogin('alice', '10.0.0.1', 20)));
    expect(raised.filter((a) => a.rule === 'fails')).toEqual([]);
    // …but the eviction was said, at once, naming the rule.
    const [alert, ...more] = evictionAlerts(raised);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      rule: 'alert_groups_evicted', severity: 'warning', condition: 'groups > 100', group: { rule: 'fails' },
      count: 1, window: '5m', window_ms: 300_000, record_ids: [first!.id], first_time: first!.time, last_time: first!.time, stream: 'test/1',
    });
    expect(alert!.description).toMatch(/^Rule fails held its maximum of 100 groups \(actor\.id\) .* processors\.alerts\.max_groups_per_rule\.$/);
  });

  it('says it again at most once an hour, with the number evicted since the last alert', () => {
    const engine = new AlertEngine({ rules: [failures], maxGroupsPerRule: 10 });
    // A new actor every second for 2 hours: from the 11th on, each evicts one.
    const raised: AlertEvent[] = [];
    const times: number[] = [];
    for (let i = 0; i < 7300; i++) {
      const alerts = evictionAlerts(engine.evaluate(failedLogin(`u${i}`, 'ip', i)));
      raised.push(...alerts);
      for (const _ of alerts) times.push(i);
    }
    expect(raised.map((a) => a.count)).toEqual([1, 3600, 3600]);
    expect(times).toEqual([10, 3610, 7210]);
    expect(BigInt(raised[1]!.first_time)).toBeLessThan(BigInt(raised[1]!.last_time));
    expect(engine.evictedGroups).toBe(7290);
  });

  it('with a window longer than an hour, at most once per window', () => {
    const engine = new AlertEngine({ rules: [{ ...failures, window: '2h' }], maxGroupsPerRule: 10 });
    const times: number[] = [];
    for (let i = 0; i < 7300; i++) if (evictionAlerts(engine.evaluate(failedLogin(`u${i}`, 'ip', i))).length > 0) times.push(i);
    expect(times).toEqual([10, 7210]);
  });

  it('is no rule name a configuration may take', () => {
    expect(() => compileRules([{ ...failures, name: 'alert_groups_evicted' }], { path: 'processors.alerts.rules' }))
      .toThrow(AlertConfigError);
    expect(() => compileRules([{ ...failures, name: 'alert_groups_evicted' }], { path: 'processors.alerts.rules' }))
      .toThrow(/processors\.alerts\.rules\[0\]\.name.*reserved/);
  });
});
