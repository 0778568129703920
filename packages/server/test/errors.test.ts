/**
 * The one mapping of thrown values to HTTP answers: the server's own
 * refusals and the store's argument checks on request input are 400s with
 * their message; anything unexpected — a TypeError or RangeError from a bug
 * included — is a 500 that reveals nothing.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { callerInput, errorResponse, HttpError } from '../src/errors.js';
import { ADMIN_TOKEN, call, fixturesPerTest } from './helpers.js';

const fixture = fixturesPerTest();

describe('errorResponse', () => {
  it.each([
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'records')")],
    ['a RangeError from a bug', new RangeError('Invalid array length')],
    ['an I/O error', Object.assign(new Error('SQLITE_IOERR: disk I/O error at /var/lib/audit.db'), { code: 'SQLITE_IOERR' })],
    ['a thrown string', 'boom'],
  ])('answers %s with a bare 500', (_what, error) => {
    expect(errorResponse(error)).toEqual({ status: 500, code: 'AUDIT_HTTP_INTERNAL', message: 'internal error; see the server log' });
  });

  it('answers the server\'s own refusals with the status of their code and their message', () => {
    expect(errorResponse(new HttpError('AUDIT_HTTP_BAD_REQUEST', 'limit must be an integer in 1..1000; got "0"'))).toEqual({ status: 400, code: 'AUDIT_HTTP_BAD_REQUEST', message: 'limit must be an integer in 1..1000; got "0"' });
    expect(errorResponse(new HttpError('AUDIT_HTTP_BUSY', 'retry later')).status).toBe(429);
  });
});

describe('callerInput', () => {
  it('turns the store\'s argument checks into a 400 with their message, and lets anything else through', async () => {
    const bad = () => callerInput(() => { throw new RangeError('query.since must not be after query.until'); });
    expect(bad).toThrow(HttpError);
    expect(errorResponse((() => { try { bad(); } catch (e) { return e; } })())).toMatchObject({ status: 400, message: 'query.since must not be after query.until' });
    const io = new Error('disk I/O error');
    expect(() => callerInput(() => { throw io; })).toThrow(io);
    expect(callerInput(() => 42)).toBe(42);
  });

  it('keeps a request the store refuses a 400 naming the problem (text search on an encrypted store)', async () => {
    const fx = await fixture(2, {}, { encryption: { keyId: 'k1', key: randomBytes(32) } });
    const res = await call(fx, '/api/audit/logs?q=needle', ADMIN_TOKEN);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toEqual({ code: 'AUDIT_HTTP_BAD_REQUEST', message: expect.stringMatching(/text cannot search details: encryption at rest is on/) });
  });
});
