/**
 * The parts of auditing a configuration switches off while the pipeline
 * still runs (DESIGN §7, §8, §9): the default redaction patterns, every
 * HTTP rule at `level: none`, the alert rules, the integrity check at
 * start. Each is said once at start, one line naming what turned it off
 * (the YAML path or the variable) and what is no longer protected or
 * recorded — as `enabled: false` is: an operator must not find out from a
 * password in the store or an alert that never came. Also said: alert
 * thresholds weakened by a `node:cluster` service, whose workers each count
 * only their own records.
 */
import { DEFAULT_REDACTION_PATTERNS } from '@otel-audit/processor';
import type { AlertsProcessorConfig, AuditConfig, HttpReceiverConfig, RedactProcessorConfig, SqliteExporterConfig } from '../config-types.js';
import { usedOf, type ResolvedPipeline } from './pipeline.js';

const FALSE = /^(false|0|no|off)$/i;

/** `NAME=value` when the variable is set to a false value, else undefined. */
function offByEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v !== undefined && FALSE.test(v) ? `${name}=${v}` : undefined;
}

/**
 * One warning line per part of auditing the configuration switches off.
 *
 * @example
 * for (const line of switchOffWarnings(config, pipeline, process.env)) process.stderr.write(`${line}\n`);
 */
export function switchOffWarnings(config: AuditConfig, pipeline: ResolvedPipeline, env: NodeJS.ProcessEnv, clusterWorkerId?: number): string[] {
  const inFile = config.source !== undefined ? ` in ${config.source}` : '';
  const out: string[] = [];

  const redact = usedOf<RedactProcessorConfig>(pipeline, 'processors', 'redact');
  if (redact?.config.default_patterns === false) {
    const named = (redact.config.patterns?.length ?? 0) + (redact.config.pointers?.length ?? 0);
    out.push(`otel-audit: warning: the default redaction patterns are OFF by processors.${redact.key}.default_patterns: false${inFile}: `
      + `fields whose names contain ${DEFAULT_REDACTION_PATTERNS.slice(0, 6).join(', ')} or the other ${DEFAULT_REDACTION_PATTERNS.length - 6} default patterns, or the default words (pass, pin, otp, cvv, ...), are stored as written`
      + `${named > 0 ? ' unless its patterns or pointers name them' : ' (no patterns or pointers are listed: nothing is redacted)'}; `
      + 'fix: remove default_patterns: false, or list every secret field in patterns');
  }

  const http = usedOf<HttpReceiverConfig>(pipeline, 'receivers', 'http');
  const rules = http?.config.rules;
  if (rules !== undefined && rules.length > 0 && rules.every((r) => r.level === 'none')) {
    out.push(`otel-audit: warning: no HTTP request is audited: every rule of receivers.${http!.key}.rules has level: none${inFile}, the catch-all too: `
      + 'requests are served and nothing about them is recorded; '
      + `fix: give the catch-all (rules[${rules.length - 1}]) level: metadata, or add rules with level metadata or request for the routes to audit`);
  }

  const alerts = usedOf<AlertsProcessorConfig>(pipeline, 'processors', 'alerts');
  if (alerts?.config.enabled === false) {
    const byEnv = offByEnv(env, 'AUDIT_ALERT_ENABLED');
    out.push(`otel-audit: warning: alerts are OFF by ${byEnv ?? `processors.${alerts.key}.enabled: false${inFile}`}: `
      + 'no alert rule runs (failed logins, privilege escalation, data exfiltration, ...) and no notifier is called; the records are still written; '
      + `fix: ${byEnv !== undefined ? 'unset AUDIT_ALERT_ENABLED or set it to true' : 'remove enabled: false'}`);
  } else if (alerts !== undefined && clusterWorkerId === 1) {
    // Weakened, not off: each worker's engine sees only the records of the connections it was handed.
    // Said by the first worker only, once per cluster rather than once per worker.
    out.push(`otel-audit: warning: alert rules count per process: this is worker 1 of a node:cluster service, and each worker runs processors.${alerts.key} `
      + 'on its own records only, so with N workers a rule of count >= T may see up to N×(T−1) matching records before any worker alerts '
      + '(failed_logins 5 with 4 workers: 17 attempts over new connections); '
      + 'fix: set thresholds to what one worker should see, or run the service as one audited process (docs/operations.md, "Several processes")');
  }

  const integrity = offByEnv(env, 'AUDIT_LOG_INTEGRITY_CHECKS');
  const sqlite = usedOf<SqliteExporterConfig>(pipeline, 'exporters', 'sqlite');
  if (integrity !== undefined && sqlite !== undefined && sqlite.config.verify_on_start !== true) {
    out.push(`otel-audit: warning: the integrity check at start is OFF by ${integrity}: exporters.${sqlite.key} is not verified when the service starts, `
      + 'so an edited or broken chain is found only by `otel-audit verify`; '
      + 'fix: unset AUDIT_LOG_INTEGRITY_CHECKS or set it to true, or run `otel-audit verify` from cron');
  }
  return out;
}
