/**
 * One field's condition in an alert rule's `match` (DESIGN §9): a constant
 * (equals), a list (in), or operators — glob, regex, exists, comparisons,
 * another field, working hours, not — compiled once into a predicate on the
 * field's value. Regular expressions are guarded cheaply against
 * catastrophic backtracking (see record-matcher.ts).
 */
import { AlertConfigError } from '../errors.js';
import { compileFieldPath, type AlertableRecord } from '../field-path.js';
import type { MatchScalar } from '../record-matcher.js';
import { compileOutsideHours } from './outside-hours.js';
import { didYouMean } from './suggest.js';

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
/** A repeated group with alternatives, e.g. `(a|aa)+`: exponential when the alternatives overlap. */
const QUANTIFIED_ALTERNATION = /\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;
/** One repeated character, class or escape: `\w*`, `.+`, `[a-z]{2,}`. */
const REPEATED_ATOM = String.raw`(?:\\[wWdDsS]|\.|\[(?:[^\]\\]|\\.)*\])(?:[+*]|\{\d+,\d*\})\??`;
/**
 * Two repeated atoms in a row, e.g. `[a-z]+[a-z0-9]*` or `\w*\w*`: a failing
 * unanchored match tries every split at every start, cubic in the value's
 * length (3 s on 2,048 characters).
 */
const ADJACENT_REPEATS = new RegExp(`${REPEATED_ATOM}${REPEATED_ATOM}`);
/** Decimal text of a number, as an app may write a count it took from a query string (`"50000"`). */
const DECIMAL = /^-?\d{1,15}(?:\.\d{1,15})?$/;

/** A field value as a number for gt/gte/lt/lte: a number, or a string of decimal text; else NaN (no comparison holds). */
function numberOf(v: unknown): number {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && DECIMAL.test(v) ? Number(v) : Number.NaN;
}

const isScalar = (v: unknown): v is MatchScalar => v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > MAX_MATCHED_CHARS ? value.slice(0, MAX_MATCHED_CHARS) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function scalar(value: unknown, path: string): MatchScalar {
  if (!isScalar(value)) throw new AlertConfigError(path, value, 'not a constant', 'write a string, a finite number, true, false or null');
  return value;
}

export function checkLength(list: readonly unknown[], path: string): void {
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
  if (QUANTIFIED_ALTERNATION.test(source)) {
    throw new AlertConfigError(path, source, 'a repeated group of alternatives can backtrack catastrophically on a value an attacker chooses', 'repeat each alternative on its own, or match one occurrence (e.g. "(a|aa)+" → "a+")');
  }
  if (ADJACENT_REPEATS.test(source)) {
    throw new AlertConfigError(path, source, 'two repeated characters or classes in a row can backtrack for seconds on a long value an attacker chooses', 'merge them into one, or put a literal between them (e.g. "[a-z]+[a-z0-9]*" → "[a-z][a-z0-9]*", "\\d+\\d*" → "\\d+")');
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new AlertConfigError(path, source, `not a valid regular expression (${(e as Error).message})`, 'write a JavaScript regular expression');
  }
}

export function compileCondition(condition: unknown, path: string): Predicate {
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
          op === 'gt' ? (v) => numberOf(v) > n
            : op === 'gte' ? (v) => numberOf(v) >= n
              : op === 'lt' ? (v) => numberOf(v) < n
                : (v) => numberOf(v) <= n,
        );
        break;
      }
      case 'equals_field': {
        const other = compileFieldPath(arg, at);
        preds.push(ignoreCase === true
          ? (v, r) => {
            if (v === undefined) return false;
            const w = other(r);
            return v === w || (typeof v === 'string' && typeof w === 'string' && v.toLowerCase() === w.toLowerCase());
          }
          : (v, r) => v !== undefined && v === other(r));
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
export function cost(condition: unknown): number {
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
