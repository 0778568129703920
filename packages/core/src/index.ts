/**
 * @otel-audit/core — the pure integrity library of otel-audit: record model,
 * canonical encoding, hashing, Merkle log and proofs, signed checkpoints and
 * the verifier (DESIGN §2, §4). No I/O, no OpenTelemetry.
 */
export { AuditError, RecordValidationError, NoteFormatError, VerifierKeyLineError } from './errors.js';
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

export { AUDIT_OUTCOMES, AUDIT_SEVERITIES, FORMAT_VERSION } from './record.js';
export type {
  AuditRecord,
  AuditEvent,
  AuditChainFields,
  AuditActor,
  AuditTarget,
  AuditRequest,
  AuditOutcome,
  AuditSeverity,
  JsonValue,
} from './record.js';
export { normalizeRecord, normalizeEvent, streamIdProblem } from './normalize-record.js';
export { setOwnMember } from './own-member.js';
export type { AuditRecordInput, AuditEventInput, NormalizeOptions } from './normalize-record.js';
export { createRecordId, isRecordId } from './record-id.js';

export { canonicalize, canonicalBytes, escapePointerToken, pointerOf } from './canonical.js';
export { encodeRecord, recordHash } from './record-hash.js';
export type { EncodedRecord } from './record-hash.js';

export { CompactRange } from './merkle-tree.js';
export type { CompactRangeState } from './merkle-tree.js';
export {
  merkleRoot,
  inclusionProof,
  verifyInclusion,
  consistencyProof,
  verifyConsistency,
  compactRangeAt,
} from './merkle-proof.js';
export type { LeafSource } from './merkle-proof.js';

export {
  generateNoteKey,
  parseSignerKey,
  parseVerifierKey,
  formatVerifierKey,
  noteKeyHash,
  noteKeyId,
  isValidKeyName,
} from './note-keys.js';
export type { NoteSigner, NoteVerifier, NoteKeyPair } from './note-keys.js';
export { signNote, parseNote, openNote, MAX_NOTE_SIGNATURES, DEFAULT_MAX_NOTE_BYTES } from './signed-note.js';
export type {
  NoteSignature,
  InvalidNoteSignature,
  ParsedNote,
  OpenedNote,
  ParseNoteOptions,
  SignNoteOptions,
  NoteVerifierLookup,
} from './signed-note.js';
export { formatCheckpoint, parseCheckpoint, DEFAULT_MAX_CHECKPOINT_BYTES } from './checkpoint-text.js';
export type { Checkpoint, CheckpointInput, ParseCheckpointOptions } from './checkpoint-text.js';
export { checkpointOfNote, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
export type {
  CheckpointStatus,
  CheckpointVerification,
  CheckpointSignatureResult,
  VerifyCheckpointOptions,
  SignCheckpointOptions,
} from './checkpoint.js';
export { Keyring } from './keyring.js';
export type { KeyringEntry, KeyringEntryInput, KeyValidityWindow } from './keyring.js';
export {
  parseVerifierKeyLine,
  parseVerifierKeyLines,
  parseKeyValidityWindow,
  parseKeyTime,
  formatKeyTime,
  formatKeyWindow,
  KEY_WINDOW_FIX,
} from './verifier-key-lines.js';
export type { VerifierKeyEntry, VerifierKeyLines } from './verifier-key-lines.js';

export { AuditChain } from './audit-chain.js';
export type { AuditChainOptions, ChainHead, SealedRecord } from './audit-chain.js';
export type { AuditSink, AuditBatch, SealedCheckpoint, StreamWriter, StreamClaim, AbandonedStream } from './audit-sink.js';

export { Verifier } from './verifier.js';
export type { VerifierOptions, StreamStart, StreamEnd } from './verifier.js';
export { FINDING_CODES, unvouchedStreams } from './verification-report.js';
export type { Finding, FindingCode, StreamReport, VerificationReport } from './verification-report.js';
export { requestReceipt, receiptCallbacksOf, isReceiptTaken, whenAuditCapacity, setAuditCongestion, AUDIT_RECEIPT_KEY } from './audit-receipt.js';
export type { AuditReceipt, ReceiptCallbacks } from './audit-receipt.js';
export type { RedactionHook } from './normalize-record.js';

export { redactUrl, redactSecrets } from './redact-url.js';
export { maskedError } from './masked-error.js';
export { escapeTerminalText } from './escape-terminal-text.js';
export { parseIpAddress, embeddedIpv4, formatIpv6 } from './ip-address.js';
export type { IpAddress, EmbeddedIpv4, Ipv4EmbeddingForm } from './ip-address.js';
