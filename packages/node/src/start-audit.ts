/**
 * `startAudit`: the whole otel-audit pipeline built from a configuration
 * (DESIGN §1, §3, §7): the sinks (SQLite store first when used, OTLP), the
 * audit LogRecordProcessor with redaction, checkpoints, signer and the alert
 * hook, a LoggerProvider whose resource carries the OTEL_* attributes and
 * `audit.integrity.algorithm`, and — when the `http` receiver is used — a
 * NodeTracerProvider with the always-record sampler and AuditSpanProcessor
 * plus the audit HttpInstrumentation. The processor writes the pipeline's
 * start and stop records itself; `shutdown` flushes and writes the final
 * checkpoint. The stream is `processors.chain.stream`, else
 * `<service.name>/<service.instance.id>` (internal/stream-id.ts), also when
 * the pipeline has no chain processor. `enabled: false` starts nothing.
 * `verify_on_start` checks the store in the background once the pipeline is
 * ready (internal/verify-on-start.ts): the app is not held up by it.
 */
import cluster from 'node:cluster';
import { context, propagation, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { loggingErrorHandler, setGlobalErrorHandler } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider } from '@opentelemetry/sdk-logs';
import type { SqliteAuditStore } from '@otel-audit/exporter-sqlite';
import { createAuditLogger, setAuditPipelineMissing, type AuditLogger } from '@otel-audit/instrumentation';
import { AUDIT_SCOPE_NAME, AuditLogRecordProcessor, ATTR_AUDIT_INTEGRITY_ALGORITHM, DEFAULT_SHUTDOWN_TIMEOUT_MILLIS, type AuditProcessorWarning } from '@otel-audit/processor';
import { createDisabledAuditLogger, createStoppedAuditLogger, setCurrentAudit, untilStopped } from './audit.js';
import type { AlertsProcessorConfig, ApiReceiverConfig, AuditConfig, ChainProcessorConfig, HttpReceiverConfig, RedactProcessorConfig } from './config-types.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { buildAlerts, buildSinks, stopAlertDelivery } from './internal/build-sinks.js';
import { errorPrinter } from './internal/error-output.js';
import { startHttpTracing, type HttpTracing } from './internal/http-tracing.js';
import { defaultStreamId } from './internal/stream-id.js';
import { chainOptions, durationMillis, limitsOf } from './internal/options-mapping.js';
import { usedOf } from './internal/pipeline.js';
import { resolvePath } from './internal/secrets.js';
import { checkSemantics } from './internal/semantic-check.js';
import { switchOffWarnings } from './internal/switch-offs.js';
import { startVerifyOnStart, type BackgroundVerify, type VerifyOnStartResult } from './internal/verify-on-start.js';
import { inWorkerUnderRegisterHook, sayWorkerNotice } from './internal/worker-notice.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { sealDeadLetterSummaries } from './otlp-sink.js';

/**
 * A running (or disabled) pipeline.
 *
 * @example
 * const handle: AuditHandle = await startAudit();
 * process.on('SIGTERM', () => void handle.shutdown());
 */
export interface AuditHandle {
  /** The explicit API of this pipeline (a no-op when disabled). */
  audit: AuditLogger;
  /** The audit processor; undefined when disabled. */
  processor: AuditLogRecordProcessor | undefined;
  /** The SQLite store when `sqlite` is in the pipeline (closed by shutdown). */
  store?: SqliteAuditStore;
  config: AuditConfig;
  /** False when `enabled: false` / `AUDIT_LOG_ENABLED=false`. */
  enabled: boolean;
  /** Flush, write the final checkpoint, stop everything. Idempotent. */
  shutdown(): Promise<void>;
  /** The most `shutdown()` waits for the sinks (`processors.chain.delivery.shutdown_timeout`, default 30 s). */
  shutdownTimeoutMillis: number;
  /** True once `shutdown()` (or `shutdownAudit()`) was called. */
  readonly stopRequested: boolean;
  /**
   * With `exporters.sqlite.verify_on_start`: the check of the store, which
   * runs in the background once the pipeline is ready (the app is not held
   * up by it); resolves once its `system/verify` record is sealed, or when
   * a shutdown stopped it (`interrupted`). Await it to gate on the result:
   * `if ((await handle.verifyOnStart)?.outcome !== 'success') ...`.
   */
  verifyOnStart?: Promise<VerifyOnStartResult>;
}

