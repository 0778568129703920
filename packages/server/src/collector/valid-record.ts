/**
 * Whether a self-consistent record body is a valid audit record (DESIGN
 * §4.1, §4.2): a record the store cannot hold (no type, time "soon") or
 * one that is not in core's normal form is refused on its own, since what
 * was hashed must be exactly what is stored.
 */
import { canonicalize, normalizeRecord, type AuditRecord, type AuditRecordInput } from '@otel-audit/core';

/** The normalised record of `body` (`record` is `body` parsed), or why it is not one. */
export function validRecord(record: unknown, body: string): AuditRecord | string {
  let normal: AuditRecord;
  try {
    normal = normalizeRecord(record as AuditRecordInput);
  } catch (e) {
    return `is not a valid audit record: ${(e as Error).message}`;
  }
  // Normalisation must not change a byte: what was hashed is what is stored.
  return canonicalize(normal) === body ? normal : 'is not in the normal form of the audit record format (a member has a default or another spelling)';
}
