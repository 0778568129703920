/**
 * The shape of otel-config.yaml (DESIGN §7) as TypeScript types, mirroring
 * `schema/otel-config.schema.json` key for key (snake_case, as written in
 * the file). `loadConfig` returns an {@link AuditConfig}: the validated
 * document after `${env:...}` substitution and AUDIT_* / OTEL_* overrides.
 */
import type { AlertRuleConfig } from '@otel-audit/processor';

/**
 * A duration such as `250ms`, `30s`, `5m`, `1h30m`.
 *
 * @example
 * const interval: DurationText = '1h30m';
 */
export type DurationText = string;

/**
 * One HTTP audit policy rule as written in the file (DESIGN §8).
 *
 * @example
 * const rule: HttpRuleConfig = { match: { path: '/admin/tools/:id' }, level: 'request', type: 'admin', target: 'tool' };
 */
export interface HttpRuleConfig {
  match: { path: string; methods?: string[] };
  level: 'none' | 'metadata' | 'request';
  type?: string;
  action?: string;
  target?: string | { type: string; id_param?: string; name?: string };
}

/**
 * `receivers.http`.
 *
 * @example
 * const http: HttpReceiverConfig = { rules: [{ match: { path: '/**' }, level: 'metadata' }], trusted_proxies: ['10.0.0.0/8'] };
 */
export interface HttpReceiverConfig {
  rules?: HttpRuleConfig[];
  case_sensitive?: boolean;
  trusted_proxies?: string[];
  request_id_header?: string;
  echo_request_id?: boolean;
  max_body_length?: number;
  actor?: { api_key_headers?: string[]; api_key_hmac_key_file?: string; api_key_hmac_key_env?: string };
}

/**
 * `receivers.api`.
 *
 * @example
 * const api: ApiReceiverConfig = { receipt_timeout: '30s' };
 */
export interface ApiReceiverConfig {
  receipt_timeout?: DurationText;
}

/**
 * `processors.redact`.
 *
 * @example
 * const redact: RedactProcessorConfig = { mode: 'hmac', hmac_key_file: './keys/redact.key', pointers: ['/actor/ip'] };
 */
export interface RedactProcessorConfig {
  mode?: 'mask' | 'hmac';
  hmac_key_file?: string;
  hmac_key_env?: string;
  patterns?: string[];
  default_patterns?: boolean;
  pointers?: string[];
}

/**
 * A counting built-in: on/off, a threshold, or its settings.
 *
 * @example
 * const failedLogins: ThresholdConfig = { threshold: 10, window: '10m' };
 */
export type ThresholdConfig = boolean | number | { threshold?: number; window?: DurationText; cooldown?: DurationText };

/**
 * A notifier of `processors.alerts.notifiers`.
 *
 * @example
 * const n: NotifierConfig = { type: 'webhook', url: 'https://hooks.example/audit', secret_env: 'AUDIT_WEBHOOK_SECRET' };
 */
export type NotifierConfig =
  | { type: 'webhook'; url: string; allowed_urls?: string[]; secret_file?: string; secret_env?: string; timeout?: DurationText; max_attempts?: number }
  | { type: 'console'; output?: 'stderr' | 'stdout' | 'diag'; format?: 'text' | 'json' };

/**
 * `processors.alerts`.
 *
 * @example
 * const alerts: AlertsProcessorConfig = { builtins: { failed_logins: 5 }, notifiers: [{ type: 'console' }] };
 */
export interface AlertsProcessorConfig {
  enabled?: boolean;
  builtins?: {
    failed_logins?: ThresholdConfig;
    brute_force_success?: ThresholdConfig;
    privilege_escalation?: boolean;
    data_exfiltration?: boolean | number | { threshold?: number; window?: DurationText; cooldown?: DurationText; bulk_export_records?: number };
    /** One alert per change, or `{ digest: '15m' }` for one alert per window listing them. */
    config_changes?: boolean | { digest?: DurationText };
    rate_limit_burst?: ThresholdConfig;
    audit_integrity?: boolean;
    off_hours_admin?: boolean | { from: string; to: string; utc_offset?: string; time_zone?: string; days?: number[]; cooldown?: DurationText };
  };
  rules?: AlertRuleConfig[];
  notifiers?: NotifierConfig[];
  /**
   * How far ahead of the wall clock a record's `time` may move the alert
   * rules' clock (`AlertEngineOptions.maxClockSkewMillis`): a record dated
   * further ahead counts as of wall clock + this, so one future-dated record
   * cannot freeze every window and cooldown. Default `5m`; `0s` to `365d`.
   */
  max_clock_skew?: DurationText;
  /**
   * Most groups one rule keeps within its window (`AlertEngineOptions.maxGroupsPerRule`);
   * beyond, the least recently active is evicted and an `alert_groups_evicted`
   * alert says so. Default 10,000; 1 to 10,000,000.
   */
  max_groups_per_rule?: number;
}

