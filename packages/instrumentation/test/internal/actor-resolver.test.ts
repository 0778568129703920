/** Actor resolvers in order; credentials never leave the resolver. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createActorResolver } from '../../src/internal/actor-resolver.js';
import { jwt } from '../helpers.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('actor resolver', () => {
  const resolve = createActorResolver({ apiKeyHmacKey: 'x'.repeat(32) });

  it('app-set actor first, then the framework user, then JWT, API key, anonymous', () => {
    const h = { authorization: `Bearer ${jwt({ sub: 'j' })}`, 'x-api-key': 'key-1' };
    expect(resolve(req(h), { id: 'app', type: 'service' }, { id: 'fw' })).toEqual({ id: 'app', type: 'service', source: 'app' });
    expect(resolve(req(h), undefined, { id: 7 })).toEqual({ id: '7', type: 'user', source: 'framework' });
    expect(resolve(req(h), undefined, undefined)).toEqual({ id: 'j', type: 'user', source: 'jwt_unverified' });
    expect(resolve(req({ 'x-api-key': 'key-1' }), undefined, undefined)).toMatchObject({ type: 'api_key', source: 'api_key' });
    expect(resolve(req({}), undefined, undefined)).toEqual({ type: 'anonymous', source: 'anonymous' });
  });

  it('marks a JWT verified only when the verify function accepts it', () => {
    const token = jwt({ sub: 'claimed' });
    const strict = createActorResolver({ verifyJwt: (t) => (t === token ? { sub: 'verified-user' } : undefined) });
    expect(strict(req({ authorization: `Bearer ${token}` }), undefined, undefined)).toEqual({ id: 'verified-user', type: 'user', source: 'jwt' });
    expect(strict(req({ authorization: `Bearer ${jwt({ sub: 'forged' })}` }), undefined, undefined)).toEqual({ type: 'anonymous', source: 'anonymous' });
    const throwing = createActorResolver({ verifyJwt: () => { throw new Error('bad signature'); } });
    expect(throwing(req({ authorization: `Bearer ${token}` }), undefined, undefined).source).toBe('anonymous');
  });

  it('masks a credential written in a verified sub too, before cutting a long one to 256', () => {
    const token = jwt({ sub: 'x' });
    const issuer = createActorResolver({ verifyJwt: () => ({ sub: 'svc token=s3cr3tvalue' }) });
    expect(issuer(req({ authorization: `Bearer ${token}` }), undefined, undefined)).toEqual({ id: 'svc token=***', type: 'user', source: 'jwt', masked: true });
    // Cut first, the token would be a stub the masking no longer recognises.
    const long = resolve(req({ authorization: `Bearer ${jwt({ sub: 'a'.repeat(240) + ' ghp_0123456789abcdefghijABCDEFGHIJ012345' })}` }), undefined, undefined);
    expect(long).toEqual({ id: 'a'.repeat(240) + ' ghp_***', type: 'user', source: 'jwt_unverified', masked: true });
  });

  it('fingerprints API keys with a keyed HMAC: stable, key-dependent, never the key or its prefix', () => {
    const key = 'sk_live_0123456789abcdef';
    const a = resolve(req({ 'x-api-key': key }), undefined, undefined).id!;
    expect(a).toBe(resolve(req({ 'x-api-key': key }), undefined, undefined).id);
    expect(a).not.toBe(createActorResolver({ apiKeyHmacKey: 'y'.repeat(32) })(req({ 'x-api-key': key }), undefined, undefined).id);
    expect(a).not.toContain('sk_live');
    expect(a).not.toContain(key.slice(0, 6));
    expect(createActorResolver()(req({ 'x-api-key': key }), undefined, undefined)).toEqual({ type: 'api_key', source: 'api_key' });
    expect(() => createActorResolver({ apiKeyHmacKey: 'short' })).toThrow(/apiKeyHmacKey/);
  });

  it('ignores malformed tokens and hostile subjects', () => {
    expect(resolve(req({ authorization: 'Bearer not-a-jwt' }), undefined, undefined).source).toBe('anonymous');
    expect(resolve(req({ authorization: `Bearer ${jwt({ sub: { nested: 1 } })}` }), undefined, undefined).source).toBe('anonymous');
    expect(resolve(req({ authorization: 'Bearer ' + 'a'.repeat(20_000) + '.b.c' }), undefined, undefined).source).toBe('anonymous');
    expect(resolve(req({ authorization: `Bearer ${jwt({ sub: 'x\u0000y' + 'z'.repeat(1000) })}` }), undefined, undefined).id!.length).toBeLessThanOrEqual(256);
    expect(resolve(req({ authorization: 'Basic YWxpY2U6c2VjcmV0' }), undefined, undefined)).toEqual({ type: 'anonymous', source: 'anonymous' });
  });
});
