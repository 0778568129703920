/**
 * Verifier key lines (DESIGN §4.3, "Keyring"; format §8): the one reader of
 * `.vkey` files and key text for the CLI's `--key`, the server's
 * `verifierKeys` and otel-config.yaml's `verifier_keys_file`. A line is
 * `name+hash+base64`, optionally followed by its validity window,
 * `not_before=TIME` and/or `not_after=TIME` (both inclusive; TIME in Unix
 * nanoseconds or an RFC 3339 date-time); blank lines and `#` comments are
 * skipped. A bad line is described by its place, what is wrong and the fix,
 * never echoed unless a value can only be a time: the line may hold a secret
 * pasted by mistake, and a signer (private) key is refused unshown. Text
 * only: the callers read the files.
 */
import { VerifierKeyLineError } from './errors.js';
import type { KeyValidityWindow } from './keyring.js';
import { parseVerifierKey } from './note-keys.js';

/**
 * A trusted verifier key (canonical `name+hash+base64`) and the window in
 * which its signatures count (absent bounds: unbounded); what `Keyring.from`
 * takes.
 *
 * @example
 * const entry: VerifierKeyEntry = { key: 'audit+1a2b3c4d+AQ...', notAfter: 1767225600000000000n };
 */
export type VerifierKeyEntry = { readonly key: string } & KeyValidityWindow;

/**
 * The keys of a verifier key file and one error per bad line.
 *
 * @example
 * const { keys, errors }: VerifierKeyLines = parseVerifierKeyLines(text);
 */
export interface VerifierKeyLines {
  readonly keys: readonly VerifierKeyEntry[];
  readonly errors: readonly VerifierKeyLineError[];
}

const MAX_NANOS = (1n << 63n) - 1n;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
/** Only these characters are ever echoed back: no key or seed can be written with them. */
const SHOWABLE = /^[0-9:.+\-TtZz]{1,40}$/;
const BOUND = /^(not_before|not_after)=(.*)$/s;
const PRIVATE_PREFIX = 'PRIVATE+KEY+';
/** Largest time `formatKeyTime` writes as a date: the end of `Date`'s range. */
const MAX_DATE_NANOS = 8_640_000_000_000_000_000_000n;

/** The fix of every window error. */
export const KEY_WINDOW_FIX = 'write the window after the key as not_before=TIME and/or not_after=TIME (both inclusive), '
  + 'TIME in Unix nanoseconds or RFC 3339, e.g. "name+hash+base64 not_after=2026-01-01T00:00:00Z"';
const KEY_FIX = 'write the key as `otel-audit keygen` writes it in NAME.vkey (name+hash+base64), optionally followed by not_before=TIME / not_after=TIME';
const SIGNER_FIX = 'list verifier keys (.vkey) only, never the signer key (.key); keep the signer key secret, and replace it if this text was shared';

function shown(value: string): string {
  return SHOWABLE.test(value) ? JSON.stringify(value) : '(a value that is not shown)';
}

function ordinal(n: number): string {
  return ['first', 'second', 'third'][n - 1] ?? `${n}th`;
}

/**
 * Unix nanoseconds of `value` (decimal nanoseconds, or an RFC 3339
 * date-time with seconds and an offset), or `undefined` when it is neither
 * or lies outside 1970..2262 (0..2^63-1).
 *
 * @example
 * parseKeyTime('2026-01-01T00:00:00Z') // 1767225600000000000n
 */
