import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../src/alerts/alert-engine.js';
import type { AlertEvent } from '../../src/alerts/alert-event.js';
import { builtinAlertRules } from '../../src/alerts/builtin-rules.js';
import { compileRules } from '../../src/alerts/alert-rule.js';
import { AlertConfigError } from '../../src/alerts/errors.js';
import { canonicalIp } from '../../src/alerts/internal/normalize-group.js';
import { failedLogin, failedLoginRequest, goodLogin, rec, T0_SECONDS } from './helpers.js';

function feed(engine: AlertEngine, records: ReturnType<typeof rec>[]): AlertEvent[] {
  return records.flatMap((r) => [...engine.evaluate(r)]);
}

describe('AlertEngine against a client-chosen request id (X-Request-ID is taken from the request)', () => {
  it('still raises failed_logins when every failed login request carries the same X-Request-ID', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    // Five login requests, each leaving the app's record and the HTTP-level one, all sent with "X-Request-ID: same".
    const alerts = [0, 10, 20, 30, 40].flatMap((at) => feed(engine, failedLoginRequest('alice', '203.0.113.9', 'same', at)));
    expect(alerts.map((a) => a.rule).sort()).toEqual(['failed_logins', 'failed_logins_by_ip']);
    expect(alerts[0]!.count).toBe(5);
  });

  it('counts every 429 of a burst whose requests share one X-Request-ID', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    const tooMany = (at: number) => rec({ type: 'http', action: 'request', outcome: 'failure', actor: { id: 'anon', ip: '198.51.100.7' }, request: { id: 'same' }, details: { status_code: 429 } }, at);
    // rate_limit_burst: 20 in 1m per IP. 20 requests (one HTTP-level record each) within 20 s alert at the 20th.
    const alerts = Array.from({ length: 20 }, (_, i) => engine.evaluate(tooMany(i)));
    expect(alerts.slice(0, 19).every((a) => a.length === 0)).toBe(true);
    expect(alerts[19]!.map((a) => [a.rule, a.count])).toEqual([['rate_limit_burst', 20]]);
  });

  it('counts app records of requests sharing one X-Request-ID one by one, their HTTP-level twins once, in any order', () => {
    const engine = new AlertEngine({ rules: [{ name: 'fails', match: { type: 'auth', action: 'login', outcome: 'failure' }, group_by: ['actor.id'], condition: 'count >= 4' }] });
    const [a1, h1] = failedLoginRequest('alice', '192.0.2.1', 'same', 0);
    const [a2, h2] = failedLoginRequest('alice', '192.0.2.1', 'same', 0.001);
    const [a3, h3] = failedLoginRequest('alice', '192.0.2.1', 'same', 0.002);
    // Concurrent requests: their app records first, then the HTTP-level ones: 3 requests, 3 counted.
    expect(feed(engine, [a1, a2, a3, h1, h2, h3])).toEqual([]);
    const [a4] = failedLoginRequest('alice', '192.0.2.1', 'same', 1);
    expect(engine.evaluate(a4!).map((a) => a.count)).toEqual([4]);
  });
});

describe('AlertEngine clock against records dated in the future', () => {
  const T0_MILLIS = T0_SECONDS * 1000;

  it('a record dated in the year 2200 does not silence a group forever (cooldown) nor freeze the windows', () => {
    let wall = T0_MILLIS;
    const engine = new AlertEngine({ rules: builtinAlertRules(), clock: () => wall });
    // One failed login with a forged time far ahead (the app passed a client-supplied timestamp through).
    const forged = { ...failedLogin('mallory', '192.0.2.1', 0), time: '7258118400000000000' };
    engine.evaluate(forged);
    // A real brute force on alice: alerts.
    const first = feed(engine, [1, 2, 3, 4, 5].map((s) => failedLogin('alice', '10.0.0.1', s)));
    expect(first.map((a) => a.rule)).toContain('failed_logins');
    // An hour later, another one: must alert again (the cooldown is 5 minutes).
    wall = T0_MILLIS + 3600_000;
    const again = feed(engine, [3600, 3601, 3602, 3603, 3604].map((s) => failedLogin('alice', '10.0.0.2', s)));
    expect(again.map((a) => a.rule)).toContain('failed_logins');
    // And five failures spread over an hour (one per 15 minutes) are no brute force.
    wall = T0_MILLIS + 7 * 3600_000;
    const spread = feed(engine, [0, 1, 2, 3, 4].map((k) => failedLogin('bob', `10.1.0.${k}`, 3 * 3600 + k * 900)));
    expect(spread).toEqual([]);
  });

  it('rejects a bad maxClockSkewMillis or clock with the option name first', () => {
    expect(() => new AlertEngine({ rules: [], maxClockSkewMillis: -1 })).toThrow(/^options\.maxClockSkewMillis must be/);
    expect(() => new AlertEngine({ rules: [], clock: 5 } as unknown as ConstructorParameters<typeof AlertEngine>[0])).toThrow(/^options\.clock must be a function/);
  });
});

