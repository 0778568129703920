import { createRecordId, genesisPrev, type AuditRecord } from '@otel-audit/core';

/** Start of the fake clock: 2026-01-05T00:00:00Z, a Monday. */
export const T0_SECONDS = 1_767_571_200;

let seq = 0;

/** A sealed-looking record at `atSeconds` after T0 (fractions allowed). */
export function rec(partial: Partial<AuditRecord> & { type: string; action: string }, atSeconds: number): AuditRecord {
  const nanos = BigInt(T0_SECONDS) * 1_000_000_000n + BigInt(Math.round(atSeconds * 1_000_000)) * 1000n;
  return {
    v: 1,
    alg: 'sha256',
    stream: 'test/1',
    seq: seq++,
    prev: genesisPrev('sha256'),
    id: createRecordId(Number(nanos / 1_000_000n)),
    time: nanos.toString(),
    outcome: 'success',
    severity: 'info',
    ...partial,
  } as AuditRecord;
}

export const failedLogin = (actor: string, ip: string, at: number): AuditRecord =>
  rec({ type: 'auth', action: 'login', outcome: 'failure', actor: { id: actor, type: 'user', ip } }, at);
export const goodLogin = (actor: string, ip: string, at: number): AuditRecord =>
  rec({ type: 'auth', action: 'login', outcome: 'success', actor: { id: actor, type: 'user', ip } }, at);

/**
 * The two records one HTTP request leaves: the app's own (`audit.login(...)`,
 * logged during the request) and, 5 ms later, the HTTP-level one the
 * instrumentation seals when the server span ends — same type, action,
 * outcome, actor and `request.id`, plus `details.status_code`.
 */
export function requestRecords(partial: Partial<AuditRecord> & { type: string; action: string }, requestId: string, statusCode: number, atSeconds: number): [AuditRecord, AuditRecord] {
  const request = { id: requestId, endpoint: '/demo', method: 'POST', span_id: requestId.slice(-16).padStart(16, '0') };
  return [rec({ ...partial, request }, atSeconds), rec({ ...partial, request, details: { ...(partial.details as object | undefined), status_code: statusCode } }, atSeconds + 0.005)];
}

export const failedLoginRequest = (actor: string, ip: string, requestId: string, at: number): [AuditRecord, AuditRecord] =>
  requestRecords({ type: 'auth', action: 'login', outcome: 'failure', actor: { id: actor, type: 'user', ip } }, requestId, 401, at);
export const goodLoginRequest = (actor: string, ip: string, requestId: string, at: number): [AuditRecord, AuditRecord] =>
  requestRecords({ type: 'auth', action: 'login', outcome: 'success', actor: { id: actor, type: 'user', ip } }, requestId, 200, at);
