/**
 * Tests of text masking during normalisation (internal/normalize-mask.ts)
 * with the real redactSecrets as `maskText`: every credential form reaches
 * it from a string of details/old/new and from `error`, member names are
 * masked (distinct when they collide, values kept, pointers under the new
 * name), the free-text members of actor/target/request are masked, the ids
 * of actor/target have only credential forms masked, and every change is
 * listed in `redacted`.
 */
import { describe, expect, it } from 'vitest';
import { AuditChain } from '../../src/audit-chain.js';
import { canonicalize } from '../../src/canonical.js';
import { RecordValidationError } from '../../src/errors.js';
import { normalizeEvent, type AuditEventInput, type RedactionHook } from '../../src/normalize-record.js';
import { redactSecrets } from '../../src/redact-url.js';

const ID = '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b';
const hook: RedactionHook = { matchName: (n) => /password/i.test(n), replace: () => '[REDACTED]', maskText: redactSecrets };
const event = (extra: Partial<AuditEventInput>): AuditEventInput => ({ id: ID, time: '1700000000000000000', type: 'api', action: 'probe', ...extra });

describe('strings of details/old/new and error', () => {
  // Forms that redactSecrets always masked but that never reached it from a record.
  it.each([
    ['password: Zq8-colon', 'password: ***'],
    ['{"password":"Zq8-json"}', '{"password":"***"}'],
    ['Authorization: token ghp_Zq8', 'Authorization: token ***'],
    ['BEARER Zq8-upper', 'BEARER ***'],
    ['Bearer\tZq8-tab', 'Bearer\t***'],
    ['sent bearer\u00a0Zq8-nbsp', 'sent bearer\u00a0***'],
    ['api_key: Zq8-colon', 'api_key: ***'],
    ['x-api-key: Zq8-hdr', 'x-api-key: ***'],
    ['user:Zq8pw@db.internal:5432', '***@db.internal:5432'],
    ['pushed with ghp_Zq8a1B2c3D4e5F6', 'pushed with ghp_***'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJaCjEyMyJ9.Zq8sig', 'jwt ***'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEpZq8\n-----END RSA PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----\n***\n-----END RSA PRIVATE KEY-----'],
  ])('masks %j in details, old, new and error, and lists each', (input, expected) => {
    const e = normalizeEvent(event({ details: { note: input }, old: [input], new: { a: { b: input } }, error: input }), { redact: hook });
    expect(e.details).toEqual({ note: expected });
    expect(e.old).toEqual([expected]);
    expect(e.new).toEqual({ a: { b: expected } });
    expect(e.error).toBe(expected);
    expect(e.redacted).toEqual(['/details/note', '/error', '/new/a/b', '/old/0']);
    expect(JSON.stringify(e)).not.toContain('Zq8');
  });

  it('keeps and does not list strings that only look like credentials', () => {
    const plain = ['author=bob', 'keyword=search', 'tokenizer=bpe', 'password reset requested', 'tokenizer', 'Basic plan', 'author: bob', 'https://example.com/a?b=1', 'sess_expired', 'alice@example.com'];
    const e = normalizeEvent(event({ details: { plain }, error: 'authority=internal-ca' }), { redact: hook });
    expect(e.details).toEqual({ plain });
    expect(e.error).toBe('authority=internal-ca');
    expect(e.redacted).toBeUndefined();
  });
});

describe('member names of details/old/new', () => {
  it('masks a credential in a name, keeps the value and lists the member under its new name', () => {
    const e = normalizeEvent(event({
      details: { sessions: { sess_Zq8a1b2c3d4: { user: 'alice' } }, 'postgres://app:Zq8pw@db/x': 'ok', 'Bearer Zq8abc': 1, plain: 2 },
      new: { 'token=Zq8tok': true },
    }), { redact: hook });
    expect(e.details).toEqual({ sessions: { 'sess_***': { user: 'alice' } }, 'postgres://***@db/x': 'ok', 'Bearer ***': 1, plain: 2 });
    expect(Object.keys(e.details as object)).toEqual(['Bearer ***', 'plain', 'postgres://***@db/x', 'sessions']); // canonical order
    expect(e.new).toEqual({ 'token=***': true });
    expect(e.redacted).toEqual(['/details/Bearer ***', '/details/postgres:~1~1***@db~1x', '/details/sessions/sess_***', '/new/token=***']);
    expect(JSON.stringify(e)).not.toContain('Zq8');
  });

  it('keeps names that collide after masking distinct, loses no value, and never takes a name the object keeps', () => {
    const e = normalizeEvent(event({ details: { 'Bearer Zq8a': 1, 'Bearer Zq8b': 2, 'Bearer ***': 0, 'Bearer *** (2)': 'kept' } }), { redact: hook });
    expect(e.details).toEqual({ 'Bearer ***': 0, 'Bearer *** (2)': 'kept', 'Bearer *** (3)': 1, 'Bearer *** (4)': 2 });
    expect(e.redacted).toEqual(['/details/Bearer *** (3)', '/details/Bearer *** (4)']);
    // Normalising the result again changes nothing: the suffixed names are kept.
    expect(normalizeEvent(e, { redact: hook })).toEqual(e);
  });

  it('names the masked member in pointers below it, in errors too, and masks a secret-named member whole', () => {
    const e = normalizeEvent(event({ details: { 'Bearer Zq8abc': { password: 'x', note: 'password: Zq8' }, 'password=Zq8': 'v' } }), { redact: hook });
    expect(e.details).toEqual({ 'Bearer ***': { note: 'password: ***', password: '[REDACTED]' }, 'password=***': '[REDACTED]' });
    expect(e.redacted).toEqual(['/details/Bearer ***', '/details/Bearer ***/note', '/details/Bearer ***/password', '/details/password=***']);
    let error: unknown;
    try {
      normalizeEvent(event({ details: { 'Bearer Zq8abc': { n: Number.NaN } } }), { redact: hook });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RecordValidationError);
    expect((error as RecordValidationError).pointer).toBe('/details/Bearer ***/n');
  });

  it('inside a member replaced whole, replaces and lists nothing first: replace sees the original and redacted no inner names', () => {
    const seen: unknown[] = [];
    const recording: RedactionHook = { ...hook, matchName: (n) => /password|token/i.test(n), replace: (v) => (seen.push(v), '[REDACTED]') };
    const e = normalizeEvent(event({ details: { token: { 'Bearer Zq8abc': { password: 'x' }, note: 'password: Zq8' } } }), { redact: recording });
    expect(e.details).toEqual({ token: '[REDACTED]' });
    expect(seen).toEqual([{ 'Bearer Zq8abc': { password: 'x' }, note: 'password: Zq8' }]);
    expect(e.redacted).toEqual(['/details/token']);
  });

  it('seals a renamed member in canonical order and leaves names alone without a hook', () => {
    const input = event({ details: { a: 1, 'Bearer Zq8abc': 2, z: { 'https://u:Zq8@h': 3 } } });
    const sealed = new AuditChain({ stream: 's/1', limits: { redact: hook } }).append(input);
    expect(sealed.canonical).toBe(canonicalize(sealed.record));
    expect(sealed.canonical).toContain('"details":{"Bearer ***":2,"a":1,"z":{"https://***@h":3}}');
    expect(Object.keys(new AuditChain({ stream: 's/1' }).append(input).record.details as object)).toEqual(['Bearer Zq8abc', 'a', 'z']);
  });
});

