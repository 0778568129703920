/**
 * From otel-config.yaml sections (snake_case, durations as text) to the
 * options objects of the packages the node package wires together
 * (DESIGN §7): the HTTP audit policy, the built-in alert switches, the
 * processor's delivery and checkpoint settings. Pure functions: no I/O.
 */
import type { BuiltinAlertOptions } from '@otel-audit/processor';
import type { HttpAuditRule } from '@otel-audit/instrumentation';
import type { AlertsProcessorConfig, ChainProcessorConfig, DurationText, HttpRuleConfig, ThresholdConfig } from '../config-types.js';

const UNIT: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration text in milliseconds (`1h30m` → 5,400,000); `fallback` when absent.
 *
 * @example
 * durationMillis('250ms') // 250
 */
export function durationMillis(text: DurationText | undefined, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT[m[2]!]!;
  return total;
}

/**
 * The policy rules of `receivers.http.rules` in the instrumentation's shape.
 *
 * @example
 * httpRules([{ match: { path: '/t/:tid' }, level: 'request', target: { type: 'tool', id_param: 'tid' } }]) // target: { type: 'tool', idParam: 'tid' }
 */
export function httpRules(rules: readonly HttpRuleConfig[]): HttpAuditRule[] {
  return rules.map((r) => {
    const target = r.target === undefined || typeof r.target === 'string' ? r.target : { type: r.target.type, ...(r.target.id_param !== undefined ? { idParam: r.target.id_param } : {}), ...(r.target.name !== undefined ? { name: r.target.name } : {}) };
    return {
      match: { path: r.match.path, ...(r.match.methods !== undefined ? { methods: r.match.methods } : {}) },
      level: r.level,
      ...(r.type !== undefined ? { type: r.type } : {}),
      ...(r.action !== undefined ? { action: r.action } : {}),
      ...(target !== undefined ? { target } : {}),
    };
  });
}

function threshold(v: ThresholdConfig | undefined): BuiltinAlertOptions['failedLogins'] {
  return typeof v === 'object' ? { ...v } : v;
}

/**
 * `processors.alerts.builtins` (and `enabled`) as `builtinAlertRules` options.
 *
 * @example
 * builtinOptions({ builtins: { failed_logins: 10 } }) // { enabled: true, failedLogins: 10 }
 */
export function builtinOptions(config: AlertsProcessorConfig): BuiltinAlertOptions {
  const b = config.builtins ?? {};
  const exfil = b.data_exfiltration;
  const off = b.off_hours_admin;
  const out: BuiltinAlertOptions = {
    enabled: config.enabled ?? true,
    failedLogins: threshold(b.failed_logins),
    bruteForceSuccess: b.brute_force_success === undefined ? undefined : (threshold(b.brute_force_success) as BuiltinAlertOptions['bruteForceSuccess']),
    privilegeEscalation: b.privilege_escalation,
    dataExfiltration:
      typeof exfil === 'number'
        ? { threshold: exfil }
        : typeof exfil === 'object'
          ? { threshold: exfil.threshold, window: exfil.window, cooldown: exfil.cooldown, bulkExportRecords: exfil.bulk_export_records }
          : exfil,
    configChanges: typeof b.config_changes === 'object' ? (b.config_changes.digest !== undefined ? { digest: b.config_changes.digest } : true) : b.config_changes,
    rateLimitBurst: threshold(b.rate_limit_burst) as BuiltinAlertOptions['rateLimitBurst'],
    auditIntegrity: b.audit_integrity,
    offHoursAdmin: typeof off === 'object' ? { from: off.from, to: off.to, utcOffset: off.utc_offset, timeZone: off.time_zone, days: off.days, cooldown: off.cooldown } : off,
  };
  // builtinAlertRules treats a present-but-undefined key like an absent one; drop them for clarity.
  for (const k of Object.keys(out) as (keyof BuiltinAlertOptions)[]) if (out[k] === undefined) delete out[k];
  if (typeof out.dataExfiltration === 'object') for (const k of Object.keys(out.dataExfiltration)) if ((out.dataExfiltration as Record<string, unknown>)[k] === undefined) delete (out.dataExfiltration as Record<string, unknown>)[k];
  return out;
}

/**
 * `processors.chain.limits` as normalisation limits (undefined when none is set).
 *
 * @example
 * limitsOf({ limits: { max_length: 4194304 } }) // { maxLength: 4194304 }
 */
export function limitsOf(chain: ChainProcessorConfig | undefined): { maxLength?: number; maxDepth?: number; maxFieldLength?: number } | undefined {
  const l = chain?.limits;
  if (l === undefined) return undefined;
  const out = {
    ...(l.max_length !== undefined ? { maxLength: l.max_length } : {}),
    ...(l.max_depth !== undefined ? { maxDepth: l.max_depth } : {}),
    ...(l.max_field_length !== undefined ? { maxFieldLength: l.max_field_length } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Delivery and checkpoint settings of `processors.chain` as processor options.
 *
 * @example
 * chainOptions({ checkpoint: { interval: '5s' } }) // { checkpointIntervalMillis: 5000 }
 */
export function chainOptions(chain: ChainProcessorConfig | undefined): {
  alg?: ChainProcessorConfig['algorithm'];
  stream?: string;
  previousStream?: string;
  checkpointEveryRecords?: number;
  checkpointIntervalMillis?: number;
  maxBatchSize?: number;
  flushIntervalMillis?: number;
  maxQueueSize?: number;
  overflow?: 'block' | 'drop' | 'spill';
  spillPath?: string;
  shutdownTimeoutMillis?: number;
  limits?: { maxLength?: number; maxDepth?: number; maxFieldLength?: number };
} {
  const c = chain ?? {};
  const d = c.delivery ?? {};
  const all = {
    alg: c.algorithm,
    stream: c.stream,
    previousStream: c.previous_stream,
    checkpointEveryRecords: c.checkpoint?.every_records,
    checkpointIntervalMillis: c.checkpoint?.every_seconds !== undefined ? Math.max(1, Math.round(c.checkpoint.every_seconds * 1000)) : durationMillis(c.checkpoint?.interval),
    maxBatchSize: d.batch_size,
    flushIntervalMillis: durationMillis(d.flush_interval),
    maxQueueSize: d.max_queue_size,
    overflow: d.overflow,
    spillPath: d.spill_path,
    shutdownTimeoutMillis: durationMillis(d.shutdown_timeout),
    limits: limitsOf(c),
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}
