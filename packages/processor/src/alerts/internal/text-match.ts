/**
 * `glob` and `regex` conditions of alert rules on a field's text. They run
 * on RE2 (the re2js port), in time linear in the value's length whatever
 * the pattern: the values are an attacker's to choose, and with
 * JavaScript's backtracking engine patterns as ordinary as
 * `[a-z]+[a-z0-9]*!` took seconds, `((a)|(aa))+$` minutes, on one record.
 *
 * A `regex` is written in JavaScript's syntax and translated: `\uXXXX`,
 * `\cX`, `[^]` and the like by re2js's `translateRegExp`; `\s`, `\S` and
 * `.` to JavaScript's meaning (its white space includes NBSP and the
 * Unicode spaces; `.` excludes `\r`, U+2028 and U+2029 besides `\n`).
 * Back-references and lookaround have no linear-time equivalent and are
 * refused at load, with the fix. What still differs: `.` and a class match
 * one code point (an emoji is one character, not two UTF-16 units), `\p{…}`
 * is a Unicode class, and `ignore_case` folds as Unicode does (K and the
 * Kelvin sign are one letter).
 */
import { RE2JS } from 're2js';
import { AlertConfigError } from '../errors.js';

/** Longest regular expression (or glob) accepted, as written. */
export const MAX_REGEX_LENGTH = 256;

/** JavaScript's `\s`: ECMAScript WhiteSpace and LineTerminator, as members of an RE2 class. */
const JS_SPACE = '\\t\\n\\x0B\\f\\r \\x{00A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
/** JavaScript's `.` without the `s` flag: anything but a line terminator. */
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
/** Back-references (`\1`, `\k<name>`) and lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`): no linear-time equivalent. */
const UNSUPPORTED = /\\[1-9]|\\k<|\(\?<?[=!]/;

/**
 * RE2 source meaning what `source` means as a JavaScript regular
 * expression (without flags); see the file comment for what still differs.
 *
 * @example
 * re2Source('union\\s+select') // 'union[\\t\\n...\\x{FEFF}]+select'
 */
export function re2Source(source: string): string {
  const translated = RE2JS.translateRegExp(source);
  let out = '';
  let inClass = false;
  for (let i = 0; i < translated.length; i++) {
    const c = translated[i]!;
    if (c === '\\' && i + 1 < translated.length) {
      const next = translated[++i]!;
      if (next === 's') out += inClass ? JS_SPACE : `[${JS_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${JS_SPACE}]`;
      else out += c + next;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      // A `]` or `^]` right after the opening bracket is a member, not the end.
      if (translated[i + 1] === '^') out += translated[++i];
      if (translated[i + 1] === ']') out += translated[++i];
    } else {
      out += c === '.' ? JS_DOT : c;
    }
  }
  return out;
}

/** A glob's inner text, and whether a leading or trailing `*` leaves that end open. */
function globParts(glob: string): { open: boolean; close: boolean; inner: string } {
  const g = glob.replace(/\*+/g, '*');
  const open = g.startsWith('*');
  const close = g.length > (open ? 1 : 0) && g.endsWith('*');
  return { open, close, inner: g.slice(open ? 1 : 0, close ? -1 : undefined) };
}

/** A glob as RE2 syntax: `*` any characters, `?` one; a leading or trailing `*` leaves that end open. */
function globSource(glob: string): string {
  const { open, close, inner } = globParts(glob);
  let out = '';
  for (const ch of inner) {
    if (ch === '*') out += '(?s:.*)';
    else if (ch === '?') out += '(?s:.)';
    else out += ch.replace(/[\\.+*?()|[\]{}^$]/, '\\$&');
  }
  return `${open ? '' : '^'}${out}${close ? '' : '$'}`;
}

/**
 * A glob without `*` or `?` inside (`rate_limit*`, `*admin*`, `login`),
 * matched case-sensitively, as a string test; undefined for any other.
 */
function plainGlob(glob: string): ((text: string) => boolean) | undefined {
  const { open, close, inner: lit } = globParts(glob);
  if (/[*?]/.test(lit)) return undefined;
  return open && close ? (t) => t.includes(lit) : open ? (t) => t.endsWith(lit) : close ? (t) => t.startsWith(lit) : (t) => t === lit;
}

function checkPattern(pattern: string, op: 'glob' | 'regex', at: string): void {
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw new AlertConfigError(at, pattern, `longer than ${MAX_REGEX_LENGTH} characters`, 'shorten the pattern or split it into several rules');
  }
  if (op === 'regex' && UNSUPPORTED.test(pattern)) {
    throw new AlertConfigError(at, pattern, 'uses a back-reference or lookaround, which the linear-time engine (RE2) does not have',
      'write it without back-references (\\1, \\k<name>) and lookaround ((?=, (?!, (?<=, (?<!), e.g. as two conditions of the rule');
  }
}

function compileRe2(source: string, fold: boolean, at: string, pattern: string): RE2JS {
  try {
    return RE2JS.compile(source, fold ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (e) {
    throw new AlertConfigError(at, pattern, `not a valid regular expression (${(e as Error).message})`, 'write a JavaScript regular expression without back-references and lookaround');
  }
}

/**
 * The test of a `glob` or `regex` operator's patterns (any of them) on a
 * value's text. `at(i)` names pattern `i` in errors.
 *
 * @example
 * const test = compileTextMatch('glob', ['rate_limit*'], false, () => 'match.action.glob');
 * test('rate_limit_exceeded') // true
 */
export function compileTextMatch(op: 'glob' | 'regex', list: readonly string[], fold: boolean, at: (i: number) => string): (text: string) => boolean {
  list.forEach((p, i) => checkPattern(p, op, at(i)));
  // Case-insensitive globs go to RE2 too: toLowerCase is not Unicode case folding.
  const plain = op === 'glob' && !fold ? list.map(plainGlob) : [];
  if (plain.length > 0 && plain.every((f) => f !== undefined)) {
    const tests = plain as ((text: string) => boolean)[];
    return tests.length === 1 ? tests[0]! : (t) => tests.some((f) => f(t));
  }
  const compiled = list.map((p, i) => {
    const source = op === 'glob' ? globSource(p) : re2Source(p);
    return { source, re: compileRe2(source, fold, at(i), p) }; // each on its own, so an error names its pattern
  });
  // One pattern is used as compiled; several as one alternation, compiled once more.
  const re = compiled.length === 1
    ? compiled[0]!.re
    : compileRe2(compiled.map((c) => `(?:${c.source})`).join('|'), fold, at(0).replace(/\[0\]$/, ''), list.join(' | '));
  return (t) => re.test(t);
}
