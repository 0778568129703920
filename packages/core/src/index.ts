/**
 * @otel-audit/core — the pure integrity library of otel-audit: record model,
 * canonical encoding, hashing, Merkle log and proofs, signed checkpoints and
 * the verifier (DESIGN §2, §4). No I/O, no OpenTelemetry.
 */
export { AuditError, RecordValidationError, NoteFormatError } from './errors.js';
export type { AuditErrorCode } from './errors.js';
export {
  HASH_ALGORITHMS,
  DEFAULT_HASH_ALGORITHM,
  assertHashAlgorithm,
  digestLength,
  leafHash,
  nodeHash,
  emptyHash,
  genesisPrev,
} from './hash.js';
export type { HashAlgorithm } from './hash.js';
