/**
 * The §8 policy: first match wins, patterns, methods, normalisation against
 * bypasses, the required catch-all, and configuration errors that name the
 * key and the fix.
 */
import { describe, expect, it } from 'vitest';
import { AuditPolicyError, DEFAULT_HTTP_AUDIT_RULES, createHttpAuditPolicy, type HttpAuditRule } from '../src/index.js';

const DESIGN_RULES: HttpAuditRule[] = [
  { match: { path: '/healthz' }, level: 'none' },
  { match: { path: '/auth/login', methods: ['POST'] }, level: 'request', type: 'auth', action: 'login' },
  { match: { path: '/admin/tools/:id' }, level: 'request', type: 'admin', target: 'tool' },
  { match: { path: '/admin/**' }, level: 'metadata', type: 'admin' },
  { match: { path: '/**', methods: ['GET', 'HEAD'] }, level: 'none' },
  { match: { path: '/**' }, level: 'metadata' },
];

describe('HttpAuditPolicy', () => {
  const policy = createHttpAuditPolicy({ rules: DESIGN_RULES });

  it('first match wins, with methods and parameters (the DESIGN §8 example)', () => {
    expect(policy.match('GET', '/healthz').level).toBe('none');
    expect(policy.match('POST', '/auth/login').rule.action).toBe('login');
    expect(policy.match('GET', '/auth/login').level).toBe('none');
    const tool = policy.match('PUT', '/admin/tools/t-9?force=1');
    expect(tool).toMatchObject({ index: 2, level: 'request', params: { id: 't-9' }, path: '/admin/tools/t-9' });
    expect(policy.match('GET', '/admin').index).toBe(3);
    expect(policy.match('GET', '/admin/a/b/c').index).toBe(3);
    expect(policy.match('GET', '/administrator').level).toBe('none');
    expect(policy.match('POST', '/anything').index).toBe(5);
    expect(policy.match('GET', '/').level).toBe('none');
  });

  it('cannot be bypassed with case, slashes, dot segments or percent-encoding', () => {
    for (const path of ['/ADMIN/users', '//admin/users', '/./admin/users', '/x/../admin/users', '/%61dmin/users', '/public/../../admin']) {
      expect(policy.match('GET', path).index, path).toBe(3);
    }
    // "/admin/../public" is "/public" to a normalising proxy but routed under "/admin" by Express: audited.
    expect(policy.match('GET', '/admin/../public').level).toBe('metadata');
    expect(policy.match('GET', '/admin/%2e%2e/public').level).toBe('metadata');
  });

  it('caseSensitive: true matches exactly', () => {
    const p = createHttpAuditPolicy({ rules: DESIGN_RULES, caseSensitive: true });
    expect(p.match('GET', '/ADMIN/users').level).toBe('none');
  });

  it('the default rules mirror the seed', () => {
    const p = createHttpAuditPolicy();
    expect(p.match('POST', '/auth/login').rule).toMatchObject({ type: 'auth', action: 'login', level: 'metadata' });
    expect(p.match('POST', '/auth/logout').rule).toMatchObject({ type: 'auth', action: 'logout' });
    expect(p.match('GET', '/admin/users').rule.type).toBe('admin');
    expect(p.match('DELETE', '/api/items/3').rule.type).toBe('api');
    expect(p.match('POST', '/rpc').rule.type).toBe('rpc');
    expect(p.match('GET', '/index.html').level).toBe('none');
    expect(p.match('POST', '/v1/logs').level).toBe('none');
    expect(DEFAULT_HTTP_AUDIT_RULES.at(-1)!.match.path).toBe('/**');
  });

  it('refuses a policy without a catch-all, naming the fix', () => {
    const e = (() => {
      try {
        createHttpAuditPolicy({ rules: [{ match: { path: '/admin/**' }, level: 'metadata' }] });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(AuditPolicyError);
    expect((e as AuditPolicyError).code).toBe('AUDIT_CONFIG_INVALID');
    expect((e as Error).message).toMatch(/catch-all.*"\/\*\*"/);
    // A catch-all limited to some methods is not one.
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/**', methods: ['GET'] }, level: 'none' }] })).toThrow(/catch-all/);
  });

  it('refuses unreachable rules, bad levels, bad patterns, bad methods, unknown id parameters', () => {
    const catchAll: HttpAuditRule = { match: { path: '/**' }, level: 'none' };
    expect(() => createHttpAuditPolicy({ rules: [catchAll, { match: { path: '/a' }, level: 'none' }] })).toThrow(/rules\[1\]: is unreachable/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/a' }, level: 'full' as never }, catchAll] })).toThrow(/rules\[0\]\.level/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: 'admin' }, level: 'none' }, catchAll] })).toThrow(/rules\[0\]\.match\.path/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/a//b' }, level: 'none' }, catchAll] })).toThrow(/empty segment/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/a/:x/:x' }, level: 'none' }, catchAll] })).toThrow(/repeats/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/a', methods: [] }, level: 'none' }, catchAll] })).toThrow(/methods/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/a', methods: ['GE T'] }, level: 'none' }, catchAll] })).toThrow(/invalid method/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/t/:id' }, level: 'none', target: { type: 'tool', idParam: 'name' } }, catchAll] })).toThrow(/:name/);
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/t' }, level: 'none', type: 'Bad Type' }, catchAll] })).toThrow(/rules\[0\]\.type/);
    expect(() => createHttpAuditPolicy({ rules: 'x' as never })).toThrow(AuditPolicyError);
  });

  it('refuses a secret-named parameter as the target id at load, naming the key, the parameter and the fix', () => {
    const catchAll: HttpAuditRule = { match: { path: '/**' }, level: 'none' };
    const e = (() => {
      try {
        createHttpAuditPolicy({ rules: [{ match: { path: '/reset/:resetToken' }, level: 'metadata', target: { type: 'reset', idParam: 'resetToken' } }, catchAll] });
      } catch (err) {
        return err as AuditPolicyError;
      }
    })();
    expect(e).toBeInstanceOf(AuditPolicyError);
    expect(e!.message).toMatch(/^rules\[0\]\.target\.idParam: names ":resetToken", whose name looks like a credential .* cannot be the target id; give the id its own parameter/);
    // The id of a credential is an id.
    expect(() => createHttpAuditPolicy({ rules: [{ match: { path: '/keys/:keyId' }, level: 'metadata', target: { type: 'api_key', idParam: 'keyId' } }, catchAll] })).not.toThrow();
  });

  it('* matches one segment, ** zero or more', () => {
    const p = createHttpAuditPolicy({ rules: [{ match: { path: '/a/*/c' }, level: 'metadata' }, { match: { path: '/b/**/z' }, level: 'request' }, { match: { path: '/**' }, level: 'none' }] });
    expect(p.match('GET', '/a/b/c').index).toBe(0);
    expect(p.match('GET', '/a/c').index).toBe(2);
    expect(p.match('GET', '/b/z').index).toBe(1);
    expect(p.match('GET', '/b/1/2/z').index).toBe(1);
  });
});
