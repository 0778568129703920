/**
 * Outcome and severity of an HTTP-derived record from the response status
 * (DESIGN §8): 2xx/3xx success; 401/403 an authorization failure (denied);
 * 429 a rate-limit violation, recorded as `security`/`rate_limit`; other 4xx
 * failure; 5xx error; no status at all (the connection died first) unknown.
 */
import type { AuditOutcome, AuditSeverity } from '@otel-audit/core';

export interface HttpOutcome {
  outcome: AuditOutcome;
  severity: AuditSeverity;
  /** Set for 429: the record becomes `security`/`rate_limit`. */
  rateLimited: boolean;
  /** `deny` for 401/403. */
  decision: 'deny' | undefined;
  reason: string | undefined;
}

export function httpOutcome(status: number | undefined): HttpOutcome {
  if (status === undefined || !Number.isInteger(status) || status < 100) {
    return { outcome: 'unknown', severity: 'warning', rateLimited: false, decision: undefined, reason: 'no response status (connection closed early)' };
  }
  if (status < 400) return { outcome: 'success', severity: 'info', rateLimited: false, decision: undefined, reason: undefined };
  if (status === 401) return { outcome: 'failure', severity: 'warning', rateLimited: false, decision: 'deny', reason: 'unauthenticated' };
  if (status === 403) return { outcome: 'failure', severity: 'warning', rateLimited: false, decision: 'deny', reason: 'forbidden' };
  if (status === 429) return { outcome: 'failure', severity: 'warning', rateLimited: true, decision: undefined, reason: 'rate limited' };
  if (status < 500) return { outcome: 'failure', severity: 'info', rateLimited: false, decision: undefined, reason: undefined };
  return { outcome: 'error', severity: 'error', rateLimited: false, decision: undefined, reason: undefined };
}
