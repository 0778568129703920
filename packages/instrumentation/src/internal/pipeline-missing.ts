/**
 * Why a health function answered false when the reason is that no audit
 * pipeline was ever started in this process (the app was started without
 * `--import @otel-audit/node/register`): the `fail_closed` guard then
 * refuses every audited request before any handler runs, so the
 * `AuditPipelineMissingError` that names the fix is never seen. The health
 * function's provider (@otel-audit/node's `auditHealthy`) says so here
 * during its call; the guard, when it refuses, prints it once per process.
 * Kept on `globalThis` under `Symbol.for` keys, so two copies of the
 * packages agree.
 */
import { diag } from '@opentelemetry/api';

const REASON = Symbol.for('@otel-audit/instrumentation.pipeline-missing');
const WARNED = Symbol.for('@otel-audit/instrumentation.pipeline-missing-warned');

type Slots = { [REASON]?: string | undefined; [WARNED]?: boolean };
const slots = globalThis as Slots;

/**
 * Say (a message naming the fix) or unsay (`undefined`) that the health
 * answer being given is false because no audit pipeline was ever started.
 *
 * @example
 * setAuditPipelineMissing(started ? undefined : 'otel-audit: no audit pipeline was started in this process; ...');
 */
export function setAuditPipelineMissing(message: string | undefined): void {
  if (message !== undefined && typeof message !== 'string') throw new TypeError('message must be a string or undefined');
  slots[REASON] = message;
}

/**
 * Forget any earlier answer: the guard calls it before asking the health function.
 *
 * @example
 * clearPipelineMissing(); const ok = health();
 */
export function clearPipelineMissing(): void {
  slots[REASON] = undefined;
}

/**
 * The guard refused a request: when the health function said that no
 * pipeline was ever started, print that once per process, on the
 * OpenTelemetry diag logger and on stderr (diag has no logger by default).
 *
 * @example
 * if (!ok) warnIfPipelineMissing();
 */
export function warnIfPipelineMissing(): void {
  const message = slots[REASON];
  if (message === undefined || slots[WARNED] === true) return;
  slots[WARNED] = true;
  diag.error(message);
  process.stderr.write(`${message}\n`);
}
