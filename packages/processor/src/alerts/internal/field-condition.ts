/**
 * One field's condition in an alert rule's `match` (DESIGN §9): a constant
 * (equals), a list (in), or operators — glob, regex, exists, comparisons,
 * another field, working hours, not — compiled once into a predicate on the
 * field's value. Regular expressions and globs run on RE2 (text-match.ts), whose
 * time is linear in the value's length whatever the pattern: the values are
 * an attacker's to choose, and a backtracking engine can be made to take
 * seconds or minutes on one record (see record-matcher.ts).
 */
import { AlertConfigError } from '../errors.js';
import { compileFieldPath, type AlertableRecord } from '../field-path.js';
import type { MatchScalar } from '../record-matcher.js';
import { compileOutsideHours } from './outside-hours.js';
import { compileTextMatch } from './text-match.js';
import { didYouMean } from './suggest.js';

/** Most constants in one `in` list, patterns in one glob/regex list, and alternatives in one match. */
export const MAX_MATCH_LIST = 1000;

/** Characters of a value that glob and regex conditions look at. */
export const MAX_MATCHED_CHARS = 4096;

/** A condition on one field's value (and the record, for conditions that read another field). */
export type Predicate = (value: unknown, record: AlertableRecord) => boolean;

const OPERATORS = ['equals', 'in', 'glob', 'regex', 'exists', 'gt', 'gte', 'lt', 'lte', 'equals_field', 'outside_hours', 'ignore_case', 'not'];
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
        const match = compileTextMatch(op, list, fold, (i) => (list.length === 1 && typeof arg === 'string' ? at : `${at}[${i}]`));
        preds.push((v) => {
          const text = asText(v);
          return text !== undefined && match(text);
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
