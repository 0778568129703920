import { describe, expect, it } from 'vitest';
import { AuditError } from '@otel-audit/core';
import { compileRules, type AlertRuleConfig } from '../../src/alerts/alert-rule.js';
import { AlertConfigError } from '../../src/alerts/errors.js';
import { parseDuration } from '../../src/alerts/duration.js';
import { compileMatch, MAX_MATCHED_CHARS } from '../../src/alerts/record-matcher.js';
import { rec } from './helpers.js';

const base: AlertRuleConfig = { name: 'r', match: { type: 'auth' }, group_by: ['actor.id'], window: '5m', condition: 'count >= 3' };

function configError(rules: unknown, path = 'processors.alerts.rules'): AlertConfigError {
  try {
    compileRules(rules, { path });
  } catch (e) {
    expect(e).toBeInstanceOf(AlertConfigError);
    expect(e).toBeInstanceOf(AuditError);
    expect((e as AlertConfigError).code).toBe('AUDIT_CONFIG_INVALID');
    return e as AlertConfigError;
  }
  throw new Error('expected compileRules to throw');
}

describe('parseDuration', () => {
  it('reads units and sums', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
  });
  it('refuses bare numbers, spaces, unknown units and more than 7 days', () => {
    for (const bad of [300, '5', '5 m', '5min', '-5m', '', '8d', null]) expect(() => parseDuration(bad, 'x.window')).toThrow(AlertConfigError);
    expect(() => parseDuration(300, 'x.window')).toThrow(/x\.window: a bare number has no unit \(got 300\); write a duration such as "30s"/);
  });
});