describe('AlertEngine group keys', () => {
  it('keeps a string value starting with NUL apart from the number it spells (no group collision)', () => {
    const engine = new AlertEngine({ rules: [{ name: 'pair', match: { type: 'app' }, group_by: ['details.user'], condition: 'count >= 2' }] });
    const alerts = feed(engine, [rec({ type: 'app', action: 'x', details: { user: 5 } }, 0), rec({ type: 'app', action: 'x', details: { user: '\u00005' } }, 1)]);
    expect(alerts).toEqual([]);
  });

  it('keeps memory bounded when group values are large (e.g. 128 KB details objects)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const engine = new AlertEngine({
      rules: [
        { name: 'by_blob', match: { type: 'app' }, group_by: ['details.blob'], condition: 'count >= 1000' },
        { name: 'distinct_blob', match: { type: 'app' }, condition: 'distinct(details.blob) >= 1000' },
      ],
      maxGroupsPerRule: 200,
    });
    const big = (i: number) => rec({ type: 'app', action: 'x', details: { blob: { data: randomBytes(96 * 1024).toString('base64'), i } } }, i * 0.001);
    for (let i = 0; i < 20; i++) engine.evaluate(big(i));
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 20; i < 220; i++) engine.evaluate(big(i));
    gc();
    // Keeping every key would hold 2 × 200 × 128 KB ≈ 51 MB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    expect(engine.stats().rules[0]!.groups).toBe(200);
  });
});

