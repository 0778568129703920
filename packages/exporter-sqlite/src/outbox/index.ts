/**
 * The SQLite outbox (DESIGN §5): public entry of `src/outbox/`, re-exported
 * by the package index.
 */
export { OutboxLogRecordExporter } from './outbox-log-record-exporter.js';
export type { OutboxLogRecordExporterOptions } from './outbox-log-record-exporter.js';
export type { DeadLetterInfo } from './outbox-shipper.js';
export { readOutboxStatus, requeueDeadLetters } from './outbox-status.js';
export type { OutboxStatus } from './outbox-status.js';
export { OtlpHttpError, OtlpPartialSuccessError, classifyExportError, parseRetryAfter } from './export-failure.js';
export type { ExportFailure } from './export-failure.js';
export { createOtlpHttpTransport } from './otlp-http-transport.js';
export type { OtlpHttpTransport, OtlpHttpTransportOptions, OtlpTransportResponse } from './otlp-http-transport.js';