/**
 * Options of {@link startAudit}.
 *
 * @example
 * await startAudit({ path: 'otel-config.yaml' }, { registerGlobal: false });
 */
export interface StartAuditOptions {
  /** Environment for secrets named by `*_env` keys. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Register the providers, context manager and propagator globally. Default true. */
  registerGlobal?: boolean;
  /**
   * Receives the pipeline's warnings (no checkpoint signer key, a resumed
   * stream keeping its hash algorithm, a sink recovering) and its errors (a
   * sink failing, records not committed at shutdown), one line each — with
   * `registerGlobal: false` too; registered globally, OpenTelemetry's own
   * errors as well. Default: written to stderr, so
   * they are seen without an OpenTelemetry diag logger.
   */
  onWarning?: (message: string) => void;
}

/** Where warnings and errors are printed: `options.onWarning`, or stderr. */
function printerOf(options: StartAuditOptions): (line: string) => void {
  return options.onWarning ?? ((m: string) => void process.stderr.write(`${m}\n`));
}

/** The processor's warnings in the config's words: which key to set, and how to make one. */
function warningHandler(options: StartAuditOptions, source: string | undefined, hasChain: boolean): (w: AuditProcessorWarning) => void {
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function') throw new TypeError('options.onWarning must be a function (message) => void');
  const print = printerOf(options);
  return (w) => {
    if (w.code !== 'unsigned_checkpoints') return print(w.message);
    print(`otel-audit: no checkpoint signer key is configured (processors.chain.signer_key_file or signer_key_env${source !== undefined ? ` in ${source}` : ''}): `
      + 'checkpoints are written unsigned, so `otel-audit verify --key` cannot vouch for this stream; '
      + 'fix: run `otel-audit keygen --name <service> --out keys` and set processors.chain.signer_key_file: ./keys/<service>.key'
      + `${hasChain ? '' : " (and list chain in the pipeline's processors)"}; give verifiers the .vkey`);
  };
}

let globalOwner: object | undefined;
let latest: AuditHandle | undefined;

/**
 * Shut down the pipeline started last (by `startAudit` or the register hook):
 * flush and write the final checkpoint. For apps that handle SIGTERM themselves.
 *
 * @example
 * process.on('SIGTERM', async () => { await server.close(); await shutdownAudit(); process.exit(0); });
 */
export function shutdownAudit(): Promise<void> {
  return latest?.shutdown() ?? Promise.resolve();
}

/**
 * `true` while the pipeline started last (the register hook, or
 * `startAudit`) can record: running, and its primary sink not failing; also
 * `true` when auditing is switched off by configuration (nothing is to be
 * recorded). `false` before it started, after it stopped, and while the
 * primary sink fails. The `health` of the fail-closed guards: an app started
 * with `--import @otel-audit/node/register` answers 503 on audited routes
 * while its audit store is unusable. The first request after the store
 * fails still passes: health changes when an append fails. When no
 * pipeline was ever started in the process (the app was started without
 * the register hook), the guard that refuses a request because of it says
 * so once on stderr, with the fix.
 *
 * @example
 * app.use(auditExpress({ health: auditHealthy }));
 */
export function auditHealthy(): boolean {
  const ok = health();
  if (!ok && !started) {
    // In a worker of a process whose main thread runs the register hook, the worker notice is the explanation.
    if (inWorkerUnderRegisterHook()) sayWorkerNotice();
    else setAuditPipelineMissing(NO_PIPELINE_MESSAGE);
  }
  return ok;
}

/** The health of the pipeline started last (see {@link auditHealthy}). */
let health: () => boolean = () => false;
/** Whether a pipeline (enabled or not) was ever started in this thread. */
let started = false;

const NO_PIPELINE_MESSAGE = 'otel-audit: no audit pipeline was started in this process, so audited routes answer 503 (fail_closed): '
  + 'start the app with `node --import @otel-audit/node/register app.js`, or call startAudit() before serving';

/**
 * Build and start the pipeline. Accepts a loaded config or `loadConfig` options.
 *
 * @example
 * const { audit, shutdown } = await startAudit({ path: 'otel-config.yaml' });
 * await audit.login({ actor: 'alice', outcome: 'success' });
 * await shutdown();
 */
