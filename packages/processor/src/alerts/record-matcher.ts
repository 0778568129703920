/**
 * The `match` part of alert rules (DESIGN §9): conditions on record fields
 * (§4.1), ANDed within one map, ORed across a list of maps, compiled once
 * into predicates so that evaluating a record compiles nothing. A value is
 * shorthand for `equals`, a list for `in`; a map holds operators.
 *
 * Regular expressions are guarded cheaply against catastrophic
 * backtracking: a pattern is at most {@link MAX_REGEX_LENGTH} characters,
 * nested quantifiers such as `(a+)+` and back-references are refused, and
 * only the first {@link MAX_MATCHED_CHARS} characters of a value are tested.
 */
import { AlertConfigError } from './errors.js';
import { compileFieldPath, type AlertableRecord, type FieldGetter } from './field-path.js';
import { compileOutsideHours, type OutsideHoursConfig } from './internal/outside-hours.js';
import { didYouMean } from './internal/suggest.js';

export type { OutsideHoursConfig };

/** A constant a field is compared with. */
export type MatchScalar = string | number | boolean | null;

/** Operators on one field; several in one map are ANDed. */
export interface MatchOperators {
  equals?: MatchScalar;
  in?: readonly MatchScalar[];
  /** `*` any characters, `?` one character; one pattern or a list (any). */
  glob?: string | readonly string[];
  /** JavaScript regular expression(s), unanchored unless written with `^`/`$`; a list matches any. */
  regex?: string | readonly string[];
  /** `true`: the field is present; `false`: it is absent. */
  exists?: boolean;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  /** Equal to another field of the same record (e.g. `target.id` for an actor acting on itself). */
  equals_field?: string;
  /** The field is a Unix-nanosecond time (`time`) outside the given hours. */
  outside_hours?: OutsideHoursConfig;
  /** Compare strings case-insensitively in equals / in / glob / regex. */
  ignore_case?: boolean;
  /** None of the nested conditions holds. */
  not?: FieldCondition;
}

/** What a field must satisfy: a constant, a list of constants, or operators. */
export type FieldCondition = MatchScalar | readonly MatchScalar[] | MatchOperators;

/** Field path → condition, all ANDed. */
export type MatchConfig = Readonly<Record<string, FieldCondition>>;

/** One map (AND) or a list of maps (any of them). */
export type MatchSpec = MatchConfig | readonly MatchConfig[];

/** A compiled `match`. */
export interface CompiledMatch {
  readonly test: (record: AlertableRecord) => boolean;
  /** The record `type`s the match can accept, when it pins them; used to index rules. */
  readonly types: ReadonlySet<string> | undefined;
  /** The record `action`s the match can accept, when it pins them (every alternative does); used to index rules. */
  readonly actions?: ReadonlySet<string> | undefined;
  /**
   * `test` for records of this type and action only: without the
   * alternatives that pin another type or action, `undefined` when none is
   * left (no such record can match). Used to index rules.
   */
  readonly narrow?: (type: string, action: string) => ((record: AlertableRecord) => boolean) | undefined;
}

/** Most constants in one `in` list, patterns in one glob/regex list, and alternatives in one match. */
export const MAX_MATCH_LIST = 1000;

/** Longest regular expression accepted. */
export const MAX_REGEX_LENGTH = 256;
/** Characters of a value that glob and regex conditions look at. */
export const MAX_MATCHED_CHARS = 4096;

/** A condition on one field's value (and the record, for conditions that read another field). */
export type Predicate = (value: unknown, record: AlertableRecord) => boolean;

const OPERATORS = ['equals', 'in', 'glob', 'regex', 'exists', 'gt', 'gte', 'lt', 'lte', 'equals_field', 'outside_hours', 'ignore_case', 'not'];
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;
const BACKREFERENCE = /\\[1-9]|\\k</;
const isScalar = (v: unknown): v is MatchScalar => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ALWAYS_TRUE = (): boolean => true;
const ALWAYS: CompiledMatch = { test: ALWAYS_TRUE, types: undefined, actions: undefined, narrow: () => ALWAYS_TRUE };

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > MAX_MATCHED_CHARS ? value.slice(0, MAX_MATCHED_CHARS) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function scalar(value: unknown, path: string): MatchScalar {
  if (!isScalar(value)) throw new AlertConfigError(path, value, 'not a constant', 'write a string, a finite number, true, false or null');
  return value;
}

