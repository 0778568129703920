/**
 * @otel-audit/node — zero-code setup of otel-audit (DESIGN §1, §7):
 * otel-config.yaml schema and loader, AUDIT_* / OTEL_* overrides, the
 * pipeline wiring (`startAudit`) and the `audit` logger usable after
 * `node --import @otel-audit/node/register`.
 */
export { loadConfig, defaultConfigPath } from './load-config.js';
export type { LoadConfigOptions } from './load-config.js';
export { ConfigError, formatProblem } from './errors.js';
export { auditHealthy, startAudit, shutdownAudit } from './start-audit.js';
export type { AuditHandle, StartAuditOptions } from './start-audit.js';
export { audit, createDisabledAuditLogger } from './audit.js';
export { createOtlpSink } from './otlp-sink.js';
export type { OtlpSinkContext } from './otlp-sink.js';
export type { ConfigProblem } from './errors.js';
export type {
  AuditConfig,
  DurationText,
  HttpRuleConfig,
  HttpReceiverConfig,
  ApiReceiverConfig,
  RedactProcessorConfig,
  AlertsProcessorConfig,
  ThresholdConfig,
  NotifierConfig,
  ChainProcessorConfig,
  SqliteExporterConfig,
  OtlpHttpExporterConfig,
  AuditServerExtensionConfig,
  PipelineConfig,
} from './config-types.js';
