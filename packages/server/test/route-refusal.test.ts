/**
 * Refusals a principal is answered after authentication
 * (src/internal/route-refusal.ts): an unknown stream, an absent record, a
 * seq past a stream's end, a bad parameter — each says something about the
 * log, so each is in the access stream, with the status, the reason and
 * the query (credentials masked), by the time the answer arrives; when it
 * cannot be recorded the answer is a 503 that says nothing about the log.
 */
import { describe, expect, it } from 'vitest';
import { accessRecords, AUDITOR_TOKEN, call, fixturesPerTest } from './helpers.js';

const fixture = fixturesPerTest();

describe('refusals after authentication', () => {
  it.each([
    ['an unknown stream (404 naming the streams held)', '/api/audit/integrity?stream=nope', 404, /no stream "nope" in this store; it holds .*"svc\/1"/],
    ['an absent record (404: whether it exists)', '/api/audit/proof?stream=svc%2F1&seq=99', 404, /no record with seq 99 in stream "svc\/1"/],
    ['a bundle past the end (400 naming the last seq)', '/api/audit/export?format=bundle&stream=svc%2F1&from_seq=99', 400, /its last seq is 4/],
  ])('records %s before answering it', async (_what, path, status, reason) => {
    const fx = await fixture(5);
    const before = accessRecords(fx.store).length;
    const res = await call(fx, path, AUDITOR_TOKEN);
    expect(res.status).toBe(status);
    expect((await res.json()).error.message).toMatch(reason);
    // No wait: the record was committed before the answer was sent.
    const added = accessRecords(fx.store).slice(before);
    expect(added).toMatchObject([{
      type: 'access', action: 'request', outcome: 'failure', severity: 'warning', actor: { id: 'bob', type: 'api_key', ip: '127.0.0.1' },
      request: { endpoint: new URL(path, 'http://x').pathname, method: 'GET', id: res.headers.get('x-request-id') },
      details: { role: 'auditor', status, reason: expect.stringMatching(reason), query: new URL(path, 'http://x').search.slice(1) },
    }]);
  });

  it('masks credentials and stream tickets in the recorded query, and never records the token', async () => {
    const fx = await fixture(5);
    const before = accessRecords(fx.store).length;
    const res = await call(fx, '/api/audit/logs?api_key=sk_live_0123456789abcdef&ticket=t-secret-ticket-0123', AUDITOR_TOKEN);
    expect(res.status).toBe(400);
    const [record] = accessRecords(fx.store).slice(before);
    expect(record).toMatchObject({ action: 'request', details: { status: 400, query: 'api_key=***&ticket=***' } });
    const text = JSON.stringify(record);
    for (const secret of ['sk_live_0123456789abcdef', 't-secret-ticket-0123', AUDITOR_TOKEN]) expect(text).not.toContain(secret);
  });

  it('answers 503 without the reason when the refusal cannot be recorded', async () => {
    const fx = await fixture(5);
    fx.store.database.exec("CREATE TRIGGER no_access BEFORE INSERT ON audit_logs WHEN NEW.stream LIKE 'otel-audit-server/%' BEGIN SELECT RAISE(ABORT, 'store unavailable'); END");
    const res = await call(fx, '/api/audit/integrity?stream=nope', AUDITOR_TOKEN);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error.code).toBe('AUDIT_ACCESS_NOT_RECORDED');
    expect(JSON.stringify(body)).not.toContain('svc/1');
  });
});