describe('compileRules validation', () => {
  it('compiles a valid rule with defaults', () => {
    const [r] = compileRules([{ name: 'x', condition: 'count > 4' }]);
    expect(r!.condition).toEqual({ kind: 'count', count: 5 });
    expect(r!.conditionText).toBe('count >= 5');
    expect(r!.windowMillis).toBe(300_000);
    expect(r!.cooldownMillis).toBe(0);
    expect(r!.severity).toBe('warning');
    expect(r!.description).toBe('count >= 5 within 5m');
  });

  it.each([
    ['not a list', { rules: {} }, 'processors.alerts.rules', /not a list of rules/],
    ['unknown rule key with suggestion', [{ ...base, windw: '5m' }], 'processors.alerts.rules[0].windw', /did you mean "window"/],
    ['bad name', [{ ...base, name: 'Failed Logins' }], 'processors.alerts.rules[0].name', /not a rule name \(got "Failed Logins"\); write lowercase letters/],
    ['duplicate name', [base, base], 'processors.alerts.rules[1].name', /already defined/],
    ['bad window', [{ ...base, window: '5 minutes' }], 'processors.alerts.rules[0].window', /not a duration \(got "5 minutes"\)/],
    ['zero window', [{ ...base, window: '0s' }], 'processors.alerts.rules[0].window', /empty window/],
    ['bad cooldown', [{ ...base, cooldown: 60 }], 'processors.alerts.rules[0].cooldown', /bare number/],
    ['bad severity', [{ ...base, severity: 'high' }], 'processors.alerts.rules[0].severity', /write warning or critical/],
    ['missing condition', [{ name: 'x' }], 'processors.alerts.rules[0].condition', /missing/],
    ['unparsable condition', [{ ...base, condition: 'count = 3' }], 'processors.alerts.rules[0].condition', /not a condition \(got "count = 3"\); write "count >= 5"/],
    ['zero threshold', [{ ...base, condition: { count: 0 } }], 'processors.alerts.rules[0].condition.count', /whole number from 1/],
    ['distinct on unknown field', [{ ...base, condition: 'distinct(actor.address) >= 3' }], 'processors.alerts.rules[0].condition.distinct', /did you mean "address"|has the members/],
    ['unknown member in match', [{ ...base, match: { acter: 'x' } }], 'processors.alerts.rules[0].match.acter', /did you mean "actor"/],
    ['scalar member with a path', [{ ...base, match: { 'outcome.x': 'y' } }], 'processors.alerts.rules[0].match.outcome.x', /has no members/],
    ['unknown operator', [{ ...base, match: { action: { glb: 'x*' } } }], 'processors.alerts.rules[0].match.action.glb', /did you mean "glob"/],
    ['object as constant', [{ ...base, match: { action: { equals: { a: 1 } } } }], 'processors.alerts.rules[0].match.action.equals', /not a constant/],
    ['bad group_by field', [{ ...base, group_by: ['actor.name'] }], 'processors.alerts.rules[0].group_by[0]', /actor" has the members id, type, ip, user_agent/],
    ['one-step sequence', [{ ...base, condition: { sequence: [{ match: { outcome: 'failure' } }] } }], 'processors.alerts.rules[0].condition.sequence', /at least two steps/],
    ['sequence too long', [{ ...base, condition: { sequence: [{ count: 60 }, { count: 10 }] } }], 'processors.alerts.rules[0].condition.sequence', /more than 64/],
    ['over-long in list', [{ ...base, match: { action: new Array(1001).fill('x') } }], 'processors.alerts.rules[0].match.action', /more than 1000 entries \(got a list of 1001 items\)/],
    ['too many group_by fields', [{ ...base, group_by: ['actor.id', 'actor.ip', 'actor.type', 'actor.user_agent', 'target.id', 'target.type', 'target.name', 'request.id', 'request.method'] }], 'processors.alerts.rules[0].group_by', /more than 8 fields/],
    ['bad outside_hours', [{ ...base, match: { time: { outside_hours: { from: '8am', to: '18:00' } } } }], 'processors.alerts.rules[0].match.time.outside_hours.from', /"HH:MM"/],
  ])('%s: names the key path, the value and the fix', (_name, rules, path, message) => {
    const e = configError(rules);
    expect(e.path).toBe(path);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${path}: `)).toBe(true);
    expect(e.fix.length).toBeGreaterThan(5);
  });

  it('runs regexes and globs in linear time: patterns that backtrack for minutes in JavaScript take milliseconds on an attacker\'s value', () => {
    // Each took from 0.5 s to over 60 s on one record with V8's backtracking engine (alerts red team and review).
    const cases: [string, string][] = [
      ['^(a|aa)+$', `${'a'.repeat(40)}b`], ['((a)|(aa))+$', `${'a'.repeat(40)}b`], ['(a+)+$', `${'a'.repeat(40)}b`],
      ['\\w*\\w*\\w*=', 'a'.repeat(1501)], ['[a-z]+[a-z0-9]*!', 'a'.repeat(4096)], ['a+a*=', 'a'.repeat(4097)], ['\\w*-?\\w*=', 'a'.repeat(4097)],
    ];
    const started = Date.now();
    for (const [pattern, value] of cases) {
      const [rule] = compileRules([{ ...base, match: { 'actor.user_agent': { regex: pattern } } }]);
      expect(rule!.match.test(rec({ type: 'auth', action: 'login', actor: { id: 'x', user_agent: value } }, 0)), pattern).toBe(false);
    }
    const [glob] = compileRules([{ ...base, match: { 'actor.user_agent': { glob: '*a*a*a*a*b' } } }]);
    expect(glob!.match.test(rec({ type: 'auth', action: 'login', actor: { id: 'x', user_agent: 'a'.repeat(4096) } }, 0))).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000); // minutes with a backtracking engine
  });

  it('refuses back-references, lookaround and over-long regular expressions, naming the fix', () => {
    for (const pattern of ['(a|b)\\1', '(?<n>a)\\k<n>', '(?=admin)', 'x(?!y)', '(?<=a)b', '(?<!a)b']) {
      const e = configError([{ ...base, match: { 'details.q': { regex: pattern } } }]);
      expect(e.path).toBe('processors.alerts.rules[0].match.details.q.regex');
      expect(e.message, pattern).toMatch(/back-reference or lookaround, which the linear-time engine \(RE2\) does not have/);
      expect(e.fix).toMatch(/without back-references/);
    }
    const long = configError([{ ...base, match: { 'details.q': { regex: 'a'.repeat(257) } } }]);
    expect(long.message).toMatch(/longer than 256/);
    expect(configError([{ ...base, match: { 'details.q': { regex: '(' } } }]).message).toMatch(/not a valid regular expression/);
    // Usual patterns are accepted, and match as in JavaScript.
    const [rule] = compileRules([{ ...base, match: { 'request.endpoint': { regex: ['^/admin/.*', '.*export.*csv.*', 'curl|wget', '(GET|POST) /login', '[a-z]+[0-9]*', '\\d+\\.\\d+'] } } }]);
    const at = (endpoint: string) => rule!.match.test(rec({ type: 'auth', action: 'login', request: { endpoint } }, 0));
    expect(['/admin/users', 'GET /login', 'v1.2', 'reports/export.csv'].map(at)).toEqual([true, true, true, true]);
    expect(['-', '123', '/ 4'].map(at)).toEqual([false, false, false]);
    // Written in JavaScript's syntax, meaning what JavaScript means (review helper 89): \s takes NBSP
    // and the Unicode spaces, . no line terminator, \uXXXX, \cX and [^] are translated.
    const js = (pattern: string, value: string) => compileRules([{ ...base, match: { 'details.q': { regex: pattern } } }])[0]!.match.test(rec({ type: 'auth', action: 'x', details: { q: value } }, 0));
    const cases: [string, string][] = [
      ['union\\s+select', 'union\u00a0select'], ['union\\s+select', 'union\u3000select'], ['a\\Sb', 'a\u00a0b'], ['^a.b$', 'a\rb'], ['^a.b$', 'a\u2028b'],
      ['^a.b$', 'a-b'], ['[\\u0400-\\u04FF]', 'Привет'], ['\\u200b', 'x\u200by'], ['^a\\cJb$', 'a\nb'], ['^a[^]b$', 'a\nb'], ['[\\s]', '\u2029'], ['^[^\\s]+$', 'ab\u00a0'],
    ];
    expect(cases.map(([pattern, value]) => js(pattern, value))).toEqual(cases.map(([pattern, value]) => new RegExp(pattern).test(value)));
    // A case-insensitive glob folds as Unicode does, whether or not it has an inner wildcard (toLowerCase turns a final Σ into ς).
    const glob = (g: string, value: string) => compileRules([{ ...base, match: { 'details.q': { glob: g, ignore_case: true } } }])[0]!.match.test(rec({ type: 'auth', action: 'x', details: { q: value } }, 0));
    expect([glob('ΟΔΟΣ*', 'οδοσα'), glob('ΟΔΟ?*', 'οδοσα'), glob('ΟΔΟΣ*', 'ΟΔΟΣΑ')]).toEqual([true, true, true]);
  });

  it('checks disabled rules but leaves them out', () => {
    expect(compileRules([{ ...base, enabled: false }])).toEqual([]);
    expect(() => compileRules([{ ...base, enabled: false, window: 'x' }])).toThrow(AlertConfigError);
  });
});

describe('compileMatch', () => {
  const r = rec({
    type: 'crud', action: 'export', outcome: 'success',
    actor: { id: 'u1', ip: '10.0.0.1' }, target: { type: 'Customer', id: 'u1' },
    details: { export: { rows: 1500, format: 'CSV' }, items: ['a', 'b'], note: null },
  }, 0);

  it.each([
    [{ type: 'crud' }, true],
    [{ type: 'auth' }, false],
    [{ action: ['view', 'export'] }, true],
    [{ action: { in: ['view'] } }, false],
    [{ 'target.type': { glob: 'cust*' } }, false],
    [{ 'target.type': { glob: 'cust*', ignore_case: true } }, true],
    [{ 'target.type': { equals: 'customer', ignore_case: true } }, true],
    [{ 'details.export.format': { regex: '^(csv|json)$', ignore_case: true } }, true],
    [{ 'details.export.rows': { gt: 1000, lte: 1500 } }, true],
    [{ 'details.export.rows': { gt: 1500 } }, false],
    [{ 'details.export.rows': { regex: '^15' } }, true],
    [{ 'details.items.1': 'b' }, true],
    [{ 'details.note': null }, true],
    [{ 'details.missing': { exists: false } }, true],
    [{ 'details.constructor': { exists: true } }, false],
    [{ 'actor.id': { equals_field: 'target.id' } }, true],
    [{ 'actor.ip': { equals_field: 'target.id' } }, false],
    [{ outcome: { not: ['failure', 'error'] } }, true],
    [{ type: 'crud', action: 'view' }, false],
  ] as const)('%j → %s', (match, expected) => {
    expect(compileMatch(match).test(r)).toBe(expected);
  });

  it('ORs a list of maps and pins record types for indexing', () => {
    const m = compileMatch([{ type: 'auth', action: 'login' }, { type: ['admin', 'crud'] }]);
    expect(m.test(r)).toBe(true);
    expect([...m.types!].sort()).toEqual(['admin', 'auth', 'crud']);
    expect(compileMatch([{ type: 'auth' }, { action: 'x' }]).types).toBeUndefined();
  });

  it.each([
    ['*', ['', 'a', 'role\nx'], []],
    ['adm*', ['adm', 'admin'], ['xadm', 'ad']],
    ['*role', ['role', 'user_role'], ['roles']],
    ['*role*', ['role', 'user_roles', 'a\nrole\nb'], ['rol', 'r-o-l-e']],
    ['a*b?c', ['abxc', 'a--b-c'], ['abc', 'xabxc', 'abxcx']],
    ['a.b', ['a.b'], ['axb']],
  ])('glob %j matches the whole value: %j and not %j', (glob, yes, no) => {
    const m = compileMatch({ 'target.type': { glob } });
    for (const v of yes) expect(m.test(rec({ type: 'x', action: 'y', target: { type: v } }, 0)), v).toBe(true);
    for (const v of no) expect(m.test(rec({ type: 'x', action: 'y', target: { type: v } }, 0)), v).toBe(false);
  });

  it('narrows a match to the alternatives that can accept a type and action', () => {
    const m = compileMatch([{ type: 'auth', action: 'login' }, { action: ['grant', 'sudo'] }, { 'details.status_code': 429 }]);
    const grant = rec({ type: 'crud', action: 'grant' }, 0);
    expect(m.narrow!('crud', 'grant')!(grant)).toBe(true);
    expect(m.narrow!('crud', 'view')!(rec({ type: 'crud', action: 'view', details: { status_code: 429 } }, 0))).toBe(true);
    expect(m.narrow!('crud', 'view')!(rec({ type: 'crud', action: 'view' }, 0))).toBe(false);
    expect(compileMatch({ type: 'auth', action: 'login' }).narrow!('auth', 'logout')).toBeUndefined();
  });

  it('tests a condition every alternative states alike once, with the same results as testing each alternative', () => {
    // Each alternative's own condition is a pattern, tested after the cheaper shared one.
    const alts = [{ 'actor.id': { not: { equals_field: 'target.id' } }, 'details.kind': { glob: 'a*' } }, { 'details.kind': { regex: '^b' }, 'actor.id': { not: { equals_field: 'target.id' } } }, { 'actor.id': { not: { equals_field: 'target.id' } }, 'details.n': { gt: 1 } }];
    const m = compileMatch(alts);
    const each = alts.map((a) => compileMatch(a));
    let reads = 0;
    const counted = (actor: string, target: string, kind: string, n: number) => {
      const r = rec({ type: 'crud', action: 'update', target: { type: 't', id: target }, details: { kind, n } }, 0) as unknown as Record<string, unknown>;
      const a = { id: actor, type: 'user' };
      Object.defineProperty(r, 'actor', { get: () => (reads++, a) });
      return r as unknown as ReturnType<typeof rec>;
    };
    for (const actor of ['u1', 'u2']) {
      for (const kind of ['a', 'b', 'c']) {
        for (const n of [0, 2]) {
          const r = counted(actor, 'u1', kind, n);
          const expected = each.some((e) => e.test(r));
          reads = 0;
          expect(m.test(r)).toBe(expected);
          expect(m.narrow!('crud', 'update')!(r)).toBe(expected);
        }
      }
    }
    // The actor acting on itself: one read of the shared condition, not one per alternative.
    reads = 0;
    expect(m.test(counted('u1', 'u1', 'a', 2))).toBe(false);
    expect(reads).toBe(1);
    reads = 0;
    expect(each.some((e) => e.test(counted('u1', 'u1', 'a', 2)))).toBe(false);
    expect(reads).toBeGreaterThan(1);
  });

  it('pins record actions for indexing only when every alternative names them exactly', () => {
    expect([...compileMatch([{ action: ['grant', 'sudo'] }, { action: 'assign', type: 'crud' }]).actions!].sort()).toEqual(['assign', 'grant', 'sudo']);
    expect(compileMatch([{ action: 'grant' }, { 'details.status_code': 429 }]).actions).toBeUndefined();
    // Case-insensitive and pattern conditions accept values not listed: not pinned.
    expect(compileMatch({ action: { in: ['grant'], ignore_case: true } }).actions).toBeUndefined();
    expect(compileMatch({ action: { glob: 'rate_limit*' } }).actions).toBeUndefined();
  });

  it('tests only the first MAX_MATCHED_CHARS characters of a value', () => {
    const m = compileMatch({ 'details.s': { regex: 'tail$' } });
    expect(m.test(rec({ type: 'x', action: 'y', details: { s: 'a'.repeat(10) + 'tail' } }, 0))).toBe(true);
    expect(m.test(rec({ type: 'x', action: 'y', details: { s: 'a'.repeat(MAX_MATCHED_CHARS) + 'tail' } }, 0))).toBe(false);
  });

  it('outside_hours uses the offset and working days', () => {
    // T0 is Monday 2026-01-05 00:00 UTC.
    const m = compileMatch({ time: { outside_hours: { from: '08:00', to: '18:00', utc_offset: '+02:00', days: [1, 2, 3, 4, 5] } } });
    const at = (hours: number) => rec({ type: 'admin', action: 'update' }, hours * 3600);
    expect(m.test(at(5.99))).toBe(true); // 07:59 local
    expect(m.test(at(6))).toBe(false); // 08:00 local
    expect(m.test(at(15.99))).toBe(false); // 17:59 local
    expect(m.test(at(16))).toBe(true); // 18:00 local
    expect(m.test(at(24 * 5 + 10))).toBe(true); // Saturday 12:00 local
    const night = compileMatch({ time: { outside_hours: { from: '22:00', to: '06:00' } } });
    expect(night.test(at(23))).toBe(false);
    expect(night.test(at(12))).toBe(true);
  });
});
