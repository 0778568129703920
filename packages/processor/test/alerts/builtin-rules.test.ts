import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import { compileRules } from '../../src/alerts/alert-rule.js';
import { BUILTIN_ALERT_RULE_NAMES, builtinAlertRules, type BuiltinAlertOptions } from '../../src/alerts/builtin-rules.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { failedLogin, failedLoginRequest, goodLogin, goodLoginRequest, rec, requestRecords, T0_SECONDS } from './helpers.js';
import { AlertConfigError } from '../../src/alerts/errors.js';

type R = ReturnType<typeof rec>;
const engineWith = (options: BuiltinAlertOptions = {}) => new AlertEngine({ rules: builtinAlertRules(options) });
const feed = (engine: AlertEngine, records: R[]): AlertEvent[] => records.flatMap((r) => [...engine.evaluate(r)]);
const rulesOf = (alerts: AlertEvent[]) => alerts.map((a) => a.rule);

describe('builtinAlertRules', () => {
  it('compiles, with every built-in but off_hours_admin on by default', () => {
    expect(compileRules(builtinAlertRules()).map((r) => r.name)).toEqual(BUILTIN_ALERT_RULE_NAMES.filter((n) => n !== 'off_hours_admin'));
    expect(compileRules(builtinAlertRules({ offHoursAdmin: true })).map((r) => r.name)).toEqual([...BUILTIN_ALERT_RULE_NAMES]);
  });

  it('switches: enabled false turns all off, each switch its own rules', () => {
    expect(builtinAlertRules({ enabled: false })).toEqual([]);
    const names = builtinAlertRules({ failedLogins: false, privilegeEscalation: false, dataExfiltration: false, configChanges: false }).map((r) => r.name);
    expect(names).toEqual(['brute_force_success', 'rate_limit_burst', 'audit_integrity']);
    expect(() => builtinAlertRules({ failedLogins: 0 })).toThrow(/^options\.failedLogins threshold must be/);
    expect(() => builtinAlertRules({ configChanges: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('failed_logins and failed_logins_by_ip', () => {
  it('fire at the 5th failure in 5 minutes per actor and per IP, not at the 4th', () => {
    const engine = engineWith({ bruteForceSuccess: false });
    expect(feed(engine, [0, 60, 120, 180].map((s) => failedLogin('alice', '198.51.100.7', s)))).toEqual([]);
    const alerts = [...engine.evaluate(failedLogin('alice', '198.51.100.7', 240))];
    expect(rulesOf(alerts)).toEqual(['failed_logins', 'failed_logins_by_ip']);
    expect(alerts[0]!.group).toEqual({ 'actor.id': 'alice' });
    expect(alerts[1]!.group).toEqual({ 'actor.ip': '198.51.100.7' });
  });

  it('per IP across actors (password spraying), and respects the threshold option', () => {
    const engine = engineWith({ failedLogins: 3, bruteForceSuccess: false });
    expect(feed(engine, [failedLogin('a', 'ip', 0), failedLogin('b', 'ip', 1)])).toEqual([]);
    expect(rulesOf([...engine.evaluate(failedLogin('c', 'ip', 2))])).toEqual(['failed_logins_by_ip']);
  });

  it('does not fire when the failures spread over more than 5 minutes, and stays quiet for the cooldown', () => {
    const engine = engineWith({ bruteForceSuccess: false, failedLogins: { threshold: 5, window: '5m', cooldown: '5m' } });
    expect(feed(engine, [0, 80, 160, 240, 320].map((s) => failedLogin('a', `ip${s}`, s)))).toEqual([]);
    expect(feed(engine, [321, 322, 323, 324].map((s) => failedLogin('a', `ip${s}`, s)))).toHaveLength(1); // at 321: 80, 160, 240, 320, 321
    expect(feed(engine, [330, 331, 332, 333, 334, 335].map((s) => failedLogin('a', `ip${s}`, s)))).toEqual([]);
  });
});

describe('brute_force_success', () => {
  it('fires on a success after 5 failures of the same actor, not after 4', () => {
    const engine = engineWith({ failedLogins: false });
    expect(feed(engine, [...[0, 1, 2, 3].map((s) => failedLogin('a', 'ip', s)), goodLogin('a', 'ip', 4)])).toEqual([]);
    expect(feed(engine, [...[10, 11, 12, 13, 14].map((s) => failedLogin('b', 'ip', s)), goodLogin('c', 'ip', 15)])).toEqual([]);
    const alerts = [...engine.evaluate(goodLogin('b', 'ip', 16))];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'brute_force_success', severity: 'critical', count: 6, group: { 'actor.id': 'b' } });
  });
});

describe('one request, two records (the app\'s own and the HTTP-level one): counted once', () => {
  it('failed_logins_by_ip: 4 failed-login requests raise nothing, the 5th raises one alert listing one record per request', () => {
    const engine = engineWith({ bruteForceSuccess: false });
    // Password spraying: a new actor per request, so only the per-IP rule can fire.
    const requests = [0, 1, 2, 3, 4].map((i) => failedLoginRequest(`user${i}`, '198.51.100.7', `req-${i}`, i * 10));
    expect(feed(engine, requests.slice(0, 4).flat())).toEqual([]);
    const alerts = feed(engine, requests[4]!);
    expect(rulesOf(alerts)).toEqual(['failed_logins_by_ip']);
    expect(alerts[0]).toMatchObject({ count: 5, group: { 'actor.ip': '198.51.100.7' }, first_time: requests[0]![0].time });
    expect(alerts[0]!.record_ids).toEqual(requests.map(([explicit]) => explicit.id));
  });

  it('config_changes: 3 changes, each logged twice by its request, raise 3 alerts, not 6', () => {
    const engine = engineWith();
    const change = (action: string, i: number) =>
      requestRecords({ type: 'admin', action, actor: { id: 'alice', ip: '127.0.0.1' }, target: { type: 'tool', id: `t${i}` } }, `req-${i}`, action === 'create' ? 201 : 200, i);
    const requests = ['create', 'update', 'delete'].map(change);
    const alerts = feed(engine, requests.flat());
    expect(rulesOf(alerts)).toEqual(['config_changes', 'config_changes', 'config_changes']);
    expect(alerts.map((a) => a.record_ids)).toEqual(requests.map(([explicit]) => [explicit.id]));
  });

  it('config_changes: one request that changes two tools (a batch) raises 2 alerts; its HTTP-level record, without a target, none more', () => {
    const engine = engineWith();
    const request = { id: 'req-batch', endpoint: '/admin/tools', method: 'PATCH' };
    const t1 = rec({ type: 'admin', action: 'update', actor: { id: 'alice' }, target: { type: 'tool', id: 't1' }, request }, 1);
    const t2 = rec({ type: 'admin', action: 'update', actor: { id: 'alice' }, target: { type: 'tool', id: 't2' }, request }, 1.001);
    const http = rec({ type: 'admin', action: 'update', actor: { id: 'alice' }, request, details: { status_code: 200 } }, 1.005);
    const alerts = feed(engine, [t1, t2, http]);
    expect(alerts.map((a) => a.record_ids)).toEqual([[t1.id], [t2.id]]);
  });

  it('brute_force_success: fires when the failed requests, not records, reach the threshold', () => {
    const engine = engineWith({ failedLogins: false });
    // 4 failed requests (8 records), then a successful one: below the threshold of 5.
    const four = [0, 1, 2, 3].flatMap((i) => failedLoginRequest('a', 'ip', `a-${i}`, i));
    expect(feed(engine, [...four, ...goodLoginRequest('a', 'ip', 'a-ok', 4)])).toEqual([]);
    // 5 failed requests, then a successful one: one alert, on the success's first record.
    const five = [0, 1, 2, 3, 4].map((i) => failedLoginRequest('b', 'ip', `b-${i}`, 10 + i));
    expect(feed(engine, five.flat())).toEqual([]);
    const [success, httpSuccess] = goodLoginRequest('b', 'ip', 'b-ok', 15);
    const alerts = [...engine.evaluate(success)];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'brute_force_success', count: 6, group: { 'actor.id': 'b' } });
    expect(alerts[0]!.record_ids).toEqual([...five.map(([explicit]) => explicit.id), success.id]);
    expect(engine.evaluate(httpSuccess)).toEqual([]);
  });
});

describe('privilege_escalation and privilege_self_escalation', () => {
  const engine = engineWith();
  it.each([
    ['a grant', { type: 'admin', action: 'grant', actor: { id: 'root' }, target: { type: 'user', id: 'bob' } }, 'privilege_escalation'],
    ['a role update', { type: 'crud', action: 'update', actor: { id: 'root' }, target: { type: 'Role', id: 'editors' } }, 'privilege_escalation'],
    ['a change of new.roles', { type: 'crud', action: 'update', actor: { id: 'root' }, target: { type: 'user', id: 'bob' }, new: { roles: ['admin'] } }, 'privilege_escalation'],
    ['a self grant', { type: 'admin', action: 'grant', actor: { id: 'bob' }, target: { type: 'user', id: 'bob' } }, 'privilege_self_escalation'],
    ['own roles changed', { type: 'crud', action: 'update', actor: { id: 'bob' }, target: { type: 'user', id: 'bob' }, new: { role: 'admin' } }, 'privilege_self_escalation'],
  ])('%s → %s, once', (_name, partial, rule) => {
    const alerts = [...engine.evaluate(rec(partial as Parameters<typeof rec>[0], 0))].filter((a) => a.rule.startsWith('privilege'));
    expect(rulesOf(alerts)).toEqual([rule]);
  });

  it('does not fire on an ordinary update of oneself', () => {
    const alerts = engine.evaluate(rec({ type: 'crud', action: 'update', actor: { id: 'bob' }, target: { type: 'user', id: 'bob' }, new: { email: 'b@x' } }, 1));
    expect(alerts).toEqual([]);
  });
});

describe('data_exfiltration', () => {
  it('fires at the threshold of views/exports per actor in the window, not below', () => {
    const engine = engineWith({ dataExfiltration: { threshold: 10, window: '1m' } });
    const view = (actor: string, s: number) => rec({ type: 'crud', action: 'view', actor: { id: actor }, target: { type: 'customer', id: String(s) } }, s);
    expect(feed(engine, Array.from({ length: 9 }, (_, i) => view('a', i)))).toEqual([]);
    expect(feed(engine, [rec({ type: 'crud', action: 'view', outcome: 'failure', actor: { id: 'a' } }, 9.5)])).toEqual([]);
    expect(rulesOf([...engine.evaluate(view('a', 10))])).toEqual(['data_exfiltration']);
  });

  it('fires on one export of more than N records, not of exactly N', () => {
    const engine = engineWith({ dataExfiltration: { bulkExportRecords: 1000 } });
    const exp = (n: number) => rec({ type: 'crud', action: 'export', actor: { id: 'a' }, details: { record_count: n } }, 0);
    expect(engine.evaluate(exp(1000))).toEqual([]);
    expect(rulesOf([...engine.evaluate(exp(1001))])).toEqual(['data_exfiltration_bulk_export']);
  });
});

describe('config_changes', () => {
  it('raises one alert per admin create/update/delete, none for admin views or refused attempts', () => {
    const engine = engineWith();
    const records = ['create', 'update', 'delete', 'view', 'update'].map((action, i) => rec({ type: 'admin', action, actor: { id: 'ops' }, target: { type: 'setting', id: `s${i}` } }, i));
    expect(rulesOf(feed(engine, records))).toEqual(['config_changes', 'config_changes', 'config_changes', 'config_changes']);
    const refused = ['update', 'delete'].map((action, i) => rec({ type: 'admin', action, outcome: 'failure', actor: { id: 'mallory' }, target: { type: 'setting', id: `r${i}` } }, 10 + i));
    expect(feed(engine, refused)).toEqual([]);
  });

  it('in digest mode, folds the changes of a window into one alert, emitted by the first record after the window', () => {
    const engine = engineWith({ configChanges: { digest: '15m' }, privilegeEscalation: false });
    const change = (action: string, id: string, at: number) => rec({ type: 'admin', action, actor: { id: 'ops' }, target: { type: 'setting', id } }, at);
    const inWindow = [change('create', 'a', 0), change('update', 'b', 60), change('view', 'x', 61), change('delete', 'c', 600)];
    expect(feed(engine, inWindow)).toEqual([]);
    expect(feed(engine, [goodLogin('u', '10.0.0.1', 899)])).toEqual([]); // 14:59 after the first change: not yet
    const [digest, ...rest] = feed(engine, [goodLogin('u', '10.0.0.1', 900)]); // any record at 15:00 closes it
    expect(rest).toEqual([]);
    expect(digest).toMatchObject({ rule: 'config_changes', count: 3, window: '15m', window_ms: 900_000, first_time: inWindow[0]!.time, last_time: inWindow[3]!.time });
    expect(digest!.record_ids).toEqual([inWindow[0]!.id, inWindow[1]!.id, inWindow[3]!.id]);
    // The next change opens a new digest.
    expect(feed(engine, [change('update', 'd', 1000)])).toEqual([]);
    expect(feed(engine, [change('update', 'e', 1900)]).map((a) => a.count)).toEqual([1]);
    expect(() => engineWith({ configChanges: { digest: '0s' } })).toThrow(/digest/);
  });
});

describe('rate_limit_burst', () => {
  it('fires at 20 rate-limit violations per IP in a minute, not at 19', () => {
    const engine = engineWith();
    const limited = (ip: string, s: number, i: number) =>
      i % 2 === 0 ? rec({ type: 'security', action: 'rate_limit', actor: { ip } }, s) : rec({ type: 'api', action: 'call', outcome: 'failure', actor: { ip }, details: { status_code: 429 } }, s);
    expect(feed(engine, Array.from({ length: 19 }, (_, i) => limited('203.0.113.9', i, i)))).toEqual([]);
    expect(feed(engine, [limited('203.0.113.10', 19, 0)])).toEqual([]);
    expect(rulesOf([...engine.evaluate(limited('203.0.113.9', 20, 0))])).toEqual(['rate_limit_burst']);
  });
});

describe('audit_integrity', () => {
  it('fires on a records_dropped record and on a failed verification', () => {
    const engine = engineWith();
    expect(rulesOf([...engine.evaluate(rec({ type: 'system', action: 'records_dropped', outcome: 'failure', details: { count: 12 } }, 0))])).toEqual(['audit_integrity']);
    expect(rulesOf([...engine.evaluate(rec({ type: 'system', action: 'verify', outcome: 'failure' }, 1))])).toEqual(['audit_integrity']);
    expect(engine.evaluate(rec({ type: 'system', action: 'verify', outcome: 'success' }, 2))).toEqual([]);
  });
});

describe('off_hours_admin', () => {
  it('is off by default', () => {
    expect(engineWith({ configChanges: false }).evaluate(rec({ type: 'admin', action: 'update', actor: { id: 'a' } }, 3 * 3600))).toEqual([]);
  });

  it('fires for admin actions outside the configured hours and offset, once per actor per cooldown', () => {
    const engine = engineWith({ configChanges: false, offHoursAdmin: { from: '09:00', to: '17:00', utcOffset: '+01:00', days: [1, 2, 3, 4, 5] } });
    const admin = (actor: string, hoursUtc: number) => rec({ type: 'admin', action: 'update', actor: { id: actor } }, hoursUtc * 3600);
    expect(engine.evaluate(admin('a', 8))).toEqual([]); // 09:00 local Monday
    expect(engine.evaluate(admin('a', 15.9))).toEqual([]); // 16:54 local
    expect(rulesOf([...engine.evaluate(admin('a', 16))])).toEqual(['off_hours_admin']); // 17:00 local
    expect(engine.evaluate(admin('a', 16.5))).toEqual([]); // same actor within the 1h cooldown
    expect(engine.evaluate(admin('b', 16.5))).toHaveLength(1);
    expect(engine.evaluate(admin('a', 17.01))).toHaveLength(1);
  });

  it('with a time zone, follows daylight saving time (Europe/Berlin, 2026-03-29), where a fixed offset is an hour off', () => {
    const options = { from: '08:00', to: '18:00', days: [1, 2, 3, 4, 5] };
    const zoned = engineWith({ configChanges: false, offHoursAdmin: { ...options, timeZone: 'Europe/Berlin' } });
    const fixed = engineWith({ configChanges: false, offHoursAdmin: { ...options, utcOffset: '+01:00' } });
    const at = (actor: string, utc: number) => rec({ type: 'admin', action: 'update', actor: { id: actor } }, utc / 1000 - T0_SECONDS);
    // Monday 2026-01-05 06:30 UTC = 07:30 CET: outside for both.
    expect(rulesOf([...zoned.evaluate(at('a', Date.UTC(2026, 0, 5, 6, 30)))])).toEqual(['off_hours_admin']);
    expect(rulesOf([...fixed.evaluate(at('a', Date.UTC(2026, 0, 5, 6, 30)))])).toEqual(['off_hours_admin']);
    // Monday 2026-03-30 06:30 UTC = 08:30 CEST: working hours — only the zone knows.
    expect(zoned.evaluate(at('b', Date.UTC(2026, 2, 30, 6, 30)))).toEqual([]);
    expect(rulesOf([...fixed.evaluate(at('b', Date.UTC(2026, 2, 30, 6, 30)))])).toEqual(['off_hours_admin']);
    // 16:30 UTC = 18:30 CEST: outside.
    expect(rulesOf([...zoned.evaluate(at('c', Date.UTC(2026, 2, 30, 16, 30)))])).toEqual(['off_hours_admin']);
    // Saturday 2026-04-04 10:00 CEST: not a working day.
    expect(rulesOf([...zoned.evaluate(at('d', Date.UTC(2026, 3, 4, 8, 0)))])).toEqual(['off_hours_admin']);
  });

  it('rejects an unknown time zone, and a time zone given with a fixed offset, naming the key and the fix', () => {
    expect(() => engineWith({ offHoursAdmin: { from: '08:00', to: '18:00', timeZone: 'Mars/Olympus' } })).toThrow(AlertConfigError);
    expect(() => engineWith({ offHoursAdmin: { from: '08:00', to: '18:00', timeZone: 'Mars/Olympus' } })).toThrow(/time_zone.*IANA/s);
    expect(() => new AlertEngine({ rules: [{ name: 'x', match: { time: { outside_hours: { from: '08:00', to: '18:00', utc_offset: '+01:00', time_zone: 'Europe/Berlin' } } }, condition: 'count >= 1', window: '1m' }] })).toThrow(/remove utc_offset/);
  });
});
