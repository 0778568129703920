/**
 * The alert rule model (DESIGN §9) as it is written in otel-config.yaml
 * under `processors.alerts.rules`, and `compileRules`, which validates it —
 * every error names the key path, the value and the fix — and compiles it
 * once into what the engine runs. Sigma-correlation style: records that
 * pass `match` are grouped by `group_by` and counted (`count`), their
 * distinct values counted (`distinct`), or followed through an ordered
 * `sequence`, within a sliding `window`; a group that alerted stays quiet
 * for its `cooldown`.
 *
 * ```yaml
 * processors:
 *   alerts:
 *     rules:
 *       - name: vpn_logins_from_many_ips
 *         description: One account logging in from many addresses
 *         match: { type: auth, action: login, outcome: success, request.endpoint: { glob: "/vpn/*" } }
 *         group_by: [actor.id]
 *         window: 10m
 *         condition: distinct(actor.ip) >= 4
 *         severity: critical
 *         cooldown: 30m
 * ```
 */
import { ALERT_GROUPS_EVICTED } from './alert-event.js';
import { AlertConfigError } from './errors.js';
import { parseDuration } from './duration.js';
import { compileFieldPath, type AlertableRecord, type FieldGetter } from './field-path.js';
import { compileMatch, type CompiledMatch, type MatchSpec } from './record-matcher.js';
import { didYouMean } from './internal/suggest.js';

/** Severity of an alert (and of its `type: alert` record). */
export type AlertSeverity = 'warning' | 'critical';

/** One step of a `sequence` condition: `count` records (default 1) matching `match`. */
export interface SequenceStepConfig {
  match?: MatchSpec;
  count?: number;
}

/**
 * When a group alerts. A string is `count >= N` (or `> N`) or
 * `distinct(<field>) >= N`; the map forms say the same, plus `sequence`:
 * ordered steps, each completed after the previous one, the first record
 * of the sequence at most one window before the last. Other records in
 * between do not break a sequence; the most recent start is kept, so
 * `[failure ×5, success]` fires when the 5 failures before a success fall
 * within the window.
 *
 * Windows slide over record times: a record exactly one window older than
 * the newest no longer counts. When a group alerts, the records that made
 * it alert are consumed (the next alert needs the condition met again by
 * newer records) and the group's cooldown starts; during the cooldown the
 * group keeps counting and alerts on the first record after it that finds
 * the condition met.
 */
export type AlertConditionConfig =
  | string
  | { count: number }
  | { distinct: string; count: number }
  | { sequence: readonly SequenceStepConfig[] };

/** One alert rule as configured. */
export interface AlertRuleConfig {
  /** Unique; becomes the alert record's `action`. Lowercase letters, digits, `_`, `-`, `.`. */
  name: string;
  /** For people: what the alert means. */
  description?: string;
  /** Default `warning`. */
  severity?: AlertSeverity;
  /** Which records count; absent = every record (except alerts). */
  match?: MatchSpec;
  /** Fields whose values form the group; records lacking one are ignored by the rule. */
  group_by?: string | readonly string[];
  /**
   * Compare group values as people and networks do, not byte for byte: text
   * case-, width- and space-insensitively (NFKC, no zero-width characters,
   * trimmed, lower case), numbers as their text, an IPv4-mapped address as
   * its IPv4 and an IPv6 address by its /64. Default false; the failed-login,
   * brute-force and rate-limit built-ins set it, so that `Alice`, `alice ` and
   * `ａｌｉｃｅ` share one count, as do the addresses of one IPv6 host.
   */
  normalize_group?: boolean;
  /** Sliding window, e.g. `5m`; default `5m`. */
  window?: string;
  condition: AlertConditionConfig;
  /** Quiet time of a group after it alerted, e.g. `15m`; default none. */
  cooldown?: string;
  /**
   * Digest window, e.g. `15m`: instead of one alert per firing, one alert per
   * window counting the firings and listing their records (emitted by the
   * first record at or after the window's end). Default none: one alert per firing.
   */
  digest?: string;
  /** `false` keeps the rule in the file but off. Default true. */
  enabled?: boolean;
}

