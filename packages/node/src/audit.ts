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

/**
 * An audit logger whose calls reject: the pipeline was shut down.
 *
 * @example
 * setCurrentAudit(createStoppedAuditLogger()); // after shutdown
 */
export function createStoppedAuditLogger(): AuditLogger {
  const error = () => new AuditError('AUDIT_PIPELINE_STOPPED', 'otel-audit: the audit pipeline was shut down; the event was not recorded');
  return {
    ...(Object.fromEntries(METHODS.map((m) => [m, () => Promise.reject(error())])) as unknown as Omit<AuditLogger, 'logNowait'>),
    logNowait: () => {
      throw error();
    },
  };
}

/**
 * `live` until `stopped()` says the pipeline was shut down, then a stopped
 * logger: the handle's own `audit` answers like the exported one after
 * shutdown (AUDIT_PIPELINE_STOPPED), not "no audit processor received it".
 *
 * @example
 * const handleAudit = untilStopped(live, () => stopping !== undefined);
 */
export function untilStopped(live: AuditLogger, stopped: () => boolean): AuditLogger {
  let after: AuditLogger | undefined;
  const now = (): AuditLogger => (stopped() ? (after ??= createStoppedAuditLogger()) : live);
  return Object.freeze({
    ...(Object.fromEntries(METHODS.map((m) => [m, (event: never) => (now()[m] as (e: never) => Promise<AuditReceipt>)(event)])) as Omit<AuditLogger, 'logNowait'>),
    logNowait: (event: Parameters<AuditLogger['logNowait']>[0]) => now().logNowait(event),
  });
}
