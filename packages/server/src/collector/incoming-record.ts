/**
 * Whether an incoming otel-audit log record may be placed in its stream
 * (DESIGN §4.1, §4.2, §4.6): its body is JSON naming a stream, seq, id,
 * prev and alg, and it carries `audit.record.hash` (else `malformed`); the
 * body is the record's canonical text and hashes to that attribute (else
 * `hash_mismatch`: a member was changed on the way); and it is a valid
 * record in core's normal form (else `malformed`). Each refusal is a
 * finding about that record alone, never a failed request.
 */
import { canonicalize, HASH_ALGORITHMS, leafHash, type AuditRecord, type HashAlgorithm, type SealedRecord } from '@otel-audit/core';
import type { CollectorFinding } from './collector-findings.js';
import { validRecord } from './valid-record.js';

/** A valid, self-consistent incoming record with its body and hash. */
export type CheckedRecord = SealedRecord & { record: AuditRecord };

/**
 * Check one record's `body` against the hash it claims.
 *
 * @example
 * const checked = checkIncomingRecord(String(log.body), log.attributes['audit.record.hash']);
 * if ('code' in checked) refuse(checked);
 */
export function checkIncomingRecord(body: string, claimedHash: string | undefined): CheckedRecord | CollectorFinding {
  let parsed: AuditRecord;
  try {
    parsed = JSON.parse(body) as AuditRecord;
  } catch {
    return { code: 'malformed', stream: '(unknown)', message: 'an otel-audit log record body is not JSON' };
  }
  const where = { stream: typeof parsed?.stream === 'string' ? parsed.stream : '(unknown)', ...(Number.isSafeInteger(parsed?.seq) ? { seq: parsed.seq } : {}), ...(typeof parsed?.id === 'string' ? { id: parsed.id } : {}) };
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.stream !== 'string' || !Number.isSafeInteger(parsed.seq) || parsed.seq < 0
    || typeof parsed.id !== 'string' || typeof parsed.prev !== 'string' || !(HASH_ALGORITHMS as readonly string[]).includes(parsed.alg) || claimedHash === undefined) {
    return { code: 'malformed', ...where, message: 'an otel-audit log record lacks a valid stream, seq, id, prev, alg or audit.record.hash' };
  }
  const hash = leafHash(parsed.alg as HashAlgorithm, body).toString('hex');
  let canonical: string | undefined;
  try {
    canonical = canonicalize(parsed);
  } catch {
    canonical = undefined;
  }
  if (hash !== claimedHash.toLowerCase() || canonical !== body) {
    return { code: 'hash_mismatch', ...where, message: `record ${parsed.id} (stream ${parsed.stream} seq ${parsed.seq}) does not hash to its audit.record.hash ${claimedHash} or is not canonical: a member was changed on the way` };
  }
  // Self-consistent is not enough: a record the store cannot hold (no type, time "soon") is refused on its own.
  const record = validRecord(parsed, body);
  if (typeof record === 'string') return { code: 'malformed', ...where, message: `record ${parsed.id} (stream ${parsed.stream} seq ${parsed.seq}) ${record}` };
  return { record, canonical: body, hash };
}