function checkLength(list: readonly unknown[], path: string): void {
  if (list.length > MAX_MATCH_LIST) throw new AlertConfigError(path, list, `more than ${MAX_MATCH_LIST} entries`, 'shorten the list or split the rule');
}

function patterns(value: unknown, path: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (Array.isArray(list)) checkLength(list, path);
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p !== '')) {
    throw new AlertConfigError(path, value, 'not a pattern or a list of patterns', 'write a non-empty string or a non-empty list of strings');
  }
  return list as string[];
}

function globSource(glob: string): string {
  let inner = glob.replace(/\*+/g, '*');
  // A leading or trailing `*` is the unanchored end of a search: `*role*`
  // is /role/, which fails fast, not /^[\s\S]*role[\s\S]*$/, which backtracks.
  const open = inner.startsWith('*');
  const close = inner.length > (open ? 1 : 0) && inner.endsWith('*');
  inner = inner.slice(open ? 1 : 0, close ? -1 : undefined);
  let out = '';
  for (const ch of inner) {
    if (ch === '*') out += '[\\s\\S]*';
    else if (ch === '?') out += '[\\s\\S]';
    else out += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return `${open ? '' : '^'}${out}${close ? '' : '$'}`;
}

function compileRegex(source: string, flags: string, path: string): RegExp {
  if (source.length > MAX_REGEX_LENGTH) {
    throw new AlertConfigError(path, source, `longer than ${MAX_REGEX_LENGTH} characters`, 'shorten the pattern or split it into several rules');
  }
  if (NESTED_QUANTIFIER.test(source) || BACKREFERENCE.test(source)) {
    throw new AlertConfigError(path, source, 'nested quantifiers or back-references can backtrack catastrophically', 'rewrite without a quantified group that itself contains a quantifier (e.g. "(a+)+" → "a+")');
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new AlertConfigError(path, source, `not a valid regular expression (${(e as Error).message})`, 'write a JavaScript regular expression');
  }
}

function compileCondition(condition: unknown, path: string): Predicate {
  if (Array.isArray(condition)) {
    checkLength(condition, path);
    const set = new Set(condition.map((v, i) => scalar(v, `${path}[${i}]`)));
    return (value) => set.has(value as MatchScalar);
  }
  if (!isPlainObject(condition)) {
    const constant = scalar(condition, path);
    return (value) => value === constant;
  }
  const keys = Object.keys(condition);
  if (keys.length === 0 || (keys.length === 1 && keys[0] === 'ignore_case')) {
    throw new AlertConfigError(path, condition, 'no operator', `use one of ${OPERATORS.filter((o) => o !== 'ignore_case').join(', ')}`);
  }
  const ignoreCase = condition.ignore_case;
  if (ignoreCase !== undefined && typeof ignoreCase !== 'boolean') throw new AlertConfigError(`${path}.ignore_case`, ignoreCase, 'not a boolean', 'write true or false');
  const fold = ignoreCase === true;
  const foldValue = (v: unknown): unknown => (fold && typeof v === 'string' ? v.toLowerCase() : v);
  const preds: Predicate[] = [];
  for (const op of keys) {
    const arg = condition[op];
    const at = `${path}.${op}`;
    switch (op) {
      case 'ignore_case':
        break;
      case 'equals': {
        const c = foldValue(scalar(arg, at));
        preds.push(fold ? (v) => foldValue(v) === c : (v) => v === c);
        break;
      }
      case 'in': {
        if (!Array.isArray(arg) || arg.length === 0) throw new AlertConfigError(at, arg, 'not a non-empty list', 'write a list of constants, e.g. [failure, error]');
        checkLength(arg, at);
        const set = new Set(arg.map((v, i) => foldValue(scalar(v, `${at}[${i}]`))));
        preds.push(fold ? (v) => set.has(foldValue(v) as MatchScalar) : (v) => set.has(v as MatchScalar));
        break;
      }
      case 'glob':
      case 'regex': {
        const list = patterns(arg, at);
        const flags = fold ? 'i' : '';
        const sources = list.map((p, i) => compileRegex(op === 'glob' ? globSource(p) : p, flags, list.length === 1 && typeof arg === 'string' ? at : `${at}[${i}]`).source);
        // One alternation instead of a loop over patterns: 5 globs went from 235 to ~60 ns.
        const re = new RegExp(sources.length === 1 ? sources[0]! : sources.map((x) => `(?:${x})`).join('|'), flags);
        preds.push((v) => {
          const text = asText(v);
          return text !== undefined && re.test(text);
        });
        break;
      }
      case 'exists': {
        if (typeof arg !== 'boolean') throw new AlertConfigError(at, arg, 'not a boolean', 'write true (present) or false (absent)');
        preds.push(arg ? (v) => v !== undefined : (v) => v === undefined);
        break;
      }
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte': {
        if (typeof arg !== 'number' || !Number.isFinite(arg)) throw new AlertConfigError(at, arg, 'not a finite number', `write a number, e.g. ${op}: 1000`);
        const n = arg;
        preds.push(
          op === 'gt' ? (v) => typeof v === 'number' && v > n
            : op === 'gte' ? (v) => typeof v === 'number' && v >= n
              : op === 'lt' ? (v) => typeof v === 'number' && v < n
                : (v) => typeof v === 'number' && v <= n,
        );
        break;
      }
      case 'equals_field': {
        const other = compileFieldPath(arg, at);
        preds.push((v, r) => v !== undefined && v === other(r));
        break;
      }
      case 'outside_hours':
        preds.push(compileOutsideHours(arg, at));
        break;
      case 'not': {
        const inner = compileCondition(arg, at);
        preds.push((v, r) => !inner(v, r));
        break;
      }
      default:
        throw new AlertConfigError(at, arg, `unknown operator "${op}"${didYouMean(op, OPERATORS)}`, `use one of ${OPERATORS.join(', ')}`);
    }
  }
  if (preds.length === 1) return preds[0]!;
  return (v, r) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(v, r)) return false;
    return true;
  };
}

