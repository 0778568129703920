/**
 * Behind a trusted proxy (the loopback peer is configured as one): the client
 * IP comes from X-Forwarded-For, and a verify function turns a JWT subject
 * into a verified actor — end to end on node:http.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwt, rid, setupPipeline, type Pipeline } from './helpers.js';

let pipe: Pipeline;
let server: Server;
let base: string;
const GOOD = jwt({ sub: 'verified-7' });

beforeAll(async () => {
  pipe = await setupPipeline(undefined, {
    trustedProxies: ['127.0.0.0/8', '::1'],
    verifyJwt: (token) => (token === GOOD ? { sub: 'verified-7' } : undefined),
  });
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await pipe.shutdown();
});

describe('behind a trusted proxy', () => {
  it('takes the client IP from X-Forwarded-For, right to left past trusted hops', async () => {
    const id = rid('xff-trusted');
    await fetch(base + '/api/a', { headers: { 'x-request-id': id, 'x-forwarded-for': '203.0.113.50, 198.51.100.4, 127.0.0.2' } });
    expect((await pipe.recordOf(id)).actor?.ip).toBe('198.51.100.4');
  });

  it('a verified JWT is a verified actor; a token the verifier refuses is anonymous', async () => {
    const a = rid('jwt-ok');
    const b = rid('jwt-forged');
    await fetch(base + '/api/a', { headers: { 'x-request-id': a, authorization: `Bearer ${GOOD}` } });
    await fetch(base + '/api/a', { headers: { 'x-request-id': b, authorization: `Bearer ${jwt({ sub: 'admin' })}` } });
    expect(await pipe.recordOf(a)).toMatchObject({ actor: { id: 'verified-7', type: 'user' }, details: { actor_source: 'jwt' } });
    expect(await pipe.recordOf(b)).toMatchObject({ actor: { type: 'anonymous' }, details: { actor_source: 'anonymous' } });
  });
});
