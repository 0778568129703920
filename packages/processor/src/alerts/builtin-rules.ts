/**
 * The built-in alert rules (DESIGN §9), carried over from the seed's
 * settings: failed logins per actor and per IP, brute force followed by a
 * success, privilege escalation, data exfiltration, configuration changes,
 * rate-limit bursts, audit integrity, and admin work off hours. They are
 * plain {@link AlertRuleConfig} data — compiled and run like user rules —
 * and switched by plain options. The rules keyed by an attacker's account
 * name or address (failed logins, brute force, rate-limit bursts) set
 * `normalize_group`: `Alice`, `alice ` and `ａｌｉｃｅ` count as one account,
 * the addresses of one IPv6 /64 as one address. The config layer maps the seed's
 * environment variables onto them (`AUDIT_ALERT_ENABLED` → `enabled`,
 * `AUDIT_ALERT_FAILED_LOGINS` → `failedLogins`,
 * `AUDIT_ALERT_PRIVILEGE_ESCALATION` → `privilegeEscalation`,
 * `AUDIT_ALERT_DATA_EXFILTRATION` → `dataExfiltration`,
 * `AUDIT_ALERT_CONFIG_CHANGES` → `configChanges`).
 */
import type { AlertRuleConfig } from './alert-rule.js';
import type { MatchConfig } from './record-matcher.js';

/** Threshold, window and cooldown of a counting built-in. */
export interface BuiltinThresholdOptions {
  threshold?: number;
  /** Duration such as `5m`. */
  window?: string;
  cooldown?: string;
}

/** Options of {@link builtinAlertRules}. Every built-in is on by default except `offHoursAdmin`. */
export interface BuiltinAlertOptions {
  /** `false` turns every built-in off (`AUDIT_ALERT_ENABLED`). Default true. */
  enabled?: boolean;
  /** Failed logins per actor and per IP: a number is the threshold (default 5 in 5m). */
  failedLogins?: boolean | number | BuiltinThresholdOptions;
  /** `threshold` failed logins then a success for the same actor (default: the failed-logins threshold, 5m). */
  bruteForceSuccess?: boolean | BuiltinThresholdOptions;
  /** Grants and role or permission changes; an actor changing its own rights is critical. */
  privilegeEscalation?: boolean;
  /** Views/exports per actor (default 100 in 5m), or one export of more than `bulkExportRecords` records. */
  dataExfiltration?: boolean | (BuiltinThresholdOptions & { bulkExportRecords?: number; recordCountField?: string });
  /** One alert per admin create/update/delete, or with `{ digest: '15m' }` one alert per window listing them. */
  configChanges?: boolean | { digest?: string };
  /** Rate-limit violations (429s) per IP (default 20 in 1m). */
  rateLimitBurst?: boolean | BuiltinThresholdOptions;
  /** A records_dropped record or a failed verification. */
  auditIntegrity?: boolean;
  /**
   * Admin actions outside working hours; off by default. `true` = 08:00–18:00 UTC, Monday to Friday.
   * `timeZone` (IANA, e.g. `Europe/Berlin`) follows daylight saving time; `utcOffset` is a fixed offset.
   */
  offHoursAdmin?: boolean | { from: string; to: string; utcOffset?: string; timeZone?: string; days?: readonly number[]; cooldown?: string };
}

/** Names of the built-in rules. */
export const BUILTIN_ALERT_RULE_NAMES = Object.freeze([
  'failed_logins',
  'failed_logins_by_ip',
  'brute_force_success',
  'privilege_escalation',
  'privilege_self_escalation',
  'data_exfiltration',
  'data_exfiltration_bulk_export',
  'config_changes',
  'rate_limit_burst',
  'audit_integrity',
  'off_hours_admin',
] as const);

/** Default threshold of failed logins (the seed's `AUDIT_ALERT_FAILED_LOGINS`). */
export const DEFAULT_FAILED_LOGINS = 5;

const GRANT_ACTIONS = ['grant', 'elevate', 'assign_role', 'add_role', 'role_change', 'permission_change', 'promote', 'impersonate', 'sudo'];
const RIGHTS_FIELDS = ['new.role', 'new.roles', 'new.permissions', 'new.is_admin', 'new.admin'];
const RIGHTS_TARGETS = { glob: ['*role*', '*permission*', '*privilege*', '*acl*', '*grant*'], ignore_case: true };