describe('actor, target and request', () => {
  it('masks the free-text members user_agent, name and endpoint, and lists them', () => {
    const e = normalizeEvent(event({
      actor: { id: 'deploy-bot', type: 'service', user_agent: 'deploy-bot https://ci:Zq8pw@git.example.com/repo' },
      target: { type: 'url', name: 'https://u:Zq8@h/x' },
      request: { endpoint: '/api/m;access_token=Zq8t/items?page=2', method: 'GET' },
    }), { redact: hook });
    expect(e.actor).toEqual({ id: 'deploy-bot', type: 'service', user_agent: 'deploy-bot https://***@git.example.com/repo' });
    expect(e.target).toEqual({ type: 'url', name: 'https://***@h/x' });
    expect(e.request).toEqual({ endpoint: '/api/m;access_token=***/items?page=2', method: 'GET' });
    expect(e.redacted).toEqual(['/actor/user_agent', '/request/endpoint', '/target/name']);
  });

  it('masks a %3F-encoded query in an endpoint, and keeps ids without credential forms, enums and hex as given', () => {
    const e = normalizeEvent(event({
      actor: { id: 'token=a1b2c3', ip: '203.0.113.9' },
      target: { id: 'https://example.com/a?b=1', type: 'session' },
      request: { endpoint: '/oauth/cb%3Faccess_token%3DZq8t%26state%3Dx', session_id: 'sess_a1b2c3d4e5', id: 'Bearer a1' },
    }), { redact: hook });
    expect(e.request).toEqual({ endpoint: '/oauth/cb%3Faccess_token%3D***%26state%3Dx', session_id: 'sess_a1b2c3d4e5', id: 'Bearer a1' });
    expect(e.actor).toEqual({ id: 'token=a1b2c3', ip: '203.0.113.9' });
    expect(e.target).toEqual({ id: 'https://example.com/a?b=1', type: 'session' });
    expect(e.redacted).toEqual(['/request/endpoint']);
  });

  it('masks credential forms in actor.id and target.id, only those, and lists them; request.session_id keeps its form', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJaCjEyMyJ9.Zq8sig';
    const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcZq8\n-----END EC PRIVATE KEY-----';
    const masked = (actorId: string, targetId: string) =>
      normalizeEvent(event({ actor: { id: actorId, type: 'user' }, target: { id: targetId, type: 'key' }, request: { session_id: 'sess_Zq8a1b2c3d4' } }), { redact: hook });
    let e = masked('ghp_Zq8a1B2c3D4e5F6', 'AKIAZQ8ABCDEFGHIJKLM');
    expect(e.actor).toEqual({ id: 'ghp_***', type: 'user' });
    expect(e.target).toEqual({ id: 'AKIA***', type: 'key' });
    expect(e.request).toEqual({ session_id: 'sess_Zq8a1b2c3d4' });
    expect(e.redacted).toEqual(['/actor/id', '/target/id']);
    e = masked(jwt, pem);
    expect(e.actor!.id).toBe('***');
    expect(e.target!.id).toBe('-----BEGIN EC PRIVATE KEY-----\n***\n-----END EC PRIVATE KEY-----');
    expect(e.redacted).toEqual(['/actor/id', '/target/id']);
    // Not credential forms: kept exact, not listed; no masking without a text-masking hook.
    e = masked('password=Zq8', 'alice@example.com');
    expect([e.actor!.id, e.target!.id, e.redacted]).toEqual(['password=Zq8', 'alice@example.com', undefined]);
    expect(normalizeEvent(event({ actor: { id: 'ghp_Zq8a1B2c3D4e5F6' } }), { redact: { ...hook, maskText: undefined } }).actor).toEqual({ id: 'ghp_Zq8a1B2c3D4e5F6' });
  });
});