/** A compiled condition. */
export type CompiledCondition =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'distinct'; readonly field: string; readonly get: FieldGetter; readonly count: number }
  | {
      readonly kind: 'sequence';
      /** One entry per record of the sequence (a step of count 3 is three units): the step's test. */
      readonly units: readonly ((record: AlertableRecord) => boolean)[];
      /** Step index of each unit. */
      readonly unitStep: readonly number[];
      readonly count: number;
    };

/** A validated, compiled rule: what {@link AlertEngine} runs. */
export interface CompiledAlertRule {
  readonly name: string;
  readonly description: string;
  readonly severity: AlertSeverity;
  readonly match: CompiledMatch;
  readonly groupBy: readonly string[];
  readonly groupGetters: readonly FieldGetter[];
  /** `normalize_group`: group values are normalized before they are compared (absent: false). */
  readonly normalizeGroup?: boolean;
  /** The window as configured (`5m`) and in milliseconds. */
  readonly window: string;
  readonly windowMillis: number;
  readonly cooldownMillis: number;
  /** Digest window as configured and in milliseconds; 0 = one alert per firing. */
  readonly digest: string;
  readonly digestMillis: number;
  readonly condition: CompiledCondition;
  /** The condition in words, e.g. `count >= 5`. */
  readonly conditionText: string;
}

/** Options of {@link compileRules}. */
export interface CompileRulesOptions {
  /** Key path of the rule list in the configuration, for errors; default `rules`. */
  path?: string;
}

/** Largest threshold of a count, distinct or sequence condition (bounds per-group memory). */
export const MAX_ALERT_THRESHOLD = 100_000;
/** Most fields in one `group_by`. */
export const MAX_GROUP_BY_FIELDS = 8;
/** Most rules in one list. */
export const MAX_ALERT_RULES = 1000;
/** Most records in one sequence. */
export const MAX_SEQUENCE_RECORDS = 64;

const RULE_KEYS = ['name', 'description', 'severity', 'match', 'group_by', 'normalize_group', 'window', 'condition', 'cooldown', 'digest', 'enabled'];
const NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
const COUNT_TEXT = /^\s*count\s*(>=|>)\s*(\d{1,9})\s*$/;
const DISTINCT_TEXT = /^\s*distinct\(\s*([^()\s]+)\s*\)\s*(>=|>)\s*(\d{1,9})\s*$/;
const CONDITION_FIX = 'write "count >= 5", "distinct(actor.ip) >= 3", or { sequence: [{ match: {...}, count: 5 }, { match: {...} }] }';
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function threshold(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ALERT_THRESHOLD) {
    throw new AlertConfigError(path, value, 'not a threshold', `write a whole number from 1 to ${MAX_ALERT_THRESHOLD}`);
  }
  return value;
}