function settings(
  value: boolean | number | BuiltinThresholdOptions | undefined,
  name: string,
  defaults: Required<BuiltinThresholdOptions>,
): Required<BuiltinThresholdOptions> | undefined {
  if (value === false) return undefined;
  if (value === undefined || value === true) return defaults;
  if (typeof value === 'number') value = { threshold: value };
  if (typeof value !== 'object' || value === null) throw new TypeError(`options.${name} must be a boolean, a number or an object, got ${typeof value}`);
  const threshold = value.threshold ?? defaults.threshold;
  if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`options.${name} threshold must be a whole number >= 1, got ${threshold}`);
  return { threshold, window: value.window ?? defaults.window, cooldown: value.cooldown ?? defaults.cooldown };
}

const on = (value: unknown, name: string, byDefault = true): boolean => {
  if (value === undefined) return byDefault;
  if (typeof value !== 'boolean' && (typeof value !== 'object' || value === null)) throw new TypeError(`options.${name} must be a boolean or an object, got ${typeof value}`);
  return value !== false;
};

/**
 * The built-in rules for the given switches, as rule configs ready for
 * `compileRules`/`AlertEngine` (user rules can be appended).
 *
 * @example
 * const engine = new AlertEngine({ rules: [...builtinAlertRules({ failedLogins: 10, offHoursAdmin: { from: '07:00', to: '19:00', utcOffset: '+01:00' } }), ...userRules] });
 */
