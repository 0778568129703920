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