export async function startAudit(config?: AuditConfig | LoadConfigOptions, options: StartAuditOptions = {}): Promise<AuditHandle> {
  const env = options.env ?? (config !== undefined && !('service' in config) ? config.env : undefined) ?? process.env;
  const cfg: AuditConfig = config !== undefined && 'service' in config ? config : loadConfig(config ?? {});
  if (cfg.enabled === false) {
    // Said once, where the service's operators look: a compliance reviewer must not find out from an empty store.
    const byEnv = env['AUDIT_LOG_ENABLED'];
    const cause = byEnv !== undefined && byEnv.trim() !== '' ? `AUDIT_LOG_ENABLED=${byEnv}` : `enabled: false${cfg.source !== undefined ? ` in ${cfg.source}` : ''}`;
    printerOf(options)(`otel-audit: auditing is DISABLED by ${cause}: no audit record is written until it is enabled again`);
    const audit = createDisabledAuditLogger();
    setCurrentAudit(audit);
    health = () => true;
    started = true;
    return { audit, processor: undefined, config: cfg, enabled: false, shutdown: () => Promise.resolve(), shutdownTimeoutMillis: 0, stopRequested: false };
  }
  const problems: ConfigProblem[] = [];
  const { pipeline, secrets } = checkSemantics(cfg, env, problems);
  if (problems.length > 0) throw new ConfigError(problems, cfg.source);
  for (const warning of secrets.warnings) printerOf(options)(warning);
  // What the config switches off is said once, like `enabled: false` above.
  for (const warning of switchOffWarnings(cfg, pipeline, env, cluster.isWorker ? cluster.worker?.id : undefined)) printerOf(options)(warning);

  const chain = usedOf<ChainProcessorConfig>(pipeline, 'processors', 'chain')?.config;
  const redact = usedOf<RedactProcessorConfig>(pipeline, 'processors', 'redact')?.config;
  const http = usedOf<HttpReceiverConfig>(pipeline, 'receivers', 'http')?.config;
  const api = usedOf<ApiReceiverConfig>(pipeline, 'receivers', 'api')?.config;
  const resource = defaultResource().merge(resourceFromAttributes({ ...(cfg.resource ?? {}), [ATTR_AUDIT_INTEGRITY_ALGORITHM]: chain?.algorithm ?? 'sha256' }));

  const { sinks, store } = buildSinks(cfg, pipeline, secrets, resource, printerOf(options));
  const register = options.registerGlobal !== false && globalOwner === undefined;
  const owner = {};
  let loggerProvider: LoggerProvider | undefined;
  let tracing: HttpTracing | undefined;
  let alerts: ReturnType<typeof buildAlerts>;
  let stopping: Promise<void> | undefined;
  let verifying: BackgroundVerify | undefined;
  const shutdownTimeoutMillis = chainOptions(chain).shutdownTimeoutMillis ?? DEFAULT_SHUTDOWN_TIMEOUT_MILLIS;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      // First, while the processor still seals: the check's record says it was interrupted.
      await verifying?.stop();
      tracing?.stop();
      await tracing?.tracerProvider.shutdown().catch(() => undefined);
      // Bounded: a webhook retrying must not hold back the final checkpoint past the shutdown timeout.
      if (alerts?.dispatcher !== undefined) await stopAlertDelivery(alerts.dispatcher, shutdownTimeoutMillis, printerOf(options)).catch(() => undefined);
      alerts?.stopMetrics();
      // While the processor still seals: the OTLP sinks' pending dead-letter summaries go into the
      // chain before the final checkpoint (what the receiver refuses later is printed by the sink).
      if (loggerProvider !== undefined) await sealDeadLetterSummaries(sinks, shutdownTimeoutMillis / 2).catch(() => undefined);
      if (loggerProvider !== undefined) await loggerProvider.shutdown().catch(() => undefined);
      else for (const s of sinks) await s.shutdown?.().catch(() => undefined);
      setCurrentAudit(createStoppedAuditLogger());
      if (globalOwner === owner) {
        globalOwner = undefined;
        setGlobalErrorHandler(loggingErrorHandler());
        logs.disable();
        if (tracing !== undefined) {
          trace.disable();
          context.disable();
          propagation.disable();
        }
      }
    })());

  const printErrors = errorPrinter(printerOf(options));
  let processor: AuditLogRecordProcessor;
  let audit: AuditLogger;
  try {
    alerts = buildAlerts(usedOf<AlertsProcessorConfig>(pipeline, 'processors', 'alerts')?.config, secrets, () => (loggerProvider ?? logs.getLoggerProvider()).getLogger(AUDIT_SCOPE_NAME), cfg.source);
    processor = new AuditLogRecordProcessor({
      sinks,
      ...chainOptions(chain),
      // The processor opens its stream at construction only when given one; without, ready() would wait for a first record.
      stream: chain?.stream ?? defaultStreamId(resource),
      ...spillPathOf(cfg, chain),
      ...(secrets.signerKey !== undefined ? { signerKey: secrets.signerKey } : {}),
      ...(redact !== undefined ? { redaction: redactionOf(redact, secrets.redactHmacKey) } : {}),
      ...(alerts !== undefined ? { onSealed: alerts.onSealed } : {}),
      // Its own records (start/stop, checkpoints, alerts) go to our provider, where the processor passes them by — not to
      // the global logger, which is another SDK's when one registered first (they reached that team's logs backend).
      logger: { emit: (r) => loggerProvider?.getLogger(AUDIT_SCOPE_NAME).emit(r), enabled: () => loggerProvider !== undefined },
      onWarning: warningHandler(options, cfg.source, chain !== undefined),
      // Errors (a sink failing, records lost at shutdown) must be seen without a diag logger, registered globally or not.
      onError: printErrors,
    });
    loggerProvider = new LoggerProvider({ resource, processors: [processor] });
    if (register) {
      globalOwner = owner;
      logs.setGlobalLoggerProvider(loggerProvider);
      // OpenTelemetry's own errors too, through the same printer (one line per error a minute).
      setGlobalErrorHandler(printErrors);
    }
    if (http !== undefined) {
      tracing = startHttpTracing(http, {
        loggerProvider, resource, register, warn: printerOf(options), ...(secrets.apiKeyHmacKey !== undefined ? { apiKeyHmacKey: secrets.apiKeyHmacKey } : {}),
      });
    }
    await processor.ready();
    const limits = limitsOf(chain);
    const live = createAuditLogger({
      loggerProvider,
      ...(api?.receipt_timeout !== undefined ? { receiptTimeoutMillis: durationMillis(api.receipt_timeout)! } : {}),
      ...(limits !== undefined ? { limits } : {}),
    });
    audit = untilStopped(live, () => stopping !== undefined);
    setCurrentAudit(audit);
    const sqlite = pipeline.exporters.find((c) => c.type === 'sqlite');
    if (store !== undefined && (sqlite?.config as { verify_on_start?: boolean } | undefined)?.verify_on_start === true) {
      // In the background: a full verify takes as long as the store is big, and the app must not wait to be loaded.
      verifying = startVerifyOnStart(store, secrets.signerKey, secrets.verifierKeys.get(sqlite!.key) ?? [], live, printErrors);
    }
  } catch (e) {
    // Leave nothing half-started behind: no patched http, no globals, no open files.
    await shutdown();
    setCurrentAudit(undefined);
    throw e;
  }
  latest = {
    audit, processor, ...(store !== undefined ? { store } : {}), config: cfg, enabled: true, shutdown, shutdownTimeoutMillis,
    ...(verifying !== undefined ? { verifyOnStart: verifying.done } : {}),
    get stopRequested() {
      return stopping !== undefined;
    },
  };
  health = () => stopping === undefined && !processor.primarySinkFailing;
  started = true;
  return latest;
}

function redactionOf(r: RedactProcessorConfig, hmacKey: string | undefined) {
  return {
    ...(r.mode !== undefined ? { mode: r.mode } : {}),
    ...(hmacKey !== undefined ? { hmacKey } : {}),
    ...(r.patterns !== undefined ? { patterns: r.patterns } : {}),
    ...(r.default_patterns !== undefined ? { defaultPatterns: r.default_patterns } : {}),
    ...(r.pointers !== undefined ? { pointers: r.pointers } : {}),
  };
}

/**
 * The spill file at a fixed path (relative to the config file), so that what
 * a crashed process spilled is replayed by the next start.
 */
function spillPathOf(config: AuditConfig, chain: ChainProcessorConfig | undefined): { spillPath?: string } {
  const d = chain?.delivery;
  if (d?.overflow !== 'spill') return {};
  return { spillPath: resolvePath(config, d.spill_path ?? 'otel-audit-queue.spill') };
}
