/**
 * The `exporters.otlphttp` sink (DESIGN §1 use 3, §4.6, §5): sealed records
 * and checkpoints go to a SQLite outbox first (that commit is the sink's
 * receipt), then over OTLP/HTTP (http/protobuf or http/json, gzip, headers,
 * timeout; the standard `OTEL_EXPORTER_OTLP_*` variables are applied to the
 * config by `loadConfig`) to a Collector, in order, retried with backoff
 * until `outbox.max_age`. The exporter is the stock one —
 * `OTLPExporterBase` with the stock JSON/protobuf serializer — on the
 * outbox's transport, which surfaces status codes, `Retry-After` and
 * partial success (the stock HTTP transport retries by itself and reports
 * a partial success as success). Refused records land in the outbox's
 * dead-letter table and become `system/integrity_failure` audit records (the
 * first at once, then one summary a minute at most; the summary pending at
 * shutdown is sealed before the final checkpoint, and what is refused after
 * that is printed), so the loss is itself audited without a feedback loop; their reasons quote the receiver with
 * secrets masked (`redactSecrets`), since the record cannot be taken back. A receiver outage is printed once when
 * it has lasted 10 s and once when the records held meanwhile were delivered (internal/outage-notice.ts), naming
 * the receiver by its origin only.
 */