function compileCondition(value: unknown, path: string): { condition: CompiledCondition; text: string } {
  if (typeof value === 'string') {
    let m = COUNT_TEXT.exec(value);
    if (m !== null) return compileCondition({ count: Number(m[2]) + (m[1] === '>' ? 1 : 0) }, path);
    m = DISTINCT_TEXT.exec(value);
    if (m !== null) return compileCondition({ distinct: m[1], count: Number(m[3]) + (m[2] === '>' ? 1 : 0) }, path);
    throw new AlertConfigError(path, value, 'not a condition', CONDITION_FIX);
  }
  if (!isPlainObject(value)) throw new AlertConfigError(path, value, 'not a condition', CONDITION_FIX);
  if ('sequence' in value) {
    for (const key of Object.keys(value)) if (key !== 'sequence') throw new AlertConfigError(`${path}.${key}`, value[key], 'unknown key beside sequence', 'a sequence condition has only "sequence"');
    const steps = value.sequence;
    if (!Array.isArray(steps) || steps.length < 2) throw new AlertConfigError(`${path}.sequence`, steps, 'not a list of at least two steps', 'write [{ match: {...}, count: 5 }, { match: {...} }]; a single step is a count condition');
    if (steps.length > MAX_SEQUENCE_RECORDS) throw new AlertConfigError(`${path}.sequence`, steps, `more than ${MAX_SEQUENCE_RECORDS} steps`, `keep the sum of the step counts at most ${MAX_SEQUENCE_RECORDS}`);
    const units: ((r: AlertableRecord) => boolean)[] = [];
    const unitStep: number[] = [];
    const parts: string[] = [];
    steps.forEach((step: unknown, i: number) => {
      const at = `${path}.sequence[${i}]`;
      if (!isPlainObject(step)) throw new AlertConfigError(at, step, 'not a step', 'write { match: {...}, count: N }');
      for (const key of Object.keys(step)) if (key !== 'match' && key !== 'count') throw new AlertConfigError(`${at}.${key}`, step[key], `unknown key${didYouMean(key, ['match', 'count'])}`, 'a step has "match" and "count"');
      const count = step.count === undefined ? 1 : threshold(step.count, `${at}.count`);
      const test = compileMatch(step.match, `${at}.match`).test;
      for (let k = 0; k < count && units.length <= MAX_SEQUENCE_RECORDS; k++) {
        units.push(test);
        unitStep.push(i);
      }
      parts.push(count === 1 ? `step ${i + 1}` : `${count}× step ${i + 1}`);
    });
    if (units.length > MAX_SEQUENCE_RECORDS) throw new AlertConfigError(`${path}.sequence`, steps.length, `more than ${MAX_SEQUENCE_RECORDS} records in the sequence`, `keep the sum of the step counts at most ${MAX_SEQUENCE_RECORDS}`);
    return { condition: { kind: 'sequence', units, unitStep, count: units.length }, text: `sequence ${parts.join(' → ')}` };
  }
  for (const key of Object.keys(value)) {
    if (key !== 'count' && key !== 'distinct') throw new AlertConfigError(`${path}.${key}`, value[key], `unknown key${didYouMean(key, ['count', 'distinct', 'sequence'])}`, CONDITION_FIX);
  }
  const count = threshold(value.count, `${path}.count`);
  if (value.distinct !== undefined) {
    const field = value.distinct;
    const get = compileFieldPath(field, `${path}.distinct`);
    return { condition: { kind: 'distinct', field: field as string, get, count }, text: `distinct(${field as string}) >= ${count}` };
  }
  return { condition: { kind: 'count', count }, text: `count >= ${count}` };
}