/** Relative cost of testing a condition: constants 0, other fields 1, hours 2, patterns 3. */
function cost(condition: unknown): number {
  if (!isPlainObject(condition)) return 0;
  let c = 0;
  for (const op of Object.keys(condition)) {
    if (op === 'glob' || op === 'regex') c = Math.max(c, 3);
    else if (op === 'outside_hours') c = Math.max(c, 2);
    else if (op === 'equals_field') c = Math.max(c, 1);
    else if (op === 'not') c = Math.max(c, cost(condition.not));
  }
  return c;
}

/** The values a condition pins (of `type` or `action`), when it is a plain equals / in of strings. */
function pinnedValues(condition: unknown): string[] | undefined {
  if (typeof condition === 'string') return [condition];
  if (Array.isArray(condition)) return condition.every((c) => typeof c === 'string') ? (condition as string[]) : undefined;
  if (isPlainObject(condition)) {
    const keys = Object.keys(condition);
    if (keys.length === 1 && keys[0] === 'equals') return pinnedValues(condition.equals);
    if (keys.length === 1 && keys[0] === 'in') return pinnedValues(condition.in);
  }
  return undefined;
}

interface CompiledPart {
  test: (r: AlertableRecord) => boolean;
  /** `test` without the conditions on a pinned type and action, for records known to have one of them. */
  rest: (r: AlertableRecord) => boolean;
  types: string[] | undefined;
  actions: string[] | undefined;
}

/** AND of the conditions, each on its field's value. */
function allOf(getters: readonly FieldGetter[], preds: readonly Predicate[]): (r: AlertableRecord) => boolean {
  const n = getters.length;
  if (n === 0) return ALWAYS_TRUE;
  if (n === 1) {
    const g = getters[0]!;
    const p = preds[0]!;
    return (r) => p(g(r), r);
  }
  return (r) => {
    for (let i = 0; i < n; i++) if (!preds[i]!(getters[i]!(r), r)) return false;
    return true;
  };
}