import { diag } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { OTLPExporterBase, createOtlpNetworkExportDelegate } from '@opentelemetry/otlp-exporter-base';
import { JsonLogsSerializer, LogsExporterMetricsHelper, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { redactSecrets, type AuditSink } from '@otel-audit/core';
import { createOtlpHttpTransport, OutboxLogRecordExporter, type DeadLetterInfo } from '@otel-audit/exporter-sqlite';
import { LogRecordExporterSink } from '@otel-audit/processor';
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import type { AuditConfig, OtlpHttpExporterConfig } from './config-types.js';
import { describeValue } from './errors.js';
import { durationMillis } from './internal/options-mapping.js';
import { outageNotice, type OutageNotice } from './internal/outage-notice.js';

// Required, not imported: Node 20.6.0 (fixed in 20.6.1) cannot import this
// CommonJS entry from ESM (it requires itself back through a cycle and throws
// "Cannot set property httpAgentFactoryFromOptions ... which has only a
// getter"). Both load the same file, build/src/index-node-http.js.
const { createOtlpHttpExporterMetrics } = createRequire(import.meta.url)(
  '@opentelemetry/otlp-exporter-base/node-http',
) as typeof import('@opentelemetry/otlp-exporter-base/node-http');

/**
 * The outbox file when `outbox.path` is not set, beside the config file.
 *
 * @example
 * resolve(config.baseDir, otlp.outbox?.path ?? DEFAULT_OUTBOX_FILE)
 */
export const DEFAULT_OUTBOX_FILE = 'otel-audit-outbox.db';

/**
 * What the sink may need besides its own section.
 *
 * @example
 * const context: OtlpSinkContext = { resource, config, key: 'otlphttp' };
 */
export interface OtlpSinkContext {
  /** Resource of the exported records. */
  resource?: Resource;
  /** The whole configuration (paths resolve against `config.baseDir`). */
  config?: AuditConfig;
  /** The component key, e.g. `otlphttp/backup`. */
  key?: string;
  /**
   * Told about dead-lettered records. Default: `system/integrity_failure` audit records through the global logger
   * (the first at once, then a summary a minute at most; at shutdown the pending summary is sealed before the final
   * checkpoint, and dead letters after it are printed through `onWarning` with their count).
   */
  onDeadLetter?: (info: DeadLetterInfo) => void;
  /**
   * Told what shutdown left in the outbox for the next start, of dead letters too late for the chain, and once each
   * when delivery has been failing for `outageNoticeMillis` and when the records held meanwhile were delivered.
   * Default: `diag.warn` (startAudit passes its own: stderr).
   */
  onWarning?: (message: string) => void;
  /** How long delivery must keep failing before `onWarning` is told. Default 10,000. */
  outageNoticeMillis?: number;
}

/**
 * The logs URL of an endpoint: a base URL's path gets `/v1/logs` (before
 * its query, which stays).
 *
 * @example
 * logsUrl('http://collector:4318') // 'http://collector:4318/v1/logs'
 * logsUrl('http://collector:4318/?tenant=a') // 'http://collector:4318/v1/logs?tenant=a'
 */
export function logsUrl(endpoint: string): string {
  const cut = endpoint.search(/[?#]/);
  const base = cut === -1 ? endpoint : endpoint.slice(0, cut);
  const query = cut === -1 ? '' : endpoint.slice(cut);
  return /\/v1\/logs\/?$/.test(base) ? endpoint : `${base.replace(/\/+$/, '')}/v1/logs${query}`;
}

/**
 * Where the exporter sends: `logs_endpoint` as written, else `endpoint` as a
 * base URL with `/v1/logs` (the OTLP exporter spec's rule for the
 * signal-specific and the generic endpoint variables).
 *
 * @example
 * exportUrlOf({ endpoint: 'http://c:4318', logs_endpoint: 'http://c:4318/ingest' }) // 'http://c:4318/ingest'
 */
export function exportUrlOf(config: OtlpHttpExporterConfig): string {
  const isUrl = (v: unknown): v is string => typeof v === 'string' && /^https?:\/\/\S+$/.test(v) && URL.canParse(v);
  if (config?.logs_endpoint !== undefined) {
    if (!isUrl(config.logs_endpoint)) throw new RangeError(`exporters.otlphttp.logs_endpoint must be an http(s) URL; got ${describeValue(config.logs_endpoint)} (fix: logs_endpoint: http://collector:4318/v1/logs)`);
    return config.logs_endpoint;
  }
  if (!isUrl(config?.endpoint)) throw new RangeError(`exporters.otlphttp.endpoint must be an http(s) URL; got ${describeValue(config?.endpoint)} (fix: endpoint: http://collector:4318)`);
  return logsUrl(config.endpoint);
}

/**
 * The OTLP/HTTP LogRecordExporter of `exporters.otlphttp`, without outbox:
 * stock serializer and exporter base on the outbox's status-reporting
 * transport. Failed exports carry `OtlpHttpError` / `OtlpPartialSuccessError`.
 *
 * @example
 * const exporter = createOtlpLogExporter({ endpoint: 'http://127.0.0.1:4318', protocol: 'http/protobuf' });
 */
export function createOtlpLogExporter(config: OtlpHttpExporterConfig): LogRecordExporter {
  const url = exportUrlOf(config);
  const json = config.protocol === 'http/json';
  const serializer = json ? JsonLogsSerializer : ProtobufLogsSerializer;
  const compression = config.compression === 'gzip' ? 'gzip' : 'none';
  const transport = createOtlpHttpTransport({
    url,
    contentType: json ? 'application/json' : 'application/x-protobuf',
    headers: { ...(config.headers ?? {}) },
    compression,
    deserializeResponse: (data) => serializer.deserializeResponse(data),
  });
  const metrics = createOtlpHttpExporterMetrics('otlp_http_log_exporter', LogsExporterMetricsHelper, url, undefined);
  const delegate = createOtlpNetworkExportDelegate(
    { timeoutMillis: durationMillis(config.timeout, 10_000)!, concurrencyLimit: 2, compression },
    serializer, metrics, transport,
  );
  return new OTLPExporterBase<ReadableLogRecord[]>(delegate);
}

/** The default dead-letter reporting of one OTLP sink. */
interface DeadLetterAuditor {
  /** A batch was dead-lettered. */
  report(info: DeadLetterInfo): void;
  /**
   * The pipeline is about to seal its last records: emit the summary still
   * waiting for its window now, so that it is sealed before the final
   * checkpoint. Later dead letters can no longer be sealed; they wait for `stop`.
   */
  seal(): void;
  /** The sink stopped: what could not be sealed is printed, with its count. */
  stop(): void;
}

/**
 * Dead letters → audit records: the first at once, then at most one summary
 * per window (never one per batch: the record itself travels this path, so
 * a receiver that refuses everything must not be fed a record per refusal).
 * At shutdown the pending summary is sealed (`seal`, before the final
 * checkpoint) and what comes after is printed (`stop`) — never left behind.
 */
function deadLetterAuditor(path: string, print: (message: string) => void, windowMillis = 60_000): DeadLetterAuditor {
  type Tally = { records: number; batches: number; statuses: Set<number>; reasons: Set<string> };
  let pending: Tally | undefined;
  let open = false;
  let sealed = false;
  const tally = (t: Tally | undefined, info: DeadLetterInfo): Tally => {
    const out = t ?? { records: 0, batches: 0, statuses: new Set(), reasons: new Set() };
    out.records += info.records;
    out.batches++;
    if (info.status !== undefined) out.statuses.add(info.status);
    out.reasons.add(redactSecrets(info.reason).slice(0, 200)); // masked before cut: sealed for good
    return out;
  };
  const emit = (t: Tally): void => {
    logs.getLogger('otel-audit').emit({
      body: {
        type: 'system', action: 'integrity_failure', outcome: 'failure', severity: 'critical',
        target: { type: 'outbox', id: path },
        details: { dead_letters: t.records, batches: t.batches, statuses: [...t.statuses].sort(), reasons: [...t.reasons].slice(0, 5) },
        error: `${t.records} audit record(s) were refused by the OTLP receiver and moved to the outbox dead-letter table`,
      },
    });
  };
  const close = (): void => {
    if (sealed) return; // the summary waits for stop(): the pipeline no longer seals
    if (pending === undefined) {
      open = false;
      return;
    }
    emit(pending);
    pending = undefined;
    setTimeout(close, windowMillis).unref();
  };
  return {
    report(info) {
      if (open || sealed) {
        pending = tally(pending, info);
        return;
      }
      open = true;
      emit(tally(undefined, info));
      setTimeout(close, windowMillis).unref();
    },
    seal() {
      if (sealed) return;
      sealed = true;
      if (pending !== undefined) emit(pending);
      pending = undefined;
    },
    stop() {
      sealed = true;
      const t = pending;
      pending = undefined;
      if (t === undefined) return;
      const statuses = t.statuses.size > 0 ? ` (HTTP ${[...t.statuses].sort().join(', ')})` : '';
      print(`otel-audit outbox ${path}: ${t.records} audit record(s) in ${t.batches} batch(es) were refused by the OTLP receiver${statuses} `
        + `after the audit pipeline sealed its last record, so no system/integrity_failure record in the chain counts them; they are in the outbox dead-letter table `
        + `(\`otel-audit status\` shows them); reasons: ${[...t.reasons].slice(0, 5).join('; ')}`);
    },
  };
}

/** The OTLP sink, with the default dead-letter reporting when no `onDeadLetter` was given. */
class OtlpAuditSink extends LogRecordExporterSink {
  readonly #outbox: OutboxLogRecordExporter;
  readonly #auditor: DeadLetterAuditor | undefined;
  readonly #notice: OutageNotice;

  constructor(outbox: OutboxLogRecordExporter, auditor: DeadLetterAuditor | undefined, notice: OutageNotice, options: ConstructorParameters<typeof LogRecordExporterSink>[0]) {
    super(options);
    this.#outbox = outbox;
    this.#auditor = auditor;
    this.#notice = notice;
  }

  /** Let the outbox answer what it holds (within `budgetMillis`), then emit the pending dead-letter summary. */
  async sealDeadLetters(budgetMillis: number): Promise<void> {
    if (this.#auditor === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Ref'd while awaited (cleared right after): a shutdown at beforeExit must not end under it.
      await Promise.race([this.#outbox.forceFlush().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, Math.max(0, budgetMillis))))]);
    } finally {
      clearTimeout(timer);
      this.#auditor.seal();
    }
  }

  override async shutdown(): Promise<void> {
    try {
      await super.shutdown();
    } finally {
      this.#notice.stop();
      this.#auditor?.stop();
    }
  }
}

/**
 * Before the pipeline seals its last record (startAudit's shutdown, before
 * the processor's): each OTLP sink's pending dead-letter summary becomes a
 * `system/integrity_failure` record, after its outbox was given up to
 * `budgetMillis` to hear the receiver's answers. Dead letters that come later
 * are printed when the sink shuts down.
 *
 * @example
 * await sealDeadLetterSummaries(sinks, 5_000); await loggerProvider.shutdown();
 */
export async function sealDeadLetterSummaries(sinks: readonly AuditSink[], budgetMillis: number): Promise<void> {
  await Promise.all(sinks.map((s) => (s instanceof OtlpAuditSink ? s.sealDeadLetters(budgetMillis) : undefined)));
}

/**
 * An audit sink shipping to an OTLP/HTTP endpoint through the outbox
 * (`outbox.path`, default `otel-audit-outbox.db` beside the config file).
 *
 * @example
 * const sink = createOtlpSink({ endpoint: 'http://127.0.0.1:4318', protocol: 'http/protobuf', outbox: { path: './outbox.db' } }, { resource });
 */
export function createOtlpSink(config: OtlpHttpExporterConfig, context: OtlpSinkContext = {}): AuditSink {
  const base = context.config?.baseDir ?? process.cwd();
  const file = config.outbox?.path ?? DEFAULT_OUTBOX_FILE;
  const path = isAbsolute(file) ? file : resolve(base, file);
  const retryInitial = durationMillis(config.outbox?.retry_initial);
  const retryMax = durationMillis(config.outbox?.retry_max);
  const maxAge = durationMillis(config.outbox?.max_age);
  const print = context.onWarning ?? ((m: string) => diag.warn(m));
  const auditor = context.onDeadLetter === undefined ? deadLetterAuditor(path, print) : undefined;
  const onDeadLetter = context.onDeadLetter ?? ((info: DeadLetterInfo) => auditor!.report(info));
  const exporter = createOtlpLogExporter(config);
  let outbox: OutboxLogRecordExporter | undefined;
  const notice = outageNotice({
    url: exportUrlOf(config), path, print, waiting: () => outbox?.waiting() ?? 0,
    ...(context.outageNoticeMillis !== undefined ? { afterMillis: context.outageNoticeMillis } : {}),
  });
  outbox = new OutboxLogRecordExporter({
    path,
    exporter,
    exportTimeoutMillis: (durationMillis(config.timeout, 10_000) ?? 10_000) + 5_000,
    onDeadLetter: (info) => {
      notice.deadLettered(info.records, info.status !== undefined);
      onDeadLetter(info);
    },
    onRetry: (failure) => notice.failed(failure),
    onShipped: (records) => notice.shipped(records),
    ...(context.onWarning !== undefined ? { onWarning: context.onWarning } : {}),
    ...(retryInitial !== undefined ? { initialBackoffMillis: retryInitial } : {}),
    ...(retryMax !== undefined ? { maxBackoffMillis: retryMax } : {}),
    ...(maxAge !== undefined ? { maxAgeMillis: maxAge } : {}),
  });
  return new OtlpAuditSink(outbox, auditor, notice, { exporter: outbox, name: context.key ?? 'otlphttp', ...(context.resource !== undefined ? { resource: context.resource } : {}) });
}