describe('Built-in login and rate-limit rules against spellings of one account or host', () => {
  const spellings = ['Alice', ' alice', '\uff21\uff2c\uff29\uff23\uff25', 'al\u200bice', 'ALICE\t'];

  it('failed_logins and brute_force_success see one account behind case, width, space and zero-width variants', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    // A distributed attacker: a new address per try, the account name spelled another way each time.
    const fails = feed(engine, spellings.map((name, i) => failedLogin(name, `192.0.2.${i + 1}`, i)));
    expect(fails.map((a) => a.rule)).toEqual(['failed_logins']);
    engine.evaluate(failedLogin('alice', '192.0.2.50', 10));
    const success = feed(engine, [goodLogin('alice', '192.0.2.99', 20)]);
    expect(success.map((a) => a.rule)).toEqual(['brute_force_success']);
  });

  it('failed_logins_by_ip and rate_limit_burst see one host behind the addresses of its IPv6 /64 and IPv4-mapped forms', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    const from64 = feed(engine, [1, 2, 3, 4, 5].map((k) => failedLogin(`user${k}`, `2001:db8:0:1::${k.toString(16)}:${k}`, k)));
    expect(from64.map((a) => a.rule)).toEqual(['failed_logins_by_ip']);
    const mapped = feed(engine, ['203.0.113.9', '::ffff:203.0.113.9', '::FFFF:cb00:7109', '203.0.113.9', '::ffff:203.0.113.9'].map((ip, k) => failedLogin(`other${k}`, ip, 10 + k)));
    expect(mapped.map((a) => a.rule)).toEqual(['failed_logins_by_ip']);
    const tooMany = (k: number) => rec({ type: 'http', action: 'request', outcome: 'failure', actor: { id: 'anon', ip: `2001:db8:0:2:${k.toString(16)}::1` }, details: { status_code: 429 } }, 20 + k * 0.1);
    expect(feed(engine, Array.from({ length: 20 }, (_, k) => tooMany(k))).map((a) => a.rule)).toEqual(['rate_limit_burst']);
    expect([canonicalIp('2001:DB8:0:1:a:b:c:d'), canonicalIp('::1'), canonicalIp('fe80::1%eth0'), canonicalIp('alice')]).toEqual(['2001:db8:0:1::/64', '::1', 'fe80:0:0:0::/64', undefined]);
    // IPv4 clients behind a NAT64 gateway, or written in the compatible form, stay apart from each other.
    expect([canonicalIp('64:ff9b::198.51.100.7'), canonicalIp('64:ff9b::c633:6408'), canonicalIp('::198.51.100.9')]).toEqual(['198.51.100.7', '198.51.100.8', '198.51.100.9']);
  });

  it('failed_logins_by_ip keeps IPv4 clients behind the local-use NAT64 prefix 64:ff9b:1::/48 apart, and one client as one', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    // Five IPv4 clients, one failed login each, through a translator on 64:ff9b:1::/96, then five through one on 64:ff9b:1:5::/96.
    const clients = [1, 2, 3, 4, 5].map((k) => failedLogin(`user${k}`, `64:ff9b:1::198.51.100.${k}`, k));
    const subPrefix = [1, 2, 3, 4, 5].map((k) => failedLogin(`other${k}`, `64:ff9b:1:5::c633:64${k.toString(16).padStart(2, '0')}`, 10 + k));
    expect(feed(engine, [...clients, ...subPrefix])).toEqual([]);
    // One IPv4 client, five tries, through the translator and directly.
    const one = feed(engine, [1, 2, 3, 4, 5].map((k) => failedLogin(`x${k}`, k % 2 === 0 ? '198.51.100.99' : '64:ff9b:1::c633:6463', 20 + k)));
    expect(one.map((a) => a.rule)).toEqual(['failed_logins_by_ip']);
    expect([canonicalIp('64:ff9b:1::198.51.100.7'), canonicalIp('64:ff9b:1:5::c633:6407')]).toEqual(['198.51.100.7', '64:ff9b:1:5::c633:6407']);
  });

  it('failed_logins_by_ip does not count a ::0.0.x.y text against the loopback ::1, nor read either as IPv4', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    // A local client on ::1 fails four times; a text no host can send from, ::0.0.1.2, once.
    expect(feed(engine, ['::1', '::1', '::1', '::1', '::0.0.1.2'].map((ip, k) => failedLogin(`u${k}`, ip, k)))).toEqual([]);
    // Nor does 0.0.0.1 share ::1's group.
    expect(feed(engine, [failedLogin('u9', '0.0.0.1', 9)])).toEqual([]);
    expect(['::1', '::', '::0.0.1.2', '::0.1.2.3', '::198.51.100.9'].map(canonicalIp)).toEqual(['::1', '::', '::102', '::1:203', '198.51.100.9']);
  });

  it('keeps user rules exact unless they ask for normalize_group, and checks the setting', () => {
    const rule = { name: 'fails', match: { type: 'auth', action: 'login', outcome: 'failure' }, group_by: ['actor.id'], condition: 'count >= 2' } as const;
    expect(feed(new AlertEngine({ rules: [rule] }), [failedLogin('Alice', 'ip', 0), failedLogin('alice', 'ip', 1)])).toEqual([]);
    expect(feed(new AlertEngine({ rules: [{ ...rule, normalize_group: true }] }), [failedLogin('Alice', 'ip', 0), failedLogin('alice', 'ip', 1)])).toHaveLength(1);
    const bad = (() => {
      try {
        compileRules([{ ...rule, normalize_group: 'yes' }]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(bad).toBeInstanceOf(AlertConfigError);
    expect((bad as AlertConfigError).path).toBe('rules[0].normalize_group');
  });
});

describe('Built-in privilege and export rules against how apps spell ids and counts', () => {
  it('privilege_self_escalation sees an actor granting rights to itself under another case of its id', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    const raised = engine.evaluate(rec({ type: 'admin', action: 'grant', actor: { id: 'Alice', type: 'user' }, target: { type: 'user', id: 'alice' }, details: { role: 'admin' } }, 0));
    expect(raised.map((a) => a.rule)).toEqual(['privilege_self_escalation']);
    const other = engine.evaluate(rec({ type: 'admin', action: 'grant', actor: { id: 'Alice', type: 'user' }, target: { type: 'user', id: 'bob' }, details: { role: 'admin' } }, 1));
    expect(other.map((a) => a.rule)).toEqual(['privilege_escalation']);
  });

  it('data_exfiltration_bulk_export compares a count written as decimal text, and nothing else that is not a number', () => {
    const engine = new AlertEngine({ rules: builtinAlertRules() });
    const exportOf = (count: unknown, at: number) => rec({ type: 'data', action: 'export', actor: { id: 'carol', type: 'user' }, details: { record_count: count } as never }, at);
    expect(engine.evaluate(exportOf('50000', 0)).map((a) => a.rule)).toEqual(['data_exfiltration_bulk_export']);
    expect(engine.evaluate(exportOf(50_000, 120)).map((a) => a.rule)).toEqual(['data_exfiltration_bulk_export']);
    for (const [i, count] of ['5e4', ' 50000', '50000 records', '', true, null].entries()) {
      expect(engine.evaluate(exportOf(count, 240 + i * 120)), JSON.stringify(count)).toEqual([]);
    }
  });
});