function compileAll(config: unknown, path: string): CompiledPart {
  if (!isPlainObject(config)) throw new AlertConfigError(path, config, 'not a map of field conditions', 'write e.g. { type: auth, action: login, outcome: failure }');
  // Cheap comparisons first, so that a record failing one of them never
  // reaches a regular expression (the order of an AND does not change its result).
  const fields = Object.keys(config).sort((a, b) => cost(config[a]) - cost(config[b]));
  const getters: FieldGetter[] = [];
  const preds: Predicate[] = [];
  for (const field of fields) {
    getters.push(compileFieldPath(field, `${path}.${field}`));
    preds.push(compileCondition(config[field], `${path}.${field}`));
  }
  const types = 'type' in config ? pinnedValues(config.type) : undefined;
  const actions = 'action' in config ? pinnedValues(config.action) : undefined;
  const kept = fields.map((f) => !((f === 'type' && types !== undefined) || (f === 'action' && actions !== undefined)));
  return {
    test: allOf(getters, preds),
    rest: allOf(getters.filter((_, i) => kept[i]), preds.filter((_, i) => kept[i])),
    types,
    actions,
  };
}

/** OR of the alternatives' tests (the test itself when there is one). */
function anyOf(tests: readonly ((r: AlertableRecord) => boolean)[]): (r: AlertableRecord) => boolean {
  if (tests.length === 1) return tests[0]!;
  if (tests.includes(ALWAYS_TRUE)) return ALWAYS_TRUE;
  return (r) => {
    for (let i = 0; i < tests.length; i++) if (tests[i]!(r)) return true;
    return false;
  };
}

/** Whether an alternative can accept records of this type and action. */
function accepts(part: CompiledPart, type: string, action: string): boolean {
  return (part.types === undefined || part.types.includes(type)) && (part.actions === undefined || part.actions.includes(action));
}

/**
 * Compile a `match` (a map, or a list of maps of which any may match).
 * `path` names the setting in errors. An absent match accepts every record.
 *
 * @example
 * const m = compileMatch({ type: 'auth', action: 'login', outcome: ['failure', 'error'], 'details.method': { glob: 'pass*' } });
 * m.test(sealed.record) // true for a failed password login
 */
export function compileMatch(spec: unknown, path = 'match'): CompiledMatch {
  if (spec === undefined) return ALWAYS;
  if (Array.isArray(spec)) {
    if (spec.length === 0) throw new AlertConfigError(path, spec, 'empty list of alternatives', 'write at least one map of field conditions, or leave match out to accept every record');
    checkLength(spec, path);
  }
  const parts = Array.isArray(spec) ? spec.map((s, i) => compileAll(s, `${path}[${i}]`)) : [compileAll(spec, path)];
  const pinned = (of: (p: CompiledPart) => string[] | undefined) => (parts.every((p) => of(p) !== undefined) ? new Set(parts.flatMap((p) => of(p)!)) : undefined);
  // (C and A1) or (C and A2) = C and (A1 or A2): a condition every alternative
  // states alike is tested once, first. (The built-in privilege rules state
  // "not the actor's own rights" in each of seven alternatives.)
  const shared = Array.isArray(spec) ? sharedConditions(spec as Record<string, unknown>[]) : [];
  let common: ((r: AlertableRecord) => boolean) | undefined;
  let tested = parts;
  if (shared.length > 0) {
    const maps = spec as Record<string, unknown>[];
    common = compileAll(Object.fromEntries(shared.map((f) => [f, maps[0]![f]])), path).test;
    tested = maps.map((m, i) => compileAll(Object.fromEntries(Object.entries(m).filter(([f]) => !shared.includes(f))), `${path}[${i}]`));
  }
  const both = (any: (r: AlertableRecord) => boolean): ((r: AlertableRecord) => boolean) => {
    const c = common;
    return c === undefined || any === ALWAYS_TRUE ? (c ?? any) : (r) => c(r) && any(r);
  };
  return {
    test: both(anyOf(tested.map((p) => p.test))),
    types: pinned((p) => p.types),
    actions: pinned((p) => p.actions),
    narrow: (t, a) => {
      const left = tested.filter((_, i) => accepts(parts[i]!, t, a));
      return left.length === 0 ? undefined : both(anyOf(left.map((p) => p.rest)));
    },
  };
}

/**
 * The fields that every alternative of a list conditions alike (same
 * condition, as JSON), other than `type` and `action` (which index rules).
 */
function sharedConditions(maps: readonly Record<string, unknown>[]): string[] {
  if (maps.length < 2) return [];
  return Object.keys(maps[0]!).filter((f) => {
    if (f === 'type' || f === 'action') return false;
    const c = JSON.stringify(maps[0]![f]);
    return maps.every((m) => Object.hasOwn(m, f) && JSON.stringify(m[f]) === c);
  });
}
