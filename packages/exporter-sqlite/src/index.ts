/**
 * @otel-audit/exporter-sqlite — the local SQLite audit store of otel-audit
 * (DESIGN §6): append-only, queryable, verifiable, with retention that keeps
 * proofs, and a LogRecordExporter for users who wire their own pipeline.
 */
export { SqliteAuditStore } from './sqlite-audit-store.js';
export type { SqliteAuditStoreOptions } from './internal/open-writer.js';
export type { StreamReadOptions } from './internal/read-stream.js';
export type { RangeStartCost, RangeStartCostOptions, RangeStartWalk } from './internal/stream-start.js';
export type { AppendResult } from './internal/appender.js';
export type { EncryptionKey } from './internal/row-cipher.js';
export type { StoredStream } from './internal/stored-streams.js';
export type { VerifyStoreOptions, VerifyProgress } from './internal/store-verify.js';
export type { KeptCheckpoint } from './internal/witness-notes.js';
export type { AuditQuery, AuditQueryPage, StoredRecord } from './internal/query-records.js';
export type { RecordFilter } from './internal/record-filter.js';
export type { ExportOptions, RecordExportFormat } from './internal/export-records.js';
export { verifyBundle, BUNDLE_FORMAT } from './bundle.js';
export type { AuditBundle, BundleStream, BundleExportOptions, VerifyBundleOptions } from './bundle.js';
export { CONFIG_CHANGE_ACTIONS } from './internal/store-stats.js';
export type { AuditStats, StatsBucket, StatsOptions } from './internal/store-stats.js';
export { verifyArchive } from './archive.js';
export { storeFileDamage } from './file-check.js';
export { checkpointColumnMismatches } from './checkpoint-columns.js';
export type { CheckpointColumnMismatch, CheckpointRowColumns } from './checkpoint-columns.js';
export type { ArchiveInfo, AuditArchive } from './archive.js';
export { DEFAULT_ARCHIVE_AFTER_DAYS, DEFAULT_RETENTION_DAYS, retentionFromEnv, encryptionFromEnv } from './env-config.js';
export type { EnvEncryption } from './env-config.js';
export type { ArchiveOptions, PurgeOptions, PurgeResult, RetentionProgress, RetentionProgressCallback } from './internal/retention.js';
export type { PurgedRange, PurgedRangeFilter } from './internal/purged-ranges.js';
export { SqliteLogRecordExporter, ATTR_RECORD_HASH, EVENT_CHECKPOINT } from './sqlite-log-record-exporter.js';
export type { SqliteLogRecordExporterOptions } from './sqlite-log-record-exporter.js';
export {
  OutboxLogRecordExporter, readOutboxStatus, requeueDeadLetters, OtlpHttpError, OtlpPartialSuccessError, classifyExportError, parseRetryAfter, createOtlpHttpTransport,
} from './outbox/index.js';
export type {
  OutboxLogRecordExporterOptions, DeadLetterInfo, OutboxStatus, ExportFailure, OtlpHttpTransport, OtlpHttpTransportOptions, OtlpTransportResponse,
} from './outbox/index.js';
export type { TimeInput } from './internal/time-input.js';
export { SCHEMA_VERSION } from './internal/schema.js';
export {
  StoreOpenError,
  RecordConflictError,
  StoreWriteError,
  InvalidCursorError,
  EncryptionKeyError,
  RetentionError,
  BundleFormatError,
  BundleExportError,
} from './errors.js';
