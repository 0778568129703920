import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import type { AlertRuleConfig } from '../../src/alerts/alert-rule.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { failedLogin, failedLoginRequest, goodLogin, rec } from './helpers.js';

const failures = (extra: Partial<AlertRuleConfig> = {}): AlertRuleConfig => ({
  name: 'fails',
  match: { type: 'auth', action: 'login', outcome: 'failure' },
  group_by: ['actor.id'],
  window: '5m',
  condition: 'count >= 5',
  ...extra,
});

function feed(engine: AlertEngine, records: ReturnType<typeof rec>[]): AlertEvent[] {
  return records.flatMap((r) => [...engine.evaluate(r)]);
}

describe('AlertEngine count', () => {
  it('fires exactly at the threshold, not below, with the alert descriptor', () => {
    const engine = new AlertEngine({ rules: [failures({ severity: 'critical', description: 'too many' })] });
    const records = [0, 10, 20, 30, 40].map((s) => failedLogin('alice', '10.0.0.1', s));
    expect(feed(engine, records.slice(0, 4))).toEqual([]);
    const [alert, ...rest] = engine.evaluate(records[4]!);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({
      rule: 'fails', severity: 'critical', description: 'too many', condition: 'count >= 5',
      group: { 'actor.id': 'alice' }, count: 5, window: '5m', window_ms: 300_000,
      first_time: records[0]!.time, last_time: records[4]!.time, record_ids: records.map((r) => r.id), omitted_record_ids: 0, stream: 'test/1',
    });
    expect(alert!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('slides the window: a record exactly one window old no longer counts', () => {
    const engine = new AlertEngine({ rules: [failures()] });
    expect(feed(engine, [0, 100, 200, 250].map((s) => failedLogin('a', 'ip', s)))).toEqual([]);
    expect(engine.evaluate(failedLogin('a', 'ip', 300))).toEqual([]); // the one at 0 is out: 4 in (0, 300]
    expect(engine.evaluate(failedLogin('a', 'ip', 301))).toHaveLength(1); // 100, 200, 250, 300, 301
  });

  it('consumes the records of an alert: the next needs N new ones', () => {
    const engine = new AlertEngine({ rules: [failures()] });
    const alerts = feed(engine, Array.from({ length: 14 }, (_, i) => failedLogin('a', 'ip', i)));
    expect(alerts.map((a) => a.last_time)).toHaveLength(2); // at the 5th and the 10th
  });

  it('keeps a group quiet during its cooldown and fires on the first record after it that meets the condition', () => {
    const engine = new AlertEngine({ rules: [failures({ window: '1m', cooldown: '10m' })] });
    expect(feed(engine, [0, 1, 2, 3, 4].map((s) => failedLogin('a', 'ip', s)))).toHaveLength(1);
    // 5 more within a minute, during the cooldown: nothing.
    expect(feed(engine, [100, 101, 102, 103, 104, 105].map((s) => failedLogin('a', 'ip', s)))).toEqual([]);
    // Another group is not affected by a's cooldown.
    expect(feed(engine, [110, 111, 112, 113, 114].map((s) => failedLogin('b', 'ip', s)))).toHaveLength(1);
    // Cooldown of a ends at 604 s; 5 in the minute before 605 → fires at 605.
    expect(feed(engine, [601, 602, 603, 604].map((s) => failedLogin('a', 'ip', s)))).toEqual([]);
    const late = engine.evaluate(failedLogin('a', 'ip', 605));
    expect(late).toHaveLength(1);
    expect(late[0]!.count).toBe(5);
  });

  it('groups by every group_by field and ignores records lacking one', () => {
    const engine = new AlertEngine({ rules: [failures({ group_by: ['actor.id', 'actor.ip'], condition: 'count >= 2' })] });
    expect(feed(engine, [failedLogin('a', 'ip1', 0), failedLogin('a', 'ip2', 1), failedLogin('b', 'ip1', 2)])).toEqual([]);
    const noIp = rec({ type: 'auth', action: 'login', outcome: 'failure', actor: { id: 'a' } }, 3);
    expect(feed(engine, [noIp, noIp])).toEqual([]);
    const [alert] = engine.evaluate(failedLogin('a', 'ip2', 4));
    expect(alert!.group).toEqual({ 'actor.id': 'a', 'actor.ip': 'ip2' });
  });

  it('keeps numbers and strings of the same text in different groups', () => {
    const engine = new AlertEngine({ rules: [{ name: 'n', group_by: ['details.k'], condition: 'count >= 2' }] });
    expect(feed(engine, [rec({ type: 'x', action: 'y', details: { k: 5 } }, 0), rec({ type: 'x', action: 'y', details: { k: '5' } }, 1)])).toEqual([]);
    expect(engine.evaluate(rec({ type: 'x', action: 'y', details: { k: 5 } }, 2))[0]!.group).toEqual({ 'details.k': 5 });
  });

  it('caps the record ids of an alert at the most recent ones', () => {
    const engine = new AlertEngine({ rules: [failures()], maxRecordIdsPerAlert: 3 });
    const records = [0, 1, 2, 3, 4].map((s) => failedLogin('a', 'ip', s));
    const [alert] = feed(engine, records);
    expect(alert!.record_ids).toEqual(records.slice(2).map((r) => r.id));
    expect(alert!.omitted_record_ids).toBe(2);
    expect(alert!.first_time).toBe(records[0]!.time);
  });

  it('ignores alert records and uses the largest time seen as the clock', () => {
    const engine = new AlertEngine({ rules: [{ name: 'any', condition: 'count >= 1' }] });
    expect(engine.evaluate(rec({ type: 'alert', action: 'any' }, 0))).toEqual([]);
    expect(engine.evaluate(rec({ type: 'x', action: 'y' }, 0))).toHaveLength(1);
    const w = new AlertEngine({ rules: [failures({ window: '1m' })] });
    expect(feed(w, [failedLogin('a', 'ip', 100), failedLogin('a', 'ip', 101), failedLogin('a', 'ip', 102), failedLogin('a', 'ip', 103)])).toEqual([]);
    // Dated 90 s earlier (skewed producer clock): counted as of now, inside the window.
    expect(w.evaluate(failedLogin('a', 'ip', 10))).toHaveLength(1);
  });

  it('runs rules that pin no type on every record type, in rule order', () => {
    const engine = new AlertEngine({ rules: [failures({ condition: 'count >= 1' }), { name: 'any', condition: 'count >= 1' }] });
    expect(engine.evaluate(failedLogin('a', 'ip', 0)).map((a) => a.rule)).toEqual(['fails', 'any']);
    expect(engine.evaluate(rec({ type: 'crud', action: 'view' }, 1)).map((a) => a.rule)).toEqual(['any']);
    expect(engine.ruleNames).toEqual(['fails', 'any']);
  });

  it('rejects misuse with the argument name first', () => {
    expect(() => new AlertEngine({ rules: [], maxGroupsPerRule: 0 })).toThrow(/^options\.maxGroupsPerRule must be a whole number/);
    expect(() => new AlertEngine({ rules: [], maxRecordIdsPerAlert: '5' as unknown as number })).toThrow(TypeError);
    expect(() => new AlertEngine({ rules: 'x' as unknown as [] })).toThrow(/^options\.rules must be an array/);
  });
});

describe('AlertEngine records of one request', () => {
  it('counts records without a request.id (absent, or empty) one by one beside records of requests', () => {
    const engine = new AlertEngine({ rules: [failures()] });
    const login = { type: 'auth', action: 'login', outcome: 'failure', actor: { id: 'a', ip: 'ip' } } as const;
    // Two requests, two records each: 2.
    expect(feed(engine, [...failedLoginRequest('a', 'ip', 'req-1', 0), ...failedLoginRequest('a', 'ip', 'req-2', 1)])).toEqual([]);
    // Outside any request, in a request without an id, with an empty id: 3 more, one each.
    const loose = [rec(login, 2), rec({ ...login, request: { session_id: 's1' } }, 3), rec({ ...login, request: { id: '' } }, 4)];
    expect(feed(engine, loose.slice(0, 2))).toEqual([]);
    const [alert, ...rest] = engine.evaluate(loose[2]!);
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ rule: 'fails', count: 5 });
  });

  it('counts two interleaved requests (A, B, A, B) in one group as 2', () => {
    const engine = new AlertEngine({ rules: [failures({ condition: 'count >= 3' })] });
    const [a1, a2] = failedLoginRequest('a', 'ip', 'req-A', 0);
    const [b1, b2] = failedLoginRequest('a', 'ip', 'req-B', 0.001);
    expect(feed(engine, [a1, b1, a2, b2])).toEqual([]);
    const [c1] = failedLoginRequest('a', 'ip', 'req-C', 1);
    const [alert] = engine.evaluate(c1);
    expect(alert).toMatchObject({ count: 3, record_ids: [a1.id, b1.id, c1.id] });
  });
});

describe('AlertEngine distinct', () => {
  const rule: AlertRuleConfig = { name: 'many_ips', match: { type: 'auth', action: 'login' }, group_by: ['actor.id'], window: '10m', condition: 'distinct(actor.ip) >= 3' };

  it('counts distinct values in the window, not records', () => {
    const engine = new AlertEngine({ rules: [rule] });
    expect(feed(engine, [goodLogin('a', '1', 0), goodLogin('a', '1', 1), goodLogin('a', '2', 2), goodLogin('a', '2', 3), goodLogin('b', '3', 4)])).toEqual([]);
    const [alert] = engine.evaluate(goodLogin('a', '3', 5));
    expect(alert).toMatchObject({ count: 3, condition: 'distinct(actor.ip) >= 3', group: { 'actor.id': 'a' } });
    expect(alert!.record_ids).toHaveLength(3);
  });

  it('keeps a group quiet during its cooldown', () => {
    const engine = new AlertEngine({ rules: [{ ...rule, cooldown: '1h' }] });
    expect(feed(engine, [goodLogin('a', '1', 0), goodLogin('a', '2', 1), goodLogin('a', '3', 2)])).toHaveLength(1);
    expect(feed(engine, [goodLogin('a', '4', 10), goodLogin('a', '5', 11), goodLogin('a', '6', 12), goodLogin('a', '7', 13)])).toEqual([]);
    expect(feed(engine, [goodLogin('a', '1', 3600), goodLogin('a', '2', 3601), goodLogin('a', '3', 3602)])).toHaveLength(1);
  });

  it('forgets values last seen a window ago', () => {
    const engine = new AlertEngine({ rules: [rule] });
    expect(feed(engine, [goodLogin('a', '1', 0), goodLogin('a', '2', 300), goodLogin('a', '3', 600)])).toEqual([]); // '1' expired at 600
    expect(engine.evaluate(goodLogin('a', '1', 601))).toHaveLength(1);
  });
});

describe('AlertEngine sequence', () => {
  const rule: AlertRuleConfig = {
    name: 'brute',
    match: { type: 'auth', action: 'login' },
    group_by: ['actor.id'],
    window: '5m',
    condition: { sequence: [{ match: { outcome: 'failure' }, count: 3 }, { match: { outcome: 'success' } }] },
  };

  it('fires when N failures are followed by a success for the same group', () => {
    const engine = new AlertEngine({ rules: [rule] });
    const records = [failedLogin('a', 'ip', 0), failedLogin('b', 'ip', 1), failedLogin('a', 'ip', 2), goodLogin('b', 'ip', 3), failedLogin('a', 'ip', 4)];
    expect(feed(engine, records)).toEqual([]);
    const success = goodLogin('a', 'ip', 5);
    const [alert] = engine.evaluate(success);
    expect(alert).toMatchObject({ rule: 'brute', count: 4, group: { 'actor.id': 'a' }, first_time: records[0]!.time, last_time: success.time });
    expect(alert!.record_ids).toEqual([records[0]!.id, records[2]!.id, records[4]!.id, success.id]);
    expect(engine.evaluate(goodLogin('a', 'ip', 6))).toEqual([]); // reset after firing
  });

  it('keeps a group quiet during its cooldown', () => {
    const engine = new AlertEngine({ rules: [{ ...rule, cooldown: '10m' }] });
    const attempt = (actor: string, at: number) => [failedLogin(actor, 'ip', at), failedLogin(actor, 'ip', at + 1), failedLogin(actor, 'ip', at + 2), goodLogin(actor, 'ip', at + 3)];
    expect(feed(engine, attempt('a', 0))).toHaveLength(1);
    expect(feed(engine, attempt('a', 100))).toEqual([]); // within 10m of the alert at 3 s
    expect(feed(engine, attempt('b', 110))).toHaveLength(1); // another group
    expect(feed(engine, attempt('a', 600))).toHaveLength(1); // after the cooldown
  });

  it('does not fire below the count, out of order, or beyond the window', () => {
    // Each scenario on its own engine: the clock only moves forward.
    const run = (records: ReturnType<typeof rec>[]) => feed(new AlertEngine({ rules: [rule] }), records);
    expect(run([failedLogin('a', 'ip', 0), failedLogin('a', 'ip', 1), goodLogin('a', 'ip', 2)])).toEqual([]);
    expect(run([goodLogin('c', 'ip', 0), failedLogin('c', 'ip', 1), failedLogin('c', 'ip', 2), failedLogin('c', 'ip', 3)])).toEqual([]);
    expect(run([failedLogin('d', 'ip', 0), failedLogin('d', 'ip', 10), failedLogin('d', 'ip', 20), goodLogin('d', 'ip', 300)])).toEqual([]);
    expect(run([failedLogin('d', 'ip', 0), failedLogin('d', 'ip', 10), failedLogin('d', 'ip', 20), goodLogin('d', 'ip', 299)])).toHaveLength(1);
    // The latest three failures are what counts: 10, 20, 290 are within 5m of 305.
    expect(run([failedLogin('e', 'ip', 0), failedLogin('e', 'ip', 10), failedLogin('e', 'ip', 20), failedLogin('e', 'ip', 290), goodLogin('e', 'ip', 305)])).toHaveLength(1);
  });
});

describe('AlertEngine rule index', () => {
  it('offers each record only the rules its type and action can match, through more pairs than the index keeps', () => {
    const grants: AlertRuleConfig = { name: 'grants', match: { action: ['grant', 'sudo'] }, group_by: [], window: '1m', condition: 'count >= 1' };
    const anyCase: AlertRuleConfig = { name: 'any_case', match: { action: { in: ['grant'], ignore_case: true } }, group_by: [], window: '1m', condition: 'count >= 1' };
    const status: AlertRuleConfig = { name: 'teapots', match: { 'details.status_code': 418 }, group_by: [], window: '1m', condition: 'count >= 1' };
    const engine = new AlertEngine({ rules: [grants, anyCase, status] });
    const fired: string[] = [];
    // 10,000 distinct (type, action) pairs, more than the 4096 the index holds, with the matching records among them.
    for (let i = 0; i < 10_000; i++) {
      const action = i % 1000 === 7 ? 'grant' : i % 1000 === 8 ? 'GRANT' : `act_${i}`;
      const details: Record<string, number> = i % 1000 === 9 ? { status_code: 418 } : {};
      for (const a of engine.evaluate(rec({ type: `t${i % 3}`, action, details }, i))) fired.push(`${i}:${a.rule}`);
    }
    const expected = [];
    for (let k = 0; k < 10; k++) expected.push(`${k * 1000 + 7}:grants`, `${k * 1000 + 7}:any_case`, `${k * 1000 + 8}:any_case`, `${k * 1000 + 9}:teapots`);
    expect(fired).toEqual(expected);
  });
});

describe('AlertEngine memory bounds', () => {
  it('evicts the least recently active group at the cap and counts it', () => {
    const engine = new AlertEngine({ rules: [failures({ condition: 'count >= 2' })], maxGroupsPerRule: 100 });
    for (let i = 0; i < 1000; i++) engine.evaluate(failedLogin(`u${i}`, 'ip', i / 1000));
    expect(engine.stats().rules[0]).toEqual({ name: 'fails', groups: 100, evictedGroups: 900, alerts: 0 });
    expect(engine.evictedGroups).toBe(900);
    // The most recent group survived and alerts on its second failure.
    expect(engine.evaluate(failedLogin('u999', 'ip', 2))).toHaveLength(1);
    // An evicted one started over.
    expect(engine.evaluate(failedLogin('u0', 'ip', 2))).toEqual([]);
  });

  it('drops expired groups before evicting live ones', () => {
    const engine = new AlertEngine({ rules: [failures({ window: '1m', condition: 'count >= 2' })], maxGroupsPerRule: 10 });
    for (let i = 0; i < 1000; i++) engine.evaluate(failedLogin(`u${i}`, 'ip', i * 61));
    const stats = engine.stats();
    expect(stats.groups).toBeLessThanOrEqual(1);
    expect(stats.evictedGroups).toBe(0);
  });

  it('holds at most maxGroupsPerRule groups through 100,000 distinct actors with every built-in on', async () => {
    const { builtinAlertRules } = await import('../../src/alerts/builtin-rules.js');
    const engine = new AlertEngine({ rules: builtinAlertRules({ offHoursAdmin: true }), maxGroupsPerRule: 1000 });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let before = 0;
    for (let i = 0; i < 100_000; i++) {
      if (i === 10_000) {
        gc();
        before = process.memoryUsage().heapUsed;
      }
      engine.evaluate(failedLogin(`actor-${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i / 1000));
    }
    const stats = engine.stats();
    for (const r of stats.rules) expect(r.groups).toBeLessThanOrEqual(1000);
    expect(stats.rules.find((r) => r.name === 'failed_logins')!.evictedGroups).toBe(99_000);
    expect(stats.rules.find((r) => r.name === 'failed_logins_by_ip')!.evictedGroups).toBe(99_000);
    expect(stats.alerts).toBe(0);
    gc();
    // Past the caps, 90,000 more actors leave the heap where it was.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
  });
});
