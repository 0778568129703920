/**
 * The `match` part of alert rules (DESIGN §9): conditions on record fields
 * (§4.1), ANDed within one map, ORed across a list of maps, compiled once
 * into predicates so that evaluating a record compiles nothing. A value is
 * shorthand for `equals`, a list for `in`; a map holds operators.
 *
 * Regular expressions and globs run on RE2 (the re2js port), in time
 * linear in the value's length whatever the pattern: the values are an
 * attacker's to choose, and with JavaScript's backtracking engine patterns
 * as ordinary as `[a-z]+[a-z0-9]*!` took seconds, `(a|aa)+$` minutes, on one
 * record. A regex is written in JavaScript's syntax and translated
 * (internal/text-match.ts says what still differs); back-references and
 * lookaround are refused at load, with the fix. A pattern is at most
 * {@link MAX_REGEX_LENGTH} characters, and the first
 * {@link MAX_MATCHED_CHARS} characters of a value are tested.
 */
import { AlertConfigError } from './errors.js';
import { compileFieldPath, type AlertableRecord, type FieldGetter } from './field-path.js';
import { checkLength, compileCondition, cost, isPlainObject, type Predicate } from './internal/field-condition.js';
import type { OutsideHoursConfig } from './internal/outside-hours.js';

export type { OutsideHoursConfig, Predicate };
export { MAX_MATCH_LIST, MAX_MATCHED_CHARS } from './internal/field-condition.js';
export { MAX_REGEX_LENGTH } from './internal/text-match.js';

/** A constant a field is compared with. */
export type MatchScalar = string | number | boolean | null;

/** Operators on one field; several in one map are ANDed. */
export interface MatchOperators {
  equals?: MatchScalar;
  in?: readonly MatchScalar[];
  /** `*` any characters, `?` one character; one pattern or a list (any). */
  glob?: string | readonly string[];
  /** Regular expression(s) in RE2 syntax (JavaScript's without back-references and lookaround), unanchored unless written with `^`/`$`; a list matches any. */
  regex?: string | readonly string[];
  /** `true`: the field is present; `false`: it is absent. */
  exists?: boolean;
  /** Greater than: a number, or a string of decimal text (`"50000"`); other values never compare. */
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  /** Equal to another field of the same record (e.g. `target.id` for an actor acting on itself); with `ignore_case`, strings without case. */
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

const ALWAYS_TRUE = (): boolean => true;
const ALWAYS: CompiledMatch = { test: ALWAYS_TRUE, types: undefined, actions: undefined, narrow: () => ALWAYS_TRUE };

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
  const maps: unknown[] = Array.isArray(spec) ? spec : [spec];
  const at = (i: number): string => (Array.isArray(spec) ? `${path}[${i}]` : path);
  // (C and A1) or (C and A2) = C and (A1 or A2): a condition every alternative
  // states alike is compiled and tested once, first, and left out of each
  // alternative. (The built-in privilege rules state "not the actor's own
  // rights" in each of seven alternatives.)
  const shared = sharedConditions(maps);
  const common = shared.length === 0 ? undefined : compileAll(Object.fromEntries(shared.map((f) => [f, (maps[0] as Record<string, unknown>)[f]])), at(0)).test;
  const parts = maps.map((m, i) => compileAll(shared.length === 0 ? m : Object.fromEntries(Object.entries(m as Record<string, unknown>).filter(([f]) => !shared.includes(f))), at(i)));
  const pinned = (of: (p: CompiledPart) => string[] | undefined) => (parts.every((p) => of(p) !== undefined) ? new Set(parts.flatMap((p) => of(p)!)) : undefined);
  const both = (any: (r: AlertableRecord) => boolean): ((r: AlertableRecord) => boolean) =>
    common === undefined || any === ALWAYS_TRUE ? (common ?? any) : (r) => common(r) && any(r);
  return {
    test: both(anyOf(parts.map((p) => p.test))),
    types: pinned((p) => p.types),
    actions: pinned((p) => p.actions),
    narrow: (t, a) => {
      const left = parts.filter((p) => accepts(p, t, a));
      return left.length === 0 ? undefined : both(anyOf(left.map((p) => p.rest)));
    },
  };
}

/**
 * The fields that every alternative of a list conditions alike (same
 * condition, as JSON), other than `type` and `action` (which index rules).
 */
function sharedConditions(maps: readonly unknown[]): string[] {
  // Not maps (refused by compileAll with its own message): nothing shared.
  if (maps.length < 2 || !maps.every(isPlainObject)) return [];
  const [first, ...rest] = maps as Record<string, unknown>[];
  return Object.keys(first!).filter((f) => {
    if (f === 'type' || f === 'action') return false;
    const c = JSON.stringify(first![f]);
    return rest.every((m) => Object.hasOwn(m, f) && JSON.stringify(m[f]) === c);
  });
}