function compileRule(rule: unknown, path: string): CompiledAlertRule | undefined {
  if (!isPlainObject(rule)) throw new AlertConfigError(path, rule, 'not a rule', 'write a map with at least name and condition');
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.includes(key)) throw new AlertConfigError(`${path}.${key}`, rule[key], `unknown key${didYouMean(key, RULE_KEYS)}`, `a rule has ${RULE_KEYS.join(', ')}`);
  }
  const { name, description, severity, enabled } = rule;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new AlertConfigError(`${path}.name`, name, 'not a rule name', 'write lowercase letters, digits, "_", "-" or "." starting with a letter, at most 64 characters (it becomes the alert record\'s action)');
  }
  if (name === ALERT_GROUPS_EVICTED) throw new AlertConfigError(`${path}.name`, name, 'reserved: the alert engine raises alerts of this name when a rule evicts groups', 'choose another name');
  if (enabled !== undefined && typeof enabled !== 'boolean') throw new AlertConfigError(`${path}.enabled`, enabled, 'not a boolean', 'write true or false');
  if (description !== undefined && (typeof description !== 'string' || description.length > 1000)) throw new AlertConfigError(`${path}.description`, description, 'not a description', 'write a string of at most 1000 characters');
  if (severity !== undefined && severity !== 'warning' && severity !== 'critical') throw new AlertConfigError(`${path}.severity`, severity, 'not an alert severity', 'write warning or critical');
  if (rule.condition === undefined) throw new AlertConfigError(`${path}.condition`, undefined, 'missing', CONDITION_FIX);
  const { condition, text } = compileCondition(rule.condition, `${path}.condition`);
  const match = compileMatch(rule.match, `${path}.match`);
  const groupList = rule.group_by === undefined ? [] : typeof rule.group_by === 'string' ? [rule.group_by] : rule.group_by;
  if (!Array.isArray(groupList)) throw new AlertConfigError(`${path}.group_by`, rule.group_by, 'not a list of fields', 'write e.g. [actor.id] or [actor.ip, target.id]');
  if (groupList.length > MAX_GROUP_BY_FIELDS) throw new AlertConfigError(`${path}.group_by`, groupList, `more than ${MAX_GROUP_BY_FIELDS} fields`, `group by at most ${MAX_GROUP_BY_FIELDS} fields`);
  const groupGetters = groupList.map((f: unknown, i: number) => compileFieldPath(f, `${path}.group_by[${i}]`));
  if (new Set(groupList).size !== groupList.length) throw new AlertConfigError(`${path}.group_by`, groupList, 'a field is listed twice', 'list each field once');
  if (rule.normalize_group !== undefined && typeof rule.normalize_group !== 'boolean') throw new AlertConfigError(`${path}.normalize_group`, rule.normalize_group, 'not a boolean', 'write true (compare group values case- and width-insensitively, IPv6 by /64) or false');
  const window = rule.window === undefined ? '5m' : rule.window;
  const windowMillis = parseDuration(window, `${path}.window`);
  if (windowMillis === 0) throw new AlertConfigError(`${path}.window`, window, 'an empty window', 'write a positive duration such as "5m"');
  const cooldownMillis = rule.cooldown === undefined ? 0 : parseDuration(rule.cooldown, `${path}.cooldown`);
  const digestMillis = rule.digest === undefined ? 0 : parseDuration(rule.digest, `${path}.digest`);
  if (rule.digest !== undefined && digestMillis === 0) throw new AlertConfigError(`${path}.digest`, rule.digest, 'an empty digest window', 'write a positive duration such as "15m", or remove digest for one alert per firing');
  if (enabled === false) return undefined;
  const groups = groupList.length === 0 ? '' : ` per ${groupList.join(', ')}`;
  return Object.freeze({
    name,
    description: (description as string | undefined) ?? `${text} within ${window as string}${groups}`,
    severity: (severity as AlertSeverity | undefined) ?? 'warning',
    match,
    groupBy: Object.freeze([...groupList] as string[]),
    groupGetters: Object.freeze(groupGetters),
    normalizeGroup: rule.normalize_group === true,
    window: window as string,
    windowMillis,
    cooldownMillis,
    digest: (rule.digest as string | undefined) ?? '',
    digestMillis,
    condition,
    conditionText: text,
  });
}

/**
 * Validate and compile alert rules. Rules with `enabled: false` are checked
 * and left out. Throws {@link AlertConfigError} for the first problem, with
 * its key path (`rules[1].condition`), value and fix.
 *
 * @example
 * const rules = compileRules([
 *   { name: 'failed_logins', match: { type: 'auth', action: 'login', outcome: 'failure' },
 *     group_by: ['actor.id'], window: '5m', condition: 'count >= 5', severity: 'warning', cooldown: '5m' },
 * ], { path: 'processors.alerts.rules' });
 */
export function compileRules(rules: readonly AlertRuleConfig[] | unknown, options: CompileRulesOptions = {}): CompiledAlertRule[] {
  const path = options.path ?? 'rules';
  if (!Array.isArray(rules)) throw new AlertConfigError(path, rules, 'not a list of rules', 'write a YAML list of rules (or [] for none)');
  if (rules.length > MAX_ALERT_RULES) throw new AlertConfigError(path, rules, `more than ${MAX_ALERT_RULES} rules`, 'merge rules with match alternatives, or split the pipeline');
  const out: CompiledAlertRule[] = [];
  const seen = new Set<string>();
  rules.forEach((rule: unknown, i: number) => {
    const compiled = compileRule(rule, `${path}[${i}]`);
    const name = (rule as { name: string }).name;
    if (seen.has(name)) throw new AlertConfigError(`${path}[${i}].name`, name, 'a rule of this name is already defined', 'give each rule a unique name (built-in names included)');
    seen.add(name);
    if (compiled !== undefined) out.push(compiled);
  });
  return out;
}
