/**
 * `fail_closed` (DESIGN §5): while the audit pipeline reports its primary sink
 * unhealthy, audited routes answer 503 instead of running unaudited. The
 * guard decides with the level the HTTP hooks stored on the request (or, if
 * the instrumentation did not run, by matching the policy itself); routes at
 * level `none` are never refused. The refusal itself is recorded (outcome
 * `error`, `details.refused`) when the pipeline accepts it. When the refusal
 * is because no audit pipeline was ever started in the process (the health
 * function — @otel-audit/node's `auditHealthy` — says so through
 * `setAuditPipelineMissing`), the guard prints that once, with the fix, on
 * the OpenTelemetry diag logger and on stderr: otherwise the app would answer
 * 503 on every audited route with nothing saying why.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpAuditPolicy, createHttpAuditPolicy, type HttpAuditLevel, type HttpAuditPolicyOptions } from './http-audit-policy.js';
import { clearPipelineMissing, warnIfPipelineMissing } from './internal/pipeline-missing.js';
import { ensureState } from './internal/request-state.js';

/** Options of {@link createAuditGuard}. */
export interface AuditGuardOptions {
  /** `true` while the primary sink is healthy. Called once per audited request; keep it cheap. */
  health: () => boolean;
  /** Used when the HTTP hooks did not classify the request. Default: the default policy. */
  policy?: HttpAuditPolicy | HttpAuditPolicyOptions;
  /** `Retry-After` seconds of the 503. Default 5. */
  retryAfterSeconds?: number;
}

/** Decides whether a request must be refused; `refuse` is what the adapters answer. */
export interface AuditGuard {
  /** `true` when `req` is on an audited route and the pipeline is unhealthy (marks the request refused). */
  shouldRefuse(req: IncomingMessage): boolean;
  /** Answer 503 on a node:http response (Express passes its own). */
  refuse(res: ServerResponse): void;
  /** The `Retry-After` value. */
  readonly retryAfterSeconds: number;
  /** `(req, res) => boolean` for a plain node:http server: `true` when it answered 503. */
  (req: IncomingMessage, res: ServerResponse): boolean;
}

/** The body of a refusal. */
export const FAIL_CLOSED_BODY = '{"error":"audit_unavailable","message":"the audit log is unavailable; retry later"}';

/**
 * Build a guard.
 *
 * @example
 * const guard = createAuditGuard({ health: () => sinkHealthy });
 * http.createServer((req, res) => { if (guard(req, res)) return; app(req, res); });
 */
export function createAuditGuard(options: AuditGuardOptions): AuditGuard {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.health !== 'function') throw new TypeError(`options.health must be a function returning true while the audit sink is healthy; got ${typeof options.health}`);
  const health = options.health;
  const policy = options.policy instanceof HttpAuditPolicy ? options.policy : createHttpAuditPolicy(options.policy);
  const retryAfter = options.retryAfterSeconds ?? 5;
  if (!Number.isSafeInteger(retryAfter) || retryAfter < 0) throw new RangeError(`options.retryAfterSeconds must be a non-negative integer; got ${String(retryAfter)}`);
  const shouldRefuse = (req: IncomingMessage): boolean => {
    const state = ensureState(req);
    const level: HttpAuditLevel = (state.match ??= policy.match(req.method ?? 'GET', req.url ?? '/')).level;
    if (level === 'none') return false;
    let ok: boolean;
    clearPipelineMissing();
    try {
      ok = health() === true;
    } catch {
      ok = false;
    }
    if (!ok) {
      state.refused = true;
      warnIfPipelineMissing();
    }
    return !ok;
  };
  const refuse = (res: ServerResponse): void => {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.statusCode = 503;
    res.setHeader('content-type', 'application/json');
    res.setHeader('retry-after', String(retryAfter));
    res.end(FAIL_CLOSED_BODY);
  };
  const guard = ((req: IncomingMessage, res: ServerResponse): boolean => {
    if (!shouldRefuse(req)) return false;
    refuse(res);
    return true;
  }) as AuditGuard;
  Object.defineProperties(guard, {
    shouldRefuse: { value: shouldRefuse },
    refuse: { value: refuse },
    retryAfterSeconds: { value: retryAfter },
  });
  return guard;
}