export function builtinAlertRules(options: BuiltinAlertOptions = {}): AlertRuleConfig[] {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.enabled === false) return [];
  const rules: AlertRuleConfig[] = [];

  const logins = settings(options.failedLogins, 'failedLogins', { threshold: DEFAULT_FAILED_LOGINS, window: '5m', cooldown: '5m' });
  const failedLogin: MatchConfig = { type: 'auth', action: 'login', outcome: 'failure' };
  if (logins) {
    const condition = `count >= ${logins.threshold}`;
    rules.push(
      { name: 'failed_logins', description: `${logins.threshold} or more failed logins for one actor within ${logins.window}`, severity: 'warning', match: failedLogin, group_by: ['actor.id'], normalize_group: true, window: logins.window, condition, cooldown: logins.cooldown },
      { name: 'failed_logins_by_ip', description: `${logins.threshold} or more failed logins from one IP address within ${logins.window}`, severity: 'warning', match: failedLogin, group_by: ['actor.ip'], normalize_group: true, window: logins.window, condition, cooldown: logins.cooldown },
    );
  }

  const brute = settings(options.bruteForceSuccess, 'bruteForceSuccess', { threshold: logins?.threshold ?? DEFAULT_FAILED_LOGINS, window: logins?.window ?? '5m', cooldown: '5m' });
  if (brute) {
    rules.push({
      name: 'brute_force_success',
      description: `A successful login after ${brute.threshold} or more failed logins for the same actor within ${brute.window}`,
      severity: 'critical',
      match: { type: 'auth', action: 'login' },
      group_by: ['actor.id'],
      normalize_group: true,
      window: brute.window,
      condition: { sequence: [{ match: { outcome: 'failure' }, count: brute.threshold }, { match: { outcome: 'success' } }] },
      cooldown: brute.cooldown,
    });
  }

  if (on(options.privilegeEscalation, 'privilegeEscalation')) {
    // Ids compared without case: `Alice` granting rights to `alice` is still the actor itself.
    const notSelf = { not: { equals_field: 'target.id', ignore_case: true } };
    const self = { equals_field: 'target.id', ignore_case: true };
    const changes: MatchConfig[] = [
      { action: GRANT_ACTIONS },
      { 'target.type': RIGHTS_TARGETS, action: ['create', 'update', 'delete', 'grant', 'assign'] },
      ...RIGHTS_FIELDS.map((field): MatchConfig => ({ action: ['create', 'update', 'grant', 'assign'], [field]: { exists: true } })),
    ];
    rules.push(
      { name: 'privilege_escalation', description: 'Rights granted, or a role or permission changed', severity: 'warning', match: changes.map((m) => ({ ...m, 'actor.id': notSelf })), group_by: [], window: '1m', condition: 'count >= 1' },
      { name: 'privilege_self_escalation', description: 'An actor changed its own rights', severity: 'critical', match: changes.map((m) => ({ ...m, 'actor.id': self })), group_by: [], window: '1m', condition: 'count >= 1' },
    );
  }

  if (on(options.dataExfiltration, 'dataExfiltration')) {
    const o = typeof options.dataExfiltration === 'object' ? options.dataExfiltration : {};
    const views = settings(o, 'dataExfiltration', { threshold: 100, window: '5m', cooldown: '15m' })!;
    const bulk = o.bulkExportRecords ?? 10_000;
    if (!Number.isInteger(bulk) || bulk < 0) throw new RangeError(`options.dataExfiltration.bulkExportRecords must be a whole number >= 0, got ${bulk}`);
    const field = o.recordCountField ?? 'details.record_count';
    rules.push(
      { name: 'data_exfiltration', description: `${views.threshold} or more successful views or exports by one actor within ${views.window}`, severity: 'warning', match: { action: ['view', 'read', 'export', 'download'], outcome: 'success' }, group_by: ['actor.id'], window: views.window, condition: `count >= ${views.threshold}`, cooldown: views.cooldown },
      { name: 'data_exfiltration_bulk_export', description: `One export of more than ${bulk} records`, severity: 'critical', match: { action: ['export', 'download'], [field]: { gt: bulk } }, group_by: [], window: '1m', condition: 'count >= 1' },
    );
  }

  if (on(options.configChanges, 'configChanges')) {
    const digest = typeof options.configChanges === 'object' ? options.configChanges.digest : undefined;
    rules.push({
      // Only changes that happened: a refused attempt changed nothing (denials have their own signals).
      name: 'config_changes', description: 'An administrative create, update or delete', severity: 'warning',
      match: { type: ['admin', 'config'], action: ['create', 'update', 'delete'], outcome: 'success' }, group_by: [], window: '1m', condition: 'count >= 1',
      ...(digest !== undefined ? { digest } : {}),
    });
  }

  const burst = settings(options.rateLimitBurst, 'rateLimitBurst', { threshold: 20, window: '1m', cooldown: '5m' });
  if (burst) {
    rules.push({
      name: 'rate_limit_burst',
      description: `${burst.threshold} or more rate-limit violations from one IP address within ${burst.window}`,
      severity: 'warning',
      match: [{ type: 'security', action: { glob: 'rate_limit*' } }, { 'details.status_code': 429 }],
      group_by: ['actor.ip'],
      normalize_group: true,
      window: burst.window,
      condition: `count >= ${burst.threshold}`,
      cooldown: burst.cooldown,
    });
  }

  if (on(options.auditIntegrity, 'auditIntegrity')) {
    rules.push({
      name: 'audit_integrity',
      description: 'Audit records were dropped (from the chain, or only for a failing secondary sink) or a verification failed',
      severity: 'critical',
      match: [
        { type: 'system', action: 'records_dropped' },
        { type: 'system', action: ['verify', 'verification'], outcome: ['failure', 'error'] },
        { type: 'system', action: ['verification_failed', 'integrity_failure', 'chain_broken'] },
      ],
      group_by: [],
      window: '1m',
      condition: 'count >= 1',
    });
  }

  if (on(options.offHoursAdmin, 'offHoursAdmin', false)) {
    const o = typeof options.offHoursAdmin === 'object' ? options.offHoursAdmin : { from: '08:00', to: '18:00', days: [1, 2, 3, 4, 5] };
    const cooldown = 'cooldown' in o && o.cooldown !== undefined ? o.cooldown : '1h';
    rules.push({
      name: 'off_hours_admin',
      description: `Administrative action outside ${o.from}–${o.to} (${'timeZone' in o && o.timeZone !== undefined ? o.timeZone : `UTC${('utcOffset' in o && o.utcOffset) || '+00:00'}`})`,
      severity: 'warning',
      match: {
        type: 'admin',
        time: {
          outside_hours: {
            from: o.from,
            to: o.to,
            ...('timeZone' in o && o.timeZone !== undefined ? { time_zone: o.timeZone } : { utc_offset: ('utcOffset' in o && o.utcOffset) || '+00:00' }),
            ...(o.days ? { days: o.days } : {}),
          },
        },
      },
      group_by: ['actor.id'],
      window: '1m',
      condition: 'count >= 1',
      cooldown,
    });
  }
  return rules;
}