export function parseKeyTime(value: string): bigint | undefined {
  if (typeof value !== 'string') throw new TypeError(`value must be a string; got ${typeof value}`);
  if (/^\d{1,19}$/.test(value)) {
    const ns = BigInt(value);
    return ns <= MAX_NANOS ? ns : undefined;
  }
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || s > 59) return undefined;
  if (Number(m[10] ?? 0) > 23 || Number(m[11] ?? 0) > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const ns = (BigInt(date.getTime()) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
  return ns >= 0n && ns <= MAX_NANOS ? ns : undefined;
}

/**
 * `timeUnixNano` as an RFC 3339 UTC date-time, exact to the nanosecond (the
 * fraction only as long as needed), so it reads as a date and can be written
 * back as a window bound; a time before 1970 or past `Date`'s range stays
 * decimal nanoseconds.
 *
 * @example
 * formatKeyTime(1764412345500000000n) // '2025-11-29T10:32:25.5Z'
 */
export function formatKeyTime(timeUnixNano: bigint): string {
  if (typeof timeUnixNano !== 'bigint') throw new TypeError(`timeUnixNano must be a bigint; got ${typeof timeUnixNano}`);
  if (timeUnixNano < 0n || timeUnixNano > MAX_DATE_NANOS) return `${timeUnixNano}`;
  const seconds = new Date(Number(timeUnixNano / 1_000_000_000n) * 1000).toISOString().slice(0, -5);
  const fraction = (timeUnixNano % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${seconds}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/**
 * `window` in the words of a key line (`not_before=TIME not_after=TIME`,
 * times as {@link formatKeyTime} writes them), `always` when unbounded.
 *
 * @example
 * formatKeyWindow({ notAfter: 1767225600000000000n }) // 'not_after=2026-01-01T00:00:00Z'
 */
export function formatKeyWindow(window: KeyValidityWindow): string {
  const words = [
    ...(window.notBefore !== undefined ? [`not_before=${formatKeyTime(window.notBefore)}`] : []),
    ...(window.notAfter !== undefined ? [`not_after=${formatKeyTime(window.notAfter)}`] : []),
  ];
  return words.length > 0 ? words.join(' ') : 'always';
}

/**
 * The window of the words after a key on one line (`where` names the line
 * in errors). Throws {@link VerifierKeyLineError} for an unknown word, a
 * repeated bound, a bad time or a window that ends before it begins.
 *
 * @example
 * parseKeyValidityWindow(['not_after=2026-01-01T00:00:00Z'], 'key file audit.vkey line 2') // { notAfter: 1767225600000000000n }
 */
export function parseKeyValidityWindow(words: readonly string[], where: string, line = 0): KeyValidityWindow {
  let notBefore: bigint | undefined;
  let notAfter: bigint | undefined;
  words.forEach((word, i) => {
    const m = BOUND.exec(word);
    if (m === null) {
      const name = /^([a-z_]{1,20})=/.exec(word)?.[1];
      throw new VerifierKeyLineError(line, `${where}: the ${ordinal(i + 1)} word after the key is ${name !== undefined ? `${name}=..., not a window bound` : 'not a window bound'} (only not_before= and not_after= may follow a key)`, KEY_WINDOW_FIX);
    }
    const [, bound, value] = m as unknown as [string, 'not_before' | 'not_after', string];
    if ((bound === 'not_before' ? notBefore : notAfter) !== undefined) {
      throw new VerifierKeyLineError(line, `${where}: ${bound} is given twice`, 'give each bound once; to trust a key in two periods, write it on two lines, one window each');
    }
    const ns = parseKeyTime(value);
    if (ns === undefined) {
      throw new VerifierKeyLineError(line, `${where}: ${bound}=${shown(value)} is not a time between 1970 and 2262 in Unix nanoseconds or RFC 3339 (with seconds and Z or an offset)`, KEY_WINDOW_FIX);
    }
    if (bound === 'not_before') notBefore = ns;
    else notAfter = ns;
  });
  if (notBefore !== undefined && notAfter !== undefined && notBefore > notAfter) {
    throw new VerifierKeyLineError(line, `${where}: not_before (${notBefore}) is after not_after (${notAfter}), so the key would never count`, 'swap the two bounds, or correct the one that is wrong');
  }
  return { ...(notBefore !== undefined ? { notBefore } : {}), ...(notAfter !== undefined ? { notAfter } : {}) };
}

/** The words of a line before its `#` comment. */
function wordsOf(text: string): string[] {
  const words = text.trim().split(/\s+/);
  const comment = words.findIndex((w) => w.startsWith('#'));
  if (comment >= 0) words.length = comment;
  return words[0] === '' ? [] : words;
}

function entryOf(text: string, words: readonly string[], where: string, line: number): VerifierKeyEntry {
  // Anywhere on the line, a comment too: a signer key there is a secret handed to every verifier.
  if (text.includes(PRIVATE_PREFIX)) throw new VerifierKeyLineError(line, `${where} holds a signer (private) key; it is not shown`, SIGNER_FIX);
  let key: string;
  try {
    key = parseVerifierKey(words[0]!).verifierKey;
  } catch (e) {
    throw new VerifierKeyLineError(line, `${where} is not a valid verifier key: ${(e as Error).message}`, KEY_FIX);
  }
  return { key, ...parseKeyValidityWindow(words.slice(1), where, line) };
}

/**
 * One key line on its own (a `--key` value, a `verifierKeys` string): the
 * key, checked, and its window. Throws {@link VerifierKeyLineError} for a
 * line without a key, a signer key (unshown), a malformed key or window.
 *
 * @example
 * parseVerifierKeyLine('audit+1a2b3c4d+AQ... not_after=2026-01-01T00:00:00Z', '--key value') // { key, notAfter }
 */
export function parseVerifierKeyLine(text: string, where = 'the key line'): VerifierKeyEntry {
  if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${typeof text}`);
  const words = wordsOf(text);
  if (words.length === 0 && !text.includes(PRIVATE_PREFIX)) throw new VerifierKeyLineError(0, `${where} holds no key`, KEY_FIX);
  return entryOf(text, words, where, 0);
}

/**
 * The keys of a verifier key file's text, one a line, and an error for each
 * bad line (blank lines and `#` comments skipped); `where(n)` names line `n`
 * in the messages, e.g. with the file's name.
 *
 * @example
 * const { keys, errors } = parseVerifierKeyLines(fs.readFileSync('trusted.vkey', 'utf8'), (n) => `trusted.vkey line ${n}`);
 * if (errors.length === 0) Keyring.from(keys);
 */
export function parseVerifierKeyLines(text: string, where: (line: number) => string = (n) => `line ${n}`): VerifierKeyLines {
  if (typeof text !== 'string') throw new TypeError(`text must be a string; got ${typeof text}`);
  const keys: VerifierKeyEntry[] = [];
  const errors: VerifierKeyLineError[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const words = wordsOf(raw);
    if (words.length === 0 && !raw.includes(PRIVATE_PREFIX)) return;
    try {
      keys.push(entryOf(raw, words, where(i + 1), i + 1));
    } catch (e) {
      if (!(e instanceof VerifierKeyLineError)) throw e;
      errors.push(e);
    }
  });
  return { keys, errors };
}
