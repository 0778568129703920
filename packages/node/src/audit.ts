/**
 * The `audit` logger exported by @otel-audit/node (DESIGN §1.2): one object
 * an application imports once and calls anywhere, which follows the pipeline
 * that `startAudit` (or `--import @otel-audit/node/register`) started. Before
 * a start it emits through the global OpenTelemetry logger provider (like
 * `createAuditLogger()`); when the pipeline is disabled (`AUDIT_LOG_ENABLED=
 * false`) every call is a no-op that resolves; after shutdown calls reject.
 */
import { AuditError, createRecordId, type AuditReceipt } from '@otel-audit/core';
import { createAuditLogger, type AuditLogger } from '@otel-audit/instrumentation';
import { inWorkerUnderRegisterHook, sayWorkerNotice, workerRefusal } from './internal/worker-notice.js';

const METHODS = ['log', 'login', 'logout', 'authorize', 'change', 'access', 'security', 'rateLimited'] as const;

let target: AuditLogger | undefined;
let fallback: AuditLogger | undefined;

/**
 * The audit logger of the running pipeline.
 *
 * @example
 * import { audit } from '@otel-audit/node';
 * const receipt = await audit.login({ actor: 'alice', outcome: 'failure', reason: 'bad password' });
 */
export const audit: AuditLogger = Object.freeze({
  ...(Object.fromEntries(METHODS.map((m) => [m, (event: never) => (current()[m] as (e: never) => Promise<AuditReceipt>)(event)])) as Omit<AuditLogger, 'logNowait'>),
  logNowait: (event: Parameters<AuditLogger['logNowait']>[0]) => current().logNowait(event),
});

function current(): AuditLogger {
  if (target === undefined && inWorkerUnderRegisterHook()) {
    // A Worker the register hook did not run in (`eval: true`): refused like in any other worker, and said so.
    sayWorkerNotice();
    target = createRefusingAuditLogger(workerRefusal);
  }
  return target ?? (fallback ??= createAuditLogger());
}

/**
 * Route the exported `audit` to `logger` (undefined: back to the global provider).
 *
 * @example
 * setCurrentAudit(handle.audit); // `audit` now emits through this pipeline
 */
export function setCurrentAudit(logger: AuditLogger | undefined): void {
  target = logger;
}

/**
 * An audit logger that records nothing: calls resolve at once with a receipt
 * of stream `disabled`, seq -1 and an empty hash (what `AUDIT_LOG_ENABLED=false` gives).
 *
 * @example
 * const receipt = await createDisabledAuditLogger().log({ type: 'auth', action: 'login' }); // receipt.seq === -1
 */
export function createDisabledAuditLogger(): AuditLogger {
  const receipt = () => Promise.resolve({ id: createRecordId(), stream: 'disabled', seq: -1, hash: '' });
  return { ...(Object.fromEntries(METHODS.map((m) => [m, receipt])) as unknown as Omit<AuditLogger, 'logNowait'>), logNowait: () => createRecordId() };
}

const stoppedError = () => new AuditError('AUDIT_PIPELINE_STOPPED', 'otel-audit: the audit pipeline was shut down; the event was not recorded');

/**
 * An audit logger whose calls reject: the pipeline was shut down.
 *
 * @example
 * setCurrentAudit(createStoppedAuditLogger()); // after shutdown
 */
export function createStoppedAuditLogger(): AuditLogger {
  return createRefusingAuditLogger(stoppedError);
}

/**
 * An audit logger whose calls reject with `error()` (and whose `logNowait` throws it).
 *
 * @example
 * setCurrentAudit(createRefusingAuditLogger(() => new AuditError('AUDIT_NO_PIPELINE', 'not in a worker thread')));
 */
export function createRefusingAuditLogger(error: () => AuditError): AuditLogger {
  return {
    ...(Object.fromEntries(METHODS.map((m) => [m, () => Promise.reject(error())])) as unknown as Omit<AuditLogger, 'logNowait'>),
    logNowait: () => {
      throw error();
    },
  };
}

/** Errors meaning "nobody took the record" that, once the pipeline stopped, mean just that. */
const GONE = new Set(['AUDIT_NO_PIPELINE', 'AUDIT_SHUTDOWN']);

/**
 * `live` until `stopped()` says the pipeline was shut down, then a stopped
 * logger: the handle's own `audit` answers like the exported one after
 * shutdown (AUDIT_PIPELINE_STOPPED), not "no audit processor received it".
 * So does a call made before the shutdown that was still waiting for queue
 * space (overflow `block`) when it came: it emits into the stopped provider.
 *
 * @example
 * const handleAudit = untilStopped(live, () => stopping !== undefined);
 */
export function untilStopped(live: AuditLogger, stopped: () => boolean): AuditLogger {
  let after: AuditLogger | undefined;
  const now = (): AuditLogger => (stopped() ? (after ??= createStoppedAuditLogger()) : live);
  const call = (m: (typeof METHODS)[number], event: never): Promise<AuditReceipt> => {
    const logger = now();
    const p = (logger[m] as (e: never) => Promise<AuditReceipt>)(event);
    if (logger !== live) return p;
    return p.catch((e: unknown) => {
      throw stopped() && GONE.has(String((e as { code?: unknown } | null)?.code)) ? stoppedError() : e;
    });
  };
  return Object.freeze({
    ...(Object.fromEntries(METHODS.map((m) => [m, (event: never) => call(m, event)])) as Omit<AuditLogger, 'logNowait'>),
    logNowait: (event: Parameters<AuditLogger['logNowait']>[0]) => now().logNowait(event),
  });
}