/**
 * `processors.chain`.
 *
 * @example
 * const chain: ChainProcessorConfig = { stream: 'billing/1', checkpoint: { every_records: 1000, interval: '10s' }, signer_key_file: './keys/billing.key' };
 */
export interface ChainProcessorConfig {
  algorithm?: 'sha256' | 'sha384' | 'sha512' | 'sha3-256' | 'sha3-512';
  stream?: string;
  previous_stream?: string;
  checkpoint?: { every_records?: number; interval?: DurationText; /** `interval` in seconds (DESIGN §4.3's name). */ every_seconds?: number };
  signer_key_file?: string;
  signer_key_env?: string;
  delivery?: {
    batch_size?: number;
    flush_interval?: DurationText;
    max_queue_size?: number;
    overflow?: 'block' | 'drop' | 'spill';
    /** Spill file, relative to the config file; default otel-audit-queue.spill beside it (replayed after a crash). */
    spill_path?: string;
    shutdown_timeout?: DurationText;
  };
  /** Size limits of a record: the processor's `limits` and the explicit API's early check. */
  limits?: { max_length?: number; max_depth?: number; max_field_length?: number };
}

/**
 * `exporters.sqlite`.
 *
 * @example
 * const sqlite: SqliteExporterConfig = { path: './audit.db', synchronous: 'FULL' };
 */
export interface SqliteExporterConfig {
  path: string;
  synchronous?: 'NORMAL' | 'FULL';
  busy_timeout?: DurationText;
  verify_on_start?: boolean;
  /** Verifier keys (one a line) `verify_on_start` trusts besides the signer's own. */
  verifier_keys_file?: string;
  retention?: { archive_after_days?: number; retention_days?: number };
  encryption?: { enabled?: boolean; key_file?: string; key_env?: string; key_id?: string; previous_keys_file?: string; previous_keys_env?: string };
}

/**
 * `exporters.otlphttp`.
 *
 * @example
 * const otlp: OtlpHttpExporterConfig = { endpoint: 'http://collector:4318', protocol: 'http/json' }; // sends to http://collector:4318/v1/logs
 */
export interface OtlpHttpExporterConfig {
  /** Base URL: `/v1/logs` is appended (`OTEL_EXPORTER_OTLP_ENDPOINT`). One of `endpoint` and `logs_endpoint` is required. */
  endpoint?: string;
  /** The full logs URL, used as written; wins over `endpoint` (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`). */
  logs_endpoint?: string;
  protocol?: 'http/protobuf' | 'http/json';
  headers?: Record<string, string>;
  timeout?: DurationText;
  compression?: 'gzip' | 'none';
  outbox?: { path?: string; max_age?: DurationText; retry_initial?: DurationText; retry_max?: DurationText };
}

/**
 * `extensions.audit_server`.
 *
 * @example
 * const server: AuditServerExtensionConfig = { endpoint: '127.0.0.1:4319', tokens: [{ name: 'ops', role: 'auditor', sha256: '9f86d0...' }] };
 */
export interface AuditServerExtensionConfig {
  endpoint?: string;
  tokens?: { name: string; role: 'admin' | 'auditor'; sha256: string }[];
}

/**
 * `service.pipelines.audit`.
 *
 * @example
 * const audit: PipelineConfig = { receivers: ['http', 'api'], processors: ['redact', 'chain'], exporters: ['sqlite', 'otlphttp'] };
 */
export interface PipelineConfig {
  receivers?: string[];
  processors?: string[];
  exporters: string[];
}

/**
 * A loaded configuration. Component maps are keyed `type[/name]`.
 *
 * @example
 * const config: AuditConfig = loadConfig({ path: 'otel-config.yaml' });
 * config.exporters?.sqlite?.path // './audit.db'
 */
export interface AuditConfig {
  enabled?: boolean;
  resource?: Record<string, string | number | boolean>;
  receivers?: Record<string, HttpReceiverConfig | ApiReceiverConfig>;
  processors?: Record<string, RedactProcessorConfig | AlertsProcessorConfig | ChainProcessorConfig>;
  exporters?: Record<string, SqliteExporterConfig | OtlpHttpExporterConfig>;
  extensions?: Record<string, AuditServerExtensionConfig>;
  service: { extensions?: string[]; pipelines: Record<string, PipelineConfig> };
  /** Directory relative paths in the file are resolved against (the file's own). Set by `loadConfig`. */
  baseDir?: string;
  /** The file it was read from, when it was read from one. Set by `loadConfig`. */
  source?: string;
}
