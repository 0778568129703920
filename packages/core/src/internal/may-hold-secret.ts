/**
 * The pre-check of text masking (DESIGN §4.5, extended as docs/format.md
 * "Redaction" describes): whether `redactSecrets` could change a string.
 * Normalisation asks it for every string, member name and free-text member
 * of a record before calling the redaction hook's `maskText`, so it runs
 * on the hot path of every record and answers most strings after one pass
 * over their characters, looking closer only around the few characters
 * that every credential form needs.
 *
 * One case-insensitive regular expression over all trigger words was
 * simpler and cost 1.8 times as much: 13,800 against 7,800 instructions
 * for the 12 strings and names of bench/fixtures.ts's `realisticEvent`
 * (callgrind); the old check (four `indexOf`, three triggers) cost 7,700.
 * Superset property: test/internal/may-hold-secret.test.ts.
 */
import { SHAPED_PREFIX, TOKEN_PREFIX } from './credential-forms.js';

/** The same words `SECRET_NAME` (redact-url.ts) looks for, without its exceptions: a superset. */
const SECRET_WORD = /token|key|secret|pass|pwd|sig|auth|credential|session|pin|otp|cvv|cvc/i;
/** A token prefix starting exactly at `lastIndex`. */
const PREFIX_AT = new RegExp(`(?:${TOKEN_PREFIX}|${SHAPED_PREFIX})`, 'iy');

// What a character asks for: 1 decide (`=` `%` `@`), 2 `/` (a URL if
// doubled), 3 `:` (a pair if the name before it is secret), 4 `_` `-` (a
// token prefix before it, a PEM line), 5 `.` (the end of a JWT header,
// `SG.`, `hooks.`), 6 a blank (after `Bearer`/`Basic`), 7 `A` (`AKIA`,
// `ASIA`, `AIza`: key prefixes without a separator).
const KIND = new Uint8Array(128);
for (const c of '=%@') KIND[c.charCodeAt(0)] = 1;
KIND[0x2f] = 2;
KIND[0x3a] = 3;
KIND[0x5f] = 4;
KIND[0x2d] = 4;
KIND[0x2e] = 5;
for (const c of ' \t\v\f') KIND[c.charCodeAt(0)] = 6;
KIND[0x41] = 7;

/** White space other than a line break beyond ASCII, as `[^\S\r\n]` reads it. */
function isWideBlank(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function isLetter(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** `[\w-]`; with `dot`, `[\w.%-]` (a name of a `name: value` pair). */
function isNameChar(c: number, dot: boolean): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d || (dot && (c === 0x2e || c === 0x25));
}

/** Whether `text[end - word.length, end)` is `word` (lowercase ASCII), in any case. */
function endsWithWord(text: string, end: number, word: string): boolean {
  const from = end - word.length;
  if (from < 0) return false;
  for (let i = 0; i < word.length; i++) if ((text.charCodeAt(from + i) | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

/** A `name:` pair: the name before the colon at `at` (after blanks and a quote) has a secret word. */
function secretNameBefore(text: string, at: number): boolean {
  let end = at;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  if (end > 0 && (text.charCodeAt(end - 1) === 0x22 || text.charCodeAt(end - 1) === 0x27)) end--;
  let start = end;
  while (start > 0 && isNameChar(text.charCodeAt(start - 1), true)) start--;
  // `pw`, the one secret name of two letters (SECRET_NAME takes it whole).
  if (end - start === 2) return (text.charCodeAt(start) | 0x20) === 0x70 && (text.charCodeAt(start + 1) | 0x20) === 0x77;
  return end - start >= 3 && SECRET_WORD.test(text.slice(start, end));
}

/**
 * A token prefix ending with the `_`/`-` at `at` (`ghp_`, the first `_` of
 * `sk_live_`), or a PEM line starting there. No prefix has more than six
 * letters before its first separator, so at most seven are looked at.
 */
function tokenAt(text: string, at: number): boolean {
  if (text.charCodeAt(at + 1) === 0x2d && text.startsWith('-----BEGIN', at)) return true;
  let start = at;
  while (start > 0 && at - start <= 6 && isLetter(text.charCodeAt(start - 1))) start--;
  const first = text.charCodeAt(start) | 0x20;
  if (start === at || at - start > 6 || (first !== 0x73 && first !== 0x67 && first !== 0x72 && first !== 0x78 && first !== 0x6e && first !== 0x68)) return false; // s g r x n h
  PREFIX_AT.lastIndex = start;
  return PREFIX_AT.test(text);
}

/** A JWT header (`eyJ` and 8 or more `[\w-]`) ending at the `.` at `at`, or `SG` or `hooks` before it (a SendGrid key, a Slack webhook). */
function jwtHeaderBefore(text: string, at: number): boolean {
  if ((text.charCodeAt(at - 1) === 0x47 && text.charCodeAt(at - 2) === 0x53) || endsWithWord(text, at, 'hooks')) return true;
  let start = at;
  while (start > 0 && isNameChar(text.charCodeAt(start - 1), false)) start--;
  return at - start >= 11 && endsWithWord(text, start + 3, 'eyj');
}

/** `AKIA`, `ASIA` or `AIza` starting at the `A` at `at`, in the case they are issued in. */
function keyIdAt(text: string, at: number): boolean {
  const next = text.charCodeAt(at + 1);
  if (next === 0x4b || next === 0x53) return text.charCodeAt(at + 2) === 0x49 && text.charCodeAt(at + 3) === 0x41; // KIA, SIA
  return next === 0x49 && text.charCodeAt(at + 2) === 0x7a && text.charCodeAt(at + 3) === 0x61; // Iza
}

/**
 * Whether `redactSecrets` could change `text`: true for every text it
 * masks and for some it leaves alone, false for most ordinary text. Also
 * true for anything with `=` or `//`, so that a custom `maskText` keeps
 * seeing every string it was given before.
 *
 * @example
 * mayHoldSecret('password: hunter2') // true
 * mayHoldSecret('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0') // false
 */
export function mayHoldSecret(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let kind: number;
    if (c < 128) {
      kind = KIND[c]!;
      if (kind === 0) continue;
    } else if (isWideBlank(c)) {
      kind = 6;
    } else {
      continue;
    }
    switch (kind) {
      case 1:
        return true;
      case 2:
        if (text.charCodeAt(i + 1) === 0x2f) return true;
        break;
      case 3:
        if (secretNameBefore(text, i)) return true;
        break;
      case 4:
        if (tokenAt(text, i)) return true;
        break;
      case 5:
        if (jwtHeaderBefore(text, i)) return true;
        break;
      case 7:
        if (keyIdAt(text, i)) return true;
        break;
      default: {
        const last = text.charCodeAt(i - 1) | 0x20;
        if ((last === 0x72 && endsWithWord(text, i, 'bearer')) || (last === 0x63 && endsWithWord(text, i, 'basic'))) return true;
      }
    }
  }
  return false;
}
